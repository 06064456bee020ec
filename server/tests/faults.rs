//! The webhook when what it depends on fails: a Kubernetes API that is unreachable at start or
//! lost after the first sync, and serving certificates rotated to broken files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use canarylint_server::Server;
use common::*;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

/// Generous bound for anything that involves the watches' retry backoff (up to 30 s).
const RECOVERY: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// A fake Kubernetes API whose health the test controls.

/// `(apiVersion, kind, plural)` of what the fake serves; discovery answers 404 for the rest.
const SERVED: &[(&str, &str, &str)] = &[
    ("networking.istio.io/v1", "Gateway", "gateways"),
    ("apps/v1", "Deployment", "deployments"),
    ("apps/v1", "DaemonSet", "daemonsets"),
    ("v1", "Service", "services"),
    ("flagger.app/v1beta1", "Canary", "canaries"),
    ("flagger.app/v1beta1", "MetricTemplate", "metrictemplates"),
    ("flagger.app/v1beta1", "AlertProvider", "alertproviders"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    /// Answers discovery, lists and watches.
    Up,
    /// Every request gets a 500, and open watches are closed.
    Failing,
    /// Nothing answers: requests hang, open watches go silent (a partition).
    Hanging,
}

struct Fake {
    objects: Mutex<HashMap<&'static str, Vec<Value>>>,
    events: HashMap<&'static str, broadcast::Sender<String>>,
    health: watch::Sender<Health>,
    /// The resourceVersion of the last change.
    version: AtomicU64,
    /// Watches resuming from an older resourceVersion are told 410 Gone, as an API server
    /// whose etcd was compacted meanwhile does: the client must list again.
    compacted: AtomicU64,
}

impl Fake {
    fn new(health: Health) -> Arc<Fake> {
        Arc::new(Fake {
            objects: Mutex::new(HashMap::new()),
            events: SERVED
                .iter()
                .map(|(_, _, plural)| (*plural, broadcast::channel(64).0))
                .collect(),
            health: watch::channel(health).0,
            version: AtomicU64::new(100),
            compacted: AtomicU64::new(0),
        })
    }

    fn set(&self, health: Health) {
        self.health.send_replace(health);
    }

    fn add(&self, plural: &'static str, object: Value) {
        self.version.fetch_add(1, Ordering::AcqRel);
        self.objects
            .lock()
            .unwrap()
            .entry(plural)
            .or_default()
            .push(object);
    }

    /// Removes an object without telling the watches (they are not connected).
    fn remove(&self, plural: &'static str, namespace: &str, name: &str) {
        self.version.fetch_add(1, Ordering::AcqRel);
        if let Some(items) = self.objects.lock().unwrap().get_mut(plural) {
            items.retain(|o| {
                o["metadata"]["namespace"] != namespace || o["metadata"]["name"] != name
            });
        }
    }

    /// Forgets the history up to now: every watch has to list again.
    fn compact(&self) {
        let now = self.version.load(Ordering::Acquire);
        self.compacted.store(now + 1, Ordering::Release);
    }
}

fn status(code: u16, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "code": code});
    (
        StatusCode::from_u16(code).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
}

