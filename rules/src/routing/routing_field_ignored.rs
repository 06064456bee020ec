use canarylint::model::CanaryView;
use canarylint::{At, Cx, Rule, Severity, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports routing fields the Canary's router does not read: `service.gateways` on a Gateway
    /// API Canary, `service.gatewayRefs` on an Istio Canary. A Gateway API Canary without
    /// `gatewayRefs` is an error.
    ///
    /// ### Why is this bad?
    /// The Istio router binds its VirtualService to `service.gateways`; the Gateway API router
    /// attaches its HTTPRoute to `service.gatewayRefs`. Each ignores the other field, so the
    /// Gateways listed there are never used and the app is not exposed where you meant. The
    /// Gateway API router also stops outright without `gatewayRefs`: "GatewayRefs must be
    /// specified when using Gateway API as a provider", and the canary never starts.
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
    ///     gateways:
    ///       - istio-ingress/gateway
    ///     hosts:
    ///       - www.example.com
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
    ///   provider: gatewayapi:v1
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///     gatewayRefs:
    ///       - name: gateway
    ///         namespace: istio-ingress
    ///     hosts:
    ///       - www.example.com
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/gateway_api.go fails its reconcile when `gatewayRefs` is empty and never reads
    /// `gateways`; pkg/router/istio.go reads `gateways` and never `gatewayRefs`. The missing
    /// `gatewayRefs` finding is an error, the ignored fields are warnings; on a provider that
    /// is only inferred, nothing here is an error.
    /// Decided by pkg/router/gateway_api.go (`Reconcile`) and pkg/router/istio.go
    /// (`reconcileVirtualService`); pkg/router/factory.go picks which one a provider gets.
    ///
    /// ### Severity
    /// An error for a Gateway API Canary without `gatewayRefs`: the reconcile fails
    /// ("GatewayRefs must be specified"). The ignored fields are warnings: nothing fails, but
    /// the routing written there does not happen.
    pub struct RoutingFieldIgnored;
    code: "CL109",
    slug: "routing-field-ignored",
    severity: Warning,
    summary: "gateways on a Gateway API Canary or gatewayRefs on an Istio one: that router ignores the field",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
    provider_specific: true,
}

impl Rule for RoutingFieldIgnored {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(provider) = cx.provider().cloned() else {
            return;
        };
        let service = canary.service();
        if provider.is_gateway_api() {
            let Some(spec) = canary.spec() else { return };
            if let Some(list) = service
                .and_then(|s| s.gateways_node())
                .filter(|l| !l.items().is_empty())
            {
                cx.report(
                    At::Key(list),
                    format!("service.gateways is ignored by the {} router: the HTTPRoute attaches to service.gatewayRefs", provider.name),
                )
                .help("list the Gateways under service.gatewayRefs (name and namespace) and remove service.gateways");
            }
            let refs = service.and_then(|s| s.gateway_refs_node());
            if refs.is_none_or(|r| r.items().is_empty()) {
                let at = match (refs, service) {
                    (Some(r), _) => At::Key(r),
                    (None, Some(s)) => At::Missing(s.node, "gatewayRefs"),
                    (None, None) => At::Missing(spec, "service"),
                };
                cx.report(
                    at,
                    format!("provider {} without service.gatewayRefs: Flagger fails with \"GatewayRefs must be specified\"", provider.name),
                )
                .severity(Severity::Error)
                .help("add service.gatewayRefs with the Gateway the HTTPRoute should attach to");
            }
        } else if provider.is_istio()
            && let Some(list) = service
                .and_then(|s| s.gateway_refs_node())
                .filter(|l| !l.items().is_empty())
        {
            cx.report(
                At::Key(list),
                "service.gatewayRefs is ignored by the istio router: the VirtualService binds to service.gateways",
            )
            .help("set spec.provider to gatewayapi:v1 to use gatewayRefs, or list the Istio Gateways in service.gateways");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::RoutingFieldIgnored,
            &[
                "spec:\n  provider: gatewayapi:v1\n  service:\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n",
                "spec:\n  service:\n    gateways: [mesh]\n",
                // Inferred from gatewayRefs: Gateway API.
                "spec:\n  provider: __remove__\n  service:\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n",
            ],
            &[
                "spec:\n  provider: gatewayapi:v1\n  service:\n    gateways: # warning: CL109\n      - istio-ingress/gateway\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n",
                "spec:\n  provider: gatewayapi:v1\n  service: # error: CL109\n    port: 9898\n",
                "spec:\n  provider: gatewayapi:v1beta1\n  service:\n    gatewayRefs: [] # error: CL109\n",
                "spec:\n  service:\n    gatewayRefs: # warning: CL109\n      - name: gateway\n        namespace: istio-ingress\n",
            ],
        );
    }
}
