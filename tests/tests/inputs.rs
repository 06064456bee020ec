//! Real input patterns (see docs/fidelity.md, "Inputs: namespaces, bundles, overlays"): what
//! is applied together, namespaces that are only assumed, identities defined twice, broken
//! documents. Each case is written from a pattern seen in public repositories, reduced.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use canarylint::bundle::{Grouping, Layout, Placement, assign};
use canarylint::{Budget, Bundle, Finding, Input, Inventory, Linter, Severity, SourceFile, Unit};

fn source(name: &str, text: &str) -> Arc<SourceFile> {
    Arc::new(SourceFile::new(name, text))
}

/// Each file its own bundle, as `canarylint check FILE...` lints loose files.
fn lint(files: &[(&str, &str)]) -> Vec<Finding> {
    lint_with(Linter::new(canarylint_rules::ALL), files)
}

fn lint_with(linter: Linter, files: &[(&str, &str)]) -> Vec<Finding> {
    let sources = files.iter().map(|(n, t)| source(n, t)).collect();
    linter
        .lint_sources(sources, Vec::new(), &Budget::GENEROUS)
        .findings
}

/// The linter of `kubectl apply -n NS`.
fn with_namespace(ns: &str) -> Linter {
    let mut l = Linter::new(canarylint_rules::ALL);
    l.settings.default_namespace = ns.into();
    l.settings.namespace_assumed = false;
    l
}

fn codes(findings: &[Finding]) -> Vec<(&'static str, Severity, u32)> {
    findings
        .iter()
        .map(|f| (f.rule.code, f.severity, f.start.line))
        .collect()
}

fn loud(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .map(|f| format!("{}:{} {} {}", f.file, f.start.line, f.rule.code, f.message))
        .collect()
}

fn find<'a>(findings: &'a [Finding], code: &str, line: u32) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.rule.code == code && f.start.line == line)
        .unwrap_or_else(|| panic!("no {code} on line {line}: {:?}", codes(findings)))
}

/// A clean Canary (namespace line given by `ns`, target `target`).
fn canary(ns: &str, target: &str) -> String {
    format!(
        "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
{ns}spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {target}
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    iterations: 10
"
    )
}

fn deployment(ns: &str, name: &str, port: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
{ns}spec:
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: app
          image: ghcr.io/stefanprodan/podinfo:6.0.0
          ports:
            - name: http
              containerPort: {port}
"
    )
}

const NS_TEST: &str = "  namespace: test\n";

// 1. Assumed namespaces

#[test]
fn a_namespace_less_load_tester_does_not_make_the_assumed_namespace_complete() {
    // A repository applies everything with `kubectl -n test apply -f .`: the Canary and the
    // load tester name no namespace; the target is deployed by other means.
    let text = format!(
        "{}---\n{}",
        canary("", "podinfo"),
        deployment("", "flagger-loadtester", 8080)
    );
    let found = lint(&[("canary.yaml", &text)]);
    assert!(loud(&found).is_empty(), "{:?}", loud(&found));
    let f = find(&found, "CL100", 10);
    assert!(
        f.message
            .contains("the namespace default is only assumed (no metadata.namespace, and no --namespace given)"),
        "{}",
        f.message
    );
    assert!(f.help.as_deref().unwrap().contains("--namespace"));

    // Given the namespace, the file's Deployments are those of namespace test: the target
    // really is missing from it.
    let found = lint_with(with_namespace("test"), &[("canary.yaml", &text)]);
    let f = find(&found, "CL301", 10);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("Deployment test/podinfo does not exist"));
    assert_eq!(
        f.resource.as_ref().unwrap().namespace.as_deref(),
        Some("test")
    );
}

#[test]
fn objects_without_a_namespace_meet_a_canary_without_one() {
    // Both are applied with the same `-n`, whatever it is: the target is found, and checked.
    let text = format!(
        "{}---\n{}",
        canary("", "podinfo"),
        deployment("", "podinfo", 8080)
    );
    let found = lint(&[("app.yaml", &text)]);
    assert!(
        found.iter().any(|f| f.rule.code == "CL302"),
        "the target is read (port 8080, not 9898): {:?}",
        codes(&found)
    );
    assert!(!found.iter().any(|f| f.rule.code == "CL100"));
}

