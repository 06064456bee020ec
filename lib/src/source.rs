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
}

impl SourceFile {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        SourceFile {
            name: name.into(),
            text,
            line_starts: std::sync::OnceLock::new(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
