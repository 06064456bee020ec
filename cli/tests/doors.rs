//! The three doors give the same answer: the same files through `canarylint check --format
//! json`, the webhook's review handler (in process, its inventory from the same files as
//! `--context`) and the language server (the real binary over stdio, the files as its
//! workspace folder) give the same codes and severities, and `check` and the language server
//! the same positions (a review carries JSON without positions, so the webhook is compared on
//! codes and severities). A configuration file changes all three alike, and `plan` honours it.
#![cfg(all(feature = "lsp", feature = "serve"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use canarylint::{Budget, Severity, SourceFile};
use clap::Parser;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

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
    let mut lsp = Lsp::start(dir);
    let path = dir.join("canary.yaml");
    let uri = file_uri(&path);
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": CANARY}}),
    );
    let deadline = Instant::now() + TIMEOUT;
    let mut last = Found::new();
    while let Some(msg) = lsp.next(deadline) {
        if msg["method"] != "textDocument/publishDiagnostics" || msg["params"]["uri"] != uri {
            continue;
        }
        last = msg["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(diagnostic)
            .collect();
        if &last == expected {
            break;
        }
    }
    lsp.shutdown();
    last
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

// A minimal language client: Content-Length framing over the real binary's stdio.

struct Lsp {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
}

fn file_uri(path: &Path) -> String {
    let path: PathBuf = std::fs::canonicalize(path).unwrap();
    format!("file://{}", path.display())
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.trim_end().strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Lsp {
    fn start(root: &Path) -> Lsp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_canarylint"))
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut r) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let mut lsp = Lsp {
            child,
            stdin,
            rx,
            next_id: 1,
        };
        let root_uri = file_uri(root);
        lsp.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "doors"}],
                "capabilities": {}
            }),
        );
        lsp.notify("initialized", json!({}));
        lsp
    }

    fn send(&mut self, message: &Value) {
        let body = serde_json::to_string(message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its answer, answering the server's own requests.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|m| m["id"] == id && m.get("method").is_none())
    }

    fn wait(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self
                .next(deadline)
                .expect("the language server did not answer in time");
            if pred(&msg) {
                return msg;
            }
        }
    }

    /// The next message before `deadline`, the server's own requests answered.
    fn next(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = self.rx.recv_timeout(left).ok()?;
        if msg.get("method").is_some()
            && let Some(id) = msg.get("id")
        {
            let id = id.clone();
            self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
        Some(msg)
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

impl Drop for Lsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
