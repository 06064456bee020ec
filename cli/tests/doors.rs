//! The three doors give the same answer: the same files through `canarylint check --format
//! json`, the webhook's review handler (in process, its inventory from the same files as
//! `--context`) and the language server (the real binary over stdio, the files as its
//! workspace folder) give the same codes and severities, and `check` and the language server
//! the same positions (a review carries JSON without positions, so the webhook is compared on
//! codes and severities). A configuration file changes all three alike, and `plan` honours it.
#![cfg(all(feature = "lsp", feature = "serve"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/lsp_client.rs"]
mod lsp_client;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use canarylint::{Budget, Severity, SourceFile};
use clap::Parser;
use lsp_client::{Client, file_uri};
use serde_json::{Value, json};

/// A Canary with a weight above the maximum (CL201, error) that also mirrors with weights
/// (CL202, a warning on Istio); its target is in the folder, so no reference is unresolved.
const CANARY: &str = "\
apiVersion: flagger.app/v1beta1
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
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 30
    stepWeight: 50
    mirror: true
";

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: test
spec:
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.0.0
          ports:
            - name: http
              containerPort: 9898
";

/// CL201 down to a warning, CL202 off.
const CONFIG: &str = "rules:\n  CL201: warning\n  mirror-with-step-weight: off\n";

/// (code, severity, 1-based line, 1-based column) of every finding.
type Found = BTreeSet<(String, Severity, u32, u32)>;

fn codes(found: &Found) -> BTreeSet<(String, Severity)> {
    found.iter().map(|(c, s, _, _)| (c.clone(), *s)).collect()
}

fn folder(config: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("canary.yaml"), CANARY).unwrap();
    std::fs::write(dir.path().join("deployment.yaml"), DEPLOYMENT).unwrap();
    if config {
        std::fs::write(dir.path().join(".canarylint.yaml"), CONFIG).unwrap();
    }
    dir
}

fn severity(s: &str) -> Severity {
    Severity::parse(s).unwrap_or_else(|| panic!("severity {s}"))
}

/// `canarylint check --format json .` in the folder (its configuration discovered there).
fn through_check(dir: &Path) -> Found {
    let out = Command::new(env!("CARGO_BIN_EXE_canarylint"))
        .current_dir(dir)
        .args(["check", "--format", "json", "."])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"] == "canary.yaml")
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                severity(f["severity"].as_str().unwrap()),
                f["line"].as_u64().unwrap() as u32,
                f["column"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

/// The webhook's review of the Canary, in process: `serve --no-cluster --context <folder>`,
/// with `--config` when the folder has one (the server discovers it from its working
/// directory, which a test cannot change).
fn through_webhook(dir: &Path) -> BTreeSet<(String, Severity)> {
    let context = dir.display().to_string();
    let config = dir.join(".canarylint.yaml");
    let config_text = config.display().to_string();
    let mut argv = vec![
        "canarylint",
        "serve",
        "--insecure-http",
        "--no-cluster",
        "--context",
        &context,
    ];
    if config.is_file() {
        argv.extend(["--config", &config_text]);
    } else {
        argv.push("--no-config");
    }
    let cli = canarylint_cli::Cli::try_parse_from(argv).unwrap();
    let canarylint_cli::Command::Serve(args) = cli.command else {
        panic!("not serve")
    };
    let state = canarylint_server::build_state(&args.into()).unwrap();
    // The Canary as the API server sends it: JSON.
    let parsed = canarylint::read(
        std::sync::Arc::new(SourceFile::new("canary.yaml", CANARY)),
        &Budget::GENEROUS,
    );
    let object = parsed.documents[0].root.to_json();
    let body = serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "0b9f6d0e-1b1a-4c47-9a3c-2f1f3d2c0001",
            "kind": {"group": "flagger.app", "version": "v1beta1", "kind": "Canary"},
            "resource": {"group": "flagger.app", "version": "v1beta1", "resource": "canaries"},
            "name": "podinfo",
            "namespace": "test",
            "operation": "CREATE",
            "userInfo": {"username": "tester"},
            "object": object,
            "oldObject": null,
            "dryRun": false
        }
    }))
    .unwrap();
    let reviewed = canarylint_server::review(&body, &state).unwrap();
    reviewed
        .findings
        .iter()
        .map(|(code, s)| (code.to_string(), *s))
        .collect()
}

/// The diagnostics the language server publishes for the Canary, opened from the folder. The
/// server may publish before its index of the folder is read: the last publication within
/// the time limit, or the first equal to `expected`, is the answer.
fn through_lsp(dir: &Path, expected: &Found) -> Found {
    let mut lsp = Client::start(dir, false);
    let uri = file_uri(&dir.join("canary.yaml"));
    lsp.open(&uri, "yaml", CANARY);
    // The first diagnostics may come before the workspace folder is read: wait for the
    // findings `check` gave (a timeout names them).
    let diagnostics = lsp.diagnostics(&uri, &format!("the findings of check {expected:?}"), |d| {
        &d.iter().map(diagnostic).collect::<Found>() == expected
    });
    lsp.shutdown();
    diagnostics.iter().map(diagnostic).collect()
}

fn diagnostic(d: &Value) -> (String, Severity, u32, u32) {
    let s = match d["severity"].as_u64() {
        Some(1) => Severity::Error,
        Some(2) => Severity::Warning,
        _ => Severity::Info,
    };
    // LSP positions are 0-based; the text is ASCII, so UTF-16 units are characters.
    (
        d["code"].as_str().unwrap().to_string(),
        s,
        d["range"]["start"]["line"].as_u64().unwrap() as u32 + 1,
        d["range"]["start"]["character"].as_u64().unwrap() as u32 + 1,
    )
}

#[test]
fn the_three_doors_agree_and_a_configuration_changes_them_alike() {
    let plain = folder(false);
    let check = through_check(plain.path());
    assert!(
        check
            .iter()
            .any(|(c, s, ..)| c == "CL201" && *s == Severity::Error),
        "{check:?}"
    );
    assert!(check.iter().any(|(c, ..)| c == "CL202"), "{check:?}");
    let lsp = through_lsp(plain.path(), &check);
    assert_eq!(lsp, check, "the language server and check differ");
    let webhook = through_webhook(plain.path());
    assert_eq!(webhook, codes(&check), "the webhook and check differ");

    let configured = folder(true);
    let check_c = through_check(configured.path());
    assert!(
        check_c
            .iter()
            .any(|(c, s, ..)| c == "CL201" && *s == Severity::Warning),
        "{check_c:?}"
    );
    assert!(!check_c.iter().any(|(c, ..)| c == "CL202"), "{check_c:?}");
    assert_eq!(through_lsp(configured.path(), &check_c), check_c);
    assert_eq!(through_webhook(configured.path()), codes(&check_c));
}

/// `plan` reads the configuration as `check` does: a rule turned off there is not shown in
/// the plan's findings either.
#[test]
fn plan_honours_the_configuration_like_check() {
    let plan_codes = |dir: &Path| -> BTreeSet<String> {
        let out = Command::new(env!("CARGO_BIN_EXE_canarylint"))
            .current_dir(dir)
            .args(["plan", "--format", "json", "canary.yaml", "--context", "."])
            .output()
            .unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        json["plans"][0]["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("{json}"))
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    let plain = folder(false);
    let configured = folder(true);
    assert!(plan_codes(plain.path()).contains("CL202"));
    assert!(!plan_codes(configured.path()).contains("CL202"));
}
