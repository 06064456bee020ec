use canarylint::model::Object;
use canarylint::{At, Cx, Kind, Lookup, Rule, declare_rule};

use super::{GatewayRef, is_cluster_internal, offered_hosts, resolve_gateways};
use crate::helpers::hosts_overlap;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Checks, host by host, that every `service.hosts` entry is served by at least one of the
    /// Gateways in `service.gateways`, binding hosts as istiod does.
    ///
    /// ### Why is this bad?
    /// istiod gives a VirtualService host a route on a Gateway only when it matches one of that
    /// Gateway's `servers[].hosts`. A host that matches none is silently unrouted: requests for
    /// it get a 404 from the ingress, and the canary never sees that traffic.
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
    ///     gateways:
    ///       - istio-system/public-gateway
    ///       - mesh
    ///     hosts:
    ///       - app.example.org
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: Gateway
    /// metadata:
    ///   name: public-gateway
    ///   namespace: istio-system
    /// spec:
    ///   servers:
    ///     - port:
    ///         number: 80
    ///         name: http
    ///         protocol: HTTP
    ///       hosts:
    ///         - "*.example.com"
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
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: Gateway
    /// metadata:
    ///   name: public-gateway
    ///   namespace: istio-system
    /// spec:
    ///   servers:
    ///     - port:
    ///         number: 80
    ///         name: http
    ///         protocol: HTTP
    ///       hosts:
    ///         - "*.example.com"
    /// ```
    ///
    /// ### Flagger behaviour
    /// Flagger's VirtualService carries `service.hosts` plus the apex name (pkg/router/istio.go,
    /// `reconcileVirtualService`); only the hosts you wrote are checked (the apex name is meant
    /// for the mesh). Server hosts bind as in istiod (pilot/pkg/networking/core/gateway.go,
    /// `pickMatchingGatewayHosts`; server hosts rewritten by
    /// pilot/pkg/model/gateway.go): `ns/host` only for VirtualServices in `ns` (the Canary's
    /// namespace), `./host` for the Gateway's own namespace, `*/host` and a bare host for any
    /// namespace, `*/*` for everything; hosts overlap byte for byte, with a leading `*` as
    /// wildcard (`*.example.com` covers `app.example.com`, not `example.com`;
    /// pkg/config/host/name.go, `Matches`). With `mesh` in the list, cluster-internal names
    /// are left to the mesh.
    ///
    /// ### Compared with istioctl analyze
    /// `istioctl analyze` (pkg/config/analysis/analyzers/virtualservice/gateways.go) reports
    /// IST0132 once for each Gateway of `spec.gateways` that serves *none* of the
    /// VirtualService's hosts, at that gateway entry. This rule reports each *host* that *no*
    /// referenced Gateway serves, at that host. So a host that one Gateway serves is never
    /// reported here even when another Gateway of the list serves none of the hosts (IST0132
    /// fires for that Gateway); and a host that no Gateway serves is reported here even when
    /// every Gateway serves some other host (IST0132 stays silent). The second case is the one
    /// that loses traffic: istiod routes each host separately and leaves that one unrouted.
    ///
    /// ### Severity
    /// An error: the host gets no route on any of the Gateways, so its requests are not
    /// routed to the service at all.
    pub struct HostNotInGateway;
    code: "CL102",
    slug: "host-not-in-gateway",
    severity: Error,
    summary: "a service.hosts entry is served by none of the referenced Gateways",
    since: "0.1.0",
    fix: None,
    inputs: [IstioGateway, GatewayApiGateway],
    kinds: [Canary],
    providers: [Istio],
    provider_specific: true,
}

