//! Starting, running and stopping the webhook.

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use canarylint::Budget;
use canarylint_workspace::files::load_context;
use canarylint_workspace::{ConfigSource, Options, Workspace};
use hyper_util::rt::TokioTimer;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admission::{Policy, State};
use crate::app::{self, App};
use crate::cluster::{self, WatchSettings};
use crate::inventory::SharedInventory;
use crate::metrics::Metrics;
use crate::options::ServeOptions;
use crate::tls::{CertFiles, RECHECK, Tls};
use canarylint_workspace::cluster::WATCHED;

/// How long shutdown waits for reviews in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// How long, at most, shutdown keeps serving with `Connection: close` before it closes the
/// connections left idle.
///
/// The API server calls webhooks over HTTP/1.1 and keeps the connections for the next calls.
/// Closing an idle one races with the API server sending its next review on it: that review
/// fails (`failed calling webhook …: EOF`, which `failurePolicy: Fail` turns into a rejected
/// change), because a POST that was sent is never retried. Answered with `Connection: close`,
/// the API server retires the connection itself; only connections unused for the whole drain
/// are closed by the server. Shutdown moves on as soon as no connection is left.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_millis(500);

/// How long, at most, the process waits at exit for the runtime's threads once the server has
/// stopped.
///
/// By then every review has been answered (or given up after [`SHUTDOWN_GRACE`]), and what may
/// still run on a blocking thread has nobody to report to: a credential plugin of the
/// kubeconfig refreshing a token for a watch (`exec`, often a second or more), a re-read of
/// the certificate files. Dropping the runtime waits for such work to end, however long it
/// takes: the webhook logged "stopped" and then took seconds to exit, and a Pod that does not
/// exit is killed after `terminationGracePeriodSeconds`. Async tasks are dropped at once; this
/// bounds only work that cannot be interrupted, and the process exits without it.
pub const EXIT_WAIT: Duration = Duration::from_millis(100);

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Bad flags or files (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// Could not listen, or the server failed (exit status 1).
    #[error("{0}")]
    Failed(String),
}

impl ServeError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            ServeError::Usage(_) => ExitCode::from(2),
            ServeError::Failed(_) => ExitCode::from(1),
        }
    }
}

/// Configures a listener's timeouts and serves `router` on it in a task. (A macro: the TLS and
/// plain listeners are different types.)
macro_rules! spawn_server {
    ($server:expr, $router:expr, $handle:expr, $timeout:expr, $failed:expr, $name:expr $(,)?) => {{
        let mut server = $server;
        // Slow clients: the headers, then the whole first request, must arrive in time.
        server
            .http_builder()
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout($timeout);
        let server = server.first_request_timeout($timeout).handle($handle);
        let router: Router = $router;
        let failed: Arc<watch::Sender<Option<String>>> = $failed;
        let name: &'static str = $name;
        tokio::spawn(async move {
            if let Err(e) = server.serve(router.into_make_service()).await {
                tracing::error!(listener = name, error = %e, "listener failed");
                failed.send_replace(Some(format!("{name} listener failed: {e}")));
            }
        })
    }};
}

/// A running webhook.
pub struct Server {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    handles: Vec<Handle<SocketAddr>>,
    servers: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
    failed: watch::Receiver<Option<String>>,
    app: Arc<App>,
}

