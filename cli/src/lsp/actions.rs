//! Quick fixes: the rule's own fix, a few built here, and the two ways to silence a finding.
//!
//! Every action is a list of byte-range edits of the document's text; edits touch as little as
//! possible, so formatting and comments stay as they were.

use canarylint::suppress::{IGNORE_ANNOTATION, IGNORE_COMMENT};
use canarylint::yaml::Entry;
use canarylint::{Applicability, Document, Edit, Finding, Node, ParsedFile, Span, Value};

/// The rule that reports suppressions matching nothing.
const UNUSED_SUPPRESSION: &str = "unused-suppression";

/// A quick fix of one finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub title: String,
    pub edits: Vec<Edit>,
    /// The fix to apply when the editor applies "the" fix of a diagnostic.
    pub preferred: bool,
}

/// Every quick fix for a finding. `json`: the document is JSON (no comments).
pub fn for_finding(f: &Finding, file: &ParsedFile, json: bool) -> Vec<Action> {
    let mut out = Vec::new();
    if let Some(fix) = &f.fix {
        out.push(Action {
            title: fix.title.clone(),
            edits: fix.edits.clone(),
            preferred: fix.applicability == Applicability::Safe,
        });
    } else if f.rule.code == "CL202"
        && let Some(a) = mirror_iterations(f, file)
    {
        out.push(a);
    }
    // A finding about a suppression that silences nothing cannot be silenced by another one;
    // its fix is to remove the suppression.
    if f.rule.suppressible && f.rule.slug != UNUSED_SUPPRESSION {
        if let Some(edit) = ignore_for_resource(f, file) {
            out.push(Action {
                title: format!("ignore {} for this resource", f.rule.code),
                edits: vec![edit],
                preferred: false,
            });
        }
        if !json && let Some(edit) = ignore_on_line(f, file) {
            out.push(Action {
                title: format!("ignore {} on this line", f.rule.code),
                edits: vec![edit],
                preferred: false,
            });
        }
    }
    out
}

/// The object a finding is in.
fn document_of<'a>(f: &Finding, file: &'a ParsedFile) -> Option<&'a Document> {
    file.documents
        .iter()
        .find(|d| d.span.start <= f.span.start && f.span.start <= d.span.end)
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The end of the line holding `offset`: its `\n` (or `\r\n`), or the end of the text.
fn line_end(text: &str, offset: usize) -> usize {
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    if end > 0 && text.as_bytes().get(end - 1) == Some(&b'\r') && end < text.len() {
        end - 1
    } else {
        end
    }
}

/// The line break the text uses.
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// The indentation before `offset`, when only spaces precede it on its line.
fn indent_before(text: &str, offset: usize) -> Option<&str> {
    let start = line_start(text, offset);
    let indent = &text[start..offset];
    indent.chars().all(|c| c == ' ').then_some(indent)
}

/// Whether a collection is written in flow style (`{…}`, `[…]`), as JSON always is.
fn is_flow(text: &str, node: &Node) -> bool {
    text.get(node.span.range())
        .is_some_and(|t| t.starts_with('{') || t.starts_with('['))
}

/// Whether nothing but spaces and a comment follows `offset` on its line.
fn only_comment_after(text: &str, offset: usize) -> bool {
    let rest = text[offset..line_end(text, offset)].trim();
    rest.is_empty() || rest.starts_with('#')
}

