//! The CI formats of `canarylint check`: SARIF, GitHub annotations, JUnit, and `--output`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use assert_cmd::Command;
use serde_json::Value;

const FORMATS: [&str; 5] = ["human", "json", "sarif", "github", "junit"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture(name: &str) -> String {
    fs::read_to_string(fixtures().join(name)).unwrap()
}

/// `canarylint check --no-config ARGS`, run from the fixtures folder, without colour.
fn check(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("canarylint").unwrap();
    cmd.current_dir(fixtures())
        .env("NO_COLOR", "1")
        .arg("check")
        .arg("--no-config")
        .args(args);
    cmd
}

fn exec(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// The version in outputs, replaced so that snapshots outlive releases.
fn unversioned(s: &str) -> String {
    s.replace(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[VERSION]\"",
    )
}

// SARIF

fn sarif_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif-schema-2.1.0.json");
        // The schema's `language` patterns end in a stray `]`: a literal in ECMA-262, but not
        // a valid regex to the meta-schema check that runs with format checks on. Escaping it
        // keeps the patterns' meaning.
        let text = fs::read_to_string(path).unwrap();
        let stray = "-[a-zA-Z]{2}]?$";
        assert_eq!(text.matches(stray).count(), 2);
        let text = text.replace(stray, r"-[a-zA-Z]{2}\\]?$");
        let schema: Value = serde_json::from_str(&text).unwrap();
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    })
}

/// Parses a SARIF log and checks it against the SARIF 2.1.0 schema.
fn valid_sarif(text: &str) -> Value {
    let log: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("SARIF output is not JSON ({e}):\n{text}"));
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}\n{text}");
    log
}

fn sarif_of(cmd: &mut Command) -> (i32, Value) {
    let (code, stdout, _) = exec(cmd.args(["--format", "sarif"]));
    (code, valid_sarif(&stdout))
}

