//! Shaping the answer: the AdmissionResponse of a verdict, the lines of a denial message and
//! the admission warnings, bounded in number and length.

use kube::core::Status;
use kube::core::admission::AdmissionResponse;

use super::{
    Decision, MAX_DENY_FINDINGS, MAX_WARNINGS, Reviewed, WARNING_MAX_CHARS, WARNING_TARGET_CHARS,
};
use canarylint::Finding;

/// An empty answer that allows the request with this uid. (kube builds answers from its own
/// typed request, which this server does not decode.)
pub(super) fn respond_to(uid: &str) -> AdmissionResponse {
    let mut response = AdmissionResponse::invalid("");
    response.uid = uid.to_string();
    response.allowed = true;
    response.result = Status::default();
    response
}

/// One thing a review found: the line of a denial message, and the (shorter, when that keeps
/// it within [`WARNING_TARGET_CHARS`]) line of an admission warning.
pub(super) struct Line {
    pub(super) full: String,
    pub(super) warning: String,
}

impl Line {
    pub(super) fn plain(text: String) -> Line {
        let text = clean(&text);
        Line {
            warning: text.clone(),
            full: text,
        }
    }
}

/// What a review found, before it becomes a response.
pub(super) struct Verdict {
    /// Reasons to deny, most important first.
    pub(super) errors: Vec<Line>,
    pub(super) warnings: Vec<Line>,
    /// The subject of the denial message: `Canary shop/checkout`.
    pub(super) heading: String,
    /// Whether this request may be denied at all (`--mode warn`, untouched specs).
    pub(super) may_deny: bool,
}

impl Verdict {
    pub(super) fn respond(self, out: &mut Reviewed) -> AdmissionResponse {
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

/// `CL101 spec.service.gateways[0]: Istio Gateway istio-system/x does not exist`; as a warning,
/// without the path when only that keeps it within [`WARNING_TARGET_CHARS`] (messages name
/// the field they are about).
pub(super) fn finding_line(f: &Finding) -> Line {
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
pub(super) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Cuts a string to `max` characters, marking the cut.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// At most [`MAX_WARNINGS`] warnings of at most [`WARNING_MAX_CHARS`] characters each.
pub(super) fn bound_warnings(warnings: Vec<String>) -> Vec<String> {
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

pub(super) fn deny_message(heading: &str, errors: &[String]) -> String {
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
