//! `.canarylint.yaml`: rules on and off, severities, ignores by resource, Flagger's flags.
//!
//! [`ConfigFile`] is the file as written: serde types, from which the JSON schema is derived
//! (feature `schema`). [`Config::parse`] reads the text with the manifests' YAML reader, turns
//! it into those types, then checks what types cannot (rule codes, resource patterns) and
//! resolves it into the [`Config`] the linter applies. Finding and reading the file is the
//! workspace layer's (`canarylint-workspace`): this crate does no file I/O. Every error names the line and column of
//! the bad key or value.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

use crate::de::{Spanned, field_names, from_node};
use crate::rule::{RuleMeta, Severity};
use crate::source::{LineCol, SourceFile};
use crate::suppress::RuleSelector;
use crate::tree::{Node, Span, Value};
use crate::yaml::{Budget, parse_stream};

/// What a rule is set to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleLevel {
    Off,
    Severity(Severity),
}

/// An ignore entry: resources matching a glob, and the rules to ignore there.
#[derive(Clone, Debug)]
pub struct IgnoreEntry {
    /// `Kind/namespace/name`, with `*` and `?` wildcards.
    pub resource: String,
    pub matcher: globset::GlobMatcher,
    pub rules: RuleSelector,
    /// Where the entry is written, for reporting it when it matches nothing.
    pub span: Span,
}

/// A loaded configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it came from (for messages).
    pub source: Option<Arc<SourceFile>>,
    /// Per-rule levels, by code.
    pub rules: Vec<(String, RuleLevel)>,
    pub ignore: Vec<IgnoreEntry>,
    pub default_provider: Option<String>,
    pub selector_labels: Option<Vec<String>>,
    /// The lowest severity that fails the run.
    pub fail_on: Option<Severity>,
    /// The namespace the manifests are applied to (`kubectl apply -n`): objects without
    /// `metadata.namespace` land there.
    pub namespace: Option<String>,
    /// Which inputs outside a kustomization are applied together.
    pub bundle: Option<crate::bundle::Grouping>,
}

/// A configuration problem, with its place in the file.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{file}:{}:{}: {message}", at.line, at.column)]
pub struct ConfigError {
    pub file: String,
    pub at: LineCol,
    pub message: String,
}

/// `.canarylint.yaml` as written.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigFile {
    /// Rule levels, by code (CL201) or slug (step-weight-exceeds-max-weight).
    pub rules: Option<RuleLevels>,
    /// Resources whose findings are ignored, all or for some rules.
    pub ignore: Option<Vec<Spanned<IgnoreItem>>>,
    /// Flagger's -mesh-provider: the provider of Canaries without spec.provider.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub default_provider: Option<Spanned<String>>,
    /// Flagger's -selector-labels: the labels a target's selector is read from.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub selector_labels: Option<Spanned<Vec<String>>>,
    /// The lowest severity that fails the run (exit status 1). Default: error.
    pub fail_on: Option<FailOn>,
    /// The namespace the manifests are applied to (kubectl apply -n): objects without
    /// metadata.namespace land there. Without it, their namespace is only assumed (default) and
    /// never taken as complete.
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), length(max = 63))
    )]
    pub namespace: Option<Spanned<String>>,
    /// Which inputs outside a kustomization are applied together, the unit whose objects make a
    /// namespace complete: file (each file or stream, the default), directory (the files of one
    /// directory), all (everything given).
    pub bundle: Option<BundleSetting>,
}

/// How inputs outside a kustomization are grouped, as written.
#[derive(Clone, Copy, Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "bundle"))]
#[serde(rename_all = "lowercase")]
pub enum BundleSetting {
    File,
    Directory,
    All,
}

impl BundleSetting {
    pub fn grouping(self) -> crate::bundle::Grouping {
        match self {
            BundleSetting::File => crate::bundle::Grouping::File,
            BundleSetting::Directory => crate::bundle::Grouping::Directory,
            BundleSetting::All => crate::bundle::Grouping::All,
        }
    }
}