#[test]
fn sarif_is_valid_and_complete() {
    let (code, log) = sarif_of(&mut check(&["mixed.yaml"]));
    assert_eq!(code, 1);
    assert_eq!(log["version"], "2.1.0");
    assert!(
        log["$schema"]
            .as_str()
            .unwrap()
            .ends_with("sarif-2.1.0.json")
    );
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "canarylint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        driver["informationUri"],
        "https://github.com/canarylint/canarylint"
    );
    assert_eq!(run["columnKind"], "unicodeCodePoints");

    // Every rule of the registry, with its metadata.
    let rules = driver["rules"].as_array().unwrap();
    let registry = canarylint_rules::all_meta();
    assert_eq!(rules.len(), registry.len());
    for (rule, meta) in rules.iter().zip(&registry) {
        assert_eq!(rule["id"], meta.code);
        assert_eq!(rule["name"], meta.slug);
        assert_eq!(rule["shortDescription"]["text"], meta.summary);
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert_eq!(rule["helpUri"], meta.url());
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains(&meta.url())
        );
        let level = match meta.severity {
            canarylint::Severity::Error => "error",
            canarylint::Severity::Warning => "warning",
            canarylint::Severity::Info => "note",
        };
        assert_eq!(rule["defaultConfiguration"]["level"], level);
    }
    let step = rules.iter().find(|r| r["id"] == "CL201").unwrap();
    assert_eq!(step["name"], "step-weight-exceeds-max-weight");
    assert!(
        step["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Reports a `stepWeight` above `maxWeight`"),
        "{step:#}"
    );
    assert!(
        !step["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains('\n')
    );
    assert!(
        step["help"]["text"]
            .as_str()
            .unwrap()
            .starts_with("### What it does")
    );

    // One result per finding, at the place `--format json` reports.
    let (_, json_out, _) = exec(&mut check(&["--format", "json", "mixed.yaml"]));
    let json: Value = serde_json::from_str(&json_out).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for (r, f) in results.iter().zip(findings) {
        assert_eq!(r["ruleId"], f["code"]);
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], f["code"]);
        let level = match f["severity"].as_str().unwrap() {
            "info" => "note",
            other => other,
        };
        assert_eq!(r["level"], level);
        let text = r["message"]["text"].as_str().unwrap();
        assert!(text.starts_with(f["message"].as_str().unwrap()));
        assert!(text.ends_with(&format!("\nhelp: {}", f["help"].as_str().unwrap())));
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "mixed.yaml");
        let region = &loc["region"];
        assert_eq!(region["startLine"], f["line"]);
        assert_eq!(region["startColumn"], f["column"]);
        assert_eq!(region["endLine"], f["end_line"]);
        assert_eq!(region["endColumn"], f["end_column"]);
        assert_eq!(r["properties"]["path"], f["path"]);
        assert_eq!(r["properties"]["resource"], f["resource"]);
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn sarif_without_findings_has_an_empty_results_array() {
    let (code, log) = sarif_of(&mut check(&["clean.yaml"]));
    assert_eq!(code, 0);
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
    assert!(
        !log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Nothing read at all is still a valid log.
    let dir = tempfile::tempdir().unwrap();
    let (code, log) = sarif_of(check(&["."]).current_dir(dir.path()));
    assert_eq!(code, 0);
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
}

#[test]
fn sarif_snapshot() {
    let (_, stdout, _) = exec(&mut check(&["--format", "sarif", "mixed.yaml"]));
    let mut log: Value = serde_json::from_str(&stdout).unwrap();
    // The rules' documentation is checked above and changes with every rule; the snapshot
    // keeps the rest of the log.
    let rules = log["runs"][0]["tool"]["driver"]["rules"].take();
    let mut step = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "CL201")
        .unwrap()
        .clone();
    step["help"] = Value::String("[the rule's documentation]".into());
    log["runs"][0]["tool"]["driver"]["rules"] = Value::Array(vec![step]);
    // Indexes into the registry move as rules are added; they are checked above.
    for r in log["runs"][0]["results"].as_array_mut().unwrap() {
        r["ruleIndex"] = Value::String("[index]".into());
    }
    let text = unversioned(&serde_json::to_string_pretty(&log).unwrap());
    insta::assert_snapshot!("check_sarif_mixed", text);
}

#[test]
fn sarif_locations_are_relative_to_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("deploy/prod apps");
    fs::create_dir_all(&nested).unwrap();
    fs::write(nested.join("canary.yaml"), fixture("step-weight.yaml")).unwrap();
    let absolute = nested.join("canary.yaml");

    for arg in [
        "deploy",
        "./deploy/prod apps/canary.yaml",
        absolute.to_str().unwrap(),
    ] {
        let (code, log) = sarif_of(check(&[arg]).current_dir(dir.path()));
        assert_eq!(code, 1);
        let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"];
        assert_eq!(uri, "deploy/prod%20apps/canary.yaml", "for {arg}");
    }

    // Outside the working directory: a file URI.
    let elsewhere = tempfile::tempdir().unwrap();
    let (_, log) = sarif_of(check(&[absolute.to_str().unwrap()]).current_dir(elsewhere.path()));
    let uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/deploy/prod%20apps/canary.yaml"),
        "{uri}"
    );
}

#[test]
fn sarif_from_stdin() {
    let (code, log) = sarif_of(check(&["-"]).write_stdin(fixture("step-weight.yaml")));
    assert_eq!(code, 1);
    let loc = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "%3Cstdin%3E");
    assert_eq!(loc["region"]["startLine"], 18);
}

#[test]
fn sarif_records_unreadable_inputs() {
    let (code, log) = sarif_of(&mut check(&["missing.yaml", "step-weight.yaml"]));
    assert_eq!(code, 2);
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert!(
        note["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("cannot read missing.yaml: ")
    );
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "CL201");
}

