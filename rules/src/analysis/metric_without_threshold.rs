use canarylint::model::num_field;
use canarylint::{At, Cx, Rule, Severity, declare_rule};

use super::{DURATION, SUCCESS_RATE, has_own_query};
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports a metric with neither `thresholdRange` nor `threshold`, and a `thresholdRange`
    /// with neither `min` nor `max`.
    ///
    /// ### Why is this bad?
    /// Without a range Flagger falls back to `threshold`, which is then 0. For
    /// `request-success-rate` the check is "success rate below 0 %", so it never fails and a
    /// broken canary is promoted (warning). For `request-duration` and every custom metric the
    /// check is "value above 0", so any measured latency or error fails it and every rollout
    /// is rolled back (error). An empty `thresholdRange` never fails, for any metric.
    ///
    /// ### Example
    /// ```yaml
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   provider: istio
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    ///     metrics:
    ///       - name: request-duration
    ///         interval: 1m
    ///     webhooks:
    ///       - name: load-test
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 5s
    ///         metadata:
    ///           cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
    /// ```
    ///
    /// ### Use instead
    /// ```yaml
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   provider: istio
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    ///     metrics:
    ///       - name: request-duration
    ///         thresholdRange:
    ///           max: 500
    ///         interval: 1m
    ///     webhooks:
    ///       - name: load-test
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 5s
    ///         metadata:
    ///           cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler_metrics.go: with a `thresholdRange`, a value below `min` or above
    /// `max` fails (an absent bound is not checked); without one, `request-success-rate` fails
    /// when `threshold > value`, `request-duration` when `value > threshold` ms, and a custom
    /// metric when `value > threshold`. `threshold` defaults to 0. A metric with no query at all
    /// is CL401's.
    /// Decided by pkg/controller/scheduler_metrics.go (`runBuiltinMetricChecks`,
    /// `runMetricChecks`).
    ///
    /// ### Severity
    /// An error when every check that returns a value fails (`request-duration` and custom
    /// metrics without a bound): every canary is rolled back. A warning for
    /// `request-success-rate`: it never fails, so the gate lets any canary through.
    pub struct MetricWithoutThreshold;
    code: "CL402",
    slug: "metric-without-threshold",
    severity: Warning,
    summary: "a metric without thresholdRange or threshold: it never fails, or always does",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for MetricWithoutThreshold {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        for m in analysis.metrics() {
            let Some(name) = m.name() else { continue };
            if let Some(range) = m.node.get("thresholdRange").filter(|r| r.is_map()) {
                if num_field(range, "min").is_none() && num_field(range, "max").is_none() {
                    cx.report(
                        At::Key(range),
                        format!("metric \"{}\" has a thresholdRange with neither min nor max: the check never fails", name.value),
                    )
                    .help("set thresholdRange.min, thresholdRange.max or both");
                }
                continue;
            }
            if m.node.get("threshold").is_some_and(|t| !t.is_null()) {
                continue;
            }
            let (message, help, severity) = match name.value {
                SUCCESS_RATE => (
                    "metric \"request-success-rate\" has no thresholdRange or threshold: it never fails, whatever the success rate".to_string(),
                    "set thresholdRange.min to the lowest acceptable success rate, in percent (for example 99)",
                    Severity::Warning,
                ),
                DURATION => (
                    "metric \"request-duration\" has no thresholdRange or threshold: any latency above 0 ms fails the check".to_string(),
                    "set thresholdRange.max to the highest acceptable P99 latency, in milliseconds (for example 500)",
                    Severity::Error,
                ),
                _ if has_own_query(&m) => (
                    format!("metric \"{}\" has no thresholdRange or threshold: any value above 0 fails the check", name.value),
                    "set thresholdRange.min or thresholdRange.max to the bounds the query's value must stay within",
                    Severity::Error,
                ),
                // No query at all: CL401.
                _ => continue,
            };
            cx.report(At::Value(name.node), message)
                .help(help)
                .severity(severity);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::MetricWithoutThreshold,
            &[
                "spec:\n  analysis:\n    metrics:\n      - name: request-duration\n        thresholdRange:\n          max: 500\n        interval: 1m\n",
                "spec:\n  analysis:\n    metrics:\n      - name: request-success-rate\n        threshold: 99\n        interval: 1m\n",
            ],
            &[
                "spec:\n  analysis:\n    metrics:\n      - name: request-success-rate # warning: CL402\n        interval: 1m\n",
                "spec:\n  analysis:\n    metrics:\n      - name: request-duration # error: CL402\n        interval: 1m\n",
                "
                spec:
                  analysis:
                    metrics:
                      - name: error-rate # error: CL402
                        templateRef:
                          name: error-rate
                        interval: 1m
                      - name: request-success-rate
                        thresholdRange: {} # warning: CL402
                        interval: 1m
                ",
            ],
        );
    }
}
