//! canarylint-server: the validating admission webhook for Flagger `Canary` resources.
//!
//! The webhook lints every created or updated Canary with the same engine and rules as
//! `canarylint check`, denies those with error-level findings, and returns warnings for the
//! rest. Cross-resource checks read an in-memory inventory kept current by watching the
//! cluster (see [`cluster`]); a review never calls the API server. Updates and deletions of
//! Istio Gateways are checked against the Canaries that route through them (see [`gateways`]).
//!
//! The pieces:
//! - [`options::ServeOptions`]: what the webhook is started with (the CLI reads the flags of
//!   `canarylint serve` into it);
//! - [`run`]: runs the webhook until SIGTERM/SIGINT (what the CLI calls);
//! - [`server::Server`]: start, addresses and graceful shutdown, for embedding and tests;
//! - [`admission::review`]: the decision itself, a plain synchronous function;
//! - [`app`]: the HTTP routes; [`tls`]: the certificate and its reload; [`metrics`].
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod admission;
pub mod app;
pub mod cluster;
pub mod gateways;
pub mod inventory;
pub mod metrics;
pub mod options;
pub mod repeats;
pub mod server;
pub mod tls;

pub use admission::{Decision, Policy, Reviewed, State, review};
pub use options::{Mode, ServeOptions};
pub use server::{ServeError, Server, build_state, run};
