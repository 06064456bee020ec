//! The `canarylint` binary, run as users run it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture(name: &str) -> String {
    fs::read_to_string(fixtures().join(name)).unwrap()
}

/// The binary, run from the fixtures folder, without colour.
fn canarylint() -> Command {
    let mut cmd = Command::cargo_bin("canarylint").unwrap();
    cmd.current_dir(fixtures()).env("NO_COLOR", "1");
    cmd
}

/// `canarylint check --no-config ARGS`.
fn check(args: &[&str]) -> Command {
    let mut cmd = canarylint();
    cmd.arg("check").arg("--no-config").args(args);
    cmd
}

/// Runs a check with `--format json` and returns the exit code and the parsed output.
fn check_json(cmd: &mut Command) -> (i32, Value) {
    let out = cmd.arg("--format").arg("json").output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("output is not JSON ({e}):\n{stdout}"));
    (out.status.code().unwrap(), json)
}

fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(cmd.output().unwrap().stdout).unwrap()
}

fn codes(json: &Value) -> Vec<&str> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

fn files(json: &Value) -> Vec<&str> {
    let mut files: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    files.dedup();
    files
}

// Exit status

#[test]
fn clean_canary_exits_0() {
    check(&["clean.yaml"])
        .assert()
        .code(0)
        .stdout("no problems in 1 file (2 documents)\n")
        .stderr("");
}

#[test]
fn clean_canary_raises_nothing_at_all() {
    let (code, json) = check_json(&mut check(&["clean.yaml"]));
    assert_eq!(code, 0);
    assert_eq!(json["findings"], Value::Array(vec![]));
}

#[test]
fn error_finding_exits_1() {
    check(&["step-weight.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "CL201 step-weight-exceeds-max-weight",
        ))
        .stdout(predicate::str::ends_with(
            "1 error in 1 file (2 documents)\n",
        ));
}

#[test]
fn warnings_alone_do_not_fail() {
    check(&["hook-port.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("CL304"));
}

#[test]
fn exit_status_is_the_same_in_json() {
    check(&["--format", "json", "clean.yaml"]).assert().code(0);
    check(&["--format", "json", "step-weight.yaml"])
        .assert()
        .code(1);
    check(&["--format", "json", "missing.yaml"])
        .assert()
        .code(2);
}

#[test]
fn missing_file_exits_2_naming_it() {
    check(&["missing.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "canarylint: cannot read missing.yaml: ",
        ))
        .stderr(predicate::str::contains('\n').count(1));
}

#[test]
fn missing_file_among_others_still_lints_the_rest() {
    let (code, json) = check_json(&mut check(&["missing.yaml", "step-weight.yaml"]));
    assert_eq!(code, 2);
    assert_eq!(codes(&json), ["CL201"]);
    assert_eq!(json["summary"]["files"], 1);
}

#[test]
fn invalid_utf8_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("latin1.yaml"), b"kind: Caf\xe9\n").unwrap();
    check(&["latin1.yaml"])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr("canarylint: cannot read latin1.yaml: the file is not valid UTF-8 (line 1)\n");
}

#[test]
fn bad_flag_exits_2() {
    check(&["--no-such-flag", "clean.yaml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--no-such-flag"));
    check(&["--format", "xml", "clean.yaml"]).assert().code(2);
    check(&["--threads", "0", "clean.yaml"]).assert().code(2);
    canarylint().arg("frobnicate").assert().code(2);
}

// Inputs

