use canarylint::model::{Object, str_field};
use canarylint::{At, Cx, Kind, Rule, declare_rule};

use crate::routing::unresolved_reference;
use canarylint::model::CanaryView;

/// Istio's root namespace (meshConfig.rootNamespace): its selector-less PeerAuthentication is
/// the mesh-wide policy.
const ROOT_NAMESPACE: &str = "istio-system";

declare_rule! {
    /// ### What it does
    /// Reports `service.trafficPolicy.tls.mode: DISABLE` on a Canary whose namespace requires
    /// mutual TLS: a selector-less PeerAuthentication with `mtls.mode: STRICT` in the Canary's
    /// namespace, or in the root namespace `istio-system` (mesh-wide) when the namespace sets no
    /// mode of its own.
    ///
    /// ### Why is this bad?
    /// Flagger copies the traffic policy into the `<name>-primary` and `<name>-canary`
    /// DestinationRules, so every client sidecar sends plain text to the pods. Under STRICT
    /// mTLS their sidecars accept only mutual TLS and reset each connection: callers get 503
    /// ("upstream connect error or disconnect/reset before headers") for the primary and the
    /// canary alike.
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
    ///     trafficPolicy:
    ///       tls:
    ///         mode: DISABLE
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: security.istio.io/v1
    /// kind: PeerAuthentication
    /// metadata:
    ///   name: default
    ///   namespace: test
    /// spec:
    ///   mtls:
    ///     mode: STRICT
    /// ```
    ///
    /// ### Use instead
    /// Let Istio's auto mTLS choose, or ask for it explicitly:
    ///
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
    ///     trafficPolicy:
    ///       tls:
    ///         mode: ISTIO_MUTUAL
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: security.istio.io/v1
    /// kind: PeerAuthentication
    /// metadata:
    ///   name: default
    ///   namespace: test
    /// spec:
    ///   mtls:
    ///     mode: STRICT
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/istio.go writes `service.trafficPolicy` into both DestinationRules. Istio
    /// applies the most specific PeerAuthentication: workload (with a selector), then
    /// namespace, then mesh (root namespace); `UNSET` inherits. A workload-level policy that
    /// relaxes the mode may exempt the target, so none is reported then. When canarylint knows
    /// no PeerAuthentication of the namespace (or of `istio-system`, if the namespace sets no
    /// mode), the check is reported as CL100. Istio only.
    /// Decided by pkg/router/istio.go (`reconcileDestinationRule`) and Istio's
    /// PeerAuthentication precedence.
    ///
    /// ### Severity
    /// An error: requests between the sidecars fail with 503 once the DestinationRule disables
    /// TLS under a STRICT policy.
    pub struct TlsModeConflict;
    code: "CL501",
    slug: "tls-mode-conflict",
    severity: Error,
    summary: "trafficPolicy.tls.mode DISABLE under a STRICT PeerAuthentication: requests fail with 503",
    since: "0.1.0",
    fix: None,
    inputs: [PeerAuthentication],
    kinds: [Canary],
    providers: [Istio],
    provider_specific: true,
}

/// The mode set by a namespace's selector-less PeerAuthentications, and the policy that sets it.
fn namespace_mode<'a>(cx: &Cx<'a, '_>, ns: &str) -> Option<(String, &'a Object)> {
    cx.inventory
        .in_namespace(Kind::PeerAuthentication, ns)
        .find_map(|o| {
            let p = o.as_peer_authentication()?;
            let mode = p.mtls_mode.as_deref()?;
            (!p.has_selector && mode != "UNSET").then(|| (mode.to_string(), o))
        })
}

