use canarylint::{At, Cx, Rule, declare_rule};

use super::effective_interval;
use crate::helpers::{format_seconds, go_duration};
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports a `rollout` or `confirm-*` webhook whose `timeout` is longer than the analysis
    /// interval.
    ///
    /// ### Why is this bad?
    /// Flagger calls `rollout` hooks on every analysis step and polls `confirm-rollout`,
    /// `confirm-traffic-increase` and `confirm-promotion` hooks on every step until they
    /// approve, each time waiting up to `timeout` for the answer. The analysis of a Canary runs
    /// on one timer: while a call hangs, the steps that should have run are skipped, so a slow
    /// or unreachable hook stretches every step to its timeout and the rollout runs far slower
    /// than `interval` × steps promises (and may hit `progressDeadlineSeconds`).
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
    ///     interval: 30s
    ///     threshold: 5
    ///     iterations: 10
    ///     webhooks:
    ///       - name: integration-tests
    ///         type: rollout
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 2m
    ///         metadata:
    ///           type: bash
    ///           cmd: curl -sf http://podinfo-canary.test:9898/readyz
    /// ```
    ///
    /// ### Use instead
    /// Run long tests once, before traffic shifts, as a `pre-rollout` hook:
    ///
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
    ///     interval: 30s
    ///     threshold: 5
    ///     iterations: 10
    ///     webhooks:
    ///       - name: integration-tests
    ///         type: pre-rollout
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 2m
    ///         metadata:
    ///           type: bash
    ///           cmd: curl -sf http://podinfo-canary.test:9898/readyz
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/job.go runs each Canary's analysis from a `time.Ticker` of `interval`,
    /// synchronously, so ticks that fall due during a long call are dropped; pkg/controller/
    /// webhook.go waits up to the hook's `timeout` (10s when unset). An empty `type` is
    /// `rollout`. The interval compared is the one Flagger uses: at least 10s, 60s when unset.
    /// Decided by pkg/controller/job.go (`CanaryJob.Start`) and pkg/controller/webhook.go
    /// (`CallWebhook`).
    ///
    /// ### Severity
    /// A warning: nothing fails, but analysis runs that fall due while the hook waits are
    /// dropped, so the rollout is slower than written.
    pub struct HookTimeoutExceedsInterval;
    code: "CL406",
    slug: "hook-timeout-exceeds-interval",
    severity: Warning,
    summary: "a rollout or confirm-* webhook whose timeout exceeds analysis.interval",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for HookTimeoutExceedsInterval {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        let interval = effective_interval(&analysis);
        let interval_text = match analysis.interval() {
            Some(i) if go_duration(i.value) == Some(interval) => i.value.to_string(),
            _ => format!("{} (as Flagger runs it)", format_seconds(interval)),
        };
        for hook in analysis.webhooks() {
            let kind = hook.effective_type();
            if !(kind == "rollout" || kind.starts_with("confirm-")) {
                continue;
            }
            let Some(timeout) = hook.timeout() else {
                continue;
            };
            // Flagger ignores a timeout shorter than two characters (10s instead).
            if timeout.value.len() < 2 {
                continue;
            }
            let Some(secs) = go_duration(timeout.value) else {
                continue;
            };
            if secs <= interval {
                continue;
            }
            let name = hook.name().map_or("", |n| n.value);
            cx.report(
                At::Value(timeout.node),
                format!(
                    "{kind} webhook \"{name}\" timeout {} exceeds the analysis interval {interval_text}: a slow hook delays every step",
                    timeout.value
                ),
            )
            .help(if kind == "rollout" {
                "lower the timeout below the interval, or run the long task once as a pre-rollout webhook"
            } else {
                "lower the timeout below the interval: a confirm hook is asked again on every step"
            });
        }
    }
}

#[cfg(test)]
mod tests {
    fn hook(kind: &str, timeout: &str) -> String {
        format!(
            "spec:\n  analysis:\n    interval: 30s\n    webhooks:\n      - name: load-test\n        url: http://flagger-loadtester.test/\n{kind}        timeout: {timeout}\n        metadata:\n          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/\n"
        )
    }

    #[test]
    fn cases() {
        let pass = [
            hook("", "30s"),
            hook("        type: pre-rollout\n", "5m"),
            hook("        type: post-rollout\n", "5m"),
            // A confirm hook answering within the interval.
            "spec:\n  analysis:\n    interval: 10s\n    webhooks:\n      - name: gate\n        type: confirm-rollout\n        url: http://flagger-loadtester.test/gate/check\n        timeout: 10s\n      - name: load-test\n        url: http://flagger-loadtester.test/\n        metadata:\n          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/\n".to_string(),
        ];
        let fail = [
            hook("", "1m # warning: CL406"),
            hook("        type: rollout\n", "31s # warning: CL406"),
            "spec:\n  analysis:\n    webhooks:\n      - name: gate\n        type: confirm-promotion\n        url: http://flagger-loadtester.test/gate/check\n        timeout: 2m # warning: CL406\n".to_string(),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::HookTimeoutExceedsInterval, &pass, &fail);
    }
}
