use canarylint::suggest::did_you_mean;
use canarylint::{At, Cx, Kind, Lookup, Rule, declare_rule};

use super::{gateway_parent, unresolved_reference};
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Checks that every `service.gatewayRefs` entry of a Gateway API Canary names an existing
    /// `gateway.networking.k8s.io` Gateway; the namespace defaults to the Canary's.
    ///
    /// ### Why is this bad?
    /// Flagger writes `gatewayRefs` as the `parentRefs` of the HTTPRoute it generates. A parent
    /// that does not exist never accepts the route: no traffic reaches the primary or the
    /// canary through it, and the analysis sees no requests.
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
    ///       - www.example.com
    ///     gatewayRefs:
    ///       - name: gatway
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
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/gateway_api.go copies `service.gatewayRefs` into the HTTPRoute's `parentRefs`
    /// unchanged. A reference without `namespace` means the route's (the Canary's) namespace.
    /// Parents that are no Gateway (`group: core` or `kind: Service`, as Linkerd's mesh routing
    /// uses) are not checked. Without that namespace's Gateways in the inventory the reference
    /// is reported as CL100, not as missing.
    /// Decided by pkg/router/gateway_api.go and gateway_api_v1beta1.go, `Reconcile`.
    ///
    /// ### Severity
    /// An error: a route whose parent Gateway does not exist is attached to nothing (its
    /// `Accepted` condition stays false), so the ingress never sends it traffic.
    pub struct GatewayRefNotFound;
    code: "CL107",
    slug: "gateway-ref-not-found",
    severity: Error,
    summary: "a service.gatewayRefs entry names no existing Gateway API Gateway",
    since: "0.1.0",
    fix: None,
    inputs: [GatewayApiGateway],
    kinds: [Canary],
    providers: [GatewayApi],
    provider_specific: true,
}

impl Rule for GatewayRefNotFound {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let ns = cx.namespace();
        for r in service.gateway_refs() {
            let Some(parent) = gateway_parent(&r, ns) else {
                continue;
            };
            let (gw_ns, name) = (parent.namespace, parent.name.value);
            match cx.lookup(Kind::GatewayApiGateway, gw_ns, name) {
                Lookup::Found(_) => {}
                Lookup::Unknown => {
                    unresolved_reference::report(
                        cx,
                        At::Value(parent.name.node),
                        Kind::GatewayApiGateway,
                        gw_ns,
                        name,
                    );
                }
                Lookup::Absent => {
                    let names = cx.inventory.names(Kind::GatewayApiGateway, gw_ns);
                    let near = did_you_mean(name, names.iter().copied()).map(str::to_string);
                    let elsewhere = cx
                        .inventory
                        .all(Kind::GatewayApiGateway)
                        .find(|o| o.name == name)
                        .map(|o| o.namespace.clone());
                    let help = match (near, elsewhere) {
                        (Some(n), _) => format!("did you mean `{n}`?"),
                        (None, Some(other)) => format!(
                            "a Gateway of that name exists in namespace {other}: set `namespace: {other}`"
                        ),
                        // Other Gateways of the namespace are no evidence of what was meant.
                        (None, None) => {
                            format!("create the Gateway {gw_ns}/{name}, or correct the reference")
                        }
                    };
                    let how = if r.namespace().is_some() {
                        String::new()
                    } else {
                        format!(" (without namespace, the Canary's namespace {ns} is used)")
                    };
                    cx.report(
                        At::Value(parent.name.node),
                        format!("Gateway API Gateway {gw_ns}/{name} does not exist{how}"),
                    )
                    .help(help);
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    pub(crate) const GATEWAY: &str = "---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gateway
  namespace: istio-ingress
spec:
  gatewayClassName: istio
  listeners:
    - name: http
      port: 80
      protocol: HTTP
      hostname: \"*.example.com\"
";

    #[test]
    fn cases() {
        let g = |f: &str| format!("spec:\n  provider: gatewayapi:v1\n{f}{GATEWAY}");
        let pass = [
            g(
                "  service:\n    hosts: [www.example.com]\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n",
            ),
            // A Service parent (mesh routing) is no Gateway.
            g(
                "  service:\n    gatewayRefs:\n      - name: podinfo\n        namespace: test\n        group: core\n        kind: Service\n",
            ),
            // A namespace without known Gateways: CL100, not CL107.
            g("  service:\n    gatewayRefs:\n      - name: public\n        namespace: other\n"),
        ];
        let fail = [
            g(
                "  service:\n    hosts: [www.example.com]\n    gatewayRefs:\n      - name: gatway # error: CL107\n        namespace: istio-ingress\n",
            ),
            g(
                "  service:\n    hosts: [www.example.com]\n    gatewayRefs:\n      - name: gateway # error: CL107\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: internal\n  namespace: test\nspec:\n  gatewayClassName: istio\n  listeners: []\n",
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::GatewayRefNotFound, &pass, &fail);
    }
}
