//! Readable output: one graphical report per finding, then a summary line.

use std::collections::HashMap;
use std::io::{self, Write};

use canarylint::{Finding, FindingReport, LintRun, Severity, SourceFile};
use miette::{GraphicalReportHandler, GraphicalTheme};
use rayon::prelude::*;

use super::Summary;

/// How human output looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Colour the reports (ANSI escapes).
    pub color: bool,
    /// Only findings of severity error, and the summary line.
    pub quiet: bool,
}

/// Writes the reports of a run and its summary line.
pub fn write(
    out: &mut impl Write,
    run: &LintRun,
    summary: &Summary,
    opts: Options,
) -> io::Result<()> {
    let sources: HashMap<&str, &SourceFile> = run
        .files
        .iter()
        .map(|f| (&*f.source.name, &*f.source))
        .collect();
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme);
    let shown: Vec<&Finding> = run
        .findings
        .iter()
        .filter(|f| !opts.quiet || f.severity == Severity::Error)
        .collect();
    // Rendering is the slow part of large runs; collecting keeps the findings' order.
    let rendered: Vec<String> = shown
        .par_iter()
        .map(|f| render(&handler, f, sources.get(&*f.file).copied()))
        .collect();
    for report in rendered {
        out.write_all(report.as_bytes())?;
        if !report.ends_with("\n\n") {
            out.write_all(b"\n")?;
        }
    }
    writeln!(out, "{}", summary.line())?;
    out.flush()
}

/// One finding as miette draws it; a plain line should drawing ever fail.
pub fn render(
    handler: &GraphicalReportHandler,
    finding: &Finding,
    source: Option<&SourceFile>,
) -> String {
    let report = FindingReport::new(finding, source);
    let mut s = String::new();
    if handler.render_report(&mut s, &report).is_ok() {
        return s;
    }
    format!(
        "{}:{}:{}: {} {} {}: {}\n",
        finding.file,
        finding.start.line,
        finding.start.column,
        finding.severity,
        finding.rule.code,
        finding.rule.slug,
        finding.message
    )
}
