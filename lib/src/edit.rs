//! Text edits that keep a file's formatting: the building blocks of fixes and suppression edits.
//!
//! Every helper works on byte offsets of the source text and touches as little as possible,
//! so indentation, line breaks (`\n` or `\r\n`) and comments stay as they were. Each returns
//! `None` where the file's layout is not one it can edit safely (tabs before a key, a flow
//! collection where a block one is expected): a fix that is not offered beats a fix that breaks
//! the file.

use crate::finding::Edit;
use crate::tree::{Entry, Node, Span};

/// The start of the line holding `offset`.
pub fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The end of the line holding `offset`: its `\n` (or `\r\n`), or the end of the text.
pub fn line_end(text: &str, offset: usize) -> usize {
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    if end > 0 && text.as_bytes().get(end - 1) == Some(&b'\r') && end < text.len() {
        end - 1
    } else {
        end
    }
}

/// The line break the text uses.
pub fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// The indentation before `offset`, when only spaces precede it on its line.
pub fn indent_before(text: &str, offset: usize) -> Option<&str> {
    let start = line_start(text, offset);
    let indent = &text[start..offset];
    indent.chars().all(|c| c == ' ').then_some(indent)
}

/// One level of indentation, as the file uses it under `parent`.
pub fn indent_unit(text: &str, parent: &Entry, child_indent: &str) -> String {
    let parent_indent = indent_before(text, parent.key_span.start as usize).map_or(0, str::len);
    let n = child_indent.len().saturating_sub(parent_indent);
    " ".repeat(if n == 0 { 2 } else { n })
}

/// Whether a collection is written in flow style (`{…}`, `[…]`), as JSON always is.
pub fn is_flow(text: &str, node: &Node) -> bool {
    text.get(node.span.range())
        .is_some_and(|t| t.starts_with('{') || t.starts_with('['))
}

/// Whether nothing but spaces and a comment follows `offset` on its line.
pub fn only_comment_after(text: &str, offset: usize) -> bool {
    let rest = text[offset..line_end(text, offset)].trim();
    rest.is_empty() || rest.starts_with('#')
}

/// Where an entry's value ends, trailing spaces and line breaks of block values left out.
pub fn value_end(text: &str, entry: &Entry) -> u32 {
    let start = entry.key_span.end as usize;
    let end = (entry.value.span.end as usize).max(start).min(text.len());
    (start + text[start..end].trim_end().len()) as u32
}

/// Deletes the whole lines of a block-style entry: from its key's line to its value's line.
pub fn delete_entry_lines(text: &str, entry: &Entry) -> Option<Edit> {
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

/// Adds `"key": value` as the last pair of a flow mapping (`{…}`, as in JSON).
pub fn insert_into_flow_map(text: &str, map: &Node, pair: &str) -> Option<Edit> {
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

/// Whether a YAML line ends in a comment: a `#` at the start or after a space, outside quotes.
pub fn has_comment(line: &str) -> bool {
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

/// Applies edits to a text, last first; `None` when two of them overlap.
pub fn apply(text: &str, edits: &[Edit]) -> Option<String> {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut out = text.to_string();
    let mut limit = text.len();
    for e in edits {
        if e.span.end as usize > limit || e.span.start > e.span.end {
            return None;
        }
        out.replace_range(e.span.range(), &e.replacement);
        limit = e.span.start as usize;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn lines_and_breaks() {
        let t = "a: 1\r\nb: 2\r\n";
        assert_eq!(line_start(t, 7), 6);
        assert_eq!(line_end(t, 7), 10);
        assert_eq!(newline(t), "\r\n");
        assert_eq!(indent_before("  a: 1", 2), Some("  "));
        assert_eq!(indent_before("- a: 1", 2), None);
    }

    #[test]
    fn applies_edits_last_first_and_refuses_overlaps() {
        let e = |s, e, r: &str| Edit {
            span: Span::new(s, e),
            replacement: r.into(),
        };
        assert_eq!(
            apply("abcdef", &[e(0, 1, "X"), e(4, 6, "")]).as_deref(),
            Some("Xbcd")
        );
        assert_eq!(apply("abcdef", &[e(0, 3, "X"), e(2, 4, "Y")]), None);
    }
}
