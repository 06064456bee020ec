use canarylint::suggest::did_you_mean;
use canarylint::{Applicability, At, Cx, Edit, Fix, Rule, declare_rule};

use super::{BUILTIN_METRICS, has_own_query, is_builtin};
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports a metric with neither `templateRef` nor `query` whose name is not one of Flagger's
    /// built-in metrics, `request-success-rate` and `request-duration`.
    ///
    /// ### Why is this bad?
    /// Flagger recognises a built-in metric by its exact name. Any other metric needs a query,
    /// from a MetricTemplate or inline; without one, every check of the metric fails with "no
    /// usable metrics template and query were configured". The failed checks add up to the
    /// threshold and the canary is rolled back, whatever its real health.
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
    ///       - name: request-succes-rate
    ///         thresholdRange:
    ///           min: 99
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
    ///       - name: request-success-rate
    ///         thresholdRange:
    ///           min: 99
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
    /// pkg/controller/scheduler_metrics.go runs the built-in checks when `metric.name` equals
    /// `request-success-rate` or `request-duration` (case-sensitive), and a template or inline
    /// query otherwise; a metric with neither fails with "Metric query failed for no usable
    /// metrics template and query were configured".
    /// Decided by pkg/controller/scheduler_metrics.go (`runBuiltinMetricChecks`,
    /// `runMetricChecks`).
    ///
    /// ### Fix safety
    /// When the name is a near miss of a built-in one, the fix renames the metric to it. Check
    /// that the `thresholdRange` suits that metric: percent for `request-success-rate`,
    /// milliseconds for `request-duration`.
    ///
    /// ### Severity
    /// An error: every check fails and the canary is rolled back.
    pub struct UnknownBuiltinMetric;
    code: "CL401",
    slug: "unknown-builtin-metric",
    severity: Error,
    summary: "a metric without templateRef or query whose name is not a built-in metric",
    since: "0.1.0",
    fix: Sometimes,
    inputs: [],
    kinds: [Canary],
}

impl Rule for UnknownBuiltinMetric {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        for m in analysis.metrics() {
            let Some(name) = m.name() else { continue };
            if is_builtin(name.value) || has_own_query(&m) {
                continue;
            }
            let near = did_you_mean(name.value, BUILTIN_METRICS);
            let help = match near {
                Some(b) => format!("rename it to the built-in metric `{b}`, or add a templateRef to a MetricTemplate"),
                None => "add a templateRef to a MetricTemplate that holds the query, or use request-success-rate or request-duration".into(),
            };
            let mut r = cx
                .report(
                    At::Value(name.node),
                    format!("metric \"{}\" is not a built-in metric and has no templateRef or query: every check fails", name.value),
                )
                .help(help);
            if let Some(b) = near {
                r = r.fix(Fix {
                    title: format!("rename the metric to {b}"),
                    edits: vec![Edit {
                        span: name.node.span,
                        replacement: b.to_string(),
                    }],
                    applicability: Applicability::Unsafe,
                });
            }
            drop(r);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::UnknownBuiltinMetric,
            &[
                "spec:\n  analysis:\n    metrics:\n      - name: request-duration\n        thresholdRange:\n          max: 500\n        interval: 1m\n",
                "
                spec:
                  analysis:
                    metrics:
                      - name: error-rate
                        templateRef:
                          name: error-rate
                          namespace: flagger-system
                        thresholdRange:
                          max: 1
                        interval: 1m
                ",
            ],
            &[
                "
                spec:
                  analysis:
                    metrics:
                      - name: request-succes-rate # error: CL401
                        thresholdRange:
                          min: 99
                        interval: 1m
                ",
                "
                spec:
                  analysis:
                    metrics:
                      - name: error-rate # error: CL401
                        thresholdRange:
                          max: 1
                        interval: 1m
                      - name: latency # error: CL401
                        query: \"\"
                        thresholdRange:
                          max: 500
                        interval: 1m
                ",
            ],
        );
    }
}
