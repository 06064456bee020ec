//! CL5xx: traffic policy.
