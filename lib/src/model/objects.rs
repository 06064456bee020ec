//! The few facts of non-Flagger objects that rules need, owned so an inventory can outlive the
//! files (and so the webhook can keep them from a watch).

use std::sync::Arc;

use super::string_map;
use crate::document::Kind;
use crate::source::{LineCol, SourceFile};
use crate::tree::{Node, Span, Str, Value};

/// Where something is in a file, ready to show without the file's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<str>,
    pub span: Span,
    pub start: LineCol,
    pub end: LineCol,
}

impl Location {
    pub fn new(source: &SourceFile, span: Span) -> Self {
        Location {
            file: source.name.clone(),
            span,
            start: source.line_col(span.start),
            end: source.line_col(span.end),
        }
    }
}

/// An object of the inventory.
///
/// Its strings are [`Str`]s, stored inline up to 24 bytes: most names, namespaces, labels and
/// ports are that short, and a webhook's cache holds tens of thousands of objects. The
/// locations of a kind's facts are boxed for the same reason: objects from a cluster or
/// `--context` have none.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub kind: Kind,
    pub namespace: Str,
    pub name: Str,
    /// Where it was read from (files only; a cluster object has none).
    pub origin: Option<Location>,
    /// The unit it is applied with.
    pub bundle: crate::inventory::Bundle,
    /// Whether `namespace` is only assumed: the object names none, and no namespace was
    /// given for such objects.
    pub namespace_assumed: bool,
    pub data: ObjectData,
}

/// What rules read of each kind.
///
/// Each kind's facts are boxed: inline, every object would be as large as the largest kind's
/// (a Deployment's), and an inventory holds tens of thousands of them (a webhook's watched
/// cluster).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ObjectData {
    IstioGateway(Box<IstioGatewayInfo>),
    GatewayApiGateway(Box<GatewayApiInfo>),
    Workload(Box<WorkloadInfo>),
    Service(Box<ServiceInfo>),
    Scaler(Box<ScalerInfo>),
    PeerAuthentication(Box<PeerAuthenticationInfo>),
    Canary(Box<CanaryInfo>),
    Route(Box<RouteInfo>),
    #[default]
    Plain,
}

