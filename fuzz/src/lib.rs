//! The bodies of the fuzz targets.
//!
//! Each target in `fuzz_targets/` is one call into this file, and `cli/tests/fuzz.rs` includes
//! this same file to replay the committed seeds and every crash ever found under the ordinary
//! test harness: a crash fixed once stays fixed on stable CI, without libFuzzer.
//!
//! A body returns normally or panics. Besides the panics of the code under test, each checks the
//! invariants every front end relies on: spans inside the text and on character boundaries,
//! findings sorted, no rule failing (CL999, which `Linter` otherwise turns a panic into), fixes
//! that apply cleanly, LSP ranges inside the document.
#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use canarylint::config::Config;
use canarylint::{
    Applicability, Budget, Edit, Finding, Inventory, Linter, ParsedFile, RuleMeta, SourceFile,
    Span, read,
};
use canarylint_cli::lsp::convert::{self, Encoding, Files};
use canarylint_cli::lsp::{actions, server, workspace};
use canarylint_server::admission::{MAX_WARNINGS, State, WARNING_MAX_CHARS};
use canarylint_server::inventory::SharedInventory;
use canarylint_server::options::DEFAULT_BODY_LIMIT;
use canarylint_server::{Policy, review};
use canarylint_workspace::files::load_context;
use miette::{GraphicalReportHandler, GraphicalTheme};
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

/// The code `Linter` reports a panicking rule under.
const INTERNAL_ERROR: &str = "CL999";

/// The name the fuzzed text goes by; YAML, so that comment-based quick fixes are offered.
const NAME: &str = "fuzz.yaml";

fn linter() -> &'static Linter {
    static LINTER: OnceLock<Linter> = OnceLock::new();
    LINTER.get_or_init(|| Linter::new(canarylint_rules::ALL))
}

fn metas() -> &'static [&'static RuleMeta] {
    static METAS: OnceLock<Vec<&'static RuleMeta>> = OnceLock::new();
    METAS.get_or_init(|| canarylint_rules::ALL.iter().map(|r| r.meta()).collect())
}

/// The root of the repository.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared reference data (Flagger's examples), where the workspace tests find it.
fn shared() -> Option<PathBuf> {
    let p = match std::env::var_os("CANARYLINT_SHARED") {
        Some(p) => PathBuf::from(p),
        None => repo().join("../shared"),
    };
    p.is_dir().then_some(p)
}

/// Makes the calling thread rayon's only worker, so that `Linter::lint_sources` runs inline
/// instead of waking a pool for every input (the fuzzer runs on one core). Only for the fuzz
/// binaries: under the test harness other threads would wait on this one.
pub fn init_single_thread() {
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build_global();
}

// ---------------------------------------------------------------------------------------------
// lint: arbitrary bytes, read and linted as the CLI and the webhook do.

/// Arbitrary bytes as a file given to `canarylint check`, then as a request body's object.
pub fn lint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Arc::new(SourceFile::new(NAME, text));
    // The CLI's path, whole: read, index, lint, sort.
    let run = linter().lint_sources(vec![source.clone()], Vec::new(), &Budget::GENEROUS);
    for file in &run.files {
        check_parsed(file);
    }
    check_findings(&run.findings, &source);
    render(&run.findings, &source);
    // The tight limits of network input, step by step as `lint_sources` takes them.
    let file = read(source.clone(), &Budget::STRICT);
    check_parsed(&file);
    let mut inventory = Inventory::new();
    inventory.add_file(&file, &linter().settings.default_namespace, true);
    let findings = linter().lint_file(&file, &inventory);
    check_findings(&findings, &source);
    check_fixes(&findings, &file);
}

fn check_span(source: &SourceFile, span: Span, what: &str) {
    let text = &source.text;
    assert!(
        span.start <= span.end && span.end as usize <= text.len(),
        "{what}: span {}..{} outside a text of {} bytes",
        span.start,
        span.end,
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start as usize) && text.is_char_boundary(span.end as usize),
        "{what}: span {}..{} splits a character",
        span.start,
        span.end
    );
}

