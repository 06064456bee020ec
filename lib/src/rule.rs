//! What a rule is: metadata, documentation and checks.

use crate::context::{Cx, FileCx};
use crate::document::Kind;

/// How bad a finding is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a rule can offer a fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixAvailability {
    None,
    Sometimes,
    Always,
}

/// Everything known about a rule before it runs.
#[derive(Debug)]
pub struct RuleMeta {
    /// `CL201`: never renumbered, never reused.
    pub code: &'static str,
    /// `step-weight-exceeds-max-weight`: names the problem, reads well after "allow".
    pub slug: &'static str,
    pub severity: Severity,
    /// One line for `canarylint rules` and SARIF.
    pub summary: &'static str,
    /// The rule's documentation (Markdown), from its doc comment.
    pub docs: &'static str,
    pub since: &'static str,
    pub fix: FixAvailability,
    /// The inventory kinds the rule looks up.
    pub inputs: &'static [Kind],
    /// Findings only matter for one router; capped to warning when the provider is a guess.
    pub provider_specific: bool,
    /// `false` only for findings that make every other finding meaningless (CL000).
    pub suppressible: bool,
    pub type_name: &'static str,
    pub file: &'static str,
    pub line: u32,
}

impl RuleMeta {
    /// The documentation with rustdoc's leading space removed from each line.
    pub fn explanation(&self) -> String {
        let mut out = String::with_capacity(self.docs.len());
        for line in self.docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// The Markdown section under a `### Heading` of the documentation.
    pub fn section(&self, heading: &str) -> Option<String> {
        let text = self.explanation();
        let mut lines = text.lines();
        let marker = format!("### {heading}");
        lines.by_ref().find(|l| l.trim() == marker)?;
        let body: Vec<&str> = lines.take_while(|l| !l.starts_with("### ")).collect();
        Some(body.join("\n").trim().to_string())
    }

    /// The first ```yaml block under a heading.
    pub fn example(&self, heading: &str) -> Option<String> {
        let section = self.section(heading)?;
        let start = section.find("```yaml")? + "```yaml".len();
        let rest = &section[start..];
        let end = rest.find("```")?;
        Some(rest[..end].trim_start_matches('\n').to_string())
    }

    /// The page that documents the rule.
    pub fn url(&self) -> String {
        format!("{}/{}.md", crate::DOCS_BASE_URL, self.code)
    }
}

/// Implemented by `declare_rule!`.
pub trait RuleMetadata {
    fn meta(&self) -> &'static RuleMeta;
}

/// A lint rule. Checks default to doing nothing; a rule implements the ones it needs.
pub trait Rule: RuleMetadata + Send + Sync {
    /// Called once per Flagger object (Canary, MetricTemplate, AlertProvider).
    fn check(&self, _cx: &mut Cx<'_, '_>) {}
    /// Called once per file, for problems that belong to no object (syntax errors).
    fn check_file(&self, _cx: &mut FileCx<'_, '_>) {}
}

/// Declares a rule type with its metadata; the doc comment is its documentation.
///
/// ```ignore
/// declare_rule! {
///     /// ### What it does
///     /// …
///     pub struct StepWeightExceedsMaxWeight;
///     code: "CL201", slug: "step-weight-exceeds-max-weight", severity: Error,
///     summary: "stepWeight above maxWeight, or a weight outside 0..100",
///     since: "0.1.0", fix: Sometimes, inputs: [],
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident;
        code: $code:literal,
        slug: $slug:literal,
        severity: $sev:ident,
        summary: $summary:literal,
        since: $since:literal,
        fix: $fix:ident,
        inputs: [$($input:ident),* $(,)?]
        $(, provider_specific: $ps:literal)?
        $(, suppressible: $sup:literal)?
        $(,)?
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Default, Clone, Copy)]
        $vis struct $name;

        impl $name {
            pub const META: $crate::rule::RuleMeta = $crate::rule::RuleMeta {
                code: $code,
                slug: $slug,
                severity: $crate::rule::Severity::$sev,
                summary: $summary,
                docs: concat!($($doc, "\n"),*),
                since: $since,
                fix: $crate::rule::FixAvailability::$fix,
                inputs: &[$($crate::document::Kind::$input),*],
                provider_specific: $crate::__first_bool!($($ps)?; false),
                suppressible: $crate::__first_bool!($($sup)?; true),
                type_name: stringify!($name),
                file: file!(),
                line: line!(),
            };
        }

        impl $crate::rule::RuleMetadata for $name {
            fn meta(&self) -> &'static $crate::rule::RuleMeta {
                static META: $crate::rule::RuleMeta = $name::META;
                &META
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __first_bool {
    ($v:literal; $d:literal) => {
        $v
    };
    (; $d:literal) => {
        $d
    };
}
