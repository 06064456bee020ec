use canarylint::{Applicability, At, Cx, Edit, Fix, Rule, Span, declare_rule};

use super::SUCCESS_RATE;
use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Notes the metric fields Flagger keeps only for old Canaries: `threshold` (superseded by
    /// `thresholdRange`) and the inline `query` (superseded by MetricTemplates).
    ///
    /// ### Why is this bad?
    /// They still work, but they hide intent. `threshold` is a lower bound for
    /// `request-success-rate` and an upper bound for every other metric, and it is ignored as
    /// soon as a `thresholdRange` is present. An inline `query` always runs against the
    /// Prometheus given to Flagger at start-up and cannot use the template variables
    /// (`{{ namespace }}`, `{{ target }}`, `{{ interval }}`), so it is copied, hard-coded,
    /// into every Canary.
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
    ///       - name: request-success-rate
    ///         threshold: 99
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
    /// pkg/controller/scheduler_metrics.go uses `threshold` only when `thresholdRange` is absent:
    /// `request-success-rate` fails when `threshold > value`, every other metric when
    /// `value > threshold`. An inline `query` runs, unrendered, on the default metrics server
    /// (`-metrics-server`).
    /// Decided by pkg/controller/scheduler_metrics.go (`runBuiltinMetricChecks`,
    /// `runMetricChecks`).
    ///
    /// ### Fix safety
    /// The fix rewrites `threshold: N` as `thresholdRange: {min: N}` for `request-success-rate`
    /// and `thresholdRange: {max: N}` for other metrics: exactly the check Flagger already runs.
    /// An inline `query` has no automatic fix.
    ///
    /// ### Severity
    /// Info: both still work; the newer fields say more.
    pub struct DeprecatedField;
    code: "CL407",
    slug: "deprecated-field",
    severity: Info,
    summary: "metric threshold or inline query: superseded by thresholdRange and MetricTemplates",
    since: "0.1.0",
    fix: Sometimes,
    inputs: [],
    kinds: [Canary],
}

impl Rule for DeprecatedField {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        for m in analysis.metrics() {
            let name = m.name().map_or("", |n| n.value);
            if let Some(t) = m.threshold() {
                if m.threshold_range().is_some() {
                    cx.report(
                        At::Key(t.node),
                        format!("metric \"{name}\": threshold {} is ignored, thresholdRange takes precedence", num(t.value)),
                    )
                    .help("remove threshold");
                } else {
                    let bound = if name == SUCCESS_RATE { "min" } else { "max" };
                    let fix = cx.key_span(t.node).map(|key| Fix {
                        title: format!("write thresholdRange.{bound}"),
                        edits: vec![Edit {
                            span: Span::new(key.start, t.node.span.end),
                            replacement: format!(
                                "thresholdRange: {{{bound}: {}}}",
                                cx.text(t.node.span)
                            ),
                        }],
                        applicability: Applicability::Safe,
                    });
                    let mut r = cx
                        .report(
                            At::Key(t.node),
                            format!("metric \"{name}\" uses the deprecated threshold {}: Flagger reads it as thresholdRange.{bound}", num(t.value)),
                        )
                        .help(format!("write thresholdRange.{bound}: {} instead", num(t.value)));
                    if let Some(f) = fix {
                        r = r.fix(f);
                    }
                    drop(r);
                }
            }
            if let Some(q) = m.query().filter(|q| !q.value.trim().is_empty()) {
                cx.report(At::Key(q.node), format!("metric \"{name}\" has an inline query, deprecated in favour of MetricTemplates"))
                    .help("move the query into a MetricTemplate and reference it with templateRef");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::DeprecatedField,
            &["spec:\n  analysis:\n    interval: 1m\n"],
            &[
                "
                spec:
                  analysis:
                    metrics:
                      - name: request-success-rate
                        threshold: 99 # info: CL407
                        interval: 1m
                      - name: request-duration
                        threshold: 500 # info: CL407
                        interval: 1m
                ",
                "
                spec:
                  analysis:
                    metrics:
                      - name: request-success-rate
                        thresholdRange:
                          min: 99
                        threshold: 99 # info: CL407
                        interval: 1m
                      - name: error-rate
                        query: sum(rate(http_requests_total{status=~\"5..\"}[1m])) # info: CL407
                        thresholdRange:
                          max: 1
                        interval: 1m
                ",
            ],
        );
    }
}
