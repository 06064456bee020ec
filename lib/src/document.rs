//! Kubernetes objects read from a file: the documents of a stream, `kind: List` items expanded.

use std::sync::Arc;

use crate::inventory::Bundle;
use crate::source::SourceFile;
use crate::suppress::InlineSuppressions;
use crate::tree::{Node, Span, Value};
use crate::yaml::{Budget, parse_stream};

/// What an object is, as far as canarylint cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Kind {
    Canary,
    MetricTemplate,
    AlertProvider,
    IstioGateway,
    GatewayApiGateway,
    Deployment,
    DaemonSet,
    Service,
    KnativeService,
    HorizontalPodAutoscaler,
    ScaledObject,
    PeerAuthentication,
    /// An Istio VirtualService (`networking.istio.io`).
    VirtualService,
    /// A Gateway API HTTPRoute.
    HttpRoute,
    Other,
}

impl Kind {
    /// Every kind canarylint knows (all but `Other`).
    pub const ALL: [Kind; 14] = [
        Kind::Canary,
        Kind::MetricTemplate,
        Kind::AlertProvider,
        Kind::IstioGateway,
        Kind::GatewayApiGateway,
        Kind::Deployment,
        Kind::DaemonSet,
        Kind::Service,
        Kind::KnativeService,
        Kind::HorizontalPodAutoscaler,
        Kind::ScaledObject,
        Kind::PeerAuthentication,
        Kind::VirtualService,
        Kind::HttpRoute,
    ];

    /// Classifies by API group and kind.
    pub fn classify(api_version: &str, kind: &str) -> Kind {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        match (group, kind) {
            ("flagger.app", "Canary") => Kind::Canary,
            ("flagger.app", "MetricTemplate") => Kind::MetricTemplate,
            ("flagger.app", "AlertProvider") => Kind::AlertProvider,
            ("networking.istio.io", "Gateway") => Kind::IstioGateway,
            ("gateway.networking.k8s.io", "Gateway") => Kind::GatewayApiGateway,
            ("apps", "Deployment") => Kind::Deployment,
            ("apps", "DaemonSet") => Kind::DaemonSet,
            ("", "Service") => Kind::Service,
            ("serving.knative.dev", "Service") => Kind::KnativeService,
            ("autoscaling", "HorizontalPodAutoscaler") => Kind::HorizontalPodAutoscaler,
            ("keda.sh", "ScaledObject") => Kind::ScaledObject,
            ("security.istio.io", "PeerAuthentication") => Kind::PeerAuthentication,
            ("networking.istio.io", "VirtualService") => Kind::VirtualService,
            ("gateway.networking.k8s.io", "HTTPRoute") => Kind::HttpRoute,
            _ => Kind::Other,
        }
    }

    /// Canary, MetricTemplate and AlertProvider: the documents rules check.
    pub fn is_flagger(self) -> bool {
        matches!(
            self,
            Kind::Canary | Kind::MetricTemplate | Kind::AlertProvider
        )
    }

    /// The name users know the kind by.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Canary => "Canary",
            Kind::MetricTemplate => "MetricTemplate",
            Kind::AlertProvider => "AlertProvider",
            Kind::IstioGateway => "Gateway",
            Kind::GatewayApiGateway => "Gateway",
            Kind::Deployment => "Deployment",
            Kind::DaemonSet => "DaemonSet",
            Kind::Service => "Service",
            Kind::KnativeService => "Service",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::ScaledObject => "ScaledObject",
            Kind::PeerAuthentication => "PeerAuthentication",
            Kind::VirtualService => "VirtualService",
            Kind::HttpRoute => "HTTPRoute",
            Kind::Other => "object",
        }
    }

    /// A longer name that tells the two Gateways and the two Services apart.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::IstioGateway => "Istio Gateway",
            Kind::GatewayApiGateway => "Gateway API Gateway",
            Kind::KnativeService => "Knative Service",
            other => other.name(),
        }
    }
}

/// Who an object is: the parts of a finding's `resource`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ResourceRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

