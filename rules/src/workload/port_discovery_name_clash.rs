use canarylint::model::CanaryView;
use canarylint::model::{PortRef, WorkloadInfo};
use canarylint::{At, Cx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// With `service.portDiscovery: true`, works out the ports Flagger adds to its Services
    /// from the target's containers and reports one that repeats the main port's name
    /// (`service.portName`, default `http`) or its number (`service.port`).
    ///
    /// ### Why is this bad?
    /// Port discovery adds every container port except the one `targetPort` (or `port`) points
    /// at, named after the container port. A container port named `http` on another number
    /// than the target port gives the Services two ports named `http`; a container port equal
    /// to `service.port` gives them two ports with that number. The API server rejects them
    /// (`spec.ports[1].name: Duplicate value: "http"`), so `<name>-canary` is never created and
    /// the Canary is stuck initialising (fluxcd/flagger#688).
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
    ///     targetPort: 9797
    ///     portDiscovery: true
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   selector:
    ///     matchLabels:
    ///       app: podinfo
    ///   template:
    ///     metadata:
    ///       labels:
    ///         app: podinfo
    ///     spec:
    ///       containers:
    ///         - name: podinfod
    ///           image: ghcr.io/stefanprodan/podinfo:6.0.0
    ///           ports:
    ///             - name: http
    ///               containerPort: 9898
    ///             - name: metrics
    ///               containerPort: 9797
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
    ///     targetPort: http
    ///     portDiscovery: true
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   selector:
    ///     matchLabels:
    ///       app: podinfo
    ///   template:
    ///     metadata:
    ///       labels:
    ///         app: podinfo
    ///     spec:
    ///       containers:
    ///         - name: podinfod
    ///           image: ghcr.io/stefanprodan/podinfo:6.0.0
    ///           ports:
    ///             - name: http
    ///               containerPort: 9898
    ///             - name: metrics
    ///               containerPort: 9797
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/canary/util.go (`getPorts`) skips the `istio-proxy` and `envoy` containers and the
    /// port matching `targetPort` (by number or name; `port` when unset), and names the rest
    /// after the container port, or `tcp-<container>-<index>`, with port = targetPort = the
    /// container port; pkg/router/kubernetes_default.go appends them after the main port.
    /// Reported only when the target is in the inventory.
    ///
    /// ### Severity
    /// An error: the API server refuses the Service ("Duplicate value"), so the canary never
    /// starts.
    pub struct PortDiscoveryNameClash;
    code: "CL309",
    slug: "port-discovery-name-clash",
    severity: Error,
    summary: "portDiscovery adds a container port named like the main port (or on its number): the Services are rejected",
    since: "0.1.0",
    fix: None,
    inputs: [Deployment, DaemonSet],
    kinds: [Canary],
}

/// A port Flagger discovers: `(name, port, container)`.
pub fn discovered_ports(
    w: &WorkloadInfo,
    target: Option<PortRef<'_>>,
    port: i64,
) -> Vec<(String, i64, String)> {
    let mut out: Vec<(String, i64, String)> = Vec::new();
    for (name, p, c) in w.discovered_ports() {
        let skip = match target {
            None => p.port == port,
            Some(PortRef::Number(n)) => p.port == n,
            Some(PortRef::Name(n)) => p.name.as_deref() == Some(n),
        };
        if skip {
            continue;
        }
        // Later ports of the same name replace earlier ones (a map in Flagger).
        out.retain(|(n, _, _)| *n != name);
        out.push((name, p.port, c.name.to_string()));
    }
    out
}

impl Rule for PortDiscoveryNameClash {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let Some(discovery) = service.port_discovery().filter(|d| d.value) else {
            return;
        };
        let Some(port) = service.port().filter(|p| p.value.fract() == 0.0) else {
            return;
        };
        let Some(workload) = super::found_workload(cx, &canary) else {
            return;
        };
        let Some(info) = workload.as_workload() else {
            return;
        };
        let main_name = service.effective_port_name();
        let target = service.target_port().map(|t| t.value);
        for (name, number, container) in discovered_ports(info, target, port.value as i64) {
            let (second, help) = if name == main_name {
                (
                    format!("named \"{name}\""),
                    format!(
                        "set service.targetPort: {name} so that port is not added twice, or set another service.portName"
                    ),
                )
            } else if number == port.value as i64 {
                (
                    format!("{number}"),
                    "use a service.port that no container port of the target uses".to_string(),
                )
            } else {
                continue;
            };
            cx.report(
                At::Value(discovery.node),
                format!("portDiscovery adds container port \"{name}\" ({number}) of {container}: a second port {second}, so the Services are rejected"),
            )
            .help(help)
            .related(info.ports_location.as_deref().cloned().or_else(|| workload.origin.clone()), format!("ports of {} {}", workload.kind.describe(), workload.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::DEPLOYMENT;

    #[test]
    fn cases() {
        let d = |f: &str| format!("spec:\n  service:\n{f}{DEPLOYMENT}");
        let pass = [
            d("    port: 9898\n    portDiscovery: true\n"),
            d("    port: 80\n    targetPort: http\n    portDiscovery: true\n"),
            d("    port: 80\n    targetPort: 9898\n    portDiscovery: true\n"),
            d("    port: 9898\n    targetPort: 9999\n"),
        ];
        let fail = [
            d("    port: 80\n    targetPort: 9999\n    portDiscovery: true # error: CL309\n"),
            d("    port: 9999\n    targetPort: 9898\n    portDiscovery: true # error: CL309\n"),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::PortDiscoveryNameClash, &pass, &fail);
    }
}
