use canarylint::model::PortRef;
use canarylint::{At, Cx, Rule, declare_rule};

use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Checks that the port the generated Services send traffic to — `service.targetPort`, or
    /// `service.port` when unset — is a `containerPort` (by number) or a port `name` of the
    /// target's pod template.
    ///
    /// ### Why is this bad?
    /// Flagger's `<name>-primary` and `<name>-canary` Services forward to that port. A named
    /// port the pods do not declare leaves the Services without endpoints; a number nobody
    /// listens on refuses every connection. Either way the canary receives no traffic and the
    /// analysis fails or halts.
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
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/kubernetes_default.go (`reconcileService`): each generated Service has one port named
    /// `portName` (default `http`) with `port: service.port` and `targetPort:
    /// service.targetPort`, defaulting to `service.port` (fluxcd/flagger#279, #327). A pod
    /// template that declares no ports at all is not checked: an undeclared port can still
    /// listen.
    ///
    /// ### Severity
    /// Kubernetes resolves a *named* targetPort against the ports the pod template declares
    /// (the EndpointSlice controller, `podutil.FindPort`): an undeclared name gives the
    /// Services no endpoints, so every request fails — an error. A *number* is sent to the pod
    /// as it is, declared or not (`containerPort` is informational), so an undeclared number
    /// only very likely means nothing listens there — a warning.
    pub struct TargetPortNotExposed;
    code: "CL302",
    slug: "target-port-not-exposed",
    severity: Error,
    summary: "service.targetPort (or port) matches no container port of the target",
    since: "0.1.0",
    fix: None,
    inputs: [Deployment, DaemonSet],
    kinds: [Canary],
}

impl Rule for TargetPortNotExposed {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let Some(workload) = super::found_workload(cx, &canary) else {
            return;
        };
        let Some(info) = workload.as_workload() else {
            return;
        };
        let ports: Vec<_> = info
            .containers
            .iter()
            .flat_map(|c| c.ports.iter())
            .collect();
        if ports.is_empty() {
            return;
        }
        let (target, node, field) = match (service.target_port(), service.port()) {
            (Some(t), _) => (t.value, t.node, "targetPort"),
            (None, Some(p)) if p.value.fract() == 0.0 => {
                (PortRef::Number(p.value as i64), p.node, "port")
            }
            _ => return,
        };
        let exposed = ports.iter().any(|p| match target {
            PortRef::Number(n) => p.port == n,
            PortRef::Name(name) => p.name.as_deref() == Some(name),
        });
        if exposed {
            return;
        }
        let listed: Vec<String> = ports
            .iter()
            .map(|p| match &p.name {
                Some(n) => format!("{n} ({})", p.port),
                None => p.port.to_string(),
            })
            .collect();
        let what = match (field, target) {
            ("port", _) => format!("service.port {target} (used as targetPort, since none is set)"),
            (_, PortRef::Name(_)) => format!("service.targetPort \"{target}\""),
            _ => format!("service.targetPort {target}"),
        };
        // Name a port only when the template has just one: any other pick would be a guess.
        let only = (ports.len() == 1).then(|| ports[0]);
        let suggestion = match (field, only) {
            ("port", Some(p)) => format!(
                "set service.targetPort to {} (keep port {} for clients)",
                p.name
                    .as_ref()
                    .map_or_else(|| p.port.to_string(), |n| n.to_string()),
                service.port().map_or_else(String::new, |p| num(p.value))
            ),
            _ => "point service.targetPort at a containerPort or port name of the pod template"
                .into(),
        };
        // A number reaches the pod whether or not it is declared; a name must be declared.
        let severity = match target {
            PortRef::Name(_) => canarylint::Severity::Error,
            PortRef::Number(_) => canarylint::Severity::Warning,
        };
        cx.report(
            At::Value(node),
            format!(
                "{what} matches no container port of {} {}/{} (ports: {})",
                workload.kind.describe(),
                workload.namespace,
                workload.name,
                listed.join(", ")
            ),
        )
        .help(suggestion)
        .severity(severity)
        .related(
            info.ports_location
                .as_deref()
                .cloned()
                .or_else(|| workload.origin.clone()),
            format!(
                "containers of {} {}",
                workload.kind.describe(),
                workload.name
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::DEPLOYMENT;

    #[test]
    fn cases() {
        let d = |f: &str| format!("{f}{DEPLOYMENT}");
        let pass = [
            d("spec:\n  service:\n    port: 9898\n"),
            d("spec:\n  service:\n    port: 9898\n    targetPort: http\n"),
            d("spec:\n  service:\n    port: 9898\n    targetPort: 9999\n"),
        ];
        let fail = [
            d("spec:\n  service:\n    port: 80 # warning: CL302\n"),
            d("spec:\n  service:\n    port: 80\n    targetPort: metrics # error: CL302\n"),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::TargetPortNotExposed, &pass, &fail);
    }
}
