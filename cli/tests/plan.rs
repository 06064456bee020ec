//! `canarylint plan` through the real binary, and its renderings of Flagger's own examples:
//! the human timeline with the summary and the generated objects, one golden per strategy.
//! Every complete example must fit 80 columns and render YAML that reads back.
//! Update with `INSTA_UPDATE=always cargo test -p canarylint-cli --test plan`, then read the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use assert_cmd::Command;
use canarylint::model::CanaryView;
use canarylint::{Budget, Kind, Settings, SourceFile, read};
use canarylint_cli::output::plan::{render_generated_yaml, render_human, summary};
use canarylint_plan::{Plan, plan};

fn canarylint() -> Command {
    let mut c = Command::cargo_bin("canarylint").unwrap();
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    c.env("NO_COLOR", "1");
    c
}

#[test]
fn json_plan_of_the_clean_example() {
    let out = canarylint()
        .args([
            "plan",
            "examples/",
            "--canary",
            "test/podinfo",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let plans = v["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 1);
    let p = &plans[0];
    assert_eq!(p["strategy"]["kind"], "canary-step-weight");
    let weights: Vec<i64> = p["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["stage"] == "start" || s["stage"] == "analysis")
        .map(|s| s["weight"].as_i64().unwrap())
        .collect();
    assert_eq!(weights, [10, 20, 30, 40, 50]);
    assert_eq!(p["rollback_after_seconds"], 300);
    assert!(p["findings"].as_array().unwrap().is_empty());
}

#[test]
fn human_plan_fits_80_columns_and_lists_findings() {
    let out = canarylint()
        .args(["plan", "examples/shop/", "--context", "examples/istio/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the shop Canaries have errors");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Canary shop/checkout"), "{text}");
    assert!(
        text.contains("CL201 step-weight-exceeds-max-weight"),
        "{text}"
    );
    let plan_part = text.split("Findings:").next().unwrap();
    for line in plan_part.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
}

#[test]
fn render_prints_the_generated_objects() {
    let out = canarylint()
        .args(["plan", "examples/podinfo/", "--render"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("kind: VirtualService"), "{text}");
    assert!(text.contains("name: podinfo-canary"), "{text}");
}

#[test]
fn an_unknown_canary_is_a_usage_error() {
    canarylint()
        .args(["plan", "examples/", "--canary", "nope/nothing"])
        .assert()
        .code(2);
}

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

fn examples() -> PathBuf {
    shared().join("reference/flagger/examples")
}

fn plan_text(name: &str, text: String) -> Plan {
    let file = read(Arc::new(SourceFile::new(name, text)), &Budget::GENEROUS);
    let doc = file
        .documents
        .iter()
        .find(|d| d.kind == Kind::Canary)
        .unwrap_or_else(|| panic!("{name} holds no Canary"));
    plan(&CanaryView::new(doc).unwrap(), &Settings::default(), None)
}

fn plan_file(name: &str) -> Plan {
    plan_text(
        name,
        std::fs::read_to_string(examples().join(name)).unwrap(),
    )
}

fn human(plan: &Plan) -> String {
    format!(
        "{}\n--- summary ---\n{}\n\n--- render ---\n{}",
        render_human(plan),
        summary(plan),
        render_generated_yaml(plan)
    )
}

macro_rules! golden {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            let p = plan_file($file);
            insta::assert_snapshot!(concat!(stringify!($test), ".human"), human(&p));
        }
    };
}

// Canary with stepWeight (Istio, portDiscovery, gateway without mesh, match and rewrite).
golden!(
    istio_canary,
    "artifacts-examples-istio-canary.yaml--01-canary-podinfo.yaml"
);
// Canary with stepWeights (linkerd).
golden!(
    linkerd_step_weights,
    "artifacts-examples-linkerd-canary-steps.yaml--01-canary-podinfo.yaml"
);
// stepWeights with a maxWeight that is ignored, provider inferred from gatewayRefs.
golden!(
    linkerd_test_steps,
    "test-linkerd-test-steps.sh--03-canary-podinfo.yaml"
);
// A/B testing (Istio).
golden!(
    istio_ab_testing,
    "docs-gitbook-tutorials-istio-ab-testing.md--01-canary-podinfo.yaml"
);
// Blue/Green (kubernetes provider).
golden!(
    kubernetes_blue_green,
    "docs-gitbook-tutorials-kubernetes-blue-green.md--01-canary-podinfo.yaml"
);
// Blue/Green with mirroring (Gateway API).
golden!(
    gatewayapi_blue_green_mirror,
    "docs-gitbook-tutorials-gatewayapi-progressive-delivery.md--06-canary-podinfo.yaml"
);
// Session affinity (Istio, primary cookie, hosts `*`).
golden!(
    istio_session_affinity,
    "test-istio-test-session-affinity.sh--01-canary-podinfo.yaml"
);
// Canary on Gateway API.
golden!(
    gatewayapi_canary,
    "docs-gitbook-tutorials-gatewayapi-progressive-delivery.md--03-canary-podinfo.yaml"
);
// A/B testing on Gateway API.
golden!(
    gatewayapi_ab_testing,
    "test-gatewayapi-test-ab.sh--01-canary-podinfo.yaml"
);

fn complete_example_canaries() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n.contains("-canary-"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 60,
        "expected Flagger's 66 example Canaries, found {}",
        names.len()
    );
    names
}

#[test]
fn every_complete_example_renders() {
    for name in complete_example_canaries() {
        let p = plan_file(&name);
        let text = render_human(&p);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{name}: too wide: {line:?}");
        }
        let yaml = render_generated_yaml(&p);
        let stream = canarylint::yaml::parse_stream(&yaml, &Budget::GENEROUS);
        assert!(
            stream.errors.is_empty(),
            "{name}: {:?}\n{yaml}",
            stream.errors
        );
        let manifests = p.generated.iter().filter(|g| g.manifest.is_some()).count();
        assert_eq!(stream.documents.len(), manifests, "{name}");
    }
}

/// The plan of every complete Flagger example with a Canary, as a person reads it. Reviewing a
/// change here means reading the timeline diff against docs/flagger-semantics.
#[test]
fn every_complete_example() {
    let mut all = String::new();
    for name in &complete_example_canaries() {
        let p = plan_file(name);
        all.push_str(&format!("=== {name}\n{}\n", render_human(&p)));
    }
    insta::assert_snapshot!("every_complete_example.human", all);
}

#[test]
fn renders_fit_80_columns_and_yaml_reads_back() {
    let p = plan_text(
        "t.yaml",
        "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
    gateways: [istio-system/public-gateway]
    hosts: [app.example.com]
    trafficPolicy: {tls: {mode: DISABLE}}
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 5
    mirror: true
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
    webhooks:
      - name: load-test
        url: http://flagger-loadtester.test/
        timeout: 5s
"
        .to_string(),
    );
    let human = render_human(&p);
    for line in human.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line:?}\n{human}");
    }
    assert!(
        human.contains("  3     3m  10% ██░░░░░░░░░░░░░░░░░░  rollout: load-test · 1 check\n"),
        "{human}"
    );
    let yaml = render_generated_yaml(&p);
    let stream = canarylint::yaml::parse_stream(&yaml, &Budget::GENEROUS);
    assert!(stream.errors.is_empty(), "{:?}\n{yaml}", stream.errors);
    let docs: Vec<serde_json::Value> = stream.documents.iter().map(|d| d.root.to_json()).collect();
    let with_manifest: Vec<&serde_json::Value> = p
        .generated
        .iter()
        .filter_map(|g| g.manifest.as_ref().map(|m| &m.0))
        .collect();
    assert_eq!(docs.iter().collect::<Vec<_>>(), with_manifest);
    let s = summary(&p);
    assert!(
        s.starts_with("Canary, +5% every 1m up to 50%, after one mirrored interval on istio."),
        "{s}"
    );
}

/// `plan` reads `.canarylint.yaml` as `check` does: its `defaultProvider` decides the
/// provider of a Canary without `spec.provider`; `--provider` wins over it; `--no-config`
/// leaves it out.
#[test]
fn plan_honours_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let canary = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/podinfo/canary.yaml"),
    )
    .unwrap()
    .replace("  provider: istio\n", "");
    std::fs::write(dir.path().join("canary.yaml"), canary).unwrap();
    std::fs::write(
        dir.path().join(".canarylint.yaml"),
        "defaultProvider: linkerd\n",
    )
    .unwrap();
    let provider = |extra: &[&str]| {
        let out = Command::cargo_bin("canarylint")
            .unwrap()
            .current_dir(dir.path())
            .args(["plan", "canary.yaml", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let p = &v["plans"][0]["provider"];
        (
            p["name"].as_str().unwrap().to_string(),
            p["source"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        provider(&[]),
        ("linkerd".to_string(), "configured default".to_string())
    );
    assert_eq!(provider(&["--provider", "kubernetes"]).0, "kubernetes");
    assert_eq!(
        provider(&["--no-config"]),
        ("istio".to_string(), "Flagger's default".to_string())
    );
}
