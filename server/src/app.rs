//! The HTTP routes: `POST /validate`, and `/healthz`, `/readyz`, `/metrics`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::admission::{self, VALIDATE_PATH};
use crate::metrics::{self as m, Metrics};
use crate::repeats::Repeats;

/// Everything the handlers share.
pub struct App {
    pub state: admission::State,
    pub metrics: Arc<Metrics>,
    /// Whether a certificate is loaded (always, once a TLS server runs; not needed without TLS).
    pub tls_ready: AtomicBool,
    /// Cleared when shutdown starts, so that probes take the pod out before it stops.
    pub serving: AtomicBool,
    /// Recent denials, to tell the API server's second call for a denied update.
    pub repeats: Repeats,
}

impl App {
    /// Why the server is not ready, if it is not.
    pub fn not_ready(&self) -> Option<String> {
        if !self.serving.load(Ordering::Acquire) {
            return Some("shutting down".into());
        }
        if !self.tls_ready.load(Ordering::Acquire) {
            return Some("no serving certificate loaded".into());
        }
        let inventory = &self.state.inventory;
        if inventory.has_cluster() {
            let pending = inventory.pending();
            if !pending.is_empty() {
                let kinds: Vec<&str> = pending.iter().map(|k| k.describe()).collect();
                return Some(format!("inventory not synced: {}", kinds.join(", ")));
            }
        }
        None
    }
}

/// The webhook listener's routes: `/validate` and the health routes.
pub fn router(app: Arc<App>, body_limit: usize, timeout: Duration) -> Router {
    let validate =
        post(validate).layer(middleware::from_fn_with_state(app.clone(), count_inflight));
    Router::new()
        .route(VALIDATE_PATH, validate)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(middleware::map_response_with_state(
            app.clone(),
            close_when_stopping,
        ))
        .with_state(app)
}

/// The `--metrics-listen` routes: health and metrics only.
pub fn health_router(app: Arc<App>, timeout: Duration) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(middleware::map_response_with_state(
            app.clone(),
            close_when_stopping,
        ))
        .with_state(app)
}

/// Once shutdown has begun, every answer asks the client to close its connection: a client
/// that retires the connection itself never sends a request on one the server is closing
/// (crate::server::SHUTDOWN_DRAIN). (HTTP/2 drops the header; it has GOAWAY for that.)
async fn close_when_stopping(State(app): State<Arc<App>>, mut response: Response) -> Response {
    if !app.serving.load(Ordering::Acquire) {
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    response
}

struct Inflight<'a>(&'a Metrics);

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        self.0.inflight.dec();
    }
}

async fn count_inflight(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    app.metrics.inflight.inc();
    let _guard = Inflight(&app.metrics);
    next.run(request).await
}

/// Bodies up to this size are reviewed on the async worker that received them: a review of an
/// ordinary Canary takes tens of microseconds, less than handing it to another thread costs.
/// Larger ones (up to `--body-limit`) go to the blocking pool, so that they never hold up the
/// other connections of a worker.
pub const INLINE_BODY_BYTES: usize = 64 * 1024;

async fn validate(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let started = Instant::now();
    let outcome: Result<_, String> = if body.len() <= INLINE_BODY_BYTES {
        std::panic::catch_unwind(AssertUnwindSafe(|| admission::review(&body, &app.state)))
            .map_err(|_| "the review panicked".to_string())
    } else {
        let shared = app.clone();
        // A reference to the same buffer: kept to recognise a repeated denial.
        let body = body.clone();
        tokio::task::spawn_blocking(move || admission::review(&body, &shared.state))
            .await
            .map_err(|e| e.to_string())
    };
    let elapsed = started.elapsed();
    app.metrics.review_seconds.observe(elapsed.as_secs_f64());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    match outcome {
        Ok(Ok(r)) => {
            app.metrics
                .review(r.operation, r.subject, r.decision.as_str());
            for (code, severity) in &r.findings {
                app.metrics.finding(code, severity.as_str());
            }
            let codes: Vec<&str> = r.findings.iter().map(|(c, _)| *c).collect();
            // Only denials are asked twice (crate::repeats); other answers are not looked at.
            let repeat = r.decision == admission::Decision::Deny && app.repeats.seen(&body, &r.uid);
            if repeat {
                app.metrics
                    .repeated_review(r.operation, r.subject, r.decision.as_str());
            }
            tracing::info!(
                uid = %r.uid,
                operation = r.operation,
                resource = %r.resource,
                decision = r.decision.as_str(),
                repeat,
                dry_run = r.dry_run,
                findings = %codes.join(","),
                latency_ms,
                "review"
            );
            axum::Json(r.review).into_response()
        }
        Ok(Err((status, message))) => {
            app.metrics.review("none", "unknown", "invalid");
            tracing::warn!(status = status.as_u16(), error = %message, latency_ms, "rejected a request that is not a valid AdmissionReview");
            (status, message).into_response()
        }
        Err(e) => {
            app.metrics.review("none", "unknown", "error");
            tracing::error!(error = %e, "the review failed (a bug in canarylint)");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    match app.not_ready() {
        None => (StatusCode::OK, "ready\n").into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let body = app.metrics.render(&app.state.inventory);
    ([(header::CONTENT_TYPE, m::CONTENT_TYPE)], body).into_response()
}
