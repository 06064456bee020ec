//! The bundled examples in `examples/`: one clean canary, and the classic mistakes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use canarylint::{Budget, Linter, SourceFile};

fn read_dir(dir: &str) -> Vec<Arc<SourceFile>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let name = format!("{dir}/{}", f.file_name().unwrap().to_string_lossy());
            Arc::new(SourceFile::new(name, std::fs::read_to_string(&f).unwrap()))
        })
        .collect()
}

/// The examples as the README lints them: every file, with the Gateways of `istio/` also
/// given as what exists in the cluster (`--context examples/istio/`).
fn lint_examples() -> Vec<(String, String, u32)> {
    let sources = ["istio", "podinfo", "shop"]
        .iter()
        .flat_map(|d| read_dir(d))
        .collect();
    let run = Linter::new(canarylint_rules::ALL).lint_sources(
        sources,
        read_dir("istio"),
        &Budget::GENEROUS,
    );
    run.findings
        .iter()
        .map(|f| (f.file.to_string(), f.rule.code.to_string(), f.start.line))
        .collect()
}

#[test]
fn the_clean_example_is_clean_and_the_mistakes_are_all_found() {
    let found = lint_examples();
    assert!(
        found.iter().all(|(file, _, _)| file.starts_with("shop/")),
        "podinfo must be clean: {found:?}"
    );
    let codes: Vec<(&str, u32)> = found.iter().map(|(_, c, l)| (c.as_str(), *l)).collect();
    assert_eq!(
        codes,
        vec![
            ("CL101", 17),
            ("CL201", 25),
            ("CL202", 26),
            ("CL302", 51),
            ("CL102", 57),
            ("CL002", 71),
            ("CL304", 73)
        ]
    );
}

#[test]
fn without_the_gateways_as_context_a_missing_one_is_only_unverified() {
    // Each file is its own unit: the Gateway file says nothing about what else istio-system
    // holds, so the misspelt Gateway cannot be called missing.
    let sources = ["istio", "podinfo", "shop"]
        .iter()
        .flat_map(|d| read_dir(d))
        .collect();
    let run =
        Linter::new(canarylint_rules::ALL).lint_sources(sources, Vec::new(), &Budget::GENEROUS);
    let line17: Vec<_> = run
        .findings
        .iter()
        .filter(|f| f.start.line == 17 && f.file.ends_with("canaries.yaml"))
        .map(|f| (f.rule.code, f.severity.to_string()))
        .collect();
    assert_eq!(line17, [("CL100", "info".to_string())]);
}
