//! Shared by the server tests: flags, certificates, clients, requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use canarylint_server::{Mode, ServeOptions};
use serde_json::{Value, json};

/// The options `canarylint serve` flags stand for. The CLI parses them with clap (its own
/// tests cover that); the server crate has no argument parser, so its tests write the flags
/// they mean and this reads the subset they use, refusing any other.
pub fn args(flags: &[&str]) -> ServeOptions {
    let mut o = ServeOptions::default();
    let mut it = flags.iter();
    while let Some(arg) = it.next() {
        // `--flag=value` as well as `--flag value`, as the deploy manifests write them.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, v)) if flag.starts_with("--") => (flag, Some(v)),
            _ => (*arg, None),
        };
        let mut value = || -> &str {
            inline
                .or_else(|| it.next().copied())
                .unwrap_or_else(|| panic!("{flag} needs a value: {flags:?}"))
        };
        match flag {
            "--listen" => o.listen = value().parse().unwrap(),
            "--tls-cert" => o.tls_cert = Some(value().into()),
            "--tls-key" => o.tls_key = Some(value().into()),
            "--insecure-http" => o.insecure_http = true,
            "--metrics-listen" => o.metrics_listen = Some(value().parse().unwrap()),
            "--mode" => {
                o.mode = match value() {
                    "deny" => Mode::Deny,
                    "warn" => Mode::Warn,
                    other => panic!("bad --mode {other}"),
                }
            }
            "--kubeconfig" => o.kubeconfig = Some(value().into()),
            "--no-cluster" => o.no_cluster = true,
            "--context" => o.context.push(value().into()),
            "--watch-namespaces" => o
                .watch_namespaces
                .extend(value().split(',').map(str::to_string)),
            "--protect-gateways" => o.protect_gateways = true,
            "--fail-closed-references" => o.fail_closed_references = true,
            "--config" => o.config = Some(value().into()),
            "--no-config" => o.no_config = true,
            "--body-limit" => o.body_limit = value().parse().unwrap(),
            "--request-timeout" => {
                o.request_timeout = Duration::from_secs(value().parse().unwrap())
            }
            "--provider" => o.provider = Some(value().to_string()),
            "--namespace" | "-n" => o.namespace = Some(value().to_string()),
            other => panic!("not a flag of canarylint serve: {other} in {flags:?}"),
        }
    }
    o
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn examples() -> String {
    repo().join("examples").display().to_string()
}

pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("examples/admission").join(name)).unwrap()
}

pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A CA and the serving certificates it signs, for `localhost` and 127.0.0.1.
pub struct Pki {
    ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    pub fn new() -> Pki {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "canarylint test CA");
        let ca = params.self_signed(&key).unwrap();
        Pki {
            ca_pem: ca.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// A new serving certificate and key, as PEM.
    pub fn leaf(&self) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// An HTTPS client that trusts only this CA.
    pub fn client(&self) -> reqwest::Client {
        self.builder().build().unwrap()
    }

    /// The builder of [`Pki::client`], for more options.
    pub fn builder(&self) -> reqwest::ClientBuilder {
        install_provider();
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap()])
            .timeout(Duration::from_secs(20))
    }

    /// A rustls client configuration that trusts only this CA, for raw connections.
    pub fn rustls_client(&self) -> std::sync::Arc<rustls::ClientConfig> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        install_provider();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).unwrap())
            .unwrap();
        std::sync::Arc::new(
            rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}

/// Writes a certificate and key the way a rotated Secret volume does: new files, then an
/// atomic rename of each.
pub fn write_cert(dir: &Path, cert: &str, key: &str) -> (PathBuf, PathBuf) {
    let c = dir.join("tls.crt");
    let k = dir.join("tls.key");
    let tc = dir.join(".tls.crt.tmp");
    let tk = dir.join(".tls.key.tmp");
    std::fs::write(&tc, cert).unwrap();
    std::fs::write(&tk, key).unwrap();
    std::fs::rename(&tk, &k).unwrap();
    std::fs::rename(&tc, &c).unwrap();
    (c, k)
}

/// A minimal valid AdmissionReview for an object.
pub fn review_for(
    uid: &str,
    operation: &str,
    gvk: (&str, &str, &str),
    object: Option<Value>,
    old: Option<Value>,
) -> Vec<u8> {
    let (group, version, kind) = gvk;
    let resource = format!("{}s", kind.to_lowercase()).replace("canarys", "canaries");
    let name = object
        .as_ref()
        .or(old.as_ref())
        .and_then(|o| o.pointer("/metadata/name").cloned())
        .unwrap_or(json!(""));
    let namespace = object
        .as_ref()
        .or(old.as_ref())
        .and_then(|o| o.pointer("/metadata/namespace").cloned())
        .unwrap_or(json!("default"));
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "name": name,
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "tester"},
            "object": object,
            "oldObject": old,
            "dryRun": false
        }
    }))
    .unwrap()
}

pub const CANARY_GVK: (&str, &str, &str) = ("flagger.app", "v1beta1", "Canary");
pub const GATEWAY_GVK: (&str, &str, &str) = ("networking.istio.io", "v1", "Gateway");

/// A Canary of namespace `ns` with the given gateways and hosts.
pub fn canary(ns: &str, name: &str, gateways: &[&str], hosts: &[&str]) -> Value {
    json!({
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "provider": "istio",
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "service": {"port": 8080, "gateways": gateways, "hosts": hosts},
            "analysis": {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10}
        }
    })
}

pub fn gateway(ns: &str, name: &str, hosts: &[&str]) -> Value {
    json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": hosts}]}
    })
}

pub fn deployment(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "example/app:1", "ports": [{"name": "http", "containerPort": 8080}]}]}
            }
        }
    })
}

/// The response of a review body.
pub fn response(review: &Value) -> &Value {
    review.get("response").expect("a response")
}

pub fn allowed(review: &Value) -> bool {
    response(review)["allowed"].as_bool().unwrap()
}

pub fn warnings(review: &Value) -> Vec<String> {
    response(review)
        .get("warnings")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|w| w.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

pub fn message(review: &Value) -> String {
    response(review)
        .pointer("/status/message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// Polls `check` until it holds, for at most `limit`; panics with `what` otherwise.
pub async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
