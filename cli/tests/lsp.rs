//! `canarylint lsp`, driven over standard input and output as an editor drives it.
//!
//! The client of `support/lsp_client.rs` talks to the real binary. Every wait is bounded: a
//! server that hangs or writes anything but the protocol to stdout fails the test.
#![cfg(feature = "lsp")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/lsp_client.rs"]
mod lsp_client;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lsp_client::{Client, apply, file_uri, position_of};
use serde_json::{Value, json};

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

fn find<'a>(diags: &'a [Value], code: &str) -> &'a Value {
    diags
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} among {:?}", codes(diags)))
}

fn has(code: &'static str) -> impl Fn(&[Value]) -> bool {
    move |d: &[Value]| d.iter().any(|x| x["code"] == code)
}

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new(files: &[(&str, &str)]) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Workspace { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn uri(&self, name: &str) -> String {
        file_uri(&self.path(name))
    }
}

/// A Canary whose stepWeight (60) exceeds maxWeight (50), with non-ASCII text before the
/// finding: a comment line, and a webhook name earlier on the stepWeight's own line.
const CANARY: &str = "# Zürich 🚀 canary
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    webhooks: [{name: \"prüfung-🚀\", url: \"http://loadtester.test/\"}]
    maxWeight: 50
    stepWeight: 60
    metrics:
      - name: request-success-rate
        thresholdRange: {min: 99}
        interval: 1m
";

/// The same Canary with the webhook and stepWeight on one line, so that columns differ
/// between UTF-16 and UTF-8.
const CANARY_ONE_LINE: &str = "# Zürich 🚀 canary
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis: {interval: 1m, threshold: 5, webhooks: [{name: \"prüfung-🚀\", url: \"http://loadtester.test/\"}], maxWeight: 50, stepWeight: 60}
";

fn assert_range_of(diag: &Value, text: &str, needle: &str, nth: usize, utf8: bool) {
    let start = text.match_indices(needle).nth(nth).unwrap().0;
    let (l1, c1) = position_of(text, start, utf8);
    let (l2, c2) = position_of(text, start + needle.len(), utf8);
    assert_eq!(
        diag["range"],
        json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}),
        "range of {needle}"
    );
}

#[test]
fn diagnostics_have_exact_utf16_ranges_and_follow_changes() {
    let ws = Workspace::new(&[("canary.yaml", CANARY_ONE_LINE)]);
    let mut c = Client::start(ws.dir.path(), false);
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(c.init["serverInfo"]["name"], "canarylint");
    let uri = ws.uri("canary.yaml");
    c.open(&uri, "yaml", CANARY_ONE_LINE);
    let diags = c.diagnostics(&uri, "CL201", has("CL201"));
    let d = find(&diags, "CL201");
    // `60` on line 14: 134 UTF-16 units in (ü counts one, 🚀 two), 137 bytes.
    assert_eq!(
        d["range"],
        json!({"start": {"line": 14, "character": 134}, "end": {"line": 14, "character": 136}})
    );
    assert_range_of(d, CANARY_ONE_LINE, "60", 0, false);
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "canarylint");
    assert_eq!(
        d["codeDescription"]["href"],
        "https://github.com/canarylint/canarylint/blob/main/docs/rules/CL201.md"
    );
    let message = d["message"].as_str().unwrap();
    assert!(
        message.starts_with("stepWeight 60 exceeds maxWeight 50"),
        "{message}"
    );
    assert!(
        message.contains("\nhelp: set stepWeight to at most 50"),
        "{message}"
    );

    // An incremental change: `60` becomes `10`, the finding goes.
    let (l, ch) = (
        d["range"]["start"]["line"].clone(),
        d["range"]["start"]["character"].clone(),
    );
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": d["range"], "text": "10"}]
        }),
    );
    let diags = c.diagnostics_for_version(&uri, 2);
    assert!(!codes(&diags).contains(&"CL201".to_string()), "{diags:?}");

    // And back, typed in two quick edits: only the final text counts.
    let at = json!({"start": {"line": l, "character": ch}, "end": {"line": l, "character": ch.as_u64().unwrap() + 1}});
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"range": at, "text": "9"}]}),
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"range": at, "text": "7"}]}),
    );
    let diags = c.diagnostics_for_version(&uri, 4);
    let d = find(&diags, "CL201");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .starts_with("stepWeight 70 exceeds")
    );
    c.shutdown();
}