#[test]
fn sarif_related_locations_and_fixes_are_valid() {
    // The bundled examples raise findings with related places and with fixes.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let (code, log) = sarif_of(check(&["."]).current_dir(&examples));
    assert_eq!(code, 1);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 5, "{results:#?}");
    let related = results
        .iter()
        .find(|r| r["ruleId"] == "CL102")
        .expect("CL102 in the examples");
    let see = &related["relatedLocations"][0];
    assert_eq!(
        see["physicalLocation"]["artifactLocation"]["uri"],
        "istio/gateway.yaml"
    );
    assert!(see["message"]["text"].as_str().unwrap().contains("hosts"));
    assert!(
        results.iter().any(|r| r["fixes"].is_array()),
        "no fix in {results:#?}"
    );
    // A fix is the rule's, so every door carries it: CL202's, offered by the editor too.
    let mirror = results
        .iter()
        .find(|r| r["ruleId"] == "CL202")
        .expect("CL202 in the examples");
    assert_eq!(
        mirror["fixes"][0]["description"]["text"],
        "replace stepWeight and maxWeight with `iterations: 1`"
    );
}

// GitHub annotations

#[test]
fn github_lines_are_exact() {
    let (code, stdout, stderr) = exec(&mut check(&["--format", "github", "step-weight.yaml"]));
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "::error file=step-weight.yaml,line=18,col=17,endLine=18,endColumn=19,\
         title=CL201 step-weight-exceeds-max-weight::stepWeight 60 exceeds maxWeight 50: the \
         first step overshoots and the canary is promoted after one analysis%0Ahelp: set \
         stepWeight to at most 50 (for example 10)\n"
    );
    assert_eq!(stderr, "1 error in 1 file (2 documents)\n");

    let (code, stdout, _) = exec(&mut check(&["--format", "github", "hook-port.yaml"]));
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("::warning file=hook-port.yaml,line="),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1);

    let (code, stdout, _) = exec(&mut check(&["--format", "github", "clean.yaml"]));
    assert_eq!(code, 0);
    assert_eq!(stdout, "");
}

#[test]
fn github_snapshot() {
    let (_, stdout, _) = exec(&mut check(&["--format", "github", "mixed.yaml"]));
    assert!(stdout.lines().any(|l| l.starts_with("::notice ")));
    insta::assert_snapshot!("check_github_mixed", stdout);
}

#[test]
fn github_escapes_properties_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let text = fixture("no-provider.yaml").replace("public-gateway", "gw%50,a:b");
    fs::write(dir.path().join("a,b:c.yaml"), text).unwrap();
    let (_, stdout, _) = exec(check(&["--format", "github", "a,b:c.yaml"]).current_dir(dir.path()));
    let line = stdout
        .lines()
        .find(|l| l.contains("CL101"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.starts_with("::warning file=a%2Cb%3Ac.yaml,line="),
        "{line}"
    );
    let message = line.split_once("::").unwrap().1.split_once("::").unwrap().1;
    assert!(message.contains("gw%2550,a:b"), "{message}");
    assert!(message.contains("%0Ahelp: "), "{message}");
    assert!(!message.contains('\n') && !message.contains('\r'));
}

// JUnit

fn junit_of(cmd: &mut Command) -> (i32, String) {
    let (code, stdout, _) = exec(cmd.args(["--format", "junit"]));
    roxmltree::Document::parse(&stdout)
        .unwrap_or_else(|e| panic!("JUnit output is not XML ({e}):\n{stdout}"));
    (code, stdout)
}

fn attr<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("no {name} on {node:?}"))
}

