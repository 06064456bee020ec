//! What the TLS listener offers and refuses (docs/security.md): TLS 1.2 and 1.3 only, AEAD
//! suites only, no plaintext.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use canarylint_server::Server;
use common::*;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Running {
    server: Server,
    pki: Pki,
    _dir: tempfile::TempDir,
}

async fn start() -> Running {
    install_provider();
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pki.leaf();
    let (c, k) = write_cert(dir.path(), &cert, &key);
    let (c, k) = (c.display().to_string(), k.display().to_string());
    let flags = [
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        &c,
        "--tls-key",
        &k,
        "--no-cluster",
        "--no-config",
    ];
    let server = Server::start(args(&flags)).await.unwrap();
    Running {
        server,
        pki,
        _dir: dir,
    }
}

/// A client limited to one protocol version, trusting the test CA.
fn client(pki: &Pki, version: &'static rustls::SupportedProtocolVersion) -> rustls::ClientConfig {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca_pem().as_bytes()).unwrap())
        .unwrap();
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Reads what the server sends until it closes, bounded so that a bug hangs no test run.
async fn read_some(tcp: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server neither answered nor closed");
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_1_2_and_1_3_negotiate_aead_suites() {
    let r = start().await;
    for (version, want) in [
        (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
        (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
    ] {
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client(&r.pki, version)));
        let tcp = TcpStream::connect(r.server.local_addr()).await.unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let (_, conn) = tls.get_ref();
        assert_eq!(conn.protocol_version(), Some(want));
        let suite = format!("{:?}", conn.negotiated_cipher_suite().unwrap().suite());
        assert!(
            suite.contains("GCM") || suite.contains("CHACHA20_POLY1305"),
            "{suite}"
        );
        if want == rustls::ProtocolVersion::TLSv1_2 {
            // Forward secrecy, and the suite matches the ECDSA serving key.
            assert!(suite.starts_with("TLS_ECDHE_ECDSA_WITH_"), "{suite}");
        }
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(20), tls.read_to_end(&mut answer)).await;
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    }
    r.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

/// A ClientHello for `version` (0x0301 TLS 1.0, 0x0302 TLS 1.1) with CBC suites only, as an
/// old client or a downgrading attacker sends it.
fn old_client_hello(version: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // no session id
    let suites: &[u16] = &[0xc013, 0xc014, 0x002f, 0x0035]; // ECDHE-RSA/RSA with AES-CBC-SHA
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // null compression only
    let mut handshake = vec![1u8]; // client_hello
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_1_0_and_1_1_are_refused() {
    let r = start().await;
    for version in [0x0301u16, 0x0302] {
        let mut tcp = TcpStream::connect(r.server.local_addr()).await.unwrap();
        tcp.write_all(&old_client_hello(version)).await.unwrap();
        let answer = read_some(&mut tcp).await;
        // An alert record, or nothing: never a ServerHello (a handshake record, 0x16).
        assert!(
            answer.is_empty() || answer[0] == 0x15,
            "version {version:#06x}: {answer:02x?}"
        );
        if answer.len() >= 7 {
            // protocol_version (70) or handshake_failure (40).
            assert!(matches!(answer[6], 70 | 40), "{answer:02x?}");
        }
    }
    // Still serving modern clients.
    let connector = tokio_rustls::TlsConnector::from(r.pki.rustls_client());
    let tcp = TcpStream::connect(r.server.local_addr()).await.unwrap();
    connector
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    r.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_http_on_the_tls_port_gets_no_answer() {
    let r = start().await;
    let mut tcp = TcpStream::connect(r.server.local_addr()).await.unwrap();
    let body = sample("review-podinfo.json");
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let _ = tcp.write_all(&body).await;
    let answer = read_some(&mut tcp).await;
    assert!(!answer.starts_with(b"HTTP/"), "{answer:02x?}");
    r.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

/// A review whose Canary carries `depth` nested arrays in its spec.
fn deeply_nested(depth: usize) -> Vec<u8> {
    let mut object = canary("shop", "deep", &[], &[]);
    object["spec"]["analysis"]["webhooks"] = serde_json::json!("HOLE");
    let template =
        String::from_utf8(review_for("deep", "CREATE", CANARY_GVK, Some(object), None)).unwrap();
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    template.replace("\"HOLE\"", &nested).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_nesting_is_answered_and_never_crashes_the_server() {
    let r = start().await;
    let client = r.pki.client();
    let base = format!("https://127.0.0.1:{}", r.server.local_addr().port());
    // Around the limits (serde_json 128, the strict budget 64) and far past them.
    for depth in [50, 70, 127, 129, 1_000, 100_000, 1_000_000] {
        let resp = client
            .post(format!("{base}/validate"))
            .body(deeply_nested(depth))
            .send()
            .await
            .unwrap_or_else(|e| panic!("depth {depth}: no answer: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert!(
            matches!(status, 200 | 400 | 413),
            "depth {depth}: {status} {text}"
        );
        if status == 200 {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(response(&v)["uid"], "deep", "{text}");
        }
    }
    // Still serving.
    let resp = client
        .post(format!("{base}/validate"))
        .body(sample("review-podinfo.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    r.server.shutdown(Duration::from_secs(5)).await.unwrap();
}
