//! What a rule sees while it runs, and how it reports.

use std::cell::OnceCell;

use crate::document::{Document, Kind, ParsedFile, ResourceRef};
use crate::finding::{Finding, Fix, Label, Related};
use crate::inventory::{Lookup, View};
use crate::model::{CanaryView, Location};
use crate::rule::{RuleMeta, Severity};
use crate::schema::{SchemaError, Seg, path_string};
use crate::source::SourceFile;
use crate::tree::{Node, Span, Value};

/// Run-wide settings that change what Flagger would do.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Flagger's `-mesh-provider`, used when a Canary has no `spec.provider`.
    pub default_provider: String,
    /// Whether the user set `default_provider` (flag or config) rather than taking ours.
    pub provider_configured: bool,
    /// Flagger's `-selector-labels`.
    pub selector_labels: Vec<String>,
    /// The namespace of objects that do not name one.
    pub default_namespace: String,
    /// Whether `default_namespace` is only a guess (no `--namespace`, no `namespace` in the
    /// configuration): objects placed there by it never make that namespace complete.
    pub namespace_assumed: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_provider: "istio".into(),
            provider_configured: false,
            selector_labels: vec!["app".into(), "name".into(), "app.kubernetes.io/name".into()],
            default_namespace: "default".into(),
            namespace_assumed: true,
        }
    }
}

/// Where the provider of a Canary came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderSource {
    /// `spec.provider`.
    Spec,
    /// Inferred from a field only one router reads (`gatewayRefs`, `ingressRef`, …).
    Shape(&'static str),
    /// The user's configured default.
    Configured,
    /// Our default (`istio`), as Flagger's own default.
    Default,
}

/// The router that will handle a Canary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    pub source: ProviderSource,
}

impl Provider {
    /// Resolves as Flagger would, inferring from shape when `spec.provider` is absent.
    pub fn resolve(canary: &CanaryView<'_>, settings: &Settings) -> Provider {
        if let Some(p) = canary.provider()
            && !p.value.is_empty()
        {
            return Provider {
                name: p.value.to_string(),
                source: ProviderSource::Spec,
            };
        }
        let svc = canary.service();
        let shape = if svc.is_some_and(|s| s.gateway_refs_node().is_some()) {
            Some(("gatewayapi:v1", "service.gatewayRefs"))
        } else if canary.ingress_ref().is_some() {
            Some(("nginx", "ingressRef"))
        } else if canary.route_ref().is_some() {
            Some(("apisix", "routeRef"))
        } else if canary.upstream_ref().is_some() {
            Some(("gloo", "upstreamRef"))
        } else if svc.is_some_and(|s| s.mesh_name().is_some()) {
            Some(("appmesh", "service.meshName"))
        } else {
            None
        };
        if let Some((name, field)) = shape {
            return Provider {
                name: name.into(),
                source: ProviderSource::Shape(field),
            };
        }
        Provider {
            name: settings.default_provider.clone(),
            source: if settings.provider_configured {
                ProviderSource::Configured
            } else {
                ProviderSource::Default
            },
        }
    }

    /// Whether the provider is only a guess (shape or our default).
    pub fn is_guess(&self) -> bool {
        matches!(
            self.source,
            ProviderSource::Shape(_) | ProviderSource::Default
        )
    }

    /// The router Flagger builds for this provider string.
    pub fn router(&self) -> Router {
        Router::for_provider(&self.name)
    }

    /// The Istio router (Flagger also falls back to it for names it does not know).
    pub fn is_istio(&self) -> bool {
        self.router() == Router::Istio
    }

    /// Either Gateway API router (`gatewayapi:v1…`, `gatewayapi:v1beta1…`).
    pub fn is_gateway_api(&self) -> bool {
        matches!(
            self.router(),
            Router::GatewayApiV1 | Router::GatewayApiV1beta1
        )
    }
}