impl Server {
    /// Loads everything, binds the listeners and starts serving. Returns once the listeners
    /// accept connections (readiness may still wait for the cluster inventory).
    pub async fn start(options: ServeOptions) -> Result<Server, ServeError> {
        // Ignored when a provider is already installed (a test, or an embedding program).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = options.request_timeout;
        let metrics = Arc::new(Metrics::new());

        let state = build_state(&options)?;
        let inventory = state.inventory.clone();
        let client = if options.no_cluster {
            None
        } else {
            let client = canarylint_workspace::cluster::client(options.kubeconfig.as_deref())
                .await
                .map_err(ServeError::Usage)?;
            inventory.expect_cluster(WATCHED.iter().map(|w| w.kind));
            Some(client)
        };

        let tls = match (&options.tls_cert, &options.tls_key, options.insecure_http) {
            (_, _, true) => {
                tracing::warn!(
                    listen = %options.listen,
                    "SERVING PLAIN HTTP (--insecure-http): for local trials only; the API server will not call this webhook"
                );
                None
            }
            (Some(cert), Some(key), false) => {
                let files = CertFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                };
                Some(Arc::new(
                    Tls::load(files, metrics.clone())
                        .await
                        .map_err(ServeError::Usage)?,
                ))
            }
            _ => {
                return Err(ServeError::Usage(
                    "pass --tls-cert and --tls-key (or --insecure-http for a local trial)".into(),
                ));
            }
        };

        let app = Arc::new(App {
            state,
            metrics: metrics.clone(),
            tls_ready: AtomicBool::new(true),
            serving: AtomicBool::new(true),
            repeats: Default::default(),
        });

        let (fail_tx, failed) = watch::channel(None);
        let fail_tx = Arc::new(fail_tx);
        let mut handles = Vec::new();
        let mut servers = Vec::new();

        let listener = bind(options.listen)?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServeError::Failed(e.to_string()))?;
        let router = app::router(app.clone(), options.body_limit, timeout);
        let handle = Handle::new();
        let task = match &tls {
            Some(tls) => {
                let server =
                    axum_server::from_tcp_rustls(listener, tls.config.clone()).map_err(|e| {
                        ServeError::Failed(format!("cannot listen on {}: {e}", options.listen))
                    })?;
                spawn_server!(
                    server,
                    router,
                    handle.clone(),
                    timeout,
                    fail_tx.clone(),
                    "webhook"
                )
            }
            None => {
                let server = axum_server::from_tcp(listener).map_err(|e| {
                    ServeError::Failed(format!("cannot listen on {}: {e}", options.listen))
                })?;
                spawn_server!(
                    server,
                    router,
                    handle.clone(),
                    timeout,
                    fail_tx.clone(),
                    "webhook"
                )
            }
        };
        handles.push(handle);
        servers.push(task);
        tracing::info!(listen = %addr, tls = tls.is_some(), mode = options.mode.as_str(), "webhook listening");

        let metrics_addr = match options.metrics_listen {
            None => None,
            Some(at) => {
                let listener = bind(at)?;
                let maddr = listener
                    .local_addr()
                    .map_err(|e| ServeError::Failed(e.to_string()))?;
                let server = axum_server::from_tcp(listener)
                    .map_err(|e| ServeError::Failed(format!("cannot listen on {at}: {e}")))?;
                let handle = Handle::new();
                servers.push(spawn_server!(
                    server,
                    app::health_router(app.clone(), timeout),
                    handle.clone(),
                    timeout,
                    fail_tx.clone(),
                    "metrics",
                ));
                handles.push(handle);
                tracing::info!(listen = %maddr, "health and metrics listening (plain HTTP)");
                Some(maddr)
            }
        };

        let mut background = Vec::new();
        if let Some(tls) = tls {
            background.push(tls.spawn_reloader(RECHECK));
        }
        if let Some(client) = client {
            background.extend(cluster::spawn(
                client,
                inventory,
                WatchSettings {
                    namespaces: (!options.watch_namespaces.is_empty())
                        .then(|| options.watch_namespaces.clone()),
                    default_namespace: options
                        .namespace
                        .clone()
                        .unwrap_or_else(|| "default".into()),
                },
                metrics,
            ));
        }

        Ok(Server {
            addr,
            metrics_addr,
            handles,
            servers,
            background,
            failed,
            app,
        })
    }

    /// The webhook listener's address (the port chosen when `--listen` gave port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `--metrics-listen` address, if any.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Resolves when a listener stopped on its own (an error), with the reason.
    pub async fn failed(&self) -> String {
        let mut rx = self.failed.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or_default(),
            Err(_) => "the server stopped".into(),
        }
    }

    /// Starts a graceful shutdown: readiness fails and answers say `Connection: close` for up
    /// to [`SHUTDOWN_DRAIN`] (until no connection is left); then no new connection is accepted,
    /// idle ones are closed, and requests in flight get up to `grace` to finish.
    /// [`Server::wait`] then waits for them.
    pub fn begin_shutdown(&self, grace: Duration) {
        self.app.serving.store(false, Ordering::Release);
        let handles = self.handles.clone();
        tokio::spawn(async move {
            let drained = async {
                while handles.iter().any(|h| h.connection_count() > 0) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            };
            let _ = tokio::time::timeout(SHUTDOWN_DRAIN, drained).await;
            for h in &handles {
                h.graceful_shutdown(Some(grace));
            }
        });
    }

    /// Waits for the listeners to stop (after [`Server::begin_shutdown`], or a failure), then
    /// stops the watches and the certificate reloader.
    pub async fn wait(self) -> Result<(), ServeError> {
        for s in self.servers {
            let _ = s.await;
        }
        for b in &self.background {
            b.abort();
        }
        let error = self.failed.borrow().clone();
        match error {
            Some(e) => Err(ServeError::Failed(e)),
            None => Ok(()),
        }
    }

    /// [`Server::begin_shutdown`], then [`Server::wait`].
    pub async fn shutdown(self, grace: Duration) -> Result<(), ServeError> {
        self.begin_shutdown(grace);
        self.wait().await
    }
}

fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).map_err(|e| ServeError::Failed(format!("cannot listen on {addr}: {e}")))
}

/// The review state for a set of options: configuration, linter, the `--context` inventory
/// (no cluster yet) and the policy. What [`Server::start`] serves with; tests and fuzzers call
/// [`crate::admission::review`] with it directly.
pub fn build_state(options: &ServeOptions) -> Result<State, ServeError> {
    let linter = load_workspace(options)?.linter();
    let seed = load_context(
        &options.context,
        &linter.settings.default_namespace,
        linter.settings.namespace_assumed,
    )
    .map_err(ServeError::Usage)?;
    for problem in &seed.problems {
        tracing::warn!(%problem, "context file has a problem; its readable objects are still used");
    }
    for (file, kustomization) in &seed.patches {
        tracing::info!(%file, %kustomization, "context file is a kustomize patch, not objects");
    }
    if !options.context.is_empty() {
        tracing::info!(
            files = seed.files,
            objects = seed_count(&seed.inventory),
            "inventory seeded from --context"
        );
    }
    let inventory = Arc::new(SharedInventory::new(seed.inventory, seed.namespaces));
    let mut state = State::new(
        linter,
        inventory,
        Policy {
            mode: options.mode,
            protect_gateways: options.protect_gateways,
            fail_closed_references: options.fail_closed_references,
        },
    );
    // A review never parses more than the body it came in.
    state.budget = Budget {
        max_bytes: Budget::STRICT
            .max_bytes
            .max(options.body_limit.saturating_mul(2)),
        ..Budget::STRICT
    };
    Ok(state)
}

/// The workspace of the webhook: `--config`, none with `--no-config`, else the
/// `.canarylint.yaml` found from the working directory upward; the flags over it.
fn load_workspace(options: &ServeOptions) -> Result<Workspace, ServeError> {
    let config = if options.no_config {
        ConfigSource::None
    } else if let Some(p) = &options.config {
        ConfigSource::File(p.clone())
    } else {
        std::env::current_dir().map_or(ConfigSource::None, ConfigSource::Discover)
    };
    let settings = Options {
        config,
        provider: options.provider.clone(),
        namespace: options.namespace.clone(),
        bundle: None,
    };
    match Workspace::load(&settings) {
        Ok(ws) => {
            if let Some(path) = &ws.config_file {
                tracing::info!(config = %path.display(), "configuration loaded");
            }
            Ok(ws)
        }
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            Err(ServeError::Usage(format!(
                "invalid configuration:\n{}",
                lines.join("\n")
            )))
        }
    }
}

