//! `canarylint rules`: the rule registry as a table or as JSON.

use std::io::{self, Write};

use canarylint::{RuleMeta, Severity};
use serde::Serialize;

use crate::args::{Format, RulesArgs};
use crate::error::{CliError, Status};

/// One rule in `canarylint rules --format json`.
#[derive(Debug, Serialize)]
pub struct RuleEntry {
    pub code: &'static str,
    pub slug: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

impl From<&'static RuleMeta> for RuleEntry {
    fn from(m: &'static RuleMeta) -> Self {
        RuleEntry {
            code: m.code,
            slug: m.slug,
            severity: m.severity,
            summary: m.summary,
        }
    }
}

pub fn run(args: &RulesArgs) -> Result<Status, CliError> {
    let rules = canarylint_rules::all_meta();
    let mut out = io::stdout().lock();
    let written = match args.format {
        Format::Human => write_table(&mut out, &rules),
        Format::Json => write_json(&mut out, &rules),
    };
    super::finish(written, Status::Clean)
}

/// `CODE  SLUG  SEVERITY  SUMMARY`, columns aligned.
pub fn write_table(out: &mut impl Write, rules: &[&'static RuleMeta]) -> io::Result<()> {
    let header = ["CODE", "SLUG", "SEVERITY", "SUMMARY"];
    let rows: Vec<[&str; 4]> = rules
        .iter()
        .map(|m| [m.code, m.slug, m.severity.as_str(), m.summary])
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        )?;
    }
    out.flush()
}

pub fn write_json(out: &mut impl Write, rules: &[&'static RuleMeta]) -> io::Result<()> {
    let entries: Vec<RuleEntry> = rules.iter().copied().map(RuleEntry::from).collect();
    serde_json::to_writer_pretty(&mut *out, &entries)?;
    out.write_all(b"\n")?;
    out.flush()
}
