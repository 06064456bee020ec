//! The inventory source for a cluster: the kinds rules look up, how each is found (the served
//! version of its group), clients for a kubeconfig, one-shot listing (`check --cluster`), and
//! the conversion of a cluster object to an inventory object. The webhook's watches
//! (`canarylint-server`) keep an inventory current with the same kinds and conversion.

use std::path::Path;

use canarylint::Kind;
use canarylint::model::Object;
use kube::api::{Api, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use kube::{Client, Config};

use crate::files::object_from_json;

/// A kind read from the cluster.
#[derive(Clone, Copy, Debug)]
pub struct Watched {
    pub kind: Kind,
    pub group: &'static str,
    /// Versions to try, preferred first.
    pub versions: &'static [&'static str],
    pub kind_name: &'static str,
    /// The plural resource name (what RBAC rules name).
    pub resource: &'static str,
}

/// Every kind read from the cluster (the webhook's ClusterRole grants list and watch on exactly
/// these).
pub const WATCHED: &[Watched] = &[
    Watched {
        kind: Kind::Canary,
        group: "flagger.app",
        versions: &["v1beta1"],
        kind_name: "Canary",
        resource: "canaries",
    },
    Watched {
        kind: Kind::MetricTemplate,
        group: "flagger.app",
        versions: &["v1beta1"],
        kind_name: "MetricTemplate",
        resource: "metrictemplates",
    },
    Watched {
        kind: Kind::AlertProvider,
        group: "flagger.app",
        versions: &["v1beta1"],
        kind_name: "AlertProvider",
        resource: "alertproviders",
    },
    Watched {
        kind: Kind::IstioGateway,
        group: "networking.istio.io",
        versions: &["v1", "v1beta1", "v1alpha3"],
        kind_name: "Gateway",
        resource: "gateways",
    },
    Watched {
        kind: Kind::GatewayApiGateway,
        group: "gateway.networking.k8s.io",
        versions: &["v1", "v1beta1"],
        kind_name: "Gateway",
        resource: "gateways",
    },
    Watched {
        kind: Kind::VirtualService,
        group: "networking.istio.io",
        versions: &["v1", "v1beta1", "v1alpha3"],
        kind_name: "VirtualService",
        resource: "virtualservices",
    },
    Watched {
        kind: Kind::HttpRoute,
        group: "gateway.networking.k8s.io",
        versions: &["v1", "v1beta1"],
        kind_name: "HTTPRoute",
        resource: "httproutes",
    },
    Watched {
        kind: Kind::PeerAuthentication,
        group: "security.istio.io",
        versions: &["v1", "v1beta1"],
        kind_name: "PeerAuthentication",
        resource: "peerauthentications",
    },
    Watched {
        kind: Kind::Deployment,
        group: "apps",
        versions: &["v1"],
        kind_name: "Deployment",
        resource: "deployments",
    },
    Watched {
        kind: Kind::DaemonSet,
        group: "apps",
        versions: &["v1"],
        kind_name: "DaemonSet",
        resource: "daemonsets",
    },
    Watched {
        kind: Kind::Service,
        group: "",
        versions: &["v1"],
        kind_name: "Service",
        resource: "services",
    },
    Watched {
        kind: Kind::HorizontalPodAutoscaler,
        group: "autoscaling",
        versions: &["v2", "v1"],
        kind_name: "HorizontalPodAutoscaler",
        resource: "horizontalpodautoscalers",
    },
    Watched {
        kind: Kind::ScaledObject,
        group: "keda.sh",
        versions: &["v1alpha1"],
        kind_name: "ScaledObject",
        resource: "scaledobjects",
    },
    Watched {
        kind: Kind::KnativeService,
        group: "serving.knative.dev",
        versions: &["v1"],
        kind_name: "Service",
        resource: "services",
    },
];