#[test]
fn stdin_is_read_with_dash() {
    let (code, json) = check_json(check(&["-"]).write_stdin(fixture("step-weight.yaml")));
    assert_eq!(code, 1);
    assert_eq!(codes(&json), ["CL201"]);
    assert_eq!(json["findings"][0]["file"], "<stdin>");
    check(&["-"])
        .write_stdin(fixture("step-weight.yaml"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("[<stdin>:18:17]"));
}

#[test]
fn directories_are_walked_skipping_hidden_folders_and_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bad = fixture("step-weight.yaml");
    for sub in ["manifests/nested", ".git", ".hidden/deep", "docs"] {
        fs::create_dir_all(root.join(sub)).unwrap();
    }
    fs::write(root.join("manifests/b.yaml"), &bad).unwrap();
    fs::write(root.join("manifests/a.yml"), &bad).unwrap();
    fs::write(
        root.join("manifests/nested/clean.yaml"),
        fixture("clean.yaml"),
    )
    .unwrap();
    fs::write(root.join(".git/bad.yaml"), &bad).unwrap();
    fs::write(root.join(".hidden/deep/bad.yaml"), &bad).unwrap();
    fs::write(root.join("manifests/.bad.yaml"), &bad).unwrap();
    fs::write(root.join("docs/bad.txt"), &bad).unwrap();
    fs::write(root.join("docs/bad.yaml.orig"), &bad).unwrap();
    // YAML without Kubernetes objects is passed over.
    fs::write(root.join("docs/values.yaml"), "replicas: 3\n").unwrap();

    let (code, json) = check_json(check(&["manifests"]).current_dir(root));
    assert_eq!(code, 1);
    assert_eq!(files(&json), ["manifests/a.yml", "manifests/b.yaml"]);
    assert_eq!(json["summary"]["files"], 3);
    assert_eq!(json["summary"]["documents"], 6);

    // The default path is the working directory, shown without `./`.
    let (code, json) = check_json(check(&[]).current_dir(root));
    assert_eq!(code, 1);
    assert_eq!(files(&json), ["manifests/a.yml", "manifests/b.yaml"]);
    assert_eq!(json["summary"]["files"], 4);

    // A directory given with a trailing slash keeps it in the paths shown.
    let (_, json) = check_json(check(&["manifests/"]).current_dir(root));
    assert_eq!(files(&json), ["manifests/a.yml", "manifests/b.yaml"]);

    // A file named on the command line is read whatever its extension.
    let (code, json) = check_json(check(&["docs/bad.txt"]).current_dir(root));
    assert_eq!(code, 1);
    assert_eq!(files(&json), ["docs/bad.txt"]);
}

/// The walk honours `.gitignore` (in a Git checkout or not) and `.ignore`, as ruff and oxc do;
/// a file named on the command line is read all the same.
#[test]
fn directories_are_walked_honouring_ignore_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bad = fixture("step-weight.yaml");
    for sub in ["manifests", "rendered", "vendor"] {
        fs::create_dir_all(root.join(sub)).unwrap();
    }
    fs::write(root.join("manifests/a.yaml"), &bad).unwrap();
    fs::write(root.join("rendered/all.yaml"), &bad).unwrap();
    fs::write(root.join("vendor/b.yaml"), &bad).unwrap();
    fs::write(root.join(".gitignore"), "rendered/\n").unwrap();
    fs::write(root.join(".ignore"), "vendor/\n").unwrap();
    let (code, json) = check_json(check(&[]).current_dir(root));
    assert_eq!(code, 1);
    assert_eq!(files(&json), ["manifests/a.yaml"]);
    let (_, json) = check_json(check(&["rendered/all.yaml"]).current_dir(root));
    assert_eq!(files(&json), ["rendered/all.yaml"]);
}

#[test]
fn a_file_reached_twice_is_linted_once() {
    let (_, json) = check_json(&mut check(&["step-weight.yaml", ".", "./step-weight.yaml"]));
    let step = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "CL201")
        .count();
    assert_eq!(step, 2, "step-weight.yaml and mixed.yaml, once each");
}

