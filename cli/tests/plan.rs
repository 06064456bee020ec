//! `canarylint plan` through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;

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
