//! `canarylint schema` in the real yaml-language-server (npm `yaml-language-server`), wired up
//! as docs/editors.md says: a Canary with an unknown field and a value of the wrong type gets
//! both reported at their lines, through a `$schema` modeline and through the `yaml.schemas`
//! setting; Flagger's own complete Canary examples get nothing.
//!
//! The server is `$CANARYLINT_YAML_LANGUAGE_SERVER` (its `bin/yaml-language-server`), else
//! `yaml-language-server` on `PATH`; without either the test is skipped, except in CI (`CI`
//! set), where `.ci/run` installs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/lsp_client.rs"]
mod lsp_client;

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long the server may take for one answer on a busy machine.
const PATIENCE: Duration = Duration::from_secs(60);

fn server() -> Option<PathBuf> {
    let found = std::env::var_os("CANARYLINT_YAML_LANGUAGE_SERVER")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join("yaml-language-server"))
                .find(|p| p.is_file())
        });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("yaml-language-server is not installed, and CI must run this test");
        }
        eprintln!(
            "skipped: yaml-language-server is not installed (npm install yaml-language-server)"
        );
    }
    found
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A language client on the server's standard input and output.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    settings: Value,
    /// The last diagnostics published for each document.
    diagnostics: HashMap<String, Vec<Value>>,
}

impl Client {
    fn start(program: &Path, settings: Value) -> Client {
        let mut child = Command::new(program)
            .arg("--stdio")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            // The framing of `canarylint lsp`'s own tests; output that is not the protocol
            // ends the stream, and the wait that follows reports the server's state.
            while let Ok(Some(message)) = lsp_client::read_message(&mut reader) {
                if send.send(message).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            next_id: 1,
            settings,
            diagnostics: HashMap::new(),
        }
    }

    fn send(&mut self, message: Value) {
        let body = serde_json::to_vec(&message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.until(|_, m| {
            (m.get("id") == Some(&json!(id)) && m.get("method").is_none()).then(|| m.clone())
        })
    }

    /// Handles the server's messages until `done` returns something.
    fn until<T>(&mut self, mut done: impl FnMut(&mut Client, &Value) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = match self
                .messages
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "yaml-language-server said nothing for {PATIENCE:?}; diagnostics so far: {:#?}",
                    self.diagnostics
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("yaml-language-server exited: {:?}", self.child.try_wait())
                }
            };
            match (
                message.get("method").and_then(Value::as_str),
                message.get("id"),
            ) {
                // A request from the server: settings when it asks for them, nothing otherwise.
                (Some(method), Some(id)) => {
                    let result = if method == "workspace/configuration" {
                        let items = message["params"]["items"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        Value::Array(
                            items
                                .iter()
                                .map(|item| match item["section"].as_str() {
                                    Some("yaml") => self.settings["yaml"].clone(),
                                    Some(section) => {
                                        self.settings.get(section).cloned().unwrap_or(Value::Null)
                                    }
                                    None => self.settings.clone(),
                                })
                                .collect(),
                        )
                    } else {
                        Value::Null
                    };
                    let id = id.clone();
                    self.send(json!({"jsonrpc": "2.0", "id": id, "result": result}));
                }
                (Some("textDocument/publishDiagnostics"), None) => {
                    let params = &message["params"];
                    self.diagnostics.insert(
                        params["uri"].as_str().unwrap().to_owned(),
                        params["diagnostics"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    );
                }
                _ => {}
            }
            if let Some(result) = done(self, &message) {
                return result;
            }
        }
    }