/// The router Flagger 1.44 builds for a provider string (pkg/router/factory.go, `MeshRouter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Router {
    Istio,
    /// `appmesh`: the legacy App Mesh router, which needs `service.meshName`.
    AppMesh,
    /// `appmesh:v1beta2…`: the App Mesh controller v1beta2 router (no `meshName`).
    AppMeshV1beta2,
    /// `linkerd` and `smi:v1alpha1…`: SMI TrafficSplit v1alpha1.
    SmiV1alpha1,
    /// `osm` and `smi:v1alpha2…`.
    SmiV1alpha2,
    SmiV1alpha3,
    Contour,
    Knative,
    /// Every string that starts with `gloo`.
    Gloo,
    Nginx,
    Skipper,
    Traefik,
    Apisix,
    Kuma,
    GatewayApiV1beta1,
    /// Every string that starts with `gatewayapi:v1` but not `gatewayapi:v1beta1`.
    GatewayApiV1,
    /// `kubernetes`: no traffic routing; Flagger runs Blue/Green.
    Kubernetes,
}

impl Router {
    /// Follows `MeshRouter`'s switch case by case, in its order: exact names, the prefixes
    /// it tests with `strings.HasPrefix`, and the Istio router for anything else.
    pub fn for_provider(provider: &str) -> Router {
        let p = provider;
        if p.starts_with("appmesh:v1beta2") {
            Router::AppMeshV1beta2
        } else if p == "appmesh" {
            Router::AppMesh
        } else if p == "linkerd" {
            Router::SmiV1alpha1
        } else if p == "istio" {
            Router::Istio
        } else if p.starts_with("smi:v1alpha1") {
            Router::SmiV1alpha1
        } else if p.starts_with("smi:v1alpha2") {
            Router::SmiV1alpha2
        } else if p.starts_with("smi:v1alpha3") {
            Router::SmiV1alpha3
        } else if p == "contour" {
            Router::Contour
        } else if p == "knative" {
            Router::Knative
        } else if p.starts_with("gloo") {
            Router::Gloo
        } else if p == "nginx" {
            Router::Nginx
        } else if p == "skipper" {
            Router::Skipper
        } else if p == "traefik" {
            Router::Traefik
        } else if p == "apisix" {
            Router::Apisix
        } else if p == "osm" {
            Router::SmiV1alpha2
        } else if p == "kuma" {
            Router::Kuma
        } else if p.starts_with("gatewayapi:v1beta1") {
            Router::GatewayApiV1beta1
        } else if p.starts_with("gatewayapi:v1") {
            Router::GatewayApiV1
        } else if p == "kubernetes" {
            Router::Kubernetes
        } else {
            Router::Istio
        }
    }

    /// The routers whose `SetRoutes` honour the `mirrored` flag (istio.go, gateway_api*.go).
    pub fn can_mirror(self) -> bool {
        matches!(
            self,
            Router::Istio | Router::GatewayApiV1 | Router::GatewayApiV1beta1
        )
    }

    /// How users know the router.
    pub fn name(self) -> &'static str {
        match self {
            Router::Istio => "Istio",
            Router::AppMesh => "App Mesh (legacy)",
            Router::AppMeshV1beta2 => "App Mesh v1beta2",
            Router::SmiV1alpha1 => "SMI v1alpha1",
            Router::SmiV1alpha2 => "SMI v1alpha2",
            Router::SmiV1alpha3 => "SMI v1alpha3",
            Router::Contour => "Contour",
            Router::Knative => "Knative",
            Router::Gloo => "Gloo",
            Router::Nginx => "NGINX ingress",
            Router::Skipper => "Skipper ingress",
            Router::Traefik => "Traefik",
            Router::Apisix => "APISIX",
            Router::Kuma => "Kuma",
            Router::GatewayApiV1beta1 => "Gateway API v1beta1",
            Router::GatewayApiV1 => "Gateway API v1",
            Router::Kubernetes => "Kubernetes (no routing)",
        }
    }
}

/// Computed once per object and shared by every rule.
pub(crate) struct DocShared<'a> {
    pub(crate) provider: Option<Provider>,
    pub(crate) schema: OnceCell<Vec<SchemaError<'a>>>,
}

