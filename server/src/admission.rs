//! The admission decision: a plain synchronous function from a request body and the server's
//! state to an AdmissionReview, or to an HTTP error for a body that is not a review.
//!
//! Nothing here does I/O or calls the API server; tests and fuzzers call [`review`] directly.

use std::cmp::Reverse;
use std::sync::Arc;

use axum::http::StatusCode;
use canarylint::{Budget, Finding, Kind, Linter, Severity, SourceFile};
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};

use crate::args::Mode;
use crate::gateways;
use crate::inventory::{SharedInventory, object_from_json};

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

/// Reads an AdmissionReview and decides. A body that is no `admission.k8s.io/v1`
/// AdmissionReview with a request is an HTTP 400, with a message saying why.
pub fn review(body: &[u8], state: &State) -> Result<Reviewed, (StatusCode, String)> {
    let bad = |m: String| (StatusCode::BAD_REQUEST, m);
    let review: AdmissionReview<DynamicObject> = serde_json::from_slice(body)
        .map_err(|e| bad(format!("the body is not an AdmissionReview: {e}")))?;
    if review.types.api_version != REVIEW_API_VERSION || review.types.kind != "AdmissionReview" {
        return Err(bad(format!(
            "expected apiVersion {REVIEW_API_VERSION} and kind AdmissionReview, got apiVersion {:?} and kind {:?}",
            review.types.api_version, review.types.kind
        )));
    }
    let request: AdmissionRequest<DynamicObject> = review
        .try_into()
        .map_err(|_| bad("the AdmissionReview has no request".to_string()))?;
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
    let namespace = request.namespace.clone().unwrap_or_default();
    let resource = if namespace.is_empty() {
        format!("{kind} {}", request.name)
    } else {
        format!("{kind} {namespace}/{}", request.name)
    };
    let mut out = Reviewed {
        review: AdmissionResponse::from(&request).into_review(),
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
        "canary" => review_canary(&request, state, &mut out),
        _ => review_gateway(&request, state, &mut out),
    };
    out.review = response.into_review();
    Ok(out)
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
    fn respond(
        self,
        request: &AdmissionRequest<DynamicObject>,
        out: &mut Reviewed,
    ) -> AdmissionResponse {
        let mut response = AdmissionResponse::from(request);
        let Verdict {
            errors,
            mut warnings,
            heading,
            may_deny,
        } = self;
        if !errors.is_empty() && may_deny {
            let full: Vec<String> = errors.into_iter().map(|l| l.full).collect();
            response = response.deny(deny_message(&heading, &full));
            response.result.code = 403;
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

fn review_canary(
    request: &AdmissionRequest<DynamicObject>,
    state: &State,
    out: &mut Reviewed,
) -> AdmissionResponse {
    let Some(object) = &request.object else {
        return AdmissionResponse::from(request);
    };
    let mut json = match serde_json::to_value(object) {
        Ok(v) => v,
        Err(e) => {
            return AdmissionResponse::from(request)
                .deny(format!("canarylint could not read the object: {e}"));
        }
    };
    prepare(&mut json, request);
    // The spec did not change (metadata, finalizers) or the object is going away: findings
    // are reported, never denied, so that nothing blocks the object's controllers.
    let untouched = request.operation == Operation::Update
        && request
            .old_object
            .as_ref()
            .is_some_and(|old| old.data.get("spec") == object.data.get("spec"));
    let deleting = object.metadata.deletion_timestamp.is_some();
    let text = json.to_string();
    let parsed = canarylint::read(
        Arc::new(SourceFile::new("<admission>", text)),
        &state.budget,
    );
    let mut findings: Vec<Finding> = {
        let inventory = state.inventory.read();
        state.linter.lint_file(&parsed, &inventory)
    };
    // Most important first, then by code (the object was re-serialized: its own order is lost).
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
    Verdict {
        errors,
        warnings,
        heading: out.resource.clone(),
        may_deny: state.policy.mode == Mode::Deny && !untouched && !deleting,
    }
    .respond(request, out)
}

fn review_gateway(
    request: &AdmissionRequest<DynamicObject>,
    state: &State,
    out: &mut Reviewed,
) -> AdmissionResponse {
    let default_ns = request
        .namespace
        .as_deref()
        .unwrap_or(&state.linter.settings.default_namespace);
    let extract = |o: &DynamicObject| {
        serde_json::to_value(o)
            .ok()
            .and_then(|j| object_from_json(Kind::IstioGateway, &j, default_ns))
    };
    let Some(old) = request.old_object.as_ref().and_then(extract) else {
        return AdmissionResponse::from(request);
    };
    let new = match request.operation {
        Operation::Delete => None,
        _ => match request.object.as_ref().and_then(extract) {
            Some(n) => Some(n),
            None => return AdmissionResponse::from(request),
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
    .respond(request, out)
}

/// Fills what the linter needs and the API server may leave out; drops what it never reads.
fn prepare(json: &mut serde_json::Value, request: &AdmissionRequest<DynamicObject>) {
    let Some(map) = json.as_object_mut() else {
        return;
    };
    if !map.contains_key("apiVersion") {
        let gvk = &request.kind;
        let api_version = if gvk.group.is_empty() {
            gvk.version.clone()
        } else {
            format!("{}/{}", gvk.group, gvk.version)
        };
        map.insert("apiVersion".into(), api_version.into());
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

    #[test]
    fn deny_message_lists_at_most_ten() {
        let errs: Vec<String> = (0..12).map(|i| format!("CL1{i:02} spec.x: bad")).collect();
        let m = deny_message("Canary a/b", &errs);
        assert!(m.starts_with("canarylint found 12 problems in Canary a/b:\nCL100 spec.x: bad"));
        assert!(m.ends_with("\nand 2 more"));
    }
}
