use canarylint::suggest::did_you_mean;
use canarylint::{At, Cx, Kind, Lookup, Rule, Severity, declare_rule};

use super::{GatewayRef, resolve_gateway, unresolved_reference};
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Resolves every `service.gateways` entry as istiod does and reports Istio Gateways that do
    /// not exist, and entries that are no gateway reference at all (`./name`, a hostname, a URL).
    ///
    /// ### Why is this bad?
    /// Flagger copies `service.gateways` verbatim into the VirtualService it generates. A
    /// reference to a missing Gateway binds the routes to nothing: the app is unreachable through
    /// the ingress, and the canary analysis sees no traffic.
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
    ///       - istio-system/public-gatway
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
    /// Flagger writes `service.gateways` into the VirtualService `<name>` in the Canary's
    /// namespace and adds `mesh` only when the list is empty (pkg/router/istio.go). istiod then
    /// resolves `name` in that namespace, `ns/name` as written, and the legacy
    /// `name.ns.svc.cluster.local` (accepted with a warning); its validation rejects `./name`.
    /// A Gateway API Gateway of that name satisfies the reference too. Without the namespace's
    /// Gateways in the inventory the reference is reported as CL100, not as missing.
    pub struct GatewayNotFound;
    code: "CL101",
    slug: "gateway-not-found",
    severity: Error,
    summary: "a service.gateways entry names no existing Istio Gateway, or is no gateway reference",
    since: "0.1.0",
    fix: None,
    inputs: [IstioGateway, GatewayApiGateway],
    kinds: [Canary],
    providers: [Istio],
    provider_specific: true,
}

impl Rule for GatewayNotFound {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let ns = cx.namespace();
        for g in service.gateways() {
            match resolve_gateway(g.value, ns) {
                GatewayRef::Mesh => {}
                GatewayRef::Invalid(why) => {
                    cx.report(
                        At::Value(g.node),
                        format!("gateway reference \"{}\" is not valid: {why}", g.value),
                    )
                    .help(
                        "write the Gateway as `namespace/name`, or `mesh` for in-cluster traffic",
                    );
                }
                GatewayRef::Named {
                    namespace,
                    name,
                    legacy,
                } => {
                    match cx.lookup(Kind::IstioGateway, &namespace, &name) {
                        Lookup::Found(_) => {}
                        Lookup::Unknown => {
                            if cx
                                .lookup(Kind::GatewayApiGateway, &namespace, &name)
                                .found()
                                .is_none()
                            {
                                unresolved_reference::report(
                                    cx,
                                    At::Value(g.node),
                                    Kind::IstioGateway,
                                    &namespace,
                                    &name,
                                );
                            }
                        }
                        Lookup::Absent => {
                            if cx
                                .lookup(Kind::GatewayApiGateway, &namespace, &name)
                                .found()
                                .is_some()
                            {
                                continue;
                            }
                            let names = cx.inventory.names(Kind::IstioGateway, &namespace);
                            let near =
                                did_you_mean(&name, names.iter().copied()).map(str::to_string);
                            let elsewhere: Vec<String> = cx
                                .inventory
                                .all(Kind::IstioGateway)
                                .filter(|o| o.name == name)
                                .map(|o| format!("{}/{}", o.namespace, o.name))
                                .collect();
                            let help = match (near, elsewhere.first()) {
                                (Some(n), _) => format!("did you mean `{namespace}/{n}`?"),
                                (None, Some(e)) => format!(
                                    "a Gateway of that name exists as `{e}`: write the namespace"
                                ),
                                (None, None) => format!(
                                    "create the Gateway, or reference one of namespace {namespace}: {}",
                                    names.join(", ")
                                ),
                            };
                            let how = if g.value.contains('/') {
                                String::new()
                            } else {
                                format!(
                                    " (a name without namespace is looked up in the Canary's namespace, {ns})"
                                )
                            };
                            cx.report(
                                At::Value(g.node),
                                format!("Istio Gateway {namespace}/{name} does not exist{how}"),
                            )
                            .help(help);
                        }
                    }
                    if legacy {
                        cx.report(
                            At::Value(g.node),
                            format!("\"{}\" uses the legacy gateway name form", g.value),
                        )
                        .severity(Severity::Info)
                        .help(format!(
                            "write `{namespace}/{name}`, the form istiod recommends"
                        ));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    pub(crate) const GATEWAY: &str = "---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public-gateway
  namespace: istio-system
spec:
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts: [\"*.example.com\"]
";

    #[test]
    fn cases() {
        let g = |f: &str| format!("{f}{GATEWAY}");
        let pass = [
            g(
                "spec:\n  service:\n    gateways: [istio-system/public-gateway, mesh]\n    hosts: [app.example.com]\n",
            ),
            "spec:\n  service:\n    gateways: [mesh]\n".to_string(),
        ];
        let fail = [
            g("spec:\n  service:\n    gateways:\n      - istio-system/public-gatway # error: CL101\n      - mesh\n    hosts: [app.example.com]\n"),
            g("spec:\n  service:\n    gateways:\n      - public-gateway # error: CL101\n      - mesh\n    hosts: [app.example.com]\n---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: internal-gateway\n  namespace: test\nspec:\n  servers: []\n"),
            "spec:\n  service:\n    gateways:\n      - ./public-gateway # error: CL101\n      - www.myapp.com # error: CL101\n      - mesh\n".to_string(),
            g("spec:\n  service:\n    gateways:\n      - public-gateway.istio-system.svc.cluster.local # info: CL101\n      - mesh\n    hosts: [app.example.com]\n"),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::GatewayNotFound, &pass, &fail);
    }
}