#[test]
fn context_files_feed_the_inventory_but_are_not_linted() {
    let (code, json) = check_json(&mut check(&["canary-only.yaml"]));
    assert_eq!(code, 0);
    assert_eq!(codes(&json), ["CL100"]);

    let (code, json) = check_json(&mut check(&[
        "canary-only.yaml",
        "--context",
        "deployment.yaml",
    ]));
    assert_eq!(code, 0);
    assert_eq!(codes(&json), Vec::<&str>::new());
    assert_eq!(json["summary"]["files"], 1);
    assert_eq!(json["summary"]["documents"], 1);

    // Two definitions of the target (step-weight.yaml has one too): judged from neither, and
    // both places are shown.
    let (code, json) = check_json(&mut check(&[
        "canary-only.yaml",
        "--context",
        "deployment.yaml",
        "--context",
        "step-weight.yaml",
    ]));
    assert_eq!(code, 0);
    assert_eq!(codes(&json), ["CL100"]);
    let f = &json["findings"][0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Deployment test/podinfo is defined 2 times in manifests applied together"),
        "{f}"
    );
    assert_eq!(f["severity"], "info");
}

#[test]
fn a_file_given_to_lint_and_as_context_is_both() {
    // The Canary's own file holds no Deployment: alone, its target cannot be checked.
    let (_, json) = check_json(&mut check(&["canary-only.yaml", "deployment.yaml"]));
    assert_eq!(codes(&json), Vec::<&str>::new(), "found in another file");
    // The Deployment is renamed (renaming the target instead would make the load test's
    // podinfo-canary a Service Flagger does not create: CL311).
    let other = fixture("deployment.yaml").replacen(
        "metadata:\n  name: podinfo\n",
        "metadata:\n  name: podinf\n",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("canary.yaml"), fixture("canary-only.yaml")).unwrap();
    fs::write(dir.path().join("deployment.yaml"), other).unwrap();
    let (code, json) = check_json(check(&["."]).current_dir(dir.path()));
    assert_eq!((code, codes(&json)), (0, vec!["CL100"]));
    // Given as context too, the Deployment file says what namespace test holds.
    let (code, json) =
        check_json(check(&[".", "--context", "deployment.yaml"]).current_dir(dir.path()));
    assert_eq!((code, codes(&json)), (1, vec!["CL301"]));
    assert_eq!(json["summary"]["files"], 2);
}

// Settings

#[test]
fn provider_flag_counts_as_configured() {
    // Without spec.provider the router is a guess, so its findings are capped to warning.
    let (code, json) = check_json(&mut check(&["no-provider.yaml"]));
    assert_eq!(code, 0);
    assert_eq!(codes(&json), ["CL101"]);
    assert_eq!(json["findings"][0]["severity"], "warning");

    let (code, json) = check_json(&mut check(&["--provider", "istio", "no-provider.yaml"]));
    assert_eq!(code, 1);
    assert_eq!(json["findings"][0]["severity"], "error");
}

#[test]
fn namespace_flag_names_objects_without_one() {
    let text = fixture("step-weight.yaml").replace("  namespace: test\n", "");
    let (_, json) = check_json(check(&["--namespace", "prod", "-"]).write_stdin(text.clone()));
    assert_eq!(json["findings"][0]["resource"]["namespace"], "prod");
    let (_, json) = check_json(check(&["-"]).write_stdin(text));
    assert_eq!(json["findings"][0]["resource"]["namespace"], "default");
}

#[test]
fn config_fail_on_and_rule_levels() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("strict.yaml");
    fs::write(&config, "failOn: warning\n").unwrap();
    let config = config.to_str().unwrap();
    check(&["hook-port.yaml"]).assert().code(0);
    canarylint()
        .args(["check", "--config", config, "hook-port.yaml"])
        .assert()
        .code(1);

    let off = dir.path().join("off.yaml");
    fs::write(&off, "rules:\n  step-weight-exceeds-max-weight: off\n").unwrap();
    canarylint()
        .args([
            "check",
            "--config",
            off.to_str().unwrap(),
            "step-weight.yaml",
        ])
        .assert()
        .code(0)
        .stdout("no problems in 1 file (2 documents)\n");
}