#[test]
fn a_namespace_less_target_beside_a_namespaced_canary_is_unverified() {
    // The Canary says `test`; the Deployment names no namespace, so it lands in test only
    // when applied there. Another Deployment of test makes the namespace known.
    let text = format!(
        "{}---\n{}---\n{}",
        canary(NS_TEST, "podinfo"),
        deployment("", "podinfo", 9898),
        deployment(NS_TEST, "other", 9898)
    );
    let found = lint(&[("app.yaml", &text)]);
    assert!(loud(&found).is_empty(), "{:?}", loud(&found));
    let f = find(&found, "CL100", 11);
    assert!(
        f.message
            .contains("a Deployment podinfo without metadata.namespace is defined"),
        "{}",
        f.message
    );
    assert_eq!(f.related.len(), 1);
    assert_eq!(
        f.related[0].location.as_ref().unwrap().start.line,
        22,
        "points at the namespace-less Deployment's name"
    );
}

// 2. Unrelated bundles

#[test]
fn one_examples_templates_do_not_make_a_namespace_complete_for_another() {
    // A folder of independent tutorials: one defines MetricTemplates in `test`, another
    // references a template it expects to be installed.
    let a = canary(NS_TEST, "podinfo").replace(
        "    iterations: 10\n",
        "    iterations: 10\n    metrics:\n      - name: db\n        templateRef:\n          name: db-connections\n        thresholdRange:\n          max: 100\n",
    );
    let b = "apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: latency
  namespace: test
spec:
  provider:
    type: prometheus
    address: http://prometheus.istio-system:9090
  query: up
";
    let found = lint(&[("a.yaml", &a), ("b.yaml", b)]);
    assert!(loud(&found).is_empty(), "{:?}", loud(&found));
    let f = find(&found, "CL100", 21);
    assert!(
        f.message
            .contains("MetricTemplate test/db-connections could not be checked")
    );

    // Applied together (`--bundle all`), b's templates are the namespace's: a's is missing.
    let both = format!("{a}---\n{b}");
    let found = lint(&[("ab.yaml", &both)]);
    assert_eq!(find(&found, "CL404", 21).severity, Severity::Error);
}

#[test]
fn did_you_mean_offers_only_the_objects_applied_together() {
    // The file's own template is `error-rate`; another file has `latency`, the near name.
    let a = canary(NS_TEST, "podinfo").replace(
        "    iterations: 10\n",
        "    iterations: 10\n    metrics:\n      - name: latency\n        templateRef:\n          name: latncy\n        thresholdRange:\n          max: 500\n",
    ) + "---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: error-rate
  namespace: test
spec:
  provider:
    type: prometheus
    address: http://prometheus:9090
  query: up
";
    let other = "apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: latency
  namespace: test
spec:
  provider:
    type: prometheus
    address: http://prometheus:9090
  query: up
";
    let found = lint(&[("a.yaml", &a), ("other.yaml", other)]);
    let f = find(&found, "CL404", 21);
    let help = f.help.as_deref().unwrap();
    assert!(!help.contains("latency"), "{help}");
    // Nor is an unrelated name of the namespace offered.
    assert!(!help.contains("error-rate"), "{help}");
    assert!(
        help.contains("create the MetricTemplate test/latncy"),
        "{help}"
    );
    // In one unit, the near name is offered.
    let found = lint(&[("all.yaml", &format!("{a}---\n{other}"))]);
    let help = find(&found, "CL404", 21).help.clone().unwrap();
    assert!(help.contains("did you mean `latency`"), "{help}");
}

#[test]
fn another_files_object_is_found_but_never_makes_a_reference_missing() {
    let found = lint(&[
        ("canary.yaml", &canary(NS_TEST, "podinfo")),
        ("deployment.yaml", &deployment(NS_TEST, "podinfo", 9898)),
    ]);
    assert!(found.is_empty(), "{:?}", codes(&found));
    let found = lint(&[
        ("canary.yaml", &canary(NS_TEST, "podinf")),
        ("deployment.yaml", &deployment(NS_TEST, "podinfo", 9898)),
    ]);
    assert_eq!(codes(&found), [("CL100", Severity::Info, 11)]);
}

