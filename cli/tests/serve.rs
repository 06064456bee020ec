//! `canarylint serve` through the real binary: the laptop quickstart of docs/webhook.md.
#![cfg(feature = "serve")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post(port: u16, path: &str, body: &[u8]) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

#[test]
fn serve_denies_the_broken_example_and_stops_on_sigterm() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_canarylint"))
        .current_dir(root)
        .args([
            "serve",
            "--no-cluster",
            "--insecure-http",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--context",
            "examples/",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let body = std::fs::read(format!(
        "{root}/examples/admission/review-shop-checkout.json"
    ))
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (status, text) = loop {
        if let Some(r) = post(port, "/validate", &body) {
            break r;
        }
        assert!(Instant::now() < deadline, "the webhook did not come up");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 200, "{text}");
    let v: serde_json::Value =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["response"]["allowed"], false, "{v}");
    let message = v["response"]["status"]["message"].as_str().unwrap();
    assert!(message.contains("CL101"), "{message}");
    assert!(message.contains("CL201"), "{message}");

    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the webhook did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the child to exit, at most `bound`; its exit status and how long it took.
fn exit_within(
    server: &mut Server,
    bound: Duration,
) -> Option<(std::process::ExitStatus, Duration)> {
    let t0 = Instant::now();
    while t0.elapsed() < bound {
        if let Some(status) = server.0.try_wait().unwrap() {
            return Some((status, t0.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// A blocking task still running at shutdown does not hold the exit: here a kubeconfig's
/// credential plugin (`exec`) that takes 20 s to refresh the watches' token. Dropping the
/// runtime waited for it, and the webhook exited 20 s after it logged "stopped".
#[cfg(unix)]
#[test]
fn serve_exits_promptly_while_a_credential_plugin_still_runs() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    // Fast while the client is built, then slow once `slow` exists; records its PID so that
    // the test can end it.
    let plugin = dir.path().join("plugin.sh");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\nif [ -f {d}/slow ]; then echo $$ > {d}/refreshing; exec sleep 20; fi\n\
             printf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\
             \"status\":{{\"token\":\"t\",\"expirationTimestamp\":\"2000-01-01T00:00:00Z\"}}}}'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    // No API server: every request fails to connect, after the token refresh that each one
    // needs (the token has expired), so the watches keep refreshing it.
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"https://127.0.0.1:{}\"}}\n\
             users:\n- name: u\n  user:\n    exec: {{apiVersion: client.authentication.k8s.io/v1, command: {}, interactiveMode: Never}}\n\
             contexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\n",
            free_port(),
            plugin.display()
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_canarylint"))
        .current_dir(dir.path())
        .args(["serve", "--insecure-http", "--no-config", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the webhook did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write(dir.path().join("slow"), "").unwrap();
    let refreshing = dir.path().join("refreshing");
    let plugin_pid = loop {
        if let Some(pid) = std::fs::read_to_string(&refreshing)
            .ok()
            .filter(|p| p.ends_with('\n'))
        {
            break pid.trim().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the watches did not refresh their token"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    // Normally tens of milliseconds; the plugin alone would hold the exit for 20 s.
    let exited = exit_within(&mut server, Duration::from_secs(5));
    let _ = Command::new("kill").arg(&plugin_pid).status();
    let (status, took) = exited.expect("the webhook still ran 5 s after SIGTERM");
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    assert!(took < Duration::from_secs(5), "exited after {took:?}");
}
