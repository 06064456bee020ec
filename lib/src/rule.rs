//! What a rule is: metadata, documentation and checks.

use crate::context::{Cx, FileCx, Provider, SuppressionCx, Unused};
use crate::document::Kind;
use crate::model::CanaryView;

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

/// A family of providers a rule is about (`providers: [Istio]` in its metadata): the rule runs
/// only on Canaries whose provider belongs to one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ProviderFamily {
    /// `istio`.
    Istio,
    /// `gatewayapi:v1`, `gatewayapi:v1beta1`.
    GatewayApi,
}

impl ProviderFamily {
    pub fn matches(self, provider: &Provider) -> bool {
        match self {
            ProviderFamily::Istio => provider.is_istio(),
            ProviderFamily::GatewayApi => provider.is_gateway_api(),
        }
    }
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
    /// The Flagger objects the rule checks; empty: every one.
    pub kinds: &'static [Kind],
    /// The providers the rule is about; empty: any. Objects without a provider (other than
    /// Canaries) never match a non-empty list.
    pub providers: &'static [ProviderFamily],
    /// Findings only matter for one router; capped to warning when the provider is a guess.
    pub provider_specific: bool,
    /// `false` only for findings that make every other finding meaningless (CL000).
    pub suppressible: bool,
    /// The rule reports on suppressions themselves (CL007): the engine hands it, once every
    /// other rule has run, the suppressions that silenced nothing ([`Rule::check_suppression`]),
    /// and its findings are silenced only by the configuration, never by another suppression.
    pub about_suppressions: bool,
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
    /// Whether the rule has anything to check on this object. By default: the object's kind is
    /// one of the metadata's `kinds` and its provider one of its `providers` (an empty list
    /// allows all), so rules do not repeat those guards.
    fn should_run(&self, cx: &Cx<'_, '_>) -> bool {
        let meta = self.meta();
        (meta.kinds.is_empty() || meta.kinds.contains(&cx.kind()))
            && (meta.providers.is_empty()
                || cx
                    .provider()
                    .is_some_and(|p| meta.providers.iter().any(|f| f.matches(p))))
    }
    /// Called once per Flagger object (Canary, MetricTemplate, AlertProvider) that passed
    /// [`Rule::should_run`]. By default, hands Canaries to [`Rule::check_canary`].
    fn check(&self, cx: &mut Cx<'_, '_>) {
        if let Some(canary) = cx.canary() {
            self.check_canary(cx, canary);
        }
    }
    /// Called once per Canary that passed [`Rule::should_run`], with its typed view.
    fn check_canary<'a>(&self, _cx: &mut Cx<'a, '_>, _canary: CanaryView<'a>) {}
    /// Called once per file, for problems that belong to no object (syntax errors).
    fn check_file(&self, _cx: &mut FileCx<'_, '_>) {}
    /// Called, for rules whose metadata says `about_suppressions`, once per suppression that
    /// silenced nothing, after every other rule has run.
    fn check_suppression(&self, _cx: &mut SuppressionCx<'_, '_>, _unused: &Unused<'_>) {}
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
///     kinds: [Canary],           // optional: the objects it checks (default: all)
///     providers: [Istio],        // optional: the providers it is about (default: any)
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
        $(, kinds: [$($kind:ident),* $(,)?])?
        $(, providers: [$($provider:ident),* $(,)?])?
        $(, provider_specific: $ps:literal)?
        $(, suppressible: $sup:literal)?
        $(, about_suppressions: $about:literal)?
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
                kinds: &[$($($crate::document::Kind::$kind),*)?],
                providers: &[$($($crate::rule::ProviderFamily::$provider),*)?],
                provider_specific: $crate::__first_bool!($($ps)?; false),
                suppressible: $crate::__first_bool!($($sup)?; true),
                about_suppressions: $crate::__first_bool!($($about)?; false),
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
