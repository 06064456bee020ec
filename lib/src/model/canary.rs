//! Views of Flagger's Canary, MetricTemplate and AlertProvider.

use super::{
    Field, PortRef, bool_field, map_field, map_list, num_field, port_field, str_field, str_list,
};
use crate::document::{Document, Kind};
use crate::tree::Node;

macro_rules! getters {
    ($($(#[$m:meta])* $name:ident: $how:ident($key:literal) -> $ty:ty;)*) => {
        $(
            $(#[$m])*
            pub fn $name(&self) -> Option<$ty> {
                $how(self.node, $key)
            }
        )*
    };
}

/// A Canary document.
#[derive(Clone, Copy, Debug)]
pub struct CanaryView<'a> {
    pub doc: &'a Document,
    /// `spec`, or the document root when `spec` is missing (every getter then reads absent).
    pub node: &'a Node,
}

impl<'a> CanaryView<'a> {
    pub fn new(doc: &'a Document) -> Option<Self> {
        if doc.kind != Kind::Canary {
            return None;
        }
        Some(CanaryView {
            doc,
            node: doc
                .root
                .get("spec")
                .filter(|s| s.is_map())
                .unwrap_or(&EMPTY),
        })
    }

    pub fn name(&self) -> Option<&'a str> {
        self.doc.name.as_deref()
    }

    /// `spec` when present.
    pub fn spec(&self) -> Option<&'a Node> {
        self.doc.root.get("spec")
    }

    getters! {
        provider: str_field("provider") -> Field<'a, &'a str>;
        skip_analysis: bool_field("skipAnalysis") -> Field<'a, bool>;
        progress_deadline_seconds: num_field("progressDeadlineSeconds") -> Field<'a, f64>;
    }

    pub fn target_ref(&self) -> Option<RefView<'a>> {
        map_field(self.node, "targetRef").map(|node| RefView { node })
    }
    pub fn autoscaler_ref(&self) -> Option<RefView<'a>> {
        map_field(self.node, "autoscalerRef").map(|node| RefView { node })
    }
    pub fn ingress_ref(&self) -> Option<RefView<'a>> {
        map_field(self.node, "ingressRef").map(|node| RefView { node })
    }
    pub fn route_ref(&self) -> Option<RefView<'a>> {
        map_field(self.node, "routeRef").map(|node| RefView { node })
    }
    pub fn upstream_ref(&self) -> Option<RefView<'a>> {
        map_field(self.node, "upstreamRef").map(|node| RefView { node })
    }
    pub fn service(&self) -> Option<ServiceView<'a>> {
        map_field(self.node, "service").map(|node| ServiceView { node })
    }
    pub fn analysis(&self) -> Option<AnalysisView<'a>> {
        map_field(self.node, "analysis").map(|node| AnalysisView { node })
    }

    /// The name Flagger gives the apex Service and the VirtualService: `service.name`, else
    /// `targetRef.name`.
    pub fn apex_name(&self) -> Option<&'a str> {
        self.service()
            .and_then(|s| s.name())
            .map(|f| f.value)
            .or_else(|| self.target_ref().and_then(|t| t.name()).map(|f| f.value))
    }
}

static EMPTY: Node = Node {
    value: crate::tree::Value::Null,
    span: crate::tree::Span { start: 0, end: 0 },
};

/// `targetRef`, `autoscalerRef`, `ingressRef`, …
#[derive(Clone, Copy, Debug)]
pub struct RefView<'a> {
    pub node: &'a Node,
}

impl<'a> RefView<'a> {
    getters! {
        api_version: str_field("apiVersion") -> Field<'a, &'a str>;
        kind: str_field("kind") -> Field<'a, &'a str>;
        name: str_field("name") -> Field<'a, &'a str>;
        namespace: str_field("namespace") -> Field<'a, &'a str>;
        primary_scaler_replicas: map_field_node("primaryScalerReplicas") -> &'a Node;
    }
}

fn map_field_node<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    map_field(node, key)
}

fn node_field<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    node.get(key)
}

/// `spec.service`.
#[derive(Clone, Copy, Debug)]
pub struct ServiceView<'a> {
    pub node: &'a Node,
}

impl<'a> ServiceView<'a> {
    getters! {
        name: str_field("name") -> Field<'a, &'a str>;
        port: num_field("port") -> Field<'a, f64>;
        target_port: port_field("targetPort") -> Field<'a, PortRef<'a>>;
        port_name: str_field("portName") -> Field<'a, &'a str>;
        port_discovery: bool_field("portDiscovery") -> Field<'a, bool>;
        app_protocol: str_field("appProtocol") -> Field<'a, &'a str>;
        delegation: bool_field("delegation") -> Field<'a, bool>;
        mesh_name: str_field("meshName") -> Field<'a, &'a str>;
        timeout: str_field("timeout") -> Field<'a, &'a str>;
        headless: bool_field("headless") -> Field<'a, bool>;
        retries: map_field_node("retries") -> &'a Node;
        traffic_policy: map_field_node("trafficPolicy") -> &'a Node;
        match_: node_field("match") -> &'a Node;
    }

    /// `service.gateways` (string items).
    pub fn gateways(&self) -> Vec<Field<'a, &'a str>> {
        str_list(self.node, "gateways")
    }
    /// The `gateways` list node itself, when present.
    pub fn gateways_node(&self) -> Option<&'a Node> {
        self.node.get("gateways")
    }
    /// `service.hosts` (string items).
    pub fn hosts(&self) -> Vec<Field<'a, &'a str>> {
        str_list(self.node, "hosts")
    }
    pub fn hosts_node(&self) -> Option<&'a Node> {
        self.node.get("hosts")
    }
    /// `service.gatewayRefs` (Gateway API).
    pub fn gateway_refs(&self) -> Vec<RefView<'a>> {
        map_list(self.node, "gatewayRefs")
            .map(|node| RefView { node })
            .collect()
    }
    pub fn gateway_refs_node(&self) -> Option<&'a Node> {
        self.node.get("gatewayRefs")
    }

    /// The port name of the generated Services (`http` unless set).
    pub fn effective_port_name(&self) -> &'a str {
        self.port_name().map_or("http", |f| f.value)
    }
}

