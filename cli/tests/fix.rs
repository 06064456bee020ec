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

/// Syntax problems (unreadable YAML, duplicate keys) in a text, as the linter reads it.
fn syntax_problems(name: &str, text: &str) -> usize {
    let source = std::sync::Arc::new(canarylint::SourceFile::new(name, text));
    canarylint::read(source, &canarylint::Budget::GENEROUS)
        .problems
        .len()
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
        let actions = lsp.code_actions_anywhere(uri, &text);
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
    let mut lsp = Client::start(lsp_root.path(), false);
    let work = tempfile::tempdir().unwrap();
    let mut flags = vec!["--fix", "-q"];
    if unsafe_fixes {
        flags.push("--unsafe-fixes");
    }
    let mut failures = Vec::new();
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    // What every fix makes of its case, as a diff to review (LF cases).
    let mut record = String::new();
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
            if syntax_problems(&name, &cli) > syntax_problems(&name, &text) {
                failures.push(format!(
                    "{name}: the fixed text no longer reads as YAML:\n{cli}"
                ));
            }
            if !crlf {
                let diff = similar::TextDiff::from_lines(&text, &cli);
                record.push_str(&format!(
                    "=== {name}\n{}",
                    diff.unified_diff()
                        .context_radius(1)
                        .header("case", "fixed")
                ));
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
    insta::assert_snapshot!(
        if unsafe_fixes {
            "fixed_cases_unsafe"
        } else {
            "fixed_cases_safe"
        },
        record
    );
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

// The command itself: files, permissions, --diff, standard input, the summary

/// A Canary with four safe fixes (CL308, CL103, CL004, CL409) and an unsafe one (CL201), a
/// comment and a quoted scalar that must stay as they are.
const CANARY: &str = "\
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo # the app
  namespace: test
spec:
  provider: istio
  targetRef:
    apiVersion: v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
    gateways:
      - 'istio-system/public-gateway'
  analysis:
    interval: 5s
    threshold: 0
    maxWeight: 50
    stepWeight: 60
";

/// CANARY with its safe fixes applied.
fn safe_fixed() -> String {
    CANARY
        .replace("apiVersion: v1\n", "apiVersion: apps/v1\n")
        .replace(
            "      - 'istio-system/public-gateway'\n",
            "      - 'istio-system/public-gateway'\n      - mesh\n",
        )
        .replace("interval: 5s", "interval: 10s")
        .replace("threshold: 0", "threshold: 1")
}

const DIFF: &str = "\
--- canary.yaml
+++ canary.yaml
@@ -6,15 +6,16 @@
 spec:
   provider: istio
   targetRef:
-    apiVersion: v1
+    apiVersion: apps/v1
     kind: Deployment
     name: podinfo
   service:
     port: 9898
     gateways:
       - 'istio-system/public-gateway'
+      - mesh
   analysis:
-    interval: 5s
-    threshold: 0
+    interval: 10s
+    threshold: 1
     maxWeight: 50
     stepWeight: 60
";

fn summary_line(out: &[u8]) -> String {
    text_of(out).lines().last().unwrap_or_default().to_string()
}

#[test]
fn fix_writes_the_safe_fixes_and_the_summary_says_what_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("canary.yaml");
    fs::write(&file, CANARY).unwrap();
    let out = check_in(dir.path(), &["--fix", "canary.yaml"]);
    assert_eq!(fs::read_to_string(&file).unwrap(), safe_fixed());
    assert_eq!(
        summary_line(&out.stdout),
        "fixed 4 findings (1 more with --unsafe-fixes); 1 error, 2 infos left in 1 file (1 document)"
    );
    // What remains decides the status: CL201's error is left.
    assert_eq!(out.status.code(), Some(1), "{}", text_of(&out.stderr));

    let out = check_in(dir.path(), &["--fix", "--unsafe-fixes", "canary.yaml"]);
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        safe_fixed().replace("stepWeight: 60", "stepWeight: 50")
    );
    assert_eq!(
        summary_line(&out.stdout),
        "fixed 1 finding; 2 infos left in 1 file (1 document)"
    );
    assert_eq!(out.status.code(), Some(0));

    let out = check_in(dir.path(), &["--fix", "--unsafe-fixes", "canary.yaml"]);
    assert_eq!(
        summary_line(&out.stdout),
        "nothing fixed; 2 infos left in 1 file (1 document)"
    );
    // The file was replaced by a rename: no temporary file is left beside it.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["canary.yaml"]);
}

