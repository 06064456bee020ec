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
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite, XmlString};

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
    let mut report = Report::new("canarylint");
    for suite in suites(run, opts) {
        let mut s = TestSuite::new(xml(&suite.name));
        for case in &suite.cases {
            s.add_test_case(test_case(&suite.name, case));
        }
        report.add_test_suite(s);
    }
    if !opts.input_errors.is_empty() {
        let mut s = TestSuite::new(INPUTS_SUITE);
        for e in opts.input_errors {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(xml(e)).set_type("unreadable");
            let mut case = TestCase::new(xml(e), status);
            case.set_classname(INPUTS_SUITE);
            s.add_test_case(case);
        }
        report.add_test_suite(s);
    }
    report.serialize(&mut *out).map_err(io::Error::other)?;
    out.flush()
}

fn test_case(file: &str, case: &Case<'_>) -> TestCase {
    let status = if case.failing.is_empty() {
        TestCaseStatus::success()
    } else {
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
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status
            .set_message(xml(&message))
            .set_type(codes.join(","))
            .set_description(xml(&details(&case.failing)));
        status
    };
    let mut test_case = TestCase::new(xml(&case.name), status);
    test_case.set_classname(xml(file));
    if !case.passing.is_empty() {
        test_case.set_system_out(xml(&details(&case.passing)));
    }
    test_case
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

/// Text as XML 1.0 can hold it. quick-junit drops ANSI escapes and control characters and
/// quick-xml escapes markup. Its ANSI stripping drops tabs and carriage returns too, so a tab
/// (in a quoted YAML value, say) becomes a space, keeping the words apart; U+FFFE and U+FFFF,
/// which XML forbids but a file name may hold, become U+FFFD.
fn xml(s: &str) -> XmlString {
    if s.contains(['\t', '\u{fffe}', '\u{ffff}']) {
        let s: String = s
            .chars()
            .map(|c| match c {
                '\t' => ' ',
                '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
                c => c,
            })
            .collect();
        XmlString::new(s)
    } else {
        XmlString::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_xml_cannot_hold_is_dropped_or_replaced() {
        assert_eq!(xml("bell\u{7} \u{1b}[31mred\u{1b}[0m").as_str(), "bell red");
        assert_eq!(xml("a\u{ffff}b\u{fffe}").as_str(), "a\u{fffd}b\u{fffd}");
        assert_eq!(xml("tab\tand\r\nline").as_str(), "tab and\nline");
    }
}
