use canarylint::model::CanaryView;
use canarylint::{At, Cx, Kind, Lookup, Router, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports a VirtualService (Istio) or HTTPRoute (Gateway API) written by the user with the
    /// name Flagger gives the route it generates: the apex name (`service.name`, else
    /// `targetRef.name`) in the Canary's namespace. Routes owned by a Canary, or sending to
    /// `<apex>-primary`, are Flagger's own and are not reported.
    ///
    /// ### Why is this bad?
    /// Flagger takes the object over: it rewrites its `spec` on every reconcile, so the routes
    /// written there (extra hosts, gateways, matches, retries) are lost. A GitOps tool then puts
    /// the user's version back on every sync, and the two fight: traffic flips between the
    /// hand-written routes and Flagger's weights (fluxcd/flagger#347, #1857, #1888).
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
    /// apiVersion: networking.istio.io/v1
    /// kind: VirtualService
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   hosts: [podinfo]
    ///   http:
    ///     - route:
    ///         - destination:
    ///             host: podinfo
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
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/istio.go (`reconcileVirtualService`) gets the VirtualService named after the
    /// apex Service (`Canary.GetServiceNames`) in the Canary's namespace and, when its spec
    /// differs from the one Flagger builds, updates it with Flagger's spec; pkg/router/
    /// gateway_api.go and gateway_api_v1beta1.go (`Reconcile`) do the same with the HTTPRoute.
    /// pkg/router/factory.go picks which of the two a provider gets. Move the routing into the
    /// Canary (`service.gateways`, `hosts`, `match`, `retries`, `headers`, …) or give the
    /// hand-written route another name.
    ///
    /// ### Severity
    /// A warning: nothing fails at once, but the hand-written routes are overwritten and, under
    /// GitOps, restored on every sync. The object must be in the inventory to be reported.
    pub struct RouteNameConflict;
    code: "CL111",
    slug: "route-name-conflict",
    severity: Warning,
    summary: "a hand-written VirtualService or HTTPRoute has the name of the route Flagger generates",
    since: "0.2.0",
    fix: None,
    inputs: [VirtualService, HttpRoute],
    kinds: [Canary],
    providers: [Istio, GatewayApi],
    provider_specific: true,
}

impl Rule for RouteNameConflict {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(router) = cx.provider().map(|p| p.router()) else {
            return;
        };
        let kind = match router {
            Router::Istio => Kind::VirtualService,
            Router::GatewayApiV1 | Router::GatewayApiV1beta1 => Kind::HttpRoute,
            _ => return,
        };
        // Without `service` (Knative) Flagger builds no route.
        let Some(service) = canary.service() else {
            return;
        };
        let Some(apex) = canary.apex_name() else {
            return;
        };
        let ns = cx.namespace();
        let Lookup::Found(route) = cx.lookup(kind, ns, apex) else {
            return;
        };
        // Flagger's own route: owned by a Canary, or sending to the primary Service it made
        // (Flagger can run without owner references).
        let primary = format!("{apex}-primary");
        if route.as_route().is_some_and(|r| {
            r.owner_kinds.iter().any(|k| k == "Canary")
                || r.destinations
                    .iter()
                    .any(|d| *d == primary || d.starts_with(&format!("{primary}.")))
        }) {
            return;
        }
        let location = route.origin.clone();
        let what = kind.name();
        let at = match service.name() {
            Some(n) => At::Value(n.node),
            None => match canary.target_ref().and_then(|t| t.name()) {
                Some(n) => At::Value(n.node),
                None => At::Key(service.node),
            },
        };
        cx.report(
            at,
            format!("{what} {ns}/{apex} is written by hand, but Flagger generates a {what} of that name and overwrites it"),
        )
        .related(location, format!("the hand-written {what} {ns}/{apex}"))
        .help(format!(
            "move its routing into the Canary's service fields, or rename the hand-written {what}"
        ));
    }
}

#[cfg(test)]
mod tests {
    const VS: &str = "---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: podinfo
  namespace: test
spec:
  hosts: [podinfo]
  http:
    - route:
        - destination:
            host: podinfo
";

    #[test]
    fn cases() {
        let owned = "---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: podinfo
  namespace: test
  ownerReferences:
    - apiVersion: flagger.app/v1beta1
      kind: Canary
      name: podinfo
      uid: 1a2b
spec:
  hosts: [podinfo]
";
        let route = "---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: podinfo
  namespace: test
spec:
  hostnames: [app.example.com]
";
        let other_name = VS.replace(
            "name: podinfo\n  namespace",
            "name: podinfo-ext\n  namespace",
        );
        let generated = VS.replace("host: podinfo\n", "host: podinfo-primary\n");
        let pass = [
            format!("spec:\n  analysis:\n    interval: 1m\n{other_name}"),
            // Flagger's own VirtualService, dumped from a cluster without owner references.
            format!("spec:\n  analysis:\n    interval: 1m\n{generated}"),
            format!("spec:\n  analysis:\n    interval: 1m\n{owned}"),
            // An HTTPRoute is no concern of the Istio router.
            format!("spec:\n  analysis:\n    interval: 1m\n{route}"),
        ];
        let fail = [
            format!("spec:\n  targetRef:\n    name: podinfo # warning: CL111\n{VS}"),
            format!(
                "spec:\n  provider: gatewayapi:v1\n  service:\n    name: podinfo # warning: CL111\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n{route}"
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::RouteNameConflict, &pass, &fail);
    }
}