fn check_parsed(file: &ParsedFile) {
    for doc in &file.documents {
        check_span(&file.source, doc.span, "document");
    }
    for p in &file.problems {
        check_span(&file.source, p.span, &format!("problem `{}`", p.message));
        if let Some(first) = p.first {
            check_span(&file.source, first, "first occurrence of a duplicate");
        }
    }
}

fn check_findings(findings: &[Finding], source: &SourceFile) {
    for f in findings {
        assert_ne!(
            f.code(),
            INTERNAL_ERROR,
            "a rule failed: {} ({:?})",
            f.message,
            f.path
        );
        if *f.file != *source.name {
            continue;
        }
        let what = format!("{} {}", f.code(), f.message);
        check_span(source, f.span, &what);
        assert_eq!(f.start, source.line_col(f.span.start), "{what}: start");
        assert_eq!(f.end, source.line_col(f.span.end), "{what}: end");
        for l in &f.labels {
            check_span(source, l.span, &format!("{what}: label `{}`", l.message));
        }
        for r in &f.related {
            if let Some(loc) = r.location.as_ref().filter(|l| *l.file == *source.name) {
                check_span(
                    source,
                    loc.span,
                    &format!("{what}: related `{}`", r.message),
                );
            }
        }
        if let Some(fix) = &f.fix {
            check_edits(source, &fix.edits, &what);
        }
    }
    for pair in findings.windows(2) {
        assert!(
            pair[0].sort_key() <= pair[1].sort_key(),
            "findings out of order: {:?} before {:?}",
            pair[0].sort_key(),
            pair[1].sort_key()
        );
    }
}

/// Edits in bounds, on character boundaries, and not overlapping (so any order applies them).
fn check_edits(source: &SourceFile, edits: &[Edit], what: &str) {
    let mut spans: Vec<Span> = edits.iter().map(|e| e.span).collect();
    for s in &spans {
        check_span(source, *s, &format!("{what}: edit"));
    }
    spans.sort_by_key(|s| (s.start, s.end));
    for pair in spans.windows(2) {
        assert!(
            pair[0].end <= pair[1].start,
            "{what}: edits {}..{} and {}..{} overlap",
            pair[0].start,
            pair[0].end,
            pair[1].start,
            pair[1].end
        );
    }
}

/// Byte-range edits applied to a text (already checked by [`check_edits`]).
fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut edits: Vec<&Edit> = edits.iter().collect();
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0usize;
    for e in edits {
        out.push_str(&text[at..e.span.start as usize]);
        out.push_str(&e.replacement);
        at = e.span.end as usize;
    }
    out.push_str(&text[at..]);
    out
}

/// A safe fix of a file that read without problems must leave a file that still does.
fn check_fixes(findings: &[Finding], file: &ParsedFile) {
    if !file.problems.is_empty() {
        return;
    }
    for f in findings {
        let Some(fix) = f
            .fix
            .as_ref()
            .filter(|x| x.applicability == Applicability::Safe)
        else {
            continue;
        };
        let fixed = apply_edits(&file.source.text, &fix.edits);
        let after = read(
            Arc::new(SourceFile::new(NAME, fixed.as_str())),
            &Budget::STRICT,
        );
        assert!(
            after.problems.is_empty(),
            "the fix `{}` of {} leaves an unreadable file: {:?}\n---\n{fixed}",
            fix.title,
            f.code(),
            after.problems.first().map(|p| &p.message)
        );
    }
}

