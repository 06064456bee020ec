use canarylint::model::CanaryView;
use canarylint::{At, Cx, Rule, Value, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports a webhook whose `metadata.cmd` is present but empty (or only whitespace).
    ///
    /// ### Why is this bad?
    /// Flagger's load tester runs `cmd` in a shell. An empty command does nothing and succeeds,
    /// so the hook passes on every call: a smoke test that tests nothing, or a load test that
    /// sends no traffic (the built-in metrics then find no values and the analysis halts). An
    /// empty `cmd` usually comes from a templating variable that was never set.
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
    ///           cmd: ""
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
    ///       - name: smoke-test
    ///         type: pre-rollout
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 30s
    ///         metadata:
    ///           type: bash
    ///           cmd: curl -sf http://podinfo-canary.test:9898/healthz
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/loadtester/server.go hands `metadata.cmd` to a shell task (or to bash, helm and
    /// helmv3 with `metadata.type`) and answers with a success status when it exits cleanly;
    /// Flagger counts any status up to 202 as a passed hook (pkg/controller/webhook.go). Load
    /// generators never fail a hook anyway (fluxcd/flagger#431, #366, #931); an empty command
    /// does not even generate load. A `cmd` that is null is reported too.
    /// Decided by pkg/loadtester/server.go (`ListenAndServe`) and pkg/controller/webhook.go
    /// (`CallWebhook`).
    ///
    /// ### Severity
    /// A warning: nothing fails, but the hook passes without doing anything.
    pub struct EmptyHookCommand;
    code: "CL411",
    slug: "empty-hook-command",
    severity: Warning,
    summary: "a load-tester webhook with an empty metadata.cmd: it always passes",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for EmptyHookCommand {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        for hook in analysis.webhooks() {
            let Some(cmd) = hook.metadata().and_then(|m| m.get("cmd")) else {
                continue;
            };
            let (empty, at) = match &cmd.value {
                Value::Null => (true, At::Key(cmd)),
                Value::Str(s) => (s.trim().is_empty(), At::Value(cmd)),
                _ => (false, At::Value(cmd)),
            };
            if !empty {
                continue;
            }
            let name = hook.name().map_or("", |n| n.value);
            cx.report(at, format!("webhook \"{name}\" has an empty metadata.cmd: the load tester runs nothing and the hook always passes"))
                .help("write the command to run in metadata.cmd, or remove the webhook");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::EmptyHookCommand,
            &[
                "spec:\n  analysis:\n    interval: 1m\n",
                "
                spec:
                  analysis:
                    webhooks:
                      - name: gate
                        type: confirm-rollout
                        url: http://flagger-loadtester.test/gate/approve
                      - name: load-test
                        url: http://flagger-loadtester.test/
                        timeout: 5s
                        metadata:
                          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
                ",
            ],
            &["
                spec:
                  analysis:
                    webhooks:
                      - name: load-test
                        url: http://flagger-loadtester.test/
                        timeout: 5s
                        metadata:
                          cmd: \"  \" # warning: CL411
                      - name: load-test-2
                        url: http://flagger-loadtester.test/
                        timeout: 5s
                        metadata:
                          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
                "],
        );
    }
}
