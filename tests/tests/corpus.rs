//! Flagger's own examples: the complete ones raise no warning or error, the known-invalid ones
//! are caught, and the fragments never break the linter.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use canarylint::{Budget, Finding, Linter, Severity, SourceFile};

fn shared() -> PathBuf {
    if let Ok(p) = std::env::var("CANARYLINT_SHARED") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        p.is_dir(),
        "the shared reference data is expected at {} (or set CANARYLINT_SHARED)",
        p.display()
    );
    p
}

fn examples(sub: &str) -> Vec<PathBuf> {
    let dir = shared().join("reference/flagger/examples").join(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples in {}", dir.display());
    files
}

fn lint(path: &Path) -> Vec<Finding> {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let source = Arc::new(SourceFile::new(name, text));
    Linter::new(canarylint_rules::ALL)
        .lint_sources(vec![source], Vec::new(), &Budget::GENEROUS)
        .findings
}

fn show(f: &Finding) -> String {
    format!(
        "{}:{}:{} {} {} {}",
        f.file, f.start.line, f.start.column, f.severity, f.rule.code, f.message
    )
}

/// Complete examples that are wrong all the same, with the one finding each must raise (and no
/// other warning or error). Flagger's CRDs serve only `flagger.app/v1beta1`, so the API server
/// rejects this MetricTemplate of docs/gitbook/usage/metrics.md as written.
const GENUINELY_WRONG: &[(&str, &str)] = &[(
    "docs-gitbook-usage-metrics.md--07-metrictemplate-cloudwatch-error-rate.yaml",
    "CL008",
)];

#[test]
fn complete_examples_raise_no_warning_or_error() {
    let files = examples("");
    assert!(
        files.len() >= 100,
        "expected the 101 complete examples, found {}",
        files.len()
    );
    let mut loud = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        let expected = GENUINELY_WRONG
            .iter()
            .find(|(file, _)| *file == name)
            .map(|(_, code)| *code);
        let findings = lint(path);
        if let Some(code) = expected {
            assert!(
                findings.iter().any(|f| f.rule.code == code),
                "{name}: expected {code}, found {:?}",
                findings.iter().map(show).collect::<Vec<_>>()
            );
        }
        for f in findings {
            if f.severity > Severity::Info && Some(f.rule.code) != expected {
                loud.push(show(&f));
            }
        }
    }
    assert!(
        loud.is_empty(),
        "{} warnings/errors on Flagger's complete examples:\n{}",
        loud.len(),
        loud.join("\n")
    );
}

#[test]
fn known_invalid_examples_are_caught() {
    for path in examples("known-invalid") {
        let findings = lint(&path);
        assert!(
            findings.iter().any(|f| f.severity > Severity::Info),
            "{}: expected a warning or error, found: {:?}",
            path.display(),
            findings.iter().map(show).collect::<Vec<_>>()
        );
    }
}

#[test]
fn fragments_never_break_the_linter() {
    for path in examples("fragments") {
        let findings = lint(&path);
        assert!(
            findings.iter().all(|f| f.rule.code != "CL999"),
            "{}: a rule failed: {:?}",
            path.display(),
            findings.iter().map(show).collect::<Vec<_>>()
        );
    }
}

#[test]
fn complete_examples_linted_as_one_folder_raise_no_warning_or_error() {
    // `canarylint check examples/`: every file in one run, fragments and known-invalid ones
    // included. Independent examples share names (Canary test/podinfo) and namespaces; one
    // example's objects must not make a reference of another "missing".
    let mut sources = Vec::new();
    for sub in ["", "fragments", "known-invalid"] {
        for path in examples(sub) {
            let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            sources.push(Arc::new(SourceFile::new(
                name,
                std::fs::read_to_string(&path).unwrap(),
            )));
        }
    }
    let run =
        Linter::new(canarylint_rules::ALL).lint_sources(sources, Vec::new(), &Budget::GENEROUS);
    let loud: Vec<String> = run
        .findings
        .iter()
        .filter(|f| f.file.starts_with('/') && f.severity > Severity::Info)
        // The genuinely wrong examples raise their one finding here too.
        .filter(|f| {
            !GENUINELY_WRONG
                .iter()
                .any(|(file, code)| f.file.ends_with(file) && f.rule.code == *code)
        })
        .map(show)
        .collect();
    assert!(
        loud.is_empty(),
        "{} warnings/errors on Flagger's complete examples linted as a folder:\n{}",
        loud.len(),
        loud.join("\n")
    );
    assert!(
        run.findings
            .iter()
            .any(|f| f.file.starts_with("known-invalid/") && f.severity > Severity::Info),
        "the known-invalid examples are still caught"
    );
}
