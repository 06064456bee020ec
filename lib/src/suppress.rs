//! Suppression: the `canarylint.io/ignore` annotation and `# canarylint-ignore` comments, how
//! they are read, and the edits that add one for a finding (the editor's "ignore" actions).

use crate::document::{Document, ParsedFile};
use crate::edit::{
    has_comment, indent_before, indent_unit, insert_into_flow_map, is_flow, line_start, newline,
};
use crate::finding::{Edit, Finding};
use crate::source::SourceFile;
use crate::tree::{Entry, Span, Value};

/// The annotation a Canary carries to silence rules for itself.
pub const IGNORE_ANNOTATION: &str = "canarylint.io/ignore";
/// The comment marker that silences rules for one line.
pub const IGNORE_COMMENT: &str = "canarylint-ignore";

/// A list of codes or slugs; `*` matches every rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSelector {
    pub items: Vec<String>,
}

impl RuleSelector {
    pub fn parse(list: &str) -> Self {
        RuleSelector {
            items: list
                .split([',', ' ', '\t'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    /// A selector of one item.
    pub fn one(item: &str) -> Self {
        RuleSelector {
            items: vec![item.to_string()],
        }
    }

    pub fn matches(&self, code: &str, slug: &str) -> bool {
        self.items
            .iter()
            .any(|i| i == "*" || i.eq_ignore_ascii_case(code) || i == slug)
    }
}

/// One `# canarylint-ignore …` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineIgnore {
    /// The 1-based line whose findings it silences.
    pub line: u32,
    pub selector: RuleSelector,
    /// The comment itself, for reporting it when it silences nothing.
    pub span: Span,
}

/// Every ignore comment of a file.
#[derive(Clone, Debug, Default)]
pub struct InlineSuppressions {
    pub ignores: Vec<InlineIgnore>,
}

impl InlineSuppressions {
    /// Finds the comments. A comment alone on its line applies to the next line; at the end of a
    /// line, to that line. A reason may follow ` -- `.
    pub fn scan(source: &SourceFile) -> Self {
        let text = &*source.text;
        let mut ignores = Vec::new();
        if !text.contains(IGNORE_COMMENT) {
            return InlineSuppressions { ignores };
        }
        for (pos, _) in text.match_indices(IGNORE_COMMENT) {
            let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[line_start..pos];
            // The marker must sit in a comment: a `#` at the start or after whitespace.
            let Some(hash) = before.rfind('#') else {
                continue;
            };
            if hash > 0 && !before[..hash].ends_with([' ', '\t']) {
                continue;
            }
            if !before[hash + 1..].trim().is_empty() {
                continue;
            }
            let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
            let rest = &text[pos + IGNORE_COMMENT.len()..line_end];
            if !(rest.is_empty() || rest.starts_with([' ', '\t', ':'])) {
                continue;
            }
            let rest = rest.trim_start_matches(':');
            // A reason follows ` -- `; another comment may follow `#`.
            let list = rest.split(" -- ").next().unwrap_or("");
            let list = list.split('#').next().unwrap_or("");
            let selector = RuleSelector::parse(list);
            let line = source.line_col(pos as u32).line;
            let alone = before[..hash].trim().is_empty();
            ignores.push(InlineIgnore {
                line: if alone { line + 1 } else { line },
                selector,
                span: Span::new((line_start + hash) as u32, line_end as u32),
            });
        }
        InlineSuppressions { ignores }
    }

    /// The comment that silences `code` on `line`, if any.
    pub fn find(&self, line: u32, code: &str, slug: &str) -> Option<usize> {
        self.ignores
            .iter()
            .position(|i| i.line == line && i.selector.matches(code, slug))
    }
}

/// One way to silence a finding: an edit of its file, and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Silence {
    pub title: String,
    pub edit: Edit,
}

/// The suppressions that would silence `finding`, as edits of its file: its code added to the
/// object's `canarylint.io/ignore` annotation, and, when the file can hold comments (YAML, not
/// JSON), to an ignore comment on its line. Empty for findings nothing may silence (CL000), and
/// for findings about suppressions themselves: another suppression cannot silence those, their
/// fix is to remove the suppression.
pub fn silencing_edits(finding: &Finding, file: &ParsedFile, comments: bool) -> Vec<Silence> {
    let rule = finding.rule;
    if !rule.suppressible || rule.about_suppressions {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(edit) = ignore_for_resource(finding, file) {
        out.push(Silence {
            title: format!("ignore {} for this resource", rule.code),
            edit,
        });
    }
    if comments && let Some(edit) = ignore_on_line(finding, file) {
        out.push(Silence {
            title: format!("ignore {} on this line", rule.code),
            edit,
        });
    }
    out
}

/// The object a finding is in.
fn document_of<'a>(f: &Finding, file: &'a ParsedFile) -> Option<&'a Document> {
    file.documents
        .iter()
        .find(|d| d.span.start <= f.span.start && f.span.start <= d.span.end)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_apply_to_their_line_or_the_next() {
        let src = SourceFile::new(
            "x",
            "a: 1 # canarylint-ignore CL201 -- on purpose\n# canarylint-ignore step-weight-exceeds-max-weight,CL202\nb: 2\nc: \"# canarylint-ignore CL001\"\n",
        );
        let s = InlineSuppressions::scan(&src);
        assert_eq!(s.ignores.len(), 2);
        assert_eq!(s.ignores[0].line, 1);
        assert!(s.find(1, "CL201", "x").is_some());
        assert!(
            s.find(3, "CL999", "step-weight-exceeds-max-weight")
                .is_some()
        );
        assert!(s.find(3, "CL202", "y").is_some());
        assert!(s.find(4, "CL001", "z").is_none());
    }
}
