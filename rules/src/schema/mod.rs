//! CL0xx: documents and the CRD schema.

mod duplicate_name;
mod duplicate_target;
mod interval_clamped;
mod invalid_duration;
mod parse_error;
mod schema_violation;
mod unknown_field;
mod unused_suppression;

pub use duplicate_name::DuplicateName;
pub use duplicate_target::DuplicateTarget;
pub use interval_clamped::IntervalClamped;
pub use invalid_duration::InvalidDuration;
pub use parse_error::ParseError;
pub use schema_violation::SchemaViolation;
pub use unknown_field::UnknownField;
pub use unused_suppression::UnusedSuppression;

mod removed_api_version;
pub use removed_api_version::RemovedApiVersion;

/// The version of a Flagger object's `apiVersion` when the CRD does not serve it (anything but
/// `flagger.app/v1beta1`).
pub(crate) fn old_api_version<'a>(cx: &canarylint::Cx<'a, '_>) -> Option<&'a str> {
    let version = cx.doc.api_version.strip_prefix("flagger.app/")?;
    (version != "v1beta1").then_some(version)
}
