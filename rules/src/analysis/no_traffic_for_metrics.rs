use canarylint::model::{HookView, str_field};
use canarylint::{At, Cx, Rule, declare_rule};

use super::is_builtin;
use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports a Canary whose analysis checks `request-success-rate` or `request-duration` while
    /// none of its webhooks generates load: no webhook carries a load-tester command
    /// (`metadata.cmd`), a k6 script (`metadata.script`) or an nGrinder test, whatever its type.
    ///
    /// ### Why is this bad?
    /// The built-in metrics are computed from the requests the canary serves. When nothing
    /// sends it requests, the queries return no values and Flagger halts: "Halt advancement no
    /// values found for istio metric request-success-rate probably podinfo.test is not receiving
    /// traffic". Each halted check counts as failed, so the canary is rolled back after
    /// `threshold` intervals. Real user traffic can be enough on a busy service with weighted
    /// routing; Blue/Green and A/B canaries, and quiet services, need a load generator.
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
    ///           min: 99
    ///         interval: 1m
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
    /// pkg/controller/scheduler_metrics.go halts with "no values found … is not receiving
    /// traffic" when a built-in metric's query is empty (fluxcd/flagger#1365, #191). Any webhook
    /// type counts as a load generator (a `pre-rollout` hook may start a long `hey` run, #191),
    /// and so does the load tester's `cmd` whatever tool it runs. Custom metrics (`templateRef`,
    /// `query`) are not considered: their queries need not depend on requests. A Canary with
    /// `skipAnalysis: true` checks no metrics.
    pub struct NoTrafficForMetrics;
    code: "CL405",
    slug: "no-traffic-for-metrics",
    severity: Warning,
    summary: "built-in metrics are checked but no webhook generates traffic",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for NoTrafficForMetrics {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        if canary.skip_analysis().is_some_and(|s| s.value) {
            return;
        }
        let Some(analysis) = canary.analysis() else {
            return;
        };
        let metrics = analysis.metrics();
        let builtins: Vec<&str> = metrics
            .iter()
            .filter_map(|m| m.name())
            .map(|n| n.value)
            .filter(|n| is_builtin(n))
            .collect();
        if builtins.is_empty() || analysis.webhooks().iter().any(generates_load) {
            return;
        }
        let Some(list) = analysis.node.get("metrics") else {
            return;
        };
        let ns = cx.namespace();
        let apex = canary.apex_name().unwrap_or("<name>");
        let port = canary
            .service()
            .and_then(|s| s.port())
            .map_or_else(String::new, |p| format!(":{}", num(p.value)));
        let verb = if builtins.len() == 1 { "gets" } else { "get" };
        cx.report(
            At::Key(list),
            format!(
                "no webhook generates load: {} {verb} no values without traffic and the analysis halts",
                builtins.join(", ")
            ),
        )
        .help(format!(
            "add a rollout webhook to flagger-loadtester with metadata.cmd such as `hey -z 1m -q 10 -c 2 http://{apex}-canary.{ns}{port}/`"
        ));
    }
}

/// A webhook that makes requests: the load tester's `cmd`, a k6 `script`, an nGrinder test.
fn generates_load(hook: &HookView<'_>) -> bool {
    let Some(metadata) = hook.metadata() else {
        return false;
    };
    let non_empty =
        |key: &str| str_field(metadata, key).is_some_and(|f| !f.value.trim().is_empty());
    non_empty("cmd")
        || non_empty("script")
        || str_field(metadata, "type").is_some_and(|t| t.value == "ngrinder")
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::NoTrafficForMetrics,
            &[
                // The base Canary: a rollout hook with a load-test command.
                "spec:\n  analysis:\n    interval: 1m\n",
                // A pre-rollout hook that starts a long load test counts too.
                "
                spec:
                  analysis:
                    webhooks:
                      - name: pre
                        type: pre-rollout
                        url: http://flagger-loadtester.test/
                        timeout: 5s
                        metadata:
                          cmd: hey -z 10m -q 10 -c 2 http://podinfo-canary.test:9898/
                ",
                // Custom metrics only.
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
                    webhooks: __remove__
                ",
                "spec:\n  skipAnalysis: true\n  analysis:\n    webhooks: __remove__\n",
            ],
            &[
                "spec:\n  analysis:\n    metrics: # warning: CL405\n      - name: request-success-rate\n        thresholdRange:\n          min: 99\n        interval: 1m\n    webhooks: __remove__\n",
                "
                spec:
                  analysis:
                    metrics: # warning: CL405
                      - name: request-duration
                        thresholdRange:
                          max: 500
                        interval: 1m
                    webhooks:
                      - name: gate
                        type: confirm-rollout
                        url: http://flagger-loadtester.test/gate/approve
                ",
            ],
        );
    }
}