#[test]
fn utf8_is_used_when_the_client_offers_it() {
    let ws = Workspace::new(&[]);
    let mut c = Client::start(ws.dir.path(), true);
    assert_eq!(c.init["capabilities"]["positionEncoding"], "utf-8");
    let uri = ws.uri("canary.yaml");
    c.open(&uri, "yaml", CANARY_ONE_LINE);
    let diags = c.diagnostics(&uri, "CL201", has("CL201"));
    let d = find(&diags, "CL201");
    assert_eq!(
        d["range"],
        json!({"start": {"line": 14, "character": 137}, "end": {"line": 14, "character": 139}})
    );
    assert_range_of(d, CANARY_ONE_LINE, "60", 0, true);

    // Code action edits are in bytes too.
    let actions = c.code_actions(&uri, &d["range"]);
    let fix = actions
        .iter()
        .find(|a| a["title"] == "lower stepWeight to 50")
        .unwrap();
    let edit = &fix["edit"]["changes"][&uri][0];
    assert_eq!(edit["range"], d["range"]);
    assert_eq!(edit["newText"], "50");
}

#[test]
fn close_clears_diagnostics_and_plain_yaml_gets_none() {
    let ws = Workspace::new(&[]);
    let mut c = Client::start(ws.dir.path(), false);
    let plain = ws.uri("values.yaml");
    c.open(
        &plain,
        "yaml",
        "replicas: 3\nimage: {tag: latest}\nbroken: [\n",
    );
    let diags = c.diagnostics(&plain, "an empty list", |_| true);
    assert!(diags.is_empty(), "{diags:?}");

    let uri = ws.uri("canary.yaml");
    c.open(&uri, "yaml", CANARY);
    c.diagnostics(&uri, "CL201", has("CL201"));
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let cleared = c.wait_for("diagnostics cleared on close", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"] == json!([])
    });
    assert!(cleared["params"]["version"].is_null());
    c.shutdown();
}

#[test]
fn quick_fix_from_the_rule_removes_the_finding() {
    let ws = Workspace::new(&[]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("canary.yaml");
    c.open(&uri, "yaml", CANARY);
    let diags = c.diagnostics(&uri, "CL201", has("CL201"));
    let d = find(&diags, "CL201").clone();
    assert_range_of(&d, CANARY, "60", 0, false);
    let actions = c.code_actions(&uri, &d["range"]);
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"lower stepWeight to 50"), "{titles:?}");
    assert!(
        titles.contains(&"ignore CL201 for this resource"),
        "{titles:?}"
    );
    assert!(titles.contains(&"ignore CL201 on this line"), "{titles:?}");
    let fix = actions
        .iter()
        .find(|a| a["title"] == "lower stepWeight to 50")
        .unwrap();
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"][0]["code"], "CL201");
    let fixed = apply(CANARY, fix, &uri);
    assert!(fixed.contains("    stepWeight: 50\n"), "{fixed}");
    assert_eq!(fixed.len(), CANARY.len());
    c.replace_all(&uri, 2, &fixed);
    let diags = c.diagnostics_for_version(&uri, 2);
    assert!(!codes(&diags).contains(&"CL201".into()), "{diags:?}");
    c.shutdown();
}

/// Applies one action of a finding, and checks the finding is gone from the result.
fn apply_and_check(
    c: &mut Client,
    uri: &str,
    text: &str,
    version: i64,
    code: &str,
    title: &str,
) -> String {
    c.replace_all(uri, version, text);
    let diags = c.diagnostics_for_version(uri, version);
    let d = find(&diags, code).clone();
    let actions = c.code_actions(uri, &d["range"]);
    let action = actions
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| {
            panic!(
                "no action {title:?} among {:?}",
                actions.iter().map(|a| &a["title"]).collect::<Vec<_>>()
            )
        });
    let fixed = apply(text, action, uri);
    c.replace_all(uri, version + 1, &fixed);
    let after = c.diagnostics_for_version(uri, version + 1);
    assert!(
        !codes(&after).contains(&code.to_string()),
        "{code} still reported after {title:?}:\n{fixed}\n{after:?}"
    );
    // Nothing else appears because of the edit.
    for new in codes(&after) {
        assert!(
            codes(&diags).contains(&new),
            "{new} appeared after {title:?}:\n{fixed}"
        );
    }
    fixed
}

