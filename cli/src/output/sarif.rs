//! `--format sarif`: a SARIF 2.1.0 log for GitHub code scanning and other SARIF viewers.
//!
//! One run whose driver lists every rule (id = code, name = slug, descriptions and help from
//! the rule's documentation), and one result per finding with its region. Lines and columns
//! are 1-based and columns count characters (`columnKind: unicodeCodePoints`); `endColumn` is
//! the column after the last character, as SARIF defines it. File locations are relative to
//! the working directory, with forward slashes, so that code scanning matches them to the
//! repository. A run without findings still has `results: []`.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

use canarylint::{Finding, LintRun, RuleMeta, Severity, SourceFile};
use serde_sarif::sarif::{
    ArtifactChange, ArtifactContent, ArtifactLocation, Fix, Invocation, Location, Message,
    MultiformatMessageString, Notification, PhysicalLocation, PropertyBag, Region, Replacement,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent,
};

use super::repo_path;

/// The schema the log declares.
pub const SCHEMA_URL: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where canarylint lives (the driver's `informationUri`).
pub const INFORMATION_URI: &str = "https://github.com/canarylint/canarylint";

/// What goes into the log besides the run's findings.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Every rule, listed in the driver whether it fired or not.
    pub rules: &'a [&'static RuleMeta],
    /// The directory file locations are made relative to.
    pub cwd: Option<&'a Path>,
    /// Inputs that could not be read (they make the run unsuccessful).
    pub input_errors: &'a [String],
    /// Where the texts the run let go are read again (for the regions of labels and fixes).
    pub reread: Option<&'a dyn canarylint::Reread>,
}

/// Writes the log as pretty-printed JSON and a newline.
pub fn write(out: &mut impl Write, run: &LintRun, opts: Options<'_>) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(run, opts))?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The SARIF log of a run.
pub fn log(run: &LintRun, opts: Options<'_>) -> Sarif {
    // The registry, then any rule a finding names that the registry does not list (the
    // linter's own internal-error rule), so that every result has its rule.
    let mut rules: Vec<&'static RuleMeta> = opts.rules.to_vec();
    for f in &run.findings {
        if !rules.iter().any(|m| m.code == f.rule.code) {
            rules.push(f.rule);
        }
    }
    let index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, m)| (m.code, i)).collect();
    let registered = |m: &RuleMeta| opts.rules.iter().any(|r| r.code == m.code);
    let texts = super::Texts::new(run, opts.reread);
    // Findings come sorted by file: each text is read (again) once.
    let mut last: Option<(&str, Option<std::sync::Arc<SourceFile>>)> = None;

    let driver = ToolComponent::builder()
        .name("canarylint")
        .version(canarylint::VERSION)
        .semantic_version(canarylint::VERSION)
        .information_uri(INFORMATION_URI)
        .rules(
            rules
                .iter()
                .map(|m| descriptor(m, registered(m)))
                .collect::<Vec<_>>(),
        )
        .build();

    let results: Vec<SarifResult> = run
        .findings
        .iter()
        .map(|f| {
            if last.as_ref().is_none_or(|(name, _)| *name != &*f.file) {
                last = Some((&f.file, texts.get(&f.file)));
            }
            let source = last.as_ref().and_then(|(_, s)| s.as_deref());
            result(f, index.get(f.rule.code).copied(), source, opts.cwd)
        })
        .collect();

    let mut invocation = Invocation::builder()
        .execution_successful(opts.input_errors.is_empty())
        .build();
    if !opts.input_errors.is_empty() {
        invocation.tool_execution_notifications = Some(
            opts.input_errors
                .iter()
                .map(|e| {
                    Notification::builder()
                        .level(serde_json::Value::from("error"))
                        .message(text(e.clone()))
                        .build()
                })
                .collect(),
        );
    }

    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation])
        .column_kind(serde_json::Value::from("unicodeCodePoints"))
        .build();
    Sarif::builder()
        .schema(SCHEMA_URL)
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build()
}

/// SARIF's name for a severity.
pub fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn level_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn text(s: impl Into<String>) -> Message {
    Message::builder().text(s.into()).build()
}

/// The first paragraph of the rule's "What it does", on one line.
pub fn full_description(meta: &RuleMeta) -> String {
    let section = meta.section("What it does").unwrap_or_default();
    let first = section.split("\n\n").next().unwrap_or_default();
    let joined = first.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        meta.summary.to_string()
    } else {
        joined
    }
}