/// The context of one rule on one Flagger object.
pub struct Cx<'a, 'r> {
    pub file: &'a ParsedFile,
    pub doc: &'a Document,
    /// The inventory as this object sees it (its own bundle first).
    pub inventory: View<'a>,
    pub settings: &'a Settings,
    pub(crate) shared: &'r DocShared<'a>,
    pub(crate) rule: &'static RuleMeta,
    pub(crate) out: &'r mut Vec<Finding>,
}

/// What a finding points at.
#[derive(Clone, Copy, Debug)]
pub enum At<'a> {
    /// A value.
    Value(&'a Node),
    /// The key of the entry that holds this value (the value itself when it has no key).
    Key(&'a Node),
    /// A field missing from a mapping: points at the mapping's own key.
    Missing(&'a Node, &'a str),
    /// A raw span (file-level problems).
    Span(Span),
}

impl<'a> Cx<'a, '_> {
    /// The Canary when this object is one.
    pub fn canary(&self) -> Option<CanaryView<'a>> {
        CanaryView::new(self.doc)
    }

    pub fn kind(&self) -> Kind {
        self.doc.kind
    }

    /// The object's namespace (or the default one).
    pub fn namespace(&self) -> &'a str {
        self.doc.namespace_or(&self.settings.default_namespace)
    }

    /// Whether the object's namespace is only assumed: it names none, and none was given.
    pub fn namespace_assumed(&self) -> bool {
        self.settings.namespace_assumed && self.doc.namespace.is_none()
    }

    /// The router of this Canary (None for other kinds).
    pub fn provider(&self) -> Option<&Provider> {
        self.shared.provider.as_ref()
    }

    /// Schema violations of this object (validated once, shared by the schema rules).
    pub fn schema_errors(&self) -> &[SchemaError<'a>] {
        self.shared
            .schema
            .get_or_init(|| crate::schema::validate(self.doc.kind, &self.doc.root))
    }

    /// Looks an object up in the inventory.
    pub fn lookup(&self, kind: Kind, namespace: &str, name: &str) -> Lookup<'a> {
        self.inventory.lookup(kind, namespace, name)
    }

    /// The location of a node of this file, for related information in other findings.
    pub fn location(&self, node: &Node) -> Location {
        Location::new(&self.file.source, node.span)
    }

    /// Starts a finding of this rule.
    pub fn report<'c>(&'c mut self, at: At<'_>, message: impl Into<String>) -> Report<'c> {
        let (span, path) = resolve(&self.doc.root, at);
        let finding = Finding::new(self.rule, &self.file.source, span, message)
            .with_path(path)
            .with_resource(Some(self.doc.resource(&self.settings.default_namespace)));
        Report {
            out: self.out,
            finding: Some(finding),
        }
    }

    /// The path of a node, as findings print it.
    pub fn path_of(&self, node: &Node) -> String {
        resolve(&self.doc.root, At::Value(node)).1
    }

    /// The key span of the entry holding `node`, if it has one.
    pub fn key_span(&self, node: &Node) -> Option<Span> {
        find(&self.doc.root, node).and_then(|(_, k)| k)
    }

    /// The source text of a span of this file.
    pub fn text(&self, span: Span) -> &'a str {
        self.file.source.slice(span)
    }
}

/// The context of a rule on a whole file.
pub struct FileCx<'a, 'r> {
    pub file: &'a ParsedFile,
    pub settings: &'a Settings,
    pub(crate) rule: &'static RuleMeta,
    pub(crate) out: &'r mut Vec<Finding>,
}

impl FileCx<'_, '_> {
    pub fn report<'c>(&'c mut self, span: Span, message: impl Into<String>) -> Report<'c> {
        // Point at the document the problem is in, when there is one.
        let resource = self
            .file
            .documents
            .iter()
            .find(|d| d.span.start <= span.start && span.start <= d.span.end)
            .map(|d| d.resource(&self.settings.default_namespace));
        let finding =
            Finding::new(self.rule, &self.file.source, span, message).with_resource(resource);
        Report {
            out: self.out,
            finding: Some(finding),
        }
    }
}