// 3. One identity, two definitions

#[test]
fn two_definitions_in_one_unit_are_judged_from_neither() {
    let text = format!(
        "{}---\n{}---\n{}",
        canary(NS_TEST, "podinfo"),
        deployment(NS_TEST, "podinfo", 9898),
        deployment(NS_TEST, "podinfo", 8080)
    );
    let found = lint(&[("app.yaml", &text)]);
    assert!(
        loud(&found).is_empty(),
        "no CL302 from either: {:?}",
        loud(&found)
    );
    let f = find(&found, "CL100", 11);
    assert!(
        f.message
            .contains("Deployment test/podinfo is defined 2 times in manifests applied together"),
        "{}",
        f.message
    );
    let lines: Vec<u32> = f
        .related
        .iter()
        .map(|r| r.location.as_ref().unwrap().start.line)
        .collect();
    assert_eq!(lines, [22, 43], "both places");
}

#[test]
fn definitions_in_two_other_files_are_alternatives() {
    // A flat folder of experiments: two files each carry their own copy of the target.
    let found = lint(&[
        ("canary.yaml", &canary(NS_TEST, "podinfo")),
        ("v1.yaml", &deployment(NS_TEST, "podinfo", 9898)),
        ("v2.yaml", &deployment(NS_TEST, "podinfo", 8080)),
    ]);
    assert!(loud(&found).is_empty(), "{:?}", loud(&found));
    let f = find(&found, "CL100", 11);
    assert!(
        f.message.contains("in files not applied together"),
        "{}",
        f.message
    );
    // The Canary's own copy wins over the others.
    let own = format!(
        "{}---\n{}",
        canary(NS_TEST, "podinfo"),
        deployment(NS_TEST, "podinfo", 8080)
    );
    let found = lint(&[
        ("app.yaml", &own),
        ("v1.yaml", &deployment(NS_TEST, "podinfo", 9898)),
    ]);
    assert!(
        found.iter().any(|f| f.rule.code == "CL302"),
        "{:?}",
        codes(&found)
    );
}

// 4 and 5. Broken documents

#[test]
fn a_broken_document_breaks_only_itself_and_its_object_is_not_called_missing() {
    // The Deployment's indentation is broken; the other Deployment makes `test` known; the
    // Canary after the broken document is still read, and its mistake found.
    let broken = deployment(NS_TEST, "podinfo", 9898).replace("  selector:", " selector:");
    let text = format!(
        "{}---\n{}---\n{}",
        deployment(NS_TEST, "other", 9898),
        broken,
        canary(NS_TEST, "podinfo").replace("iterations: 10", "stepWeight: 60\n    maxWeight: 50")
    );
    let found = lint(&[("app.yaml", &text)]);
    let parse = found.iter().find(|f| f.rule.code == "CL000").unwrap();
    assert!(
        !found.iter().any(|f| f.rule.code == "CL301"),
        "{:?}",
        codes(&found)
    );
    assert!(
        found.iter().any(|f| f.rule.code == "CL201"),
        "the Canary after it is linted"
    );
    let f = find(&found, "CL100", 53);
    assert!(f.message.contains("does not parse"), "{}", f.message);
    let at = f.related[0].location.as_ref().unwrap();
    assert_eq!(
        (at.start.line, at.start.column),
        (parse.start.line, parse.start.column),
        "points at its CL000"
    );
}

#[test]
fn a_document_broken_before_its_name_keeps_every_namespace_open() {
    // Nothing tells what the broken document was: no Deployment of the file can be missing.
    let text = format!(
        "{}---\napiVersion: [apps/v1\n---\n{}",
        deployment(NS_TEST, "other", 9898),
        canary(NS_TEST, "podinfo")
    );
    let found = lint(&[("app.yaml", &text)]);
    assert!(
        !found.iter().any(|f| f.rule.code == "CL301"),
        "{:?}",
        codes(&found)
    );
    assert!(found.iter().any(|f| f.rule.code == "CL000"));
}

