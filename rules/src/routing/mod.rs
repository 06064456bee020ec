//! CL1xx: gateways and hosts.

mod delegation_with_hosts;
mod gateway_not_found;
mod gateway_ref_not_found;
mod host_not_in_gateway;
mod hostname_not_in_listener;
mod hosts_without_gateway;
mod invalid_host;
mod mesh_gateway_omitted;
mod route_name_conflict;
mod routing_field_ignored;
pub(crate) mod unresolved_reference;
mod virtualservice_rejected;

pub use delegation_with_hosts::DelegationWithHosts;
pub use gateway_not_found::GatewayNotFound;
pub use gateway_ref_not_found::GatewayRefNotFound;
pub use host_not_in_gateway::HostNotInGateway;
pub use hostname_not_in_listener::HostnameNotInListener;
pub use hosts_without_gateway::HostsWithoutGateway;
pub use invalid_host::InvalidHost;
pub use mesh_gateway_omitted::MeshGatewayOmitted;
pub use route_name_conflict::RouteNameConflict;
pub use routing_field_ignored::RoutingFieldIgnored;
pub use unresolved_reference::UnresolvedReference;
pub use virtualservice_rejected::VirtualserviceRejected;

use canarylint::Node;
use canarylint::model::{Field, Object, RefView};

/// A name the mesh resolves: a short name, `name.ns`, or a `.svc` name.
pub fn is_cluster_internal(host: &str, namespace: &str) -> bool {
    !host.contains('.')
        || host.ends_with(".svc.cluster.local")
        || host.ends_with(".svc")
        || host
            .strip_suffix(namespace)
            .is_some_and(|p| p.ends_with('.') && !p[..p.len() - 1].contains('.'))
}

/// Whether the VirtualService Flagger generates applies to sidecars: `service.gateways` is empty
/// (Flagger then adds `mesh`) or lists `mesh`.
pub fn applies_to_mesh(gateways: &[Field<'_, &str>]) -> bool {
    gateways.is_empty() || gateways.iter().any(|g| g.value == "mesh")
}

/// A `service.gatewayRefs` entry that names a Gateway API Gateway.
pub struct GatewayParent<'a> {
    pub namespace: &'a str,
    pub name: Field<'a, &'a str>,
}

/// The Gateway a `gatewayRefs` entry points at (namespace defaulting to the Canary's), or
/// `None` for a parent that is no Gateway (a Service parent of GAMMA mesh routing, `group: core`).
pub fn gateway_parent<'a>(r: &RefView<'a>, namespace: &'a str) -> Option<GatewayParent<'a>> {
    let group = r.node.get("group").and_then(Node::as_str);
    if group.is_some_and(|g| g != "gateway.networking.k8s.io") {
        return None;
    }
    if r.kind().is_some_and(|k| k.value != "Gateway") {
        return None;
    }
    Some(GatewayParent {
        namespace: r.namespace().map_or(namespace, |n| n.value),
        name: r.name()?,
    })
}

/// The host patterns a Gateway offers to a VirtualService in `vs_namespace`.
pub fn offered_hosts(gw: &Object, vs_namespace: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(g) = gw.as_istio_gateway() {
        for server in &g.servers {
            if server.hosts.iter().any(|h| h == "*/*") {
                out.push("*".to_string());
                continue;
            }
            for h in &server.hosts {
                match h.split_once('/') {
                    Some((".", host)) if gw.namespace == vs_namespace => out.push(host.to_string()),
                    Some(("*", host)) => out.push(host.to_string()),
                    Some((ns, host)) if ns == vs_namespace => out.push(host.to_string()),
                    Some(_) => {}
                    None => out.push(h.to_string()),
                }
            }
        }
    } else if let Some(g) = gw.as_gateway_api() {
        for l in &g.listeners {
            out.push(l.as_deref().unwrap_or("*").to_string());
        }
    }
    out
}

/// A `service.gateways` entry resolved as istiod does (pilot/pkg/model/config.go).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayRef {
    /// The reserved `mesh`: every sidecar.
    Mesh,
    /// The Gateway `namespace/name` the entry resolves to.
    Named {
        namespace: String,
        name: String,
        form: NameForm,
    },
    /// An entry istiod's validation rejects, so the whole VirtualService is refused; the
    /// reason says why.
    Invalid(String),
}

