//! A small language client over the real `canarylint lsp`, for every test that drives it as an
//! editor does: Content-Length framing, requests and waits bounded by [`TIMEOUT`], the
//! server's own requests answered, and the conversions between protocol positions and byte
//! offsets. A server that hangs, exits or writes anything but the protocol to stdout fails
//! the test with its stderr.
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

/// A language client over a child process.
pub struct Client {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    rx: Receiver<Result<Value, String>>,
    /// Messages received but not looked at yet.
    stash: Vec<Value>,
    next_id: i64,
    stderr: Arc<Mutex<String>>,
    /// The result of `initialize`.
    pub init: Value,
    /// The documents of every publishDiagnostics received, in order (never dropped).
    published: Vec<String>,
}

pub fn write_message(stdin: &Mutex<ChildStdin>, message: &Value) {
    let body = serde_json::to_string(message).unwrap();
    let mut w = stdin.lock().unwrap();
    // A server that exited leaves a closed pipe; the wait that follows reports it.
    let _ = write!(w, "Content-Length: {}\r\n\r\n{body}", body.len());
    let _ = w.flush();
}

/// Reads one framed message; anything else on stdout is an error.
pub fn read_message(r: &mut impl BufRead) -> Result<Option<Value>, String> {
    let mut length = None;
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).map_err(|e| e.to_string())?;
        if n == 0 {
            return if length.is_none() {
                Ok(None)
            } else {
                Err("end of output inside a header".into())
            };
        }
        if line == "\r\n" {
            break;
        }
        let Some(header) = line.strip_suffix("\r\n") else {
            return Err(format!("not a protocol header line on stdout: {line:?}"));
        };
        if let Some(v) = header.strip_prefix("Content-Length: ") {
            length = Some(v.parse::<usize>().map_err(|e| e.to_string())?);
        } else if !header.starts_with("Content-Type: ") {
            return Err(format!("not a protocol header on stdout: {header:?}"));
        }
    }
    let length = length.ok_or("a message without Content-Length")?;
    let mut body = vec![0; length];
    r.read_exact(&mut body).map_err(|e| e.to_string())?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| format!("a message body that is not JSON: {e}"))
}

pub fn capabilities(utf8: bool) -> Value {
    let mut caps = json!({
        "textDocument": {
            "publishDiagnostics": { "relatedInformation": true, "versionSupport": true },
            "codeAction": { "codeActionLiteralSupport": { "codeActionKind": { "valueSet": ["quickfix"] } } },
            "synchronization": { "didSave": true }
        },
        "workspace": {
            "didChangeWatchedFiles": { "dynamicRegistration": true },
            "workspaceFolders": true,
            "applyEdit": true
        }
    });
    if utf8 {
        caps["general"] = json!({ "positionEncodings": ["utf-8", "utf-16"] });
    }
    caps
}

