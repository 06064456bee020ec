//! The documentation generated from the rule registry (`docs/rules/`, the configuration's
//! JSON schema) is current, and the commands and files `docs/ci.md` shows work.
//!
//! Regenerate the files with `CANARYLINT_UPDATE=1 cargo test -p canarylint-cli --test docs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use canarylint::config::Config;
use canarylint::tree::{Node, Value as Y};
use canarylint::yaml::{Budget, parse_stream};
use canarylint_cli::Cli;
use clap::Parser as _;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn updating() -> bool {
    std::env::var_os("CANARYLINT_UPDATE").is_some_and(|v| !v.is_empty() && v != "0")
}

#[test]
fn generated_docs_are_current() {
    let docs = root().join("docs");
    let rules = canarylint_rules::all_meta();
    let files = canarylint_cli::docs::generate(&rules);
    let mut stale = Vec::new();
    for (path, text) in &files {
        let target = docs.join(path);
        if fs::read_to_string(&target).ok().as_deref() != Some(text.as_str()) {
            if updating() {
                fs::create_dir_all(target.parent().unwrap()).unwrap();
                fs::write(&target, text).unwrap();
            } else {
                stale.push(path.clone());
            }
        }
    }
    // Pages of rules the registry no longer has.
    for entry in fs::read_dir(docs.join("rules")).into_iter().flatten() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let path = format!("rules/{name}");
        if name.starts_with("CL") && name.ends_with(".md") && !files.iter().any(|(p, _)| *p == path)
        {
            if updating() {
                fs::remove_file(docs.join(&path)).unwrap();
            } else {
                stale.push(path);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/ is stale: {stale:?}\nregenerate with `{}`",
        canarylint_cli::docs::REGENERATE
    );
}

#[test]
fn every_rule_has_a_page_with_its_facts() {
    for meta in canarylint_rules::all_meta() {
        let page = canarylint_cli::docs::rule_page(meta);
        assert!(
            page.contains(&format!("\n# {} {}\n", meta.code, meta.slug)),
            "{page}"
        );
        assert!(page.contains(&format!("| Default severity | {} |", meta.severity)));
        assert!(page.contains("| Fix available | "));
        assert!(page.contains("[All rules](README.md)"));
        // The page is what the URL in every output points at.
        assert!(
            meta.url()
                .ends_with(&format!("docs/rules/{}.md", meta.code))
        );
    }
    let index = canarylint_cli::docs::index(&canarylint_rules::all_meta());
    assert!(index.contains(
        "| [CL201](CL201.md) | `step-weight-exceeds-max-weight` | error | for some findings | "
    ));
}

// The configuration schema

fn to_json(node: &Node) -> Value {
    match &node.value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Int(i) => Value::from(*i),
        Y::Float(f) => Value::from(*f),
        Y::Str(s) => Value::from(s.as_str()),
        Y::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Y::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|e| (e.key.to_string(), to_json(&e.value)))
                .collect(),
        ),
    }
}

/// The schema as generated (`generated_docs_are_current` keeps the file equal to it).
fn config_schema() -> Value {
    canarylint_cli::docs::config_schema(&canarylint_rules::all_meta())
}

fn config_validator() -> jsonschema::Validator {
    let schema = config_schema();
    // With format checks on, the schema's own patterns are checked as regular expressions.
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

#[test]
fn config_schema_agrees_with_the_configuration_parser() {
    let validator = config_validator();
    let rules = canarylint_rules::all_meta();
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let readme_config = readme
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.starts_with("rules:"))
        .expect("the configuration example in README.md");
    let valid = [
        readme_config,
        "",
        "rules:\n",
        "rules:\n  cl201: error\n  CL103: off\n  mesh-gateway-omitted: on\n",
        "rules:\n  CL201: warn\n  CL304: info\n  step-weight-exceeds-max-weight: true\n",
        "ignore:\n  - Canary/prod/*\n",
        "ignore:\n  - resource: Canary/prod/*\n    rules: CL201, step-weight-exceeds-max-weight\n",
        "ignore:\n  - resource: Canary/*/*\n    rules: ['*', cl103]\n",
        "ignore:\n  - resource: '*/*/legacy-?'\n    rules: CL201 CL103\n",
        "failOn: info\ndefaultProvider: linkerd\nselectorLabels: [app, name]\n",
        "defaultProvider: my-own-router\n",
    ];
    let invalid = [
        "failon: warning\n",
        "rules:\n  CL9999: off\n",
        "rules:\n  no-such-rule: error\n",
        "rules:\n  CL201: loud\n",
        "rules: [CL201]\n",
        "ignore:\n  - resource: Canary/prod\n",
        "ignore:\n  - Canary\n",
        "ignore:\n  - resource: Canary/a/b\n    rules: [CL9999]\n",
        "ignore:\n  - resource: Canary/a/b\n    rules: CL201, nope\n",
        "ignore:\n  - resource: Canary/a/b\n    reason: legacy\n",
        "ignore:\n  - rules: [CL201]\n",
        "failOn: fatal\n",
        "selectorLabels: []\n",
        "defaultProvider: ''\n",
        "defaultProvider: 5\n",
    ];
    for (text, expected) in valid
        .iter()
        .map(|t| (*t, true))
        .chain(invalid.iter().map(|t| (*t, false)))
    {
        let parsed = Config::parse(".canarylint.yaml", text, &rules);
        assert_eq!(
            parsed.is_ok(),
            expected,
            "the parser on {text:?}: {parsed:?}"
        );
        let stream = parse_stream(text, &Budget::STRICT);
        let json = stream
            .documents
            .first()
            .map_or(Value::Null, |d| to_json(&d.root));
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            errors.is_empty(),
            expected,
            "the schema on {text:?} ({json}): {errors:?}"
        );
    }
}

