//! The options of the webhook, as plain values. The CLI reads the flags of `canarylint serve`
//! into them; an embedding program or a test fills them in directly.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The default port of the webhook listener.
pub const DEFAULT_PORT: u16 = 8443;

/// The default body limit: 3 MiB, the API server's own limit on an object.
pub const DEFAULT_BODY_LIMIT: usize = 3 * 1024 * 1024;

/// The default time a client has to send a request and receive the answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What error-level findings do to a review.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Error-level findings deny the request; warnings come back as admission warnings.
    #[default]
    Deny,
    /// Nothing is denied: error-level findings come back as warnings too. For roll-outs.
    Warn,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Deny => "deny",
            Mode::Warn => "warn",
        }
    }
}

/// Everything the webhook is started with. The field docs name the `canarylint serve` flag
/// each one comes from; the flags' own help is in the CLI.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// `--listen`: address and port of the webhook listener.
    pub listen: SocketAddr,
    /// `--tls-cert`: PEM file with the serving certificate (chain), reloaded when it changes.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`: PEM file with the private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// `--insecure-http`: plain HTTP instead of TLS, for local trials.
    pub insecure_http: bool,
    /// `--metrics-listen`: also serve the probes and metrics in plain HTTP here.
    pub metrics_listen: Option<SocketAddr>,
    /// `--mode`: what error-level findings do to a review.
    pub mode: Mode,
    /// `--kubeconfig`: the cluster to watch (default: kube's own discovery).
    pub kubeconfig: Option<PathBuf>,
    /// `--no-cluster`: no watches; only the context objects are known.
    pub no_cluster: bool,
    /// `--context`: files and directories of manifests that seed the inventory.
    pub context: Vec<PathBuf>,
    /// `--watch-namespaces`: watch only these namespaces (empty: the whole cluster).
    pub watch_namespaces: Vec<String>,
    /// `--protect-gateways`: deny, rather than warn about, Gateway changes that break a Canary.
    pub protect_gateways: bool,
    /// `--fail-closed-references`: deny Canary changes until every watched kind has synced.
    pub fail_closed_references: bool,
    /// `--config`: the configuration file instead of the discovered `.canarylint.yaml`.
    pub config: Option<PathBuf>,
    /// `--no-config`: ignore every configuration file.
    pub no_config: bool,
    /// `--body-limit`: largest request body accepted, in bytes.
    pub body_limit: usize,
    /// `--request-timeout`: time a client has to send a request and receive the answer.
    pub request_timeout: Duration,
    /// `--provider`: the mesh provider of Canaries without `spec.provider`.
    pub provider: Option<String>,
    /// `--namespace`: the namespace of objects that name none.
    pub namespace: Option<String>,
}

impl Default for ServeOptions {
    /// The defaults of `canarylint serve`; with neither a certificate nor `insecure_http`
    /// the server refuses to start, as the command does.
    fn default() -> ServeOptions {
        ServeOptions {
            listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, DEFAULT_PORT)),
            tls_cert: None,
            tls_key: None,
            insecure_http: false,
            metrics_listen: None,
            mode: Mode::Deny,
            kubeconfig: None,
            no_cluster: false,
            context: Vec::new(),
            watch_namespaces: Vec::new(),
            protect_gateways: false,
            fail_closed_references: false,
            config: None,
            no_config: false,
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            provider: None,
            namespace: None,
        }
    }
}