#[test]
fn ignore_actions_silence_the_finding() {
    let ws = Workspace::new(&[]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("canary.yaml");
    c.open(&uri, "yaml", "");

    // No annotations yet: `metadata.annotations` is created.
    let fixed = apply_and_check(
        &mut c,
        &uri,
        CANARY,
        2,
        "CL201",
        "ignore CL201 for this resource",
    );
    assert!(
        fixed.contains(
            "metadata:\n  annotations:\n    canarylint.io/ignore: CL201\n  name: podinfo\n"
        ),
        "{fixed}"
    );

    // An existing annotation list is extended.
    let text = CANARY.replace(
        "  namespace: test\n",
        "  namespace: test\n  annotations:\n    team: \"payments\" # owners\n    canarylint.io/ignore: CL202\n",
    );
    let fixed = apply_and_check(
        &mut c,
        &uri,
        &text,
        4,
        "CL201",
        "ignore CL201 for this resource",
    );
    assert!(
        fixed.contains("    canarylint.io/ignore: CL202, CL201\n"),
        "{fixed}"
    );
    assert!(
        fixed.contains("    team: \"payments\" # owners\n"),
        "{fixed}"
    );

    // Annotations without the ignore key get it.
    let text = CANARY.replace(
        "  namespace: test\n",
        "  namespace: test\n  annotations:\n    team: payments\n",
    );
    let fixed = apply_and_check(
        &mut c,
        &uri,
        &text,
        6,
        "CL201",
        "ignore CL201 for this resource",
    );
    assert!(
        fixed.contains("  annotations:\n    canarylint.io/ignore: CL201\n    team: payments\n"),
        "{fixed}"
    );

    // On the line: a comment at its end.
    let fixed = apply_and_check(
        &mut c,
        &uri,
        CANARY,
        8,
        "CL201",
        "ignore CL201 on this line",
    );
    assert!(
        fixed.contains("    stepWeight: 60 # canarylint-ignore CL201\n"),
        "{fixed}"
    );

    // A line that already has a comment gets one above it.
    let text = CANARY.replace("stepWeight: 60\n", "stepWeight: 60 # on purpose\n");
    let fixed = apply_and_check(
        &mut c,
        &uri,
        &text,
        10,
        "CL201",
        "ignore CL201 on this line",
    );
    assert!(
        fixed.contains("    # canarylint-ignore CL201\n    stepWeight: 60 # on purpose\n"),
        "{fixed}"
    );

    // An ignore comment that already applies to the line is extended.
    let text = CANARY.replace(
        "stepWeight: 60\n",
        "stepWeight: 60 # canarylint-ignore CL202 -- why\n",
    );
    let fixed = apply_and_check(
        &mut c,
        &uri,
        &text,
        12,
        "CL201",
        "ignore CL201 on this line",
    );
    assert!(
        fixed.contains("    stepWeight: 60 # canarylint-ignore CL202, CL201 -- why\n"),
        "{fixed}"
    );
    c.shutdown();
}

#[test]
fn ignore_for_resource_in_json() {
    let ws = Workspace::new(&[]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("canary.json");
    let text = r#"{
  "apiVersion": "flagger.app/v1beta1",
  "kind": "Canary",
  "metadata": {"name": "podinfo", "namespace": "test"},
  "spec": {
    "provider": "istio",
    "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
    "service": {"port": 9898},
    "analysis": {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 60}
  }
}
"#;
    c.open(&uri, "json", text);
    let diags = c.diagnostics(&uri, "CL201", has("CL201"));
    let d = find(&diags, "CL201").clone();
    let actions = c.code_actions(&uri, &d["range"]);
    assert!(
        !actions
            .iter()
            .any(|a| a["title"] == "ignore CL201 on this line"),
        "JSON has no comments"
    );
    let fixed = apply_and_check(
        &mut c,
        &uri,
        text,
        2,
        "CL201",
        "ignore CL201 for this resource",
    );
    assert!(
        fixed.contains(r#""metadata": {"name": "podinfo", "namespace": "test", "annotations": {"canarylint.io/ignore": "CL201"}},"#),
        "{fixed}"
    );
    serde_json::from_str::<Value>(&fixed).expect("still JSON");
}

#[test]
fn mirror_with_step_weight_becomes_iterations() {
    let ws = Workspace::new(&[]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("canary.yaml");
    c.open(&uri, "yaml", "");
    let text = CANARY
        .replace(
            "stepWeight: 60\n",
            "stepWeight: 20 # five steps\n    mirror: true\n",
        )
        .replace("    maxWeight: 50\n", "    maxWeight: 50   # the cap\n");
    let fixed = apply_and_check(
        &mut c,
        &uri,
        &text,
        2,
        "CL202",
        "replace stepWeight and maxWeight with `iterations: 3`",
    );
    assert!(
        fixed.contains("    webhooks: [{name: \"prüfung-🚀\", url: \"http://loadtester.test/\"}]\n    iterations: 3 # five steps\n    mirror: true\n"),
        "{fixed}"
    );
    assert!(!fixed.contains("maxWeight"), "{fixed}");

    // Without maxWeight the default of 100 counts.
    let text = CANARY
        .replace("    maxWeight: 50\n", "")
        .replace("stepWeight: 60\n", "stepWeight: 30\n    mirror: true\n");
    let fixed = apply_and_check(
        &mut c,
        &uri,
        &text,
        4,
        "CL202",
        "replace stepWeight with `iterations: 4`",
    );
    assert!(
        fixed.contains("    iterations: 4\n    mirror: true\n"),
        "{fixed}"
    );
    c.shutdown();
}

const GATEWAY: &str = "# The ingress gateway 🚪
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public-gateway
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts:
        - \"*.example.com\"
";

const ROUTED_CANARY: &str = "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
    gateways:
      - istio-system/public-gateway
      - mesh
    hosts:
      - podinfo.example.org
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
";

#[test]
fn workspace_gateway_gives_related_information_and_changes_relint() {
    let ws = Workspace::new(&[
        ("istio/gateway.yaml", GATEWAY),
        ("apps/podinfo/canary.yaml", ROUTED_CANARY),
        (
            ".hidden/gateway.yaml",
            &GATEWAY.replace("*.example.com", "*.example.org"),
        ),
    ]);
    let mut c = Client::start(ws.dir.path(), false);
    let registration = c.wait_for("the file watcher registration", |m| {
        m["method"] == "client/registerCapability"
    });
    let reg = &registration["params"]["registrations"][0];
    assert_eq!(reg["method"], "workspace/didChangeWatchedFiles");
    assert_eq!(
        reg["registerOptions"]["watchers"][0]["globPattern"],
        "**/*.{yaml,yml,json}"
    );

    let uri = ws.uri("apps/podinfo/canary.yaml");
    c.open(&uri, "yaml", ROUTED_CANARY);
    let diags = c.diagnostics(&uri, "CL102 from the indexed gateway", has("CL102"));
    let d = find(&diags, "CL102");
    assert_range_of(d, ROUTED_CANARY, "podinfo.example.org", 0, false);
    let related = &d["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], ws.uri("istio/gateway.yaml"));
    assert_eq!(
        related["message"],
        "hosts of gateway istio-system/public-gateway"
    );
    let hosts_at = GATEWAY.find("- \"*.example.com\"").unwrap();
    let (line, col) = position_of(GATEWAY, hosts_at, false);
    assert_eq!(
        related["location"]["range"]["start"],
        json!({"line": line, "character": col})
    );

    // The gateway opened in the editor wins over the file: served hosts change, the canary is
    // linted again without saving anything.
    let gw_uri = ws.uri("istio/gateway.yaml");
    let edited = GATEWAY.replace("*.example.com", "*.example.org");
    c.open(&gw_uri, "yaml", &edited);
    let diags = c.diagnostics(
        &uri,
        "no CL102 once the open gateway serves the host",
        |d| !has("CL102")(d),
    );
    assert!(!codes(&diags).contains(&"CL102".into()));
    let gw_diags = c.diagnostics(&gw_uri, "none for a gateway", |_| true);
    assert!(gw_diags.is_empty());

    // Closed again, the file on disk counts; then the file changes on disk.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": gw_uri}}),
    );
    c.diagnostics(&uri, "CL102 back from the file", has("CL102"));
    std::fs::write(ws.path("istio/gateway.yaml"), &edited).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": gw_uri, "type": 2}]}),
    );
    c.diagnostics(&uri, "no CL102 after the file changed", |d| {
        !has("CL102")(d)
    });

    // Back as it was, then deleted: a deleted gateway leaves the workspace, and CL102 has
    // nothing to compare the host with.
    std::fs::write(ws.path("istio/gateway.yaml"), GATEWAY).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": gw_uri, "type": 2}]}),
    );
    c.diagnostics(&uri, "CL102 with the original file", has("CL102"));
    std::fs::remove_file(ws.path("istio/gateway.yaml")).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": gw_uri, "type": 3}]}),
    );
    let diags = c.diagnostics(&uri, "no CL102 once the gateway is deleted", |d| {
        !has("CL102")(d)
    });
    assert!(!codes(&diags).contains(&"CL102".into()), "{diags:?}");
    c.shutdown();
}

