//! The admission decision: a plain synchronous function from a request body and the server's
//! state to an AdmissionReview, or to an HTTP error for a body that is not a review.
//!
//! Nothing here does I/O or calls the API server; tests and fuzzers call [`review`] directly.

use std::cmp::Reverse;
use std::fmt;
use std::sync::{Arc, OnceLock};

use axum::http::StatusCode;
use canarylint::json;
use canarylint::json::{JsonTree, KeySeed};
use canarylint::model::Object;
use canarylint::tree::Entry;
use canarylint::{Budget, Finding, Kind, Linter, Node, Severity, SourceFile, Span, Value};
use kube::core::admission::{AdmissionResponse, AdmissionReview, Operation};
use kube::core::{DynamicObject, Status};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::args::Mode;
use crate::gateways;
use crate::inventory::SharedInventory;

/// Where the API server posts reviews.
pub const VALIDATE_PATH: &str = "/validate";

/// The review version this server speaks.
pub const REVIEW_API_VERSION: &str = "admission.k8s.io/v1";

/// At most this many warnings per response; the last one says how many were left out.
pub const MAX_WARNINGS: usize = 10;

/// At most this many findings in a denial message.
pub const MAX_DENY_FINDINGS: usize = 10;

/// The length the API server recommends for a warning.
pub const WARNING_TARGET_CHARS: usize = 120;

/// The API server may truncate longer warnings; none is longer.
pub const WARNING_MAX_CHARS: usize = 256;

/// A kind of request the server acts on (what the webhook configuration must send it).
#[derive(Clone, Copy, Debug)]
pub struct Handled {
    pub group: &'static str,
    pub resource: &'static str,
    pub kind: &'static str,
    pub operations: &'static [&'static str],
}

/// Every request the server acts on; anything else is allowed untouched.
pub const HANDLED: &[Handled] = &[
    Handled {
        group: "flagger.app",
        resource: "canaries",
        kind: "Canary",
        operations: &["CREATE", "UPDATE"],
    },
    Handled {
        group: "networking.istio.io",
        resource: "gateways",
        kind: "Gateway",
        operations: &["UPDATE", "DELETE"],
    },
];

/// How findings turn into a decision.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    pub mode: Mode,
    /// Deny Gateway changes that hurt a Canary (otherwise warn).
    pub protect_gateways: bool,
    /// Deny Canary changes while the cluster inventory is not synced.
    pub fail_closed_references: bool,
}

/// What a review needs: the linter, the inventory and the policy.
pub struct State {
    pub linter: Linter,
    pub inventory: Arc<SharedInventory>,
    pub policy: Policy,
    /// Limits for parsing the reviewed object.
    pub budget: Budget,
}

impl State {
    pub fn new(linter: Linter, inventory: Arc<SharedInventory>, policy: Policy) -> State {
        State {
            linter,
            inventory,
            policy,
            budget: Budget::STRICT,
        }
    }
}

/// The answer given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, nothing to say.
    Allow,
    /// Allowed, with warnings.
    Warn,
    Deny,
    /// Not a request this server acts on: allowed without looking.
    Skip,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Warn => "warn",
            Decision::Deny => "deny",
            Decision::Skip => "skip",
        }
    }
}

