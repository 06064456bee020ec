//! `--format json`: one object with a version, the findings and the summary.
//!
//! The shape is a contract with scripts and other tools: fields are only ever added under a
//! new `version`.

use std::io::{self, Write};

use canarylint::{Finding, LintRun, ResourceRef, Severity};
use serde::Serialize;

use super::Summary;

/// The version of the JSON output's shape.
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Output<'a> {
    pub version: u32,
    pub findings: Vec<JsonFinding<'a>>,
    pub summary: Summary,
}

/// One finding; lines and columns are 1-based, columns count characters.
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    pub code: &'static str,
    pub slug: &'static str,
    pub severity: Severity,
    pub message: &'a str,
    pub help: Option<&'a str>,
    pub file: &'a str,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub path: &'a str,
    pub resource: Option<&'a ResourceRef>,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        JsonFinding {
            code: f.rule.code,
            slug: f.rule.slug,
            severity: f.severity,
            message: &f.message,
            help: f.help.as_deref(),
            file: &f.file,
            line: f.start.line,
            column: f.start.column,
            end_line: f.end.line,
            end_column: f.end.column,
            path: &f.path,
            resource: f.resource.as_ref(),
        }
    }
}

impl<'a> Output<'a> {
    pub fn new(run: &'a LintRun, summary: Summary) -> Self {
        Output {
            version: VERSION,
            findings: run.findings.iter().map(JsonFinding::from).collect(),
            summary,
        }
    }
}

/// Writes the run as one pretty-printed JSON object and a newline.
pub fn write(out: &mut impl Write, run: &LintRun, summary: Summary) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Output::new(run, summary))?;
    out.write_all(b"\n")?;
    out.flush()
}