/// A client for `--kubeconfig`, or for the inferred configuration ($KUBECONFIG,
/// ~/.kube/config, in-cluster).
pub async fn client(kubeconfig: Option<&Path>) -> Result<Client, String> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| format!("cannot read kubeconfig {}: {e}", path.display()))?;
            Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .map_err(|e| format!("invalid kubeconfig {}: {e}", path.display()))?
        }
        None => Config::infer()
            .await
            .map_err(|e| format!("no cluster configuration found ({e}); pass --kubeconfig, or --no-cluster to run without a cluster"))?,
    };
    Client::try_from(config).map_err(|e| format!("cannot create a Kubernetes client: {e}"))
}

/// Whether the cluster serves a kind, and under which version.
pub enum Discovered {
    Served(ApiResource),
    NotServed,
}

/// Finds the version of a kind's group the cluster serves, preferred first.
pub async fn discover(client: &Client, w: &Watched) -> Result<Discovered, kube::Error> {
    for version in w.versions {
        let gvk = GroupVersionKind::gvk(w.group, version, w.kind_name);
        match kube::discovery::pinned_kind(client, &gvk).await {
            Ok((ar, _)) => return Ok(Discovered::Served(ar)),
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(kube::Error::Discovery(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Discovered::NotServed)
}

/// The facts rules need of a cluster object; managed fields dropped first.
pub fn convert(kind: Kind, mut o: DynamicObject, default_namespace: &str) -> Option<Object> {
    o.metadata.managed_fields = None;
    let json = serde_json::to_value(&o).ok()?;
    object_from_json(kind, &json, default_namespace)
}

/// A client for a kubeconfig context (`None`: the current one), as `canarylint check
/// --cluster` uses it.
pub async fn client_for_context(context: Option<&str>) -> Result<Client, String> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let config = match context {
        None => Config::infer()
            .await
            .map_err(|e| format!("no cluster configuration found: {e}"))?,
        Some(name) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| format!("cannot use kubeconfig context {name}: {e}"))?,
    };
    Client::try_from(config).map_err(|e| format!("cannot create a Kubernetes client: {e}"))
}

/// Lists every watched kind once into an inventory (the one-shot counterpart of the webhook's
/// watches, for the CLI). A listed kind covers every namespace (or the given ones); a kind the
/// cluster does not serve, or may not be listed, stays not authoritative.
pub async fn list_once(
    client: &Client,
    namespaces: Option<&[String]>,
    default_namespace: &str,
) -> Result<(canarylint::Inventory, Vec<String>), String> {
    use canarylint::Coverage;
    let mut inventory = canarylint::Inventory::new();
    let mut notes = Vec::new();
    for w in WATCHED {
        let ar = match discover(client, w).await {
            Ok(Discovered::Served(ar)) => ar,
            Ok(Discovered::NotServed) => continue,
            Err(e) => return Err(format!("cannot reach the cluster: {e}")),
        };
        let scopes: Vec<Option<&str>> = match namespaces {
            None => vec![None],
            Some(list) => list.iter().map(|n| Some(n.as_str())).collect(),
        };
        let mut complete = true;
        for scope in scopes {
            let api: Api<DynamicObject> = match scope {
                None => Api::all_with(client.clone(), &ar),
                Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            };
            match api.list(&Default::default()).await {
                Ok(list) => {
                    for obj in list.items {
                        let json = serde_json::to_value(&obj).unwrap_or_default();
                        if let Some(o) = object_from_json(w.kind, &json, default_namespace) {
                            inventory.insert(o);
                        }
                    }
                }
                Err(kube::Error::Api(s)) if s.code == 403 || s.code == 404 => {
                    complete = false;
                    notes.push(format!("{} {}: {}", w.kind_name, w.group, s.message));
                }
                Err(e) => return Err(format!("cannot list {} ({}): {e}", w.resource, w.group)),
            }
        }
        if complete {
            let coverage = match namespaces {
                None => Coverage::All,
                Some(list) => Coverage::Namespaces(list.iter().cloned().collect()),
            };
            inventory.set_coverage(w.kind, coverage);
        }
    }
    Ok((inventory, notes))
}