/// A review answered, with what the logs and metrics need.
#[derive(Debug)]
pub struct Reviewed {
    pub review: AdmissionReview<DynamicObject>,
    pub uid: String,
    pub operation: &'static str,
    /// `canary`, `gateway` or `other`.
    pub subject: &'static str,
    /// `Canary shop/checkout`.
    pub resource: String,
    pub decision: Decision,
    pub dry_run: bool,
    /// Code and severity of every finding (info included), before `--mode warn`.
    pub findings: Vec<(&'static str, Severity)>,
}

/// The request of an AdmissionReview, as far as the decision reads it, read in one pass over
/// the body: the objects go straight into lint trees (without their managed fields), nothing
/// else of them is kept.
struct WireReview {
    api_version: String,
    kind: String,
    request: Option<WireRequest>,
}

/// The fields kube's `AdmissionRequest` requires are required here too, so that the same
/// bodies are bad requests.
struct WireRequest {
    uid: String,
    kind: WireGvk,
    sub_resource: Option<String>,
    name: String,
    namespace: Option<String>,
    operation: Operation,
    object: Option<JsonTree>,
    old_object: Option<JsonTree>,
    dry_run: bool,
}

#[derive(Deserialize)]
struct WireGvk {
    group: String,
    version: String,
    kind: String,
}

/// Checked for shape only: kube's typed request requires it.
#[derive(Deserialize)]
#[allow(dead_code)]
struct WireGvr {
    group: IgnoredString,
    version: IgnoredString,
    resource: IgnoredString,
}

/// A string whose value nobody reads.
struct IgnoredString;

impl<'de> Deserialize<'de> for IgnoredString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeySeed).map(|_| IgnoredString)
    }
}

/// What the linter never reads and the API server sends with objects: the managed fields, and
/// the copy of the whole object that `kubectl apply` keeps in an annotation (together, often
/// more than half of a body).
const PRUNED: &[&[&str]] = &[
    &["metadata", "managedFields"],
    &[
        "metadata",
        "annotations",
        "kubectl.kubernetes.io/last-applied-configuration",
    ],
];

/// Reads the review, its objects under `budget`.
struct ReviewSeed<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for ReviewSeed<'_> {
    type Value = WireReview;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<WireReview, D::Error> {
        d.deserialize_map(self)
    }
}

/// A field set twice is an error, as with serde's derived readers.
fn once<T, E: de::Error>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for ReviewSeed<'_> {
    type Value = WireReview;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AdmissionReview")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireReview, A::Error> {
        let (mut api_version, mut kind, mut request) = (None, None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "apiVersion" => once(&mut api_version, "apiVersion", map.next_value()?)?,
                "kind" => once(&mut kind, "kind", map.next_value()?)?,
                "request" => once(
                    &mut request,
                    "request",
                    map.next_value_seed(Nullable(RequestSeed(self.0)))?,
                )?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(WireReview {
            api_version: api_version.ok_or_else(|| de::Error::missing_field("apiVersion"))?,
            kind: kind.ok_or_else(|| de::Error::missing_field("kind"))?,
            request: request.flatten(),
        })
    }
}

struct RequestSeed<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for RequestSeed<'_> {
    type Value = WireRequest;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<WireRequest, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RequestSeed<'_> {
    type Value = WireRequest;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AdmissionRequest")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireRequest, A::Error> {
        let mut uid = None;
        let mut kind = None;
        let mut resource: Option<WireGvr> = None;
        let mut sub_resource = None;
        let mut name = None;
        let mut namespace = None;
        let mut operation = None;
        let mut user_info = None;
        let mut object = None;
        let mut old_object = None;
        let mut dry_run = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "uid" => once(&mut uid, "uid", map.next_value()?)?,
                "kind" => once(&mut kind, "kind", map.next_value()?)?,
                "resource" => once(&mut resource, "resource", map.next_value()?)?,
                "subResource" => once(&mut sub_resource, "subResource", map.next_value()?)?,
                "name" => once(&mut name, "name", map.next_value()?)?,
                "namespace" => once(&mut namespace, "namespace", map.next_value()?)?,
                "operation" => once(&mut operation, "operation", map.next_value()?)?,
                "userInfo" => once(&mut user_info, "userInfo", map.next_value::<IgnoredAny>()?)?,
                "object" => once(
                    &mut object,
                    "object",
                    map.next_value_seed(Nullable(ObjectSeed(self.0, "object")))?,
                )?,
                "oldObject" => once(
                    &mut old_object,
                    "oldObject",
                    map.next_value_seed(Nullable(ObjectSeed(self.0, "oldObject")))?,
                )?,
                "dryRun" => once(&mut dry_run, "dryRun", map.next_value()?)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        resource.ok_or_else(|| de::Error::missing_field("resource"))?;
        user_info.ok_or_else(|| de::Error::missing_field("userInfo"))?;
        Ok(WireRequest {
            uid: uid.ok_or_else(|| de::Error::missing_field("uid"))?,
            kind: kind.ok_or_else(|| de::Error::missing_field("kind"))?,
            sub_resource: sub_resource.flatten(),
            name: name.unwrap_or_default(),
            namespace: namespace.flatten(),
            operation: operation.ok_or_else(|| de::Error::missing_field("operation"))?,
            object: object.flatten(),
            old_object: old_object.flatten(),
            dry_run: dry_run.unwrap_or_default(),
        })
    }
}

