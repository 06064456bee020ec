//! Suppression in its three forms, the same through the engine every door uses, and stale
//! suppressions reported as CL007.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use canarylint::config::Config;
use canarylint::{Budget, Linter, SourceFile};

const CANARY: &str = "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: legacy-shop
ANNOTATIONS
spec:
  provider: istio
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 60COMMENT
";

fn lint(annotations: &str, comment: &str, config: Option<&str>) -> Vec<(String, u32)> {
    let text = CANARY
        .replace("ANNOTATIONS\n", annotations)
        .replace("COMMENT", comment);
    let source = Arc::new(SourceFile::new("canary.yaml", text));
    let mut linter = Linter::new(canarylint_rules::ALL);
    if let Some(c) = config {
        linter = linter.with_config(
            Config::parse(".canarylint.yaml", c, &canarylint_rules::all_meta()).unwrap(),
        );
    }
    linter
        .lint_sources(vec![source], Vec::new(), &Budget::GENEROUS)
        .findings
        .iter()
        .filter(|f| f.rule.code != "CL100")
        .map(|f| (f.rule.code.to_string(), f.start.line))
        .collect()
}

#[test]
fn unsuppressed() {
    assert_eq!(lint("", "", None), [("CL201".to_string(), 15)]);
}

#[test]
fn by_annotation() {
    let a = "  annotations:\n    canarylint.io/ignore: \"step-weight-exceeds-max-weight\"\n";
    assert_eq!(lint(a, "", None), []);
    let all = "  annotations:\n    canarylint.io/ignore: \"*\"\n";
    assert_eq!(lint(all, "", None), []);
}

#[test]
fn by_comment_on_the_line_or_above() {
    assert_eq!(
        lint(
            "",
            " # canarylint-ignore CL201 -- rollout in one step on purpose",
            None
        ),
        []
    );
    let text_above = CANARY.replace("ANNOTATIONS\n", "").replace(
        "    stepWeight: 60COMMENT",
        "    # canarylint-ignore CL201\n    stepWeight: 60",
    );
    let source = Arc::new(SourceFile::new("canary.yaml", text_above));
    let run = Linter::new(canarylint_rules::ALL).lint_sources(
        vec![source],
        Vec::new(),
        &Budget::GENEROUS,
    );
    assert!(
        run.findings.iter().all(|f| f.rule.code == "CL100"),
        "{:?}",
        run.findings.iter().map(|f| f.rule.code).collect::<Vec<_>>()
    );
}

#[test]
fn by_config_glob() {
    let config = "ignore:\n  - resource: Canary/legacy-*/*\n    rules: [CL201]\n";
    assert_eq!(lint("", "", Some(config)), []);
}

#[test]
fn stale_suppressions_are_reported_as_info() {
    let a = "  annotations:\n    canarylint.io/ignore: \"CL201,CL103\"\n";
    assert_eq!(lint(a, "", None), [("CL007".to_string(), 7)]);
    assert_eq!(
        lint("", " # canarylint-ignore CL201,CL202", None),
        [("CL007".to_string(), 15)]
    );
    let config = "ignore:\n  - resource: Canary/legacy-*/*\n    rules: [CL201]\n  - resource: Canary/prod/*\n";
    let found = lint("", "", Some(config));
    assert_eq!(
        found,
        [("CL007".to_string(), 4)],
        "the second entry matches nothing"
    );
}

#[test]
fn parse_errors_cannot_be_suppressed() {
    let text = "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: x # canarylint-ignore CL000\n  name: y # canarylint-ignore CL000\n";
    let source = Arc::new(SourceFile::new("x.yaml", text));
    let run = Linter::new(canarylint_rules::ALL).lint_sources(
        vec![source],
        Vec::new(),
        &Budget::GENEROUS,
    );
    assert!(run.findings.iter().any(|f| f.rule.code == "CL000"));
}
