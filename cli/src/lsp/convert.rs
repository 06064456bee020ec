//! Between the engine's byte spans and file names and the protocol's positions and URIs.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use canarylint::{Edit, Finding, Severity, SourceFile, Span};
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, Range, TextEdit, Uri,
};

/// The `source` of every diagnostic.
pub const SOURCE: &str = "canarylint";

/// How columns are counted: UTF-16 code units (the protocol's default) or UTF-8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf16,
    Utf8,
}

impl Encoding {
    fn utf16(self) -> bool {
        self == Encoding::Utf16
    }
}

/// The position of a byte offset.
pub fn position(source: &SourceFile, offset: u32, enc: Encoding) -> Position {
    let (line, character) = source.lsp_position(offset, enc.utf16());
    Position { line, character }
}

/// The range of a byte span.
pub fn range(source: &SourceFile, span: Span, enc: Encoding) -> Range {
    Range {
        start: position(source, span.start, enc),
        end: position(source, span.end.max(span.start), enc),
    }
}

/// The byte offset of a position (clamped to its line and to the text).
pub fn offset(source: &SourceFile, pos: Position, enc: Encoding) -> u32 {
    source.offset_of_lsp(pos.line, pos.character, enc.utf16())
}

/// The byte span of a range.
pub fn span(source: &SourceFile, range: Range, enc: Encoding) -> Span {
    let start = offset(source, range.start, enc);
    let end = offset(source, range.end, enc);
    Span::new(start.min(end), end.max(start))
}

/// A byte-range edit as a protocol edit.
pub fn text_edit(source: &SourceFile, edit: &Edit, enc: Encoding) -> TextEdit {
    TextEdit {
        range: range(source, edit.span, enc),
        new_text: edit.replacement.clone(),
    }
}

/// The name a document is known by in findings: its path for `file:` URIs, else the URI.
pub fn file_name(uri: &Uri) -> String {
    match file_path(uri) {
        Some(p) => p.display().to_string(),
        None => uri.as_str().to_string(),
    }
}

/// The local path of a `file:` URI.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    let scheme = uri.scheme().as_str();
    if !scheme.eq_ignore_ascii_case("file") {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

/// The URI of a file name as [`file_name`] makes them.
pub fn uri_of_name(name: &str) -> Option<Uri> {
    let path = Path::new(name);
    if path.is_absolute() {
        Uri::from_file_path(path)
    } else {
        Uri::from_str(name).ok()
    }
}

/// Looks up the text and the URI of a file a finding points into.
pub trait Files {
    /// The URI and, when known, the text of the file with this name.
    fn lookup(&self, name: &str) -> Option<(Uri, Option<Arc<SourceFile>>)>;
}

/// A finding as a diagnostic of the document `source`.
pub fn diagnostic(
    f: &Finding,
    uri: &Uri,
    source: &SourceFile,
    enc: Encoding,
    files: &dyn Files,
) -> Diagnostic {
    let mut message = f.message.clone();
    if let Some(help) = &f.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut related = Vec::new();
    for label in &f.labels {
        related.push(DiagnosticRelatedInformation {
            location: Location {
                uri: uri.clone(),
                range: range(source, label.span, enc),
            },
            message: label.message.clone(),
        });
    }
    for r in &f.related {
        let place = r.location.as_ref().and_then(|loc| {
            let (target, text) = files.lookup(&loc.file)?;
            let range = match text {
                Some(text) => range(&text, loc.span, enc),
                // Without the text, character columns are the best guess.
                None => Range {
                    start: Position::new(
                        loc.start.line.saturating_sub(1),
                        loc.start.column.saturating_sub(1),
                    ),
                    end: Position::new(
                        loc.end.line.saturating_sub(1),
                        loc.end.column.saturating_sub(1),
                    ),
                },
            };
            Some(Location { uri: target, range })
        });
        match place {
            Some(location) => related.push(DiagnosticRelatedInformation {
                location,
                message: r.message.clone(),
            }),
            None => {
                message.push_str("\nsee: ");
                message.push_str(&r.message);
            }
        }
    }
    Diagnostic {
        range: range(source, f.span, enc),
        severity: Some(severity(f.severity)),
        code: Some(NumberOrString::String(f.rule.code.to_string())),
        code_description: Uri::from_str(&f.rule.url())
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// Whether two ranges share at least one position (an empty range touching the other counts).
pub fn overlaps(a: &Range, b: &Range) -> bool {
    let le = |x: &Position, y: &Position| (x.line, x.character) <= (y.line, y.character);
    le(&a.start, &b.end) && le(&b.start, &a.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_or_bytes() {
        let src = SourceFile::new("x", "# 😀 é\nstepWeight: 60\n# é😀\nb: 1");
        let off = src.text.find("60").unwrap() as u32;
        assert_eq!(position(&src, off, Encoding::Utf16), Position::new(1, 12));
        let line3 = src.text.find("b:").unwrap() as u32;
        assert_eq!(position(&src, line3, Encoding::Utf8), Position::new(3, 0));
        let after = src.text.find("😀\nb").unwrap() as u32 + 4;
        assert_eq!(position(&src, after, Encoding::Utf16), Position::new(2, 5));
        assert_eq!(position(&src, after, Encoding::Utf8), Position::new(2, 8));
        assert_eq!(offset(&src, Position::new(2, 5), Encoding::Utf16), after);
        assert_eq!(offset(&src, Position::new(2, 8), Encoding::Utf8), after);
    }

    #[test]
    fn file_names_round_trip_through_uris() {
        let uri = Uri::from_str("file:///tmp/a%20b/canary.yaml").unwrap();
        assert_eq!(file_name(&uri), "/tmp/a b/canary.yaml");
        assert_eq!(uri_of_name("/tmp/a b/canary.yaml").unwrap(), uri);
        let untitled = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(file_name(&untitled), "untitled:Untitled-1");
        assert_eq!(uri_of_name("untitled:Untitled-1").unwrap(), untitled);
    }

    #[test]
    fn ranges_overlap_when_they_touch() {
        let r = |a, b, c, d| Range::new(Position::new(a, b), Position::new(c, d));
        assert!(overlaps(&r(1, 0, 1, 5), &r(1, 5, 1, 5)));
        assert!(overlaps(&r(0, 0, 9, 0), &r(3, 2, 3, 4)));
        assert!(!overlaps(&r(1, 0, 1, 5), &r(2, 0, 2, 1)));
    }
}
