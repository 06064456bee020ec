//! Documentation generated from the rule registry: a Markdown page per rule
//! (`docs/rules/CL201.md`), the index of rules (`docs/rules/README.md`) and the JSON schema of
//! `.canarylint.yaml` (`docs/canarylint.schema.json`).
//!
//! The registry is the only source: a rule's page is its doc comment. `cli/tests/docs.rs`
//! fails when the files in `docs/` differ from what this module generates, and rewrites them
//! with `CANARYLINT_UPDATE=1`.

use std::fmt::Write as _;

use canarylint::{FixAvailability, Kind, RuleMeta};
use serde_json::{Map, Value, json};

/// Where the configuration schema is published (its `$id`).
pub const CONFIG_SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/canarylint/canarylint/main/docs/canarylint.schema.json";

/// The command that regenerates the files.
pub const REGENERATE: &str = "CANARYLINT_UPDATE=1 cargo test -p canarylint-cli --test docs";

/// Every generated file, as (path under `docs/`, contents), the index and schema first.
pub fn generate(rules: &[&'static RuleMeta]) -> Vec<(String, String)> {
    let mut files = vec![
        ("rules/README.md".to_string(), index(rules)),
        (
            "canarylint.schema.json".to_string(),
            config_schema_text(rules),
        ),
    ];
    for meta in rules {
        files.push((format!("rules/{}.md", meta.code), rule_page(meta)));
    }
    files
}

/// How a rule's fix availability reads on its page.
pub fn fix_text(fix: FixAvailability) -> &'static str {
    match fix {
        FixAvailability::None => "no",
        FixAvailability::Sometimes => "for some findings",
        FixAvailability::Always => "yes",
    }
}

fn generated_note(source: Option<&str>) -> String {
    match source {
        Some(file) => format!(
            "<!-- Generated from the documentation of the rule in {file}: edit it there, then run `{REGENERATE}`. -->\n"
        ),
        None => format!(
            "<!-- Generated from the rule registry: edit the rules' documentation, then run `{REGENERATE}`. -->\n"
        ),
    }
}

/// The rule's source file relative to the repository, when the build recorded it so.
fn source_file(meta: &RuleMeta) -> Option<String> {
    let file = meta.file.replace('\\', "/");
    (!file.starts_with('/') && !file.contains(':') && file.ends_with(".rs")).then_some(file)
}

/// Text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A rule's page: title, summary, facts, its documentation, and links.
pub fn rule_page(meta: &RuleMeta) -> String {
    let source = source_file(meta);
    let mut page = generated_note(source.as_deref());
    let _ = writeln!(page);
    let _ = writeln!(page, "# {} {}", meta.code, meta.slug);
    let _ = writeln!(page);
    let _ = writeln!(page, "{}", meta.summary);
    let _ = writeln!(page);
    let _ = writeln!(page, "| | |");
    let _ = writeln!(page, "| --- | --- |");
    let _ = writeln!(page, "| Code | `{}` |", meta.code);
    let _ = writeln!(page, "| Slug | `{}` |", meta.slug);
    let _ = writeln!(page, "| Default severity | {} |", meta.severity);
    let _ = writeln!(page, "| Fix available | {} |", fix_text(meta.fix));
    if meta.provider_specific {
        let _ = writeln!(
            page,
            "| Provider-specific | yes: capped at warning when the Canary's provider is a guess |"
        );
    }
    let suppressible = if meta.suppressible {
        "yes"
    } else {
        "no: this finding cannot be turned off"
    };
    let _ = writeln!(page, "| Suppressible | {suppressible} |");
    let _ = writeln!(page, "| Since | {} |", meta.since);
    let _ = writeln!(page);
    let body = demote_headings(meta.explanation().trim());
    if !body.is_empty() {
        let _ = writeln!(page, "{body}");
        let _ = writeln!(page);
    }
    let _ = writeln!(page, "## Configuration");
    let _ = writeln!(page);
    if meta.suppressible {
        let _ = writeln!(page, "In `.canarylint.yaml`, by code or by slug:");
        let _ = writeln!(page);
        let _ = writeln!(page, "```yaml");
        let _ = writeln!(page, "rules:");
        let _ = writeln!(
            page,
            "  {}: warning   # or: off, on (the default severity), info, error",
            meta.code
        );
        let _ = writeln!(page, "```");
        let _ = writeln!(page);
        let _ = writeln!(
            page,
            "On one line of a manifest: `# canarylint-ignore {} -- reason`; on a resource: the \
             annotation `canarylint.io/ignore: \"{}\"`.",
            meta.code, meta.slug
        );
    } else {
        let _ = writeln!(
            page,
            "This rule cannot be turned off, given another severity or suppressed: its findings \
             make every other finding unreliable."
        );
    }
    let _ = writeln!(page);
    let _ = writeln!(page, "---");
    let _ = writeln!(page);
    let mut links = vec![
        "[All rules](README.md)".to_string(),
        format!("`canarylint explain {}`", meta.code),
    ];
    if let Some(file) = &source {
        links.push(format!("[Source](../../{file})"));
    }
    let _ = writeln!(page, "{}", links.join(" · "));
    page
}

