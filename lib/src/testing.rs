//! The rule tester behind every rule's inline cases.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//!
//! A case is YAML. When it starts with `apiVersion:` it is used as written; otherwise its first
//! document is merged into [`BASE_CANARY`] (mappings merge, other values replace, the value
//! `__remove__` deletes a key) and any further documents (`---`) ride along as inventory.
//! A line carrying `# error: CL201` (or `# warning:`, `# info:`) expects a finding of that code
//! and severity whose primary span starts on that line.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::finding::{Finding, FindingReport};
use crate::linter::Linter;
use crate::rule::{Rule, Severity};
use crate::schema::Seg;
use crate::source::SourceFile;
use crate::tree::{Entry, Node, Value, format_number};
use crate::yaml::{Budget, parse_stream, resolve_plain};

/// The complete, clean Canary fragments are merged into.
pub const BASE_CANARY: &str = "\
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
    webhooks:
      - name: load-test
        url: http://flagger-loadtester.test/
        timeout: 5s
        metadata:
          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
";

/// The value that deletes a key of the base Canary.
pub const REMOVE: &str = "__remove__";

/// One expected finding.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Expect {
    line: u32,
    code: String,
    severity: Severity,
}

/// A case made ready to lint.
pub struct Prepared {
    pub text: String,
    expects: Vec<Expect>,
}

/// Expands a case into a full stream with its expectations.
pub fn prepare(case: &str) -> Prepared {
    let case = unindent(case);
    let first_content = case
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .unwrap_or("");
    if first_content.starts_with("apiVersion:") || first_content.starts_with("---") {
        let expects = markers(&case)
            .into_iter()
            .map(|(line, code, severity)| Expect {
                line,
                code,
                severity,
            })
            .collect();
        return Prepared {
            text: case,
            expects,
        };
    }
    let (fragment, rest) = match case.find("\n---\n") {
        Some(i) => (&case[..i + 1], Some(&case[i + 1..])),
        None => (case.as_str(), None),
    };
    let frag_stream = parse_stream(fragment, &Budget::default());
    assert!(
        frag_stream.errors.is_empty(),
        "case fragment does not parse: {:?}\n{fragment}",
        frag_stream.errors
    );
    let mut base = parse_stream(BASE_CANARY, &Budget::default())
        .documents
        .remove(0)
        .root;
    let frag_root = frag_stream.documents.into_iter().next().map(|d| d.root);
    let frag_source = SourceFile::new("fragment", fragment);
    let mut marker_paths = Vec::new();
    if let Some(frag) = &frag_root {
        for (line, code, severity) in markers(fragment) {
            let path = path_on_line(frag, &frag_source, line)
                .unwrap_or_else(|| panic!("no key or value on marked line {line} of:\n{fragment}"));
            marker_paths.push((path, code, severity));
        }
        merge(&mut base, frag);
    }
    let mut emitter = Emitter::default();
    emitter.node(&base, 0, &mut Vec::new(), false);
    let mut text = emitter.out;
    let mut expects = Vec::new();
    for (path, code, severity) in marker_paths {
        let line = *emitter
            .lines
            .get(&path)
            .unwrap_or_else(|| panic!("marked path {path:?} not in the merged Canary"));
        expects.push(Expect {
            line,
            code,
            severity,
        });
    }
    if let Some(rest) = rest {
        let offset = text.lines().count() as u32;
        text.push_str(rest);
        for (line, code, severity) in markers(rest) {
            expects.push(Expect {
                line: line + offset,
                code,
                severity,
            });
        }
    }
    Prepared { text, expects }
}

/// Lints a text with some rules (inventory: the text's own objects).
pub fn lint_text(
    rules: &[&'static dyn Rule],
    name: &str,
    text: &str,
) -> (Arc<SourceFile>, Vec<Finding>) {
    let source = Arc::new(SourceFile::new(name, text));
    let run = Linter::new(rules).lint_sources(vec![source.clone()], Vec::new(), &Budget::default());
    (source, run.findings)
}

/// Renders findings as the CLI does, without colour, at a fixed width.
pub fn render(findings: &[Finding], source: &SourceFile) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
    let mut out = String::new();
    for f in findings {
        let report = FindingReport::new(f, Some(source));
        let _ = handler.render_report(&mut out, &report);
    }
    out
}