/// A suppression that silenced nothing, handed to the rule that reports them.
#[derive(Clone, Copy, Debug)]
pub enum Unused<'a> {
    /// Codes of a `# canarylint-ignore` comment that silenced nothing on `line`.
    Comment { codes: &'a [&'a str], line: u32 },
    /// Codes of an object's `canarylint.io/ignore` annotation that silenced nothing on it.
    Annotation { codes: &'a [&'a str] },
    /// An `ignore` entry of the configuration that silenced nothing in the whole run.
    ConfigEntry {
        resource: &'a str,
        rules: &'a [String],
    },
}

/// The context of a rule on one unused suppression: findings point at the suppression.
pub struct SuppressionCx<'a, 'r> {
    pub(crate) source: &'a SourceFile,
    pub(crate) span: Span,
    pub(crate) resource: Option<ResourceRef>,
    pub(crate) rule: &'static RuleMeta,
    pub(crate) out: &'r mut Vec<Finding>,
}

impl SuppressionCx<'_, '_> {
    pub fn report<'c>(&'c mut self, message: impl Into<String>) -> Report<'c> {
        let finding = Finding::new(self.rule, self.source, self.span, message)
            .with_resource(self.resource.clone());
        Report {
            out: self.out,
            finding: Some(finding),
        }
    }
}

/// A finding being built; it is recorded when dropped.
pub struct Report<'c> {
    out: &'c mut Vec<Finding>,
    finding: Option<Finding>,
}

impl Report<'_> {
    /// Changes the finding being built (it is only taken out by drop).
    fn with(mut self, change: impl FnOnce(&mut Finding)) -> Self {
        if let Some(f) = self.finding.as_mut() {
            change(f);
        }
        self
    }

    /// How to fix it: one imperative sentence.
    pub fn help(self, help: impl Into<String>) -> Self {
        self.with(|f| f.help = Some(help.into()))
    }
    /// A secondary span in the same file.
    pub fn label(self, span: Span, message: impl Into<String>) -> Self {
        self.with(|f| {
            f.labels.push(Label {
                span,
                message: message.into(),
            })
        })
    }
    /// A place in another file (or a cluster object).
    pub fn related(self, location: Option<Location>, message: impl Into<String>) -> Self {
        self.with(|f| {
            f.related.push(Related {
                location,
                message: message.into(),
            })
        })
    }
    pub fn fix(self, fix: Fix) -> Self {
        self.with(|f| f.fix = Some(fix))
    }
    /// A severity other than the rule's default (a rule whose severity depends on the case).
    pub fn severity(self, severity: Severity) -> Self {
        self.with(|f| f.severity = severity)
    }
    /// Reports under another rule's code (reference rules report CL100 this way).
    pub fn as_rule(self, meta: &'static RuleMeta) -> Self {
        self.with(|f| {
            f.rule = meta;
            f.severity = meta.severity;
        })
    }
}

impl Drop for Report<'_> {
    fn drop(&mut self) {
        if let Some(f) = self.finding.take() {
            self.out.push(f);
        }
    }
}

/// Finds a node by identity: its path and the span of the key that holds it.
pub fn find(root: &Node, target: &Node) -> Option<(Vec<Seg>, Option<Span>)> {
    /// A step of the path being walked, borrowed: only the path found is made owned.
    enum Step<'a> {
        Key(&'a str),
        Index(usize),
    }
    fn walk<'a>(
        n: &'a Node,
        target: *const Node,
        path: &mut Vec<Step<'a>>,
    ) -> Option<Option<Span>> {
        match &n.value {
            Value::Map(entries) => {
                for e in entries {
                    path.push(Step::Key(&e.key));
                    if std::ptr::eq(&e.value, target) {
                        return Some(Some(e.key_span));
                    }
                    if let Some(k) = walk(&e.value, target, path) {
                        return Some(k);
                    }
                    path.pop();
                }
                None
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    if std::ptr::eq(item, target) {
                        return Some(None);
                    }
                    if let Some(k) = walk(item, target, path) {
                        return Some(k);
                    }
                    path.pop();
                }
                None
            }
            _ => None,
        }
    }
    if std::ptr::eq(root, target) {
        return Some((Vec::new(), None));
    }
    let mut path = Vec::new();
    let key = walk(root, target, &mut path)?;
    let path = path
        .into_iter()
        .map(|s| match s {
            Step::Key(k) => Seg::Key(k.to_string()),
            Step::Index(i) => Seg::Index(i),
        })
        .collect();
    Some((path, key))
}

