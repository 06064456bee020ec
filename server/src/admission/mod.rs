//! The admission decision: a plain synchronous function from a request body and the server's
//! state to an AdmissionReview, or to an HTTP error for a body that is not a review.
//!
//! Nothing here does I/O or calls the API server; tests and fuzzers call [`review`] directly.
//! Three steps, one file each: [`read`] the review, [`decide`], [`shape`] the answer.

mod decide;
mod read;
mod shape;

use std::sync::Arc;

use axum::http::StatusCode;
use canarylint::{Budget, Linter, Severity};
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionReview, Operation};

use crate::inventory::SharedInventory;
use crate::options::Mode;
use decide::{review_canary, review_gateway};
use read::read_review;
use shape::respond_to;

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::cmp::Reverse;

    use canarylint::{Finding, Kind, SourceFile};
    use kube::core::admission::AdmissionResponse;

    use super::shape::*;
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