impl Client {
    /// Starts the server and initializes it with a workspace folder.
    pub fn start(root: &Path, utf8: bool) -> Client {
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
                        // Requests from the server (registrations) are answered at once.
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
            init: Value::Null,
            published: Vec::new(),
        };
        let root_uri = file_uri(root);
        client.init = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "capabilities": capabilities(utf8),
                "workspaceFolders": [{ "uri": root_uri, "name": "ws" }]
            }),
        );
        client.notify("initialized", json!({}));
        client
    }

    fn send(&self, message: Value) {
        write_message(&self.stdin, &message);
    }

    /// Sends a notification. Diagnostics received so far describe the state before it, so they
    /// are dropped: a later wait sees only what was published after.
    pub fn notify(&mut self, method: &str, params: Value) {
        while let Ok(msg) = self.rx.try_recv() {
            match msg {
                Ok(m) => self.received(m),
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
            panic!("{method} failed: {e}");
        }
        response["result"].clone()
    }

    /// The first message (stashed or new) that matches; fails after [`TIMEOUT`].
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.stash.iter().position(&pred) {
            return self.stash.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Ok(msg)) => {
                    self.log(&msg);
                    if pred(&msg) {
                        return msg;
                    }
                    self.stash.push(msg);
                }
                Ok(Err(e)) => self.fail(&format!("bad output while waiting for {what}: {e}")),
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("timed out waiting for {what}"))
                }
                Err(RecvTimeoutError::Disconnected) => self.fail(&format!(
                    "the server closed its output while waiting for {what}"
                )),
            }
        }
    }

    fn received(&mut self, msg: Value) {
        self.log(&msg);
        self.stash.push(msg);
    }

    fn log(&mut self, msg: &Value) {
        if msg["method"] == "textDocument/publishDiagnostics" {
            let uri = msg["params"]["uri"].as_str().unwrap_or_default();
            self.published.push(uri.to_string());
        }
    }

    /// How many times diagnostics were published for `uri` so far.
    pub fn publications(&self, uri: &str) -> usize {
        self.published.iter().filter(|u| *u == uri).count()
    }

    fn fail(&mut self, message: &str) -> ! {
        let _ = self.child.kill();
        std::thread::sleep(Duration::from_millis(100));
        let stderr = self.stderr.lock().unwrap().clone();
        panic!("{message}\n--- server stderr ---\n{stderr}");
    }

    /// The next diagnostics published for `uri` that satisfy `pred`.
    pub fn diagnostics(
        &mut self,
        uri: &str,
        what: &str,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let msg = self.wait_for(&format!("diagnostics for {uri}: {what}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && pred(m["params"]["diagnostics"].as_array().unwrap())
        });
        msg["params"]["diagnostics"].as_array().unwrap().clone()
    }

    /// Diagnostics published for a given version of a document.
    pub fn diagnostics_for_version(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let msg = self.wait_for(&format!("diagnostics for {uri} version {version}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        msg["params"]["diagnostics"].as_array().unwrap().clone()
    }

    pub fn open(&mut self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
    }

    /// Opens a YAML document at a given version (a fresh open is linted at once; a change
    /// waits for the debounce).
    pub fn open_version(&mut self, uri: &str, text: &str, version: i64) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}}),
        );
    }

    pub fn close(&mut self, uri: &str) {
        self.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
    }

    pub fn replace_all(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    pub fn code_actions(&mut self, uri: &str, range: &Value) -> Vec<Value> {
        let result = self.request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": range,
                "context": {"diagnostics": [], "only": ["quickfix"]}
            }),
        );
        result.as_array().cloned().unwrap_or_default()
    }

    /// The quick fixes offered anywhere in a document.
    pub fn code_actions_anywhere(&mut self, uri: &str, text: &str) -> Vec<Value> {
        let (line, character) = position_of(text, text.len(), false);
        self.code_actions(
            uri,
            &json!({"start": {"line": 0, "character": 0}, "end": {"line": line, "character": character}}),
        )
    }

    /// Shuts the server down and checks that it exits cleanly.
    pub fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                return;
            }
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

/// The byte offset of a protocol position in `text`.
pub fn offset_of(text: &str, pos: &Value, utf8: bool) -> usize {
    let line = pos["line"].as_u64().unwrap() as usize;
    let col = pos["character"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= col || c == '\n' {
            return start + i;
        }
        units += if utf8 { c.len_utf8() } else { c.len_utf16() };
    }
    text.len()
}

/// The protocol position of a byte offset.
pub fn position_of(text: &str, offset: usize, utf8: bool) -> (u64, u64) {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..offset];
    let col = if utf8 {
        prefix.len()
    } else {
        prefix.encode_utf16().count()
    };
    (line as u64, col as u64)
}

/// Applies a code action's edits for `uri` to `text`.
pub fn apply(text: &str, action: &Value, uri: &str) -> String {
    let edits = action["edit"]["changes"][uri].as_array().unwrap();
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset_of(text, &e["range"]["start"], false),
                offset_of(text, &e["range"]["end"], false),
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