/// CL202: replace `stepWeight`/`stepWeights` (and `maxWeight`) with `iterations: n`, which
/// mirrors during the whole analysis.
fn mirror_iterations(f: &Finding, file: &ParsedFile) -> Option<Action> {
    let text = &*file.source.text;
    let doc = document_of(f, file)?;
    let analysis = doc.root.at(&["spec", "analysis"])?;
    if is_flow(text, analysis) || analysis.get("iterations").is_some() {
        return None;
    }
    let (entry, n) = if let Some(e) = analysis.entry("stepWeight") {
        let step = e.value.as_f64().filter(|s| *s > 0.0)?;
        let max = analysis
            .get("maxWeight")
            .and_then(Node::as_f64)
            .unwrap_or(100.0);
        (e, (max / step).ceil().max(1.0))
    } else {
        let e = analysis.entry("stepWeights")?;
        (e, e.value.items().len().max(1) as f64)
    };
    let n = n as i64;
    indent_before(text, entry.key_span.start as usize)?;
    let mut edits = vec![Edit {
        span: Span::new(entry.key_span.start, value_end(text, entry)),
        replacement: format!("iterations: {n}"),
    }];
    if let Some(max) = analysis.entry("maxWeight") {
        edits.push(delete_entry_lines(text, max)?);
    }
    edits.sort_by_key(|e| e.span.start);
    Some(Action {
        title: format!(
            "replace {} with `iterations: {n}`",
            if analysis.get("maxWeight").is_some() {
                format!("{} and maxWeight", entry.key)
            } else {
                entry.key.to_string()
            }
        ),
        edits,
        preferred: true,
    })
}

/// Where an entry's value ends, trailing spaces and line breaks of block values left out.
fn value_end(text: &str, entry: &Entry) -> u32 {
    let start = entry.key_span.end as usize;
    let end = (entry.value.span.end as usize).max(start).min(text.len());
    (start + text[start..end].trim_end().len()) as u32
}

/// Deletes the whole lines of a block-style entry: from its key's line to its value's line.
fn delete_entry_lines(text: &str, entry: &Entry) -> Option<Edit> {
    let key = entry.key_span.start as usize;
    indent_before(text, key)?;
    let end = value_end(text, entry) as usize;
    if !only_comment_after(text, end) {
        return None;
    }
    let start = line_start(text, key);
    let mut stop = line_end(text, end);
    if text[stop..].starts_with("\r\n") {
        stop += 2;
    } else if text[stop..].starts_with('\n') {
        stop += 1;
    }
    Some(Edit {
        span: Span::new(start as u32, stop as u32),
        replacement: String::new(),
    })
}

/// Adds the rule to the `canarylint.io/ignore` annotation of the finding's object.
fn ignore_for_resource(f: &Finding, file: &ParsedFile) -> Option<Edit> {
    let text = &*file.source.text;
    let code = f.rule.code;
    let doc = document_of(f, file)?;
    let meta_entry = doc.root.entry("metadata")?;
    let meta = &meta_entry.value;
    if let Some(ann) = meta.entry("annotations") {
        return add_to_annotations(text, meta_entry, ann, code);
    }
    let pair = format!("\"annotations\": {{\"{IGNORE_ANNOTATION}\": \"{code}\"}}");
    if is_flow(text, meta) {
        return insert_into_flow_map(text, meta, &pair);
    }
    let first = meta.entries().first()?;
    let indent = indent_before(text, first.key_span.start as usize)?;
    let unit = indent_unit(text, meta_entry, indent);
    let nl = newline(text);
    Some(Edit {
        span: Span::empty(line_start(text, first.key_span.start as usize) as u32),
        replacement: format!(
            "{indent}annotations:{nl}{indent}{unit}{IGNORE_ANNOTATION}: {code}{nl}"
        ),
    })
}

/// One level of indentation, as the file uses it under `parent`.
fn indent_unit(text: &str, parent: &Entry, child_indent: &str) -> String {
    let parent_indent = indent_before(text, parent.key_span.start as usize).map_or(0, str::len);
    let n = child_indent.len().saturating_sub(parent_indent);
    " ".repeat(if n == 0 { 2 } else { n })
}