/// `spec.analysis`.
#[derive(Clone, Copy, Debug)]
pub struct AnalysisView<'a> {
    pub node: &'a Node,
}

impl<'a> AnalysisView<'a> {
    getters! {
        interval: str_field("interval") -> Field<'a, &'a str>;
        threshold: num_field("threshold") -> Field<'a, f64>;
        max_weight: num_field("maxWeight") -> Field<'a, f64>;
        step_weight: num_field("stepWeight") -> Field<'a, f64>;
        step_weight_promotion: num_field("stepWeightPromotion") -> Field<'a, f64>;
        iterations: num_field("iterations") -> Field<'a, f64>;
        mirror: bool_field("mirror") -> Field<'a, bool>;
        mirror_weight: num_field("mirrorWeight") -> Field<'a, f64>;
        primary_ready_threshold: num_field("primaryReadyThreshold") -> Field<'a, f64>;
        canary_ready_threshold: num_field("canaryReadyThreshold") -> Field<'a, f64>;
        match_: node_field("match") -> &'a Node;
        session_affinity: map_field_node("sessionAffinity") -> &'a Node;
    }

    /// `stepWeights` (number items).
    pub fn step_weights(&self) -> Option<(&'a Node, Vec<Field<'a, f64>>)> {
        let list = self.node.get("stepWeights")?;
        let items = list
            .items()
            .iter()
            .filter_map(|n| {
                Some(Field {
                    value: n.as_f64()?,
                    node: n,
                })
            })
            .collect();
        Some((list, items))
    }

    /// `analysis.match` with at least one condition: A/B testing when iterations are set.
    pub fn has_match(&self) -> bool {
        self.match_().is_some_and(|m| !m.items().is_empty())
    }

    pub fn metrics(&self) -> Vec<MetricView<'a>> {
        map_list(self.node, "metrics")
            .map(|node| MetricView { node })
            .collect()
    }
    pub fn webhooks(&self) -> Vec<HookView<'a>> {
        map_list(self.node, "webhooks")
            .map(|node| HookView { node })
            .collect()
    }
    pub fn alerts(&self) -> Vec<AlertView<'a>> {
        map_list(self.node, "alerts")
            .map(|node| AlertView { node })
            .collect()
    }
}

/// One `analysis.metrics` item.
#[derive(Clone, Copy, Debug)]
pub struct MetricView<'a> {
    pub node: &'a Node,
}

impl<'a> MetricView<'a> {
    getters! {
        name: str_field("name") -> Field<'a, &'a str>;
        interval: str_field("interval") -> Field<'a, &'a str>;
        threshold: num_field("threshold") -> Field<'a, f64>;
        query: str_field("query") -> Field<'a, &'a str>;
        threshold_range: map_field_node("thresholdRange") -> &'a Node;
    }
    pub fn template_ref(&self) -> Option<RefView<'a>> {
        map_field(self.node, "templateRef").map(|node| RefView { node })
    }
    pub fn min(&self) -> Option<Field<'a, f64>> {
        self.threshold_range().and_then(|r| num_field(r, "min"))
    }
    pub fn max(&self) -> Option<Field<'a, f64>> {
        self.threshold_range().and_then(|r| num_field(r, "max"))
    }
}

/// One `analysis.webhooks` item.
#[derive(Clone, Copy, Debug)]
pub struct HookView<'a> {
    pub node: &'a Node,
}

impl<'a> HookView<'a> {
    getters! {
        name: str_field("name") -> Field<'a, &'a str>;
        type_: str_field("type") -> Field<'a, &'a str>;
        url: str_field("url") -> Field<'a, &'a str>;
        timeout: str_field("timeout") -> Field<'a, &'a str>;
        metadata: map_field_node("metadata") -> &'a Node;
    }
    /// The hook type, `rollout` when empty or absent.
    pub fn effective_type(&self) -> &'a str {
        match self.type_() {
            Some(f) if !f.value.is_empty() => f.value,
            _ => "rollout",
        }
    }
    /// `metadata.cmd`, the load tester's command.
    pub fn cmd(&self) -> Option<Field<'a, &'a str>> {
        self.metadata().and_then(|m| str_field(m, "cmd"))
    }
}

/// One `analysis.alerts` item.
#[derive(Clone, Copy, Debug)]
pub struct AlertView<'a> {
    pub node: &'a Node,
}

impl<'a> AlertView<'a> {
    getters! {
        name: str_field("name") -> Field<'a, &'a str>;
        severity: str_field("severity") -> Field<'a, &'a str>;
    }
    pub fn provider_ref(&self) -> Option<RefView<'a>> {
        map_field(self.node, "providerRef").map(|node| RefView { node })
    }
}

/// The traffic strategy Flagger selects (canary.go, scheduler.go).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Weights rise by `stepWeight` (or through `stepWeights`) up to `maxWeight`.
    Canary,
    /// `iterations` with `analysis.match`.
    ABTesting,
    /// `iterations` without `match`.
    BlueGreen,
}

impl AnalysisView<'_> {
    pub fn strategy(&self) -> Strategy {
        let iterations = self.iterations().map_or(0.0, |f| f.value);
        if iterations > 0.0 && self.has_match() {
            Strategy::ABTesting
        } else if iterations > 0.0 {
            Strategy::BlueGreen
        } else {
            Strategy::Canary
        }
    }
}
