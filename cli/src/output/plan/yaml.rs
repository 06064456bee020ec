//! Block-style YAML for the generated objects (`canarylint plan --render`).

use serde_json::Value as J;

use canarylint::tree::Value;
use canarylint::yaml::resolve_plain;
use canarylint_plan::Plan;

/// The generated objects as a YAML stream, one document per object Flagger writes, each
/// preceded by a comment with its one-line summary. Objects that are copies of workloads we do
/// not see are listed in a closing comment.
pub fn render_generated_yaml(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Objects Flagger generates for Canary {}/{}\n",
        plan.canary.namespace, plan.canary.name
    ));
    let mut first = true;
    for obj in &plan.generated {
        let Some(manifest) = &obj.manifest else {
            continue;
        };
        if !first {
            out.push_str("---\n");
        }
        first = false;
        out.push_str(&format!("# {} {}: {}\n", obj.kind, obj.name, obj.summary));
        emit(&mut out, &manifest.0, 0);
    }
    let copies: Vec<String> = plan
        .generated
        .iter()
        .filter(|o| o.manifest.is_none())
        .map(|o| format!("{} {}", o.kind, o.name))
        .collect();
    if !copies.is_empty() {
        out.push_str(&format!(
            "# Also generated, as copies of objects not shown: {}\n",
            copies.join(", ")
        ));
    }
    out
}

/// Writes a value at an indentation, as the value of a document or of a mapping entry that
/// has already started a new line.
fn emit(out: &mut String, v: &J, indent: usize) {
    match v {
        J::Object(m) if !m.is_empty() => emit_map(out, m, indent, false),
        J::Array(a) if !a.is_empty() => emit_seq(out, a, indent),
        other => {
            out.push_str(&" ".repeat(indent));
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// Mapping entries, keys sorted. With `inline`, the first key continues the current line
/// (after `- `).
fn emit_map(out: &mut String, m: &serde_json::Map<String, J>, indent: usize, inline: bool) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    for (i, k) in keys.into_iter().enumerate() {
        if !(inline && i == 0) {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&string(k));
        out.push(':');
        match &m[k] {
            J::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                emit_map(out, inner, indent + 2, false);
            }
            J::Array(items) if !items.is_empty() => {
                out.push('\n');
                emit_seq(out, items, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn emit_seq(out: &mut String, items: &[J], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            J::Object(m) if !m.is_empty() => {
                out.push(' ');
                emit_map(out, m, indent + 2, true);
            }
            J::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                emit_seq(out, inner, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn scalar(v: &J) -> String {
    match v {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => string(s),
        J::Array(_) => "[]".into(),
        J::Object(_) => "{}".into(),
    }
}

/// A string plain when it cannot be read back as anything else (YAML 1.1 included), quoted
/// (JSON quoting is valid YAML) otherwise.
fn string(s: &str) -> String {
    let safe_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':'));
    let plain = !s.is_empty()
        && safe_chars
        && s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '/')
        && !s.ends_with(':')
        && matches!(resolve_plain(s), Value::Str(_));
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canarylint::yaml::{Budget, parse_stream};
    use serde_json::json;

    #[test]
    fn emits_block_yaml_that_reads_back() {
        let v = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": { "name": "podinfo", "labels": { "app": "podinfo" } },
            "spec": {
                "ports": [ { "name": "http", "port": 80, "targetPort": "http" } ],
                "selector": { "app": "podinfo-primary" },
                "odd": ["yes", "10", "", "a: b", ".*Firefox.*", [1, 2], {}],
                "empty": [],
            }
        });
        let mut out = String::new();
        emit(&mut out, &v, 0);
        let stream = parse_stream(&out, &Budget::default());
        assert!(stream.errors.is_empty(), "{:?}\n{out}", stream.errors);
        let back = stream.documents[0].root.to_json();
        assert_eq!(back, v, "{out}");
        assert!(
            out.contains("\n  ports:\n    - name: http\n      port: 80\n"),
            "{out}"
        );
        assert!(!out.contains(" \n"), "{out}");
    }
}