// 3. Kustomize overlays (placement by kustomization, no disk involved)

#[test]
fn a_kustomize_patch_is_never_the_object() {
    let kustomization = canarylint::kustomize::parse(
        "namespace: test\nresources: [canary.yaml, deployment.yaml, hpa.yaml]\npatches:\n  - path: hpa-patch.yaml\n",
    )
    .unwrap();
    let mut layout = Layout::new();
    layout.add("/r/app", kustomization);
    let hpa = "apiVersion: autoscaling/v2
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
    let patch = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: podinfo
spec:
  maxReplicas: 8
";
    let with_hpa = canary("", "podinfo").replace(
        "  service:",
        "  autoscalerRef:\n    apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler\n    name: podinfo\n  service:",
    );
    let files = [
        ("/r/app/canary.yaml", with_hpa.as_str()),
        ("/r/app/deployment.yaml", &deployment("", "podinfo", 9898)),
        ("/r/app/hpa.yaml", hpa),
        ("/r/app/hpa-patch.yaml", patch),
    ];
    let paths: Vec<Option<&str>> = files.iter().map(|(p, _)| Some(*p)).collect();
    let a = assign(&paths, &layout, Grouping::File);
    assert!(a.partial.is_empty());
    let inputs: Vec<Input> = files
        .iter()
        .zip(a.placements)
        .filter_map(|((name, text), p)| match p {
            Placement::Objects(unit) => Some(Input {
                source: source(name, text),
                unit,
            }),
            Placement::Patch { .. } => None,
        })
        .collect();
    assert_eq!(inputs.len(), 3);
    let run = Linter::new(canarylint_rules::ALL).lint_inputs(
        Inventory::new(),
        inputs,
        Vec::new(),
        &a.partial,
        &Budget::GENEROUS,
    );
    assert!(run.findings.is_empty(), "{:?}", codes(&run.findings));
    // The kustomization's namespace is the objects' namespace: nothing is assumed.
    let hpa = run
        .inventory
        .lookup(canarylint::Kind::HorizontalPodAutoscaler, "test", "podinfo");
    assert!(hpa.found().is_some_and(|o| !o.namespace_assumed));
}

#[test]
fn a_kustomization_read_in_part_vouches_for_nothing() {
    // Only the Canary and one of two Deployments of the kustomization were given (a
    // pre-commit hook passes the changed files): the other may be the target.
    let unit = Unit {
        bundle: Bundle::Input(0),
        namespace: Some("test".into()),
    };
    let inputs = vec![
        Input {
            source: source("canary.yaml", &canary("", "podinfo")),
            unit: unit.clone(),
        },
        Input {
            source: source("other.yaml", &deployment("", "other", 9898)),
            unit,
        },
    ];
    let lint = |partial: &[Bundle]| {
        Linter::new(canarylint_rules::ALL)
            .lint_inputs(
                Inventory::new(),
                inputs.clone(),
                Vec::new(),
                partial,
                &Budget::GENEROUS,
            )
            .findings
    };
    assert_eq!(
        codes(&lint(&[Bundle::Input(0)])),
        [("CL100", Severity::Info, 10)]
    );
    assert_eq!(codes(&lint(&[])), [("CL301", Severity::Error, 10)]);
}

/// Files as they are on disk when read again: `None` for a file gone.
struct Disk(Vec<(&'static str, Option<String>)>);

impl canarylint::Reread for Disk {
    fn can_reread(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| *n == name)
    }
    fn reread(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(n, _)| *n == name)?.1.clone()
    }
}

fn lint_reread(
    files: &[(&'static str, String)],
    disk: Option<Disk>,
    retain: canarylint::Retain,
) -> canarylint::LintRun {
    let mut linter = Linter::new(canarylint_rules::ALL);
    linter.retain = retain;
    linter.reread = disk.map(|d| Arc::new(d) as Arc<dyn canarylint::Reread>);
    let sources = files.iter().map(|(n, t)| source(n, t)).collect();
    linter.lint_sources(sources, Vec::new(), &Budget::GENEROUS)
}

fn described(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}:{} {}",
                f.rule.code, f.file, f.start.line, f.start.column, f.message
            )
        })
        .collect()
}

