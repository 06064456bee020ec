//! `.canarylint.yaml`: rules on and off, severities, ignores by resource, Flagger's flags.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::rule::{RuleMeta, Severity};
use crate::source::{LineCol, SourceFile};
use crate::suppress::RuleSelector;
use crate::yaml::{Budget, Node, Span, Value, parse_stream};

/// The file name looked for, from the working directory upward.
pub const CONFIG_FILE: &str = ".canarylint.yaml";

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

impl Config {
    /// The level configured for a rule, if any.
    pub fn level(&self, code: &str) -> Option<RuleLevel> {
        self.rules.iter().find(|(c, _)| c == code).map(|(_, l)| *l)
    }

    /// Finds `.canarylint.yaml` in `dir` or an ancestor.
    pub fn discover(dir: &Path) -> Option<PathBuf> {
        let mut d = Some(dir);
        while let Some(p) = d {
            let candidate = p.join(CONFIG_FILE);
            if candidate.is_file() {
                return Some(candidate);
            }
            d = p.parent();
        }
        None
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
        let find_rule = |key: &str| {
            rules
                .iter()
                .find(|m| m.code.eq_ignore_ascii_case(key) || m.slug == key)
                .copied()
        };
        for e in root.entries() {
            match e.key.as_str() {
                "rules" => {
                    if !e.value.is_map() && !e.value.is_null() {
                        err(
                            &mut errors,
                            e.value.span,
                            "`rules` must map rule codes or slugs to off, info, warning or error"
                                .into(),
                        );
                        continue;
                    }
                    for r in e.value.entries() {
                        let Some(meta) = find_rule(&r.key) else {
                            err(
                                &mut errors,
                                r.key_span,
                                format!("unknown rule `{}`{}", r.key, suggest_rule(&r.key, rules)),
                            );
                            continue;
                        };
                        let level = match &r.value.value {
                            Value::Bool(false) => Some(RuleLevel::Off),
                            Value::Bool(true) => Some(RuleLevel::Severity(meta.severity)),
                            Value::Str(s) if s == "off" => Some(RuleLevel::Off),
                            Value::Str(s) if s == "on" => Some(RuleLevel::Severity(meta.severity)),
                            Value::Str(s) => Severity::parse(s).map(RuleLevel::Severity),
                            _ => None,
                        };
                        match level {
                            Some(l) => config.rules.push((meta.code.to_string(), l)),
                            None => err(
                                &mut errors,
                                r.value.span,
                                format!(
                                    "`{}` must be off, on, info, warning or error, found {}",
                                    r.key,
                                    r.value.display()
                                ),
                            ),
                        }
                    }
                }
                "ignore" => {
                    for item in e.value.items() {
                        match parse_ignore(item, &find_rule) {
                            Ok(entry) => config.ignore.push(entry),
                            Err((span, message)) => err(&mut errors, span, message),
                        }
                    }
                    if !matches!(e.value.value, Value::Seq(_) | Value::Null) {
                        err(
                            &mut errors,
                            e.value.span,
                            "`ignore` must be a list of {resource, rules} entries".into(),
                        );
                    }
                }
                "defaultProvider" => match e.value.as_str() {
                    Some(p) if !p.is_empty() => config.default_provider = Some(p.to_string()),
                    _ => err(
                        &mut errors,
                        e.value.span,
                        "`defaultProvider` must be a provider name such as istio".into(),
                    ),
                },
                "selectorLabels" => {
                    let labels: Option<Vec<String>> = e
                        .value
                        .items()
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect();
                    match labels {
                        Some(l) if !l.is_empty() => config.selector_labels = Some(l),
                        _ => err(
                            &mut errors,
                            e.value.span,
                            "`selectorLabels` must be a non-empty list of label names".into(),
                        ),
                    }
                }
                "failOn" => match e.value.as_str().and_then(Severity::parse) {
                    Some(s) => config.fail_on = Some(s),
                    None => err(
                        &mut errors,
                        e.value.span,
                        format!(
                            "`failOn` must be error, warning or info, found {}",
                            e.value.display()
                        ),
                    ),
                },
                "namespace" => match e.value.as_str() {
                    Some(n) if is_namespace_name(n) => config.namespace = Some(n.to_string()),
                    _ => err(
                        &mut errors,
                        e.value.span,
                        format!(
                            "`namespace` must be a namespace name (lowercase letters, digits and `-`), found {}",
                            e.value.display()
                        ),
                    ),
                },
                "bundle" => match e.value.as_str().and_then(crate::bundle::Grouping::parse) {
                    Some(g) => config.bundle = Some(g),
                    None => err(
                        &mut errors,
                        e.value.span,
                        format!(
                            "`bundle` must be file, directory or all, found {}",
                            e.value.display()
                        ),
                    ),
                },
                other => {
                    let known = [
                        "rules",
                        "ignore",
                        "defaultProvider",
                        "selectorLabels",
                        "failOn",
                        "namespace",
                        "bundle",
                    ];
                    let hint = crate::suggest::did_you_mean(other, known.iter().copied())
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    err(
                        &mut errors,
                        e.key_span,
                        format!("unknown key `{other}`{hint}"),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path, rules: &[&'static RuleMeta]) -> Result<Config, Vec<ConfigError>> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![ConfigError {
                file: name.clone(),
                at: LineCol { line: 1, column: 1 },
                message: format!("cannot read: {e}"),
            }]
        })?;
        Config::parse(&name, &text, rules)
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

fn parse_ignore(
    item: &Node,
    find_rule: &dyn Fn(&str) -> Option<&'static RuleMeta>,
) -> Result<IgnoreEntry, (Span, String)> {
    let (resource_node, rules_node) = match &item.value {
        Value::Str(_) => (item, None),
        Value::Map(_) => {
            for e in item.entries() {
                if e.key != "resource" && e.key != "rules" {
                    return Err((
                        e.key_span,
                        format!(
                            "unknown key `{}` in an ignore entry (expected resource, rules)",
                            e.key
                        ),
                    ));
                }
            }
            let r = item.get("resource").ok_or((
                item.span,
                "an ignore entry needs `resource: Kind/namespace/name`".to_string(),
            ))?;
            (r, item.get("rules"))
        }
        _ => {
            return Err((
                item.span,
                "an ignore entry is `Kind/namespace/name` or {resource, rules}".into(),
            ));
        }
    };
    let resource = resource_node
        .as_str()
        .ok_or((
            resource_node.span,
            "`resource` must be a string like Canary/prod/*".to_string(),
        ))?
        .to_string();
    if resource.split('/').count() != 3 {
        return Err((
            resource_node.span,
            format!("`{resource}` must have the form Kind/namespace/name (wildcards allowed)"),
        ));
    }
    let matcher = globset::Glob::new(&resource)
        .map_err(|e| {
            (
                resource_node.span,
                format!("invalid glob `{resource}`: {e}"),
            )
        })?
        .compile_matcher();
    let rules = match rules_node {
        None => RuleSelector {
            items: vec!["*".into()],
        },
        Some(n) => {
            let mut items = Vec::new();
            let list: Vec<&Node> = match &n.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![n],
            };
            for i in list {
                let Some(s) = i.as_str() else {
                    return Err((i.span, "rules are codes or slugs".into()));
                };
                for part in RuleSelector::parse(s).items {
                    if part != "*" && find_rule(&part).is_none() {
                        return Err((i.span, format!("unknown rule `{part}`")));
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
