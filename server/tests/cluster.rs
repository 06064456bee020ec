//! The cluster inventory against a fake Kubernetes API on 127.0.0.1: discovery, list, watch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::convert::Infallible;
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

/// A resource the fake API serves.
struct Resource {
    api_version: &'static str,
    kind: &'static str,
    plural: &'static str,
}

const SERVED: &[Resource] = &[
    Resource {
        api_version: "networking.istio.io/v1",
        kind: "Gateway",
        plural: "gateways",
    },
    Resource {
        api_version: "apps/v1",
        kind: "Deployment",
        plural: "deployments",
    },
    Resource {
        api_version: "apps/v1",
        kind: "DaemonSet",
        plural: "daemonsets",
    },
    Resource {
        api_version: "v1",
        kind: "Service",
        plural: "services",
    },
    Resource {
        api_version: "flagger.app/v1beta1",
        kind: "Canary",
        plural: "canaries",
    },
    Resource {
        api_version: "flagger.app/v1beta1",
        kind: "MetricTemplate",
        plural: "metrictemplates",
    },
    Resource {
        api_version: "flagger.app/v1beta1",
        kind: "AlertProvider",
        plural: "alertproviders",
    },
];

/// A tiny API server: discovery for `SERVED` (404 for anything else), list and watch.
struct Fake {
    objects: Mutex<HashMap<&'static str, Vec<Value>>>,
    events: HashMap<&'static str, broadcast::Sender<String>>,
    /// Lists of services wait until this turns true (a slow first sync).
    gate: watch::Receiver<bool>,
    requests: Mutex<Vec<String>>,
}

impl Fake {
    fn new(gate: watch::Receiver<bool>) -> Arc<Fake> {
        Arc::new(Fake {
            objects: Mutex::new(HashMap::new()),
            events: SERVED
                .iter()
                .map(|r| (r.plural, broadcast::channel(64).0))
                .collect(),
            gate,
            requests: Mutex::new(Vec::new()),
        })
    }

    fn add(&self, plural: &'static str, object: Value) {
        self.objects
            .lock()
            .unwrap()
            .entry(plural)
            .or_default()
            .push(object);
    }

    /// Sends a watch event; waits until a watch of that resource is connected.
    async fn event(&self, plural: &'static str, kind: &str, mut object: Value) {
        let rv = self.requests.lock().unwrap().len() + 1000;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let tx = &self.events[plural];
        eventually(
            &format!("a watch of {plural}"),
            Duration::from_secs(30),
            || async { tx.receiver_count() > 0 },
        )
        .await;
        tx.send(json!({"type": kind, "object": object}).to_string() + "\n")
            .unwrap();
    }
}