/// Draws the findings as `canarylint check` does, to a string.
fn render(findings: &[Finding], source: &SourceFile) {
    static HANDLER: OnceLock<GraphicalReportHandler> = OnceLock::new();
    let handler = HANDLER
        .get_or_init(|| GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()));
    for f in findings {
        let shown = canarylint_cli::output::human::render(handler, f, Some(source));
        assert!(!shown.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// admission: arbitrary request bodies to the webhook's decision.

/// The webhook's state, with the repository's examples and Flagger's as `--context`.
fn admission_state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let ns = linter().settings.default_namespace.clone();
        let mut paths = vec![repo().join("examples")];
        if let Some(s) = shared() {
            paths.push(s.join("reference/flagger/examples"));
        }
        let seed = match load_context(&paths, &ns, true) {
            Ok(seed) => seed,
            Err(e) => panic!("the fuzz inventory cannot be read: {e}"),
        };
        let inventory = Arc::new(SharedInventory::new(seed.inventory, seed.namespaces));
        let mut state = State::new(
            Linter::new(canarylint_rules::ALL),
            inventory,
            Policy {
                protect_gateways: true,
                ..Policy::default()
            },
        );
        // As `canarylint serve` sets it for its default body limit.
        state.budget = Budget {
            max_bytes: Budget::STRICT
                .max_bytes
                .max(DEFAULT_BODY_LIMIT.saturating_mul(2)),
            ..Budget::STRICT
        };
        state
    })
}