impl Rule for HostNotInGateway {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let ns = cx.namespace();
        let mut gateways: Vec<&Object> = Vec::new();
        let mut mesh = false;
        let entries: Vec<&str> = service.gateways().iter().map(|g| g.value).collect();
        for resolved in resolve_gateways(&entries, ns) {
            match resolved {
                GatewayRef::Mesh => mesh = true,
                GatewayRef::Invalid(_) => {}
                GatewayRef::Named {
                    namespace, name, ..
                } => {
                    let found = match cx.lookup(Kind::IstioGateway, &namespace, &name) {
                        Lookup::Found(o) => Some(o),
                        _ => cx
                            .lookup(Kind::GatewayApiGateway, &namespace, &name)
                            .found(),
                    };
                    match found {
                        Some(o) => gateways.push(o),
                        // A Gateway we cannot see may serve the host: say nothing.
                        None => return,
                    }
                }
            }
        }
        if gateways.is_empty() {
            return;
        }
        let offered: Vec<(&Object, Vec<String>)> = gateways
            .iter()
            .map(|g| (*g, offered_hosts(g, ns)))
            .collect();
        for h in service.hosts() {
            if mesh && is_cluster_internal(h.value, ns) {
                continue;
            }
            let expanded = (!h.value.contains('.') && h.value != "*")
                .then(|| format!("{}.{ns}.svc.cluster.local", h.value));
            let served = offered.iter().any(|(_, hosts)| {
                hosts.iter().any(|s| {
                    hosts_overlap(h.value, s)
                        || expanded.as_deref().is_some_and(|e| hosts_overlap(e, s))
                })
            });
            if served {
                continue;
            }
            let names: Vec<String> = gateways
                .iter()
                .map(|g| format!("{}/{}", g.namespace, g.name))
                .collect();
            let all_hosts: Vec<String> = offered
                .iter()
                .flat_map(|(_, h)| h.iter().cloned())
                .collect();
            let shown = if all_hosts.is_empty() {
                "none for this namespace".to_string()
            } else {
                all_hosts.join(", ")
            };
            let mut r = cx
                .report(
                    At::Value(h.node),
                    format!(
                        "host {} is not served by gateway {} (hosts: {shown}): istiod leaves it unrouted",
                        h.value,
                        names.join(", ")
                    ),
                )
                .help("add the host to the Gateway's servers[].hosts, or use a host the Gateway serves");
            for g in &gateways {
                let loc = g
                    .as_istio_gateway()
                    .and_then(|i| {
                        i.servers
                            .iter()
                            .find_map(|s| s.hosts_location.as_deref().cloned())
                    })
                    .or_else(|| {
                        g.as_gateway_api()
                            .and_then(|a| a.listeners_location.as_deref().cloned())
                    })
                    .or_else(|| g.origin.clone());
                r = r.related(loc, format!("hosts of gateway {}/{}", g.namespace, g.name));
            }
            drop(r);
        }
    }
}

#[cfg(test)]
mod tests {
    const GATEWAY: &str = "---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public-gateway
  namespace: istio-system
spec:
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts: [\"*.example.com\", \"test/exact.example.org\", \"other/private.example.net\"]
";

    #[test]
    fn cases() {
        let g = |f: &str| format!("{f}{GATEWAY}");
        let pass = [
            g("spec:\n  service:\n    gateways: [istio-system/public-gateway]\n    hosts: [app.example.com, exact.example.org]\n"),
            g("spec:\n  service:\n    gateways: [istio-system/public-gateway, mesh]\n    hosts: [app.example.com, podinfo, podinfo.test.svc.cluster.local]\n"),
            // A Gateway outside the inventory: nothing can be said about its hosts.
            "spec:\n  service:\n    gateways: [istio-system/other-gateway]\n    hosts: [app.example.org]\n".to_string(),
        ];
        let fail = [
            g(
                "spec:\n  service:\n    gateways: [istio-system/public-gateway, mesh]\n    hosts:\n      - app.example.com\n      - example.com # error: CL102\n",
            ),
            g(
                "spec:\n  service:\n    gateways: [istio-system/public-gateway]\n    hosts:\n      - private.example.net # error: CL102\n      - app.example.org # error: CL102\n",
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::HostNotInGateway, &pass, &fail);
    }
}
