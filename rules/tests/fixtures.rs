//! Whole-file fixtures: every file under `rules/fixtures/` is linted with the whole rule set
//! and its rendered findings are snapshotted. Adding a fixture needs no test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use canarylint::testing::render;
use canarylint::{Budget, Linter, SourceFile};

#[test]
fn fixtures() {
    insta::glob!("../fixtures", "**/*.{yaml,json}", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let name = path
            .strip_prefix(&base)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let source = Arc::new(SourceFile::new(name, text));
        let run = Linter::new(canarylint_rules::ALL).lint_sources(
            vec![source.clone()],
            Vec::new(),
            &Budget::GENEROUS,
        );
        let mut out = render(&run.findings, &source);
        if out.is_empty() {
            out = "no findings\n".into();
        }
        insta::assert_snapshot!(out);
    });
}