fn add_to_annotations(text: &str, meta: &Entry, ann_entry: &Entry, code: &str) -> Option<Edit> {
    let ann = &ann_entry.value;
    let flow = is_flow(text, ann);
    if let Some(e) = ann.entry(IGNORE_ANNOTATION) {
        return extend_ignore_value(text, e, flow, code);
    }
    if flow {
        let pair = format!("\"{IGNORE_ANNOTATION}\": \"{code}\"");
        return insert_into_flow_map(text, ann, &pair);
    }
    let nl = newline(text);
    if let Some(first) = ann.entries().first() {
        let indent = indent_before(text, first.key_span.start as usize)?;
        return Some(Edit {
            span: Span::empty(line_start(text, first.key_span.start as usize) as u32),
            replacement: format!("{indent}{IGNORE_ANNOTATION}: {code}{nl}"),
        });
    }
    // `annotations:` with no value (or `~`, `null`): give it one.
    if !ann.is_null() {
        return None;
    }
    let key_indent = indent_before(text, ann_entry.key_span.start as usize)?;
    let meta_indent = indent_before(text, meta.key_span.start as usize).map_or(0, str::len);
    let unit = " ".repeat(key_indent.len().saturating_sub(meta_indent).max(2));
    let colon =
        text[ann_entry.key_span.end as usize..].find(':')? + ann_entry.key_span.end as usize;
    let end = (ann.span.end as usize).max(colon + 1);
    Some(Edit {
        span: Span::new(colon as u32 + 1, end as u32),
        replacement: format!("{nl}{key_indent}{unit}{IGNORE_ANNOTATION}: {code}"),
    })
}

/// Appends a code to an existing `canarylint.io/ignore` value.
fn extend_ignore_value(text: &str, e: &Entry, flow: bool, code: &str) -> Option<Edit> {
    let v = &e.value;
    let raw = text.get(v.span.range())?;
    let quoted = |s: &str| serde_json::to_string(s).ok();
    match &v.value {
        Value::Str(s) if s.trim().is_empty() => Some(Edit {
            span: v.span,
            replacement: quoted(code)?,
        }),
        Value::Str(s) => {
            let q = raw.chars().next()?;
            if (q == '"' || q == '\'') && raw.len() >= 2 && raw.ends_with(q) {
                Some(Edit {
                    span: Span::empty(v.span.end - 1),
                    replacement: format!(", {code}"),
                })
            } else if q == '|' || q == '>' || flow || raw.contains('\n') {
                Some(Edit {
                    span: v.span,
                    replacement: quoted(&format!("{}, {code}", s.trim()))?,
                })
            } else {
                Some(Edit {
                    span: Span::empty(v.span.end),
                    replacement: format!(", {code}"),
                })
            }
        }
        Value::Null => {
            let colon = text[e.key_span.end as usize..].find(':')? + e.key_span.end as usize;
            let end = (v.span.end as usize).max(colon + 1);
            Some(Edit {
                span: Span::new(colon as u32 + 1, end as u32),
                replacement: format!(" {}", quoted(code)?),
            })
        }
        _ => Some(Edit {
            span: v.span,
            replacement: quoted(code)?,
        }),
    }
}

/// Adds `"key": value` as the last pair of a flow mapping (`{…}`, as in JSON).
fn insert_into_flow_map(text: &str, map: &Node, pair: &str) -> Option<Edit> {
    // The span of a non-empty flow mapping may stop before its `}`: insert after the last
    // value rather than before the brace.
    let raw = text.get(map.span.range())?;
    if !raw.starts_with('{') {
        return None;
    }
    match map.entries().last() {
        Some(last) => Some(Edit {
            span: Span::empty(value_end(text, last)),
            replacement: format!(", {pair}"),
        }),
        None => Some(Edit {
            span: Span::empty(map.span.start + 1),
            replacement: pair.to_string(),
        }),
    }
}