/// An object of the request: a JSON object, read into a lint tree.
struct ObjectSeed<'b>(&'b Budget, &'static str);

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = JsonTree;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<JsonTree, D::Error> {
        let tree = json::TreeSeed::new(self.0, PRUNED).deserialize(d)?;
        // Over the budget, the tree is empty: the refusal is reported like the YAML reader's.
        if tree.refusal.is_none() && !tree.root.is_map() {
            return Err(de::Error::custom(format!(
                "request.{} is not a JSON object",
                self.1
            )));
        }
        Ok(tree)
    }
}

/// `null` or a value.
struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<S::Value>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null or a value")
    }

    fn visit_none<E>(self) -> Result<Option<S::Value>, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Option<S::Value>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<S::Value>, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

fn read_review(body: &[u8], budget: &Budget) -> serde_json::Result<WireReview> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let review = ReviewSeed(budget).deserialize(&mut de)?;
    de.end()?;
    Ok(review)
}

/// Reads an AdmissionReview and decides. A body that is no `admission.k8s.io/v1`
/// AdmissionReview with a request is an HTTP 400, with a message saying why.
pub fn review(body: &[u8], state: &State) -> Result<Reviewed, (StatusCode, String)> {
    let bad = |m: String| (StatusCode::BAD_REQUEST, m);
    let review = read_review(body, &state.budget)
        .map_err(|e| bad(format!("the body is not an AdmissionReview: {e}")))?;
    if review.api_version != REVIEW_API_VERSION || review.kind != "AdmissionReview" {
        return Err(bad(format!(
            "expected apiVersion {REVIEW_API_VERSION} and kind AdmissionReview, got apiVersion {:?} and kind {:?}",
            review.api_version, review.kind
        )));
    }
    let Some(request) = review.request else {
        return Err(bad("the AdmissionReview has no request".to_string()));
    };
    if request.uid.is_empty() {
        return Err(bad("the AdmissionReview request has no uid".to_string()));
    }
    let operation = match request.operation {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    };
    let group = request.kind.group.as_str();
    let kind = request.kind.kind.as_str();
    let handled = HANDLED
        .iter()
        .any(|h| h.group == group && h.kind == kind && h.operations.contains(&operation));
    let subject = match (group, kind) {
        ("flagger.app", "Canary") => "canary",
        ("networking.istio.io", "Gateway") => "gateway",
        _ => "other",
    };
    let namespace = request.namespace.as_deref().unwrap_or_default();
    let resource = if namespace.is_empty() {
        format!("{kind} {}", request.name)
    } else {
        format!("{kind} {namespace}/{}", request.name)
    };
    let mut out = Reviewed {
        review: respond_to(&request.uid).into_review(),
        uid: request.uid.clone(),
        operation,
        subject,
        resource,
        decision: Decision::Skip,
        dry_run: request.dry_run,
        findings: Vec::new(),
    };
    // Subresources (status, scale) carry no spec change worth linting.
    if !handled || request.sub_resource.is_some() {
        return Ok(out);
    }
    let response = match subject {
        "canary" => review_canary(request, state, &mut out)?,
        _ => review_gateway(&request, state, &mut out),
    };
    out.review = response.into_review();
    Ok(out)
}

/// An empty answer that allows the request with this uid. (kube builds answers from its own
/// typed request, which this server does not decode.)
fn respond_to(uid: &str) -> AdmissionResponse {
    let mut response = AdmissionResponse::invalid("");
    response.uid = uid.to_string();
    response.allowed = true;
    response.result = Status::default();
    response
}