/// A rule's metadata: its code and slug, descriptions, documentation and default level.
fn descriptor(meta: &'static RuleMeta, registered: bool) -> ReportingDescriptor {
    let docs = meta.explanation();
    let docs = docs.trim();
    let help_text = if docs.is_empty() {
        meta.summary.to_string()
    } else {
        docs.to_string()
    };
    let markdown = if registered {
        format!("{help_text}\n\n[Documentation]({})", meta.url())
    } else {
        help_text.clone()
    };
    let mut properties = BTreeMap::new();
    properties.insert(
        "fixAvailability".to_string(),
        serde_json::to_value(meta.fix).unwrap_or_default(),
    );
    properties.insert(
        "suppressible".to_string(),
        serde_json::Value::Bool(meta.suppressible),
    );
    let mut d = ReportingDescriptor::builder()
        .id(meta.code)
        .name(meta.slug)
        .short_description(
            MultiformatMessageString::builder()
                .text(meta.summary)
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(full_description(meta))
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(markdown)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::Value::from(level_name(meta.severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build();
    // Rules outside the registry have no page.
    if registered {
        d.help_uri = Some(meta.url());
    }
    d
}

/// A file's location: relative to the working directory, or a `file://` URI outside it.
fn artifact(file: &str, cwd: Option<&Path>) -> ArtifactLocation {
    ArtifactLocation::builder()
        .uri(uri_reference(&repo_path(file, cwd)))
        .build()
}

/// A region from 1-based lines and columns.
fn region(start: canarylint::LineCol, end: canarylint::LineCol) -> Region {
    // A span that ends before it starts cannot be shown; keep its start.
    let end = if end < start { start } else { end };
    Region::builder()
        .start_line(i64::from(start.line))
        .start_column(i64::from(start.column))
        .end_line(i64::from(end.line))
        .end_column(i64::from(end.column))
        .build()
}

fn location(
    file: &str,
    start: canarylint::LineCol,
    end: canarylint::LineCol,
    cwd: Option<&Path>,
    message: Option<&str>,
) -> Location {
    let mut l = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact(file, cwd))
                .region(region(start, end))
                .build(),
        )
        .build();
    l.message = message.map(text);
    l
}

/// The message shown for a finding: what is wrong, then how to fix it.
pub fn message(f: &Finding) -> String {
    match &f.help {
        Some(help) if !help.is_empty() => format!("{}\nhelp: {help}", f.message),
        _ => f.message.clone(),
    }
}

fn result(
    f: &Finding,
    rule_index: Option<usize>,
    source: Option<&SourceFile>,
    cwd: Option<&Path>,
) -> SarifResult {
    let mut r = SarifResult::builder()
        .rule_id(f.rule.code)
        .level(level(f.severity))
        .message(text(message(f)))
        .locations(vec![location(&f.file, f.start, f.end, cwd, None)])
        .build();
    r.rule_index = rule_index.and_then(|i| i64::try_from(i).ok());

    let mut related = Vec::new();
    if let Some(source) = source {
        for l in &f.labels {
            related.push(location(
                &f.file,
                source.line_col(l.span.start),
                source.line_col(l.span.end),
                cwd,
                Some(&l.message),
            ));
        }
    }
    for rel in &f.related {
        if let Some(at) = &rel.location {
            related.push(location(
                &at.file,
                at.start,
                at.end,
                cwd,
                Some(&rel.message),
            ));
        }
    }
    if !related.is_empty() {
        for (i, l) in related.iter_mut().enumerate() {
            l.id = i64::try_from(i).ok();
        }
        r.related_locations = Some(related);
    }

    if let (Some(fix), Some(source)) = (&f.fix, source) {
        let replacements = fix
            .edits
            .iter()
            .map(|e| {
                Replacement::builder()
                    .deleted_region(region(
                        source.line_col(e.span.start),
                        source.line_col(e.span.end),
                    ))
                    .inserted_content(
                        ArtifactContent::builder()
                            .text(e.replacement.clone())
                            .build(),
                    )
                    .build()
            })
            .collect::<Vec<_>>();
        r.fixes = Some(vec![
            Fix::builder()
                .description(text(fix.title.clone()))
                .artifact_changes(vec![
                    ArtifactChange::builder()
                        .artifact_location(artifact(&f.file, cwd))
                        .replacements(replacements)
                        .build(),
                ])
                .build(),
        ]);
    }

    let mut properties = BTreeMap::new();
    if !f.path.is_empty() {
        properties.insert("path".to_string(), serde_json::Value::from(f.path.clone()));
    }
    if let Some(res) = &f.resource {
        properties.insert(
            "resource".to_string(),
            serde_json::to_value(res).unwrap_or_default(),
        );
    }
    if !properties.is_empty() {
        r.properties = Some(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        );
    }
    r
}

/// A path as a URI reference: relative paths stay relative, absolute ones become `file://`
/// URIs; characters a URI cannot hold are percent-encoded (`<stdin>` is `%3Cstdin%3E`).
pub fn uri_reference(path: &str) -> String {
    let (prefix, rest) = if let Some(rest) = path.strip_prefix('/') {
        ("file:///", rest)
    } else if path.len() > 2
        && path.as_bytes()[1] == b':'
        && path.as_bytes()[0].is_ascii_alphabetic()
        && path.as_bytes()[2] == b'/'
    {
        // A Windows drive: `C:/work/x.yaml`.
        ("file:///", path)
    } else {
        ("", path)
    };
    let mut out = String::with_capacity(prefix.len() + rest.len());
    out.push_str(prefix);
    for (i, b) in rest.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            )
            // The colon of a drive letter in a file URI.
            || (b == b':' && !prefix.is_empty() && i == 1);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_references() {
        assert_eq!(uri_reference("deploy/canary.yaml"), "deploy/canary.yaml");
        assert_eq!(uri_reference("my apps/c#1.yaml"), "my%20apps/c%231.yaml");
        assert_eq!(uri_reference("/abs/c.yaml"), "file:///abs/c.yaml");
        assert_eq!(uri_reference("C:/work/c.yaml"), "file:///C:/work/c.yaml");
        assert_eq!(uri_reference("a:b.yaml"), "a%3Ab.yaml");
        assert_eq!(uri_reference("<stdin>"), "%3Cstdin%3E");
        assert_eq!(uri_reference("100%.yaml"), "100%25.yaml");
        assert_eq!(uri_reference("caf\u{e9}.yaml"), "caf%C3%A9.yaml");
    }
}