#[test]
fn config_schema_lists_every_rule() {
    let schema = config_schema();
    let props = schema["properties"]["rules"]["properties"]
        .as_object()
        .unwrap();
    for meta in canarylint_rules::all_meta() {
        // The schema's patterns take slugs literally.
        assert!(
            meta.slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{}",
            meta.slug
        );
        assert!(props.contains_key(meta.code), "{}", meta.code);
        assert!(props.contains_key(meta.slug), "{}", meta.slug);
    }
    assert!(
        schema["properties"]["defaultProvider"]["anyOf"][0]["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("istio"))
    );
}

// docs/ci.md and the pre-commit hook

/// The fenced code blocks of a Markdown file, with their language.
fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(lang) = trimmed.strip_prefix("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some((lang.trim().to_string(), String::new())),
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    blocks
}

/// Every `canarylint …` command in the shell and YAML blocks: each pipeline stage and each
/// `run:`/`script:` line that calls canarylint, up to a comment.
fn commands(markdown: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for (lang, body) in code_blocks(markdown) {
        if !["sh", "bash", "yaml", "console"].contains(&lang.as_str()) {
            continue;
        }
        for line in body.lines() {
            let line = line.split(" #").next().unwrap();
            for stage in line.split(['|', ';']).flat_map(|s| s.split("&&")) {
                let Some(at) = stage.find("canarylint ") else {
                    continue;
                };
                // `entry: canarylint check`, `run: canarylint …`, `- canarylint …`, and the
                // kubectl plugin, `kubectl canarylint …`.
                let before = stage[..at].trim();
                if !(before.is_empty()
                    || before.ends_with(':')
                    || before == "-"
                    || before.ends_with("$")
                    || before.ends_with("kubectl"))
                {
                    continue;
                }
                // The command ends where a redirection begins (`> file`, `2>&1`).
                let words: Vec<String> = stage[at..]
                    .split_whitespace()
                    .take_while(|w| {
                        !(w.starts_with('>') || w.starts_with('<') || w.starts_with("2>"))
                    })
                    .map(str::to_string)
                    .collect();
                found.push(words);
            }
        }
    }
    found
}

#[test]
fn commands_in_the_docs_parse() {
    for (doc, minimum) in [("docs/ci.md", 8), ("README.md", 5)] {
        let text = fs::read_to_string(root().join(doc)).unwrap();
        let commands = commands(&text);
        assert!(
            commands.len() >= minimum,
            "{doc}: only {} commands found: {commands:?}",
            commands.len()
        );
        for words in commands {
            // The pre-commit entry gets file names appended.
            let mut argv = words.clone();
            if argv == ["canarylint", "check"] {
                argv.push("canary.yaml".into());
            }
            if let Err(e) = Cli::try_parse_from(&argv) {
                // `--help` and `--version` "fail" to parse by printing; anything else is a
                // command the binary does not accept.
                use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
                assert!(
                    matches!(e.kind(), DisplayHelp | DisplayVersion),
                    "{doc}: `{}` does not parse: {e}",
                    words.join(" ")
                );
            }
        }
    }
}

#[test]
fn yaml_in_the_ci_docs_is_valid() {
    let text = fs::read_to_string(root().join("docs/ci.md")).unwrap();
    let blocks: Vec<String> = code_blocks(&text)
        .into_iter()
        .filter(|(lang, _)| lang == "yaml")
        .map(|(_, body)| body)
        .collect();
    assert!(blocks.len() >= 4, "{blocks:?}");
    for body in blocks {
        let stream = parse_stream(&body, &Budget::STRICT);
        assert!(stream.errors.is_empty(), "{:?} in\n{body}", stream.errors);
    }
}

#[test]
fn pre_commit_hook_runs_check_on_manifests() {
    let text = fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let stream = parse_stream(&text, &Budget::STRICT);
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
    let hooks = to_json(&stream.documents[0].root);
    let hook = &hooks[0];
    assert_eq!(hook["id"], "canarylint");
    assert_eq!(hook["entry"], "canarylint check");
    assert_eq!(hook["language"], "system");
    assert_eq!(hook["files"], r"\.(ya?ml|json)$");
    assert_eq!(hook["require_serial"], true);
    let mut argv: Vec<&str> = hook["entry"].as_str().unwrap().split(' ').collect();
    argv.extend(["a.yaml", "b.json"]);
    Cli::try_parse_from(argv).unwrap();
}
