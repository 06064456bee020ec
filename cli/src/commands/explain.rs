//! `canarylint explain CODE|SLUG`: a rule's documentation.

use std::io::{self, Write};

use canarylint::RuleMeta;

use crate::args::ExplainArgs;
use crate::error::{CliError, Status};

pub fn run(args: &ExplainArgs) -> Result<Status, CliError> {
    let Some(meta) = canarylint_rules::find(&args.rule) else {
        return Err(unknown(&args.rule));
    };
    let mut out = io::stdout().lock();
    super::finish(write(&mut out, meta), Status::Clean)
}

/// The header line, the summary, the documentation and the rule's page.
pub fn write(out: &mut impl Write, meta: &RuleMeta) -> io::Result<()> {
    writeln!(out, "{} {} ({})", meta.code, meta.slug, meta.severity)?;
    writeln!(out)?;
    writeln!(out, "{}", meta.summary)?;
    writeln!(out)?;
    let docs = meta.explanation();
    let docs = docs.trim();
    if !docs.is_empty() {
        writeln!(out, "{docs}")?;
        writeln!(out)?;
    }
    writeln!(out, "Documentation: {}", meta.url())?;
    out.flush()
}

/// The error for a code or slug no rule has, with the nearest one when it is a likely typo.
fn unknown(name: &str) -> CliError {
    let rules = canarylint_rules::all_meta();
    let candidates = rules
        .iter()
        .map(|m| m.code)
        .chain(rules.iter().map(|m| m.slug));
    let hint = canarylint::suggest::did_you_mean(name, candidates)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_else(|| "; run `canarylint rules` to list the rules".to_string());
    CliError::UnknownRule {
        name: name.to_string(),
        hint,
    }
}