/// Runs a rule's inline cases; returns the rendered fail cases for a snapshot.
///
/// Panics with every failure listed when a case does not behave.
pub fn run_cases(
    rule: &'static dyn Rule,
    all: &[&'static dyn Rule],
    pass: &[&str],
    fail: &[&str],
) -> String {
    let meta = rule.meta();
    let mut failures = Vec::new();
    let mut snapshot = String::new();
    for (i, case) in pass.iter().enumerate() {
        let p = prepare(case);
        let name = format!("pass-{i}.yaml");
        let (_, own) = lint_text(&[rule], &name, &p.text);
        let own: Vec<_> = own.iter().filter(|f| f.rule.code == meta.code).collect();
        if !own.is_empty() {
            failures.push(format!(
                "pass case {i} raised {}:\n{}\n--- case ---\n{}",
                meta.code,
                own.iter()
                    .map(|f| format!("  line {}: {}", f.start.line, f.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
                numbered(&p.text)
            ));
        }
        let (_, everything) = lint_text(all, &name, &p.text);
        let loud: Vec<_> = everything
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .collect();
        if !loud.is_empty() {
            failures.push(format!(
                "pass case {i} is not clean under the whole rule set:\n{}\n--- case ---\n{}",
                loud.iter()
                    .map(|f| format!("  {} line {}: {}", f.rule.code, f.start.line, f.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
                numbered(&p.text)
            ));
        }
    }
    for (i, case) in fail.iter().enumerate() {
        let p = prepare(case);
        let name = format!("fail-{i}.yaml");
        let (source, found) = lint_text(&[rule], &name, &p.text);
        let own: Vec<&Finding> = found.iter().filter(|f| f.rule.code == meta.code).collect();
        if own.is_empty() {
            failures.push(format!(
                "fail case {i} raised no {}:\n{}",
                meta.code,
                numbered(&p.text)
            ));
            continue;
        }
        for e in &p.expects {
            let hit = found.iter().any(|f| {
                f.rule.code == e.code && f.start.line == e.line && f.severity == e.severity
            });
            if !hit {
                failures.push(format!(
                    "fail case {i}: expected {} {} on line {}, found:\n{}\n--- case ---\n{}",
                    e.severity,
                    e.code,
                    e.line,
                    found
                        .iter()
                        .map(|f| format!(
                            "  {} {} line {}: {}",
                            f.severity, f.rule.code, f.start.line, f.message
                        ))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    numbered(&p.text)
                ));
            }
        }
        if !p.expects.is_empty() {
            for f in &own {
                if !p
                    .expects
                    .iter()
                    .any(|e| e.line == f.start.line && e.code == f.rule.code)
                {
                    failures.push(format!(
                        "fail case {i}: unexpected {} on line {} ({}): mark it\n{}",
                        f.rule.code,
                        f.start.line,
                        f.message,
                        numbered(&p.text)
                    ));
                }
            }
        }
        let _ = writeln!(snapshot, "=== fail case {i} ===");
        snapshot.push_str(&render(&found, &source));
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s) for {}:\n\n{}",
        failures.len(),
        meta.code,
        failures.join("\n\n")
    );
    snapshot
}

fn numbered(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| format!("{:>3} | {l}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Removes the common indentation (cases are written indented in Rust string literals).
fn unindent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: String = text
        .lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// `(line, code, severity)` of every `# error: CODE` marker.
fn markers(text: &str) -> Vec<(u32, String, Severity)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (word, sev) in [
            ("# error:", Severity::Error),
            ("# warning:", Severity::Warning),
            ("# info:", Severity::Info),
        ] {
            if let Some(pos) = line.find(word) {
                for code in line[pos + word.len()..]
                    .split([',', ' '])
                    .filter(|c| c.starts_with("CL"))
                {
                    out.push((i as u32 + 1, code.to_string(), sev));
                }
            }
        }
    }
    out
}

/// The path of the key or value that starts on a line.
fn path_on_line(root: &Node, source: &SourceFile, line: u32) -> Option<Vec<Seg>> {
    fn walk(
        n: &Node,
        source: &SourceFile,
        line: u32,
        path: &mut Vec<Seg>,
        best: &mut Option<Vec<Seg>>,
    ) {
        match &n.value {
            Value::Map(entries) => {
                for e in entries {
                    path.push(Seg::Key(e.key.to_string()));
                    if source.line_col(e.key_span.start).line == line {
                        *best = Some(path.clone());
                    }
                    walk(&e.value, source, line, path, best);
                    path.pop();
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    if !item.is_map() && source.line_col(item.span.start).line == line {
                        *best = Some(path.clone());
                    }
                    walk(item, source, line, path, best);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    walk(root, source, line, &mut Vec::new(), &mut best);
    best
}

fn merge(base: &mut Node, frag: &Node) {
    match (&mut base.value, &frag.value) {
        (Value::Map(b), Value::Map(f)) => {
            let mut grown = std::mem::take(b).into_vec();
            merge_entries(&mut grown, f);
            *b = grown.into_boxed_slice();
        }
        _ => *base = frag.clone(),
    }
}

fn merge_entries(b: &mut Vec<Entry>, f: &[Entry]) {
    {
        {
            for fe in f {
                if fe.value.as_str() == Some(REMOVE) {
                    b.retain(|e| e.key != fe.key);
                    continue;
                }
                match b.iter_mut().find(|e| e.key == fe.key) {
                    Some(be) if be.value.is_map() && fe.value.is_map() => {
                        merge(&mut be.value, &fe.value)
                    }
                    Some(be) => be.value = fe.value.clone(),
                    None => b.push(Entry {
                        key: fe.key.clone(),
                        key_span: fe.key_span,
                        value: fe.value.clone(),
                    }),
                }
            }
        }
    }
}

/// Writes a tree as block YAML, remembering the line of every path.
#[derive(Default)]
struct Emitter {
    out: String,
    line: u32,
    lines: HashMap<Vec<Seg>, u32>,
}

impl Emitter {
    fn newline(&mut self) {
        self.out.push('\n');
        self.line += 1;
    }

    fn current_line(&self) -> u32 {
        self.line + 1
    }

    /// Writes `n` whose first line continues the current one (`inline`) or starts fresh.
    fn node(&mut self, n: &Node, indent: usize, path: &mut Vec<Seg>, inline: bool) {
        match &n.value {
            Value::Map(entries) if !entries.is_empty() => {
                for (i, e) in entries.iter().enumerate() {
                    if !(inline && i == 0) {
                        self.out.push_str(&" ".repeat(indent));
                    }
                    path.push(Seg::Key(e.key.to_string()));
                    self.lines.insert(path.clone(), self.current_line());
                    self.out.push_str(&scalar_str(&e.key));
                    self.out.push(':');
                    self.value(&e.value, indent, path);
                    path.pop();
                }
            }
            Value::Seq(items) if !items.is_empty() => {
                for (i, item) in items.iter().enumerate() {
                    if !(inline && i == 0) {
                        self.out.push_str(&" ".repeat(indent));
                    }
                    path.push(Seg::Index(i));
                    self.lines.insert(path.clone(), self.current_line());
                    self.out.push_str("- ");
                    match &item.value {
                        Value::Map(e) if !e.is_empty() => self.node(item, indent + 2, path, true),
                        Value::Seq(s) if !s.is_empty() => {
                            self.newline();
                            self.node(item, indent + 2, path, false);
                        }
                        _ => {
                            self.out.push_str(&scalar(item));
                            self.newline();
                        }
                    }
                    path.pop();
                }
            }
            _ => {
                self.out.push_str(&scalar(n));
                self.newline();
            }
        }
    }

    fn value(&mut self, v: &Node, indent: usize, path: &mut Vec<Seg>) {
        match &v.value {
            Value::Map(e) if !e.is_empty() => {
                self.newline();
                self.node(v, indent + 2, path, false);
            }
            Value::Seq(s) if !s.is_empty() => {
                self.newline();
                self.node(v, indent + 2, path, false);
            }
            _ => {
                self.out.push(' ');
                self.out.push_str(&scalar(v));
                self.newline();
            }
        }
    }
}

fn scalar(n: &Node) -> String {
    match &n.value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            let s = format_number(*f);
            if s.contains(['.', 'e', 'i', 'n']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Value::Str(s) => scalar_str(s),
        Value::Map(_) => "{}".into(),
        Value::Seq(_) => "[]".into(),
    }
}

fn scalar_str(s: &str) -> String {
    let plain = !s.is_empty()
        && matches!(resolve_plain(s), Value::Str(_))
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains('\n');
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_merge_into_the_base_and_markers_follow() {
        let p = prepare(
            "
            spec:
              analysis:
                stepWeight: 60  # error: CL201
                maxWeight: __remove__
            ",
        );
        let doc = parse_stream(&p.text, &Budget::default())
            .documents
            .remove(0)
            .root;
        let a = doc.at(&["spec", "analysis"]).unwrap();
        assert_eq!(a.get("stepWeight").unwrap().value, Value::Int(60));
        assert!(a.get("maxWeight").is_none());
        let line = p
            .text
            .lines()
            .position(|l| l.contains("stepWeight: 60"))
            .unwrap() as u32
            + 1;
        assert_eq!(
            p.expects,
            vec![Expect {
                line,
                code: "CL201".into(),
                severity: Severity::Error
            }]
        );
    }
}
