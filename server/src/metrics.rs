//! Prometheus metrics, in the OpenMetrics text format on `/metrics`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::inventory::SharedInventory;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
// Labels counted on every review are static strings: counting allocates nothing.
pub struct ReviewLabels {
    /// CREATE, UPDATE, DELETE, CONNECT, or `none` for a request that could not be read.
    pub operation: &'static str,
    /// `canary`, `gateway` or `other`.
    pub resource: &'static str,
    /// `allow`, `warn`, `deny`, `skip` (not linted) or `invalid` (HTTP 4xx).
    pub decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    pub code: &'static str,
    pub severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InventoryLabels {
    pub kind: String,
    /// `synced`, `pending`, `listing`, `not_installed` or `static` (no cluster).
    pub sync: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// `success` or `failure`.
    pub result: String,
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    pub reviews: Family<ReviewLabels, Counter>,
    pub repeated_reviews: Family<ReviewLabels, Counter>,
    pub review_seconds: Histogram,
    pub findings: Family<FindingLabels, Counter>,
    pub inflight: Gauge,
    inventory_objects: Family<InventoryLabels, Gauge>,
    pub watch_errors: Family<KindLabels, Counter>,
    pub certificate_not_after: Gauge<f64, AtomicU64>,
    pub tls_reloads: Family<ResultLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("canarylint_webhook");
        let reviews = Family::<ReviewLabels, Counter>::default();
        registry.register(
            "reviews",
            "Admission reviews answered, by operation, resource and decision",
            reviews.clone(),
        );
        let repeated_reviews = Family::<ReviewLabels, Counter>::default();
        registry.register(
            "repeated_reviews",
            "Reviews also counted in reviews_total that repeat a denial of the last 2 s but for their uid: the API server's second call for a denied update",
            repeated_reviews.clone(),
        );
        // 0.25 ms … 4 s.
        let review_seconds = Histogram::new(exponential_buckets(0.000_25, 2.0, 15));
        registry.register(
            "review_duration_seconds",
            "Time to answer an admission review (read, lint, encode)",
            review_seconds.clone(),
        );
        let findings = Family::<FindingLabels, Counter>::default();
        registry.register(
            "findings",
            "Findings in reviewed Canaries, by rule code and severity",
            findings.clone(),
        );
        let inflight = Gauge::default();
        registry.register(
            "inflight_requests",
            "HTTP requests being answered",
            inflight.clone(),
        );
        let inventory_objects = Family::<InventoryLabels, Gauge>::default();
        registry.register(
            "inventory_objects",
            "Objects in the inventory, by kind and sync state of the kind",
            inventory_objects.clone(),
        );
        let watch_errors = Family::<KindLabels, Counter>::default();
        registry.register(
            "watch_errors",
            "Errors of the cluster watches, by kind (the watch retries with backoff)",
            watch_errors.clone(),
        );
        let certificate_not_after = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "tls_certificate_not_after_timestamp_seconds",
            "Expiry of the serving certificate (Unix time)",
            certificate_not_after.clone(),
        );
        let tls_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "tls_reloads",
            "Reloads of the serving certificate after its files changed, by result",
            tls_reloads.clone(),
        );
        Metrics {
            registry,
            reviews,
            repeated_reviews,
            review_seconds,
            findings,
            inflight,
            inventory_objects,
            watch_errors,
            certificate_not_after,
            tls_reloads,
        }
    }

    pub fn review(&self, operation: &'static str, resource: &'static str, decision: &'static str) {
        self.reviews
            .get_or_create(&ReviewLabels {
                operation,
                resource,
                decision,
            })
            .inc();
    }

    pub fn repeated_review(
        &self,
        operation: &'static str,
        resource: &'static str,
        decision: &'static str,
    ) {
        self.repeated_reviews
            .get_or_create(&ReviewLabels {
                operation,
                resource,
                decision,
            })
            .inc();
    }

    pub fn finding(&self, code: &'static str, severity: &'static str) {
        self.findings
            .get_or_create(&FindingLabels { code, severity })
            .inc();
    }

    pub fn reload(&self, ok: bool) {
        self.tls_reloads
            .get_or_create(&ResultLabels {
                result: if ok { "success" } else { "failure" }.to_string(),
            })
            .inc();
    }

    pub fn watch_error(&self, kind: &str) {
        self.watch_errors
            .get_or_create(&KindLabels {
                kind: kind.to_string(),
            })
            .inc();
    }

    /// Renders every metric, the inventory gauges read now.
    pub fn render(&self, inventory: &SharedInventory) -> String {
        self.inventory_objects.clear();
        for (kind, state, count) in inventory.counts() {
            self.inventory_objects
                .get_or_create(&InventoryLabels {
                    kind: format!("{kind:?}"),
                    sync: state.as_str().to_string(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