impl Rule for TlsModeConflict {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(policy) = canary.service().and_then(|s| s.traffic_policy()) else {
            return;
        };
        let Some(mode) = policy.get("tls").and_then(|t| str_field(t, "mode")) else {
            return;
        };
        if mode.value != "DISABLE" {
            return;
        }
        let ns = cx.namespace();
        let ns_known = cx.inventory.is_authoritative(Kind::PeerAuthentication, ns);
        let root_known = cx
            .inventory
            .is_authoritative(Kind::PeerAuthentication, ROOT_NAMESPACE);
        let ns_mode = namespace_mode(cx, ns);
        let (strict, scope) = match &ns_mode {
            Some((m, o)) => (m == "STRICT", Some((*o, format!("namespace {ns}")))),
            None => match namespace_mode(cx, ROOT_NAMESPACE) {
                Some((m, o)) => (m == "STRICT", Some((o, "the whole mesh".to_string()))),
                None => (false, None),
            },
        };
        if let (true, Some((pa, scope))) = (strict, scope) {
            // A workload-level policy that relaxes the mode may exempt the target.
            let relaxed = cx
                .inventory
                .in_namespace(Kind::PeerAuthentication, ns)
                .any(|o| {
                    o.as_peer_authentication().is_some_and(|p| {
                        p.has_selector
                            && p.mtls_mode
                                .as_deref()
                                .is_some_and(|m| m != "STRICT" && m != "UNSET")
                    })
                });
            if relaxed {
                return;
            }
            cx.report(
                At::Value(mode.node),
                format!(
                    "tls.mode DISABLE, but PeerAuthentication {}/{} makes mTLS STRICT for {scope}: every request fails with 503",
                    pa.namespace, pa.name
                ),
            )
            .help("remove trafficPolicy.tls, or set tls.mode to ISTIO_MUTUAL")
            .related(pa.origin.clone(), format!("PeerAuthentication {} (mtls.mode: STRICT)", pa.name));
            return;
        }
        if ns_mode.is_some() {
            return;
        }
        if !ns_known {
            unresolved_reference::report(
                cx,
                At::Value(mode.node),
                Kind::PeerAuthentication,
                ns,
                "*",
            );
        } else if !root_known {
            unresolved_reference::report(
                cx,
                At::Value(mode.node),
                Kind::PeerAuthentication,
                ROOT_NAMESPACE,
                "*",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    fn peer_auth(ns: &str, mode: &str, selector: bool) -> String {
        let selector = if selector {
            "  selector:\n    matchLabels:\n      app: podinfo\n"
        } else {
            ""
        };
        format!(
            "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: {ns}\nspec:\n{selector}  mtls:\n    mode: {mode}\n"
        )
    }

    #[test]
    fn cases() {
        let disable = "spec:\n  service:\n    trafficPolicy:\n      tls:\n        mode: DISABLE\n";
        let disable_marked = "spec:\n  service:\n    trafficPolicy:\n      tls:\n        mode: DISABLE # error: CL501\n";
        let pass = [
            format!("{disable}{}", peer_auth("test", "PERMISSIVE", false)),
            // The namespace relaxes the mesh-wide STRICT.
            format!(
                "{disable}{}{}",
                peer_auth("test", "PERMISSIVE", false),
                peer_auth("istio-system", "STRICT", false)
            ),
            // A workload-level exemption.
            format!(
                "{disable}{}{}",
                peer_auth("test", "PERMISSIVE", true),
                peer_auth("istio-system", "STRICT", false)
            ),
            format!(
                "spec:\n  service:\n    trafficPolicy:\n      tls:\n        mode: ISTIO_MUTUAL\n{}",
                peer_auth("test", "STRICT", false)
            ),
            // Nothing known: CL100 only.
            disable.to_string(),
        ];
        let fail = [
            format!("{disable_marked}{}", peer_auth("test", "STRICT", false)),
            format!(
                "{disable_marked}{}",
                peer_auth("istio-system", "STRICT", false)
            ),
            format!(
                "{disable_marked}{}{}",
                peer_auth("test", "UNSET", false),
                peer_auth("istio-system", "STRICT", false)
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::TlsModeConflict, &pass, &fail);
    }
}
