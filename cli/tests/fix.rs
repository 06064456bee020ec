//! `canarylint check --fix`, `--unsafe-fixes` and `--diff`, run as users run them: the real
//! binary on real files, compared with what the real language server's quick fixes make of
//! the same text.
#![cfg(feature = "lsp")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/lsp_client.rs"]
mod lsp_client;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use canarylint::FixAvailability;
use lsp_client::{Client, apply, file_uri};

// Every fixable rule, fixed as the editor fixes it

/// A text that raises a fixable rule's finding.
struct Case {
    name: String,
    code: &'static str,
    text: String,
}

/// The fixable rules' documented examples, and their inline fail cases as the rules' tests
/// snapshot them (`rules/src/snapshots/<CODE>_<slug>.fix-cases.snap`).
fn cases() -> Vec<Case> {
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/src/snapshots");
    let mut out = Vec::new();
    for rule in canarylint_rules::ALL {
        let m = rule.meta();
        if m.fix == FixAvailability::None {
            continue;
        }
        if let Some(text) = m.example("Example") {
            out.push(Case {
                name: format!("{}-example", m.code),
                code: m.code,
                text,
            });
        }
        let path = snapshots.join(format!("{}_{}.fix-cases.snap", m.code, m.slug));
        let snap = fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}: a rule with a fix snapshots its fail cases there (run its tests)",
                path.display()
            )
        });
        // The body follows insta's header, which ends with its second `---` line.
        let body = snap
            .splitn(3, "---\n")
            .nth(2)
            .unwrap_or_else(|| panic!("{}: no snapshot header", path.display()));
        let mut found = 0;
        for (i, chunk) in body.split("=== fail case ").skip(1).enumerate() {
            let (_, text) = chunk.split_once(" ===\n").unwrap();
            out.push(Case {
                name: format!("{}-case-{i}", m.code),
                code: m.code,
                text: format!("{}\n", text.trim_end_matches('\n')),
            });
            found += 1;
        }
        assert!(found > 0, "{}: no fail case", path.display());
    }
    out
}

/// `canarylint check --no-config ARGS` in `dir`, standard input closed.
fn check_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canarylint"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .arg("check")
        .arg("--no-config")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text_of(out: &[u8]) -> String {
    String::from_utf8(out.to_vec()).unwrap()
}

/// What the language server's quick fixes make of a text: the first fix offered (in the
/// order of the findings) is applied, the document linted again, until none is offered.
/// `unsafe_fixes`: the rules' unsafe fixes too, else only the preferred (safe) ones.
fn fix_in_editor(lsp: &mut Client, uri: &str, text: &str, unsafe_fixes: bool) -> String {
    let mut text = text.to_string();
    for version in 1..30 {
        // A fresh open is linted at once; a change would wait for the debounce.
        lsp.open_version(uri, &text, version);
        lsp.diagnostics_for_version(uri, version);
        let actions = lsp.code_actions(uri, &text);
        lsp.close(uri);
        let fix = actions.iter().find(|a| {
            let title = a["title"].as_str().unwrap();
            !title.starts_with("ignore ") && (unsafe_fixes || a["isPreferred"] == true)
        });
        match fix {
            Some(fix) => text = apply(&text, fix, uri),
            None => return text,
        }
    }
    panic!("{uri}: the editor's fixes did not settle:\n{text}");
}

/// Every fixable rule's example and fail cases, with LF and with CRLF line ends: the CLI's
/// `--fix` gives byte for byte the text the editor's fixes give, keeps the line ends, and
/// a second `--fix` changes nothing.
fn fixes_match_the_editor(unsafe_fixes: bool) {
    let lsp_root = tempfile::tempdir().unwrap();
    let mut lsp = Client::start(lsp_root.path());
    let work = tempfile::tempdir().unwrap();
    let mut flags = vec!["--fix", "-q"];
    if unsafe_fixes {
        flags.push("--unsafe-fixes");
    }
    let mut failures = Vec::new();
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    let cases = cases();
    let mut runs = 0;
    for case in &cases {
        for crlf in [false, true] {
            let text = if crlf {
                case.text.replace('\n', "\r\n")
            } else {
                case.text.clone()
            };
            let name = format!("{}{}.yaml", case.name, if crlf { "-crlf" } else { "" });
            // Each case alone in its folder: the objects of one are not the inventory of
            // another.
            let dir = work.path().join(&name);
            fs::create_dir(&dir).unwrap();
            let file = dir.join(&name);
            fs::write(&file, &text).unwrap();
            let mut args = flags.clone();
            args.push(&name);
            let out = check_in(&dir, &args);
            let cli = fs::read_to_string(&file).unwrap();
            let editor = fix_in_editor(
                &mut lsp,
                &file_uri(&lsp_root.path().join(&name)),
                &text,
                unsafe_fixes,
            );
            runs += 1;
            if out.status.code() == Some(2) {
                failures.push(format!("{name}: exit 2: {}", text_of(&out.stderr)));
                continue;
            }
            if cli != editor {
                failures.push(format!(
                    "{name}: the CLI and the editor differ\n--- CLI ---\n{cli}\n--- editor ---\n{editor}"
                ));
                continue;
            }
            if crlf && cli.replace("\r\n", "").contains('\n') {
                failures.push(format!("{name}: a fix wrote a bare LF line end:\n{cli:?}"));
            }
            if cli != text {
                changed.insert(case.code);
                let summary = text_of(&out.stdout);
                if !summary.contains("fixed ") || summary.contains("nothing fixed") {
                    failures.push(format!(
                        "{name}: the summary does not count the fix: {summary}"
                    ));
                }
            }
            // Idempotence: a second run finds nothing to fix and leaves the file as it is.
            let again = check_in(&dir, &args);
            let after = fs::read_to_string(&file).unwrap();
            let summary = text_of(&again.stdout);
            if after != cli || !summary.contains("nothing fixed") {
                failures.push(format!(
                    "{name}: a second --fix changed the file or fixed something ({summary}):\n{after}"
                ));
            }
        }
    }
    lsp.shutdown();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Every fixable rule has a case its fix changes (with the unsafe ones allowed), so a fix
    // that silently stopped applying fails here.
    if unsafe_fixes {
        let fixable: BTreeSet<&str> = cases.iter().map(|c| c.code).collect();
        let missing: Vec<&&str> = fixable.difference(&changed).collect();
        assert!(missing.is_empty(), "no case of {missing:?} was fixed");
    }
    assert!(runs >= 20, "only {runs} cases ran");
}

#[test]
fn safe_fixes_match_the_editor_for_every_fixable_rule() {
    fixes_match_the_editor(false);
}

#[test]
fn unsafe_fixes_match_the_editor_for_every_fixable_rule() {
    fixes_match_the_editor(true);
}
