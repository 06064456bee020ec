//! CL1xx: gateways and hosts.

mod gateway_not_found;
mod host_not_in_gateway;
mod invalid_host;
mod mesh_gateway_omitted;
pub(crate) mod unresolved_reference;

pub use gateway_not_found::GatewayNotFound;
pub use host_not_in_gateway::HostNotInGateway;
pub use invalid_host::InvalidHost;
pub use mesh_gateway_omitted::MeshGatewayOmitted;
pub use unresolved_reference::UnresolvedReference;

use canarylint::model::Object;

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
            return GatewayRef::Invalid("istiod rejects `./` in gateway references (\"invalid value for namespace\")".into());
        }
        if !is_dns1123_label(ns) || !is_dns1123_label(name) {
            return GatewayRef::Invalid("both parts of `namespace/name` must be lower-case DNS labels".into());
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
        return GatewayRef::Invalid("it looks like a hostname; hosts belong in `service.hosts`".into());
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
        let named = |ns: &str, n: &str, legacy| GatewayRef::Named { namespace: ns.into(), name: n.into(), legacy };
        assert_eq!(resolve_gateway("mesh", "test"), GatewayRef::Mesh);
        assert_eq!(resolve_gateway("public-gateway", "test"), named("test", "public-gateway", false));
        assert_eq!(resolve_gateway("istio-system/public-gateway", "test"), named("istio-system", "public-gateway", false));
        assert_eq!(resolve_gateway("public-gateway.istio-system.svc.cluster.local", "test"), named("istio-system", "public-gateway", true));
        assert_eq!(resolve_gateway("public-gateway.istio-system", "test"), named("istio-system", "public-gateway", true));
        assert!(matches!(resolve_gateway("./public-gateway", "test"), GatewayRef::Invalid(_)));
        assert!(matches!(resolve_gateway("www.myapp.com", "test"), GatewayRef::Invalid(_)));
    }
}
