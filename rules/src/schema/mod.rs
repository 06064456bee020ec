//! CL0xx: documents and the CRD schema.

mod invalid_duration;
mod parse_error;
mod schema_violation;
mod unknown_field;

pub use invalid_duration::InvalidDuration;
pub use parse_error::ParseError;
pub use schema_violation::SchemaViolation;
pub use unknown_field::UnknownField;
