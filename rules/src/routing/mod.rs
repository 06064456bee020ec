//! CL1xx: gateways and hosts.

mod delegation_with_hosts;
mod gateway_not_found;
mod gateway_ref_not_found;
mod host_not_in_gateway;
mod hostname_not_in_listener;
mod hosts_without_gateway;
mod invalid_host;
mod mesh_gateway_omitted;
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
                    None => out.push(h.clone()),
                }
            }
        }
    } else if let Some(g) = gw.as_gateway_api() {
        for l in &g.listeners {
            out.push(l.clone().unwrap_or_else(|| "*".to_string()));
        }
    }
    out
}

/// A `service.gateways` entry resolved as istiod does (pilot/pkg/model/config.go).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayRef {
    /// The reserved `mesh`: every sidecar.
    Mesh,
    /// `namespace/name`, from `ns/name`, a bare `name`, or the legacy `name.ns[.svc.cluster.local]`.
    Named {
        namespace: String,
        name: String,
        legacy: bool,
    },
    /// Not a gateway reference at all; the reason says why.
    Invalid(String),
}

/// Resolves a gateway reference written in a Canary of `namespace`.
pub fn resolve_gateway(entry: &str, namespace: &str) -> GatewayRef {
    use crate::helpers::is_dns1123_label;
    if entry == "mesh" {
        return GatewayRef::Mesh;
    }
    if entry.contains("://") {
        return GatewayRef::Invalid("it is a URL, not a gateway name".into());
    }
    if let Some((ns, name)) = entry.split_once('/') {
        if ns == "." {
            return GatewayRef::Invalid(
                "istiod rejects `./` in gateway references (\"invalid value for namespace\")"
                    .into(),
            );
        }
        if !is_dns1123_label(ns) || !is_dns1123_label(name) {
            return GatewayRef::Invalid(
                "both parts of `namespace/name` must be lower-case DNS labels".into(),
            );
        }
        return GatewayRef::Named {
            namespace: ns.into(),
            name: name.into(),
            legacy: false,
        };
    }
    if entry.contains('.') {
        let trimmed = entry.strip_suffix(".svc.cluster.local").unwrap_or(entry);
        let parts: Vec<&str> = trimmed.split('.').collect();
        if parts.len() == 2 && parts.iter().all(|p| is_dns1123_label(p)) {
            return GatewayRef::Named {
                namespace: parts[1].into(),
                name: parts[0].into(),
                legacy: true,
            };
        }
        return GatewayRef::Invalid(
            "it looks like a hostname; hosts belong in `service.hosts`".into(),
        );
    }
    if !is_dns1123_label(entry) {
        return GatewayRef::Invalid("a gateway name is a lower-case DNS label".into());
    }
    GatewayRef::Named {
        namespace: namespace.into(),
        name: entry.into(),
        legacy: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_references_resolve_like_istiod() {
        let named = |ns: &str, n: &str, legacy| GatewayRef::Named {
            namespace: ns.into(),
            name: n.into(),
            legacy,
        };
        assert_eq!(resolve_gateway("mesh", "test"), GatewayRef::Mesh);
        assert_eq!(
            resolve_gateway("public-gateway", "test"),
            named("test", "public-gateway", false)
        );
        assert_eq!(
            resolve_gateway("istio-system/public-gateway", "test"),
            named("istio-system", "public-gateway", false)
        );
        assert_eq!(
            resolve_gateway("public-gateway.istio-system.svc.cluster.local", "test"),
            named("istio-system", "public-gateway", true)
        );
        assert_eq!(
            resolve_gateway("public-gateway.istio-system", "test"),
            named("istio-system", "public-gateway", true)
        );
        assert!(matches!(
            resolve_gateway("./public-gateway", "test"),
            GatewayRef::Invalid(_)
        ));
        assert!(matches!(
            resolve_gateway("www.myapp.com", "test"),
            GatewayRef::Invalid(_)
        ));
    }
}