/// A document that failed to parse, and what a scan of its top-level lines tells about the
/// object it was meant to be.
#[derive(Clone, Debug, PartialEq)]
pub struct BrokenDocument {
    /// The whole document.
    pub span: Span,
    /// Where its parse error is.
    pub problem: Span,
    /// Classified from `apiVersion` and `kind` lines when both were found.
    pub kind: Option<Kind>,
    pub kind_name: Option<String>,
    /// `metadata.name`, when a line shows it.
    pub name: Option<String>,
    /// `metadata.namespace`, when a line shows it.
    pub namespace: Option<String>,
}

impl BrokenDocument {
    /// Scans the lines of a document that did not parse for its `apiVersion`, `kind`,
    /// `metadata.name` and `metadata.namespace`: block-style keys at the start of a line, or
    /// indented under `metadata:`. What cannot be read that way stays unknown.
    pub fn scan(text: &str, span: Span, problem: Span) -> BrokenDocument {
        let body = text.get(span.range()).unwrap_or("");
        let mut api_version = None;
        let mut kind_name = None;
        let mut name = None;
        let mut namespace = None;
        let mut in_metadata = false;
        let mut meta_indent = None;
        for line in body.lines() {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            let Some((key, value)) = trimmed.split_once(':') else {
                if indent == 0 {
                    in_metadata = false;
                }
                continue;
            };
            let value = scalar(value);
            if indent == 0 {
                in_metadata = key == "metadata";
                meta_indent = None;
                match key {
                    "apiVersion" => api_version = value,
                    "kind" => kind_name = value,
                    _ => {}
                }
            } else if in_metadata {
                // Only the first level under `metadata:` (not labels or annotations).
                let first = *meta_indent.get_or_insert(indent);
                if indent == first {
                    match key {
                        "name" => name = value,
                        "namespace" => namespace = value,
                        _ => {}
                    }
                }
            }
        }
        let kind = match (&api_version, &kind_name) {
            (Some(a), Some(k)) => Some(Kind::classify(a, k)),
            _ => None,
        };
        BrokenDocument {
            span,
            problem,
            kind,
            kind_name,
            name,
            namespace,
        }
    }
}

/// A plain or quoted one-line scalar after a key, without its comment.
fn scalar(value: &str) -> Option<String> {
    let v = value.trim();
    let v = match v.find(" #") {
        Some(i) => v[..i].trim_end(),
        None => v,
    };
    let v = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
        .unwrap_or(v);
    let ok = !v.is_empty()
        && !v.starts_with(['{', '[', '&', '*', '!', '|', '>'])
        && v.chars().all(|c| !c.is_control());
    ok.then(|| v.to_string())
}

/// One Kubernetes object of a file.
#[derive(Debug)]
pub struct Document {
    /// Position among the objects of the file, counting `List` items.
    pub index: usize,
    pub root: Node,
    pub span: Span,
    pub kind: Kind,
    pub api_version: String,
    pub kind_name: String,
    pub name: Option<String>,
    /// `metadata.namespace` as written, or the namespace its kustomization sets for every
    /// object (see [`ParsedFile::set_namespace`]).
    pub namespace: Option<String>,
}

impl Document {
    /// The namespace the object lands in when applied with `default` as the current one.
    pub fn namespace_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(default)
    }

    pub fn resource(&self, default_namespace: &str) -> ResourceRef {
        ResourceRef {
            kind: self.kind_name.clone(),
            namespace: Some(self.namespace_or(default_namespace).to_string()),
            name: self.name.clone(),
        }
    }

    pub fn metadata(&self) -> Option<&Node> {
        self.root.get("metadata")
    }

    /// An annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&Node> {
        self.root.at(&["metadata", "annotations", key])
    }
}

/// Why (part of) a file could not be read as objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub message: String,
    pub span: Span,
    pub first: Option<Span>,
    /// The document this problem kept from being read, when it broke one.
    pub document: Option<Span>,
}