/// One thing a review found: the line of a denial message, and the (shorter, when that keeps
/// it within [`WARNING_TARGET_CHARS`]) line of an admission warning.
struct Line {
    full: String,
    warning: String,
}

impl Line {
    fn plain(text: String) -> Line {
        let text = clean(&text);
        Line {
            warning: text.clone(),
            full: text,
        }
    }
}

/// What a review found, before it becomes a response.
struct Verdict {
    /// Reasons to deny, most important first.
    errors: Vec<Line>,
    warnings: Vec<Line>,
    /// The subject of the denial message: `Canary shop/checkout`.
    heading: String,
    /// Whether this request may be denied at all (`--mode warn`, untouched specs).
    may_deny: bool,
}

impl Verdict {
    fn respond(self, out: &mut Reviewed) -> AdmissionResponse {
        let mut response = respond_to(&out.uid);
        let Verdict {
            errors,
            mut warnings,
            heading,
            may_deny,
        } = self;
        if !errors.is_empty() && may_deny {
            let full: Vec<String> = errors.into_iter().map(|l| l.full).collect();
            response = response.deny(deny_message(&heading, &full));
            // kubectl names the reason, not the code: without it a denial reads
            // `Error from server: …` instead of `Error from server (Forbidden): …`.
            response.result.code = 403;
            response.result.reason = "Forbidden".into();
            response.result.status = Some(kube::core::response::StatusSummary::Failure);
            out.decision = Decision::Deny;
        } else {
            let mut all = errors;
            all.append(&mut warnings);
            warnings = all;
            out.decision = if warnings.is_empty() {
                Decision::Allow
            } else {
                Decision::Warn
            };
        }
        if !warnings.is_empty() {
            let lines: Vec<String> = warnings.into_iter().map(|l| l.warning).collect();
            response.warnings = Some(bound_warnings(lines));
        }
        response
    }
}

/// The empty source text of every reviewed object: its tree is read from JSON, without spans.
fn admission_source() -> Arc<SourceFile> {
    static SOURCE: OnceLock<Arc<SourceFile>> = OnceLock::new();
    SOURCE
        .get_or_init(|| Arc::new(SourceFile::new("<admission>", "")))
        .clone()
}

fn review_canary(
    request: WireRequest,
    state: &State,
    out: &mut Reviewed,
) -> Result<AdmissionResponse, (StatusCode, String)> {
    let WireRequest {
        object,
        old_object,
        operation,
        ..
    } = request;
    let Some(mut tree) = object else {
        return Ok(respond_to(&out.uid));
    };
    if tree.refusal.is_none() {
        prepare(&mut tree.root, &request.kind, request.namespace.as_deref())?;
    }
    // The spec did not change (metadata, finalizers) or the object is going away: findings
    // are reported, never denied, so that nothing blocks the object's controllers.
    let untouched = operation == Operation::Update
        && old_object.is_some_and(|old| {
            old.refusal.is_none() && same_json(old.root.get("spec"), tree.root.get("spec"))
        });
    let deleting = tree
        .root
        .at(&["metadata", "deletionTimestamp"])
        .is_some_and(|t| !t.is_null());
    let parsed = json::parsed_object(admission_source(), tree);
    let mut findings: Vec<Finding> = {
        let inventory = state.inventory.read();
        state.linter.lint_file(&parsed, &inventory)
    };
    drop(parsed);
    // Most important first, then by code and path (the tree has no positions to order by).
    findings.sort_by(|a, b| {
        (Reverse(a.severity), a.rule.code, &a.path).cmp(&(
            Reverse(b.severity),
            b.rule.code,
            &b.path,
        ))
    });
    out.findings = findings.iter().map(|f| (f.rule.code, f.severity)).collect();
    let mut errors: Vec<Line> = Vec::new();
    if state.policy.fail_closed_references && state.inventory.has_cluster() {
        let pending = state.inventory.pending();
        if !pending.is_empty() {
            let kinds: Vec<&str> = pending.iter().map(|k| k.describe()).collect();
            errors.push(Line::plain(format!(
                "inventory not synced ({}): references cannot be checked yet, retry shortly",
                kinds.join(", ")
            )));
        }
    }
    let mut warnings = Vec::new();
    for f in &findings {
        match f.severity {
            Severity::Error => errors.push(finding_line(f)),
            Severity::Warning => warnings.push(finding_line(f)),
            Severity::Info => {}
        }
    }
    Ok(Verdict {
        errors,
        warnings,
        heading: out.resource.clone(),
        may_deny: state.policy.mode == Mode::Deny && !untouched && !deleting,
    }
    .respond(out))
}

