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
