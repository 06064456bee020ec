//! canarylint-workspace: what every door needs between its flags and the engine.
//!
//! - [`settings`]: flags + the discovered `.canarylint.yaml` → [`Workspace`] → the
//!   [`canarylint::Linter`] of the run;
//! - [`collect`]: the one file collector (`.gitignore`, hidden entries, manifest extensions,
//!   standard input);
//! - [`units`]: where each input lands (its bundle, its kustomization's namespace, or set
//!   aside as a kustomize patch), from the kustomizations around it, decided by lib's
//!   `bundle` module;
//! - [`files`]: the inventory source for files (`serve --context`, the language server's
//!   workspace folders);
//! - [`cluster`] (feature `cluster`): the inventory source for a cluster (kube), shared by
//!   `serve` and `check --cluster`.
//!
//! `canarylint` itself does no file I/O: it lints the texts this crate reads.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

#[cfg(feature = "cluster")]
pub mod cluster;
pub mod collect;
pub mod files;
pub mod settings;
pub mod units;

pub use collect::{InputError, Inputs, Seen};
pub use settings::{ConfigSource, Options, Workspace};