fn review_gateway(request: &WireRequest, state: &State, out: &mut Reviewed) -> AdmissionResponse {
    let default_ns = request
        .namespace
        .as_deref()
        .unwrap_or(&state.linter.settings.default_namespace);
    let extract = |tree: &JsonTree| {
        let namespace = tree
            .root
            .at(&["metadata", "namespace"])
            .and_then(Node::as_str)
            .unwrap_or(default_ns);
        Object::extract(Kind::IstioGateway, &tree.root, namespace, None)
    };
    let Some(old) = request.old_object.as_ref().and_then(extract) else {
        return respond_to(&out.uid);
    };
    let new = match request.operation {
        Operation::Delete => None,
        _ => match request.object.as_ref().and_then(extract) {
            Some(n) => Some(n),
            None => return respond_to(&out.uid),
        },
    };
    let impacts = {
        let inventory = state.inventory.read();
        gateways::impacts(&old, new.as_ref(), &inventory, &state.linter.settings)
    };
    let name = format!("{}/{}", old.namespace, old.name);
    let lines: Vec<Line> = impacts
        .iter()
        .map(|i| Line::plain(i.message(&name)))
        .collect();
    let (errors, warnings) = if state.policy.protect_gateways {
        (lines, Vec::new())
    } else {
        (Vec::new(), lines)
    };
    Verdict {
        errors,
        warnings,
        heading: format!("Gateway {name}"),
        may_deny: state.policy.mode == Mode::Deny,
    }
    .respond(out)
}

/// Fills what the linter needs and the API server may leave out, as kube's `DynamicObject`
/// did when the object was read through it: `apiVersion` and `kind` from the request unless
/// the object has both as strings, a `metadata` mapping, its namespace from the request.
fn prepare(
    root: &mut Node,
    gvk: &WireGvk,
    namespace: Option<&str>,
) -> Result<(), (StatusCode, String)> {
    let not_an_object = || {
        (
            StatusCode::BAD_REQUEST,
            "the body is not an AdmissionReview: request.object.metadata is not a JSON object"
                .to_string(),
        )
    };
    let done = root.edit_entries(|entries| {
        let typed = |entries: &[Entry], key: &str| {
            entries
                .iter()
                .any(|e| e.key == key && e.value.as_str().is_some())
        };
        if !(typed(entries, "apiVersion") && typed(entries, "kind")) {
            let api_version = if gvk.group.is_empty() {
                gvk.version.to_string()
            } else {
                format!("{}/{}", gvk.group, gvk.version)
            };
            set(entries, "apiVersion", string(&api_version));
            set(entries, "kind", string(&gvk.kind));
        }
        let i = match entries.iter().position(|e| e.key == "metadata") {
            Some(i) => i,
            None => {
                entries.push(Entry {
                    key: "metadata".into(),
                    key_span: Span::default(),
                    value: Node::new(Value::Map(Box::default()), Span::default()),
                });
                entries.len() - 1
            }
        };
        entries[i].value.edit_entries(|meta| {
            if let Some(ns) = namespace
                && !meta.iter().any(|e| e.key == "namespace")
            {
                meta.push(Entry {
                    key: "namespace".into(),
                    key_span: Span::default(),
                    value: string(ns),
                });
            }
        })
    });
    match done {
        Some(None) => Err(not_an_object()),
        _ => Ok(()),
    }
}

fn string(s: &str) -> Node {
    Node::new(Value::Str(s.into()), Span::default())
}