#[test]
fn added_workspace_folders_are_read() {
    let apps = Workspace::new(&[("podinfo/canary.yaml", ROUTED_CANARY)]);
    let infra = Workspace::new(&[("istio/gateway.yaml", GATEWAY)]);
    let mut c = Client::start(apps.dir.path(), false);
    assert_eq!(
        c.init["capabilities"]["workspace"]["workspaceFolders"],
        json!({"supported": true, "changeNotifications": true})
    );
    let uri = apps.uri("podinfo/canary.yaml");
    c.open(&uri, "yaml", ROUTED_CANARY);
    let diags = c.diagnostics_for_version(&uri, 1);
    assert!(!codes(&diags).contains(&"CL102".into()), "{diags:?}");
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [{"uri": file_uri(infra.dir.path()), "name": "infra"}], "removed": []}}),
    );
    c.diagnostics(&uri, "CL102 once the infra folder is read", has("CL102"));
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": [{"uri": file_uri(infra.dir.path()), "name": "infra"}]}}),
    );
    c.diagnostics(&uri, "no CL102 once the folder is gone", |d| {
        !has("CL102")(d)
    });
    c.shutdown();
}

#[test]
fn kustomizations_place_the_workspace_and_their_patches_are_not_objects() {
    let canary = CANARY.replace("  namespace: test\n", "").replace(
        "    name: podinfo\n  service",
        "    name: podinf\n  service",
    );
    let deployment = "apiVersion: apps/v1
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
            - containerPort: 9898
";
    let patch = "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
spec:
  analysis:
    maxWeight: 30
";
    let kustomization = "namespace: test\nresources: [canary.yaml, deployment.yaml]\npatches:\n  - path: canary-patch.yaml\n";
    let ws = Workspace::new(&[
        ("app/kustomization.yaml", kustomization),
        ("app/deployment.yaml", deployment),
        ("app/canary.yaml", &canary),
        ("app/canary-patch.yaml", patch),
    ]);
    let mut c = Client::start(ws.dir.path(), false);
    // The kustomization puts the Canary and the Deployment in `test`, one unit read whole:
    // the misspelt target is missing there.
    let uri = ws.uri("app/canary.yaml");
    c.open(&uri, "yaml", &canary);
    let diags = c.diagnostics(&uri, "CL301 in the kustomization's namespace", has("CL301"));
    assert!(
        find(&diags, "CL301")["message"]
            .as_str()
            .unwrap()
            .contains("Deployment test/podinf does not exist"),
        "{diags:?}"
    );
    // The patch is a fragment of the Canary, not a Canary missing its fields.
    let patch_uri = ws.uri("app/canary-patch.yaml");
    c.open(&patch_uri, "yaml", patch);
    let diags = c.diagnostics_for_version(&patch_uri, 1);
    assert!(diags.is_empty(), "{diags:?}");
    // Once the kustomization no longer lists it, it is a Canary of its own.
    std::fs::write(
        ws.path("app/kustomization.yaml"),
        "namespace: test\nresources: [canary.yaml, deployment.yaml]\n",
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": ws.uri("app/kustomization.yaml"), "type": 2}]}),
    );
    c.diagnostics(&patch_uri, "CL001 once it is no patch", has("CL001"));
    c.shutdown();
}

