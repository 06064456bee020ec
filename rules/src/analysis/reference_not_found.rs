use canarylint::model::RefView;
use canarylint::suggest::did_you_mean;
use canarylint::{At, Cx, Kind, Lookup, Rule, declare_rule};

use crate::routing::unresolved_reference;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Checks that each metric's `templateRef` names an existing MetricTemplate and each alert's
    /// `providerRef` an existing AlertProvider. Both default to the Canary's namespace.
    ///
    /// ### Why is this bad?
    /// Flagger looks the MetricTemplate up on every check: when it is missing the check fails
    /// ("Metric template … error"), the failures reach the threshold and every rollout is rolled
    /// back. A missing AlertProvider means the alert is never sent, which is found out only when
    /// nobody hears about a failed release.
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
    ///       - name: error-rate
    ///         templateRef:
    ///           name: error-rates
    ///         thresholdRange:
    ///           max: 1
    ///         interval: 1m
    /// ---
    /// apiVersion: flagger.app/v1beta1
    /// kind: MetricTemplate
    /// metadata:
    ///   name: error-rate
    ///   namespace: test
    /// spec:
    ///   provider:
    ///     type: prometheus
    ///     address: http://prometheus.istio-system:9090
    ///   query: |
    ///     100 - sum(rate(istio_requests_total{destination_workload="{{ target }}",response_code!~"5.*"}[{{ interval }}]))
    ///     / sum(rate(istio_requests_total{destination_workload="{{ target }}"}[{{ interval }}])) * 100
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
    ///       - name: error-rate
    ///         templateRef:
    ///           name: error-rate
    ///         thresholdRange:
    ///           max: 1
    ///         interval: 1m
    /// ---
    /// apiVersion: flagger.app/v1beta1
    /// kind: MetricTemplate
    /// metadata:
    ///   name: error-rate
    ///   namespace: test
    /// spec:
    ///   provider:
    ///     type: prometheus
    ///     address: http://prometheus.istio-system:9090
    ///   query: |
    ///     100 - sum(rate(istio_requests_total{destination_workload="{{ target }}",response_code!~"5.*"}[{{ interval }}]))
    ///     / sum(rate(istio_requests_total{destination_workload="{{ target }}"}[{{ interval }}])) * 100
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler_metrics.go reads the MetricTemplate `templateRef.name` from
    /// `templateRef.namespace`, or the Canary's namespace, and fails the check when it cannot;
    /// pkg/controller/events.go does the same for an alert's AlertProvider and drops the alert.
    /// When canarylint does not know the MetricTemplates or AlertProviders of that namespace, the
    /// reference is reported as CL100 instead.
    /// Decided by pkg/controller/scheduler_metrics.go (`runMetricChecks`) and
    /// pkg/controller/events.go (`alert`).
    ///
    /// ### Severity
    /// An error when the inventory vouches for the namespace: the check fails on every run (a
    /// MetricTemplate) or the alert is dropped (an AlertProvider). Otherwise CL100 (info).
    pub struct ReferenceNotFound;
    code: "CL404",
    slug: "reference-not-found",
    severity: Error,
    summary: "templateRef or providerRef names a MetricTemplate or AlertProvider that does not exist",
    since: "0.1.0",
    fix: None,
    inputs: [MetricTemplate, AlertProvider],
    kinds: [Canary],
}

impl Rule for ReferenceNotFound {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        for m in analysis.metrics() {
            if let Some(r) = m.template_ref() {
                let what = m.name().map_or_else(
                    || "this metric".to_string(),
                    |n| format!("metric \"{}\"", n.value),
                );
                check(
                    cx,
                    &r,
                    Kind::MetricTemplate,
                    &format!("every check of {what} fails"),
                );
            }
        }
        for a in analysis.alerts() {
            if let Some(r) = a.provider_ref() {
                let what = a.name().map_or_else(
                    || "this alert".to_string(),
                    |n| format!("alert \"{}\"", n.value),
                );
                check(
                    cx,
                    &r,
                    Kind::AlertProvider,
                    &format!("{what} is never sent"),
                );
            }
        }
    }
}

fn check(cx: &mut Cx<'_, '_>, r: &RefView<'_>, kind: Kind, consequence: &str) {
    let Some(name) = r.name() else { return };
    let ns = r.namespace().map_or_else(|| cx.namespace(), |n| n.value);
    match cx.lookup(kind, ns, name.value) {
        Lookup::Found(_) => {}
        Lookup::Unknown => {
            unresolved_reference::report(cx, At::Value(name.node), kind, ns, name.value)
        }
        Lookup::Absent => {
            let names = cx.inventory.names(kind, ns);
            let elsewhere: Vec<String> = cx
                .inventory
                .all(kind)
                .filter(|o| o.name == name.value)
                .map(|o| o.namespace.to_string())
                .collect();
            let help = match (
                did_you_mean(name.value, names.iter().copied()),
                elsewhere.first(),
            ) {
                (Some(n), _) => format!("did you mean `{n}`?"),
                (None, Some(other)) => format!(
                    "set namespace: {other}, where a {} of that name exists",
                    kind.name()
                ),
                // Other objects of the namespace are no evidence of what was meant.
                (None, None) => format!(
                    "create the {} {ns}/{}, or correct the reference",
                    kind.name(),
                    name.value
                ),
            };
            cx.report(
                At::Value(name.node),
                format!(
                    "{} {ns}/{} does not exist: {consequence}",
                    kind.name(),
                    name.value
                ),
            )
            .help(help);
        }
    }
}

#[cfg(test)]
mod tests {
    const TEMPLATE: &str = "---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: error-rate
  namespace: test
spec:
  provider:
    type: prometheus
    address: http://prometheus.istio-system:9090
  query: up
";

    const PROVIDER: &str = "---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata:
  name: on-call
  namespace: flagger
spec:
  type: slack
  channel: on-call
  address: https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK
";

    fn metric(template_ref: &str) -> String {
        format!(
            "spec:\n  analysis:\n    metrics:\n      - name: error-rate\n        templateRef:\n{template_ref}        thresholdRange:\n          max: 1\n        interval: 1m\n"
        )
    }

    fn alert(provider_ref: &str) -> String {
        format!(
            "spec:\n  analysis:\n    alerts:\n      - name: on-call\n        severity: error\n        providerRef:\n{provider_ref}"
        )
    }

    #[test]
    fn cases() {
        let pass = [
            format!("{}{TEMPLATE}", metric("          name: error-rate\n")),
            format!(
                "{}{PROVIDER}",
                alert("          name: on-call\n          namespace: flagger\n")
            ),
            // No MetricTemplate of istio-system is known: CL100, not CL404.
            metric("          name: latency\n          namespace: istio-system\n"),
        ];
        let fail = [
            format!(
                "{}{TEMPLATE}",
                metric("          name: error-rates # error: CL404\n")
            ),
            format!(
                "{}{PROVIDER}",
                alert("          name: on-cal # error: CL404\n          namespace: flagger\n")
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::ReferenceNotFound, &pass, &fail);
    }
}
