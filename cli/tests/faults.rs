//! The binary when things go wrong: inputs that cannot be read among many, and SIGTERM while
//! the webhook is under load.
// Symlinks and signals: Unix only.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> String {
    fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Unreadable inputs among many.

/// A tree of manifests with inputs that really fail to read (the tests run as root, so
/// permission bits would not do): dangling and looping symlinks named like manifests, a file
/// that is not UTF-8, and (on Linux) a file whose read fails with EIO.
struct Tree {
    dir: tempfile::TempDir,
    /// Files that can be read, as the report names them.
    readable: Vec<String>,
    /// Files with error-level findings.
    with_errors: Vec<String>,
    /// What stderr must name, in this order.
    unreadable: Vec<String>,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let m = root.join("manifests");
    fs::create_dir_all(m.join("sub")).unwrap();
    let mut readable = Vec::new();
    let mut with_errors = Vec::new();
    // Enough files that a parallel read interleaves.
    for i in 0..24 {
        let (name, text, errors) = match i % 4 {
            0 => ("clean", fixture("clean.yaml"), false),
            1 => ("step-weight", fixture("step-weight.yaml"), true),
            2 => ("deployment", fixture("deployment.yaml"), false),
            _ => ("hook-port", fixture("hook-port.yaml"), false),
        };
        let sub = if i % 3 == 0 { "sub/" } else { "" };
        // Each file its own namespace, so that no two files interfere.
        let text = text.replace("namespace: test", &format!("namespace: test-{i}"));
        let shown = format!("manifests/{sub}{i:02}-{name}.yaml");
        fs::write(root.join(&shown), text).unwrap();
        readable.push(shown.clone());
        if errors {
            with_errors.push(shown);
        }
    }
    {
        use std::os::unix::fs::symlink;
        symlink("gone.yaml", m.join("05-dangling.yaml")).unwrap();
        symlink("13-loop.yaml", m.join("13-loop.yaml")).unwrap();
        symlink(
            "../manifests/sub/nowhere.yml",
            m.join("sub/17-dangling.yml"),
        )
        .unwrap();
        #[cfg(target_os = "linux")]
        symlink("/proc/self/mem", m.join("19-eio.yaml")).unwrap();
        symlink("absent.yaml", root.join("explicit-dangling.yaml")).unwrap();
    }
    fs::write(
        m.join("09-latin1.yaml"),
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
    )
    .unwrap();
    // Not a manifest by its name: passed over, as before.
    fs::write(m.join("notes.txt"), b"\xff\xfe").unwrap();

    // Walk order: by file name, directories where they sort.
    let mut unreadable = vec![
        "manifests/05-dangling.yaml",
        "manifests/09-latin1.yaml",
        "manifests/13-loop.yaml",
    ];
    #[cfg(target_os = "linux")]
    unreadable.push("manifests/19-eio.yaml");
    unreadable.push("manifests/sub/17-dangling.yml");
    unreadable.extend(["explicit-dangling.yaml", "missing.yaml"]);
    with_errors.sort();
    Tree {
        dir,
        readable,
        with_errors,
        unreadable: unreadable.into_iter().map(String::from).collect(),
    }
}

fn check(tree: &Tree, threads: &str, format: &str) -> std::process::Output {
    Command::cargo_bin("canarylint")
        .unwrap()
        .current_dir(tree.dir.path())
        .env("NO_COLOR", "1")
        .args([
            "check",
            "--no-config",
            "--threads",
            threads,
            "--format",
            format,
        ])
        .args(["manifests", "explicit-dangling.yaml", "missing.yaml"])
        .output()
        .unwrap()
}

