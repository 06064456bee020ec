use canarylint::{At, Cx, Rule, Severity, declare_rule};

use super::{DURATION, SUCCESS_RATE};
use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports metric bounds that cannot mean what was intended: a `thresholdRange` whose `min`
    /// is above its `max`; `request-success-rate` bounds outside 0..100, or a `min` between 0
    /// and 1 (a ratio where Flagger expects a percentage); `request-duration` bounds of 0 ms or
    /// less. The deprecated `threshold` is checked the same way.
    ///
    /// ### Why is this bad?
    /// A value below `min` or above `max` fails the check, so `min > max` fails every check and
    /// every rollout is rolled back. `request-success-rate` is a percentage: `min: 0.99` accepts
    /// a canary that answers 99 % of requests with errors, and `min: 101` rejects a perfect one.
    /// `request-duration` is the P99 latency in milliseconds: `max: 0` fails every check.
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
    ///         thresholdRange:
    ///           min: 0.99
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
    /// pkg/controller/scheduler_metrics.go compares `request-success-rate` (non-5xx responses
    /// over all responses × 100, pkg/metrics/observers) with the bounds as a percentage, and
    /// `request-duration` (P99) with the bounds times one millisecond; both run whenever the
    /// metric's name matches. `min: 1` is accepted (Flagger's own e2e tests use it to pass any
    /// canary that answers at all). A `request-duration` `min` of 0 ms or less is reported as a
    /// warning: it has no effect.
    /// Decided by pkg/controller/scheduler_metrics.go (`runBuiltinMetricChecks`,
    /// `runMetricChecks`).
    ///
    /// ### Severity
    /// An error where no value can pass (min above max, a success rate bound above 100, a
    /// latency bound of 0 ms or less): every canary is rolled back. A warning where every value
    /// passes (a ratio such as `0.99`, a negative minimum): nothing fails, but the gate lets a
    /// bad canary through.
    pub struct ThresholdRangeInvalid;
    code: "CL403",
    slug: "threshold-range-invalid",
    severity: Error,
    summary: "metric bounds that cannot hold: min above max, a success rate outside 0..100 or as a ratio",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for ThresholdRangeInvalid {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        for m in analysis.metrics() {
            let Some(name) = m.name() else { continue };
            let (min, max) = (m.min(), m.max());
            if let (Some(lo), Some(hi)) = (min, max)
                && lo.value > hi.value
            {
                let hi_line = cx.file.source.line_col(hi.node.span.start).line;
                cx.report(
                    At::Value(lo.node),
                    format!(
                        "metric \"{}\": thresholdRange min {} is above max {}: every check fails",
                        name.value,
                        num(lo.value),
                        num(hi.value)
                    ),
                )
                .help("swap min and max, or lower min below max")
                .label(hi.node.span, format!("max, line {hi_line}"));
                continue;
            }
            // Without a range, the deprecated threshold is the lower bound of a success rate and
            // the upper bound of the others.
            let threshold = if m.threshold_range().is_none() {
                m.threshold()
            } else {
                None
            };
            match name.value {
                SUCCESS_RATE => {
                    let lower = min
                        .map(|f| ("thresholdRange.min", f))
                        .or(threshold.map(|f| ("threshold", f)));
                    for (field, f) in [lower, max.map(|f| ("thresholdRange.max", f))]
                        .into_iter()
                        .flatten()
                    {
                        let v = f.value;
                        if !(0.0..=100.0).contains(&v) {
                            let effect = match (field.ends_with("max"), v < 0.0) {
                                (false, false) => {
                                    "no success rate reaches it, so every check fails"
                                }
                                (false, true) | (true, false) => {
                                    "every success rate passes it, so the bound does nothing"
                                }
                                (true, true) => {
                                    "every success rate exceeds it, so every check fails"
                                }
                            };
                            // A bound that does nothing lets a bad canary through; one that
                            // nothing meets rolls every canary back.
                            let severity = if effect.contains("does nothing") {
                                Severity::Warning
                            } else {
                                Severity::Error
                            };
                            cx.report(
                                At::Value(f.node),
                                format!(
                                    "request-success-rate {field} {} is outside 0..100: {effect}",
                                    num(v)
                                ),
                            )
                            .severity(severity)
                            .help(format!("set {field} to a percentage between 0 and 100"));
                        } else if !field.ends_with("max") && v > 0.0 && v < 1.0 {
                            cx.report(
                                At::Value(f.node),
                                format!(
                                    "request-success-rate {field} {} reads as {} %, not {} %: the success rate is a percentage",
                                    num(v),
                                    num(v),
                                    num(v * 100.0)
                                ),
                            )
                            .severity(Severity::Warning)
                            .help(format!("write {field}: {} to require {} % of requests to succeed", num(v * 100.0), num(v * 100.0)));
                        }
                    }
                }
                DURATION => {
                    let upper = max
                        .map(|f| ("thresholdRange.max", f))
                        .or(threshold.map(|f| ("threshold", f)));
                    if let Some((field, f)) = upper
                        && f.value <= 0.0
                    {
                        cx.report(
                            At::Value(f.node),
                            format!("request-duration {field} {} ms: any measured latency exceeds it, so every check fails", num(f.value)),
                        )
                        .help(format!("set {field} to the highest acceptable P99 latency, in milliseconds (for example 500)"));
                    }
                    if let Some(lo) = min.filter(|f| f.value <= 0.0) {
                        cx.report(
                            At::Value(lo.node),
                            format!("request-duration thresholdRange.min {} ms has no effect: no latency is below it", num(lo.value)),
                        )
                        .help("remove thresholdRange.min, or set it to a positive number of milliseconds")
                        .severity(Severity::Warning);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    fn metric(name: &str, fields: &str) -> String {
        format!(
            "spec:\n  analysis:\n    metrics:\n      - name: {name}\n        interval: 1m\n{fields}"
        )
    }

    #[test]
    fn cases() {
        let pass = [
            metric(
                "request-success-rate",
                "        thresholdRange:\n          min: 99\n",
            ),
            // Flagger's e2e tests accept any canary that answers at all.
            metric(
                "request-success-rate",
                "        thresholdRange:\n          min: 1\n",
            ),
            metric(
                "request-duration",
                "        thresholdRange:\n          max: 500\n",
            ),
            metric("request-duration", "        threshold: 500\n"),
        ];
        let fail = [
            metric(
                "request-success-rate",
                "        thresholdRange:\n          min: 0.99 # warning: CL403\n",
            ),
            metric(
                "request-success-rate",
                "        threshold: 0.95 # warning: CL403\n",
            ),
            metric(
                "request-success-rate",
                "        thresholdRange:\n          min: 101 # error: CL403\n",
            ),
            metric(
                "request-success-rate",
                "        thresholdRange:\n          min: 99 # error: CL403\n          max: 95\n",
            ),
            metric(
                "request-duration",
                "        thresholdRange:\n          max: 0 # error: CL403\n",
            ),
            metric(
                "request-duration",
                "        thresholdRange:\n          min: 0 # warning: CL403\n          max: 500\n",
            ),
            format!(
                "{}---\napiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata:\n  name: error-rate\n  namespace: test\nspec:\n  provider:\n    type: prometheus\n    address: http://prometheus.istio-system:9090\n  query: up\n",
                metric(
                    "error-rate",
                    "        templateRef:\n          name: error-rate\n        thresholdRange:\n          min: 5 # error: CL403\n          max: 1\n",
                )
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::ThresholdRangeInvalid, &pass, &fail);
    }
}
