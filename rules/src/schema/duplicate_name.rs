use canarylint::model::CanaryView;
use canarylint::model::{Field, str_field};
use canarylint::{At, Cx, Node, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports two metrics, two webhooks or two alerts of one Canary with the same `name`.
    ///
    /// ### Why is this bad?
    /// Flagger names a check only by its `name` in its events, logs and alert messages ("Halt
    /// advancement no values found for … metric request-success-rate", "… pre-rollout check
    /// load-test failed"). With two entries of one name nobody can tell which one failed, and the
    /// duplicate is usually a copied block whose name (and often more) was meant to change.
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
    ///     webhooks:
    ///       - name: smoke-test
    ///         type: pre-rollout
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 30s
    ///         metadata:
    ///           type: bash
    ///           cmd: curl -sf http://podinfo-canary.test:9898/healthz
    ///       - name: smoke-test
    ///         type: pre-rollout
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 30s
    ///         metadata:
    ///           type: bash
    ///           cmd: curl -sf http://podinfo-canary.test:9898/readyz
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
    ///     webhooks:
    ///       - name: healthz
    ///         type: pre-rollout
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 30s
    ///         metadata:
    ///           type: bash
    ///           cmd: curl -sf http://podinfo-canary.test:9898/healthz
    ///       - name: readyz
    ///         type: pre-rollout
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 30s
    ///         metadata:
    ///           type: bash
    ///           cmd: curl -sf http://podinfo-canary.test:9898/readyz
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler_metrics.go, scheduler_hooks.go and events.go report checks by
    /// `name` only. The CRD declares these lists without list keys, so the API server accepts
    /// duplicates. Names are compared exactly, within each list.
    /// Decided by pkg/controller/scheduler_metrics.go (`runBuiltinMetricChecks`,
    /// `runMetricChecks`) and scheduler_hooks.go, which report by name.
    ///
    /// ### Severity
    /// A warning: Flagger runs both entries, but events, metrics and alerts name a check by
    /// `name`, so a failure of one is reported as the other.
    pub struct DuplicateName;
    code: "CL006",
    slug: "duplicate-name",
    severity: Warning,
    summary: "two metrics, webhooks or alerts of one Canary share a name",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for DuplicateName {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        let lists: [(&str, &str, Vec<&Node>); 3] = [
            (
                "metric",
                "metrics",
                analysis.metrics().iter().map(|m| m.node).collect(),
            ),
            (
                "webhook",
                "webhooks",
                analysis.webhooks().iter().map(|w| w.node).collect(),
            ),
            (
                "alert",
                "alerts",
                analysis.alerts().iter().map(|a| a.node).collect(),
            ),
        ];
        for (what, list, items) in lists {
            let names: Vec<Field<'_, &str>> =
                items.iter().filter_map(|n| str_field(n, "name")).collect();
            for (i, name) in names.iter().enumerate() {
                let Some(first) = names[..i].iter().find(|n| n.value == name.value) else {
                    continue;
                };
                let first_line = cx.file.source.line_col(first.node.span.start).line;
                cx.report(
                    At::Value(name.node),
                    format!(
                        "{what} name \"{}\" is used twice in analysis.{list}: Flagger's events cannot tell them apart",
                        name.value
                    ),
                )
                .help(format!("give this {what} a name of its own"))
                .label(first.node.span, format!("first used here, line {first_line}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::DuplicateName,
            &["
                spec:
                  analysis:
                    metrics:
                      - name: request-success-rate
                        thresholdRange:
                          min: 99
                        interval: 1m
                      - name: request-duration
                        thresholdRange:
                          max: 500
                        interval: 30s
                "],
            &[
                "
                spec:
                  analysis:
                    metrics:
                      - name: request-success-rate
                        thresholdRange:
                          min: 99
                        interval: 1m
                      - name: request-success-rate # warning: CL006
                        thresholdRange:
                          min: 95
                        interval: 5m
                ",
                "
                spec:
                  analysis:
                    webhooks:
                      - name: load-test
                        url: http://flagger-loadtester.test/
                        timeout: 5s
                        metadata:
                          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
                      - name: load-test # warning: CL006
                        url: http://flagger-loadtester.test/
                        timeout: 5s
                        metadata:
                          cmd: hey -z 1m -q 10 -c 2 http://podinfo.test:9898/
                ",
            ],
        );
    }
}