#[test]
fn a_canary_with_a_syntax_error_shows_it() {
    let ws = Workspace::new(&[]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("canary.yaml");
    let broken = CANARY.replace("    threshold: 5\n", "    threshold: [5\n");
    c.open(&uri, "yaml", &broken);
    let diags = c.diagnostics(&uri, "CL000", has("CL000"));
    assert_eq!(find(&diags, "CL000")["severity"], 1);
    c.shutdown();
}

#[test]
fn workspace_configuration_applies() {
    let ws = Workspace::new(&[(".canarylint.yaml", "rules:\n  CL201: off\n")]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("apps/canary.yaml");
    let text = CANARY.replace(
        "targetRef:\n    apiVersion: apps/v1",
        "targetRef:\n    apiVersion: v1",
    );
    c.open(&uri, "yaml", &text);
    let diags = c.diagnostics(&uri, "CL308", has("CL308"));
    assert!(!codes(&diags).contains(&"CL201".into()), "{diags:?}");

    // The configuration changes: CL201 is a warning now.
    std::fs::write(ws.path(".canarylint.yaml"), "rules:\n  CL201: warning\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": ws.uri(".canarylint.yaml"), "type": 2}]}),
    );
    let diags = c.diagnostics(&uri, "CL201 as a warning", has("CL201"));
    assert_eq!(find(&diags, "CL201")["severity"], 2);
    c.shutdown();
}

