use canarylint::model::Object;
use canarylint::{At, Cx, Kind, Rule, declare_rule};

use super::{gateway_parent, offered_hosts};
use crate::helpers::hosts_overlap;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Checks, host by host, that every `service.hosts` entry of a Gateway API Canary matches a
    /// listener `hostname` of at least one Gateway in `service.gatewayRefs`. A listener without
    /// `hostname` matches every host.
    ///
    /// ### Why is this bad?
    /// Flagger turns `service.hosts` into the HTTPRoute's `hostnames`. A Gateway attaches a
    /// route only for the hostnames that intersect one of its listeners; a hostname that
    /// matches none is silently dropped (the route reports `NoMatchingListenerHostname` when
    /// none match at all). Requests for that host get a 404 from the Gateway and never reach
    /// the primary or the canary.
    ///
    /// ### Example
    /// ```yaml
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   provider: gatewayapi:v1
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///     hosts:
    ///       - www.example.org
    ///     gatewayRefs:
    ///       - name: gateway
    ///         namespace: istio-ingress
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: gateway.networking.k8s.io/v1
    /// kind: Gateway
    /// metadata:
    ///   name: gateway
    ///   namespace: istio-ingress
    /// spec:
    ///   gatewayClassName: istio
    ///   listeners:
    ///     - name: http
    ///       port: 80
    ///       protocol: HTTP
    ///       hostname: "*.example.com"
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
    ///   provider: gatewayapi:v1
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///     hosts:
    ///       - www.example.com
    ///     gatewayRefs:
    ///       - name: gateway
    ///         namespace: istio-ingress
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: gateway.networking.k8s.io/v1
    /// kind: Gateway
    /// metadata:
    ///   name: gateway
    ///   namespace: istio-ingress
    /// spec:
    ///   gatewayClassName: istio
    ///   listeners:
    ///     - name: http
    ///       port: 80
    ///       protocol: HTTP
    ///       hostname: "*.example.com"
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/gateway_api.go sets the HTTPRoute `hostnames` to `service.hosts` as written,
    /// without the apex name, and `parentRefs` to `service.gatewayRefs`. Hostnames intersect as
    /// the Gateway API specifies: exact names match exactly, and a leading `*.` label matches
    /// any name ending in the rest (`*.example.com` covers `www.example.com`, not
    /// `example.com`). Nothing is reported while a referenced Gateway is outside the inventory,
    /// and a `sectionName` is not narrowed to its listener (the inventory keeps hostnames only).
    /// Decided by pkg/router/gateway_api.go, `Reconcile`, and the Gateway API's hostname
    /// intersection.
    ///
    /// ### Severity
    /// An error: a hostname that intersects no listener is not attached to that Gateway, so its
    /// requests are not routed to the service.
    pub struct HostnameNotInListener;
    code: "CL108",
    slug: "hostname-not-in-listener",
    severity: Error,
    summary: "a service.hosts entry matches no listener hostname of the referenced Gateway API Gateways",
    since: "0.1.0",
    fix: None,
    inputs: [GatewayApiGateway],
    kinds: [Canary],
    providers: [GatewayApi],
    provider_specific: true,
}

impl Rule for HostnameNotInListener {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let ns = cx.namespace();
        let mut gateways: Vec<&Object> = Vec::new();
        for r in service.gateway_refs() {
            let Some(parent) = gateway_parent(&r, ns) else {
                continue;
            };
            match cx
                .lookup(Kind::GatewayApiGateway, parent.namespace, parent.name.value)
                .found()
            {
                Some(o) => gateways.push(o),
                // A Gateway we cannot see may have a listener for the host: say nothing.
                None => return,
            }
        }
        if gateways.is_empty() {
            return;
        }
        let offered: Vec<String> = gateways.iter().flat_map(|g| offered_hosts(g, ns)).collect();
        for h in service.hosts() {
            if offered.iter().any(|l| hosts_overlap(h.value, l)) {
                continue;
            }
            let names: Vec<String> = gateways
                .iter()
                .map(|g| format!("{}/{}", g.namespace, g.name))
                .collect();
            let shown = if offered.is_empty() {
                "no listeners".to_string()
            } else {
                offered.join(", ")
            };
            let mut r = cx
                .report(
                    At::Value(h.node),
                    format!("host {} matches no listener of Gateway {} (hostnames: {shown})", h.value, names.join(", ")),
                )
                .help("add a listener for this host to the Gateway, or use a host one of its listeners serves");
            for g in &gateways {
                let loc = g
                    .as_gateway_api()
                    .and_then(|a| a.listeners_location.as_deref().cloned())
                    .or_else(|| g.origin.clone());
                r = r.related(
                    loc,
                    format!("listeners of Gateway {}/{}", g.namespace, g.name),
                );
            }
            drop(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::routing::gateway_ref_not_found::tests::GATEWAY;

    #[test]
    fn cases() {
        let g = |f: &str| format!("spec:\n  provider: gatewayapi:v1\n  service:\n{f}{GATEWAY}");
        let open = "---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: open
  namespace: istio-ingress
spec:
  gatewayClassName: istio
  listeners:
    - name: http
      port: 80
      protocol: HTTP
";
        let pass = [
            g(
                "    hosts: [www.example.com, \"*.example.com\"]\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n",
            ),
            // A listener without hostname takes every host.
            format!(
                "{}{open}",
                g(
                    "    hosts: [www.example.org]\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n      - name: open\n        namespace: istio-ingress\n"
                )
            ),
            // One Gateway is not in the inventory: nothing can be said.
            g(
                "    hosts: [www.example.org]\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n      - name: other\n        namespace: elsewhere\n",
            ),
        ];
        let fail = [g(
            "    hosts:\n      - www.example.com\n      - example.com # error: CL108\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n",
        )];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::HostnameNotInListener, &pass, &fail);
    }
}
