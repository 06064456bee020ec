use canarylint::model::CanaryView;
use canarylint::{At, Cx, Kind, Router, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Checks the prerequisites Flagger enforces per provider: `nginx` and `skipper` need
    /// `spec.ingressRef`, `apisix` needs `spec.routeRef`, the legacy `appmesh` router needs
    /// `service.meshName` (`appmesh:v1beta2` does not); a Knative Service target needs `spec.provider: knative` and no
    /// `autoscalerRef`, and `provider: knative` needs a Knative Service target.
    ///
    /// ### Why is this bad?
    /// Flagger cannot route without these. The ingress routers fail every reconcile ("ingress
    /// selector is empty", "apisix route selector is empty", "mesh name cannot be empty"), and
    /// the Knative checks make the controller reject the Canary outright ("can't use istio
    /// provider with Knative Service as target", "can't use autoscaler with Knative Service").
    /// Either way the canary never starts.
    ///
    /// ### Example
    /// ```yaml
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   provider: nginx
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
    /// ### Use instead
    /// ```yaml
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   provider: nginx
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   ingressRef:
    ///     apiVersion: networking.k8s.io/v1
    ///     kind: Ingress
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
    /// pkg/router/factory.go (`MeshRouter`) picks the router from the provider string: `nginx`
    /// → `IngressRouter`, `skipper` → `SkipperRouter`, `apisix` → `ApisixRouter`, `appmesh` →
    /// `AppMeshRouter`, and any string starting with `appmesh:v1beta2` → `AppMeshv1beta2Router`.
    /// `Reconcile` of pkg/router/ingress.go and skipper.go fails with "ingress selector is
    /// empty", apisix.go with "apisix route selector is empty", and the legacy appmesh.go
    /// (`reconcileVirtualNode`) with "mesh name cannot be empty"; appmesh_v1beta2.go never reads
    /// `meshName`, so it is not required there. The spec validation that `syncHandler` runs
    /// (pkg/controller/controller.go, "invalid canary spec") compares the Knative target with
    /// `spec.provider` only: Flagger's global `-mesh-provider` does not count. The ingress
    /// requirements are checked for `spec.provider` and for a configured default provider,
    /// never for canarylint's own default.
    ///
    /// ### Severity
    /// An error where Flagger refuses the Canary or fails every reconcile; capped at warning
    /// when the provider is only inferred.
    pub struct ProviderRequirement;
    code: "CL310",
    slug: "provider-requirement",
    severity: Error,
    summary: "a provider prerequisite is missing: ingressRef, routeRef, meshName, or the Knative provider/target pairing",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for ProviderRequirement {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(spec) = canary.spec().filter(|s| s.is_map()) else {
            return;
        };
        let Some(provider) = cx.provider().cloned() else {
            return;
        };
        let spec_provider = canary.provider().filter(|p| !p.value.is_empty());
        let at_provider = match spec_provider {
            Some(p) => At::Value(p.node),
            None => At::Missing(spec, "provider"),
        };
        let name = provider.name.as_str();
        let requirement = match provider.router() {
            Router::Nginx | Router::Skipper if canary.ingress_ref().is_none() => Some((
                "spec.ingressRef",
                "ingress selector is empty",
                "the Ingress that routes to the apex Service",
            )),
            Router::Apisix if canary.route_ref().is_none() => Some((
                "spec.routeRef",
                "apisix route selector is empty",
                "the ApisixRoute that routes to the apex Service",
            )),
            // Only the legacy router reads meshName: appmesh:v1beta2 takes the mesh from the
            // namespace's App Mesh controller (appmesh_v1beta2.go never reads the field).
            Router::AppMesh
                if canary
                    .service()
                    .and_then(|s| s.mesh_name())
                    .is_none_or(|m| m.value.is_empty()) =>
            {
                Some((
                    "service.meshName",
                    "mesh name cannot be empty",
                    "the App Mesh the service joins",
                ))
            }
            _ => None,
        };
        if let Some((field, error, what)) = requirement {
            let from = if spec_provider.is_some() {
                ""
            } else {
                " (the configured default)"
            };
            cx.report(
                at_provider,
                format!("provider {name}{from} needs {field}: Flagger fails with \"{error}\""),
            )
            .help(format!("set {field} to {what}"));
        }

        let Some(t) = canary.target_ref() else { return };
        let knative_target = super::target_kind(&t) == Some(Kind::KnativeService);
        let knative_provider = spec_provider.is_some_and(|p| p.value == "knative");
        if knative_target && !knative_provider {
            cx.report(
                at_provider,
                format!("Knative Service target with provider {name}: Flagger rejects the Canary unless spec.provider is knative"),
            )
            .help("set spec.provider: knative (Flagger's global -mesh-provider does not count for Knative targets)");
        }
        if knative_provider && !knative_target && t.kind().is_some() {
            let kind = t.kind().map_or("", |k| k.value);
            cx.report(at_provider, format!("provider knative with a {kind} target: Flagger rejects the Canary (the target must be a Knative Service)"))
                .help("target a serving.knative.dev/v1 Service, or use another provider");
        }
        if knative_target && let Some(a) = canary.autoscaler_ref() {
            cx.report(At::Key(a.node), "autoscalerRef with a Knative Service target: Flagger rejects the Canary (Knative scales it)")
                .help("remove autoscalerRef and configure autoscaling on the Knative Service");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let knative = "spec:\n  provider: knative\n  targetRef:\n    apiVersion: serving.knative.dev/v1\n    kind: Service\n  service: __remove__\n";
        let pass = [
            "spec:\n  provider: nginx\n  ingressRef:\n    apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    name: podinfo\n".to_string(),
            "spec:\n  provider: apisix\n  routeRef:\n    apiVersion: apisix.apache.org/v2\n    kind: ApisixRoute\n    name: podinfo\n".to_string(),
            "spec:\n  provider: appmesh\n  service:\n    meshName: global\n".to_string(),
            // The v1beta2 router takes the mesh from the namespace, not from meshName.
            "spec:\n  provider: appmesh:v1beta2\n".to_string(),
            knative.to_string(),
        ];
        let fail = [
            "spec:\n  provider: skipper # error: CL310\n".to_string(),
            "spec:\n  provider: apisix # error: CL310\n".to_string(),
            "spec:\n  provider: appmesh # error: CL310\n".to_string(),
            "spec:\n  provider: istio # error: CL310\n  targetRef:\n    apiVersion: serving.knative.dev/v1\n    kind: Service\n  service: __remove__\n".to_string(),
            "spec:\n  provider: knative # error: CL310\n".to_string(),
            format!("{knative}  autoscalerRef: # error: CL310\n    apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler\n    name: podinfo\n"),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::ProviderRequirement, &pass, &fail);
    }
}