/// Neovim's own client, headless: it starts `canarylint lsp` for a Canary, waits for the
/// diagnostics and writes them out as JSON.
const NVIM_INIT: &str = r#"
local out = os.getenv("CANARYLINT_TEST_OUT")
vim.api.nvim_create_autocmd("VimEnter", { callback = function()
  local buf = vim.api.nvim_get_current_buf()
  local config = {
    name = "canarylint",
    cmd = { os.getenv("CANARYLINT_TEST_BIN"), "lsp" },
    root_dir = os.getenv("CANARYLINT_TEST_ROOT"),
  }
  if vim.lsp.start then
    vim.lsp.start(config, { bufnr = buf })
  else
    -- Neovim 0.7 has no vim.lsp.start.
    vim.lsp.buf_attach_client(buf, vim.lsp.start_client(config))
  end
  local ok = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
  local items = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = (d.user_data and d.user_data.lsp) or {}
    table.insert(items, {
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      code = d.code or lsp.code, source = d.source, severity = d.severity, message = d.message,
    })
  end
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode({ ok = ok, diagnostics = items }))
  f:close()
  vim.cmd("qa!")
end })
"#;

#[test]
fn neovim_shows_the_diagnostics() {
    if Command::new("nvim").arg("--version").output().is_err() {
        eprintln!("skipped: `nvim` is not installed (apt-get install neovim)");
        return;
    }
    let ws = Workspace::new(&[("canary.yaml", CANARY), ("init.lua", NVIM_INIT)]);
    let out = ws.path("diagnostics.json");
    let state = ws.path("nvim-state");
    let mut nvim = Command::new("nvim")
        .args(["--headless", "-n", "-i", "NONE", "-u"])
        .arg(ws.path("init.lua"))
        .arg(ws.path("canary.yaml"))
        .current_dir(ws.dir.path())
        .env("CANARYLINT_TEST_OUT", &out)
        .env("CANARYLINT_TEST_BIN", env!("CARGO_BIN_EXE_canarylint"))
        .env("CANARYLINT_TEST_ROOT", ws.dir.path())
        .env("XDG_CONFIG_HOME", &state)
        .env("XDG_DATA_HOME", &state)
        .env("XDG_STATE_HOME", &state)
        .env("XDG_CACHE_HOME", &state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = nvim.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = nvim.kill();
            let _ = nvim.wait();
            panic!("Neovim did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    nvim.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "nvim exited with {status}: {stderr}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        report["ok"], true,
        "no diagnostics in Neovim: {report} {stderr}"
    );
    let diags = report["diagnostics"].as_array().unwrap();
    let d = diags
        .iter()
        .find(|d| d["code"] == "CL201")
        .unwrap_or_else(|| panic!("no CL201 in {report}"));
    let line = CANARY
        .lines()
        .position(|l| l.trim_start().starts_with("stepWeight:"))
        .unwrap();
    assert_eq!(d["lnum"], line as u64);
    assert_eq!(d["col"], 16);
    assert_eq!(d["source"], "canarylint");
    assert_eq!(d["severity"], 1);
}

#[test]
fn hover_on_analysis_shows_the_plan() {
    let ws = Workspace::new(&[]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("canary.yaml");
    c.open(&uri, "yaml", CANARY);
    c.diagnostics(&uri, "CL201", has("CL201"));
    let offset = CANARY.find("analysis:").unwrap() + 2;
    let (line, character) = position_of(CANARY, offset, false);
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
    );
    let text = hover["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{hover}"));
    assert!(text.contains("What Flagger will do"), "{text}");
    assert!(text.to_lowercase().contains("canary"), "{text}");
    // Elsewhere: no hover.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 1}}),
    );
    assert!(hover.is_null(), "{hover}");
    c.shutdown();
}

