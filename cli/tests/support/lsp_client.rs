//! A small language client over the real `canarylint lsp`: Content-Length framing, requests
//! with bounded waits, and the conversions between protocol positions and byte offsets.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any single wait may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Client {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    rx: Receiver<Result<Value, String>>,
    stash: Vec<Value>,
    next_id: i64,
    stderr: Arc<Mutex<String>>,
}

fn write_message(stdin: &Mutex<ChildStdin>, message: &Value) {
    let body = serde_json::to_string(message).unwrap();
    let mut w = stdin.lock().unwrap();
    let _ = write!(w, "Content-Length: {}\r\n\r\n{body}", body.len());
    let _ = w.flush();
}

fn read_message(r: &mut impl BufRead) -> Result<Option<Value>, String> {
    let mut length = None;
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(None);
        }
        if line == "\r\n" {
            break;
        }
        let header = line
            .strip_suffix("\r\n")
            .ok_or_else(|| format!("not a protocol header on stdout: {line:?}"))?;
        if let Some(v) = header.strip_prefix("Content-Length: ") {
            length = Some(v.parse::<usize>().map_err(|e| e.to_string())?);
        }
    }
    let mut body = vec![0; length.ok_or("a message without Content-Length")?];
    r.read_exact(&mut body).map_err(|e| e.to_string())?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| e.to_string())
}

impl Client {
    /// Starts the server with `root` as its only workspace folder.
    pub fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_canarylint"))
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = Arc::new(Mutex::new(child.stdin.take().unwrap()));
        let stdout = child.stdout.take().unwrap();
        let mut err_pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = channel();
        let replier = stdin.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                match read_message(&mut r) {
                    Ok(Some(msg)) => {
                        if msg.get("method").is_some()
                            && let Some(id) = msg.get("id")
                        {
                            write_message(
                                &replier,
                                &json!({"jsonrpc": "2.0", "id": id, "result": null}),
                            );
                        }
                        if tx.send(Ok(msg)).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            rx,
            stash: Vec::new(),
            next_id: 0,
            stderr,
        };
        let root_uri = file_uri(root);
        client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "capabilities": {
                    "textDocument": {
                        "publishDiagnostics": { "versionSupport": true },
                        "codeAction": { "codeActionLiteralSupport": { "codeActionKind": { "valueSet": ["quickfix"] } } }
                    },
                    "workspace": { "workspaceFolders": true, "applyEdit": true }
                },
                "workspaceFolders": [{ "uri": root_uri, "name": "ws" }]
            }),
        );
        client.notify("initialized", json!({}));
        client
    }

    fn send(&self, message: Value) {
        write_message(&self.stdin, &message);
    }

    /// Sends a notification; diagnostics received before it are dropped.
    pub fn notify(&mut self, method: &str, params: Value) {
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Ok(m) => self.stash.push(m),
                Err(e) => self.fail(&format!("bad output: {e}")),
            }
        }
        self.stash
            .retain(|m| m["method"] != "textDocument/publishDiagnostics");
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.wait_for(&format!("the response to {method}"), |m| {
            m.get("id") == Some(&json!(id)) && m.get("method").is_none()
        });
        if let Some(e) = response.get("error") {
            self.fail(&format!("{method} failed: {e}"));
        }
        response["result"].clone()
    }

    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.stash.iter().position(&pred) {
            return self.stash.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Ok(msg)) if pred(&msg) => return msg,
                Ok(Ok(msg)) => self.stash.push(msg),
                Ok(Err(e)) => self.fail(&format!("bad output while waiting for {what}: {e}")),
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("timed out waiting for {what}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("the server stopped while waiting for {what}"))
                }
            }
        }
    }

    fn fail(&mut self, message: &str) -> ! {
        let _ = self.child.kill();
        std::thread::sleep(Duration::from_millis(100));
        let stderr = self.stderr.lock().unwrap().clone();
        panic!("{message}\n--- server stderr ---\n{stderr}");
    }

    /// The diagnostics published for a version of a document.
    pub fn diagnostics_for_version(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let msg = self.wait_for(&format!("diagnostics for {uri} version {version}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        msg["params"]["diagnostics"].as_array().unwrap().clone()
    }

    pub fn open_version(&mut self, uri: &str, text: &str, version: i64) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}}),
        );
    }

    pub fn replace_all(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    pub fn close(&mut self, uri: &str) {
        self.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
    }

    /// The quick fixes offered anywhere in a document.
    pub fn code_actions(&mut self, uri: &str, text: &str) -> Vec<Value> {
        let (line, character) = position_of(text, text.len());
        let result = self.request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": line, "character": character}},
                "context": {"diagnostics": [], "only": ["quickfix"]}
            }),
        );
        result.as_array().cloned().unwrap_or_default()
    }

    pub fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                self.fail("the server did not exit after `exit`");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn file_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_str().unwrap().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The byte offset of a UTF-16 protocol position.
pub fn offset_of(text: &str, pos: &Value) -> usize {
    let line = pos["line"].as_u64().unwrap() as usize;
    let col = pos["character"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= col || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// The UTF-16 protocol position of a byte offset.
pub fn position_of(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].encode_utf16().count();
    (line as u64, col as u64)
}

/// Applies a code action's edits of `uri` to `text`, as an editor does.
pub fn apply(text: &str, action: &Value, uri: &str) -> String {
    let edits = action["edit"]["changes"][uri].as_array().unwrap();
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset_of(text, &e["range"]["start"]),
                offset_of(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    out
}
