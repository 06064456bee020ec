//! The binary on repository layouts: kustomize overlays, manifests applied with `-n`, folders
//! of independent files, multi-document files with a broken document.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

/// `canarylint ARGS --format json` in `dir`: the exit code and the report.
fn run(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("canarylint")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

fn findings(json: &Value) -> Vec<(String, String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn codes(json: &Value) -> Vec<String> {
    findings(json).into_iter().map(|f| f.0).collect()
}

const CANARY: &str = "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  autoscalerRef:
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
";

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:6.0.0
          ports:
            - name: http
              containerPort: 9898
";

const HPA: &str = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: podinfo
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  minReplicas: 2
  maxReplicas: 4
";

/// A base and a production overlay whose patches share the objects' identities but hold a
/// few fields only.
fn overlay_repo(root: &Path) {
    write(
        root,
        &[
            (
                "base/kustomization.yaml",
                "namespace: test\nresources:\n  - canary.yaml\n  - deployment.yaml\n  - hpa.yaml\n",
            ),
            ("base/canary.yaml", CANARY),
            ("base/deployment.yaml", DEPLOYMENT),
            ("base/hpa.yaml", HPA),
            (
                "overlays/production/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: production
resources:
  - ../../base
patchesStrategicMerge:
  - deployment-patch.yaml
patches:
  - path: hpa-patch.yaml
  - path: canary-patch.yaml
    target:
      kind: Canary
  - patch: |-
      - op: replace
        path: /spec/analysis/threshold
        value: 10
    target:
      kind: Canary
",
            ),
            (
                "overlays/production/deployment-patch.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 3\n",
            ),
            (
                "overlays/production/hpa-patch.yaml",
                "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: podinfo\nspec:\n  maxReplicas: 10\n",
            ),
            (
                "overlays/production/canary-patch.yaml",
                "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: podinfo\nspec:\n  analysis:\n    maxWeight: 30\n",
            ),
        ],
    );
}

#[test]
fn kustomize_patches_are_not_objects() {
    let dir = tempfile::tempdir().unwrap();
    overlay_repo(dir.path());
    // The whole repository: the base is one unit in namespace test, the patches are set aside.
    let (code, json) = run(dir.path(), &["check", "--no-config", "."]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(codes(&json), Vec::<String>::new(), "{json}");
    // The three manifests of the base and the two kustomizations; the overlay's
    // kustomization is an object too (apiVersion, kind), the patches are not read.
    assert_eq!(
        json["summary"]["files"], 5,
        "patches are not linted: {json}"
    );
    assert_eq!(json["summary"]["documents"], 4, "{json}");

    // A pre-commit hook passes the changed patch alone: nothing to say about a fragment.
    for patch in [
        "canary-patch.yaml",
        "hpa-patch.yaml",
        "deployment-patch.yaml",
    ] {
        let path = format!("overlays/production/{patch}");
        let (code, json) = run(dir.path(), &["check", "--no-config", &path]);
        assert_eq!((code, codes(&json)), (0, vec![]), "{patch}: {json}");
    }

    // The same files without the kustomization are objects: the partial Canary is linted.
    fs::remove_file(dir.path().join("overlays/production/kustomization.yaml")).unwrap();
    let (code, json) = run(
        dir.path(),
        &[
            "check",
            "--no-config",
            "overlays/production/canary-patch.yaml",
        ],
    );
    assert_eq!(code, 1);
    assert!(codes(&json).contains(&"CL001".to_string()), "{json}");
}

#[test]
fn a_kustomizations_namespace_is_the_objects_namespace() {
    let dir = tempfile::tempdir().unwrap();
    overlay_repo(dir.path());
    // The Canary names no namespace; its kustomization puts it in `test`, next to the
    // Deployment: a wrong target is missing, not merely unverified.
    let canary = CANARY.replace(
        "name: podinfo\n  autoscalerRef",
        "name: podinf\n  autoscalerRef",
    );
    fs::write(dir.path().join("base/canary.yaml"), canary).unwrap();
    let (code, json) = run(dir.path(), &["check", "--no-config", "base"]);
    assert_eq!(code, 1, "{json}");
    let f = &json["findings"][0];
    assert_eq!(f["code"], "CL301");
    assert_eq!(f["resource"]["namespace"], "test");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Deployment test/podinf does not exist")
    );
    // Given alone, the Canary's kustomization is read only in part: nothing is missing.
    let (code, json) = run(dir.path(), &["check", "--no-config", "base/canary.yaml"]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(codes(&json), ["CL100", "CL100"]);
}

/// A Canary and a load tester without namespaces, applied with `kubectl -n test apply -f .`.
fn applied_with_n(root: &Path) {
    let tester = DEPLOYMENT.replace("podinfo", "flagger-loadtester");
    write(root, &[("canary.yaml", &format!("{CANARY}---\n{tester}"))]);
}

#[test]
fn the_namespace_flag_and_key_say_where_namespace_less_objects_go() {
    let dir = tempfile::tempdir().unwrap();
    applied_with_n(dir.path());
    let (code, json) = run(dir.path(), &["check", "--no-config", "canary.yaml"]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(codes(&json), ["CL100", "CL100"]);
    assert!(
        json["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("namespace default is only assumed"),
        "{json}"
    );

    for args in [["-n", "test"], ["--namespace", "test"]] {
        let (code, json) = run(
            dir.path(),
            &["check", "--no-config", args[0], args[1], "canary.yaml"],
        );
        assert_eq!(code, 1, "{json}");
        assert_eq!(codes(&json)[0], "CL301", "{json}");
        assert_eq!(json["findings"][0]["resource"]["namespace"], "test");
    }

    fs::write(dir.path().join(".canarylint.yaml"), "namespace: test\n").unwrap();
    let (code, json) = run(dir.path(), &["check", "canary.yaml"]);
    assert_eq!((code, codes(&json)[0].as_str()), (1, "CL301"), "{json}");
    // The flag wins over the configuration.
    let (_, json) = run(dir.path(), &["check", "-n", "prod", "canary.yaml"]);
    assert_eq!(json["findings"][0]["resource"]["namespace"], "prod");

    fs::write(dir.path().join(".canarylint.yaml"), "namespace: Test\n").unwrap();
    let out = Command::cargo_bin("canarylint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "canary.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`namespace` must be a namespace name"));

    let out = Command::cargo_bin("canarylint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "--no-config", "-n", "no_such", "canary.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn plan_places_namespace_less_canaries_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    applied_with_n(dir.path());
    let (_, json) = run(dir.path(), &["plan", "-n", "test", "canary.yaml"]);
    assert_eq!(json["plans"][0]["canary"]["namespace"], "test", "{json}");
    let (_, json) = run(dir.path(), &["plan", "canary.yaml"]);
    assert_eq!(json["plans"][0]["canary"]["namespace"], "default", "{json}");
}

#[test]
fn bundles_of_files_directories_or_everything() {
    let dir = tempfile::tempdir().unwrap();
    let canary = CANARY
        .replace(
            "name: podinfo\nspec",
            "name: podinfo\n  namespace: test\nspec",
        )
        .replace(
            "name: podinfo\n  autoscalerRef",
            "name: podinf\n  autoscalerRef",
        );
    let deployment = DEPLOYMENT.replace(
        "name: podinfo\nspec",
        "name: podinfo\n  namespace: test\nspec",
    );
    write(
        dir.path(),
        &[
            ("app/canary.yaml", &canary),
            ("app/deployment.yaml", &deployment),
        ],
    );
    let target = |json: &Value| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["line"] == 11)
            .map(|f| f["code"].as_str().unwrap().to_string())
    };
    let (code, json) = run(dir.path(), &["check", "--no-config", "app"]);
    assert_eq!((code, target(&json).as_deref()), (0, Some("CL100")));
    // The other file's Deployment is found, not ignored: the finding says why it does not
    // settle the question, and where it is.
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["line"] == 11)
        .unwrap();
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("Deployment test/podinf could not be checked: the Deployments of namespace test read here come from files not applied with this one"),
        "{f}"
    );
    assert!(!message.contains("is known"), "{f}");
    let human = Command::cargo_bin("canarylint")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["check", "--no-config", "app"])
        .output()
        .unwrap();
    let human = String::from_utf8(human.stdout).unwrap();
    assert!(
        human.contains("a Deployment of namespace test, in a file not applied with this one (app/deployment.yaml:4:9)"),
        "{human}"
    );
    for unit in ["directory", "all"] {
        let (code, json) = run(
            dir.path(),
            &["check", "--no-config", "--bundle", unit, "app"],
        );
        assert_eq!(
            (code, target(&json).as_deref()),
            (1, Some("CL301")),
            "{unit}"
        );
    }
    fs::write(dir.path().join(".canarylint.yaml"), "bundle: directory\n").unwrap();
    let (code, _) = run(dir.path(), &["check", "app"]);
    assert_eq!(code, 1);
    let (code, _) = run(dir.path(), &["check", "--bundle", "file", "app"]);
    assert_eq!(code, 0, "the flag wins over the configuration");
}

#[test]
fn a_broken_document_does_not_hide_the_canaries_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad_canary = CANARY
        .replace(
            "name: podinfo\nspec",
            "name: podinfo\n  namespace: test\nspec",
        )
        .replace("stepWeight: 10", "stepWeight: 60");
    let broken = DEPLOYMENT.replace("  selector:", " selector:");
    write(
        dir.path(),
        &[("all.yaml", &format!("{broken}---\n{bad_canary}"))],
    );
    let (code, json) = run(dir.path(), &["check", "--no-config", "all.yaml"]);
    assert_eq!(code, 1);
    let codes = codes(&json);
    assert!(codes.contains(&"CL000".to_string()), "{codes:?}");
    assert!(codes.contains(&"CL201".to_string()), "{codes:?}");
    assert_eq!(json["summary"]["documents"], 1);
}

#[test]
fn the_github_format_ends_every_annotation_with_a_newline() {
    let dir = tempfile::tempdir().unwrap();
    let bad = CANARY.replace("stepWeight: 10", "stepWeight: 60");
    write(dir.path(), &[("canary.yaml", &bad)]);
    let bin = assert_cmd::cargo::cargo_bin("canarylint");
    // Both streams on one terminal: the summary starts a line of its own.
    let out = std::process::Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!(
            "'{}' check --no-config --format github canary.yaml 2>&1",
            bin.display()
        ))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("1 error, "), "{text}");
    assert!(text.ends_with('\n'));
    assert!(
        text.lines().rev().nth(1).unwrap().starts_with("::"),
        "{text}"
    );
    let out = Command::cargo_bin("canarylint")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "check",
            "--no-config",
            "--format",
            "github",
            "-o",
            "report.txt",
            "canary.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = fs::read_to_string(dir.path().join("report.txt")).unwrap();
    assert!(
        report.starts_with("::") && report.ends_with('\n'),
        "{report:?}"
    );
    assert_eq!(report.lines().count(), 3);
}

#[test]
fn a_canary_added_by_an_overlay_to_its_bases_deployment() {
    // The overlay sets the namespace and adds the Canary; the Deployment comes from a base
    // that names no namespace. The overlay is built from more than its own files: nothing
    // in it can be called missing, and the base's Deployment is pointed at.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "base/kustomization.yaml",
                "resources:\n  - deployment.yaml\n",
            ),
            ("base/deployment.yaml", DEPLOYMENT),
            (
                "overlays/production/kustomization.yaml",
                "namespace: batch\nresources:\n  - ../../base\n  - canary.yaml\n  - hpa.yaml\n",
            ),
            ("overlays/production/canary.yaml", CANARY),
            ("overlays/production/hpa.yaml", HPA),
        ],
    );
    let (code, json) = run(dir.path(), &["check", "--no-config", "."]);
    assert_eq!(code, 0, "{json}");
    let f = &json["findings"][0];
    assert_eq!(f["code"], "CL100", "{json}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Deployment batch/podinfo could not be checked: a Deployment podinfo without metadata.namespace is defined"),
        "{f}"
    );
    assert_eq!(f["resource"]["namespace"], "batch");
}
