//! Readable output: one graphical report per finding, then a summary line.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use canarylint::{Finding, FindingReport, LintRun, Severity, SourceFile};
use miette::{GraphicalReportHandler, GraphicalTheme};
use rayon::prelude::*;

use super::{Summary, Texts};

/// Findings rendered together: enough to keep every thread busy, few enough to stay small.
const RENDER_CHUNK: usize = 512;

/// How human output looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Colour the reports (ANSI escapes).
    pub color: bool,
    /// Only findings of severity error, and the summary line.
    pub quiet: bool,
}

/// Writes the reports of a run and its summary line.
pub fn write(
    out: &mut impl Write,
    run: &LintRun,
    texts: &Texts<'_>,
    summary: &Summary,
    opts: Options,
) -> io::Result<()> {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme);
    let shown: Vec<&Finding> = run
        .findings
        .iter()
        .filter(|f| !opts.quiet || f.severity == Severity::Error)
        .collect();
    // Standard output is line-buffered: one system call per line of a report, without this.
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    // Rendered in parallel a chunk at a time, written in the findings' order: the first
    // reports appear at once and a large run never holds all its reports in memory.
    for chunk in shown.chunks(RENDER_CHUNK) {
        // Only the texts of this chunk's files are held (read again if the run let them go).
        let mut files: Vec<&str> = chunk.iter().map(|f| &*f.file).collect();
        files.dedup();
        let sources: HashMap<&str, Arc<SourceFile>> = files
            .par_iter()
            .filter_map(|&name| Some((name, texts.get(name)?)))
            .collect();
        let rendered: Vec<String> = chunk
            .par_iter()
            .map(|f| render(&handler, f, sources.get(&*f.file).map(|s| &**s)))
            .collect();
        for report in rendered {
            out.write_all(report.as_bytes())?;
            if !report.ends_with("\n\n") {
                out.write_all(b"\n")?;
            }
        }
    }
    writeln!(out, "{}", summary.line())?;
    out.flush()
}

/// One finding as miette draws it; a plain line should drawing ever fail.
pub fn render(
    handler: &GraphicalReportHandler,
    finding: &Finding,
    source: Option<&SourceFile>,
) -> String {
    let report = FindingReport::new(finding, source);
    let mut s = String::new();
    if handler.render_report(&mut s, &report).is_ok() {
        return s;
    }
    format!(
        "{}:{}:{}: {} {} {}: {}\n",
        finding.file,
        finding.start.line,
        finding.start.column,
        finding.severity,
        finding.rule.code,
        finding.rule.slug,
        finding.message
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use canarylint::{Budget, Linter};
    use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

    use super::*;

    /// A finding rendered the way miette reads a plain text: from its first byte.
    struct Reference<'a> {
        report: FindingReport<'a>,
        named: NamedSource<Arc<str>>,
    }

    impl std::fmt::Debug for Reference<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            std::fmt::Debug::fmt(&self.report, f)
        }
    }
    impl std::fmt::Display for Reference<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            std::fmt::Display::fmt(&self.report, f)
        }
    }
    impl std::error::Error for Reference<'_> {}
    impl Diagnostic for Reference<'_> {
        fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
            self.report.code()
        }
        fn severity(&self) -> Option<miette::Severity> {
            self.report.severity()
        }
        fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
            self.report.help()
        }
        fn source_code(&self) -> Option<&dyn SourceCode> {
            Some(&self.named)
        }
        fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
            self.report.labels()
        }
    }

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.unwrap();
            let ext = entry.path().extension().and_then(|e| e.to_str());
            if matches!(ext, Some("yaml" | "yml")) {
                out.push(entry.into_path());
            }
        }
    }

    /// Every finding of the repository's examples and fixtures (and of
    /// `CANARYLINT_HUMAN_EQUIVALENCE_CORPUS`, a directory, when set) renders to the same bytes,
    /// in colour and without, as when miette reads the source from its first byte.
    #[test]
    fn reports_are_those_of_miettes_own_source_reading() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut paths = Vec::new();
        for dir in ["examples", "cli/tests/fixtures", "rules/fixtures"] {
            yaml_files(&root.join(dir), &mut paths);
        }
        if let Some(dir) = std::env::var_os("CANARYLINT_HUMAN_EQUIVALENCE_CORPUS") {
            yaml_files(Path::new(&dir), &mut paths);
        }
        let sources: Vec<Arc<SourceFile>> = paths
            .iter()
            .filter_map(|p| {
                let text = std::fs::read_to_string(p).ok()?;
                Some(Arc::new(SourceFile::new(p.display().to_string(), text)))
            })
            .collect();
        let by_name: HashMap<&str, &SourceFile> =
            sources.iter().map(|s| (&*s.name, &**s)).collect();
        let run = Linter::new(canarylint_rules::ALL).lint_sources(
            sources.clone(),
            Vec::new(),
            &Budget::default(),
        );
        assert!(run.findings.len() > 20, "{} findings", run.findings.len());
        for theme in [GraphicalTheme::unicode(), GraphicalTheme::unicode_nocolor()] {
            let handler = GraphicalReportHandler::new_themed(theme);
            for f in &run.findings {
                let source = by_name.get(&*f.file).copied();
                let ours = render(&handler, f, source);
                let Some(source) = source else { continue };
                let reference = Reference {
                    report: FindingReport::new(f, Some(source)),
                    named: NamedSource::new(&source.name, source.text.clone())
                        .with_language("yaml"),
                };
                let mut theirs = String::new();
                handler.render_report(&mut theirs, &reference).unwrap();
                assert_eq!(ours, theirs, "{}:{}", f.file, f.start.line);
            }
        }
    }
}