/// What a rule is set to, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelSetting {
    /// `off` or `false`: the rule does not run.
    Off,
    /// `on` or `true`: the rule runs with its default severity.
    On,
    Severity(Severity),
}

impl<'de> Deserialize<'de> for LevelSetting {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LevelSetting;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("off, on, info, warning or error")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<LevelSetting, E> {
                Ok(if b {
                    LevelSetting::On
                } else {
                    LevelSetting::Off
                })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<LevelSetting, E> {
                match s {
                    "off" => Ok(LevelSetting::Off),
                    "on" => Ok(LevelSetting::On),
                    _ => Severity::parse(s)
                        .map(LevelSetting::Severity)
                        .ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for LevelSetting {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "level".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "What the rule is set to: off, on (its default severity), or a severity.",
            "anyOf": [
                {"const": "off", "description": "The rule does not run."},
                {"const": "on", "description": "The rule runs with its default severity."},
                {"const": "info", "description": "Findings are infos."},
                {"const": "warning", "description": "Findings are warnings."},
                {"const": "warn", "description": "Findings are warnings."},
                {"const": "error", "description": "Findings are errors."},
                {"const": false, "description": "The rule does not run (`off` in YAML 1.1)."},
                {"const": true, "description": "The rule runs with its default severity (`on` in YAML 1.1)."}
            ]
        })
    }
}

/// The `rules` mapping, in file order (the first entry for a rule wins).
#[derive(Debug, Default)]
pub struct RuleLevels(pub Vec<(Spanned<String>, Spanned<LevelSetting>)>);

impl<'de> Deserialize<'de> for RuleLevels {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RuleLevels;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of rule codes or slugs to off, on, info, warning or error")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RuleLevels, E> {
                Ok(RuleLevels::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RuleLevels, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(RuleLevels(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for RuleLevels {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "rules".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // The registry's codes and slugs are added where the schema is written (the CLI's
        // docs): the configuration types do not know the rule set.
        let level = generator.subschema_for::<LevelSetting>();
        schemars::json_schema!({
            "type": ["object", "null"],
            "additionalProperties": level
        })
    }
}

/// One entry of `ignore`: a resource pattern alone (every rule), or with its rules.
#[derive(Debug)]
pub enum IgnoreItem {
    Resource(ResourcePattern),
    Entry(IgnoreEntryFile),
}

impl<'de> Deserialize<'de> for IgnoreItem {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IgnoreItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`Kind/namespace/name` or {resource, rules}")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<IgnoreItem, E> {
                Ok(IgnoreItem::Resource(ResourcePattern(s.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<IgnoreItem, A::Error> {
                IgnoreEntryFile::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(IgnoreItem::Entry)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for IgnoreItem {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ignoreEntry".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let resource = generator.subschema_for::<ResourcePattern>();
        let entry = generator.subschema_for::<IgnoreEntryFile>();
        schemars::json_schema!({ "anyOf": [resource, entry] })
    }
}

/// `{resource, rules}`: the rules to ignore on resources matching a pattern.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "ignoreRules"))]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntryFile {
    pub resource: Spanned<ResourcePattern>,
    /// The rules to ignore there (default: all).
    pub rules: Option<Spanned<RuleList>>,
}

/// Kind/namespace/name, with * and ? wildcards: Canary/legacy-*/*.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct ResourcePattern(pub String);

#[cfg(feature = "schema")]
impl schemars::JsonSchema for ResourcePattern {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "resource".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Kind/namespace/name, with * and ? wildcards: Canary/legacy-*/*.",
            "type": "string",
            "pattern": "^[^/]+/[^/]+/[^/]+$"
        })
    }
}

/// Rule codes or slugs: one string (separated by commas or spaces), or a list of them.
#[derive(Debug)]
pub enum RuleList {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RuleList {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RuleList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("rule codes or slugs")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RuleList, E> {
                Ok(RuleList::One(s.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RuleList, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(RuleList::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for RuleList {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ruleList".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // The pattern of rule names is the registry's, added where the schema is written.
        schemars::json_schema!({
            "description": "Rule codes or slugs, separated by commas or spaces.",
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}}
            ]
        })
    }
}

/// A severity that fails the run, and every worse one.
#[derive(Clone, Copy, Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "severity"))]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Warn,
    Info,
}

impl FailOn {
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning | FailOn::Warn => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

impl Config {
    /// The level configured for a rule, if any.
    pub fn level(&self, code: &str) -> Option<RuleLevel> {
        self.rules.iter().find(|(c, _)| c == code).map(|(_, l)| *l)
    }

    /// Parses a configuration; `rules` is the registry (to check codes and slugs).
    pub fn parse(
        name: &str,
        text: &str,
        rules: &[&'static RuleMeta],
    ) -> Result<Config, Vec<ConfigError>> {
        let source = Arc::new(SourceFile::new(name, text));
        let mut errors = Vec::new();
        let err = |errors: &mut Vec<ConfigError>, span: Span, message: String| {
            errors.push(ConfigError {
                file: name.to_string(),
                at: source.line_col(span.start),
                message,
            });
        };
        let stream = parse_stream(text, &Budget::STRICT);
        for e in &stream.errors {
            err(&mut errors, e.span, e.message.clone());
        }
        let mut config = Config {
            source: Some(source.clone()),
            ..Config::default()
        };
        let Some(root) = stream.documents.first().map(|d| &d.root) else {
            return if errors.is_empty() {
                Ok(config)
            } else {
                Err(errors)
            };
        };
        if root.is_null() {
            return Ok(config);
        }
        if !root.is_map() {
            err(
                &mut errors,
                root.span,
                "the configuration must be a mapping".into(),
            );
            return Err(errors);
        }
        // Unknown top-level keys are reported (with a suggestion) and left out, so that the
        // rest of the file is still checked in the same run.
        let known = field_names::<ConfigFile>();
        let mut kept = Vec::new();
        for e in root.entries() {
            if known.contains(&e.key.as_str()) {
                kept.push(e.clone());
            } else {
                let hint = crate::suggest::did_you_mean(&e.key, known.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                err(
                    &mut errors,
                    e.key_span,
                    format!("unknown key `{}`{hint}", e.key),
                );
            }
        }
        let root = Node::new(Value::Map(kept.into_boxed_slice()), root.span);
        let file: ConfigFile = match from_node(&root) {
            Ok(f) => f,
            Err(e) => {
                err(&mut errors, e.span.unwrap_or(root.span), e.message);
                return Err(errors);
            }
        };
        let find_rule = |key: &str| {
            rules
                .iter()
                .find(|m| m.code.eq_ignore_ascii_case(key) || m.slug == key)
                .copied()
        };
        for (key, level) in file.rules.map(|r| r.0).unwrap_or_default() {
            let Some(meta) = find_rule(&key.value) else {
                err(
                    &mut errors,
                    key.span,
                    format!(
                        "unknown rule `{}`{}",
                        key.value,
                        suggest_rule(&key.value, rules)
                    ),
                );
                continue;
            };
            let level = match level.value {
                LevelSetting::Off => RuleLevel::Off,
                LevelSetting::On => RuleLevel::Severity(meta.severity),
                LevelSetting::Severity(s) => RuleLevel::Severity(s),
            };
            config.rules.push((meta.code.to_string(), level));
        }
        for item in file.ignore.unwrap_or_default() {
            match ignore_entry(item, &find_rule) {
                Ok(entry) => config.ignore.push(entry),
                Err((span, message)) => err(&mut errors, span, message),
            }
        }
        if let Some(p) = file.default_provider {
            if p.value.is_empty() {
                err(
                    &mut errors,
                    p.span,
                    "`defaultProvider` must be a provider name such as istio".into(),
                );
            } else {
                config.default_provider = Some(p.value);
            }
        }
        if let Some(l) = file.selector_labels {
            if l.value.is_empty() {
                err(
                    &mut errors,
                    l.span,
                    "`selectorLabels` must be a non-empty list of label names".into(),
                );
            } else {
                config.selector_labels = Some(l.value);
            }
        }
        config.fail_on = file.fail_on.map(FailOn::severity);
        if let Some(n) = file.namespace {
            if is_namespace_name(&n.value) {
                config.namespace = Some(n.value);
            } else {
                err(
                    &mut errors,
                    n.span,
                    format!(
                        "`namespace` must be a namespace name (lowercase letters, digits and `-`), found `{}`",
                        n.value
                    ),
                );
            }
        }
        config.bundle = file.bundle.map(BundleSetting::grouping);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }
}

/// Whether a name is a valid namespace name (an RFC 1123 label).
pub fn is_namespace_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !n.starts_with('-')
        && !n.ends_with('-')
}

fn suggest_rule(key: &str, rules: &[&'static RuleMeta]) -> String {
    crate::suggest::did_you_mean(key, rules.iter().map(|m| m.slug))
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// Checks an ignore entry's pattern and rules, and compiles its glob.
fn ignore_entry(
    item: Spanned<IgnoreItem>,
    find_rule: &dyn Fn(&str) -> Option<&'static RuleMeta>,
) -> Result<IgnoreEntry, (Span, String)> {
    let (resource, resource_span, list) = match item.value {
        IgnoreItem::Resource(r) => (r.0, item.span, None),
        IgnoreItem::Entry(e) => (e.resource.value.0, e.resource.span, e.rules),
    };
    if resource.split('/').count() != 3 {
        return Err((
            resource_span,
            format!("`{resource}` must have the form Kind/namespace/name (wildcards allowed)"),
        ));
    }
    let matcher = globset::Glob::new(&resource)
        .map_err(|e| (resource_span, format!("invalid glob `{resource}`: {e}")))?
        .compile_matcher();
    let rules = match list {
        None => RuleSelector {
            items: vec!["*".into()],
        },
        Some(list) => {
            let written: Vec<(String, Span)> = match list.value {
                RuleList::One(s) => vec![(s, list.span)],
                RuleList::Many(items) => items.into_iter().map(|i| (i.value, i.span)).collect(),
            };
            let mut items = Vec::new();
            for (s, span) in written {
                for part in RuleSelector::parse(&s).items {
                    if part != "*" && find_rule(&part).is_none() {
                        return Err((span, format!("unknown rule `{part}`")));
                    }
                    items.push(part);
                }
            }
            RuleSelector { items }
        }
    };
    Ok(IgnoreEntry {
        resource,
        matcher,
        rules,
        span: item.span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<(u32, u32, String)> {
        match Config::parse(".canarylint.yaml", text, &[]) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .into_iter()
                .map(|e| (e.at.line, e.at.column, e.message))
                .collect(),
        }
    }

    #[test]
    fn errors_name_the_line_and_column_of_the_bad_key_or_value() {
        let e = errors("failOn: fatal\n");
        assert_eq!((e[0].0, e[0].1), (1, 9), "{e:?}");
        assert!(e[0].2.contains("fatal"), "{e:?}");
        let e = errors("ignore:\n  - resource: Canary/a/b\n    reason: legacy\n");
        assert_eq!((e[0].0, e[0].1), (3, 5), "{e:?}");
        assert!(e[0].2.contains("unknown field `reason`"), "{e:?}");
        let e = errors("ignore:\n  - resource: Canary/a\n");
        assert_eq!((e[0].0, e[0].1), (2, 15), "{e:?}");
        let e = errors("selectorLabels: [app, 5]\nrules:\n  CL201: loud\n");
        assert_eq!((e[0].0, e[0].1), (1, 23), "{e:?}");
    }

    #[test]
    fn unknown_keys_are_reported_with_the_rest() {
        let e = errors("failon: warning\nselectorLabels: []\n");
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].2, "unknown key `failon`; did you mean `failOn`?");
        assert_eq!((e[1].0, e[1].1), (2, 17), "{e:?}");
    }
}
