//! Suppression: the `canarylint.io/ignore` annotation and `# canarylint-ignore` comments.

use crate::source::SourceFile;
use crate::tree::Span;

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
