//! The other side of a Canary's gateway reference: what an update or deletion of an Istio
//! Gateway does to the Canaries that route through it.

use canarylint::model::Object;
use canarylint::{Inventory, Kind, Settings};
use canarylint_rules::helpers::hosts_overlap;
use canarylint_rules::routing::{GatewayRef, offered_hosts, resolve_gateway};

/// What a Gateway change does to one Canary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impact {
    /// `namespace/name` of the Canary.
    pub canary: String,
    pub effect: Effect,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The Canary's `service.gateways` names the Gateway being deleted.
    Dangling,
    /// These `service.hosts` of the Canary are bound before the update and not after.
    Unbound(Vec<String>),
}

impl Impact {
    /// One line, for an admission warning or a denial.
    pub fn message(&self, gateway: &str) -> String {
        match &self.effect {
            Effect::Dangling => format!(
                "Canary {} references Gateway {gateway}: deleting it leaves the reference dangling",
                self.canary
            ),
            Effect::Unbound(hosts) => format!(
                "Canary {} loses host {}: Gateway {gateway} no longer serves it",
                self.canary,
                hosts.join(", ")
            ),
        }
    }
}

/// The Canaries of `inventory` hurt by replacing Gateway `old` with `new` (`None`: deleted).
pub fn impacts(
    old: &Object,
    new: Option<&Object>,
    inventory: &Inventory,
    settings: &Settings,
) -> Vec<Impact> {
    let mut out = Vec::new();
    for canary in inventory.all(Kind::Canary) {
        let Some(info) = canary.as_canary() else {
            continue;
        };
        let provider = info
            .provider
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or(&settings.default_provider);
        if provider != "istio" {
            continue;
        }
        let ns = canary.namespace.as_str();
        let mut mesh = false;
        let mut references = false;
        let mut others: Vec<&Object> = Vec::new();
        for entry in &info.gateways {
            match resolve_gateway(entry, ns) {
                GatewayRef::Mesh => mesh = true,
                GatewayRef::Invalid(_) => {}
                GatewayRef::Named {
                    namespace, name, ..
                } => {
                    if namespace == old.namespace && name == old.name {
                        references = true;
                    } else if let Some(o) = inventory
                        .lookup(Kind::IstioGateway, &namespace, &name)
                        .found()
                        .or_else(|| {
                            inventory
                                .lookup(Kind::GatewayApiGateway, &namespace, &name)
                                .found()
                        })
                    {
                        others.push(o);
                    }
                }
            }
        }
        if !references {
            continue;
        }
        let who = format!("{}/{}", canary.namespace, canary.name);
        let Some(new) = new else {
            // A Gateway API Gateway of the same name still satisfies the reference.
            if inventory
                .lookup(Kind::GatewayApiGateway, &old.namespace, &old.name)
                .found()
                .is_none()
            {
                out.push(Impact {
                    canary: who,
                    effect: Effect::Dangling,
                });
            }
            continue;
        };
        let by_others = |host: &str| others.iter().any(|g| serves(g, host, ns));
        let lost: Vec<String> = info
            .hosts
            .iter()
            .filter(|h| !(mesh && is_cluster_internal(h, ns)))
            .filter(|h| serves(old, h, ns) && !serves(new, h, ns) && !by_others(h))
            .map(|h| h.to_string())
            .collect();
        if !lost.is_empty() {
            out.push(Impact {
                canary: who,
                effect: Effect::Unbound(lost),
            });
        }
    }
    out
}

/// Whether a Gateway binds `host` for a VirtualService in `namespace` (as CL102 decides).
fn serves(gateway: &Object, host: &str, namespace: &str) -> bool {
    let expanded = (!host.contains('.') && host != "*")
        .then(|| format!("{host}.{namespace}.svc.cluster.local"));
    offered_hosts(gateway, namespace)
        .iter()
        .any(|s| hosts_overlap(host, s) || expanded.as_deref().is_some_and(|e| hosts_overlap(e, s)))
}

/// A name the mesh resolves (a short name, `name.ns`, a `.svc` name): left to `mesh`.
fn is_cluster_internal(host: &str, namespace: &str) -> bool {
    !host.contains('.')
        || host.ends_with(".svc.cluster.local")
        || host.ends_with(".svc")
        || host
            .strip_suffix(namespace)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(|p| !p.contains('.'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::sync::Arc;

    use canarylint::{Budget, SourceFile};

    use super::*;

    fn inventory(yaml: &str) -> Inventory {
        let parsed = canarylint::read(Arc::new(SourceFile::new("t.yaml", yaml)), &Budget::STRICT);
        let mut inv = Inventory::new();
        inv.add_file(&parsed, "default", false);
        inv
    }

    fn gateway(hosts: &[&str]) -> Object {
        let json = serde_json::json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "public-gateway", "namespace": "istio-system"},
            "spec": {"servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": hosts}]}
        });
        canarylint_workspace::files::object_from_json(Kind::IstioGateway, &json, "default").unwrap()
    }

    const CANARIES: &str = "
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: cart, namespace: shop}
spec:
  provider: istio
  service:
    gateways: [istio-system/public-gateway, mesh]
    hosts: [cart.example.com, cart, cart.shop.svc.cluster.local]
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: other, namespace: shop}
spec:
  service:
    gateways: [mesh]
    hosts: [other.example.com]
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: legacy, namespace: web}
spec:
  service:
    gateways: [public-gateway.istio-system.svc.cluster.local]
    hosts: [web.example.com]
";

    #[test]
    fn deletion_leaves_every_referencing_canary_dangling() {
        let inv = inventory(CANARIES);
        let got = impacts(
            &gateway(&["*.example.com"]),
            None,
            &inv,
            &Settings::default(),
        );
        let names: Vec<&str> = got.iter().map(|i| i.canary.as_str()).collect();
        assert_eq!(names, vec!["shop/cart", "web/legacy"]);
        assert!(got.iter().all(|i| i.effect == Effect::Dangling));
        assert!(got[0].message("istio-system/public-gateway").len() <= 120);
    }

    #[test]
    fn update_reports_only_hosts_that_stop_binding() {
        let inv = inventory(CANARIES);
        let old = gateway(&["*.example.com"]);
        assert!(
            impacts(
                &old,
                Some(&gateway(&["*.example.com", "*.example.org"])),
                &inv,
                &Settings::default()
            )
            .is_empty()
        );
        let got = impacts(
            &old,
            Some(&gateway(&["web.example.com"])),
            &inv,
            &Settings::default(),
        );
        assert_eq!(
            got,
            vec![Impact {
                canary: "shop/cart".into(),
                effect: Effect::Unbound(vec!["cart.example.com".into()])
            }]
        );
    }

    #[test]
    fn other_providers_are_not_concerned() {
        let inv = inventory(CANARIES);
        let settings = Settings {
            default_provider: "linkerd".into(),
            ..Settings::default()
        };
        let got = impacts(&gateway(&["*.example.com"]), None, &inv, &settings);
        assert_eq!(
            got.len(),
            1,
            "only the Canary with provider: istio: {got:?}"
        );
    }
}
