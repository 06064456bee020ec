//! CL5xx: traffic policy.

mod retry_on_invalid;
mod tls_mode_conflict;

pub use retry_on_invalid::RetryOnInvalid;
pub use tls_mode_conflict::TlsModeConflict;