    fn open(&mut self, path: &Path) {
        let text = std::fs::read_to_string(path).unwrap();
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(path), "languageId": "yaml", "version": 1, "text": text}}),
        );
    }

    /// The diagnostics of a document, once the server has published some for it (`want`:
    /// at least one; else the first publication counts).
    fn diagnostics_of(&mut self, path: &Path, at_least_one: bool) -> Vec<Value> {
        let key = uri(path);
        self.until(|client, _| {
            client
                .diagnostics
                .get(&key)
                .filter(|d| !at_least_one || !d.is_empty())
                .cloned()
        })
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Canary with an unknown field (`service.prot`, line 13) and a value of the wrong type
/// (`analysis.threshold: five`, line 16); lines counted from 0, after the first line.
const BROKEN: &str = "\
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
    prot: 80
  analysis:
    interval: 1m
    threshold: five
    maxWeight: 50
    stepWeight: 10
";

/// The two findings, as (line, start column, end column, message fragment).
fn assert_both_reported(diagnostics: &[Value], first_line: u64) {
    let mut found: Vec<(u64, u64, u64, String)> = diagnostics
        .iter()
        .map(|d| {
            let r = &d["range"];
            assert_eq!(r["start"]["line"], r["end"]["line"], "{d}");
            (
                r["start"]["line"].as_u64().unwrap(),
                r["start"]["character"].as_u64().unwrap(),
                r["end"]["character"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(found.len(), 2, "{diagnostics:#?}");
    // `prot` (the key), line 13 of the Canary.
    assert_eq!(
        (found[0].0, found[0].1, found[0].2),
        (first_line + 13, 4, 8),
        "{found:?}"
    );
    assert!(
        found[0].3.contains("Property prot is not allowed"),
        "{found:?}"
    );
    // `five` (the value), line 16.
    assert_eq!(
        (found[1].0, found[1].1, found[1].2),
        (first_line + 16, 15, 19),
        "{found:?}"
    );
    assert!(found[1].3.contains("Incorrect type"), "{found:?}");
    assert!(found[1].3.contains("number"), "{found:?}");
    for d in diagnostics {
        assert_eq!(d["severity"], 1, "an error: {d}");
        assert!(
            d["source"].as_str().unwrap().contains("Flagger Canary"),
            "{d}"
        );
    }
}

#[test]
fn yaml_language_server_reports_unknown_fields_and_wrong_types_with_canarylint_schema() {
    let Some(program) = server() else {
        return;
    };
    // Not tempfile's default `.tmpXXXX`: `**` in a `yaml.schemas` glob skips hidden folders.
    let dir = tempfile::Builder::new()
        .prefix("workspace-")
        .tempdir()
        .unwrap();
    let root = dir.path().canonicalize().unwrap();
    let schemas = root.join("schemas");
    let apps = root.join("apps");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::create_dir_all(&apps).unwrap();

    // docs/editors.md: `canarylint schema > schemas/canary.schema.json`.
    let out = Command::new(env!("CARGO_BIN_EXE_canarylint"))
        .args(["schema", "--output"])
        .arg(schemas.join("canary.schema.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The two ways docs/editors.md gives: a modeline with a path relative to the file, and
    // the `yaml.schemas` setting with a path relative to the workspace.
    let modeline = apps.join("podinfo.yaml");
    std::fs::write(
        &modeline,
        format!("# yaml-language-server: $schema=../schemas/canary.schema.json\n{BROKEN}"),
    )
    .unwrap();
    let mapped = apps.join("canary-podinfo.yaml");
    std::fs::write(&mapped, BROKEN).unwrap();
    let unmapped = apps.join("deployment.yaml");
    std::fs::write(&unmapped, BROKEN).unwrap();

    // Flagger's complete Canary examples, each with the modeline.
    let examples =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/flagger/examples");
    let mut clean = Vec::new();
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.is_file()
            && name.contains("--")
            && name.contains("-canary-")
            && name.ends_with(".yaml")
        {
            let text = std::fs::read_to_string(&path).unwrap();
            let copy = apps.join(format!("example-{name}"));
            std::fs::write(
                &copy,
                format!("# yaml-language-server: $schema=../schemas/canary.schema.json\n{text}"),
            )
            .unwrap();
            clean.push(copy);
        }
    }
    clean.sort();
    assert!(
        clean.len() >= 60,
        "Flagger's Canary examples: {} found in {}",
        clean.len(),
        examples.display()
    );

    let settings = json!({"yaml": {
        "validate": true,
        "hover": true,
        "completion": true,
        "schemas": {"./schemas/canary.schema.json": ["**/canary*.yaml"]},
        "schemaStore": {"enable": false}
    }});
    let mut client = Client::start(&program, settings.clone());
    client.request(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": uri(&root),
            "workspaceFolders": [{"uri": uri(&root), "name": "workspace"}],
            "capabilities": {
                "workspace": {"configuration": true, "didChangeConfiguration": {"dynamicRegistration": false}},
                "textDocument": {"publishDiagnostics": {"relatedInformation": true}}
            }
        }),
    );
    client.notify("initialized", json!({}));
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": settings}),
    );

    client.open(&modeline);
    let diagnostics = client.diagnostics_of(&modeline, true);
    assert_both_reported(&diagnostics, 1);

    client.open(&mapped);
    let diagnostics = client.diagnostics_of(&mapped, true);
    assert_both_reported(&diagnostics, 0);

    // A file no schema is mapped to is only checked as YAML: nothing to report.
    client.open(&unmapped);
    assert_eq!(client.diagnostics_of(&unmapped, false), Vec::<Value>::new());

    let mut complaints = Vec::new();
    for path in &clean {
        client.open(path);
        let diagnostics = client.diagnostics_of(path, false);
        if !diagnostics.is_empty() {
            complaints.push(format!("{}: {diagnostics:#?}", path.display()));
        }
    }
    assert!(
        complaints.is_empty(),
        "schema errors on Flagger's own examples:\n{}",
        complaints.join("\n")
    );

    client.shutdown();
}