fn status(code: u16, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": "NotFound", "code": code});
    (
        StatusCode::from_u16(code).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn api(State(fake): State<Arc<Fake>>, uri: Uri) -> Response {
    fake.requests.lock().unwrap().push(uri.to_string());
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    // Discovery: /api/v1, /apis/<group>/<version>.
    let gv = match segs.as_slice() {
        ["api", "v1"] => Some("v1".to_string()),
        ["apis", g, v] => Some(format!("{g}/{v}")),
        _ => None,
    };
    if let Some(gv) = gv {
        let resources: Vec<Value> = SERVED
            .iter()
            .filter(|r| r.api_version == gv)
            .map(|r| json!({"name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": true, "kind": r.kind, "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}))
            .collect();
        if resources.is_empty() {
            return status(404, "the server could not find the requested resource");
        }
        let body = json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources});
        return ([("content-type", "application/json")], body.to_string()).into_response();
    }
    // Collections: /api/v1/[namespaces/<ns>/]<plural>, /apis/<g>/<v>/[namespaces/<ns>/]<plural>.
    let (gv, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("v1".to_string(), rest),
        ["apis", g, v, rest @ ..] => (format!("{g}/{v}"), rest),
        _ => return status(404, "no such path"),
    };
    let (namespace, plural) = match rest {
        [plural] => (None, *plural),
        ["namespaces", ns, plural] => (Some(*ns), *plural),
        _ => return status(404, "no such path"),
    };
    let Some(res) = SERVED
        .iter()
        .find(|r| r.api_version == gv && r.plural == plural)
    else {
        return status(404, "no such resource");
    };
    let namespace = namespace.map(str::to_string);
    let in_scope = move |o: &Value| {
        namespace
            .as_deref()
            .is_none_or(|ns| o["metadata"]["namespace"] == ns)
    };
    if query
        .split('&')
        .any(|p| p == "watch=true" || p == "watch=1")
    {
        let mut rx = fake.events[res.plural].subscribe();
        let stream = async_stream(
            move |tx: tokio::sync::mpsc::Sender<Result<Bytes, Infallible>>| async move {
                while let Ok(line) = rx.recv().await {
                    let v: Value = serde_json::from_str(&line).unwrap();
                    if in_scope(&v["object"]) && tx.send(Ok(Bytes::from(line))).await.is_err() {
                        break;
                    }
                }
            },
        );
        return ([("content-type", "application/json")], stream).into_response();
    }
    if res.plural == "services" {
        let mut gate = fake.gate.clone();
        gate.wait_for(|open| *open).await.unwrap();
    }
    let items: Vec<Value> = fake
        .objects
        .lock()
        .unwrap()
        .get(res.plural)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|o| in_scope(o))
        .collect();
    let body = json!({"apiVersion": res.api_version, "kind": format!("{}List", res.kind), "metadata": {"resourceVersion": "100"}, "items": items});
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// A streaming body fed by a task.
fn async_stream<F, Fut>(f: F) -> Body
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

struct Cluster {
    fake: Arc<Fake>,
    open_gate: watch::Sender<bool>,
    server: Server,
    client: reqwest::Client,
    base: String,
    _dir: tempfile::TempDir,
}

async fn cluster(extra: &[&str]) -> Cluster {
    install_provider();
    let (open_gate, gate) = watch::channel(false);
    let fake = Fake::new(gate);
    fake.add(
        "gateways",
        gateway("istio-system", "public-gateway", &["*.example.com"]),
    );
    fake.add(
        "gateways",
        gateway("other", "other-gateway", &["*.example.com"]),
    );
    fake.add("deployments", deployment("shop", "checkout"));
    let app = axum::Router::new().fallback(api).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{api_addr}\nusers:\n- name: fake\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n"
        ),
    )
    .unwrap();
    let kc = kubeconfig.display().to_string();
    let mut flags = vec![
        "--listen",
        "127.0.0.1:0",
        "--insecure-http",
        "--no-config",
        "--kubeconfig",
        &kc,
    ];
    flags.extend_from_slice(extra);
    let server = Server::start(args(&flags)).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    Cluster {
        fake,
        open_gate,
        server,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        base,
        _dir: dir,
    }
}

impl Cluster {
    async fn review(&self, body: Vec<u8>) -> Value {
        let resp = self
            .client
            .post(format!("{}/validate", self.base))
            .body(body)
            .send()
            .await
            .unwrap();
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

    async fn ready(&self) {
        eventually("ready", Duration::from_secs(30), || async {
            self.get("/readyz").await.0 == 200
        })
        .await;
    }
}

fn checkout(gateways: &[&str]) -> Vec<u8> {
    review_for(
        "u",
        "CREATE",
        CANARY_GVK,
        Some(canary(
            "shop",
            "checkout",
            gateways,
            &["checkout.example.com"],
        )),
        None,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_keep_the_inventory_current() {
    let c = cluster(&["--fail-closed-references"]).await;
    // Services are still being listed: not ready, and fail-closed denies.
    eventually("only services pending", Duration::from_secs(30), || async {
        let (code, text) = c.get("/readyz").await;
        code == 503 && text == "not ready: inventory not synced: Service\n"
    })
    .await;
    let v = c.review(checkout(&["istio-system/public-gateway"])).await;
    assert!(!allowed(&v));
    assert!(
        message(&v).contains("inventory not synced (Service)"),
        "{}",
        message(&v)
    );

    c.open_gate.send_replace(true);
    c.ready().await;
    // Listed objects resolve; a Gateway that is not there is missing, not unknown.
    let v = c.review(checkout(&["istio-system/public-gateway"])).await;
    assert!(allowed(&v), "{v}");
    let v = c.review(checkout(&["istio-system/new-gateway"])).await;
    assert!(!allowed(&v));
    assert!(message(&v).contains("CL101"), "{}", message(&v));

    // A Gateway created in the cluster is seen by the next reviews, and its deletion too.
    c.fake
        .event(
            "gateways",
            "ADDED",
            gateway("istio-system", "new-gateway", &["*.example.com"]),
        )
        .await;
    eventually(
        "the new Gateway is known",
        Duration::from_secs(30),
        || async { allowed(&c.review(checkout(&["istio-system/new-gateway"])).await) },
    )
    .await;
    c.fake
        .event(
            "gateways",
            "DELETED",
            gateway("istio-system", "new-gateway", &["*.example.com"]),
        )
        .await;
    eventually(
        "the deleted Gateway is gone",
        Duration::from_secs(30),
        || async { !allowed(&c.review(checkout(&["istio-system/new-gateway"])).await) },
    )
    .await;

    // Canaries from the cluster are what Gateway deletions are checked against.
    let del = review_for(
        "g",
        "DELETE",
        GATEWAY_GVK,
        None,
        Some(gateway(
            "istio-system",
            "public-gateway",
            &["*.example.com"],
        )),
    );
    assert!(warnings(&c.review(del.clone()).await).is_empty());
    let mut cluster_canary = canary(
        "shop",
        "checkout",
        &["istio-system/public-gateway"],
        &["checkout.example.com"],
    );
    cluster_canary["metadata"]["managedFields"] =
        json!([{"manager": "kubectl", "operation": "Update"}]);
    c.fake.event("canaries", "ADDED", cluster_canary).await;
    eventually("the Canary is known", Duration::from_secs(30), || async {
        warnings(&c.review(del.clone()).await)
            == vec!["Canary shop/checkout references Gateway istio-system/public-gateway: deleting it leaves the reference dangling"]
    })
    .await;

    let (_, metrics) = c.get("/metrics").await;
    for needle in [
        r#"canarylint_webhook_inventory_objects{kind="IstioGateway",sync="synced"} 2"#,
        r#"canarylint_webhook_inventory_objects{kind="Canary",sync="synced"} 1"#,
        r#"canarylint_webhook_inventory_objects{kind="PeerAuthentication",sync="not_installed"} 0"#,
        r#"canarylint_webhook_inventory_objects{kind="GatewayApiGateway",sync="not_installed"} 0"#,
    ] {
        assert!(metrics.contains(needle), "{needle} missing from\n{metrics}");
    }
    // Istio was discovered at v1 and watched cluster-wide.
    let requests = c.fake.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("/apis/networking.istio.io/v1/gateways?")
                && r.contains("watch=true")),
        "{requests:#?}"
    );
    c.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_namespaces_bound_what_is_known() {
    let c = cluster(&["--watch-namespaces", "shop,istio-system"]).await;
    c.open_gate.send_replace(true);
    c.ready().await;
    // Outside the watched namespaces nothing can be said: CL100, allowed.
    let v = c.review(checkout(&["other/other-gateway"])).await;
    assert!(allowed(&v), "{v}");
    // Inside, a missing Gateway is missing.
    let v = c.review(checkout(&["istio-system/nope"])).await;
    assert!(!allowed(&v));
    let requests = c.fake.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("/apis/networking.istio.io/v1/namespaces/shop/gateways?")),
        "{requests:#?}"
    );
    assert!(
        !requests
            .iter()
            .any(|r| r.starts_with("/apis/networking.istio.io/v1/gateways?")),
        "{requests:#?}"
    );
    c.server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_once_fills_an_authoritative_inventory() {
    install_provider();
    let (open_gate, gate) = watch::channel(true);
    let fake = Fake::new(gate);
    fake.add(
        "gateways",
        gateway("istio-system", "public-gateway", &["*.example.com"]),
    );
    fake.add("deployments", deployment("shop", "checkout"));
    let app = axum::Router::new().fallback(api).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{api_addr}\nusers:\n- name: fake\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n"
        ),
    )
    .unwrap();
    let client = canarylint_workspace::cluster::client(Some(&kubeconfig))
        .await
        .unwrap();
    let (inv, _) = canarylint_workspace::cluster::list_once(&client, None, "default")
        .await
        .unwrap();
    use canarylint::{Kind, Lookup};
    assert!(matches!(
        inv.lookup(Kind::IstioGateway, "istio-system", "public-gateway"),
        Lookup::Found(_)
    ));
    // Listed kinds are authoritative everywhere; kinds the cluster does not serve are not.
    assert!(matches!(
        inv.lookup(Kind::IstioGateway, "istio-system", "private"),
        Lookup::Absent
    ));
    assert!(matches!(
        inv.lookup(Kind::Deployment, "elsewhere", "x"),
        Lookup::Absent
    ));
    assert!(matches!(
        inv.lookup(Kind::ScaledObject, "shop", "x"),
        Lookup::Unknown
    ));
    drop(open_gate);
}
