//! The webhook over real TLS on 127.0.0.1, with certificates made at test time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use canarylint_server::Server;
use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Running {
    server: Server,
    pki: Pki,
    client: reqwest::Client,
    base: String,
    metrics: String,
    _dir: tempfile::TempDir,
}

async fn start(extra: &[&str]) -> Running {
    install_provider();
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pki.leaf();
    let (c, k) = write_cert(dir.path(), &cert, &key);
    let (c, k, ex) = (c.display().to_string(), k.display().to_string(), examples());
    let mut flags = vec![
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--tls-cert",
        &c,
        "--tls-key",
        &k,
        "--no-cluster",
        "--no-config",
        "--context",
        &ex,
    ];
    flags.extend_from_slice(extra);
    let server = Server::start(args(&flags)).await.unwrap();
    let base = format!("https://127.0.0.1:{}", server.local_addr().port());
    let metrics = format!("http://{}", server.metrics_addr().unwrap());
    Running {
        client: pki.client(),
        server,
        pki,
        base,
        metrics,
        _dir: dir,
    }
}

async fn post(r: &Running, body: Vec<u8>) -> (u16, String) {
    let resp = r
        .client
        .post(format!("{}/validate", r.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_over_tls_deny_allow_and_echo_the_uid() {
    let r = start(&[]).await;
    let (status, text) = post(&r, sample("review-shop-checkout.json")).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(response(&v)["uid"], "3b8e2f7a-1c4d-4e5f-9a6b-7c8d9e0f1a2b");
    assert!(!allowed(&v));
    let msg = message(&v);
    assert!(msg.contains("CL101") && msg.contains("CL201"), "{msg}");
    assert_eq!(warnings(&v).len(), 1);

    let (status, text) = post(&r, sample("review-podinfo.json")).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(allowed(&v));
    assert_eq!(response(&v)["uid"], "5d2c9a10-6e7f-4a8b-9c0d-1e2f3a4b5c6d");
    r.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_400_and_big_ones_413() {
    let r = start(&["--body-limit", "4096"]).await;
    let (status, text) = post(&r, b"{\"apiVersion\": 1".to_vec()).await;
    assert_eq!(status, 400);
    assert!(text.contains("not an AdmissionReview"), "{text}");
    let (status, text) = post(
        &r,
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("no request"), "{text}");
    let (status, _) = post(&r, vec![b' '; 10_000]).await;
    assert_eq!(status, 413);
    let resp = r
        .client
        .get(format!("{}/validate", r.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    // Still serving after all that.
    let (status, _) = post(&r, sample("review-podinfo.json")).await;
    assert_eq!(status, 200);
    r.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_on_both_listeners() {
    let r = start(&[]).await;
    post(&r, sample("review-shop-checkout.json")).await;
    post(&r, b"nope".to_vec()).await;
    for base in [&r.base, &r.metrics] {
        let get = |p: &str| r.client.get(format!("{base}{p}")).send();
        assert_eq!(get("/healthz").await.unwrap().status().as_u16(), 200);
        let ready = get("/readyz").await.unwrap();
        assert_eq!(ready.status().as_u16(), 200);
        let m = get("/metrics").await.unwrap();
        assert_eq!(m.status().as_u16(), 200);
        assert!(
            m.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/openmetrics-text")
        );
        let text = m.text().await.unwrap();
        for needle in [
            r#"canarylint_webhook_reviews_total{operation="CREATE",resource="canary",decision="deny"} 1"#,
            r#"canarylint_webhook_reviews_total{operation="none",resource="unknown",decision="invalid"} 1"#,
            r#"canarylint_webhook_findings_total{code="CL101",severity="error"} 1"#,
            r#"canarylint_webhook_inventory_objects{kind="IstioGateway",sync="static"} 1"#,
            "canarylint_webhook_review_duration_seconds_count 2",
            "canarylint_webhook_inflight_requests 0",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
        let not_after = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("canarylint_webhook_tls_certificate_not_after_timestamp_seconds ")
            })
            .unwrap();
        assert!(not_after.parse::<f64>().unwrap() > 1.7e9, "{not_after}");
    }
    // /validate is only on the TLS listener.
    let resp = r
        .client
        .post(format!("{}/validate", r.metrics))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    r.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

fn peer_cert(resp: &reqwest::Response) -> Vec<u8> {
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .map(<[u8]>::to_vec)
        .unwrap()
}

fn der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

async fn reloads(r: &Running, result: &str) -> u64 {
    let text = r
        .client
        .get(format!("{}/metrics", r.metrics))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("canarylint_webhook_tls_reloads_total{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map_or(0, |n| n.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_rotation_under_a_request_loop_fails_no_request() {
    let r = Arc::new(start(&[]).await);
    let dir: &Path = r._dir.path();
    // A new connection, so a new handshake, for every request.
    let fresh = r
        .pki
        .builder()
        .pool_max_idle_per_host(0)
        .tls_info(true)
        .build()
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..2 {
        let (r, client, done, sent, failed) = (
            r.clone(),
            fresh.clone(),
            done.clone(),
            sent.clone(),
            failed.clone(),
        );
        workers.push(tokio::spawn(async move {
            let body = sample("review-podinfo.json");
            // At least 300 requests, and until the rotations are over; never more than 5000.
            loop {
                let n = sent.fetch_add(1, Ordering::AcqRel);
                if n >= 5000 || (n >= 300 && done.load(Ordering::Acquire)) {
                    break;
                }
                let ok = match client
                    .post(format!("{}/validate", r.base))
                    .body(body.clone())
                    .send()
                    .await
                {
                    Ok(resp) if resp.status().is_success() => resp
                        .text()
                        .await
                        .is_ok_and(|t| t.contains("\"allowed\":true")),
                    _ => false,
                };
                if !ok {
                    failed.fetch_add(1, Ordering::AcqRel);
                }
            }
        }));
    }
    for round in 0..3 {
        let (cert, key) = r.pki.leaf();
        write_cert(dir, &cert, &key);
        let want = der(&cert);
        eventually(
            &format!("rotation {round} served"),
            Duration::from_secs(30),
            || {
                let (fresh, base, want) = (fresh.clone(), r.base.clone(), want.clone());
                async move {
                    match fresh.get(format!("{base}/healthz")).send().await {
                        Ok(resp) => peer_cert(&resp) == want,
                        Err(_) => false,
                    }
                }
            },
        )
        .await;
    }
    assert!(reloads(&r, "success").await >= 3);
    // A broken pair is refused: the current certificate stays, and it is counted.
    let current = peer_cert(
        &fresh
            .get(format!("{}/healthz", r.base))
            .send()
            .await
            .unwrap(),
    );
    let (other_cert, _) = r.pki.leaf();
    let (_, wrong_key) = r.pki.leaf();
    write_cert(dir, &other_cert, &wrong_key);
    eventually("failed reload counted", Duration::from_secs(30), || {
        let r = r.clone();
        async move { reloads(&r, "failure").await >= 1 }
    })
    .await;
    let after = peer_cert(
        &fresh
            .get(format!("{}/healthz", r.base))
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(
        after, current,
        "the old certificate must stay after a failed reload"
    );
    done.store(true, Ordering::Release);
    for w in workers {
        w.await.unwrap();
    }
    assert!(sent.load(Ordering::Acquire) >= 300);
    assert_eq!(
        failed.load(Ordering::Acquire),
        0,
        "requests failed during rotation"
    );
    let r = Arc::try_unwrap(r).ok().unwrap();
    r.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

/// A TLS connection driven by hand, to hold a request half-sent.
async fn raw_tls(r: &Running) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(r.server.local_addr())
        .await
        .unwrap();
    let connector = tokio_rustls::TlsConnector::from(r.pki.rustls_client());
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    connector.connect(name, tcp).await.unwrap()
}

/// Reads until the server closes the connection (bounded, so a bug hangs no test run).
async fn read_all(stream: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> String {
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut buf)).await;
    // A reset or a close without close_notify also ends the connection.
    assert!(closed.is_ok(), "the server never closed the connection");
    String::from_utf8_lossy(&buf).into_owned()
}

async fn inflight(r: &Running) -> String {
    let text = r
        .client
        .get(format!("{}/metrics", r.metrics))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("canarylint_webhook_inflight_requests "))
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_the_review_in_flight() {
    let r = start(&[]).await;
    let body = sample("review-shop-checkout.json");
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = raw_tls(&r).await;
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    stream.flush().await.unwrap();
    eventually(
        "the review is in flight",
        Duration::from_secs(20),
        || async { inflight(&r).await == "1" },
    )
    .await;

    r.server.begin_shutdown(Duration::from_secs(20));
    stream.write_all(rest).await.unwrap();
    stream.flush().await.unwrap();
    let answer = read_all(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("\"uid\":\"3b8e2f7a-1c4d-4e5f-9a6b-7c8d9e0f1a2b\""),
        "{answer}"
    );
    r.server.wait().await.unwrap();
    // Nothing listens any more.
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", r_port(&r.base)))
            .await
            .is_err()
    );
}

fn r_port(base: &str) -> u16 {
    base.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_is_cut_off() {
    let r = start(&["--request-timeout", "1"]).await;
    let mut stream = raw_tls(&r).await;
    stream
        .write_all(b"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{")
        .await
        .unwrap();
    stream.flush().await.unwrap();
    let answer = read_all(&mut stream).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // Headers that never end are cut off too.
    let mut stream = raw_tls(&r).await;
    stream
        .write_all(b"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    stream.flush().await.unwrap();
    let answer = read_all(&mut stream).await;
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    r.server.shutdown(Duration::from_secs(5)).await.unwrap();
}