#[test]
fn unreadable_inputs_exit_2_and_every_other_file_is_reported() {
    let t = tree();
    let out = check(&t, "2", "json");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let named: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("canarylint: cannot read "))
        .map(|l| l.split(": ").next().unwrap())
        .collect();
    assert_eq!(named, t.unreadable, "{stderr}");
    assert!(stderr.contains("not valid UTF-8 (line 4)"), "{stderr}");

    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["files"], t.readable.len(), "{json:#}");
    let mut with_errors: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    with_errors.sort();
    with_errors.dedup();
    assert_eq!(with_errors, t.with_errors);

    // Exactly what the good files give on their own: the broken entries took nothing away.
    for broken in &t.unreadable {
        let _ = fs::remove_file(t.dir.path().join(broken));
    }
    let alone = Command::cargo_bin("canarylint")
        .unwrap()
        .current_dir(t.dir.path())
        .args(["check", "--no-config", "--format", "json", "manifests"])
        .output()
        .unwrap();
    assert_eq!(alone.status.code(), Some(1));
    let alone: Value = serde_json::from_slice(&alone.stdout).unwrap();
    assert_eq!(json["findings"], alone["findings"]);
    assert_eq!(json["summary"], alone["summary"]);
}

#[test]
fn the_report_is_the_same_bytes_whatever_the_threads() {
    let t = tree();
    for format in ["human", "json"] {
        let first = check(&t, "1", format);
        for threads in ["2", "1", "2"] {
            let again = check(&t, threads, format);
            assert_eq!(again.status.code(), Some(2));
            assert!(
                again.stdout == first.stdout,
                "{format}, --threads {threads}: stdout differs from --threads 1"
            );
            assert!(
                again.stderr == first.stderr,
                "{format}, --threads {threads}: stderr differs from --threads 1:\n{}\n---\n{}",
                String::from_utf8_lossy(&first.stderr),
                String::from_utf8_lossy(&again.stderr)
            );
        }
    }
}