#[test]
fn a_file_read_again_unchanged_is_linted_as_if_it_had_been_kept() {
    let files = [
        ("canary.yaml", canary("test", "podinfo")),
        ("deployment.yaml", deployment("test", "other", 9898)),
    ];
    let kept = lint_reread(&files, None, canarylint::Retain::ALL);
    assert!(!kept.findings.is_empty());
    let disk = || Disk(files.iter().map(|(n, t)| (*n, Some(t.clone()))).collect());
    for retain in [canarylint::Retain::ALL, canarylint::Retain::NOTHING] {
        let run = lint_reread(&files, Some(disk()), retain);
        assert_eq!(described(&run.findings), described(&kept.findings));
        assert!(run.changed.is_empty(), "{:?}", run.changed);
        // Let go again once linted, whatever is retained: it can be read again.
        let canary = &run.files[0].source;
        assert!(canary.is_released());
        assert!(canary.restore(files[0].1.clone()).is_ok());
    }
}

#[test]
fn a_file_changed_between_the_passes_is_linted_as_it_is_now_and_named() {
    let files = [
        ("canary.yaml", canary("test", "podinfo")),
        ("deployment.yaml", deployment("test", "other", 9898)),
    ];
    let kept = lint_reread(&files, None, canarylint::Retain::NOTHING);
    assert!(!kept.findings.is_empty());
    // A line added at the top: the spans of the trees first read are one line off.
    let edited = format!("# edited\n{}", files[0].1);
    let disk = Disk(vec![
        ("canary.yaml", Some(edited)),
        ("deployment.yaml", Some(files[1].1.clone())),
    ]);
    let run = lint_reread(&files, Some(disk), canarylint::Retain::NOTHING);
    assert_eq!(run.changed, [Arc::<str>::from("canary.yaml")]);
    let shifted: Vec<(&str, u32)> = kept
        .findings
        .iter()
        .map(|f| (f.rule.code, f.start.line + 1))
        .collect();
    let now: Vec<(&str, u32)> = run
        .findings
        .iter()
        .map(|f| (f.rule.code, f.start.line))
        .collect();
    assert_eq!(now, shifted);

    // Gone before the second pass: not linted, and named.
    let disk = Disk(vec![
        ("canary.yaml", None),
        ("deployment.yaml", Some(files[1].1.clone())),
    ]);
    let run = lint_reread(&files, Some(disk), canarylint::Retain::NOTHING);
    assert_eq!(run.changed, [Arc::<str>::from("canary.yaml")]);
    assert!(
        run.findings.iter().all(|f| &*f.file != "canary.yaml"),
        "{:?}",
        described(&run.findings)
    );
}

#[test]
fn inputs_released_before_the_run_are_read_when_it_gets_to_them() {
    let files = [
        ("canary.yaml", canary("test", "podinfo")),
        ("deployment.yaml", deployment("test", "other", 9898)),
    ];
    let kept = lint_reread(&files, None, canarylint::Retain::NOTHING);
    assert!(!kept.findings.is_empty());
    let released = |disk: Disk| {
        let mut linter = Linter::new(canarylint_rules::ALL);
        linter.retain = canarylint::Retain::NOTHING;
        linter.reread = Some(Arc::new(disk));
        let sources = files
            .iter()
            .map(|(n, t)| Arc::new(SourceFile::new(*n, t.as_str()).release()))
            .collect();
        linter.lint_sources(sources, Vec::new(), &Budget::GENEROUS)
    };
    let run = released(Disk(
        files.iter().map(|(n, t)| (*n, Some(t.clone()))).collect(),
    ));
    assert_eq!(described(&run.findings), described(&kept.findings));
    assert!(run.changed.is_empty());
    assert_eq!(run.documents, kept.documents);

    // The Deployment gone before the run read it: named, and the Canary linted without it.
    let run = released(Disk(vec![
        ("canary.yaml", Some(files[0].1.clone())),
        ("deployment.yaml", None),
    ]));
    assert_eq!(run.changed, [Arc::<str>::from("deployment.yaml")]);
    assert_eq!(run.documents, kept.documents - 1);
}
