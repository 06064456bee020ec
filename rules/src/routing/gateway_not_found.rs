use canarylint::model::Field;
use canarylint::suggest::did_you_mean;
use canarylint::{At, Cx, Kind, Lookup, Rule, Severity, declare_rule};

use super::{GatewayRef, NameForm, resolve_gateways, unresolved_reference};
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Resolves every `service.gateways` entry as istiod does and reports Istio Gateways that do
    /// not exist, entries istiod's validation rejects (`./name` first in the list, a URL, a
    /// label that is no DNS label), and hostnames written where a Gateway belongs.
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
    /// Flagger writes `service.gateways` verbatim into the VirtualService `<name>` in the
    /// Canary's namespace and adds `mesh` only when the list is empty (pkg/router/istio.go,
    /// `reconcileVirtualService`). istiod decides the rest:
    /// - validation (pkg/config/validation/validation.go, `validateGatewayNames`) rejects an
    ///   entry `ns/name` whose parts are not DNS labels (so `./name`), and an entry without `/`
    ///   that is no domain name; it warns on the legacy dotted form, and it stops at the first
    ///   entry without `/` (`mesh` included): later entries are not validated at all;
    /// - resolution (pilot/pkg/model/config.go, `resolveGatewayName`) reads `name` and `./name`
    ///   in the VirtualService's namespace, `ns/name` as written, and a dotted name by its first
    ///   two labels: `public-gateway.istio-system.svc` is `istio-system/public-gateway`, and
    ///   `www.myapp.com` is a Gateway `www` in namespace `myapp`.
    ///
    /// A Gateway API Gateway of that name satisfies the reference too
    /// (pkg/config/analysis/analyzers/virtualservice/gateways.go). Without the namespace's
    /// Gateways in the inventory the reference is reported as CL100, not as missing.
    ///
    /// ### Severity
    /// An error when istiod refuses the VirtualService (Flagger's reconcile then fails) or the
    /// Gateway is absent from an authoritative inventory (the routes bind to nothing). A
    /// hostname-like legacy entry whose Gateway cannot be checked is a warning; the legacy form
    /// and a `./` that escaped validation are info: istiod routes them as written.
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
        let gateways = service.gateways();
        let entries: Vec<&str> = gateways.iter().map(|g| g.value).collect();
        for (g, resolved) in gateways.iter().zip(resolve_gateways(&entries, ns)) {
            match resolved {
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
                ref r @ GatewayRef::Named {
                    ref namespace,
                    ref name,
                    form,
                } => {
                    if !r.can_exist() {
                        cx.report(
                            At::Value(g.node),
                            format!("gateway reference \"{}\" resolves to {namespace}/{name}, a name no Kubernetes object can have", g.value),
                        )
                        .help(format!(
                            "write the Gateway's name in lower case: `{}/{}`",
                            namespace.to_ascii_lowercase(),
                            name.to_ascii_lowercase()
                        ));
                        continue;
                    }
                    let hostname_like = form == NameForm::Legacy && looks_like_hostname(g.value);
                    match cx.lookup(Kind::IstioGateway, namespace, name) {
                        Lookup::Found(_) => {}
                        Lookup::Unknown => {
                            if cx
                                .lookup(Kind::GatewayApiGateway, namespace, name)
                                .found()
                                .is_some()
                            {
                            } else if hostname_like {
                                cx.report(
                                    At::Value(g.node),
                                    format!("\"{}\" looks like a hostname, but istiod reads it as the legacy gateway name {namespace}/{name}", g.value),
                                )
                                .severity(Severity::Warning)
                                .help("put hostnames in `service.hosts` and name the Gateway as `namespace/name`");
                                continue;
                            } else {
                                unresolved_reference::report(
                                    cx,
                                    At::Value(g.node),
                                    Kind::IstioGateway,
                                    namespace,
                                    name,
                                );
                            }
                        }
                        Lookup::Absent => {
                            if cx
                                .lookup(Kind::GatewayApiGateway, namespace, name)
                                .found()
                                .is_some()
                            {
                                continue;
                            }
                            report_absent(cx, g, namespace, name, ns, form, hostname_like);
                            continue;
                        }
                    }
                    match form {
                        NameForm::Legacy => {
                            cx.report(
                                At::Value(g.node),
                                format!(
                                    "\"{}\" uses the legacy gateway name form (istiod warns)",
                                    g.value
                                ),
                            )
                            .severity(Severity::Info)
                            .help(format!(
                                "write `{namespace}/{name}`, the form istiod recommends"
                            ));
                        }
                        NameForm::DotSlash => {
                            cx.report(
                                At::Value(g.node),
                                format!("\"{}\" is accepted only because istiod stops validating gateways after the first entry without `/`", g.value),
                            )
                            .severity(Severity::Info)
                            .help(format!("write `{name}` or `{namespace}/{name}`: istiod rejects `./` where it validates"));
                        }
                        NameForm::Short | NameForm::Qualified => {}
                    }
                }
            }
        }
    }
}

