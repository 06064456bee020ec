//! Source texts and the conversions between byte offsets, lines and columns.

use std::sync::Arc;

use crate::tree::Span;

/// A 1-based line and column. Columns count Unicode scalar values (characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// One file (or standard input, or an editor buffer) as read.
#[derive(Debug)]
pub struct SourceFile {
    /// The name shown to users: the path as given, or `<stdin>`.
    pub name: Arc<str>,
    pub text: Arc<str>,
    /// Made on first use: most files of a large run are only indexed, never asked for a
    /// position, and are released before the end.
    line_starts: std::sync::OnceLock<Vec<u32>>,
    /// Whether a `\r` ends a line on its own somewhere (miette counts it as a line break,
    /// the line index does not). Found on first use, by the reports' renderer only.
    lone_cr: std::sync::OnceLock<bool>,
    /// Known once the text is let go to be read again later (and kept when it is read
    /// again): what the text read again must match to stand for the one the spans were
    /// taken from.
    fingerprint: Option<Fingerprint>,
}

/// The length and a hash of a text: enough to tell that a file read again is the one read
/// before, without keeping it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub len: usize,
    pub hash: u64,
}

impl Fingerprint {
    pub fn of(text: &str) -> Fingerprint {
        use std::hash::BuildHasher as _;
        // A fixed seed: the fingerprints of one run are compared with each other only.
        let state = foldhash::quality::FixedState::with_seed(0x6361_6e61_7279);
        Fingerprint {
            len: text.len(),
            hash: state.hash_one(text.as_bytes()),
        }
    }
}