fn set(entries: &mut Vec<Entry>, key: &str, value: Node) {
    match entries.iter_mut().find(|e| e.key == key) {
        Some(e) => e.value = value,
        None => entries.push(Entry {
            key: key.into(),
            key_span: Span::default(),
            value,
        }),
    }
}

/// JSON equality: mappings compare as sets of entries, whatever their order.
fn same_json(a: Option<&Node>, b: Option<&Node>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_node(a, b),
        _ => false,
    }
}

fn same_node(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|e| b.get(&e.key).is_some_and(|v| same_node(&e.value, v)))
        }
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_node(p, q))
        }
        (Value::Str(_), Value::Str(_)) => a.as_str() == b.as_str(),
        (x, y) => x == y,
    }
}

/// `CL101 spec.service.gateways[0]: Istio Gateway istio-system/x does not exist`; as a warning,
/// without the path when only that keeps it within [`WARNING_TARGET_CHARS`] (messages name
/// the field they are about).
fn finding_line(f: &Finding) -> Line {
    let short = clean(&format!("{} {}", f.rule.code, f.message));
    if f.path.is_empty() {
        return Line {
            full: short.clone(),
            warning: short,
        };
    }
    let full = clean(&format!("{} {}: {}", f.rule.code, f.path, f.message));
    let fits = |s: &str| s.chars().count() <= WARNING_TARGET_CHARS;
    let warning = if !fits(&full) && fits(&short) {
        short
    } else {
        full.clone()
    };
    Line { full, warning }
}

/// One line of plain text: control characters become spaces.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Cuts a string to `max` characters, marking the cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// At most [`MAX_WARNINGS`] warnings of at most [`WARNING_MAX_CHARS`] characters each.
fn bound_warnings(warnings: Vec<String>) -> Vec<String> {
    let total = warnings.len();
    if total <= MAX_WARNINGS {
        return warnings
            .iter()
            .map(|w| truncate(w, WARNING_MAX_CHARS))
            .collect();
    }
    let keep = MAX_WARNINGS - 1;
    let mut out: Vec<String> = warnings
        .iter()
        .take(keep)
        .map(|w| truncate(w, WARNING_MAX_CHARS))
        .collect();
    out.push(format!(
        "and {} more (run canarylint check on the manifest to see all)",
        total - keep
    ));
    out
}