/// Arbitrary bytes as the body of a POST to `/validate`: a review, or a 400 with a reason.
pub fn admission(data: &[u8]) {
    match review(data, admission_state()) {
        Ok(r) => {
            for (code, _) in &r.findings {
                assert_ne!(*code, INTERNAL_ERROR, "a rule failed on {}", r.resource);
            }
            let Some(response) = r.review.response.as_ref() else {
                panic!("a review without a response for {}", r.resource);
            };
            assert_eq!(response.uid, r.uid, "the uid is not echoed");
            if let Some(w) = &response.warnings {
                assert!(
                    w.len() <= MAX_WARNINGS,
                    "{} warnings, over {MAX_WARNINGS}",
                    w.len()
                );
                for line in w {
                    assert!(
                        line.chars().count() <= WARNING_MAX_CHARS,
                        "a warning of {} characters: {line}",
                        line.chars().count()
                    );
                }
            }
            if let Err(e) = serde_json::to_vec(&r.review) {
                panic!("the review does not serialize: {e}");
            }
        }
        Err((status, message)) => {
            assert!(status.is_client_error(), "status {status} for {message}");
            assert!(!message.is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// config: arbitrary `.canarylint.yaml`.

/// The shop example, linted under each configuration that loads.
const SHOP: &str = concat!(
    include_str!("../../examples/shop/canaries.yaml"),
    "\n---\n",
    include_str!("../../examples/shop/deployments.yaml"),
    "\n---\n",
    include_str!("../../examples/istio/gateway.yaml"),
);

/// Arbitrary bytes as `.canarylint.yaml`: errors with places in the file, or a configuration
/// the linter runs with.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = SourceFile::new(".canarylint.yaml", text);
    match Config::parse(".canarylint.yaml", text, metas()) {
        Err(errors) => {
            assert!(
                !errors.is_empty(),
                "a configuration refused without a reason"
            );
            for e in &errors {
                assert!(
                    e.at.line >= 1 && e.at.line <= source.line_count() && e.at.column >= 1,
                    "error `{}` at {}:{} of a {}-line file",
                    e.message,
                    e.at.line,
                    e.at.column,
                    source.line_count()
                );
                assert!(!e.to_string().is_empty());
            }
        }
        Ok(config) => {
            let linter = Linter::new(canarylint_rules::ALL).with_config(config);
            let shop = Arc::new(SourceFile::new("shop.yaml", SHOP));
            let run = linter.lint_sources(vec![shop.clone()], Vec::new(), &Budget::GENEROUS);
            check_findings(&run.findings, &shop);
            for f in linter.unused_config_ignores() {
                let Some(src) = linter.config.source.as_ref() else {
                    panic!("an unused ignore entry without its file");
                };
                check_span(src, f.span, "unused ignore entry");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// lsp_edit: a document edited through the language server's change path, then linted.

/// The input: `<initial text> (0xFF <edit>)*`. 0xFF never occurs in UTF-8, so the seeds are
/// plain manifests and the fuzzer finds the separator on its own. An edit is
/// `<flags> <start line> <start char> <end line> <end char> <text>`, positions as u16 LE;
/// flags bit 0: replace the whole text (no range); bit 1 of the first edit: UTF-8 columns.
pub fn lsp_edit(data: &[u8]) {
    let mut parts = data.split(|b| *b == 0xFF);
    let mut text = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let edits: Vec<&[u8]> = parts.collect();
    let enc = match edits.first().and_then(|e| e.first()) {
        Some(flags) if flags & 2 != 0 => Encoding::Utf8,
        _ => Encoding::Utf16,
    };
    for raw in &edits {
        let change = decode_change(raw);
        text = server::apply_change(&text, &change, enc);
    }
    lint_document(&text, enc);
}

fn decode_change(raw: &[u8]) -> TextDocumentContentChangeEvent {
    let flags = raw.first().copied().unwrap_or(0);
    let num = |i: usize| -> u32 {
        let lo = raw.get(1 + 2 * i).copied().unwrap_or(0);
        let hi = raw.get(2 + 2 * i).copied().unwrap_or(0);
        u32::from(u16::from_le_bytes([lo, hi]))
    };
    let rest = raw.get(9..).unwrap_or_default();
    TextDocumentContentChangeEvent {
        range: (flags & 1 == 0).then(|| Range {
            start: Position::new(num(0), num(1)),
            end: Position::new(num(2), num(3)),
        }),
        range_length: None,
        text: String::from_utf8_lossy(rest).into_owned(),
    }
}

struct NoFiles;

impl Files for NoFiles {
    fn lookup(&self, _name: &str) -> Option<(Uri, Option<Arc<SourceFile>>)> {
        None
    }
}

fn check_range(source: &SourceFile, range: &Range, what: &str) {
    let le = |a: &Position, b: &Position| (a.line, a.character) <= (b.line, b.character);
    assert!(
        le(&range.start, &range.end),
        "{what}: range {range:?} ends before it starts"
    );
    assert!(
        range.end.line < source.line_count(),
        "{what}: range {range:?} past the last line ({})",
        source.line_count()
    );
}

/// What the server does with a document's text: read, lint against the document's own
/// objects, turn findings into diagnostics and quick fixes; then applies every quick fix as a
/// client would, through the change path, and checks it edits the text it meant to.
fn lint_document(text: &str, enc: Encoding) {
    let source = Arc::new(SourceFile::new(NAME, text));
    let parsed = read(source.clone(), &Budget::GENEROUS);
    check_parsed(&parsed);
    let ns = workspace::default_namespace();
    let mut inventory = Inventory::new();
    for o in workspace::objects_of(&parsed, &ns) {
        inventory.insert(o);
    }
    let findings = linter().lint_file(&parsed, &inventory);
    check_findings(&findings, &source);
    let uri = match convert::uri_of_name("/fuzz/fuzz.yaml") {
        Some(u) => u,
        None => panic!("no URI for a plain path"),
    };
    let mut seen: HashSet<String> = HashSet::new();
    for f in &findings {
        let d = convert::diagnostic(f, &uri, &source, enc, &NoFiles);
        check_range(&source, &d.range, f.code());
        for r in d.related_information.iter().flatten() {
            check_range(&source, &r.location.range, f.code());
        }
        for action in actions::for_finding(f, &parsed, false) {
            let what = format!("{}: {}", f.code(), action.title);
            check_edits(&source, &action.edits, &what);
            if !seen.insert(what.clone()) {
                continue;
            }
            let direct = apply_edits(text, &action.edits);
            let mut edits = action.edits.clone();
            // Back to front, so that each range still means what it meant in the original.
            edits.sort_by_key(|e| std::cmp::Reverse((e.span.start, e.span.end)));
            let mut via_lsp = text.to_string();
            for e in &edits {
                let te = convert::text_edit(&source, e, enc);
                check_range(&source, &te.range, &what);
                let change = TextDocumentContentChangeEvent {
                    range: Some(te.range),
                    range_length: None,
                    text: te.new_text,
                };
                via_lsp = server::apply_change(&via_lsp, &change, enc);
            }
            assert_eq!(
                via_lsp, direct,
                "{what}: the edit sent to the client does not change what the fix changes"
            );
        }
    }
}