/// `### Heading` becomes `## Heading` outside code blocks (the page's title is the only `#`),
/// with a blank line after it.
fn demote_headings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fenced = false;
    let mut after_heading = false;
    for line in text.lines() {
        if std::mem::take(&mut after_heading) && !line.trim().is_empty() {
            out.push('\n');
        }
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        match line.strip_prefix("### ") {
            Some(rest) if !fenced => {
                out.push_str("## ");
                out.push_str(rest);
                after_heading = true;
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// The index: every rule with its code, slug, severity, fix and summary.
pub fn index(rules: &[&'static RuleMeta]) -> String {
    let mut page = generated_note(None);
    let _ = writeln!(page);
    let _ = writeln!(page, "# Rules");
    let _ = writeln!(page);
    let _ = writeln!(
        page,
        "canarylint has {} rules. A rule's code (`CL201`) never changes and is never reused; its \
         slug (`step-weight-exceeds-max-weight`) names the problem. Both work wherever a rule is \
         named: `canarylint explain`, `.canarylint.yaml`, `# canarylint-ignore` comments and the \
         `canarylint.io/ignore` annotation. `canarylint rules` prints this table, and \
         `canarylint explain CODE` prints a rule's page.",
        rules.len()
    );
    let _ = writeln!(page);
    let _ = writeln!(page, "| Code | Slug | Severity | Fix | Summary |");
    let _ = writeln!(page, "| --- | --- | --- | --- | --- |");
    for m in rules {
        let _ = writeln!(
            page,
            "| [{code}]({code}.md) | `{slug}` | {severity} | {fix} | {summary} |",
            code = m.code,
            slug = m.slug,
            severity = m.severity,
            fix = fix_text(m.fix),
            summary = cell(m.summary),
        );
    }
    let _ = writeln!(page);
    let _ = writeln!(
        page,
        "Severity is the default; `.canarylint.yaml` can change it per rule. \
         The configuration's JSON schema is [canarylint.schema.json](../canarylint.schema.json)."
    );
    page
}

/// The providers Flagger accepts, from the embedded Canary CRD schema.
fn providers() -> Vec<Value> {
    use canarylint::schema::{Seg, schema_at};
    schema_at(
        Kind::Canary,
        &[Seg::Key("spec".into()), Seg::Key("provider".into())],
    )
    .and_then(|s| s.get("enum"))
    .and_then(Value::as_array)
    .cloned()
    .unwrap_or_default()
}

/// A regular expression alternative of the rule codes in any case: `[cC][lL](?:000|201)`.
fn code_pattern(rules: &[&'static RuleMeta]) -> String {
    let digits: Vec<&str> = rules
        .iter()
        .filter_map(|m| m.code.get(2..))
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    format!("[cC][lL](?:{})", digits.join("|"))
}

/// The JSON schema of `.canarylint.yaml`: derived from the configuration's types
/// ([`canarylint::config::ConfigFile`]), then given what only the registry knows: every rule's
/// code and slug (with its summary, for completion in editors) and Flagger's providers.
pub fn config_schema(rules: &[&'static RuleMeta]) -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator
        .into_root_schema_for::<canarylint::config::ConfigFile>()
        .to_value();

    let mut rule_props = Map::new();
    for m in rules {
        let description = format!(
            "{} {} ({} by default): {}",
            m.code, m.slug, m.severity, m.summary
        );
        for key in [m.code, m.slug] {
            rule_props.insert(
                key.to_string(),
                json!({"$ref": "#/definitions/level", "description": description}),
            );
        }
    }
    let codes = code_pattern(rules);
    let mut names: Vec<Value> = rules.iter().map(|m| Value::from(m.code)).collect();
    names.extend(rules.iter().map(|m| Value::from(m.slug)));
    names.push(Value::from("*"));
    let token = {
        let mut alternatives = vec![r"\*".to_string(), codes.clone()];
        // Slugs are lower-case letters, digits and hyphens: literal in a regular expression.
        alternatives.extend(rules.iter().map(|m| m.slug.to_string()));
        format!("(?:{})", alternatives.join("|"))
    };

    if let Some(root) = schema.as_object_mut() {
        root.insert("$id".into(), Value::from(CONFIG_SCHEMA_URL));
        root.insert(
            "title".into(),
            Value::from("canarylint configuration (.canarylint.yaml)"),
        );
        root.insert(
            "description".into(),
            Value::from(
                "Rules on and off, severities, ignores by resource, and Flagger's flags. Generated from canarylint's configuration types and rule registry.",
            ),
        );
        // An empty file is a valid configuration.
        root.insert("type".into(), json!(["object", "null"]));
    }
    let rules_prop = &mut schema["properties"]["rules"];
    rules_prop["properties"] = Value::Object(rule_props);
    rules_prop["patternProperties"] =
        json!({ format!("^{codes}$"): {"$ref": "#/definitions/level"} });
    rules_prop["additionalProperties"] = Value::Bool(false);
    let definitions = &mut schema["definitions"];
    definitions["ruleName"] = json!({
        "description": "A rule's code or slug, or * for every rule.",
        "anyOf": [
            {"enum": names},
            {"type": "string", "pattern": format!("^{codes}$")}
        ]
    });
    let one = json!({"anyOf": [
        {"$ref": "#/definitions/ruleName"},
        {"type": "string", "pattern": format!(r"^[\s,]*{token}(?:[\s,]+{token})*[\s,]*$")}
    ]});
    definitions["ruleList"]["anyOf"] = json!([one, {"type": "array", "items": one}]);
    let provider = &mut schema["properties"]["defaultProvider"];
    provider["anyOf"] = json!([{"enum": providers()}, {"type": "string"}]);
    schema
}

/// The schema as written to `docs/canarylint.schema.json`.
pub fn config_schema_text(rules: &[&'static RuleMeta]) -> String {
    let mut text = serde_json::to_string_pretty(&config_schema(rules)).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_demoted_outside_code() {
        let text = "### What it does\nx\n```yaml\n### not a heading\n\n\n```\n### Example\n\ny";
        assert_eq!(
            demote_headings(text),
            "## What it does\n\nx\n```yaml\n### not a heading\n\n\n```\n## Example\n\ny"
        );
    }

    #[test]
    fn table_cells_escape_pipes() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
    }
}