/// Silences the rule on the finding's line: extends an ignore comment that already applies
/// to the line, else appends one, or puts one on its own line above when the line already
/// ends in a comment.
fn ignore_on_line(f: &Finding, file: &ParsedFile) -> Option<Edit> {
    let source = &file.source;
    let text = &*source.text;
    let code = f.rule.code;
    let line = f.start.line;
    let start = source.line_start(line) as usize;
    let content = source.line_text(line);
    let end = start + content.len();
    let prev = (line > 1).then(|| source.line_start(line - 1) as usize);
    // An ignore comment on this line, or alone on the line above.
    if let Some(ig) = file.suppressions.ignores.iter().find(|i| {
        let at = i.span.start as usize;
        i.line == line
            && ((start..=end).contains(&at) || prev.is_some_and(|p| (p..start).contains(&at)))
    }) {
        let comment = text.get(ig.span.range())?;
        let marker = comment.find(IGNORE_COMMENT)? + IGNORE_COMMENT.len();
        let list_end = comment[marker..]
            .find(" -- ")
            .map_or(comment.len(), |i| marker + i);
        let list = &comment[marker..list_end];
        let list_trimmed = list.trim_end();
        let at = ig.span.start as usize + marker + list_trimmed.len();
        let sep = if list_trimmed.trim_start_matches(':').trim().is_empty() {
            " "
        } else {
            ", "
        };
        return Some(Edit {
            span: Span::empty(at as u32),
            replacement: format!("{sep}{code}"),
        });
    }
    if has_comment(content) {
        let indent: String = content.chars().take_while(|c| *c == ' ').collect();
        let nl = newline(text);
        return Some(Edit {
            span: Span::empty(start as u32),
            replacement: format!("{indent}# {IGNORE_COMMENT} {code}{nl}"),
        });
    }
    let at = start + content.trim_end().len();
    Some(Edit {
        span: Span::empty(at as u32),
        replacement: format!(" # {IGNORE_COMMENT} {code}"),
    })
}

