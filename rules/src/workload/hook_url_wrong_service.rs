use canarylint::model::CanaryView;
use canarylint::{At, Cx, Kind, Rule, declare_rule};

use super::hook_url_port_mismatch::addresses;

declare_rule! {
    /// ### What it does
    /// Reports a webhook `url` or load-test `metadata.cmd` that calls `<x>-canary` or
    /// `<x>-primary` for this Canary when Flagger names its Services otherwise: `<x>` is the
    /// Canary's or the target's name but not the apex name (`service.name`, else
    /// `targetRef.name`), or the address names another namespace than the Canary's.
    ///
    /// ### Why is this bad?
    /// Flagger creates `<apex>`, `<apex>-primary` and `<apex>-canary` in the Canary's namespace
    /// and nothing else. A load test sent anywhere else never reaches the canary: DNS fails or
    /// another service answers, the built-in metrics find no requests, and the analysis halts
    /// ("no values found … is not receiving traffic"), or a test hook passes without testing
    /// the new version.
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
    ///     name: frontend
    ///     port: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    ///     webhooks:
    ///       - name: load-test
    ///         url: http://flagger-loadtester.test/
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
    ///     name: frontend
    ///     port: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    ///     webhooks:
    ///       - name: load-test
    ///         url: http://flagger-loadtester.test/
    ///         metadata:
    ///           cmd: hey -z 1m -q 10 -c 2 http://frontend-canary.test:9898/
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/apis/flagger/v1beta1/canary.go (`GetServiceNames`) names the Services after
    /// `service.name`, else `targetRef.name`; pkg/router/kubernetes_default.go (`Initialize`,
    /// `reconcileService`) creates them in the Canary's namespace, for Deployment and
    /// DaemonSet targets only. Flagger does not rewrite hook URLs or commands
    /// (pkg/controller/webhook.go posts them as written).
    ///
    /// ### Severity
    /// A warning: the hook itself may still answer 200, but the traffic misses the canary.
    /// Nothing is reported when the inventory holds a Service of that name and namespace (one
    /// written by hand), nor the namespace comparison when the Canary names no namespace.
    pub struct HookUrlWrongService;
    code: "CL311",
    slug: "hook-url-wrong-service",
    severity: Warning,
    summary: "a webhook URL or load-test command calls a -canary/-primary Service Flagger does not create",
    since: "0.2.0",
    fix: None,
    inputs: [Service],
    kinds: [Canary],
}

impl Rule for HookUrlWrongService {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        if canary.service().is_none() {
            return;
        }
        let Some(target) = canary.target_ref() else {
            return;
        };
        if !matches!(
            super::target_kind(&target),
            Some(Kind::Deployment | Kind::DaemonSet)
        ) {
            return;
        }
        let Some(apex) = canary.apex_name() else {
            return;
        };
        let Some(analysis) = canary.analysis() else {
            return;
        };
        let ns = cx.namespace().to_string();
        let ns_known = cx.doc.namespace.is_some();
        let own_names: Vec<&str> = [canary.name(), target.name().map(|t| t.value)]
            .into_iter()
            .flatten()
            .collect();
        for hook in analysis.webhooks() {
            for field in [hook.url(), hook.cmd()].into_iter().flatten() {
                for (host, _, _) in addresses(field.value) {
                    let mut parts = host.splitn(2, '.');
                    let short = parts.next().unwrap_or("");
                    let rest = parts.next();
                    let Some((base, role)) = short
                        .strip_suffix("-canary")
                        .map(|b| (b, "canary"))
                        .or_else(|| short.strip_suffix("-primary").map(|b| (b, "primary")))
                    else {
                        continue;
                    };
                    let host_ns = rest.map(|r| r.split('.').next().unwrap_or(r));
                    let suffix_ok = rest.is_none_or(|r| {
                        let tail = &r[r.find('.').map_or(r.len(), |i| i)..];
                        tail.is_empty() || tail == ".svc" || tail == ".svc.cluster.local"
                    });
                    if !suffix_ok {
                        continue;
                    }
                    let in_ns = host_ns.unwrap_or(&ns).to_string();
                    let wrong_name = base != apex && own_names.contains(&base);
                    let wrong_ns = base == apex && ns_known && host_ns.is_some_and(|h| h != ns);
                    if !(wrong_name || wrong_ns) {
                        continue;
                    }
                    if cx.lookup(Kind::Service, &in_ns, short).found().is_some() {
                        continue;
                    }
                    let want = format!("{apex}-{role}.{ns}");
                    let hook_name = hook.name().map_or("", |n| n.value);
                    let why = if wrong_name {
                        format!("Flagger names its Services after {apex}")
                    } else {
                        format!("Flagger creates its Services in namespace {ns}")
                    };
                    cx.report(
                        At::Value(field.node),
                        format!("webhook {hook_name} calls {host}, a Service Flagger does not create ({why})"),
                    )
                    .help(format!("call {want} instead"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let hook = |cmd: &str| {
            format!(
                "spec:\n  service:\n    name: frontend\n  analysis:\n    webhooks:\n      - name: load-test\n        url: http://flagger-loadtester.test/\n        metadata:\n          cmd: {cmd}\n"
            )
        };
        let pass = [
            hook("hey -z 1m -q 10 -c 2 http://frontend-canary.test:9898/"),
            hook("hey -z 1m -q 10 -c 2 http://frontend-canary.test.svc.cluster.local:9898/"),
            // Another application's Service is none of this rule's business.
            hook(
                "curl -s http://backend-canary.other:8080/ && hey -z 1m http://frontend-canary:9898/",
            ),
        ];
        let fail = [
            format!(
                "{} # warning: CL311\n",
                hook("hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/").trim_end()
            ),
            "spec:\n  analysis:\n    webhooks:\n      - name: load-test\n        url: http://flagger-loadtester.test/\n        metadata:\n          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.prod:9898/ # warning: CL311\n".to_string(),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::HookUrlWrongService, &pass, &fail);
    }
}