#[test]
fn a_dangling_symlink_given_alone_is_an_error_not_an_empty_run() {
    let t = tree();
    let out = Command::cargo_bin("canarylint")
        .unwrap()
        .current_dir(t.dir.path())
        .args(["check", "--no-config", "manifests/05-dangling.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read manifests/05-dangling.yaml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// SIGTERM under load, on the real binary over TLS.

#[cfg(feature = "serve")]
mod sigterm {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use serde_json::Value;

    /// Concurrent keep-alive clients.
    const CLIENTS: usize = 32;
    /// Requests each client sends at most: the test is bounded even if SIGTERM did nothing.
    const PER_CLIENT: usize = 400;
    /// Answers to wait for before SIGTERM, so that the load is well under way.
    const BEFORE_SIGTERM: usize = 300;
    /// The webhook's shutdown grace (server::SHUTDOWN_GRACE), plus slack for a loaded machine.
    const GRACE: Duration = Duration::from_secs(20 + 10);

    struct Guard(Child);

    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// What happened to one request.
    #[derive(Debug)]
    enum Outcome {
        /// A whole HTTP response: status, whether the server closes afterwards, body.
        Answer(u16, bool, Vec<u8>),
        /// The connection was refused, reset, or closed cleanly (TLS close_notify) before the
        /// first byte of an answer.
        Unanswered(String),
        /// Part of an answer then the end, or a connection dropped without close_notify:
        /// never acceptable.
        Truncated(String),
    }

    type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

    fn connect(port: u16, config: &Arc<rustls::ClientConfig>) -> Result<Tls, String> {
        let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        // Hang guards only.
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        tcp.set_write_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let conn =
            rustls::ClientConnection::new(config.clone(), name).map_err(|e| e.to_string())?;
        Ok(rustls::StreamOwned::new(conn, tcp))
    }

    /// Sends one request on `stream` and reads its answer.
    fn exchange(stream: &mut Tls, body: &[u8]) -> Outcome {
        let head = format!(
            "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        if let Err(e) = stream.write_all(&request).and_then(|()| stream.flush()) {
            return Outcome::Unanswered(format!("write: {e}"));
        }
        let mut got = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let ended = |got: &[u8], why: String| {
            if got.is_empty() {
                Outcome::Unanswered(why)
            } else {
                Outcome::Truncated(format!("{why} after {:?}", String::from_utf8_lossy(got)))
            }
        };
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let status: u16 = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let length: Option<usize> = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok());
                let close = head.lines().any(|l| l.trim() == "connection: close");
                if let Some(length) = length {
                    if got.len() >= end + 4 + length {
                        let body = got[end + 4..end + 4 + length].to_vec();
                        return Outcome::Answer(status, close, body);
                    }
                } else {
                    return Outcome::Truncated(format!("no content-length: {head}"));
                }
            }
            match stream.read(&mut buf) {
                Ok(0) => return ended(&got, "closed".into()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return Outcome::Truncated(format!(
                        "no answer within the hang guard ({} bytes)",
                        got.len()
                    ));
                }
                // A TLS connection closed without close_notify was dropped, not closed: what
                // an aborted connection looks like.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Outcome::Truncated(format!(
                        "dropped without close_notify after {} bytes: {e}",
                        got.len()
                    ));
                }
                Err(e) => return ended(&got, format!("read: {e}")),
            }
        }
    }

    #[derive(Default)]
    struct Tally {
        answered: AtomicUsize,
        answered_after_sigterm: AtomicUsize,
        /// Requests that ended without an answer after SIGTERM: uid, why.
        unanswered: Mutex<Vec<(String, String)>>,
        failures: Mutex<Vec<String>>,
    }

    impl Tally {
        fn fail(&self, what: String) {
            self.failures.lock().unwrap().push(what);
        }
    }

    /// A client: one keep-alive connection at a time, a new one when the server closes it,
    /// until the server refuses connections (or the bound is reached).
    fn client(
        id: usize,
        port: u16,
        config: Arc<rustls::ClientConfig>,
        template: Arc<Value>,
        sigterm: Arc<AtomicBool>,
        tally: Arc<Tally>,
    ) {
        let mut stream: Option<Tls> = None;
        for n in 0..PER_CLIENT {
            let uid = format!("client-{id}-request-{n}");
            let mut review = (*template).clone();
            review["request"]["uid"] = Value::String(uid.clone());
            let body = serde_json::to_vec(&review).unwrap();
            // Whether SIGTERM had been sent before this request went out.
            let late = sigterm.load(Ordering::Acquire);
            let s = match stream.as_mut() {
                Some(s) => s,
                None => match connect(port, &config) {
                    Ok(s) => stream.insert(s),
                    Err(e) if late => {
                        // Shutdown began: a refused connection is a clean answer.
                        tally.unanswered.lock().unwrap().push((uid, e));
                        return;
                    }
                    Err(e) => return tally.fail(format!("{uid}: connect before SIGTERM: {e}")),
                },
            };
            match exchange(s, &body) {
                Outcome::Answer(status, close, answer) => {
                    tally.answered.fetch_add(1, Ordering::AcqRel);
                    if sigterm.load(Ordering::Acquire) {
                        tally.answered_after_sigterm.fetch_add(1, Ordering::AcqRel);
                    }
                    if status != 200 {
                        return tally.fail(format!(
                            "{uid}: status {status}: {}",
                            String::from_utf8_lossy(&answer)
                        ));
                    }
                    let v: Value = match serde_json::from_slice(&answer) {
                        Ok(v) => v,
                        Err(e) => {
                            return tally.fail(format!(
                                "{uid}: not JSON ({e}): {}",
                                String::from_utf8_lossy(&answer)
                            ));
                        }
                    };
                    let valid = v["apiVersion"] == "admission.k8s.io/v1"
                        && v["kind"] == "AdmissionReview"
                        && v["response"]["uid"] == uid.as_str()
                        && v["response"]["allowed"] == true;
                    if !valid {
                        return tally.fail(format!("{uid}: not the expected AdmissionReview: {v}"));
                    }
                    if close {
                        stream = None;
                    }
                }
                Outcome::Unanswered(why) => {
                    // Between requests a keep-alive connection may be closed by the server;
                    // that only happens once shutdown has begun.
                    if !sigterm.load(Ordering::Acquire) {
                        return tally
                            .fail(format!("{uid}: connection ended before SIGTERM: {why}"));
                    }
                    tally.unanswered.lock().unwrap().push((uid, why));
                    stream = None;
                }
                Outcome::Truncated(why) => return tally.fail(format!("{uid}: truncated: {why}")),
            }
        }
    }

    #[test]
    fn sigterm_under_load_answers_every_request_and_exits_0() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let _ = rustls::crypto::ring::default_provider().install_default();

        // A CA and a serving certificate for 127.0.0.1.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (cert_path, key_path) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
        std::fs::write(&cert_path, leaf.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca.pem().as_bytes()).unwrap())
            .unwrap();
        let config = Arc::new(
            rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        );

        let port = free_port();
        let log_path = dir.path().join("stderr.log");
        let child = Command::new(env!("CARGO_BIN_EXE_canarylint"))
            .current_dir(root)
            .args([
                "serve",
                "--no-cluster",
                "--no-config",
                "--context",
                "examples/",
            ])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--tls-cert")
            .arg(&cert_path)
            .arg("--tls-key")
            .arg(&key_path)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let mut server = Guard(child);

        let deadline = Instant::now() + Duration::from_secs(60);
        while connect(port, &config)
            .and_then(|mut s| {
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .map_err(|e| e.to_string())
            })
            .is_err()
        {
            assert!(Instant::now() < deadline, "the webhook did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }

        let mut template: Value = serde_json::from_slice(
            &std::fs::read(format!("{root}/examples/admission/review-podinfo.json")).unwrap(),
        )
        .unwrap();
        // A marker in the object, to check that object contents never reach the log.
        template["request"]["object"]["metadata"]["annotations"] =
            serde_json::json!({"example.com/token": "s3cr3t-marker-7f1c"});
        let template = Arc::new(template);
        let sigterm = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Tally::default());
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let (config, template, sigterm, tally) = (
                    config.clone(),
                    template.clone(),
                    sigterm.clone(),
                    tally.clone(),
                );
                std::thread::spawn(move || client(id, port, config, template, sigterm, tally))
            })
            .collect();

        let deadline = Instant::now() + Duration::from_secs(120);
        while tally.answered.load(Ordering::Acquire) < BEFORE_SIGTERM {
            assert!(
                tally.failures.lock().unwrap().is_empty(),
                "{:#?}",
                tally.failures.lock().unwrap()
            );
            assert!(Instant::now() < deadline, "the load never got going");
            std::thread::sleep(Duration::from_millis(10));
        }
        sigterm.store(true, Ordering::Release);
        let pid = server.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let stopped = Instant::now() + GRACE;
        let status = loop {
            if let Some(status) = server.0.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < stopped,
                "the webhook did not stop within the grace period"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        for c in clients {
            c.join().unwrap();
        }
        let log = std::fs::read_to_string(&log_path).unwrap();
        assert_eq!(status.code(), Some(0), "{log}");
        let unanswered = tally.unanswered.lock().unwrap();
        let mut reasons: Vec<&str> = unanswered.iter().map(|(_, why)| why.as_str()).collect();
        reasons.sort();
        reasons.dedup();
        eprintln!(
            "answered {} ({} after SIGTERM), unanswered after SIGTERM {}: {reasons:?}",
            tally.answered.load(Ordering::Acquire),
            tally.answered_after_sigterm.load(Ordering::Acquire),
            unanswered.len(),
        );
        let failures = tally.failures.lock().unwrap();
        assert!(
            failures.is_empty(),
            "{} failed requests: {failures:#?}",
            failures.len()
        );
        // Clients were still sending when the signal came, and were told no cleanly.
        assert!(!unanswered.is_empty());
        assert!(log.contains("\"signal\":\"SIGTERM\""), "{log}");
        assert!(log.contains("\"message\":\"stopped\""), "{log}");
        assert!(!log.contains("\"level\":\"ERROR\""), "{log}");
        assert!(
            !log.contains("s3cr3t-marker-7f1c"),
            "object contents reached the log"
        );
        assert!(log.contains("\"uid\":\"client-0-request-0\""), "{log}");
        // A request that ended unanswered was never reviewed: the server did not decide it and
        // then drop the answer.
        for (uid, why) in unanswered.iter() {
            assert!(
                !log.contains(&format!("\"uid\":\"{uid}\"")),
                "{uid} was reviewed, but its answer never arrived ({why})"
            );
        }
        drop(dir);
    }
}