/// The primary span and the path of a target.
pub fn resolve(root: &Node, at: At<'_>) -> (Span, String) {
    match at {
        At::Span(s) => (s, String::new()),
        At::Value(n) => {
            let path = find(root, n)
                .map(|(p, _)| path_string(&p))
                .unwrap_or_default();
            (trim_block(n), path)
        }
        At::Key(n) => match find(root, n) {
            Some((p, Some(k))) => (k, path_string(&p)),
            Some((p, None)) => (trim_block(n), path_string(&p)),
            None => (n.span, String::new()),
        },
        At::Missing(parent, name) => {
            let (mut segs, key) = find(root, parent).unwrap_or_default();
            segs.push(Seg::Key(name.to_string()));
            let span = match key {
                Some(k) => k,
                // A missing top-level field: point at `kind`.
                None => root
                    .entry("kind")
                    .map_or(Span::new(parent.span.start, parent.span.start), |e| {
                        e.value.span
                    }),
            };
            (span, path_string(&segs))
        }
    }
}

/// A mapping or list spans many lines; a finding about it points at its first line only.
fn trim_block(n: &Node) -> Span {
    // An alias stands where it is written, but its content keeps the spans of the anchor,
    // earlier in the file (so do merged entries): those say nothing about where `n` is.
    let here = |s: Span| s.end >= n.span.start;
    let trimmed = match &n.value {
        Value::Map(entries) => entries
            .first()
            .filter(|e| here(e.key_span))
            .map(|e| Span::new(n.span.start, e.key_span.end)),
        Value::Seq(items) => items
            .first()
            .filter(|i| here(i.span))
            .map(|i| Span::new(n.span.start.min(i.span.start), trim_block(i).end)),
        _ => None,
    };
    trimmed.filter(|s| s.start <= s.end).unwrap_or(n.span)
}

#[cfg(test)]
mod router_tests {
    use super::Router;

    /// Every provider value of the CRD's enum, the strings Flagger matches by prefix, and
    /// strings it does not know (which fall back to the Istio router), as `MeshRouter` in
    /// pkg/router/factory.go maps them.
    #[test]
    fn provider_strings_pick_flaggers_router() {
        let table = [
            ("istio", Router::Istio),
            ("linkerd", Router::SmiV1alpha1),
            ("appmesh", Router::AppMesh),
            ("appmesh:v1beta2", Router::AppMeshV1beta2),
            ("nginx", Router::Nginx),
            ("contour", Router::Contour),
            ("gloo", Router::Gloo),
            ("skipper", Router::Skipper),
            ("traefik", Router::Traefik),
            ("apisix", Router::Apisix),
            ("kuma", Router::Kuma),
            ("osm", Router::SmiV1alpha2),
            ("knative", Router::Knative),
            ("kubernetes", Router::Kubernetes),
            ("gatewayapi:v1beta1", Router::GatewayApiV1beta1),
            ("gatewayapi:v1", Router::GatewayApiV1),
            ("smi:v1alpha1", Router::SmiV1alpha1),
            ("smi:v1alpha2", Router::SmiV1alpha2),
            ("smi:v1alpha3", Router::SmiV1alpha3),
            // Prefix matches, as `-mesh-provider` may spell them.
            ("smi:v1alpha3:osm", Router::SmiV1alpha3),
            ("gloo:gloo-system", Router::Gloo),
            ("appmesh:v1beta2:x", Router::AppMeshV1beta2),
            ("gatewayapi:v1alpha2", Router::GatewayApiV1),
            // Exact matches only: a version suffix Flagger does not test for falls through.
            ("nginx:v1", Router::Istio),
            ("appmesh:v1beta1", Router::Istio),
            ("gatewayapi", Router::Istio),
            ("smi", Router::Istio),
            ("Istio", Router::Istio),
            ("", Router::Istio),
        ];
        for (provider, router) in table {
            assert_eq!(Router::for_provider(provider), router, "{provider:?}");
        }
    }
}