/// A file read into objects.
#[derive(Debug)]
pub struct ParsedFile {
    pub source: Arc<SourceFile>,
    pub documents: Vec<Document>,
    /// Syntax errors, duplicate keys, documents that are not objects.
    pub problems: Vec<Problem>,
    /// Documents a syntax error kept from being read (the others are).
    pub broken: Vec<BrokenDocument>,
    pub suppressions: InlineSuppressions,
    /// The unit the file is applied with.
    pub bundle: Bundle,
}

impl ParsedFile {
    /// Gives every object the namespace its kustomization sets (kustomize's `namespace:`
    /// replaces the one written).
    pub fn set_namespace(&mut self, namespace: &str) {
        for d in &mut self.documents {
            d.namespace = Some(namespace.to_string());
        }
        for b in &mut self.broken {
            b.namespace = Some(namespace.to_string());
        }
    }

    /// Whether the file holds anything a rule looks at: a Flagger object or a problem.
    pub fn has_flagger_objects(&self) -> bool {
        self.documents.iter().any(|d| d.kind.is_flagger())
    }
}

/// Reads a source into objects.
pub fn read(source: Arc<SourceFile>, budget: &Budget) -> ParsedFile {
    let stream = parse_stream(&source.text, budget);
    let mut problems: Vec<Problem> = stream
        .errors
        .into_iter()
        .map(|e| Problem {
            message: e.message,
            span: e.span,
            first: e.first,
            document: e.document,
        })
        .collect();
    let broken = problems
        .iter()
        .filter_map(|p| {
            let doc = p.document?;
            Some(BrokenDocument::scan(&source.text, doc, p.span))
        })
        .collect();
    let mut documents = Vec::new();
    let mut not_objects = Vec::new();
    for raw in stream.documents {
        collect(raw.root, raw.span, &mut documents, &mut not_objects);
    }
    // A file with no Kubernetes object at all is some other YAML file: pass over it.
    if !documents.is_empty() {
        for mut span in not_objects {
            // One character, not one byte: a span must never split a character.
            if let Some(c) = source
                .text
                .get(span.start as usize..)
                .and_then(|t| t.chars().next())
            {
                span.end = span.start + c.len_utf8() as u32;
            }
            problems.push(Problem {
                message:
                    "this document is not a Kubernetes object (a mapping with apiVersion and kind)"
                        .into(),
                span,
                first: None,
                document: None,
            });
        }
    }
    let suppressions = InlineSuppressions::scan(&source);
    ParsedFile {
        source,
        documents,
        problems,
        broken,
        suppressions,
        bundle: Bundle::Context,
    }
}

fn collect(root: Node, span: Span, out: &mut Vec<Document>, not_objects: &mut Vec<Span>) {
    if root.is_null() {
        return;
    }
    let api_version = root
        .get("apiVersion")
        .and_then(Node::as_str)
        .map(str::to_string);
    let kind_name = root.get("kind").and_then(Node::as_str).map(str::to_string);
    let (Some(api_version), Some(kind_name)) = (api_version, kind_name) else {
        not_objects.push(Span::new(
            span.start,
            span.start.max(span.end.min(span.start + 1)),
        ));
        return;
    };
    // `kind: List` (and `FooList`) carries its objects in `items`.
    if (kind_name.ends_with("List") && api_version == "v1" || kind_name == "List")
        && let Some(Value::Seq(_)) = root.get("items").map(|n| &n.value)
    {
        if let Value::Map(entries) = root.value {
            for e in entries {
                if e.key == "items"
                    && let Value::Seq(items) = e.value.value
                {
                    for item in items {
                        let s = item.span;
                        collect(item, s, out, not_objects);
                    }
                }
            }
        }
        return;
    }
    let meta = root.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .map(str::to_string);
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str)
        .map(str::to_string);
    let kind = Kind::classify(&api_version, &kind_name);
    out.push(Document {
        index: out.len(),
        span: root.span,
        root,
        kind,
        api_version,
        kind_name,
        name,
        namespace,
    });
}