/// A legacy-form entry whose third label is not `svc`: a hostname written where a Gateway
/// belongs (fluxcd/flagger#65), not `name.namespace[.svc.cluster.local]`.
fn looks_like_hostname(entry: &str) -> bool {
    let labels: Vec<&str> = entry.trim_end_matches('.').split('.').collect();
    labels.len() > 2 && labels[2] != "svc"
}

fn report_absent(
    cx: &mut Cx<'_, '_>,
    g: &Field<'_, &str>,
    namespace: &str,
    name: &str,
    ns: &str,
    form: NameForm,
    hostname_like: bool,
) {
    let names = cx.inventory.names(Kind::IstioGateway, namespace);
    let near = did_you_mean(name, names.iter().copied()).map(str::to_string);
    let elsewhere: Vec<String> = cx
        .inventory
        .all(Kind::IstioGateway)
        .filter(|o| o.name == name)
        .map(|o| format!("{}/{}", o.namespace, o.name))
        .collect();
    let help = match (near, elsewhere.first()) {
        _ if hostname_like => {
            "put hostnames in `service.hosts` and name the Gateway as `namespace/name`".to_string()
        }
        (Some(n), _) => format!("did you mean `{namespace}/{n}`?"),
        (None, Some(e)) => format!("a Gateway of that name exists as `{e}`: write the namespace"),
        // Other Gateways of the namespace are no evidence of what was meant: name none.
        (None, None) => {
            format!("create the Gateway {namespace}/{name}, or reference an existing one")
        }
    };
    let how = match form {
        NameForm::Short | NameForm::DotSlash => {
            format!(" (a name without namespace is looked up in the Canary's namespace, {ns})")
        }
        NameForm::Legacy => {
            " (istiod reads the legacy form `name.namespace…` this way)".to_string()
        }
        NameForm::Qualified => String::new(),
    };
    cx.report(
        At::Value(g.node),
        format!("Istio Gateway {namespace}/{name} does not exist{how}"),
    )
    .help(help);
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
            // Validated first: istiod refuses the VirtualService.
            "spec:\n  service:\n    gateways:\n      - ./public-gateway # error: CL101\n      - mesh\n".to_string(),
            // A hostname reads as Gateway www in namespace myapp, which nothing shows.
            "spec:\n  service:\n    gateways:\n      - www.myapp.com # warning: CL101\n      - mesh\n".to_string(),
            g("spec:\n  service:\n    gateways:\n      - public-gateway.istio-system.svc.cluster.local # info: CL101\n      - mesh\n    hosts: [app.example.com]\n"),
            // istiod's own legacy example: the first two labels name the Gateway.
            g("spec:\n  service:\n    gateways:\n      - public-gateway.istio-system.svc # info: CL101\n      - mesh\n    hosts: [app.example.com]\n"),
            // After `mesh` nothing is validated: `./` resolves in the Canary's namespace.
            "spec:\n  service:\n    gateways:\n      - mesh\n      - ./public-gateway # info: CL101\n---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: public-gateway\n  namespace: test\nspec:\n  servers: []\n".to_string(),
            "spec:\n  service:\n    gateways:\n      - istio-system/Public-Gateway # error: CL101\n      - mesh\n".to_string(),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::GatewayNotFound, &pass, &fail);
    }
}