/// How a gateway reference was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameForm {
    /// `name`: the VirtualService's (the Canary's) namespace.
    Short,
    /// `namespace/name`.
    Qualified,
    /// `./name`: resolved to the VirtualService's namespace, and accepted only because
    /// istiod's validation stopped at an earlier entry without `/`.
    DotSlash,
    /// The legacy `name.namespace[.anything]`: istiod reads the first two labels (and warns).
    Legacy,
}

impl GatewayRef {
    /// Whether a Kubernetes object can have this namespace and name at all (both lower case).
    pub fn can_exist(&self) -> bool {
        match self {
            GatewayRef::Named {
                namespace, name, ..
            } => {
                crate::helpers::is_dns1123_label(namespace)
                    && !name.is_empty()
                    && name.split('.').all(crate::helpers::is_dns1123_label)
            }
            _ => true,
        }
    }
}

/// Resolves one gateway reference written in a Canary of `namespace`, validated as the first
/// (or only) entry of the list.
pub fn resolve_gateway(entry: &str, namespace: &str) -> GatewayRef {
    resolve_gateways(&[entry], namespace)
        .pop()
        .unwrap_or(GatewayRef::Mesh)
}

/// Resolves a whole `service.gateways` list as istiod does with the VirtualService Flagger
/// writes from it.
///
/// Validation (pkg/config/validation/validation.go, `validateGatewayNames`) walks the list in
/// order and *returns* after the first entry without `/` (`mesh` included): later entries are
/// never validated. Resolution (pilot/pkg/model/config.go, `resolveGatewayName`) then turns
/// `name` into `<namespace>/name`, `./name` into `<namespace>/name`, and a dotted
/// `name.ns[.svc.cluster.local]` into `ns/name`; `ns/name` stays as written.
pub fn resolve_gateways(entries: &[&str], namespace: &str) -> Vec<GatewayRef> {
    let mut validating = true;
    entries
        .iter()
        .map(|entry| {
            let entry = *entry;
            let invalid = if validating {
                let why = validation_error(entry);
                if !entry.contains('/') {
                    validating = false;
                }
                why
            } else {
                None
            };
            if let Some(why) = invalid {
                return GatewayRef::Invalid(why);
            }
            if entry == "mesh" {
                return GatewayRef::Mesh;
            }
            let (ns, name, form) = resolve_name(entry, namespace);
            GatewayRef::Named {
                namespace: ns,
                name,
                form,
            }
        })
        .collect()
}

/// `resolveGatewayName`, returning the namespace and name apart.
fn resolve_name(entry: &str, namespace: &str) -> (String, String, NameForm) {
    match entry.split_once('/') {
        None => match entry.split_once('.') {
            None => (namespace.into(), entry.into(), NameForm::Short),
            Some((name, rest)) => {
                let ns = rest.split_once('.').map_or(rest, |(ns, _)| ns);
                (ns.into(), name.into(), NameForm::Legacy)
            }
        },
        Some((".", name)) => (namespace.into(), name.into(), NameForm::DotSlash),
        Some((ns, name)) => (ns.into(), name.into(), NameForm::Qualified),
    }
}

/// Why `validateGatewayNames` rejects an entry, if it does.
fn validation_error(entry: &str) -> Option<String> {
    match entry.split_once('/') {
        None => fqdn_error(entry),
        Some((ns, name)) => {
            if ns.is_empty() || name.is_empty() {
                Some(
                    "istiod rejects it: \"config namespace and gateway name cannot be empty\""
                        .into(),
                )
            } else if !istio_dns_label(ns) {
                Some(format!(
                    "istiod rejects it: invalid value for namespace \"{ns}\""
                ))
            } else if !istio_dns_label(name) {
                Some(format!(
                    "istiod rejects it: invalid value for gateway name \"{name}\""
                ))
            } else {
                None
            }
        }
    }
}