fn seed_count(inventory: &canarylint::Inventory) -> usize {
    canarylint::Kind::ALL
        .iter()
        .map(|k| inventory.count(*k))
        .sum()
}

/// Sets up JSON logs on standard error (level from `RUST_LOG`, default `info`).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Fails only when a subscriber is already installed (by an embedding program): keep it.
    let installed = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(logs::Stderr)
        .with_env_filter(filter)
        .try_init();
    if installed.is_ok() {
        logs::start_flushing();
    }
}

/// Standard error for the logs, buffered for info and below.
///
/// Every review logs a line, thousands a second under load, and a write to standard error per
/// line costs a system call each (a tenth of the CPU time of a review). Info lines are
/// gathered and written at most [`logs::FLUSH_EVERY`] later (or when [`logs::FLUSH_BYTES`]
/// gather first); warnings and errors are written at once, after the lines gathered before
/// them, so that nothing that explains a failure waits, and lines keep their order.
mod logs {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Mutex, MutexGuard};
    use std::time::Duration;

    use tracing::{Level, Metadata};
    use tracing_subscriber::fmt::MakeWriter;

    pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
    /// A bound on what waits: past it, the line that crosses it writes everything out.
    pub const FLUSH_BYTES: usize = 1 << 20;

    /// Lines gathered; held only to append to or swap out, never while writing.
    static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    /// Held while writing, so that lines never overtake each other; the buffer last written,
    /// swapped with the pending one to keep its capacity.
    static WRITING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    /// Set when no thread flushes: every line is written as it comes.
    static DIRECT: AtomicBool = AtomicBool::new(false);

    fn lock(m: &'static Mutex<Vec<u8>>) -> MutexGuard<'static, Vec<u8>> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes what was gathered now (and before the process exits).
    pub fn flush() {
        let mut out = lock(&WRITING);
        std::mem::swap(&mut *out, &mut *lock(&PENDING));
        if !out.is_empty() {
            let _ = std::io::stderr().write_all(&out);
            out.clear();
        }
    }

    pub fn start_flushing() {
        let started = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    flush();
                }
            });
        if started.is_err() {
            DIRECT.store(true, Ordering::Relaxed);
        }
    }

    pub struct Stderr;

    pub struct Line {
        direct: bool,
    }

    impl Write for Line {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let full = {
                let mut pending = lock(&PENDING);
                pending.extend_from_slice(buf);
                pending.len() >= FLUSH_BYTES
            };
            if self.direct || full || DIRECT.load(Ordering::Relaxed) {
                flush();
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            if self.direct {
                flush();
            }
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Stderr {
        type Writer = Line;

        fn make_writer(&'a self) -> Line {
            Line { direct: true }
        }

        fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
            Line {
                direct: *meta.level() <= Level::WARN,
            }
        }
    }
}

/// Runs the webhook until SIGTERM or SIGINT: builds a multi-thread tokio runtime, serves, then
/// shuts down gracefully. Exit status 0 after a signal, 1 when serving failed, 2 on bad flags
/// or files.
pub fn run(options: ServeOptions) -> ExitCode {
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async move {
        let server = match Server::start(options).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the webhook");
                return e.exit_code();
            }
        };
        let stopped_by_signal = tokio::select! {
            signal = shutdown_signal() => {
                tracing::info!(signal, "shutting down: no new connections; finishing reviews in flight");
                true
            }
            reason = server.failed() => {
                tracing::error!(error = %reason, "shutting down after a failure");
                false
            }
        };
        match server.shutdown(SHUTDOWN_GRACE).await {
            Ok(()) if stopped_by_signal => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Ok(()) => ExitCode::from(1),
            Err(e) => {
                tracing::error!(error = %e, "stopped with an error");
                e.exit_code()
            }
        }
    });
    runtime.shutdown_timeout(EXIT_WAIT);
    logs::flush();
    code
}

/// Resolves on SIGTERM or SIGINT, with the signal's name.
async fn shutdown_signal() -> &'static str {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => "SIGINT",
        _ = term => "SIGTERM",
    }
}