/// Whether a CL100 (could not be checked) is about the reference `name`.
fn unverified(name: &'static str) -> impl Fn(&[Value]) -> bool {
    move |d: &[Value]| {
        d.iter().any(|x| {
            x["code"] == "CL100" && x["message"].as_str().unwrap_or_default().contains(name)
        })
    }
}

/// The gateway of `GATEWAY`, renamed.
fn renamed_gateway() -> String {
    GATEWAY.replace("name: public-gateway", "name: private-gateway")
}

#[test]
fn gateway_renamed_in_an_open_document_or_on_disk_changes_the_canary_and_back() {
    let ws = Workspace::new(&[
        ("istio/gateway.yaml", GATEWAY),
        ("apps/podinfo/canary.yaml", ROUTED_CANARY),
    ]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("apps/podinfo/canary.yaml");
    c.open(&uri, "yaml", ROUTED_CANARY);
    c.diagnostics(&uri, "CL102 from the indexed gateway", has("CL102"));

    // Renamed in the editor: the canary's gateway is no longer known, only unverified.
    let gw_uri = ws.uri("istio/gateway.yaml");
    c.open(&gw_uri, "yaml", GATEWAY);
    c.diagnostics_for_version(&gw_uri, 1);
    c.replace_all(&gw_uri, 2, &renamed_gateway());
    let diags = c.diagnostics(
        &uri,
        "CL100 once the gateway is renamed",
        unverified("public-gateway"),
    );
    assert!(!codes(&diags).contains(&"CL102".into()), "{diags:?}");
    // Back to its name: the host check is back.
    c.replace_all(&gw_uri, 3, GATEWAY);
    let diags = c.diagnostics(&uri, "CL102 once the name is back", has("CL102"));
    assert!(!unverified("public-gateway")(&diags), "{diags:?}");
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": gw_uri}}),
    );

    // Renamed on disk.
    std::fs::write(ws.path("istio/gateway.yaml"), renamed_gateway()).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": gw_uri, "type": 2}]}),
    );
    c.diagnostics(&uri, "CL100 once renamed on disk", |d| {
        unverified("public-gateway")(d) && !has("CL102")(d)
    });
    std::fs::write(ws.path("istio/gateway.yaml"), GATEWAY).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": gw_uri, "type": 2}]}),
    );
    c.diagnostics(&uri, "CL102 once restored on disk", |d| {
        has("CL102")(d) && !unverified("public-gateway")(d)
    });

    // A new file defines the gateway a second time: judged from neither; deleted, the one
    // definition counts again.
    let twin = ws.path("istio/gateway-twin.yaml");
    let twin_uri = ws.uri("istio/gateway-twin.yaml");
    std::fs::write(&twin, GATEWAY.replace("*.example.com", "*.example.net")).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": twin_uri, "type": 1}]}),
    );
    c.diagnostics(&uri, "no CL102 while defined twice", |d| !has("CL102")(d));
    std::fs::remove_file(&twin).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": twin_uri, "type": 3}]}),
    );
    c.diagnostics(&uri, "CL102 once the twin is deleted", has("CL102"));
    c.shutdown();
}

