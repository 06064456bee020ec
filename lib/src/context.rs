//! What a rule sees while it runs, and how it reports.

use std::cell::OnceCell;

use crate::document::{Document, Kind, ParsedFile};
use crate::finding::{Finding, Fix, Label, Related};
use crate::inventory::{Lookup, View};
use crate::model::{CanaryView, Location};
use crate::rule::{RuleMeta, Severity};
use crate::schema::{SchemaError, Seg, path_string};
use crate::yaml::{Node, Span, Value};

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

    /// The Istio router (Flagger also falls back to it for unknown names).
    pub fn is_istio(&self) -> bool {
        self.name == "istio"
    }

    /// Any Gateway API flavour (`gatewayapi:v1`, `gatewayapi:v1beta1`).
    pub fn is_gateway_api(&self) -> bool {
        self.name.starts_with("gatewayapi")
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
        let source = &self.file.source;
        let finding = Finding {
            rule: self.rule,
            severity: self.rule.severity,
            message: message.into(),
            help: None,
            file: source.name.clone(),
            span,
            start: source.line_col(span.start),
            end: source.line_col(span.end),
            path,
            resource: Some(self.doc.resource(&self.settings.default_namespace)),
            labels: Vec::new(),
            related: Vec::new(),
            fix: None,
        };
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
        let source = &self.file.source;
        // Point at the document the problem is in, when there is one.
        let resource = self
            .file
            .documents
            .iter()
            .find(|d| d.span.start <= span.start && span.start <= d.span.end)
            .map(|d| d.resource(&self.settings.default_namespace));
        let finding = Finding {
            rule: self.rule,
            severity: self.rule.severity,
            message: message.into(),
            help: None,
            file: source.name.clone(),
            span,
            start: source.line_col(span.start),
            end: source.line_col(span.end),
            path: String::new(),
            resource,
            labels: Vec::new(),
            related: Vec::new(),
            fix: None,
        };
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
    fn f(&mut self) -> &mut Finding {
        // The option is only emptied by drop.
        self.finding.get_or_insert_with(unreachable_finding)
    }

    /// How to fix it: one imperative sentence.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.f().help = Some(help.into());
        self
    }
    /// A secondary span in the same file.
    pub fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.f().labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }
    /// A place in another file (or a cluster object).
    pub fn related(mut self, location: Option<Location>, message: impl Into<String>) -> Self {
        self.f().related.push(Related {
            location,
            message: message.into(),
        });
        self
    }
    pub fn fix(mut self, fix: Fix) -> Self {
        self.f().fix = Some(fix);
        self
    }
    /// A severity other than the rule's default (a rule whose severity depends on the case).
    pub fn severity(mut self, severity: Severity) -> Self {
        self.f().severity = severity;
        self
    }
    /// Reports under another rule's code (reference rules report CL100 this way).
    pub fn as_rule(mut self, meta: &'static RuleMeta) -> Self {
        let f = self.f();
        f.rule = meta;
        f.severity = meta.severity;
        self
    }
}

impl Drop for Report<'_> {
    fn drop(&mut self) {
        if let Some(f) = self.finding.take() {
            self.out.push(f);
        }
    }
}

fn unreachable_finding() -> Finding {
    Finding {
        rule: &crate::linter::INTERNAL_ERROR,
        severity: Severity::Error,
        message: String::new(),
        help: None,
        file: "".into(),
        span: Span::default(),
        start: Default::default(),
        end: Default::default(),
        path: String::new(),
        resource: None,
        labels: Vec::new(),
        related: Vec::new(),
        fix: None,
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
