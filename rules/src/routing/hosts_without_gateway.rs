use canarylint::{At, Cx, Rule, declare_rule};

use super::is_cluster_internal;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Notes external host names in `service.hosts` when `service.gateways` names no ingress
    /// Gateway (it is empty, or only `mesh`).
    ///
    /// ### Why is this bad?
    /// Without a Gateway, Flagger's VirtualService is bound to `mesh` only: it shapes calls made
    /// from sidecars inside the cluster, and no ingress serves `app.example.com`. Users who
    /// expect the canary split on their public traffic get none of it (fluxcd/flagger#347,
    /// #1715). That is right for hosts that only in-mesh clients use, hence only a note.
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
    ///     hosts:
    ///       - app.example.com
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
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
    ///     gateways:
    ///       - istio-system/public-gateway
    ///       - mesh
    ///     hosts:
    ///       - app.example.com
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/istio.go copies `service.gateways` into the VirtualService and adds `mesh`
    /// only when the list is empty. Cluster-internal names (a short name, `name.namespace`,
    /// `*.svc.cluster.local`) and `*` (see CL110) are not reported.
    /// Decided by pkg/router/istio.go, `reconcileVirtualService`.
    ///
    /// ### Severity
    /// Info: whether external names should reach the service from outside depends on an intent
    /// canarylint cannot see.
    pub struct HostsWithoutGateway;
    code: "CL106",
    slug: "hosts-without-gateway",
    severity: Info,
    summary: "external service.hosts without an ingress gateway: only in-mesh traffic is routed",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
    providers: [Istio],
    provider_specific: true,
}

impl Rule for HostsWithoutGateway {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        if service.delegation().is_some_and(|d| d.value) {
            return;
        }
        let gateways = service.gateways();
        if gateways.iter().any(|g| g.value != "mesh") {
            return;
        }
        let ns = cx.namespace();
        let bound = if gateways.is_empty() {
            "service.gateways is empty"
        } else {
            "service.gateways is only `mesh`"
        };
        for h in service.hosts() {
            if h.value == "*" || is_cluster_internal(h.value, ns) {
                continue;
            }
            cx.report(
                At::Value(h.node),
                format!("host {} has no ingress gateway ({bound}): only in-mesh callers are routed for it", h.value),
            )
            .help("add the ingress Gateway that serves this host to service.gateways, together with `mesh`");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::HostsWithoutGateway,
            &[
                "spec:\n  service:\n    hosts: [podinfo, podinfo.test, podinfo.test.svc.cluster.local]\n",
                "spec:\n  service:\n    gateways: [istio-system/public-gateway, mesh]\n    hosts: [app.example.com]\n",
            ],
            &[
                "spec:\n  service:\n    hosts:\n      - podinfo\n      - app.example.com # info: CL106\n",
                "spec:\n  service:\n    gateways: [mesh]\n    hosts:\n      - \"*.example.com\" # info: CL106\n",
            ],
        );
    }
}
