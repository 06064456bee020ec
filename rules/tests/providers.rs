//! One test per provider string: each Canary below is what Flagger 1.44's router for that
//! string (pkg/router/factory.go, `MeshRouter`) accepts, and the whole rule set must raise no
//! warning or error on it. Where a router has a prerequisite, the same Canary without it must
//! raise exactly the finding that stands for Flagger's refusal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use canarylint::{Budget, Linter, Severity, SourceFile};

const HEAD: &str = "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
";

const ANALYSIS: &str = "  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
    webhooks:
      - name: load-test
        url: http://flagger-loadtester.test/
        timeout: 5s
        metadata:
          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
";

const BLUE_GREEN: &str = "  analysis:
    interval: 1m
    threshold: 5
    iterations: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
    webhooks:
      - name: load-test
        url: http://flagger-loadtester.test/
        timeout: 5s
        metadata:
          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
";

fn canary(provider: &str, extra: &str, analysis: &str) -> String {
    format!("{HEAD}  provider: {provider}\n{extra}{analysis}")
}

/// Warnings and errors of the whole rule set, as `CODE severity` lines.
fn findings(text: &str) -> Vec<String> {
    let source = Arc::new(SourceFile::new("canary.yaml", text.to_string()));
    let run = Linter::new(canarylint_rules::ALL).lint_sources(
        vec![source],
        Vec::new(),
        &Budget::GENEROUS,
    );
    run.findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| format!("{} {}: {}", f.rule.code, f.severity, f.message))
        .collect()
}

fn clean(provider: &str, extra: &str, analysis: &str) {
    let text = canary(provider, extra, analysis);
    let got = findings(&text);
    assert!(got.is_empty(), "{provider}: {got:#?}\n{text}");
}

fn only(provider: &str, extra: &str, analysis: &str, code: &str, severity: Severity) {
    let text = canary(provider, extra, analysis);
    let got = findings(&text);
    let want = format!("{code} {severity}");
    assert!(
        got.len() == 1 && got[0].starts_with(&want),
        "{provider}: want only {want}, got {got:#?}\n{text}"
    );
}

const PORT: &str = "  service:\n    port: 9898\n";

#[test]
fn istio() {
    clean("istio", PORT, ANALYSIS);
}

#[test]
fn linkerd() {
    clean("linkerd", PORT, ANALYSIS);
}

#[test]
fn appmesh_needs_mesh_name() {
    clean(
        "appmesh",
        "  service:\n    port: 9898\n    meshName: global\n",
        ANALYSIS,
    );
    only("appmesh", PORT, ANALYSIS, "CL310", Severity::Error);
}

#[test]
fn appmesh_v1beta2_needs_no_mesh_name() {
    clean("appmesh:v1beta2", PORT, ANALYSIS);
}

#[test]
fn nginx_needs_ingress_ref() {
    let ingress = "  ingressRef:\n    apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    name: podinfo\n";
    clean("nginx", &format!("{ingress}{PORT}"), ANALYSIS);
    only("nginx", PORT, ANALYSIS, "CL310", Severity::Error);
}

#[test]
fn skipper_needs_ingress_ref() {
    let ingress = "  ingressRef:\n    apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    name: podinfo\n";
    clean("skipper", &format!("{ingress}{PORT}"), ANALYSIS);
    only("skipper", PORT, ANALYSIS, "CL310", Severity::Error);
}

#[test]
fn contour() {
    clean("contour", PORT, ANALYSIS);
}

#[test]
fn gloo() {
    clean("gloo", PORT, ANALYSIS);
}

#[test]
fn traefik() {
    clean("traefik", PORT, ANALYSIS);
}

#[test]
fn apisix_needs_route_ref() {
    let route = "  routeRef:\n    apiVersion: apisix.apache.org/v2\n    kind: ApisixRoute\n    name: podinfo\n";
    clean("apisix", &format!("{route}{PORT}"), ANALYSIS);
    only("apisix", PORT, ANALYSIS, "CL310", Severity::Error);
}

#[test]
fn kuma() {
    clean("kuma", PORT, ANALYSIS);
}

#[test]
fn osm() {
    clean("osm", PORT, ANALYSIS);
}

#[test]
fn gatewayapi_v1beta1_needs_gateway_refs() {
    let refs = "  service:\n    port: 9898\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n";
    clean("gatewayapi:v1beta1", refs, ANALYSIS);
    only(
        "gatewayapi:v1beta1",
        PORT,
        ANALYSIS,
        "CL109",
        Severity::Error,
    );
}

#[test]
fn gatewayapi_v1_needs_gateway_refs() {
    let refs = "  service:\n    port: 9898\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n";
    clean("gatewayapi:v1", refs, ANALYSIS);
    only("gatewayapi:v1", PORT, ANALYSIS, "CL109", Severity::Error);
}

#[test]
fn smi_v1alpha1() {
    clean("smi:v1alpha1", PORT, ANALYSIS);
}

#[test]
fn smi_v1alpha2() {
    clean("smi:v1alpha2", PORT, ANALYSIS);
}

#[test]
fn smi_v1alpha3() {
    clean("smi:v1alpha3", PORT, ANALYSIS);
}

#[test]
fn kubernetes_runs_blue_green() {
    clean("kubernetes", PORT, BLUE_GREEN);
    // Weights are never applied: Flagger forces 10 iterations.
    only("kubernetes", PORT, ANALYSIS, "CL204", Severity::Warning);
}

#[test]
fn knative_needs_a_knative_target() {
    let text = "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: knative
  targetRef:
    apiVersion: serving.knative.dev/v1
    kind: Service
    name: podinfo
"
    .to_string()
        + ANALYSIS;
    let got = findings(&text);
    assert!(got.is_empty(), "{got:#?}");
    only("knative", PORT, ANALYSIS, "CL310", Severity::Error);
}

/// A provider string with a version suffix that `MeshRouter` matches exactly (`nginx:v1`) is
/// no CRD value (CL001) and, were it the global `-mesh-provider`, would get the Istio router.
#[test]
fn version_suffix_outside_the_enum() {
    let got = findings(&canary("nginx:v1", PORT, ANALYSIS));
    assert!(got.iter().any(|f| f.starts_with("CL001 error")), "{got:#?}");
    assert!(!got.iter().any(|f| f.starts_with("CL310")), "{got:#?}");
}
