//! The fuzz targets' bodies over the committed seeds and every crash the fuzzer found, on the
//! ordinary test harness: `fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`, and for `lint`
//! and `lsp_edit` the repository's fixtures and examples too. Crashes not fixed yet are in
//! `fuzz/regressions/open/`, each with an ignored test below; once fixed, the input moves to
//! `fuzz/regressions/<target>/` and its test goes. See docs/hardening.md.
//!
//! The bodies live in fuzz/src/lib.rs (the fuzz crate is outside the workspace, built by
//! cargo-fuzz); this file compiles the same source against the same crates.
#![cfg(all(feature = "lsp", feature = "serve"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod bodies;

/// Every file under `dirs`, sorted, recursively.
fn inputs(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in dirs.iter().filter(|d| d.is_dir()) {
        for e in walkdir::WalkDir::new(d).sort_by_file_name() {
            let e = e.unwrap();
            if e.file_type().is_file() && e.file_name() != "README.md" {
                out.push(e.into_path());
            }
        }
    }
    out
}

/// Runs a body over each input, each under `catch_unwind`, and reports every failing input at
/// once (with the panic message) rather than the first.
fn replay(target: &str, body: fn(&[u8]), extra: &[&str]) {
    let repo = bodies::repo();
    let mut dirs = vec![
        repo.join("fuzz/seeds").join(target),
        repo.join("fuzz/regressions").join(target),
    ];
    dirs.extend(extra.iter().map(|d| repo.join(d)));
    let files = inputs(&dirs);
    assert!(!files.is_empty(), "no inputs for {target}");
    let mut failed = Vec::new();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        if let Err(e) = std::panic::catch_unwind(|| body(&data)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {msg}", rel(&repo, f)));
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs fail:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

fn rel(repo: &Path, f: &Path) -> String {
    f.strip_prefix(repo).unwrap_or(f).display().to_string()
}

const FIXTURES: &[&str] = &["rules/fixtures", "cli/tests/fixtures", "examples"];

#[test]
fn lint_seeds_and_regressions() {
    replay("lint", bodies::lint, FIXTURES);
}

#[test]
fn admission_seeds_and_regressions() {
    replay("admission", bodies::admission, &["examples/admission"]);
}

#[test]
fn config_seeds_and_regressions() {
    replay("config", bodies::config, &[]);
}

#[test]
fn lsp_edit_seeds_and_regressions() {
    replay("lsp_edit", bodies::lsp_edit, FIXTURES);
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// 379 bytes of nested aliases: under `Budget::GENEROUS` they expanded to its 50 million nodes,
/// each a copy, over 2 GiB resident (libFuzzer's limit) for a file `canarylint check` or the
/// editor reads. Aliases now have an expansion budget of their own.
#[test]
fn lint_alias_bomb_stays_under_a_gib() {
    let input = bodies::repo().join("fuzz/regressions/lint/alias-bomb-generous-budget.yaml");
    bodies::lint(&std::fs::read(input).unwrap());
    if let Some(kib) = peak_rss_kib() {
        assert!(kib < 1 << 20, "peak resident memory {} MiB", kib >> 10);
    }
}
