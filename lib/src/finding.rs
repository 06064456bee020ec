//! The finding: one problem, where it is, and how to fix it. Every front end renders this.

use std::sync::Arc;

use crate::document::ResourceRef;
use crate::model::Location;
use crate::rule::{RuleMeta, Severity};
use crate::source::{LineCol, SourceFile};
use crate::tree::Span;

/// A replacement of a byte range.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// Whether a fix can be applied without a person looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    Safe,
    Unsafe,
}

/// A change that removes the finding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
    pub applicability: Applicability,
}

/// A secondary place in the same file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A place in another file (or without a file: a cluster object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub location: Option<Location>,
    pub message: String,
}

/// One problem found.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub file: Arc<str>,
    pub span: Span,
    pub start: LineCol,
    pub end: LineCol,
    /// Where in the object: `spec.analysis.stepWeight`.
    pub path: String,
    pub resource: Option<ResourceRef>,
    pub labels: Vec<Label>,
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
}

impl Finding {
    /// A finding of `rule` at `span` of `source`, at the rule's severity; the builder methods
    /// below add the rest.
    pub fn new(
        rule: &'static RuleMeta,
        source: &SourceFile,
        span: Span,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            severity: rule.severity,
            message: message.into(),
            help: None,
            file: source.name.clone(),
            span,
            start: source.line_col(span.start),
            end: source.line_col(span.end),
            path: String::new(),
            resource: None,
            labels: Vec::new(),
            related: Vec::new(),
            fix: None,
        }
    }

    /// How to fix it: one imperative sentence.
    pub fn with_help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    /// Where in the object, as findings print it (`spec.analysis.stepWeight`).
    pub fn with_path(mut self, path: impl Into<String>) -> Finding {
        self.path = path.into();
        self
    }

    /// The object the finding is about.
    pub fn with_resource(mut self, resource: Option<ResourceRef>) -> Finding {
        self.resource = resource;
        self
    }

    /// A severity other than the rule's.
    pub fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    pub fn code(&self) -> &'static str {
        self.rule.code
    }
    pub fn slug(&self) -> &'static str {
        self.rule.slug
    }

    /// The order every output uses: file, line, column, code.
    pub fn sort_key(&self) -> (&str, u32, u32, &'static str, &str) {
        (
            &self.file,
            self.start.line,
            self.start.column,
            self.rule.code,
            &self.message,
        )
    }
}

/// Sorts findings by file, line, column and code, and drops exact duplicates.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key() && a.path == b.path);
}

/// A finding together with its source text, for miette's renderers.
pub struct FindingReport<'a> {
    pub finding: &'a Finding,
    pub source: Option<miette::NamedSource<Arc<str>>>,
    related: Vec<RelatedReport>,
}

impl<'a> FindingReport<'a> {
    pub fn new(finding: &'a Finding, source: Option<&SourceFile>) -> Self {
        let related = finding
            .related
            .iter()
            .map(|r| RelatedReport {
                message: match &r.location {
                    Some(l) => format!(
                        "{} ({}:{}:{})",
                        r.message, l.file, l.start.line, l.start.column
                    ),
                    None => r.message.clone(),
                },
            })
            .collect();
        FindingReport {
            finding,
            source: source
                .map(|s| miette::NamedSource::new(&s.name, s.text.clone()).with_language("yaml")),
            related,
        }
    }
}

impl std::fmt::Debug for FindingReport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindingReport")
            .field("finding", &self.finding.message)
            .finish()
    }
}

impl std::fmt::Display for FindingReport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for FindingReport<'_> {}

impl miette::Diagnostic for FindingReport<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{} {}",
            self.finding.rule.code, self.finding.rule.slug
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        // Related places go under the help line: miette's own `related` prints them as
        // separate diagnostics with a severity of their own, which reads as a second problem.
        let mut text = self.finding.help.clone().unwrap_or_default();
        for r in &self.related {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str("see: ");
            text.push_str(&r.message);
        }
        (!text.is_empty()).then(|| Box::new(text) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let f = self.finding;
        let primary = miette::LabeledSpan::new_primary_with_span(
            None,
            (f.span.start as usize, f.span.len() as usize),
        );
        let rest = f.labels.iter().map(|l| {
            miette::LabeledSpan::new_with_span(
                Some(l.message.clone()),
                (l.span.start as usize, l.span.len() as usize),
            )
        });
        Some(Box::new(std::iter::once(primary).chain(rest)))
    }
}

#[derive(Debug)]
struct RelatedReport {
    message: String,
}