async fn api(State(fake): State<Arc<Fake>>, uri: Uri) -> Response {
    let health = *fake.health.borrow();
    match health {
        Health::Failing => return status(500, "etcdserver: request timed out"),
        Health::Hanging => std::future::pending::<()>().await,
        Health::Up => {}
    }
    let query = uri.query().unwrap_or("");
    let segs: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let discovery = match segs.as_slice() {
        ["api", "v1"] => Some("v1".to_string()),
        ["apis", g, v] => Some(format!("{g}/{v}")),
        _ => None,
    };
    if let Some(gv) = discovery {
        let resources: Vec<Value> = SERVED
            .iter()
            .filter(|(v, _, _)| *v == gv)
            .map(|(_, kind, plural)| json!({"name": plural, "singularName": kind.to_lowercase(), "namespaced": true, "kind": kind, "verbs": ["get", "list", "watch"]}))
            .collect();
        if resources.is_empty() {
            return status(404, "the server could not find the requested resource");
        }
        let body = json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources});
        return ([("content-type", "application/json")], body.to_string()).into_response();
    }
    let (gv, plural) = match segs.as_slice() {
        ["api", "v1", plural] => ("v1".to_string(), *plural),
        ["apis", g, v, plural] => (format!("{g}/{v}"), *plural),
        _ => return status(404, "no such path"),
    };
    let Some(&(api_version, kind, plural)) =
        SERVED.iter().find(|(v, _, p)| *v == gv && *p == plural)
    else {
        return status(404, "no such resource");
    };
    if query_param(query, "watch").is_some_and(|w| w == "true" || w == "1") {
        let from: u64 = query_param(query, "resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if from < fake.compacted.load(Ordering::Acquire) {
            let gone = json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "too old resource version", "reason": "Expired", "code": 410}});
            return (
                [("content-type", "application/json")],
                gone.to_string() + "\n",
            )
                .into_response();
        }
        let mut rx = fake.events[plural].subscribe();
        let mut health = fake.health.subscribe();
        let body = streaming(move |tx| async move {
            // The API going away ends the watch, as a closed connection would.
            let failing = async move {
                let _ = health.wait_for(|h| *h == Health::Failing).await;
            };
            let forward = async move {
                while let Ok(line) = rx.recv().await {
                    if tx.send(Ok(Bytes::from(line))).await.is_err() {
                        break;
                    }
                }
            };
            tokio::select! {
                () = failing => {}
                () = forward => {}
            }
        });
        return ([("content-type", "application/json")], body).into_response();
    }
    let items = fake
        .objects
        .lock()
        .unwrap()
        .get(plural)
        .cloned()
        .unwrap_or_default();
    let version = fake.version.load(Ordering::Acquire).to_string();
    let body = json!({"apiVersion": api_version, "kind": format!("{kind}List"), "metadata": {"resourceVersion": version}, "items": items});
    ([("content-type", "application/json")], body.to_string()).into_response()
}

fn streaming<F, Fut>(f: F) -> Body
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Bytes, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(f(tx));
    Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

