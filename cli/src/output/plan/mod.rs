//! `canarylint plan` for people: a timeline that fits 80 columns ([`render_human`]), a
//! one-paragraph summary ([`summary`], also the LSP hover) and the generated objects as
//! Kubernetes YAML ([`render_generated_yaml`]). `--format json` is the [`canarylint_plan::Plan`]
//! itself.

mod human;
mod yaml;

pub use human::{render_human, summary};
pub use yaml::render_generated_yaml;