#[test]
fn a_gateway_leaving_its_kustomization_stops_vouching_for_its_namespace() {
    // One kustomization: the canary names a gateway its bundle lacks, in a namespace where
    // the bundle has another: the gateway is missing (CL101).
    let canary = ROUTED_CANARY.replace("istio-system/public-gateway", "istio-system/other-gateway");
    let ws = Workspace::new(&[
        (
            "app/kustomization.yaml",
            "resources: [canary.yaml, gateway.yaml]\n",
        ),
        ("app/gateway.yaml", GATEWAY),
        ("app/canary.yaml", &canary),
    ]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("app/canary.yaml");
    c.open(&uri, "yaml", &canary);
    c.diagnostics(&uri, "CL101 for the missing gateway", has("CL101"));
    // The bundle's only gateway moves to another namespace: nothing vouches for
    // istio-system any more, the reference is only unverified.
    let gw_uri = ws.uri("app/gateway.yaml");
    let moved = GATEWAY.replace("namespace: istio-system", "namespace: edge");
    c.open(&gw_uri, "yaml", &moved);
    c.diagnostics(
        &uri,
        "CL100 once istio-system has no gateway of the bundle",
        |d| unverified("other-gateway")(d) && !has("CL101")(d),
    );
    c.replace_all(&gw_uri, 2, GATEWAY);
    c.diagnostics(&uri, "CL101 once it is back", |d| {
        has("CL101")(d) && !unverified("other-gateway")(d)
    });
    c.shutdown();
}

#[test]
fn a_step_weight_edit_lints_that_document_alone() {
    let other = ROUTED_CANARY.replace("name: podinfo\n  namespace", "name: backend\n  namespace");
    let ws = Workspace::new(&[
        ("istio/gateway.yaml", GATEWAY),
        ("apps/podinfo.yaml", ROUTED_CANARY),
        ("apps/backend.yaml", &other),
    ]);
    let mut c = Client::start(ws.dir.path(), false);
    let uri = ws.uri("apps/podinfo.yaml");
    let other_uri = ws.uri("apps/backend.yaml");
    c.open(&other_uri, "yaml", &other);
    c.diagnostics(&other_uri, "CL102", has("CL102"));
    c.open(&uri, "yaml", ROUTED_CANARY);
    c.diagnostics(&uri, "CL102", has("CL102"));
    // Settled: the other document was linted again for the first one's objects, or not.
    c.replace_all(&uri, 2, ROUTED_CANARY);
    c.diagnostics_for_version(&uri, 2);
    c.replace_all(&uri, 3, ROUTED_CANARY);
    c.diagnostics_for_version(&uri, 3);

    // Two stepWeight edits: no object another document could look up changes. A second
    // edit is waited for (after the debounce) so that a lint of the other document
    // triggered by the first would have been published before it.
    let before = c.publications(&other_uri);
    c.replace_all(
        &uri,
        4,
        &ROUTED_CANARY.replace("stepWeight: 10", "stepWeight: 7"),
    );
    c.diagnostics_for_version(&uri, 4);
    c.replace_all(
        &uri,
        5,
        &ROUTED_CANARY.replace("stepWeight: 10", "stepWeight: 20"),
    );
    c.diagnostics_for_version(&uri, 5);
    c.replace_all(&uri, 6, ROUTED_CANARY);
    c.diagnostics_for_version(&uri, 6);
    assert_eq!(
        c.publications(&other_uri),
        before,
        "the other document was linted again for a stepWeight edit"
    );

    // A new gateway in the same document changes the inventory: the other one is linted again.
    let with_gateway = format!(
        "{ROUTED_CANARY}---\n{}",
        GATEWAY.replace("name: public-gateway", "name: second-gateway")
    );
    c.replace_all(&uri, 7, &with_gateway);
    c.diagnostics_for_version(&uri, 7);
    c.diagnostics(&other_uri, "linted again for the new gateway", |_| true);
    assert!(c.publications(&other_uri) > before);
    c.shutdown();
}

#[test]
fn a_configuration_saved_or_changed_on_disk_applies_to_every_open_document() {
    let second = CANARY.replace("name: podinfo\n  namespace", "name: backend\n  namespace");
    let ws = Workspace::new(&[
        (".canarylint.yaml", "rules:\n  CL201: warning\n"),
        ("apps/podinfo.yaml", CANARY),
        ("apps/backend.yaml", &second),
    ]);
    let mut c = Client::start(ws.dir.path(), false);
    let uris = [ws.uri("apps/podinfo.yaml"), ws.uri("apps/backend.yaml")];
    c.open(&uris[0], "yaml", CANARY);
    c.diagnostics(&uris[0], "CL201", has("CL201"));
    c.open(&uris[1], "yaml", &second);
    c.diagnostics(&uris[1], "CL201", has("CL201"));

    // Edited and saved in the editor: CL201 is turned off.
    let config_uri = ws.uri(".canarylint.yaml");
    let off = "rules:\n  CL201: off\n";
    c.open(&config_uri, "yaml", "rules:\n  CL201: warning\n");
    c.replace_all(&config_uri, 2, off);
    std::fs::write(ws.path(".canarylint.yaml"), off).unwrap();
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": config_uri}}),
    );
    for uri in &uris {
        c.diagnostics(uri, "no CL201 once saved off", |d| !has("CL201")(d));
    }

    // Changed on disk by another program: an error now.
    std::fs::write(ws.path(".canarylint.yaml"), "rules:\n  CL201: error\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config_uri, "type": 2}]}),
    );
    for uri in &uris {
        let diags = c.diagnostics(uri, "CL201 as an error", has("CL201"));
        assert_eq!(find(&diags, "CL201")["severity"], 1);
    }
    c.shutdown();
}
