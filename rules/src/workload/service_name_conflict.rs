use canarylint::Str;
use canarylint::model::{Object, ServiceInfo, WorkloadInfo};
use canarylint::{At, Cx, Kind, Rule, declare_rule};

use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Looks for Services that already use the names Flagger generates — `<name>`,
    /// `<name>-primary` and `<name>-canary`, where `<name>` is `service.name` or the target's
    /// name — and that Flagger does not own (no Canary owner reference).
    ///
    /// ### Why is this bad?
    /// Flagger takes such Services over: it rewrites their ports and selector to its own.
    /// An existing `<name>` Service loses every port but `service.port` (other clients of
    /// those ports get connection errors, and a LoadBalancer may flap), and its selector is
    /// pointed at the primary pods, so a Service that selected some other workload silently
    /// starts sending that workload's traffic to this one (fluxcd/flagger#1345, #948, #208).
    /// A foreign `<name>-primary` or `<name>-canary` is overwritten the same way.
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
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   selector:
    ///     app: podinfo
    ///   ports:
    ///     - name: http
    ///       port: 9898
    ///     - name: metrics
    ///       port: 9797
    /// ```
    ///
    /// ### Use instead
    /// Serve the extra port from a Service of another name (or turn on
    /// `service.portDiscovery`, which adds the target's container ports):
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
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: v1
    /// kind: Service
    /// metadata:
    ///   name: podinfo-metrics
    ///   namespace: test
    /// spec:
    ///   selector:
    ///     app: podinfo
    ///   ports:
    ///     - name: metrics
    ///       port: 9797
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/kubernetes_default.go creates or updates the three ClusterIP Services with
    /// one port (`service.port`, named `portName`), plus the discovered container ports with
    /// `portDiscovery`. On a Service it did not create it replaces `ports` and `selector` and
    /// leaves labels and annotations alone. Only Deployment and DaemonSet targets get these
    /// Services. Nothing is reported when the Services of the namespace are not known: a
    /// conflict needs a Service that is there.
    /// Decided by pkg/router/kubernetes_default.go (`reconcileService`).
    ///
    /// ### Severity
    /// A warning: nothing fails, but Flagger takes the existing Service over and rewrites its
    /// ports and selector, which very likely breaks whatever used them.
    pub struct ServiceNameConflict;
    code: "CL306",
    slug: "service-name-conflict",
    severity: Warning,
    summary: "a Service Flagger did not create uses a name Flagger generates: its ports or selector get overwritten",
    since: "0.1.0",
    fix: None,
    inputs: [Service, Deployment, DaemonSet],
    kinds: [Canary],
}

fn owned_by_flagger(s: &ServiceInfo) -> bool {
    s.owner_kinds.iter().any(|k| k == "Canary")
}

/// Whether every `key: value` of a selector is among the pod labels.
fn selects(selector: &[(Str, Str)], pods: &WorkloadInfo) -> bool {
    selector.iter().all(|kv| pods.pod_labels.contains(kv))
}

impl Rule for ServiceNameConflict {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let Some(t) = canary.target_ref() else { return };
        if !matches!(
            super::target_kind(&t),
            Some(Kind::Deployment | Kind::DaemonSet)
        ) {
            return;
        }
        let Some(apex) = canary.apex_name() else {
            return;
        };
        let ns = cx.namespace();
        let port = service.port().map(|p| p.value);
        let workload = super::found_workload(cx, &canary);
        let discovery = service.port_discovery().is_some_and(|d| d.value);
        let at_node = service.name().map_or(service.node, |n| n.node);
        let at = if service.name().is_some() {
            At::Value(at_node)
        } else {
            At::Key(at_node)
        };

        let found = |name: &str| {
            cx.lookup(Kind::Service, ns, name)
                .found()
                .filter(|o| o.as_service().is_some_and(|s| !owned_by_flagger(s)))
        };
        let apex_svc = found(apex);
        let others: Vec<(String, &Object)> = ["primary", "canary"]
            .iter()
            .filter_map(|suffix| {
                let n = format!("{apex}-{suffix}");
                found(&n).map(|o| (n, o))
            })
            .collect();

        if let Some(o) = apex_svc {
            let info = o.as_service().cloned().unwrap_or_default();
            let container_ports: Vec<i64> = workload
                .and_then(Object::as_workload)
                .map(|w| {
                    w.containers
                        .iter()
                        .flat_map(|c| c.ports.iter().map(|p| p.port))
                        .collect()
                })
                .unwrap_or_default();
            let dropped: Vec<String> = info
                .ports
                .iter()
                .filter(|p| {
                    Some(p.port as f64) != port && !(discovery && container_ports.contains(&p.port))
                })
                .map(|p| match &p.name {
                    Some(n) => format!("{n} ({})", p.port),
                    None => p.port.to_string(),
                })
                .collect();
            if !dropped.is_empty() {
                cx.report(
                    at,
                    format!("Service {ns}/{apex} is not Flagger's: taking it over removes its port(s) {}", dropped.join(", ")),
                )
                .help(format!(
                    "move those ports to a Service of another name, or keep only port {} in {apex}",
                    port.map_or_else(|| "service.port".into(), num)
                ))
                .related(o.origin.clone(), format!("Service {apex}"));
            }
            let steals = workload
                .and_then(Object::as_workload)
                .is_some_and(|w| !info.selector.is_empty() && !selects(&info.selector, w));
            if steals {
                let sel: Vec<String> = info
                    .selector
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                cx.report(
                    at,
                    format!("Service {ns}/{apex} selects {}, not the target's pods: Flagger repoints it at {apex}-primary", sel.join(",")),
                )
                .help("give the Canary another service.name, or rename the existing Service")
                .related(o.origin.clone(), format!("Service {apex}"));
            }
        }
        for (name, o) in others {
            cx.report(at, format!("Service {ns}/{name} exists and is not Flagger's: Flagger overwrites its ports and selector"))
                .help(format!("rename or delete Service {name}, or give the Canary another service.name"))
                .related(o.origin.clone(), format!("Service {name}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::DEPLOYMENT;

    fn service(name: &str, extra: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: test\n{extra}spec:\n  selector:\n    app: podinfo\n  ports:\n    - name: http\n      port: 9898\n"
        )
    }

    #[test]
    fn cases() {
        let base = "spec:\n  service:\n    port: 9898\n";
        let pass = [
            format!("{base}{DEPLOYMENT}{}", service("podinfo", "")),
            format!(
                "{base}{DEPLOYMENT}{}",
                service(
                    "podinfo-primary",
                    "  ownerReferences:\n    - apiVersion: flagger.app/v1beta1\n      kind: Canary\n      name: podinfo\n      uid: 1\n"
                )
            ),
            format!(
                "spec:\n  service:\n    port: 9898\n    portDiscovery: true\n{DEPLOYMENT}{}    - name: grpc\n      port: 9999\n",
                service("podinfo", "")
            ),
        ];
        let fail = [
            format!(
                "spec:\n  service: # warning: CL306\n    port: 9898\n{DEPLOYMENT}{}    - name: metrics\n      port: 9797\n",
                service("podinfo", "")
            ),
            format!(
                "spec:\n  service:\n    name: podinfo # warning: CL306\n    port: 9898\n{}",
                service("podinfo-canary", "")
            ),
            format!(
                "spec:\n  service: # warning: CL306\n    port: 9898\n{DEPLOYMENT}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\n  namespace: test\nspec:\n  selector:\n    app: frontend\n  ports:\n    - port: 9898\n"
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::ServiceNameConflict, &pass, &fail);
    }
}