#[test]
fn a_read_only_file_gives_exit_2_and_the_others_are_still_fixed() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
    fs::write(&a, CANARY).unwrap();
    fs::write(&b, CANARY).unwrap();
    fs::set_permissions(&a, fs::Permissions::from_mode(0o640)).unwrap();
    fs::set_permissions(&b, fs::Permissions::from_mode(0o444)).unwrap();
    let out = check_in(dir.path(), &["--fix", "a.yaml", "b.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text_of(&out.stderr));
    let stderr = text_of(&out.stderr);
    assert!(
        stderr.contains("b.yaml") && stderr.contains("read-only"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&a).unwrap(), safe_fixed());
    assert_eq!(fs::read_to_string(&b).unwrap(), CANARY);
    // The fixed file keeps its mode, the refused one too.
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&a), mode(&b)), (0o640, 0o444));
    // Only what was written counts as fixed; b.yaml's findings are still there.
    assert_eq!(
        summary_line(&out.stdout),
        "fixed 4 findings (2 more with --unsafe-fixes); 2 errors, 2 warnings, 6 infos left in 2 files (2 documents)"
    );
}

#[test]
fn diff_prints_what_fix_would_change_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("canary.yaml");
    fs::write(&file, CANARY).unwrap();
    let out = check_in(dir.path(), &["--diff", "canary.yaml"]);
    assert_eq!(text_of(&out.stdout), DIFF);
    assert_eq!(fs::read_to_string(&file).unwrap(), CANARY);
    // Something to fix: exit 1, whatever remains.
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        summary_line(&out.stderr),
        "would fix 4 findings (1 more with --unsafe-fixes); 1 error, 2 infos left in 1 file (1 document)"
    );
    let out = check_in(dir.path(), &["--diff", "--unsafe-fixes", "canary.yaml"]);
    assert!(text_of(&out.stdout).contains("+    stepWeight: 50\n"));
    assert_eq!(fs::read_to_string(&file).unwrap(), CANARY);

    // Nothing to fix and nothing failing: no diff, exit 0.
    check_in(dir.path(), &["--fix", "--unsafe-fixes", "canary.yaml"]);
    let out = check_in(dir.path(), &["--diff", "--unsafe-fixes", "canary.yaml"]);
    assert_eq!(text_of(&out.stdout), "");
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out.stderr));
    assert_eq!(
        summary_line(&out.stderr),
        "nothing to fix; 2 infos left in 1 file (1 document)"
    );
}

#[test]
fn standard_input_is_fixed_to_standard_output() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    for crlf in [false, true] {
        let (input, expected) = if crlf {
            (
                CANARY.replace('\n', "\r\n"),
                safe_fixed().replace('\n', "\r\n"),
            )
        } else {
            (CANARY.to_string(), safe_fixed())
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_canarylint"))
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["check", "--no-config", "--fix", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        // Standard output is the fixed stream alone; the report goes to standard error.
        assert_eq!(text_of(&out.stdout), expected);
        assert_eq!(
            summary_line(&out.stderr),
            "fixed 4 findings (1 more with --unsafe-fixes); 1 error, 2 infos left in 1 file (1 document)"
        );
        assert_eq!(out.status.code(), Some(1));
    }
}

#[test]
fn unsafe_fixes_alone_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("canary.yaml"), CANARY).unwrap();
    let out = check_in(dir.path(), &["--unsafe-fixes", "canary.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text_of(&out.stderr).contains("--fix"),
        "{}",
        text_of(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("canary.yaml")).unwrap(),
        CANARY
    );
}

#[test]
fn a_link_is_followed_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("canary.yaml");
    fs::write(&target, CANARY).unwrap();
    std::os::unix::fs::symlink("canary.yaml", dir.path().join("link.yaml")).unwrap();
    let out = check_in(dir.path(), &["--fix", "link.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text_of(&out.stderr));
    assert_eq!(fs::read_to_string(&target).unwrap(), safe_fixed());
    let link = fs::symlink_metadata(dir.path().join("link.yaml")).unwrap();
    assert!(link.file_type().is_symlink());
}