/// Whether a YAML line ends in a comment: a `#` at the start or after a space, outside quotes.
fn has_comment(line: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    let mut last_token = ' ';
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            // `''` is a quote inside a single-quoted scalar.
            Some('\'') if c == '\'' && chars.peek() == Some(&'\'') => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => {
                if c == '#' && (prev == ' ' || prev == '\t') {
                    return true;
                }
                // A quote opens a scalar only where a scalar can start.
                if (c == '"' || c == '\'')
                    && matches!(last_token, ' ' | ':' | '-' | '[' | '{' | ',')
                {
                    quote = Some(c);
                }
                if c != ' ' && c != '\t' {
                    last_token = c;
                }
            }
        }
        prev = c;
    }
    false
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use canarylint::{Budget, Inventory, Linter, SourceFile, read};

    use super::*;

    /// Every manifest of the bundled examples and the CLI fixtures, as (name, text).
    fn corpus() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in [root.join("../examples"), root.join("tests/fixtures")] {
            for e in walkdir::WalkDir::new(&dir).sort_by_file_name() {
                let e = e.unwrap();
                if e.file_type().is_file() && crate::input::has_manifest_extension(e.path()) {
                    let text = std::fs::read_to_string(e.path()).unwrap();
                    out.push((e.path().display().to_string(), text));
                }
            }
        }
        // Shapes the files above do not have.
        let base = "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: a\n  namespace: test\nspec:\n  provider: istio\n  targetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: a\n  service:\n    port: 80\n  analysis:\n    interval: 1m\n    threshold: 5\n    maxWeight: 50\n    stepWeight: 10\n";
        let extra = [
            (
                "api-version.yaml",
                base.replace("apiVersion: apps/v1", "apiVersion: v1"),
            ),
            (
                "flow-annotations.yaml",
                base.replace(
                    "  namespace: test\n",
                    "  namespace: test\n  annotations: {team: x}\n",
                )
                .replace("stepWeight: 10", "stepWeight: 70"),
            ),
            (
                "empty-annotations.yaml",
                base.replace("  namespace: test\n", "  namespace: test\n  annotations:\n")
                    .replace("stepWeight: 10", "stepWeight: 70"),
            ),
            (
                "quoted-ignore.yaml",
                base.replace(
                    "  namespace: test\n",
                    "  namespace: test\n  annotations:\n    canarylint.io/ignore: 'CL103'\n",
                )
                .replace("stepWeight: 10", "stepWeight: 70"),
            ),
            (
                "flow-metadata.yaml",
                base.replace(
                    "metadata:\n  name: a\n  namespace: test\n",
                    "metadata: {name: a, namespace: test}\n",
                )
                .replace("stepWeight: 10", "stepWeight: 70"),
            ),
            (
                "step-weights.yaml",
                base.replace(
                    "    maxWeight: 50\n    stepWeight: 10\n",
                    "    stepWeights:\n      - 10\n      - 40\n    mirror: true\n",
                ),
            ),
            (
                "canary-analysis.yaml",
                base.replace("  analysis:", "  canaryAnalysis:"),
            ),
            (
                "crlf.yaml",
                base.replace("stepWeight: 10", "stepWeight: 70 # too big")
                    .replace('\n', "\r\n"),
            ),
            (
                "list.yaml",
                format!(
                    "apiVersion: v1\nkind: List\nitems:\n  - {}",
                    base.replace("stepWeight: 10", "stepWeight: 70")
                        .replace('\n', "\n    ")
                        .trim_end()
                ),
            ),
        ];
        for (name, text) in extra {
            out.push((format!("/extra/{name}"), text));
        }
        out
    }

    fn lint(files: &[(String, String)], index: usize) -> (ParsedFile, Vec<Finding>) {
        let parsed: Vec<ParsedFile> = files
            .iter()
            .map(|(n, t)| {
                read(
                    Arc::new(SourceFile::new(n.as_str(), t.as_str())),
                    &Budget::GENEROUS,
                )
            })
            .collect();
        let mut inv = Inventory::new();
        for p in &parsed {
            inv.add_file(p, "default", true);
        }
        let findings = Linter::new(canarylint_rules::ALL).lint_file(&parsed[index], &inv);
        let file = parsed.into_iter().nth(index).unwrap();
        (file, findings)
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut edits = edits.to_vec();
        edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        let mut out = text.to_string();
        let mut limit = text.len();
        for e in edits {
            assert!(e.span.end as usize <= limit, "overlapping edits");
            out.replace_range(e.span.range(), &e.replacement);
            limit = e.span.start as usize;
        }
        out
    }

    fn key(f: &Finding) -> (String, String, Option<canarylint::ResourceRef>) {
        (f.rule.code.to_string(), f.path.clone(), f.resource.clone())
    }

    /// Each action, applied, removes its finding and adds no parse or schema error.
    #[test]
    fn every_action_removes_its_finding() {
        let files = corpus();
        let mut checked = 0;
        for i in 0..files.len() {
            let (file, findings) = lint(&files, i);
            let json = files[i].0.ends_with(".json");
            for f in &findings {
                for a in for_finding(f, &file, json) {
                    let mut edited = files.clone();
                    edited[i].1 = apply(&files[i].1, &a.edits);
                    let (_, after) = lint(&edited, i);
                    let name = &files[i].0;
                    assert!(
                        !after.iter().any(|g| key(g) == key(f)),
                        "{name}: {:?} left {} {}:\n{}",
                        a.title,
                        f.rule.code,
                        f.message,
                        edited[i].1
                    );
                    for g in &after {
                        let broken = matches!(g.rule.code, "CL000" | "CL001" | "CL002");
                        assert!(
                            !broken || findings.iter().any(|h| key(h) == key(g)),
                            "{name}: {:?} introduced {} {}:\n{}",
                            a.title,
                            g.rule.code,
                            g.message,
                            edited[i].1
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "only {checked} actions checked");
    }

    #[test]
    fn comments_outside_quotes() {
        assert!(has_comment("  stepWeight: 60 # too much"));
        assert!(has_comment("# alone"));
        assert!(!has_comment("  url: \"http://x/#a\""));
        assert!(!has_comment("  url: 'it''s # not'"));
        assert!(!has_comment("  color: a#b"));
        assert!(has_comment("  url: \"http://x/#a\" # yes"));
        assert!(!has_comment("  stepWeight: 60"));
    }
}