impl SourceFile {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        SourceFile {
            name: name.into(),
            text,
            line_starts: std::sync::OnceLock::new(),
            lone_cr: std::sync::OnceLock::new(),
            fingerprint: None,
        }
    }

    /// The same name without the text (nor its line index), remembering what the text was
    /// so that it can be read again and checked ([`SourceFile::restore`]).
    pub fn release(&self) -> SourceFile {
        SourceFile {
            fingerprint: Some(
                self.fingerprint
                    .unwrap_or_else(|| Fingerprint::of(&self.text)),
            ),
            ..SourceFile::new(self.name.clone(), "")
        }
    }

    /// Whether this source stands for a text let go, to be read again
    /// ([`SourceFile::restore`]). An empty file is never released: it has nothing to let go.
    pub fn is_released(&self) -> bool {
        self.text.is_empty() && self.fingerprint.is_some_and(|f| f.len > 0)
    }

    /// The fingerprint of the text, once known (a source released, or restored).
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.fingerprint
    }

    /// The released text read again: a source equal to the one released when `text` is the
    /// same (its length and hash); else `text` back (and always for a source never released).
    pub fn restore(&self, text: String) -> Result<SourceFile, String> {
        match self.fingerprint {
            Some(fingerprint) if Fingerprint::of(&text) == fingerprint => Ok(SourceFile {
                fingerprint: Some(fingerprint),
                ..SourceFile::new(self.name.clone(), text)
            }),
            _ => Err(text),
        }
    }

    fn has_lone_cr(&self) -> bool {
        *self.lone_cr.get_or_init(|| {
            let bytes = self.text.as_bytes();
            bytes
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
        })
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let text = &*self.text;
            // Sized before it is filled: a large run keeps one index per linted file.
            let lines = text.bytes().filter(|&b| b == b'\n').count();
            let mut starts = Vec::with_capacity(lines + 1);
            starts.push(0);
            starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
            starts
        })
    }

    /// 0-based line index of a byte offset.
    fn line_index(&self, offset: u32) -> usize {
        match self.line_starts().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    fn clamp(&self, offset: u32) -> u32 {
        let mut o = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o as u32
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = self.clamp(offset);
        let li = self.line_index(offset);
        let start = self.line_starts()[li] as usize;
        let column = self.text[start..offset as usize].chars().count() as u32 + 1;
        LineCol {
            line: li as u32 + 1,
            column,
        }
    }

    /// 0-based line and UTF-16 (or UTF-8 byte) column, as the language server protocol wants.
    pub fn lsp_position(&self, offset: u32, utf16: bool) -> (u32, u32) {
        let offset = self.clamp(offset);
        let li = self.line_index(offset);
        let start = self.line_starts()[li] as usize;
        let prefix = &self.text[start..offset as usize];
        let col = if utf16 {
            prefix.encode_utf16().count()
        } else {
            prefix.len()
        };
        (li as u32, col as u32)
    }

    /// Byte offset of a 0-based LSP position (UTF-16 or UTF-8 column); clamps to the line.
    pub fn offset_of_lsp(&self, line: u32, col: u32, utf16: bool) -> u32 {
        let Some(&start) = self.line_starts().get(line as usize) else {
            return self.text.len() as u32;
        };
        let end = self
            .line_starts()
            .get(line as usize + 1)
            .map_or(self.text.len(), |&e| e as usize);
        let line_text = &self.text[start as usize..end];
        let mut units = 0u32;
        for (i, ch) in line_text.char_indices() {
            if units >= col || ch == '\n' {
                return start + i as u32;
            }
            units += if utf16 {
                ch.len_utf16() as u32
            } else {
                ch.len_utf8() as u32
            };
        }
        end as u32
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let Some(&start) = self.line_starts().get(line.saturating_sub(1) as usize) else {
            return "";
        };
        let end = self
            .line_starts()
            .get(line as usize)
            .map_or(self.text.len(), |&e| e as usize - 1);
        self.text[start as usize..end].trim_end_matches('\r')
    }

    pub fn line_count(&self) -> u32 {
        self.line_starts().len() as u32
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: u32) -> u32 {
        self.line_starts()
            .get(line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(self.text.len() as u32)
    }

    pub fn slice(&self, span: Span) -> &str {
        let s = self.clamp(span.start) as usize;
        let e = self.clamp(span.end).max(s as u32) as usize;
        &self.text[s..e]
    }
}

/// What miette's renderer reads: the same span contents as miette's own reading of a `str`
/// (the rendered report is identical to the byte), found from the line index. miette's reading
/// scans the text from its first byte, several times per finding: on a large file with many
/// findings that scan was nearly all of the human report's time.
impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // miette's scan started at a line boundary gives the same contents, shifted. It starts
        // one line more than the context asks for: an empty span at the very start of the
        // scanned text would otherwise be read differently (miette's end test saturates at 0).
        // A lone `\r`, a line break to miette only, would shift its line numbers: scan whole.
        let (first_line, base) = match u32::try_from(span.offset()) {
            Ok(offset) if !self.has_lone_cr() => {
                let line = self.line_index(offset.min(self.text.len() as u32));
                let first = line.saturating_sub(context_lines_before + 1);
                (first, self.line_starts()[first] as usize)
            }
            _ => (0, 0),
        };
        let shifted = miette::SourceSpan::new((span.offset() - base).into(), span.len());
        let inner = <str as miette::SourceCode>::read_span(
            &self.text[base..],
            &shifted,
            context_lines_before,
            context_lines_after,
        )?;
        let contents = miette::MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            miette::SourceSpan::new((inner.span().offset() + base).into(), inner.span().len()),
            inner.line() + first_line,
            inner.column(),
            inner.line_count() + first_line,
        )
        .with_language("yaml");
        Ok(Box::new(contents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_text_is_restored_only_by_the_same_text() {
        let f = SourceFile::new("x", "a: 1\nb: 2\n");
        let released = f.release();
        assert!(released.text.is_empty());
        assert!(released.is_released() && !f.is_released());
        assert_eq!(released.name, f.name);
        let back = released.restore("a: 1\nb: 2\n".into()).unwrap();
        assert_eq!(back.fingerprint(), Some(Fingerprint::of("a: 1\nb: 2\n")));
        assert_eq!(&*back.text, "a: 1\nb: 2\n");
        assert!(!back.is_released());
        assert_eq!(back.line_col(5), LineCol { line: 2, column: 1 });
        // Same length, one byte changed; and a longer text.
        assert_eq!(
            released.restore("a: 1\nb: 3\n".into()).unwrap_err(),
            "a: 1\nb: 3\n"
        );
        assert!(released.restore("a: 1\nb: 2\n\n".into()).is_err());
        // Released again once restored, it still knows the first text.
        assert!(back.release().restore("a: 1\nb: 2\n".into()).is_ok());
        assert!(back.release().restore("a: 1\nb: 9\n".into()).is_err());
        assert!(f.restore("a: 1\nb: 2\n".into()).is_err(), "never released");
        assert!(
            !SourceFile::new("e", "").release().is_released(),
            "nothing to let go"
        );
    }

    #[test]
    fn columns_count_characters_and_utf16_units() {
        let f = SourceFile::new("x", "a: 1\n# 😀 é\nbb: 2\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        let off = f.text.find("é").unwrap() as u32;
        assert_eq!(f.line_col(off), LineCol { line: 2, column: 5 });
        assert_eq!(f.lsp_position(off, true), (1, 5));
        assert_eq!(f.lsp_position(off, false), (1, 7));
        assert_eq!(f.offset_of_lsp(1, 5, true), off);
        assert_eq!(f.line_text(3), "bb: 2");
    }

    /// Every span (empty, within a line, across lines, at the end) and every context
    /// size read as miette reads the whole text: the reports stay identical to the byte.
    #[test]
    fn span_contents_are_those_of_miettes_own_reading() {
        use miette::SourceCode as _;
        for text in [
            "a: 1\nb:\n  c: 2\n\n  d: [x, y]\ne: 3\n",
            "a: 1\r\nb: 2\r\n\r\nc: 3",
            "a: 1\rb: 2\nc: 3\n",
            "\n\n\nx\n",
            "k: é😀\nv: 1\n",
            "",
        ] {
            let file = SourceFile::new("f.yaml", text);
            let named = miette::NamedSource::new("f.yaml", text.to_string()).with_language("yaml");
            for offset in 0..=text.len() {
                for len in 0..=text.len() - offset {
                    let span = miette::SourceSpan::new(offset.into(), len);
                    for context in 0..4 {
                        let ours = file.read_span(&span, context, context);
                        let theirs = named.read_span(&span, context, context);
                        match (ours, theirs) {
                            (Ok(a), Ok(b)) => {
                                let what = format!("{text:?} {offset}+{len} context {context}");
                                assert_eq!(a.data(), b.data(), "{what}");
                                assert_eq!(a.span(), b.span(), "{what}");
                                assert_eq!(a.line(), b.line(), "{what}");
                                assert_eq!(a.column(), b.column(), "{what}");
                                assert_eq!(a.line_count(), b.line_count(), "{what}");
                                assert_eq!(a.name(), b.name(), "{what}");
                                assert_eq!(a.language(), b.language(), "{what}");
                            }
                            (Err(_), Err(_)) => {}
                            (a, b) => panic!(
                                "{text:?} {offset}+{len}: ours ok {}, miette's ok {}",
                                a.is_ok(),
                                b.is_ok()
                            ),
                        }
                    }
                }
            }
        }
    }
}
