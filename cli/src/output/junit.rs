//! `--format junit`: a JUnit XML test report, for CI systems that show test results
//! (GitLab's `artifacts:reports:junit`, Jenkins, Azure Pipelines, …).
//!
//! - One `<testsuite>` per file that holds a Flagger object or a finding, named after the file.
//! - One `<testcase>` per Flagger object (Canary, MetricTemplate, AlertProvider) and per other
//!   object a finding names: `classname` is the file, `name` is `Kind/namespace/name`.
//!   Findings that belong to no object (syntax errors) make a testcase named `(file)`.
//! - A testcase fails when one of its findings reaches the failing severity (error, or
//!   `failOn`), the same rule that sets the exit status: its single `<failure>` lists those
//!   findings. Findings below that severity go to the testcase's `<system-out>`, which test
//!   report viewers show beside the test without failing it.
//! - Inputs that could not be read make a testsuite named `(inputs)` with an `<error>` each.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use canarylint::{Finding, LintRun, ParsedFile, ResourceRef, Severity};

/// What the report needs besides the run.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// Findings at or above this severity fail their testcase.
    pub fail_on: Severity,
    /// The namespace of objects that do not set one (as the linter used it).
    pub default_namespace: &'a str,
    /// Inputs that could not be read.
    pub input_errors: &'a [String],
}

/// The name of the testcase that holds a file's findings outside any object.
pub const FILE_CASE: &str = "(file)";

/// The name of the testsuite of unreadable inputs.
pub const INPUTS_SUITE: &str = "(inputs)";

struct Case<'a> {
    name: String,
    failing: Vec<&'a Finding>,
    passing: Vec<&'a Finding>,
}

struct Suite<'a> {
    name: String,
    cases: Vec<Case<'a>>,
}

/// `Canary/test/podinfo`.
pub fn resource_name(r: &ResourceRef) -> String {
    format!(
        "{}/{}/{}",
        r.kind,
        r.namespace.as_deref().unwrap_or("-"),
        r.name.as_deref().unwrap_or("(unnamed)")
    )
}

fn suites<'a>(run: &'a LintRun, opts: Options<'_>) -> Vec<Suite<'a>> {
    // Findings by file, in the run's order; files with findings but no parsed file (none
    // expected) still get a suite.
    let mut by_file: HashMap<&str, Vec<&'a Finding>> = HashMap::new();
    let mut order: Vec<(&str, Option<&ParsedFile>)> = run
        .files
        .iter()
        .map(|f| (&*f.source.name, Some(f)))
        .collect();
    let parsed: HashSet<&str> = run.files.iter().map(|f| &*f.source.name).collect();
    for f in &run.findings {
        let list = by_file.entry(&*f.file).or_default();
        if list.is_empty() && !parsed.contains(&*f.file) {
            order.push((&f.file, None));
        }
        list.push(f);
    }
    let mut suites = Vec::new();
    for (name, file) in order {
        let mut cases: Vec<Case<'a>> = Vec::new();
        let case_for = |cases: &mut Vec<Case<'a>>, case: String| -> usize {
            match cases.iter().position(|c| c.name == case) {
                Some(i) => i,
                None => {
                    cases.push(Case {
                        name: case,
                        failing: Vec::new(),
                        passing: Vec::new(),
                    });
                    cases.len() - 1
                }
            }
        };
        if let Some(file) = file {
            for doc in file.documents.iter().filter(|d| d.kind.is_flagger()) {
                case_for(
                    &mut cases,
                    resource_name(&doc.resource(opts.default_namespace)),
                );
            }
        }
        let mut outside: Vec<&Finding> = Vec::new();
        for &f in by_file.get(name).map_or(&[][..], Vec::as_slice) {
            let i = match &f.resource {
                Some(r) => case_for(&mut cases, resource_name(r)),
                None => {
                    outside.push(f);
                    continue;
                }
            };
            if f.severity >= opts.fail_on {
                cases[i].failing.push(f);
            } else {
                cases[i].passing.push(f);
            }
        }
        if !outside.is_empty() {
            let (failing, passing) = outside
                .into_iter()
                .partition(|f| f.severity >= opts.fail_on);
            cases.push(Case {
                name: FILE_CASE.to_string(),
                failing,
                passing,
            });
        }
        if !cases.is_empty() {
            suites.push(Suite {
                name: name.to_string(),
                cases,
            });
        }
    }
    suites
}

