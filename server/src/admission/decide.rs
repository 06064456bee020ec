//! Deciding: the reviewed object linted against the inventory (a Canary), or the Canaries a
//! Gateway change breaks (a Gateway); errors deny, warnings warn, within the policy.

use std::cmp::Reverse;
use std::sync::{Arc, OnceLock};

use axum::http::StatusCode;
use canarylint::json;
use canarylint::json::JsonTree;
use canarylint::model::Object;
use canarylint::{Finding, Kind, Node, Severity, SourceFile, Value};
use kube::core::admission::{AdmissionResponse, Operation};

use super::read::{WireRequest, prepare};
use super::shape::{Line, Verdict, finding_line, respond_to};
use super::{Reviewed, State};
use crate::gateways;
use crate::options::Mode;

/// The empty source text of every reviewed object: its tree is read from JSON, without spans.
pub(super) fn admission_source() -> Arc<SourceFile> {
    static SOURCE: OnceLock<Arc<SourceFile>> = OnceLock::new();
    SOURCE
        .get_or_init(|| Arc::new(SourceFile::new("<admission>", "")))
        .clone()
}

pub(super) fn review_canary(
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

pub(super) fn review_gateway(
    request: &WireRequest,
    state: &State,
    out: &mut Reviewed,
) -> AdmissionResponse {
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

/// JSON equality: mappings compare as sets of entries, whatever their order.
pub(super) fn same_json(a: Option<&Node>, b: Option<&Node>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_node(a, b),
        _ => false,
    }
}

pub(super) fn same_node(a: &Node, b: &Node) -> bool {
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