#[test]
fn config_is_discovered_from_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    fs::write(dir.path().join(".canarylint.yaml"), "failOn: warning\n").unwrap();
    fs::write(dir.path().join("sub/hook.yaml"), fixture("hook-port.yaml")).unwrap();
    let mut cmd = canarylint();
    cmd.current_dir(dir.path().join("sub"));
    cmd.args(["check", "hook.yaml"]).assert().code(1);
    let mut cmd = canarylint();
    cmd.current_dir(dir.path().join("sub"));
    cmd.args(["check", "--no-config", "hook.yaml"])
        .assert()
        .code(0);
}

#[test]
fn config_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.yaml");
    fs::write(&config, "failon: warning\nrules:\n  CL9999: off\n").unwrap();
    let out = canarylint()
        .args(["check", "--config", config.to_str().unwrap(), "clean.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("canarylint: ")
            && lines[0].contains(":1:1: unknown key `failon`; did you mean `failOn`?"),
        "{stderr}"
    );
    assert!(lines[1].contains("unknown rule `CL9999`"), "{stderr}");

    canarylint()
        .args(["check", "--config", "no-such-config.yaml", "clean.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-config.yaml"));
    canarylint()
        .args(["check", "--config", "x.yaml", "--no-config", "clean.yaml"])
        .assert()
        .code(2);
}

#[test]
fn threads_flag_is_accepted() {
    check(&["--threads", "1", "step-weight.yaml", "clean.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::ends_with(
            "1 error in 2 files (4 documents)\n",
        ));
}

// Output

#[test]
fn json_output_has_the_documented_shape() {
    let (code, json) = check_json(&mut check(&["mixed.yaml"]));
    assert_eq!(code, 1);
    let top: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(top, ["findings", "summary", "version"]);
    assert_eq!(json["version"], 1);

    let summary = json["summary"].as_object().unwrap();
    let keys: Vec<&str> = summary.keys().map(String::as_str).collect();
    assert_eq!(keys, ["documents", "errors", "files", "infos", "warnings"]);
    assert_eq!(json["summary"]["files"], 1);
    assert_eq!(json["summary"]["documents"], 3);
    assert_eq!(json["summary"]["errors"], 1);
    assert_eq!(json["summary"]["warnings"], 1);
    assert_eq!(json["summary"]["infos"], 1);

    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    for f in findings {
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "code",
                "column",
                "end_column",
                "end_line",
                "file",
                "help",
                "line",
                "message",
                "path",
                "resource",
                "severity",
                "slug"
            ]
        );
        assert!(["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()));
        assert!(f["help"].is_string() || f["help"].is_null());
        assert!(f["line"].as_u64().unwrap() >= 1 && f["column"].as_u64().unwrap() >= 1);
    }
    // Findings come in file, line, column order.
    let lines: Vec<u64> = findings
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert!(lines.is_sorted(), "{lines:?}");

    let step = findings.iter().find(|f| f["code"] == "CL201").unwrap();
    assert_eq!(step["slug"], "step-weight-exceeds-max-weight");
    assert_eq!(step["severity"], "error");
    assert_eq!(step["file"], "mixed.yaml");
    assert_eq!(step["line"], 23);
    assert_eq!(step["column"], 17);
    assert_eq!(step["end_line"], 23);
    assert_eq!(step["end_column"], 19);
    assert_eq!(step["path"], "spec.analysis.stepWeight");
    assert_eq!(
        step["resource"],
        serde_json::json!({"kind": "Canary", "namespace": "test", "name": "podinfo"})
    );
}

#[test]
fn json_output_when_clean() {
    let (_, json) = check_json(&mut check(&["clean.yaml"]));
    assert_eq!(
        json,
        serde_json::json!({
            "version": 1,
            "findings": [],
            "summary": {"files": 1, "documents": 2, "errors": 0, "warnings": 0, "infos": 0}
        })
    );
}

