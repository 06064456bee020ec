//! `--format github`: GitHub Actions workflow commands, one annotation per finding.
//!
//! ```text
//! ::error file=deploy/canary.yaml,line=18,col=17,endLine=18,endColumn=19,title=CL201 step-weight-exceeds-max-weight::stepWeight 60 is above maxWeight 50%0Ahelp: …
//! ```
//!
//! Errors are `::error`, warnings `::warning`, infos `::notice`. The runner shows them on the
//! lines of the pull request's diff and in the run's summary. Values are escaped as the
//! runner expects: `%`, `\r` and `\n` everywhere, and `:` and `,` in properties as well.
//! `endColumn` is the column after the last character, like `--format json`'s `end_column`.

use std::io::{self, Write};
use std::path::Path;

use canarylint::{Finding, LintRun, Severity};

use super::repo_path;

/// The workflow command for a severity.
pub fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// Writes one annotation per finding. `cwd` is the directory paths are made relative to
/// (the checkout, in a workflow).
pub fn write(out: &mut impl Write, run: &LintRun, cwd: Option<&Path>) -> io::Result<()> {
    for f in &run.findings {
        writeln!(out, "{}", annotation(f, cwd))?;
    }
    out.flush()
}

/// One finding as a workflow command line (without the newline).
pub fn annotation(f: &Finding, cwd: Option<&Path>) -> String {
    let end = if f.end < f.start { f.start } else { f.end };
    let title = format!("{} {}", f.rule.code, f.rule.slug);
    format!(
        "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        command(f.severity),
        escape_property(&repo_path(&f.file, cwd)),
        f.start.line,
        f.start.column,
        end.line,
        end.column,
        escape_property(&title),
        escape_data(&super::sarif::message(f)),
    )
}

/// Escapes the message of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes the value of a workflow command's property.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% of\r\nit: a, b"), "50%25 of%0D%0Ait: a, b");
        assert_eq!(escape_property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae");
    }
}
