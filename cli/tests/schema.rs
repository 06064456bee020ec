//! `canarylint schema`: the embedded CRD schemas, for YAML editors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use serde_json::Value;

fn canarylint() -> Command {
    Command::cargo_bin("canarylint").unwrap()
}

#[test]
fn prints_the_canary_schema_by_default() {
    let out = canarylint().arg("schema").output().unwrap();
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    assert_eq!(schema["type"], "object");
    let analysis = &schema["properties"]["spec"]["properties"]["analysis"]["properties"];
    assert!(analysis["stepWeight"].is_object(), "{analysis}");
    assert!(analysis["maxWeight"].is_object(), "{analysis}");
    let explicit = canarylint().args(["schema", "canary"]).output().unwrap();
    assert_eq!(explicit.stdout, out.stdout);
}

#[test]
fn writes_other_kinds_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrictemplate.schema.json");
    canarylint()
        .args(["schema", "metrictemplate", "--output"])
        .arg(&path)
        .assert()
        .success()
        .stdout("");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(schema["properties"]["spec"]["properties"]["query"].is_object());
    let alert = canarylint()
        .args(["schema", "alertprovider"])
        .output()
        .unwrap();
    let schema: Value = serde_json::from_slice(&alert.stdout).unwrap();
    assert!(schema["properties"]["spec"]["properties"]["type"].is_object());
}

#[test]
fn rejects_an_unknown_kind() {
    canarylint()
        .args(["schema", "deployment"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("invalid value 'deployment'"));
}