/// istiod's `ValidateFQDN` (pkg/config/validation/agent): 1..255 bytes, every label a DNS
/// label, the last one may be empty (a trailing dot), the top-level label not all digits.
fn fqdn_error(entry: &str) -> Option<String> {
    if entry.is_empty() {
        return Some("istiod rejects it: empty domain name not allowed".into());
    }
    if entry.len() > 255 {
        return Some("istiod rejects it: the name is longer than 255 characters".into());
    }
    let labels: Vec<&str> = entry.split('.').collect();
    let top = labels
        .iter()
        .rev()
        .find(|l| !l.is_empty())
        .copied()
        .unwrap_or("");
    if labels.len() > 1 && !top.is_empty() && top.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!(
            "istiod rejects it: top level domain \"{top}\" cannot be all-numeric"
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        if i == labels.len() - 1 && label.is_empty() && i > 0 {
            break;
        }
        if !istio_dns_label(label) {
            return Some(format!(
                "istiod rejects it: label \"{label}\" is not a DNS label"
            ));
        }
    }
    None
}

/// istiod's `labels.IsDNS1123Label`: up to 63 bytes of letters (either case), digits and `-`,
/// starting and ending with a letter or digit.
fn istio_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(entry: &str, namespace: &str) -> String {
        match resolve_gateway(entry, namespace) {
            GatewayRef::Named {
                namespace, name, ..
            } => format!("{namespace}/{name}"),
            other => format!("{other:?}"),
        }
    }

    /// `gatewayNameTests` of pilot/pkg/model/config_test.go (`TestResolveGatewayName`),
    /// transcribed row by row: (gateway, namespace, resolved). The `./gateway` row is
    /// resolution only: validation rejects that entry when it comes first (see below).
    #[test]
    fn istiod_resolve_gateway_name_table() {
        let table = [
            ("./gateway", "default", "default/gateway"),
            ("gateway", "default", "default/gateway"),
            ("default/gateway", "foo", "default/gateway"),
            ("gateway.default", "default", "default/gateway"),
            ("gateway.default", "foo", "default/gateway"),
            (
                "private.ingress.svc.cluster.local",
                "foo",
                "ingress/private",
            ),
        ];
        for (gateway, namespace, want) in table {
            let (ns, name, _) = resolve_name(gateway, namespace);
            assert_eq!(format!("{ns}/{name}"), want, "{gateway} in {namespace}");
        }
    }

    #[test]
    fn legacy_names_take_the_first_two_labels() {
        assert_eq!(
            resolved("public-gateway.istio-system.svc", "test"),
            "istio-system/public-gateway"
        );
        assert_eq!(
            resolved("public-gateway.istio-system", "test"),
            "istio-system/public-gateway"
        );
        // A hostname reads as a Gateway `www` in namespace `myapp`.
        assert_eq!(resolved("www.myapp.com", "test"), "myapp/www");
        assert_eq!(resolved("mesh", "test"), "Mesh");
        assert_eq!(resolved("public-gateway", "test"), "test/public-gateway");
        assert_eq!(
            resolved("istio-system/public-gateway", "test"),
            "istio-system/public-gateway"
        );
    }

    #[test]
    fn validation_stops_after_the_first_entry_without_a_slash() {
        let refs = resolve_gateways(&["./public-gateway", "mesh"], "test");
        assert!(matches!(refs[0], GatewayRef::Invalid(_)), "{refs:?}");
        let refs = resolve_gateways(&["mesh", "./public-gateway"], "test");
        assert_eq!(
            refs[1],
            GatewayRef::Named {
                namespace: "test".into(),
                name: "public-gateway".into(),
                form: NameForm::DotSlash,
            }
        );
        let refs = resolve_gateways(&["istio-system/bad_name", "mesh"], "test");
        assert!(matches!(refs[0], GatewayRef::Invalid(_)));
        assert!(matches!(
            resolve_gateway("http://gw.example.com", "test"),
            GatewayRef::Invalid(_)
        ));
        assert!(matches!(
            resolve_gateway("gw.123", "test"),
            GatewayRef::Invalid(_)
        ));
        // Upper case passes istiod's label check, but no object can have that name.
        let upper = resolve_gateway("istio-system/Public", "test");
        assert!(!upper.can_exist());
    }
}
