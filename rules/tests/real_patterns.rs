//! Patterns seen in public repositories' Flagger manifests (tutorials, GitOps repositories,
//! platform docs), each rewritten here as a minimal case of our own, with what Flagger, istiod
//! or the API server does with it. docs/fidelity.md lists where each pattern was seen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use canarylint::{Budget, Linter, Severity, SourceFile};

/// `CODE severity` of every finding, in order.
fn codes(text: &str) -> Vec<String> {
    let source = Arc::new(SourceFile::new("case.yaml", text.to_string()));
    Linter::new(canarylint_rules::ALL)
        .lint_sources(vec![source], Vec::new(), &Budget::GENEROUS)
        .findings
        .iter()
        .map(|f| format!("{} {}", f.rule.code, f.severity))
        .collect()
}

fn loud(text: &str) -> Vec<String> {
    let source = Arc::new(SourceFile::new("case.yaml", text.to_string()));
    Linter::new(canarylint_rules::ALL)
        .lint_sources(vec![source], Vec::new(), &Budget::GENEROUS)
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| format!("{} {}: {}", f.rule.code, f.severity, f.message))
        .collect()
}

const HEAD: &str = "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: shop
  namespace: prod
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: shop
";

const METRICS: &str = "    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
";

/// The legacy gateway name, often after `mesh`: istiod resolves it (first two labels) and
/// only warns; without the Gateway in view, nothing louder than info.
#[test]
fn legacy_gateway_name_after_mesh() {
    let text = format!(
        "{HEAD}  service:
    port: 8080
    gateways:
      - mesh
      - public-gateway.istio-system.svc.cluster.local
    hosts:
      - shop.example.com
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
{METRICS}"
    );
    let got = loud(&text);
    assert!(got.is_empty(), "{got:#?}");
    assert!(codes(&text).contains(&"CL101 info".to_string()));
}

/// Weighted production canaries without a load tester: real users feed the metrics.
#[test]
fn weighted_canary_without_load_tester() {
    let text = format!(
        "{HEAD}  service:
    port: 8080
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
{METRICS}"
    );
    assert!(loud(&text).is_empty(), "{:#?}", loud(&text));
    assert!(codes(&text).contains(&"CL405 info".to_string()));
}

/// Blue/Green without a load tester: the canary gets no user traffic, the analysis halts.
#[test]
fn blue_green_without_load_tester() {
    let text = format!(
        "{HEAD}  service:
    port: 8080
  analysis:
    interval: 1m
    threshold: 5
    iterations: 10
{METRICS}"
    );
    assert_eq!(loud(&text).len(), 1, "{:#?}", loud(&text));
    assert!(codes(&text).contains(&"CL405 warning".to_string()));
}

/// App Mesh v1beta2 without `meshName` (Flagger's upgrade guide drops the field): clean.
#[test]
fn appmesh_v1beta2_with_backends_and_no_mesh_name() {
    let text = format!(
        "{HEAD}  provider: appmesh:v1beta2
  service:
    port: 80
    timeout: 15s
    backends:
      - arn:aws:appmesh:eu-west-1:111111111111:mesh/global/virtualService/db.shop
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 5
{METRICS}"
    );
    let got = loud(&text);
    assert!(got.is_empty(), "{got:#?}");
}

/// The kubernetes provider with weights (and an A/B match): Flagger ignores both and runs
/// Blue/Green with 10 iterations; nothing fails.
#[test]
fn kubernetes_provider_with_weights_and_match() {
    let text = format!(
        "{HEAD}  provider: kubernetes
  service:
    port: 8069
  analysis:
    interval: 30s
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    match:
      - headers:
          x-canary:
            exact: \"true\"
{METRICS}"
    );
    let got = codes(&text);
    assert_eq!(
        got.iter().filter(|c| *c == "CL204 warning").count(),
        2,
        "{got:#?}"
    );
    assert!(!got.iter().any(|c| c.ends_with("error")), "{got:#?}");
}

/// A pre-1.0 Canary kept in a GitOps repository: one error naming the migration.
#[test]
fn pre_one_canary() {
    let text = "apiVersion: flagger.app/v1alpha3
kind: Canary
metadata:
  name: hello
  namespace: default
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: hello
  service:
    port: 80
    gateways:
      - public-gateway.istio-system.svc.cluster.local
    hosts:
      - '*'
  canaryAnalysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: istio_requests_total
        threshold: 99
        interval: 1m
";
    let got = loud(text);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("CL008 error"), "{got:#?}");
}

/// `metrics` written under `spec` instead of `spec.analysis`: the help says where it goes.
#[test]
fn metrics_in_the_wrong_place() {
    let text = format!(
        "{HEAD}  service:
    port: 80
  metrics:
    - name: request-success-rate
      thresholdRange:
        min: 99
  analysis:
    interval: 30s
    threshold: 5
    maxWeight: 50
    stepWeight: 5
"
    );
    let source = Arc::new(SourceFile::new("case.yaml", text));
    let run = Linter::new(canarylint_rules::ALL).lint_sources(
        vec![source],
        Vec::new(),
        &Budget::GENEROUS,
    );
    let f = run
        .findings
        .iter()
        .find(|f| f.rule.code == "CL002")
        .expect("CL002");
    assert!(
        f.help
            .as_deref()
            .is_some_and(|h| h.contains("a field of `spec.analysis`")),
        "{:?}",
        f.help
    );
}

/// A hook that calls the target's name when `service.name` renames the Services.
#[test]
fn load_test_calls_the_target_not_the_service() {
    let text = format!(
        "{HEAD}  service:
    name: shop-svc
    port: 8080
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
{METRICS}    webhooks:
      - name: load-test
        url: http://flagger-loadtester.prod/
        metadata:
          cmd: hey -z 1m -q 10 -c 2 http://shop-canary.prod:8080/
"
    );
    let got = loud(&text);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("CL311 warning"), "{got:#?}");
}