#[test]
fn junit_has_a_testcase_per_object_and_fails_on_errors() {
    let (code, xml) = junit_of(&mut check(&["mixed.yaml", "clean.yaml", "hook-port.yaml"]));
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(attr(root, "tests"), "3");
    assert_eq!(attr(root, "failures"), "1");
    assert_eq!(attr(root, "errors"), "0");

    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    let names: Vec<&str> = suites.iter().map(|s| attr(*s, "name")).collect();
    assert_eq!(names, ["mixed.yaml", "clean.yaml", "hook-port.yaml"]);
    for suite in &suites {
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(attr(*suite, "tests"), cases.len().to_string());
        for case in &cases {
            assert_eq!(case.tag_name().name(), "testcase");
            assert_eq!(attr(*case, "classname"), attr(*suite, "name"));
            assert_eq!(attr(*case, "name"), "Canary/test/podinfo");
        }
    }

    let case = |i: usize| {
        suites[i]
            .children()
            .find(|n| n.has_tag_name("testcase"))
            .unwrap()
    };
    // mixed.yaml: an error fails the testcase; the warning and the info are its output.
    let failure = case(0)
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(attr(failure, "type"), "CL201");
    assert!(attr(failure, "message").starts_with("CL201 step-weight-exceeds-max-weight: "));
    let body = failure.text().unwrap();
    assert!(body.starts_with("mixed.yaml:23:17: error CL201 step-weight-exceeds-max-weight: "));
    assert!(body.contains("\n  help: set stepWeight to at most 50"));
    let out = case(0)
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        out.contains("warning CL304") && out.contains("info CL103"),
        "{out}"
    );
    // clean.yaml passes with nothing to say; hook-port.yaml's warning does not fail it.
    assert_eq!(case(1).children().filter(|n| n.is_element()).count(), 0);
    assert!(case(2).children().all(|n| !n.has_tag_name("failure")));
    assert!(case(2).children().any(|n| n.has_tag_name("system-out")));
}

#[test]
fn junit_snapshot() {
    let (_, xml) = junit_of(&mut check(&["mixed.yaml", "clean.yaml"]));
    insta::assert_snapshot!("check_junit_mixed", xml);
}

#[test]
fn junit_fails_warnings_with_fail_on_warning() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("strict.yaml");
    fs::write(&config, "failOn: warning\n").unwrap();
    let mut cmd = Command::cargo_bin("canarylint").unwrap();
    cmd.current_dir(fixtures()).args([
        "check",
        "--config",
        config.to_str().unwrap(),
        "hook-port.yaml",
    ]);
    let (code, xml) = junit_of(&mut cmd);
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap_or_else(|| panic!("{xml}"));
    assert_eq!(attr(failure, "type"), "CL304");
    assert_eq!(attr(doc.root_element(), "failures"), "1");
}

