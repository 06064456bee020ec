//! How complete the inventory is: `--complete` turns "cannot check" into "missing".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;

const CANARY: &str = "apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  provider: istio
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service:
    port: 9898
    gateways: [istio-system/public-gateway, mesh]
  analysis: {interval: 1m, threshold: 5, iterations: 10}
";

fn codes(args: &[&str]) -> (Option<i32>, Vec<String>) {
    let out = Command::cargo_bin("canarylint")
        .unwrap()
        .args(["check", "--no-config", "--format", "json", "-"])
        .args(args)
        .write_stdin(CANARY)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    (out.status.code(), codes)
}

#[test]
fn without_the_gateways_a_reference_is_only_unverified() {
    let (status, codes) = codes(&[]);
    assert_eq!(status, Some(0));
    assert_eq!(codes, ["CL100", "CL100"]);
}

#[test]
fn complete_makes_missing_references_errors() {
    let (status, codes) = codes(&["--complete"]);
    assert_eq!(status, Some(1));
    assert!(codes.contains(&"CL101".to_string()), "{codes:?}");
    assert!(codes.contains(&"CL301".to_string()), "{codes:?}");
    assert!(!codes.contains(&"CL100".to_string()), "{codes:?}");
}
