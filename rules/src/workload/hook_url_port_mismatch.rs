use canarylint::model::Field;
use canarylint::{At, Cx, Rule, declare_rule};

use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Finds webhook `url`s and load-test commands (`metadata.cmd`) that address the Canary's
    /// own Services — `<name>`, `<name>-canary` or `<name>-primary`, optionally with
    /// `.namespace[.svc[.cluster.local]]` — and checks that they use `service.port`.
    ///
    /// ### Why is this bad?
    /// The generated Services listen on `service.port` only. A load test aimed at another port
    /// (often the container port) gets connection errors instead of traffic, so the metrics see
    /// no requests and the analysis halts ("no values found").
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
    ///     port: 80
    ///     targetPort: 9898
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
    ///     port: 80
    ///     targetPort: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    ///     webhooks:
    ///       - name: load-test
    ///         url: http://flagger-loadtester.test/
    ///         metadata:
    ///           cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:80/
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/kubernetes_default.go gives `<name>`, `<name>-primary` and `<name>-canary`
    /// one port, `service.port` (a URL without port means 80, or 443 for https). With
    /// `portDiscovery: true` every container port of the target is exposed too, so those ports
    /// count when the target is known, and nothing is reported when it is not. Canaries without
    /// `service` (Knative) are skipped.
    /// Decided by pkg/router/kubernetes_default.go (`reconcileService`), which gives the
    /// Services their one port.
    ///
    /// ### Severity
    /// A warning: the hook still answers (a load generator does not fail on refused
    /// connections), but its requests very likely never reach the canary.
    pub struct HookUrlPortMismatch;
    code: "CL304",
    slug: "hook-url-port-mismatch",
    severity: Warning,
    summary: "a webhook URL or load-test command calls the canary's Services on a port they do not expose",
    since: "0.1.0",
    fix: None,
    inputs: [Deployment, DaemonSet],
    kinds: [Canary],
}

/// `(host, port)` of every URL or `host:port` token in a text.
pub fn addresses(text: &str) -> Vec<(String, u16, usize)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for token in text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
        let start = offset;
        offset += token.len() + 1;
        if token.is_empty() {
            continue;
        }
        let (default_port, rest) = if let Some(r) = token.strip_prefix("http://") {
            (Some(80), r)
        } else if let Some(r) = token.strip_prefix("https://") {
            (Some(443), r)
        } else if let Some((_, r)) = token.split_once("://") {
            (None, r)
        } else {
            (None, token)
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => match p.parse::<u16>() {
                Ok(p) => (h, Some(p)),
                Err(_) => continue,
            },
            None => (authority, default_port),
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            continue;
        }
        if let Some(p) = port {
            out.push((host.to_string(), p, start));
        }
    }
    out
}

/// Whether `host` names one of the Canary's Services.
fn is_own_service(host: &str, name: &str, namespace: &str) -> bool {
    let short = host.split('.').next().unwrap_or(host);
    if short != name && short != format!("{name}-canary") && short != format!("{name}-primary") {
        return false;
    }
    let rest = &host[short.len()..];
    rest.is_empty()
        || rest == format!(".{namespace}")
        || rest == format!(".{namespace}.svc")
        || rest == format!(".{namespace}.svc.cluster.local")
}

impl Rule for HookUrlPortMismatch {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let Some(port) = service.port() else { return };
        let Some(analysis) = canary.analysis() else {
            return;
        };
        let Some(name) = canary.apex_name() else {
            return;
        };
        let ns = cx.namespace().to_string();
        let mut allowed = vec![port.value as i64];
        if service.port_discovery().is_some_and(|p| p.value) {
            match super::found_workload(cx, &canary).and_then(|w| w.as_workload()) {
                Some(w) => allowed.extend(
                    w.containers
                        .iter()
                        .flat_map(|c| c.ports.iter().map(|p| p.port)),
                ),
                None => return,
            }
        }
        for hook in analysis.webhooks() {
            let fields: Vec<(Field<'_, &str>, &str)> = [
                hook.url().map(|u| (u, "url")),
                hook.cmd().map(|c| (c, "metadata.cmd")),
            ]
            .into_iter()
            .flatten()
            .collect();
            for (field, what) in fields {
                for (host, p, _) in addresses(field.value) {
                    if !is_own_service(&host, name, &ns) || allowed.contains(&(p as i64)) {
                        continue;
                    }
                    let hook_name = hook.name().map_or("", |n| n.value);
                    cx.report(
                        At::Value(field.node),
                        format!("webhook {hook_name} {what} calls {host}:{p}, but the canary's Services listen on port {}", num(port.value)),
                    )
                    .help(format!("use {host}:{}", num(port.value)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_addresses() {
        let a = addresses(
            "hey -z 1m http://podinfo-canary.test:9898/ && curl https://x.example.com/a grpc podinfo.test:9999",
        );
        let hosts: Vec<_> = a.iter().map(|(h, p, _)| (h.as_str(), *p)).collect();
        assert_eq!(
            hosts,
            vec![
                ("podinfo-canary.test", 9898),
                ("x.example.com", 443),
                ("podinfo.test", 9999)
            ]
        );
        assert!(is_own_service(
            "podinfo-canary.test.svc.cluster.local",
            "podinfo",
            "test"
        ));
        assert!(!is_own_service("podinfo-canary.other", "podinfo", "test"));
    }

    #[test]
    fn cases() {
        crate::test_support::check(
            &super::HookUrlPortMismatch,
            &[
                "spec:\n  service:\n    port: 9898\n",
                "spec:\n  service:\n    port: 80\n    targetPort: 9898\n  analysis:\n    webhooks:\n      - name: load-test\n        url: http://flagger-loadtester.test/\n        metadata:\n          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test/\n",
            ],
            &[
                "spec:\n  service:\n    port: 80\n    targetPort: 9898\n  analysis:\n    webhooks:\n      - name: load-test\n        url: http://flagger-loadtester.test/\n        metadata:\n          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/ # warning: CL304\n",
            ],
        );
    }
}