#[test]
fn junit_parse_errors_unreadable_inputs_and_escaping() {
    let dir = tempfile::tempdir().unwrap();
    let text = fixture("step-weight.yaml").replace(
        "name: podinfo\n  namespace",
        "name: \"a&b<c>\\\"d\"\n  namespace",
    ) + "---\nkey: [unclosed\n";
    fs::write(dir.path().join("x&y'.yaml"), &text).unwrap();
    let (code, xml) = junit_of(check(&["x&y'.yaml", "missing.yaml"]).current_dir(dir.path()));
    assert_eq!(code, 2);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(attr(root, "errors"), "1");

    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<(&str, &str)> = cases
        .iter()
        .map(|c| (attr(*c, "classname"), attr(*c, "name")))
        .collect();
    assert_eq!(
        names,
        [
            ("x&y'.yaml", "Canary/test/a&b<c>\"d"),
            ("x&y'.yaml", "(file)"),
            (
                "(inputs)",
                "cannot read missing.yaml: No such file or directory (os error 2)"
            ),
        ],
        "{xml}"
    );
    let parse = cases[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(attr(parse, "type"), "CL000");
    let error = cases[2]
        .children()
        .find(|n| n.has_tag_name("error"))
        .unwrap();
    assert!(attr(error, "message").starts_with("cannot read missing.yaml"));
}

// --output, stdout and stderr, exit status

#[test]
fn exit_status_is_the_same_in_every_format() {
    for format in FORMATS {
        for (file, expected) in [
            ("clean.yaml", 0),
            ("step-weight.yaml", 1),
            ("missing.yaml", 2),
        ] {
            let (code, _, _) = exec(&mut check(&["--format", format, file]));
            assert_eq!(code, expected, "{format} {file}");
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("report");
            let (code, _, _) = exec(&mut check(&[
                "--format",
                format,
                "--output",
                out.to_str().unwrap(),
                file,
            ]));
            assert_eq!(code, expected, "{format} {file} --output");
        }
    }
}

#[test]
fn machine_formats_keep_stdout_to_themselves() {
    for format in ["json", "sarif", "github", "junit"] {
        let (_, stdout, stderr) = exec(&mut check(&["--format", format, "mixed.yaml"]));
        assert!(!stdout.contains("1 error, 1 warning"), "{format}: {stdout}");
        assert_eq!(
            stderr, "1 error, 1 warning, 1 info in 1 file (3 documents)\n",
            "{format}"
        );
    }
    let (_, stdout, stderr) = exec(&mut check(&["mixed.yaml"]));
    assert!(stdout.ends_with("1 error, 1 warning, 1 info in 1 file (3 documents)\n"));
    assert_eq!(stderr, "");
}

#[test]
fn output_writes_the_report_to_a_file_and_the_summary_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    for format in FORMATS {
        let out = dir.path().join(format!("report.{format}"));
        let (code, stdout, stderr) = exec(&mut check(&[
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
            "mixed.yaml",
        ]));
        assert_eq!(code, 1);
        assert_eq!(
            stdout,
            "1 error, 1 warning, 1 info in 1 file (3 documents)\n"
        );
        assert_eq!(stderr, "");
        let written = fs::read_to_string(&out).unwrap();
        // The file holds what standard output would have.
        let (_, direct, _) = exec(&mut check(&["--format", format, "mixed.yaml"]));
        assert_eq!(written, direct, "{format}");
    }
    let human = fs::read_to_string(dir.path().join("report.human")).unwrap();
    assert!(!human.contains('\u{1b}'));
    valid_sarif(&fs::read_to_string(dir.path().join("report.sarif")).unwrap());
}

#[test]
fn an_unwritable_output_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/report.sarif");
    let (code, stdout, stderr) = exec(&mut check(&[
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
        "clean.yaml",
    ]));
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("canarylint: cannot write ") && stderr.contains("report.sarif"),
        "{stderr}"
    );
}

// Pipelines, as docs/ci.md writes them (`helm template … | canarylint check -`)

fn pipe(producer: &str, args: &str) -> (i32, String, String) {
    let bin = assert_cmd::cargo::cargo_bin("canarylint");
    let script = format!("{producer} | '{}' check --no-config {args}", bin.display());
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(fixtures())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn stdin_pipelines_in_every_format() {
    let (code, stdout, _) = pipe("cat step-weight.yaml deployment.yaml", "-");
    assert_eq!(code, 1);
    assert!(stdout.contains("[<stdin>:18:17]"), "{stdout}");

    let (code, stdout, stderr) = pipe("cat mixed.yaml", "--format sarif -");
    assert_eq!(code, 1);
    valid_sarif(&stdout);
    assert!(stderr.ends_with("(3 documents)\n"));

    let (code, stdout, _) = pipe("cat step-weight.yaml", "--format github -");
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("::error file=<stdin>,line=18,col=17,"),
        "{stdout}"
    );

    let (code, stdout, _) = pipe("cat step-weight.yaml", "--format junit -");
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&stdout).unwrap();
    assert!(
        doc.descendants()
            .any(|n| n.has_tag_name("testcase") && n.attribute("classname") == Some("<stdin>"))
    );

    let (code, stdout, _) = pipe("cat clean.yaml", "--format json -");
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["summary"]["documents"], 2);

    // Context from files, the manifests from the pipe.
    let (code, _, _) = pipe(
        "cat canary-only.yaml",
        "--context deployment.yaml --format json -",
    );
    assert_eq!(code, 0);
}
