use canarylint::{At, Cx, Rule, declare_rule};

use super::{DURATION, has_own_query, is_builtin};
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports a metric named `request-success-rate` or `request-duration` that also has a
    /// `templateRef` or an inline `query`.
    ///
    /// ### Why is this bad?
    /// Flagger runs its built-in check for any metric with one of those names, and then the
    /// template or query as well, against the same `thresholdRange`. So a custom latency
    /// template named `request-duration` is checked twice: once as the mesh's P99 in
    /// milliseconds, once as whatever the query returns (often seconds), and one of the two
    /// fails. The built-in half also halts when the provider's own metrics are missing.
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
    ///         templateRef:
    ///           name: latency
    ///         thresholdRange:
    ///           max: 0.5
    ///         interval: 1m
    ///     webhooks:
    ///       - name: load-test
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 5s
    ///         metadata:
    ///           cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
    /// ---
    /// apiVersion: flagger.app/v1beta1
    /// kind: MetricTemplate
    /// metadata:
    ///   name: latency
    ///   namespace: test
    /// spec:
    ///   provider:
    ///     type: prometheus
    ///     address: http://prometheus.istio-system:9090
    ///   query: |
    ///     histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{namespace="{{ namespace }}"}[{{ interval }}])) by (le))
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
    ///       - name: latency
    ///         templateRef:
    ///           name: latency
    ///         thresholdRange:
    ///           max: 0.5
    ///         interval: 1m
    ///     webhooks:
    ///       - name: load-test
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 5s
    ///         metadata:
    ///           cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
    /// ---
    /// apiVersion: flagger.app/v1beta1
    /// kind: MetricTemplate
    /// metadata:
    ///   name: latency
    ///   namespace: test
    /// spec:
    ///   provider:
    ///     type: prometheus
    ///     address: http://prometheus.istio-system:9090
    ///   query: |
    ///     histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{namespace="{{ namespace }}"}[{{ interval }}])) by (le))
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler_metrics.go: the built-in checks test `metric.name` only, and the
    /// template and inline-query checks test `templateRef` and `query` only, so a metric can
    /// run both; only the name is needed to trigger the built-in check.
    /// Decided by pkg/controller/scheduler_metrics.go (`runBuiltinMetricChecks` tests the name
    /// only).
    ///
    /// ### Severity
    /// A warning: the built-in check runs beside the template, so the canary is judged by a
    /// check that was very likely not meant.
    pub struct BuiltinNameWithTemplate;
    code: "CL408",
    slug: "builtin-name-with-template",
    severity: Warning,
    summary: "a metric with a built-in name and a templateRef or query: the built-in check runs too",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for BuiltinNameWithTemplate {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        for m in analysis.metrics() {
            let Some(name) = m.name() else { continue };
            if !is_builtin(name.value) || !has_own_query(&m) {
                continue;
            }
            let own = if m.template_ref().is_some() {
                "templateRef"
            } else {
                "query"
            };
            let unit = if name.value == DURATION {
                " (in milliseconds)"
            } else {
                " (in percent)"
            };
            cx.report(
                At::Value(name.node),
                format!(
                    "metric \"{}\" has a {own}, but its name also runs the built-in check{unit} on the same bounds",
                    name.value
                ),
            )
            .help(format!("rename the metric (for example `custom-{}`) so only the {own} is checked", name.value));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::BuiltinNameWithTemplate,
            &["
                spec:
                  analysis:
                    metrics:
                      - name: custom-request-duration
                        templateRef:
                          name: request-duration
                          namespace: flagger-system
                        thresholdRange:
                          max: 500
                        interval: 30s
                "],
            &["
                spec:
                  analysis:
                    metrics:
                      - name: request-duration # warning: CL408
                        templateRef:
                          name: latency
                          namespace: flagger-system
                        thresholdRange:
                          max: 0.5
                        interval: 30s
                      - name: request-success-rate # warning: CL408
                        query: sum(rate(http_requests_total[1m]))
                        thresholdRange:
                          min: 99
                        interval: 1m
                "],
        );
    }
}