/// A VirtualService or HTTPRoute: who owns it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RouteInfo {
    /// `metadata.ownerReferences[].kind`: Flagger's own routes name `Canary`.
    pub owner_kinds: Vec<Str>,
    /// The Services the routes send to (VirtualService destination hosts, HTTPRoute
    /// backendRef names): Flagger's own routes send to `<apex>-primary`.
    pub destinations: Vec<Str>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct IstioGatewayInfo {
    pub servers: Vec<GatewayServer>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatewayServer {
    pub hosts: Vec<Str>,
    /// The `hosts` list of this server, for related locations.
    pub hosts_location: Option<Box<Location>>,
    pub port: Option<i64>,
    pub protocol: Option<Str>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatewayApiInfo {
    /// Listener hostnames; `None` for a listener without one (it matches every host).
    pub listeners: Vec<Option<Str>>,
    pub listeners_location: Option<Box<Location>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkloadInfo {
    pub match_labels: Vec<(Str, Str)>,
    pub pod_labels: Vec<(Str, Str)>,
    pub containers: Vec<ContainerInfo>,
    pub selector_location: Option<Box<Location>>,
    pub ports_location: Option<Box<Location>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerInfo {
    pub name: Str,
    pub ports: Vec<ContainerPort>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerPort {
    pub name: Option<Str>,
    pub port: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceInfo {
    pub ports: Vec<ServicePortInfo>,
    pub selector: Vec<(Str, Str)>,
    pub labels: Vec<(Str, Str)>,
    /// Kinds of the `ownerReferences` (Flagger's own Services are owned by a Canary).
    pub owner_kinds: Vec<Str>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServicePortInfo {
    pub name: Option<Str>,
    pub port: i64,
    pub target_port: Option<Str>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScalerInfo {
    pub target_api_version: Option<Str>,
    pub target_kind: Option<Str>,
    pub target_name: Option<Str>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeerAuthenticationInfo {
    pub mtls_mode: Option<Str>,
    pub has_selector: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CanaryInfo {
    pub target_kind: Option<Str>,
    pub target_name: Option<Str>,
    /// `spec.provider` as written.
    pub provider: Option<Str>,
    /// `spec.service.gateways` as written.
    pub gateways: Vec<Str>,
    /// `spec.service.hosts`.
    pub hosts: Vec<Str>,
}

impl WorkloadInfo {
    /// The container ports Flagger's `portDiscovery` sees, with the name it gives each
    /// (`tcp-<container>-<index>` for an unnamed one), and their containers. The mesh
    /// sidecars' containers (`istio-proxy`, `envoy`) are not looked at.
    pub fn discovered_ports(
        &self,
    ) -> impl Iterator<Item = (String, &ContainerPort, &ContainerInfo)> {
        self.containers
            .iter()
            .filter(|c| c.name != "istio-proxy" && c.name != "envoy")
            .flat_map(|c| {
                c.ports.iter().enumerate().map(move |(i, p)| {
                    let name = p
                        .name
                        .as_ref()
                        .map_or_else(|| format!("tcp-{}-{i}", c.name), |n| n.to_string());
                    (name, p, c)
                })
            })
    }
}

/// Destination Service names of a VirtualService's `http`/`tcp`/`tls` routes, or of an
/// HTTPRoute's `rules[].backendRefs`.
fn route_destinations(kind: Kind, spec: Option<&Node>) -> Vec<Str> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |n: Option<&Node>| {
        if let Some(s) = n.and_then(Node::as_str) {
            out.push(Str::from(s));
        }
    };
    if kind == Kind::VirtualService {
        for key in ["http", "tcp", "tls"] {
            for route in spec.get(key).map(Node::items).unwrap_or_default() {
                for d in route.get("route").map(Node::items).unwrap_or_default() {
                    push(d.at(&["destination", "host"]));
                }
            }
        }
    } else {
        for rule in spec.get("rules").map(Node::items).unwrap_or_default() {
            for b in rule.get("backendRefs").map(Node::items).unwrap_or_default() {
                push(b.get("name"));
            }
        }
    }
    out
}

/// `metadata.ownerReferences[].kind`.
fn owner_kinds(root: &Node) -> Vec<Str> {
    root.at(&["metadata", "ownerReferences"])
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|o| o.get("kind").and_then(Node::as_str).map(Str::from))
        .collect::<Vec<_>>()
        .exact()
}

/// A vector of facts without spare capacity. Collected through a filter, a vector starts at
/// room for four; an inventory keeps its facts for as long as it lives, tens of thousands of
/// objects in a webhook's cache, most with one or two labels, hosts or ports each.
trait Exact {
    fn exact(self) -> Self;
}

impl<T> Exact for Vec<T> {
    fn exact(mut self) -> Self {
        self.shrink_to_fit();
        self
    }
}

impl Object {
    /// Extracts an object's facts. `source` gives locations when the object comes from a file.
    pub fn extract(
        kind: Kind,
        root: &Node,
        namespace: &str,
        source: Option<&SourceFile>,
    ) -> Option<Object> {
        let name = root
            .at(&["metadata", "name"])
            .and_then(Node::as_str)
            .map(Str::from)?;
        let loc = |span: Span| source.map(|s| Location::new(s, span));
        let boxed = |span: Span| loc(span).map(Box::new);
        let spec = root.get("spec");
        let data = match kind {
            Kind::IstioGateway => ObjectData::IstioGateway(Box::new(IstioGatewayInfo {
                servers: spec
                    .and_then(|s| s.get("servers"))
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .map(|srv| {
                        let hosts_node = srv.get("hosts");
                        GatewayServer {
                            hosts: hosts_node
                                .map(Node::items)
                                .unwrap_or_default()
                                .iter()
                                .filter_map(|h| h.as_str().map(Str::from))
                                .collect::<Vec<_>>()
                                .exact(),
                            hosts_location: hosts_node.and_then(|h| boxed(h.span)),
                            port: srv.at(&["port", "number"]).and_then(Node::as_i64),
                            protocol: srv
                                .at(&["port", "protocol"])
                                .and_then(Node::as_str)
                                .map(Str::from),
                        }
                    })
                    .collect(),
            })),
            Kind::GatewayApiGateway => {
                let listeners = spec.and_then(|s| s.get("listeners"));
                ObjectData::GatewayApiGateway(Box::new(GatewayApiInfo {
                    listeners: listeners
                        .map(Node::items)
                        .unwrap_or_default()
                        .iter()
                        .map(|l| l.get("hostname").and_then(Node::as_str).map(Str::from))
                        .collect(),
                    listeners_location: listeners.and_then(|l| boxed(l.span)),
                }))
            }
            Kind::Deployment | Kind::DaemonSet => {
                let selector = spec.and_then(|s| s.at(&["selector", "matchLabels"]));
                let pod = spec.and_then(|s| s.get("template"));
                let containers_node = pod.and_then(|p| p.at(&["spec", "containers"]));
                let containers: Vec<ContainerInfo> = containers_node
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .map(|c| ContainerInfo {
                        name: c
                            .get("name")
                            .and_then(Node::as_str)
                            .map_or_else(Str::default, Str::from),
                        ports: c
                            .get("ports")
                            .map(Node::items)
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|p| {
                                Some(ContainerPort {
                                    name: p.get("name").and_then(Node::as_str).map(Str::from),
                                    port: p.get("containerPort").and_then(Node::as_i64)?,
                                })
                            })
                            .collect::<Vec<_>>()
                            .exact(),
                    })
                    .collect();
                ObjectData::Workload(Box::new(WorkloadInfo {
                    match_labels: string_map(selector).exact(),
                    pod_labels: string_map(pod.and_then(|p| p.at(&["metadata", "labels"]))).exact(),
                    containers,
                    selector_location: selector.and_then(|s| boxed(s.span)),
                    ports_location: containers_node.and_then(|c| boxed(c.span)),
                }))
            }
            Kind::Service => ObjectData::Service(Box::new(ServiceInfo {
                ports: spec
                    .and_then(|s| s.get("ports"))
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| {
                        Some(ServicePortInfo {
                            name: p.get("name").and_then(Node::as_str).map(Str::from),
                            port: p.get("port").and_then(Node::as_i64)?,
                            target_port: p.get("targetPort").map(|t| match &t.value {
                                Value::Str(s) => s.clone(),
                                _ => Str::from(t.display()),
                            }),
                        })
                    })
                    .collect::<Vec<_>>()
                    .exact(),
                selector: string_map(spec.and_then(|s| s.get("selector"))).exact(),
                labels: string_map(root.at(&["metadata", "labels"])).exact(),
                owner_kinds: owner_kinds(root),
            })),
            Kind::HorizontalPodAutoscaler | Kind::ScaledObject => {
                let target = spec.and_then(|s| s.get("scaleTargetRef"));
                let s = |k: &str| {
                    target
                        .and_then(|t| t.get(k))
                        .and_then(Node::as_str)
                        .map(Str::from)
                };
                ObjectData::Scaler(Box::new(ScalerInfo {
                    target_api_version: s("apiVersion"),
                    // A ScaledObject's target defaults to a Deployment.
                    target_kind: s("kind")
                        .or_else(|| (kind == Kind::ScaledObject).then(|| Str::from("Deployment"))),
                    target_name: s("name"),
                }))
            }
            Kind::PeerAuthentication => {
                ObjectData::PeerAuthentication(Box::new(PeerAuthenticationInfo {
                    mtls_mode: spec
                        .and_then(|s| s.at(&["mtls", "mode"]))
                        .and_then(Node::as_str)
                        .map(Str::from),
                    has_selector: spec.and_then(|s| s.get("selector")).is_some(),
                }))
            }
            Kind::VirtualService | Kind::HttpRoute => ObjectData::Route(Box::new(RouteInfo {
                destinations: route_destinations(kind, spec).exact(),
                owner_kinds: owner_kinds(root),
            })),
            Kind::Canary => {
                let t = spec.and_then(|s| s.get("targetRef"));
                let s = |k: &str| {
                    t.and_then(|t| t.get(k))
                        .and_then(Node::as_str)
                        .map(Str::from)
                };
                let strings = |key: &str| -> Vec<Str> {
                    spec.and_then(|sp| sp.at(&["service", key]))
                        .map(Node::items)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|n| n.as_str().map(Str::from))
                        .collect::<Vec<_>>()
                        .exact()
                };
                ObjectData::Canary(Box::new(CanaryInfo {
                    target_kind: s("kind"),
                    target_name: s("name"),
                    provider: spec
                        .and_then(|sp| sp.get("provider"))
                        .and_then(Node::as_str)
                        .map(Str::from),
                    gateways: strings("gateways"),
                    hosts: strings("hosts"),
                }))
            }
            _ => ObjectData::Plain,
        };
        Some(Object {
            kind,
            namespace: Str::from(namespace),
            name,
            origin: loc(root.get("metadata").map_or(root.span, |m| {
                m.entry("name").map_or(m.span, |e| e.value.span)
            })),
            bundle: crate::inventory::Bundle::Context,
            namespace_assumed: false,
            data,
        })
    }

    pub fn as_istio_gateway(&self) -> Option<&IstioGatewayInfo> {
        match &self.data {
            ObjectData::IstioGateway(g) => Some(g.as_ref()),
            _ => None,
        }
    }
    pub fn as_gateway_api(&self) -> Option<&GatewayApiInfo> {
        match &self.data {
            ObjectData::GatewayApiGateway(g) => Some(g.as_ref()),
            _ => None,
        }
    }
    pub fn as_workload(&self) -> Option<&WorkloadInfo> {
        match &self.data {
            ObjectData::Workload(w) => Some(w.as_ref()),
            _ => None,
        }
    }
    pub fn as_service(&self) -> Option<&ServiceInfo> {
        match &self.data {
            ObjectData::Service(s) => Some(s.as_ref()),
            _ => None,
        }
    }
    pub fn as_scaler(&self) -> Option<&ScalerInfo> {
        match &self.data {
            ObjectData::Scaler(s) => Some(s.as_ref()),
            _ => None,
        }
    }
    pub fn as_peer_authentication(&self) -> Option<&PeerAuthenticationInfo> {
        match &self.data {
            ObjectData::PeerAuthentication(p) => Some(p.as_ref()),
            _ => None,
        }
    }
    pub fn as_route(&self) -> Option<&RouteInfo> {
        match &self.data {
            ObjectData::Route(r) => Some(r.as_ref()),
            _ => None,
        }
    }

    pub fn as_canary(&self) -> Option<&CanaryInfo> {
        match &self.data {
            ObjectData::Canary(c) => Some(c.as_ref()),
            _ => None,
        }
    }
}
