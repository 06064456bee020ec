//! canarylint: a linter for Flagger `Canary` resources and the objects they reference.
//!
//! Text in, findings out: this crate reads YAML/JSON streams into objects with source spans,
//! keeps an inventory of the objects rules look up, and runs rules (from `canarylint-rules`)
//! over every Flagger object. It does no I/O of its own beyond what callers hand it, and knows
//! no individual rule.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod bundle;
pub mod config;
pub mod context;
pub mod de;
pub mod document;
pub mod duration;
pub mod edit;
pub mod finding;
pub mod inventory;
pub mod json;
pub mod kustomize;
pub mod linter;
pub mod model;
pub mod rule;
pub mod schema;
pub mod source;
pub mod suggest;
pub mod suppress;
pub mod tree;
pub mod yaml;

#[cfg(feature = "testing")]
pub mod testing;

pub use config::Config;
pub use context::{
    At, Cx, FileCx, Provider, ProviderSource, Router, Settings, SuppressionCx, Unused,
};
pub use document::{BrokenDocument, Document, Kind, ParsedFile, ResourceRef, read};
pub use finding::{Applicability, Edit, Finding, FindingReport, Fix};
pub use inventory::{Broken, Bundle, Coverage, Inventory, Lookup, Unresolved, View};
pub use linter::{Input, LintRun, Linter, Reread, Retain, Unit};
pub use rule::{FixAvailability, ProviderFamily, Rule, RuleMeta, RuleMetadata, Severity};
pub use source::{Fingerprint, LineCol, SourceFile};
pub use tree::{Node, Span, Str, Value};
pub use yaml::Budget;

/// Where the rule pages live; each rule's page is `<base>/<CODE>.md`.
pub const DOCS_BASE_URL: &str = "https://github.com/canarylint/canarylint/blob/main/docs/rules";

/// The version of canarylint.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