#[test]
fn json_output_snapshot() {
    let stdout = stdout_of(&mut check(&["--format", "json", "mixed.yaml"]));
    insta::assert_snapshot!("check_json_mixed", stdout);
}

#[test]
fn human_output_snapshot() {
    let stdout = stdout_of(&mut check(&["mixed.yaml"]));
    assert!(!stdout.contains('\u{1b}'), "NO_COLOR output has escapes");
    insta::assert_snapshot!("check_human_mixed", stdout);
}

#[test]
fn quiet_prints_errors_and_the_summary() {
    let stdout = stdout_of(&mut check(&["--quiet", "mixed.yaml"]));
    assert!(stdout.contains("CL201"), "{stdout}");
    assert!(
        !stdout.contains("CL103") && !stdout.contains("CL304"),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 error, 1 warning, 1 info in 1 file (3 documents)\n"));
    check(&["-q", "hook-port.yaml"])
        .assert()
        .code(0)
        .stdout("1 warning in 1 file (2 documents)\n");
}

#[test]
fn an_empty_directory_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    check(&["."])
        .current_dir(dir.path())
        .assert()
        .code(0)
        .stdout("no problems in 0 files (0 documents)\n");
}

// rules, explain, help

#[test]
fn rules_lists_every_rule() {
    canarylint()
        .arg("rules")
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("CODE "))
        .stdout(
            predicate::str::is_match(
                r"\nCL201 +step-weight-exceeds-max-weight +error +stepWeight above maxWeight",
            )
            .unwrap(),
        );
}

#[test]
fn rules_as_json() {
    let stdout = stdout_of(canarylint().args(["rules", "--format", "json"]));
    let rules: Value = serde_json::from_str(&stdout).unwrap();
    let rules = rules.as_array().unwrap();
    assert!(rules.len() > 1);
    for r in rules {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["code", "severity", "slug", "summary"]);
    }
    let step = rules.iter().find(|r| r["code"] == "CL201").unwrap();
    assert_eq!(step["slug"], "step-weight-exceeds-max-weight");
    assert_eq!(step["severity"], "error");
}

#[test]
fn explain_by_code_and_by_slug() {
    for name in ["CL201", "cl201", "step-weight-exceeds-max-weight"] {
        canarylint()
            .args(["explain", name])
            .assert()
            .code(0)
            .stdout(predicate::str::starts_with(
                "CL201 step-weight-exceeds-max-weight (error)\n\nstepWeight above maxWeight",
            ))
            .stdout(predicate::str::contains("### What it does"))
            .stdout(predicate::str::contains("### Why is this bad?"))
            .stdout(predicate::str::contains("### Example"))
            .stdout(predicate::str::contains("### Use instead"))
            .stdout(predicate::str::contains("### Flagger behaviour"))
            .stdout(predicate::str::contains("/CL201.md"));
    }
}

#[test]
fn explain_unknown_rule_exits_2_with_a_suggestion() {
    canarylint()
        .args(["explain", "CL2010"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("canarylint: unknown rule `CL2010`; did you mean `CL201`?\n");
    canarylint()
        .args(["explain", "step-weight-exceeds-max-weigth"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean `step-weight-exceeds-max-weight`?",
        ));
    canarylint()
        .args(["explain", "nothing-like-it"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("canarylint rules"));
}

#[test]
fn help_and_version() {
    canarylint()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("check"))
        .stdout(predicate::str::contains("rules"))
        .stdout(predicate::str::contains("explain"));
    for cmd in ["check", "rules", "explain"] {
        canarylint()
            .args([cmd, "--help"])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Usage: canarylint "));
    }
    canarylint()
        .args(["check", "--help"])
        .assert()
        .stdout(predicate::str::contains("--context"))
        .stdout(predicate::str::contains("Exit status"));
    canarylint()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(format!("canarylint {}\n", env!("CARGO_PKG_VERSION")));
    // No command: the help, on stderr, as a usage error.
    canarylint().assert().code(2);
}
