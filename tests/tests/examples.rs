//! The bundled examples in `examples/`: one clean canary, and the classic mistakes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use canarylint::{Budget, Linter, SourceFile};

fn lint_examples() -> Vec<(String, String, u32)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut sources = Vec::new();
    for dir in ["istio", "podinfo", "shop"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let name = format!("{dir}/{}", f.file_name().unwrap().to_string_lossy());
            sources.push(Arc::new(SourceFile::new(
                name,
                std::fs::read_to_string(&f).unwrap(),
            )));
        }
    }
    let run =
        Linter::new(canarylint_rules::ALL).lint_sources(sources, Vec::new(), &Budget::GENEROUS);
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