/// Writes the report.
pub fn write(out: &mut impl Write, run: &LintRun, opts: Options<'_>) -> io::Result<()> {
    let suites = suites(run, opts);
    let tests: usize =
        suites.iter().map(|s| s.cases.len()).sum::<usize>() + opts.input_errors.len();
    let failures: usize = suites
        .iter()
        .flat_map(|s| &s.cases)
        .filter(|c| !c.failing.is_empty())
        .count();
    let errors = opts.input_errors.len();

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="canarylint" tests="{tests}" failures="{failures}" errors="{errors}">"#
    )?;
    for suite in &suites {
        let failures = suite.cases.iter().filter(|c| !c.failing.is_empty()).count();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="0">"#,
            attr(&suite.name),
            suite.cases.len(),
        )?;
        for case in &suite.cases {
            write_case(out, &suite.name, case)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    if !opts.input_errors.is_empty() {
        writeln!(
            out,
            r#"  <testsuite name="{INPUTS_SUITE}" tests="{errors}" failures="0" errors="{errors}" skipped="0">"#
        )?;
        for e in opts.input_errors {
            writeln!(
                out,
                r#"    <testcase classname="{INPUTS_SUITE}" name="{}">"#,
                attr(e)
            )?;
            writeln!(
                out,
                r#"      <error message="{}" type="unreadable"/>"#,
                attr(e)
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")?;
    out.flush()
}

fn write_case(out: &mut impl Write, file: &str, case: &Case<'_>) -> io::Result<()> {
    let open = format!(
        r#"    <testcase classname="{}" name="{}""#,
        attr(file),
        attr(&case.name)
    );
    if case.failing.is_empty() && case.passing.is_empty() {
        return writeln!(out, "{open}/>");
    }
    writeln!(out, "{open}>")?;
    if !case.failing.is_empty() {
        let message = case
            .failing
            .iter()
            .map(|f| format!("{} {}: {}", f.rule.code, f.rule.slug, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut codes: Vec<&str> = Vec::new();
        for f in &case.failing {
            if !codes.contains(&f.rule.code) {
                codes.push(f.rule.code);
            }
        }
        writeln!(
            out,
            r#"      <failure message="{}" type="{}">{}</failure>"#,
            attr(&message),
            attr(&codes.join(",")),
            text(&details(&case.failing))
        )?;
    }
    if !case.passing.is_empty() {
        writeln!(
            out,
            "      <system-out>{}</system-out>",
            text(&details(&case.passing))
        )?;
    }
    writeln!(out, "    </testcase>")
}

/// Findings as readable lines: place, severity, rule and message, then help and the rule's
/// page.
fn details(findings: &[&Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        s.push_str(&format!(
            "{}:{}:{}: {} {} {}: {}\n",
            f.file, f.start.line, f.start.column, f.severity, f.rule.code, f.rule.slug, f.message
        ));
        if !f.path.is_empty() {
            s.push_str(&format!("  at: {}\n", f.path));
        }
        if let Some(help) = f.help.as_deref().filter(|h| !h.is_empty()) {
            s.push_str(&format!("  help: {help}\n"));
        }
        s.push_str(&format!("  docs: {}\n", f.rule.url()));
    }
    s
}

/// Characters XML 1.0 cannot hold at all become U+FFFD.
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => '\u{fffd}',
        c => c,
    }
}

/// Escapes element text.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value (double-quoted); line breaks and tabs survive as references.
pub fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            text("a < b && c > d\r\n"),
            "a &lt; b &amp;&amp; c &gt; d&#13;\n"
        );
        assert_eq!(
            attr("say \"hi\"\n'there'\t<&>"),
            "say &quot;hi&quot;&#10;&apos;there&apos;&#9;&lt;&amp;&gt;"
        );
        assert_eq!(text("bell\u{7}"), "bell\u{fffd}");
    }
}