fn write_kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {server}\nusers:\n- name: fake\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n"
        ),
    )
    .unwrap();
    path
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve_fake(fake: Arc<Fake>) -> String {
    let app = axum::Router::new().fallback(api).with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

struct Webhook {
    server: Server,
    client: reqwest::Client,
    base: String,
    _dir: tempfile::TempDir,
}

/// The webhook (plain HTTP: TLS is not what these tests are about) watching `api_url`.
async fn webhook(api_url: &str, extra: &[&str]) -> Webhook {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let kc = write_kubeconfig(dir.path(), api_url).display().to_string();
    let mut flags = vec![
        "--listen",
        "127.0.0.1:0",
        "--insecure-http",
        "--no-config",
        "--kubeconfig",
        &kc,
    ];
    flags.extend_from_slice(extra);
    let server = Server::start(args(&flags))
        .await
        .expect("the webhook starts whatever the state of the API");
    let base = format!("http://{}", server.local_addr());
    Webhook {
        server,
        // A bound on every request: a review that hangs fails the test instead of stalling it.
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        base,
        _dir: dir,
    }
}

impl Webhook {
    async fn review(&self, body: Vec<u8>) -> Value {
        let resp = self
            .client
            .post(format!("{}/validate", self.base))
            .body(body)
            .send()
            .await
            .expect("a review is answered");
        assert_eq!(resp.status().as_u16(), 200);
        resp.json().await.unwrap()
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// The value of a metric line (`name{labels}`), 0 when absent.
    async fn metric(&self, series: &str) -> f64 {
        let (_, text) = self.get("/metrics").await;
        let prefix = format!("{series} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map_or(0.0, |v| v.parse().unwrap())
    }
}

/// A Canary of shop/checkout through `gateway`, otherwise clean.
fn checkout(gateway: &str) -> Vec<u8> {
    let object = canary("shop", "checkout", &[gateway], &["checkout.example.com"]);
    review_for("u", "CREATE", CANARY_GVK, Some(object), None)
}

/// The same Canary with a mistake no inventory is needed to see (CL201).
fn checkout_overshooting() -> Vec<u8> {
    let mut object = canary(
        "shop",
        "checkout",
        &["istio-system/public-gateway"],
        &["checkout.example.com"],
    );
    object["spec"]["analysis"]["stepWeight"] = json!(80);
    review_for("o", "CREATE", CANARY_GVK, Some(object), None)
}

fn seeded(health: Health) -> Arc<Fake> {
    let fake = Fake::new(health);
    fake.add(
        "gateways",
        gateway("istio-system", "public-gateway", &["*.example.com"]),
    );
    fake.add("deployments", deployment("shop", "checkout"));
    fake
}

// ---------------------------------------------------------------------------------------------
// The API unreachable at start.

/// What every review must show while nothing could be listed: references are unresolved
/// (CL100, admitted), never missing (CL101), and findings that need no inventory still deny.
async fn assert_degraded_to_unresolved(w: &Webhook) {
    let before = w
        .metric(r#"canarylint_webhook_findings_total{code="CL100",severity="info"}"#)
        .await;
    let v = w.review(checkout("istio-system/no-such-gateway")).await;
    assert!(allowed(&v), "{v}");
    assert!(warnings(&v).iter().all(|x| !x.contains("CL101")), "{v}");
    let after = w
        .metric(r#"canarylint_webhook_findings_total{code="CL100",severity="info"}"#)
        .await;
    assert!(after > before, "the reference was not reported unresolved");
    let v = w.review(checkout_overshooting()).await;
    assert!(!allowed(&v));
    let msg = message(&v);
    assert!(msg.contains("CL201") && !msg.contains("CL101"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_refusing_connections_at_start_leaves_references_unresolved() {
    let w = webhook(&format!("http://127.0.0.1:{}", closed_port()), &[]).await;
    // It noticed, and retries.
    eventually("watch errors counted", RECOVERY, || async {
        w.metric(r#"canarylint_webhook_watch_errors_total{kind="IstioGateway"}"#)
            .await
            >= 1.0
    })
    .await;
    assert_degraded_to_unresolved(&w).await;
    // Alive, not ready: the API server sends it nothing until the inventory is synced.
    assert_eq!(w.get("/healthz").await.0, 200);
    let (code, text) = w.get("/readyz").await;
    assert_eq!(code, 503);
    assert!(
        text.starts_with("not ready: inventory not synced: "),
        "{text}"
    );
    w.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_refusing_connections_at_start_denies_when_fail_closed() {
    let w = webhook(
        &format!("http://127.0.0.1:{}", closed_port()),
        &["--fail-closed-references"],
    )
    .await;
    let v = w.review(checkout("istio-system/public-gateway")).await;
    assert!(!allowed(&v));
    let msg = message(&v);
    assert!(msg.contains("inventory not synced ("), "{msg}");
    assert!(msg.contains("retry shortly"), "{msg}");
    // Only Canary changes depend on references: other kinds still pass.
    let other = review_for(
        "d",
        "CREATE",
        ("apps", "v1", "Deployment"),
        Some(deployment("shop", "checkout")),
        None,
    );
    assert!(allowed(&w.review(other).await));
    w.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_failing_at_start_then_recovering() {
    let fake = seeded(Health::Failing);
    let url = serve_fake(fake.clone()).await;
    let w = webhook(&url, &[]).await;
    eventually("watch errors counted", RECOVERY, || async {
        w.metric(r#"canarylint_webhook_watch_errors_total{kind="IstioGateway"}"#)
            .await
            >= 1.0
    })
    .await;
    assert_degraded_to_unresolved(&w).await;
    assert_eq!(w.get("/readyz").await.0, 503);

    fake.set(Health::Up);
    eventually("ready once the API answers", RECOVERY, || async {
        w.get("/readyz").await.0 == 200
    })
    .await;
    // Now the inventory can vouch: a missing Gateway is missing.
    let v = w.review(checkout("istio-system/no-such-gateway")).await;
    assert!(!allowed(&v));
    assert!(message(&v).contains("CL101"), "{}", message(&v));
    assert!(allowed(
        &w.review(checkout("istio-system/public-gateway")).await
    ));
    w.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// The API lost after the first sync.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_lost_after_sync_serves_the_cached_inventory_then_relists() {
    let fake = seeded(Health::Up);
    let url = serve_fake(fake.clone()).await;
    // Fail-closed only guards the first sync: a synced cache that goes stale keeps serving.
    let w = webhook(&url, &["--fail-closed-references"]).await;
    eventually("ready", RECOVERY, || async {
        w.get("/readyz").await.0 == 200
    })
    .await;
    assert!(allowed(
        &w.review(checkout("istio-system/public-gateway")).await
    ));

    // A partition first: the watches go silent, nothing answers. Reviews never wait on the API.
    fake.set(Health::Hanging);
    for _ in 0..5 {
        assert!(allowed(
            &w.review(checkout("istio-system/public-gateway")).await
        ));
        assert!(!allowed(
            &w.review(checkout("istio-system/no-such-gateway")).await
        ));
    }
    assert_eq!(w.get("/readyz").await.0, 200);

    let errors = r#"canarylint_webhook_watch_errors_total{kind="IstioGateway"}"#;
    let before = w.metric(errors).await;
    fake.set(Health::Failing);
    eventually("the lost watch is noticed", RECOVERY, || async {
        w.metric(errors).await > before
    })
    .await;
    // Every review is answered from the last known state, with the same decisions.
    for _ in 0..20 {
        let v = w.review(checkout("istio-system/public-gateway")).await;
        assert!(allowed(&v), "{v}");
        let v = w.review(checkout("istio-system/no-such-gateway")).await;
        assert!(!allowed(&v));
        assert!(message(&v).contains("CL101"), "{}", message(&v));
    }
    // Still ready: taking every replica out would block all Canary changes (failurePolicy:
    // Fail) for an outage that the cache rides out.
    assert_eq!(w.get("/readyz").await, (200, "ready\n".to_string()));
    assert!(
        w.metric(r#"canarylint_webhook_inventory_objects{kind="IstioGateway",sync="synced"}"#)
            .await
            == 1.0
    );

    // The cluster changed meanwhile, and its history is gone: the webhook must list again.
    fake.remove("gateways", "istio-system", "public-gateway");
    fake.add(
        "gateways",
        gateway("istio-system", "new-gateway", &["*.example.com"]),
    );
    fake.compact();
    fake.set(Health::Up);
    eventually("the re-listed Gateways are served", RECOVERY, || async {
        allowed(&w.review(checkout("istio-system/new-gateway")).await)
    })
    .await;
    let v = w.review(checkout("istio-system/public-gateway")).await;
    assert!(
        !allowed(&v),
        "the Gateway deleted during the outage is still known"
    );
    assert_eq!(w.get("/readyz").await.0, 200);
    w.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Serving certificates rotated to broken files.

struct Tls {
    server: Server,
    pki: Pki,
    /// A new connection, so a new handshake, for every request.
    fresh: reqwest::Client,
    base: String,
    metrics: String,
    dir: tempfile::TempDir,
}

async fn tls_webhook() -> (Tls, String, String) {
    install_provider();
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pki.leaf();
    let (c, k) = write_cert(dir.path(), &cert, &key);
    let (c, k, ex) = (c.display().to_string(), k.display().to_string(), examples());
    let flags = [
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
    let server = Server::start(args(&flags)).await.unwrap();
    let base = format!("https://127.0.0.1:{}", server.local_addr().port());
    let metrics = format!("http://{}", server.metrics_addr().unwrap());
    let fresh = pki
        .builder()
        .pool_max_idle_per_host(0)
        .tls_info(true)
        .build()
        .unwrap();
    (
        Tls {
            server,
            pki,
            fresh,
            base,
            metrics,
            dir,
        },
        cert,
        key,
    )
}

impl Tls {
    async fn reloads(&self, result: &str) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.metrics))
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

    /// The certificate a new handshake gets, after checking that a review goes through it.
    async fn served(&self) -> Vec<u8> {
        let resp = self
            .fresh
            .post(format!("{}/validate", self.base))
            .body(sample("review-podinfo.json"))
            .send()
            .await
            .expect("the handshake succeeds");
        assert_eq!(resp.status().as_u16(), 200);
        let cert = resp
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|i| i.peer_certificate())
            .map(<[u8]>::to_vec)
            .unwrap();
        let v: Value = resp.json().await.unwrap();
        assert!(allowed(&v), "{v}");
        cert
    }

    /// Replaces one of the two files atomically (a rename), as a Secret volume update does.
    fn replace(&self, name: &str, contents: &[u8]) {
        let tmp = self.dir.path().join(format!(".{name}.tmp"));
        std::fs::write(&tmp, contents).unwrap();
        std::fs::rename(&tmp, self.dir.path().join(name)).unwrap();
    }

    /// Rewrites a file in place: truncated, then written (what a careless `cp` does).
    fn overwrite(&self, name: &str, contents: &[u8]) {
        std::fs::write(self.dir.path().join(name), contents).unwrap();
    }
}

fn der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// The first `n` bytes of a PEM text, cut in the middle of its base64.
fn half(pem: &str) -> Vec<u8> {
    pem.as_bytes()[..pem.len() / 2].to_vec()
}

/// The log lines of every server in this test binary, from the first call on (the subscriber
/// is process-wide: the reloader logs from the runtime's worker threads).
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<Arc<Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || LogWriter(sink.clone()))
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buffer
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_certificate_rotations_keep_the_current_certificate() {
    let logs = logs();
    let (t, cert_a, key_a) = tls_webhook().await;
    let a = der(&cert_a);
    assert_eq!(t.served().await, a);
    let (cert_b, key_b) = t.pki.leaf();

    // Each step changes one file into something that must not load. The pair stays what it
    // was for the other file, so only the broken file can be the reason of the failure.
    let broken: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "garbage certificate",
            "tls.crt",
            b"this is not a certificate\n".to_vec(),
        ),
        ("empty certificate", "tls.crt", Vec::new()),
        ("half-written certificate", "tls.crt", half(&cert_a)),
        (
            "a certificate PEM block of garbage",
            "tls.crt",
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
                .to_vec(),
        ),
        (
            "a private key in place of the certificate",
            "tls.crt",
            key_a.clone().into_bytes(),
        ),
        ("the certificate back, key emptied", "tls.key", Vec::new()),
        (
            "garbage key",
            "tls.key",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec(),
        ),
        ("half-written key", "tls.key", half(&key_a)),
        (
            "a key of another certificate",
            "tls.key",
            key_b.clone().into_bytes(),
        ),
    ];
    let mut failures = t.reloads("failure").await;
    for (what, file, contents) in broken {
        if what.starts_with("the certificate back") {
            // Restoring A is a (successful) reload of the same certificate.
            let ok = t.reloads("success").await;
            t.replace("tls.crt", cert_a.as_bytes());
            eventually(
                "certificate A reloaded",
                Duration::from_secs(30),
                || async { t.reloads("success").await > ok },
            )
            .await;
        }
        if what.starts_with("half-written") {
            t.overwrite(file, &contents);
        } else {
            t.replace(file, &contents);
        }
        eventually(
            &format!("{what}: the failed reload is counted"),
            Duration::from_secs(30),
            || async { t.reloads("failure").await > failures },
        )
        .await;
        failures = t.reloads("failure").await;
        assert_eq!(t.served().await, a, "{what}: the old certificate must stay");
    }

    // The key now belongs to B: completing the pair is a good rotation, and it is picked up.
    let ok = t.reloads("success").await;
    t.replace("tls.crt", cert_b.as_bytes());
    let b = der(&cert_b);
    eventually("certificate B served", Duration::from_secs(30), || async {
        t.served().await == b
    })
    .await;
    assert!(t.reloads("success").await > ok);
    assert_eq!(t.reloads("failure").await, failures);
    // Each refusal is logged at error level, with the file and the reason.
    let logged = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let cert_path = t.dir.path().join("tls.crt").display().to_string();
    let refused: Vec<&str> = logged
        .lines()
        .filter(|l| {
            l.contains("serving certificate reload failed; keeping the current certificate")
                && l.contains(&cert_path)
        })
        .collect();
    assert_eq!(refused.len() as u64, failures, "{logged}");
    assert!(refused.iter().all(|l| l.contains("\"level\":\"ERROR\"")));
    // The reason in the operator's terms, not the TLS library's ("peer sent no certificates").
    for reason in [
        "holds no PEM certificate",
        "is not a PEM certificate chain",
        "is not valid X.509",
        "KeyMismatch",
    ] {
        assert!(
            refused.iter().any(|l| l.contains(reason)),
            "{reason:?} is not logged: {refused:#?}"
        );
    }
    assert!(
        !logged.contains("peer sent no certificates"),
        "{refused:#?}"
    );
    t.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_server_leaves_its_certificate_files_alone() {
    use notify::event::{AccessKind, EventKind};
    use notify::{RecursiveMode, Watcher};
    let (t, _, _) = tls_webhook().await;
    t.served().await;
    // A rotation first: the reloader reacts to file events from then on.
    let (cert, key) = t.pki.leaf();
    write_cert(t.dir.path(), &cert, &key);
    let rotated = der(&cert);
    eventually("the rotation served", Duration::from_secs(30), || async {
        t.served().await == rotated
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        if let Ok(e) = e {
            let _ = tx.send(e);
        }
    })
    .unwrap();
    watcher
        .watch(t.dir.path(), RecursiveMode::NonRecursive)
        .unwrap();
    // Nothing changes any more, and the periodic re-read is a minute away: the files must
    // not be opened at all. (The reloader's own reads are file events too; reacting to them
    // would re-read the files five times a second, forever.)
    tokio::time::sleep(Duration::from_secs(3)).await;
    let opened: Vec<_> = rx
        .try_iter()
        .filter(|e| matches!(e.kind, EventKind::Access(AccessKind::Open(_))))
        .collect();
    assert!(opened.is_empty(), "{} opens: {opened:?}", opened.len());
    drop(watcher);
    t.server.shutdown(Duration::from_secs(5)).await.unwrap();
}
