//! The options of `canarylint serve`, as a `clap::Args` struct the CLI flattens into its command.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// The default port of the webhook listener.
pub const DEFAULT_PORT: u16 = 8443;

/// The default body limit: 3 MiB, the API server's own limit on an object.
pub const DEFAULT_BODY_LIMIT: usize = 3 * 1024 * 1024;

/// What error-level findings do to a review.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
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

/// Serve the validating admission webhook for Flagger Canaries.
///
/// Listens for AdmissionReview requests on `POST /validate` (TLS), lints every created or
/// updated Canary with the same rules as `canarylint check`, denies those with error-level
/// findings and returns warnings for the rest. Cross-resource checks (Gateways, Deployments,
/// Services, …) use an in-memory cache kept up to date by watching the cluster; reviews never
/// call the API server. `/healthz`, `/readyz` and `/metrics` are served on the same listener
/// (and on `--metrics-listen`, in plain HTTP).
#[derive(Clone, Debug, Args)]
#[command(
    after_help = "Logs are JSON lines on standard error; set RUST_LOG (for example \
                        RUST_LOG=debug) to change the level. SIGTERM or SIGINT stops accepting \
                        connections, finishes the reviews in flight and exits with status 0."
)]
pub struct ServeArgs {
    /// Address and port of the webhook listener (TLS unless --insecure-http).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,

    /// PEM file with the serving certificate (chain). Reloaded when it changes, so a Secret
    /// rotated by cert-manager takes effect without a restart.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        required_unless_present = "insecure_http"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM file with the private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve plain HTTP instead of TLS. For local trials only: the API server only calls
    /// webhooks over HTTPS.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub insecure_http: bool,

    /// Also serve /healthz, /readyz and /metrics in plain HTTP on this address (for probes
    /// and Prometheus scrapes).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// `deny`: error-level findings reject the request. `warn`: never reject; errors come
    /// back as warnings too (use it to roll the webhook out before enforcing).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Mode::Deny)]
    pub mode: Mode,

    /// Kubeconfig file of the cluster to watch (default: $KUBECONFIG, ~/.kube/config, then the
    /// in-cluster service account).
    #[arg(long, value_name = "PATH", conflicts_with = "no_cluster")]
    pub kubeconfig: Option<PathBuf>,

    /// Run without a cluster: cross-resource checks only know the --context objects, and
    /// references to anything else are reported as unresolved (CL100), never denied.
    #[arg(long)]
    pub no_cluster: bool,

    /// A file or directory of manifests to seed the inventory with (trials, demos, tests).
    /// Each kind found is taken as complete for the namespaces it appears in. May be
    /// repeated.
    #[arg(long, value_name = "PATH")]
    pub context: Vec<PathBuf>,

    /// Watch only these namespaces (comma-separated) instead of the whole cluster; references
    /// into other namespaces are then unresolved (CL100).
    #[arg(long, value_name = "NS,...", value_delimiter = ',')]
    pub watch_namespaces: Vec<String>,

    /// Deny (instead of warn about) an update or deletion of an Istio Gateway that would leave
    /// a Canary's gateway reference dangling or one of its hosts unbound.
    #[arg(long)]
    pub protect_gateways: bool,

    /// With a cluster: deny Canary changes while a watched kind has not finished its first
    /// list ("inventory not synced"), instead of letting references through as unresolved
    /// (CL100). Kinds whose CRD is not installed do not count.
    #[arg(long, conflicts_with = "no_cluster")]
    pub fail_closed_references: bool,

    /// Configuration file (rules, severities, ignores) instead of the `.canarylint.yaml`
    /// found in the working directory or one of its parents.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long)]
    pub no_config: bool,

    /// Largest request body accepted, in bytes; larger requests get 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,

    /// Seconds a client has to send a request and receive the answer (headers, body and
    /// review); slower requests are cut off with 408.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,

    /// The mesh provider Flagger runs with (its `-mesh-provider` flag), used for Canaries
    /// without `spec.provider`.
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// The namespace of objects that name none (context files, reviews without a namespace),
    /// as `kubectl apply -n NS`. Without it (or `namespace` in the configuration) they are
    /// taken to be in `default`, an assumption that never makes a namespace complete.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
}