fn deny_message(heading: &str, errors: &[String]) -> String {
    let n = errors.len();
    let mut msg = format!(
        "canarylint found {n} {} in {heading}:",
        if n == 1 { "problem" } else { "problems" }
    );
    for e in errors.iter().take(MAX_DENY_FINDINGS) {
        msg.push('\n');
        msg.push_str(&truncate(e, 2 * WARNING_MAX_CHARS));
    }
    if n > MAX_DENY_FINDINGS {
        msg.push_str(&format!("\nand {} more", n - MAX_DENY_FINDINGS));
    }
    msg
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn warnings_are_bounded_in_number_and_length() {
        let many: Vec<String> = (0..25)
            .map(|i| format!("CL2{i:02} {}", "x".repeat(300)))
            .collect();
        let got = bound_warnings(many);
        assert_eq!(got.len(), MAX_WARNINGS);
        assert!(got.iter().all(|w| w.chars().count() <= WARNING_MAX_CHARS));
        assert!(got.last().unwrap().starts_with("and 16 more"));
        assert_eq!(bound_warnings(vec!["a".into()]), vec!["a".to_string()]);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let s = "é".repeat(300);
        let t = truncate(&s, 10);
        assert_eq!(t.chars().count(), 10);
        assert!(t.ends_with('…'));
        assert_eq!(clean("a\nb\tc"), "a b c");
    }

    /// The pipeline before reviews were read straight into the lint tree: kube's typed review,
    /// the object re-serialized to JSON text and read back by the YAML reader. Kept to prove
    /// that the answers did not change.
    mod legacy {
        use kube::core::admission::AdmissionRequest;

        use super::*;

        pub fn answer(body: &[u8], state: &State) -> Option<serde_json::Value> {
            let review: AdmissionReview<DynamicObject> = serde_json::from_slice(body).ok()?;
            let request: AdmissionRequest<DynamicObject> = review.try_into().ok()?;
            let mut out = Reviewed {
                review: AdmissionResponse::from(&request).into_review(),
                uid: request.uid.clone(),
                operation: "",
                subject: "",
                resource: format!(
                    "{} {}/{}",
                    request.kind.kind,
                    request.namespace.clone().unwrap_or_default(),
                    request.name
                ),
                decision: Decision::Skip,
                dry_run: request.dry_run,
                findings: Vec::new(),
            };
            let response = canary(&request, state, &mut out);
            serde_json::to_value(response.into_review()).ok()
        }

        fn canary(
            request: &AdmissionRequest<DynamicObject>,
            state: &State,
            out: &mut Reviewed,
        ) -> AdmissionResponse {
            let object = request.object.as_ref().unwrap();
            let mut json = serde_json::to_value(object).unwrap();
            let map = json.as_object_mut().unwrap();
            if !map.contains_key("apiVersion") {
                let gvk = &request.kind;
                map.insert(
                    "apiVersion".into(),
                    format!("{}/{}", gvk.group, gvk.version).into(),
                );
            }
            if !map.contains_key("kind") {
                map.insert("kind".into(), request.kind.kind.clone().into());
            }
            if let Some(meta) = map
                .get_mut("metadata")
                .and_then(serde_json::Value::as_object_mut)
            {
                meta.remove("managedFields");
                if let (false, Some(ns)) = (meta.contains_key("namespace"), &request.namespace) {
                    meta.insert("namespace".into(), ns.clone().into());
                }
            }
            let untouched = request.operation == Operation::Update
                && request
                    .old_object
                    .as_ref()
                    .is_some_and(|old| old.data.get("spec") == object.data.get("spec"));
            let deleting = object.metadata.deletion_timestamp.is_some();
            let parsed = canarylint::read(
                Arc::new(SourceFile::new("<admission>", json.to_string())),
                &state.budget,
            );
            let mut findings: Vec<Finding> =
                state.linter.lint_file(&parsed, &state.inventory.read());
            findings.sort_by(|a, b| {
                (Reverse(a.severity), a.rule.code, &a.path).cmp(&(
                    Reverse(b.severity),
                    b.rule.code,
                    &b.path,
                ))
            });
            let mut errors = Vec::new();
            let mut warnings = Vec::new();
            for f in &findings {
                match f.severity {
                    Severity::Error => errors.push(finding_line(f)),
                    Severity::Warning => warnings.push(finding_line(f)),
                    Severity::Info => {}
                }
            }
            Verdict {
                errors,
                warnings,
                heading: out.resource.clone(),
                may_deny: state.policy.mode == Mode::Deny && !untouched && !deleting,
            }
            .respond(out)
        }
    }

    fn state_with(context: &[std::path::PathBuf], mode: Mode) -> State {
        let (seed, namespaces) = if context.is_empty() {
            (canarylint::Inventory::new(), Default::default())
        } else {
            let s = canarylint_workspace::files::load_context(context, "default", true).unwrap();
            (s.inventory, s.namespaces)
        };
        let inventory = Arc::new(SharedInventory::new(seed, namespaces));
        let policy = Policy {
            mode,
            ..Policy::default()
        };
        State::new(Linter::new(canarylint_rules::ALL), inventory, policy)
    }

    fn body(op: &str, object: &serde_json::Value, old: Option<&serde_json::Value>) -> Vec<u8> {
        let ns = object["metadata"]["namespace"].clone();
        serde_json::to_vec(&serde_json::json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "u-1",
                "kind": {"group": "flagger.app", "version": "v1beta1", "kind": "Canary"},
                "resource": {"group": "flagger.app", "version": "v1beta1", "resource": "canaries"},
                "name": object["metadata"]["name"].clone(),
                "namespace": ns,
                "operation": op,
                "userInfo": {"username": "test"},
                "object": object,
                "oldObject": old,
                "dryRun": false,
            }
        }))
        .unwrap()
    }

    /// Every Canary of the YAML files under `dirs`, as the API server would send it.
    fn canaries(dirs: &[std::path::PathBuf]) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        for dir in dirs {
            for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
                let entry = entry.unwrap();
                let p = entry.path();
                if !matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                    continue;
                }
                let text = std::fs::read_to_string(p).unwrap();
                let parsed = canarylint::read(
                    Arc::new(SourceFile::new(p.display().to_string(), text)),
                    &Budget::GENEROUS,
                );
                if !parsed.problems.is_empty() {
                    continue;
                }
                for d in parsed.documents.iter().filter(|d| d.kind == Kind::Canary) {
                    let mut o = d.root.to_json();
                    if o["metadata"]["namespace"].is_null() {
                        o["metadata"]["namespace"] = "default".into();
                    }
                    let applied = o.to_string();
                    o["metadata"]["managedFields"] = serde_json::json!([
                        {"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
                         "fieldsV1": {"f:spec": {"f:analysis": {}}}}
                    ]);
                    let annotations = &mut o["metadata"]["annotations"];
                    if annotations.is_null() {
                        *annotations = serde_json::json!({});
                    }
                    annotations["kubectl.kubernetes.io/last-applied-configuration"] =
                        applied.into();
                    out.push(o);
                }
            }
        }
        out
    }

    fn assert_same_answers(objects: &[serde_json::Value], state: &State) -> usize {
        let mut checked = 0;
        for o in objects {
            let mut changed = o.clone();
            changed["spec"]["analysis"]["stepWeight"] = 77.into();
            let mut relabelled = o.clone();
            relabelled["metadata"]["labels"] = serde_json::json!({"a": "b"});
            let mut going = o.clone();
            going["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z".into();
            let mut silenced = o.clone();
            silenced["metadata"]["annotations"]["canarylint.io/ignore"] =
                "CL101,CL201,CL202".into();
            for b in [
                body("CREATE", o, None),
                body("CREATE", &silenced, None),
                body("UPDATE", &relabelled, Some(o)),
                body("UPDATE", &changed, Some(o)),
                body("UPDATE", &going, Some(o)),
            ] {
                let new = serde_json::to_value(review(&b, state).unwrap().review).unwrap();
                let old = legacy::answer(&b, state).unwrap();
                assert_eq!(new, old, "{}", o["metadata"]["name"]);
                checked += 1;
            }
        }
        checked
    }

    fn repo() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn answers_are_those_of_the_re_serializing_pipeline() {
        let dirs = [
            repo().join("examples"),
            repo().join("rules/fixtures"),
            repo().join("cli/tests/fixtures"),
        ];
        let objects = canaries(&dirs);
        assert!(objects.len() >= 10, "{}", objects.len());
        for (context, mode) in [
            (vec![], Mode::Deny),
            (vec![repo().join("examples")], Mode::Deny),
            (vec![repo().join("examples")], Mode::Warn),
        ] {
            assert_same_answers(&objects, &state_with(&context, mode));
        }
        // A larger corpus when one is named (for example the benchmark kit's):
        // CANARYLINT_EQUIVALENCE_CORPUS=/tmp/canarylint-bench/corpus/100/multi
        if let Some(dir) = std::env::var_os("CANARYLINT_EQUIVALENCE_CORPUS") {
            let dir = std::path::PathBuf::from(dir);
            let objects = canaries(std::slice::from_ref(&dir));
            let n = assert_same_answers(&objects, &state_with(&[dir], Mode::Deny));
            assert!(n > 0);
        }
    }

    #[test]
    fn deny_message_lists_at_most_ten() {
        let errs: Vec<String> = (0..12).map(|i| format!("CL1{i:02} spec.x: bad")).collect();
        let m = deny_message("Canary a/b", &errs);
        assert!(m.starts_with("canarylint found 12 problems in Canary a/b:\nCL100 spec.x: bad"));
        assert!(m.ends_with("\nand 2 more"));
    }
}
