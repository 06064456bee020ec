//! CL4xx: metrics, webhooks and alerts.

mod alert_without_severity;
mod builtin_name_with_template;
mod deprecated_field;
mod empty_hook_command;
mod hook_timeout_exceeds_interval;
mod metric_without_threshold;
mod no_traffic_for_metrics;
mod reference_not_found;
mod threshold_defaulted;
mod threshold_range_invalid;
mod unknown_builtin_metric;

pub use alert_without_severity::AlertWithoutSeverity;
pub use builtin_name_with_template::BuiltinNameWithTemplate;
pub use deprecated_field::DeprecatedField;
pub use empty_hook_command::EmptyHookCommand;
pub use hook_timeout_exceeds_interval::HookTimeoutExceedsInterval;
pub use metric_without_threshold::MetricWithoutThreshold;
pub use no_traffic_for_metrics::NoTrafficForMetrics;
pub use reference_not_found::ReferenceNotFound;
pub use threshold_defaulted::ThresholdDefaulted;
pub use threshold_range_invalid::ThresholdRangeInvalid;
pub use unknown_builtin_metric::UnknownBuiltinMetric;

use canarylint::model::{AnalysisView, MetricView};

/// The metrics Flagger checks itself, by name (pkg/controller/scheduler_metrics.go).
pub const SUCCESS_RATE: &str = "request-success-rate";
pub const DURATION: &str = "request-duration";
pub const BUILTIN_METRICS: [&str; 2] = [SUCCESS_RATE, DURATION];

/// Whether Flagger runs its built-in check for this metric name.
pub fn is_builtin(name: &str) -> bool {
    BUILTIN_METRICS.contains(&name)
}

/// Whether the metric brings its own query: a `templateRef` or a non-empty inline `query`.
pub fn has_own_query(m: &MetricView<'_>) -> bool {
    m.template_ref().is_some() || m.query().is_some_and(|q| !q.value.trim().is_empty())
}

/// The analysis interval Flagger runs with, in seconds: 60 when unset or unparsable, at least
/// 10 (pkg/apis/flagger/v1beta1/canary.go `GetAnalysisInterval`).
pub fn effective_interval(a: &AnalysisView<'_>) -> f64 {
    match a
        .interval()
        .and_then(|i| crate::helpers::go_duration(i.value))
    {
        Some(s) if s < 10.0 => 10.0,
        Some(s) => s,
        None => 60.0,
    }
}
