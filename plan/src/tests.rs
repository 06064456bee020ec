use std::sync::Arc;

use super::*;
use canarylint::document::{Kind, read};
use canarylint::inventory::Inventory;
use canarylint::source::SourceFile;
use canarylint::yaml::Budget;

/// A Canary with `provider`, extra `service` lines and extra `analysis` lines (each list of
/// lines is indented for its block here).
fn canary(provider: &str, service: &[&str], analysis: &[&str]) -> String {
    let indent = |lines: &[&str], n: usize| -> String {
        lines
            .iter()
            .map(|l| format!("{}{l}\n", " ".repeat(n)))
            .collect()
    };
    format!(
        "apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  provider: {provider}
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
{}  analysis:
    interval: 1m
    threshold: 5
{}    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
    webhooks:
      - name: load-test
        url: http://flagger-loadtester.test/
        timeout: 5s
",
        indent(service, 4),
        indent(analysis, 4)
    )
}

fn plan_with(text: &str, inventory: Option<&Inventory>) -> Plan {
    let file = read(Arc::new(SourceFile::new("t.yaml", text)), &Budget::GENEROUS);
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    let doc = file
        .documents
        .iter()
        .find(|d| d.kind == Kind::Canary)
        .unwrap();
    plan(
        &CanaryView::new(doc).unwrap(),
        &Settings::default(),
        inventory.map(Inventory::view),
    )
}

fn plan_of(text: &str) -> Plan {
    plan_with(text, None)
}

fn weights(p: &Plan) -> Vec<u32> {
    p.steps.iter().map(|s| s.weight).collect()
}

fn stages(p: &Plan) -> Vec<Stage> {
    p.steps.iter().map(|s| s.stage).collect()
}

fn analyses_until_promotion(p: &Plan) -> usize {
    p.steps
        .iter()
        .take_while(|s| s.stage != Stage::PromotionStep && s.stage != Stage::Finalise)
        .filter(|s| !s.metrics.is_empty())
        .count()
}

fn default_for<'p>(p: &'p Plan, field: &str) -> Option<&'p DefaultApplied> {
    p.defaults_applied.iter().find(|d| d.field == field)
}

fn hook_types(s: &Step) -> Vec<&str> {
    s.hooks.iter().map(|h| h.type_.as_str()).collect()
}

#[test]
fn step_weight_to_max_weight() {
    let p = plan_of(&canary("istio", &[], &["maxWeight: 50", "stepWeight: 10"]));
    assert_eq!(p.strategy.kind, StrategyKind::CanaryStepWeight);
    // detect, then 10..50, then promote, traffic back, finalise.
    assert_eq!(weights(&p), vec![0, 10, 20, 30, 40, 50, 50, 0, 0]);
    use Stage::*;
    assert_eq!(
        stages(&p),
        vec![
            Detect,
            Start,
            Analysis,
            Analysis,
            Analysis,
            Analysis,
            Promote,
            PromotionStep,
            Finalise
        ]
    );
    // Promotion follows the fifth analysis: the one that measured 50%.
    assert_eq!(analyses_until_promotion(&p), 5);
    assert_eq!(p.promotion_after_seconds, Some(360));
    assert_eq!(p.completed_after_seconds, Some(480));
    assert_eq!(p.rollback_after_seconds, 300);
    // The routes are shown at the peak: 50%.
    assert_eq!(p.routes_at_step, 5);
    // Run 1 routes the first weight without an analysis: no rollout hook yet.
    assert!(p.steps[1].hooks.is_empty() && p.steps[1].metrics.is_empty());
    assert_eq!(hook_types(&p.steps[2]), vec!["rollout"]);
    assert_eq!(p.steps[2].metrics[0].interval, "1m");
}

#[test]
fn hooks_fire_at_their_stages() {
    let mut text = canary("istio", &[], &["maxWeight: 20", "stepWeight: 10"]);
    text.push_str(
        "      - {name: gate, type: confirm-rollout, url: http://x/}
      - {name: smoke, type: pre-rollout, url: http://x/}
      - {name: more, type: confirm-traffic-increase, url: http://x/}
      - {name: ship, type: confirm-promotion, url: http://x/}
      - {name: notify, type: post-rollout, url: http://x/}
      - {name: stop, type: rollback, url: http://x/}
      - {name: log, type: event, url: http://x/}
",
    );
    let p = plan_of(&text);
    assert_eq!(hook_types(&p.steps[0]), vec!["confirm-rollout"]);
    assert_eq!(
        hook_types(&p.steps[1]),
        vec!["pre-rollout", "confirm-traffic-increase"]
    );
    assert_eq!(
        hook_types(&p.steps[2]),
        vec!["rollout", "confirm-traffic-increase"]
    );
    // nextStepWeight is still positive at the top, so the traffic-increase gate is asked even
    // in the run that promotes.
    assert_eq!(
        hook_types(&p.steps[3]),
        vec!["rollout", "confirm-traffic-increase", "confirm-promotion"]
    );
    assert_eq!(p.steps[3].stage, Stage::Promote);
    assert_eq!(hook_types(&p.steps[5]), vec!["post-rollout"]);
    let conditional: Vec<&str> = p
        .conditional_hooks
        .iter()
        .map(|h| h.type_.as_str())
        .collect();
    assert_eq!(conditional, vec!["post-rollout", "rollback", "event"]);
    // Webhook defaults: `more` and the others have no timeout.
    assert_eq!(
        default_for(&p, "spec.analysis.webhooks[1].timeout")
            .unwrap()
            .value,
        "10s"
    );
    assert!(default_for(&p, "spec.analysis.webhooks[0].timeout").is_none());
}

#[test]
fn step_weights_follow_the_list() {
    let p = plan_of(&canary(
        "istio",
        &[],
        &["maxWeight: 50", "stepWeights: [1, 2, 10, 80]"],
    ));
    assert_eq!(p.strategy.kind, StrategyKind::CanaryStepWeights);
    assert_eq!(weights(&p), vec![0, 1, 2, 10, 80, 80, 0, 0]);
    assert_eq!(p.steps[5].stage, Stage::Promote);
    assert_eq!(analyses_until_promotion(&p), 4);
    let d = default_for(&p, "spec.analysis.maxWeight").unwrap();
    assert_eq!(d.value, "80");
    assert!(d.reason.contains("ignored"), "{}", d.reason);
}

#[test]
fn step_weights_above_100_promote_at_100() {
    let p = plan_of(&canary("istio", &[], &["stepWeights: [10, 20, 150]"]));
    assert_eq!(weights(&p), vec![0, 10, 20, 100, 100, 0, 0]);
}

#[test]
fn decreasing_step_weights_stall() {
    let p = plan_of(&canary("istio", &[], &["stepWeights: [10, 5, 20]"]));
    assert_eq!(weights(&p), vec![0, 10, 10]);
    assert_eq!(p.stalls_at_step, Some(2));
    assert_eq!(p.promotion_after_seconds, None);
    assert!(p.notes.iter().any(|n| n.level == NoteLevel::Blocker));
}

#[test]
fn step_weight_above_max_weight_promotes_after_one_step() {
    let p = plan_of(&canary("istio", &[], &["maxWeight: 20", "stepWeight: 30"]));
    assert_eq!(weights(&p), vec![0, 30, 30, 0, 0]);
    assert_eq!(p.steps[2].stage, Stage::Promote);
}

#[test]
fn blue_green_with_mirroring() {
    let p = plan_of(&canary("istio", &[], &["iterations: 10", "mirror: true"]));
    assert_eq!(p.strategy.kind, StrategyKind::BlueGreenMirroring);
    let mirrored: Vec<usize> = p
        .steps
        .iter()
        .filter(|s| s.mirrored)
        .map(|s| s.index)
        .collect();
    assert_eq!(mirrored, (1..=10).collect::<Vec<_>>());
    // Ten analyses of mirrored traffic (runs 2..=11), then one of live traffic, then promotion.
    let analysed_mirror = p
        .steps
        .windows(2)
        .filter(|w| w[0].mirrored && !w[1].metrics.is_empty())
        .count();
    assert_eq!(analysed_mirror, 10);
    assert_eq!(p.steps[11].weight, 100);
    assert!(p.steps[11].action.contains("stop mirroring"));
    assert_eq!(p.steps[12].stage, Stage::Promote);
    assert_eq!(hook_types(&p.steps[11]), vec!["rollout"]);
    assert_eq!(
        default_for(&p, "spec.analysis.mirrorWeight").unwrap().value,
        "100"
    );
    assert_eq!(p.routes_at_step, 10);
    assert!(p.routes_step().unwrap().mirrored);
}

#[test]
fn canary_with_a_mirroring_pre_stage() {
    let p = plan_of(&canary(
        "istio",
        &[],
        &["maxWeight: 30", "stepWeight: 10", "mirror: true"],
    ));
    assert_eq!(p.strategy.kind, StrategyKind::CanaryMirroring);
    assert!(p.steps[1].mirrored);
    assert_eq!(p.steps[1].weight, 0);
    assert_eq!(p.steps[2].weight, 10);
    assert!(!p.steps[2].mirrored);
    // The mirrored interval is analysed; no traffic increase is confirmed while mirrored.
    assert_eq!(p.steps[2].stage, Stage::Analysis);
    assert!(!p.steps[2].metrics.is_empty());
    assert_eq!(weights(&p), vec![0, 0, 10, 20, 30, 30, 0, 0]);
}

#[test]
fn mirror_on_gateway_api_canary_stalls() {
    let text = canary(
        "gatewayapi:v1",
        &[
            "gatewayRefs:",
            "  - name: gw",
            "    namespace: istio-ingress",
        ],
        &["maxWeight: 30", "stepWeight: 10", "mirror: true"],
    );
    let p = plan_of(&text);
    assert_eq!(p.stalls_at_step, Some(1));
    assert_eq!(p.steps[1].weight, 0);
    assert!(!p.steps[1].mirrored);
    assert_eq!(p.promotion_after_seconds, None);
}

#[test]
fn gradual_promotion() {
    let p = plan_of(&canary(
        "istio",
        &[],
        &["maxWeight: 50", "stepWeight: 25", "stepWeightPromotion: 20"],
    ));
    let promo: Vec<(u32, u32)> = p
        .steps
        .iter()
        .filter(|s| s.stage == Stage::PromotionStep)
        .map(|s| (s.primary_weight, s.weight))
        .collect();
    assert_eq!(promo, vec![(70, 30), (90, 10), (100, 0)]);
    assert_eq!(p.steps.last().unwrap().stage, Stage::Finalise);
    assert!(default_for(&p, "spec.analysis.stepWeightPromotion").is_none());
}

#[test]
fn ab_testing() {
    let p = plan_of(&canary(
        "istio",
        &[],
        &[
            "iterations: 10",
            "match:",
            "  - headers:",
            "      x-canary:",
            "        exact: insider",
        ],
    ));
    assert_eq!(p.strategy.kind, StrategyKind::AbTesting);
    assert_eq!(analyses_until_promotion(&p), 10);
    assert_eq!(p.steps[11].stage, Stage::Promote);
    assert!(p.steps[1..=10].iter().all(|s| s.weight == 100));
    let vs = p
        .generated
        .iter()
        .find(|g| g.kind == "VirtualService")
        .unwrap();
    let http = vs.manifest.as_ref().unwrap().0["spec"]["http"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(http.len(), 2);
    assert_eq!(
        http[0]["match"][0]["headers"]["x-canary"]["exact"],
        "insider"
    );
    assert_eq!(http[0]["route"][1]["weight"], 100);
    assert!(http[1]["route"][0].get("weight").is_none());
}

#[test]
fn kubernetes_provider_forces_blue_green() {
    let p = plan_of(&canary(
        "kubernetes",
        &[],
        &[
            "stepWeight: 10",
            "match:",
            "  - headers:",
            "      x-canary:",
            "        exact: insider",
        ],
    ));
    assert_eq!(p.strategy.kind, StrategyKind::BlueGreen);
    assert_eq!(
        default_for(&p, "spec.analysis.iterations").unwrap().value,
        "10"
    );
    assert_eq!(
        default_for(&p, "spec.analysis.match").unwrap().value,
        "(dropped)"
    );
    assert!(p.steps.iter().all(|s| s.weight == 0));
    // Pre-rollout at run 1, iterations 2..=11 analysed, run 12 promotes.
    assert_eq!(p.steps[12].stage, Stage::Promote);
    assert_eq!(p.steps[13].stage, Stage::PromotionStep);
    assert_eq!(p.promotion_after_seconds, Some(720));
    // No VirtualService: the apex Service is the router.
    assert!(p.generated.iter().all(|g| g.kind != "VirtualService"));
}

#[test]
fn interval_and_threshold_rewrites() {
    let text = canary("istio", &[], &["stepWeight: 50"]).replace(
        "interval: 1m\n    threshold: 5",
        "interval: 5s\n    threshold: 0",
    );
    let p = plan_of(&text);
    assert_eq!(p.interval_seconds, 10);
    assert_eq!(
        default_for(&p, "spec.analysis.interval").unwrap().value,
        "10s"
    );
    assert_eq!(
        default_for(&p, "spec.analysis.threshold").unwrap().value,
        "1"
    );
    assert_eq!(p.rollback_after_seconds, 10);
    assert_eq!(
        default_for(&p, "spec.analysis.maxWeight").unwrap().value,
        "100"
    );

    let text = canary("istio", &[], &["stepWeight: 50"])
        .replace("interval: 1m\n    threshold", "interval: 1d\n    threshold");
    let p = plan_of(&text);
    assert_eq!(p.interval_seconds, 60);
    assert!(
        default_for(&p, "spec.analysis.interval")
            .unwrap()
            .reason
            .contains("not a Go duration")
    );
}

#[test]
fn service_and_hook_defaults() {
    let p = plan_of(&canary("istio", &[], &["stepWeight: 50"]));
    assert_eq!(
        default_for(&p, "spec.service.name").unwrap().value,
        "podinfo"
    );
    assert_eq!(
        default_for(&p, "spec.service.portName").unwrap().value,
        "http"
    );
    assert_eq!(
        default_for(&p, "spec.service.targetPort").unwrap().value,
        "9898"
    );
    assert_eq!(
        default_for(&p, "spec.analysis.webhooks[0].type")
            .unwrap()
            .value,
        "rollout"
    );
    assert_eq!(
        default_for(&p, "spec.service.gateways").unwrap().value,
        "[mesh]"
    );
    assert_eq!(
        default_for(&p, "spec.service.hosts").unwrap().value,
        "[podinfo]"
    );
    assert!(default_for(&p, "spec.analysis.metrics[0].interval").is_none());
    let names: Vec<String> = p
        .generated
        .iter()
        .map(|g| format!("{} {}", g.kind, g.name))
        .collect();
    assert_eq!(
        names,
        vec![
            "Service podinfo",
            "Service podinfo-primary",
            "Service podinfo-canary",
            "Deployment podinfo-primary",
            "DestinationRule podinfo-primary",
            "DestinationRule podinfo-canary",
            "VirtualService podinfo",
        ]
    );
    let apex = p.generated[0].manifest.as_ref().unwrap();
    assert_eq!(apex.0["spec"]["selector"]["app"], "podinfo-primary");
    assert_eq!(apex.0["spec"]["ports"][0]["targetPort"], 9898);
    let canary_svc = p.generated[2].manifest.as_ref().unwrap();
    assert_eq!(canary_svc.0["spec"]["selector"]["app"], "podinfo");
    assert!(
        p.notes
            .iter()
            .any(|n| n.level == NoteLevel::Assumption && n.text.contains("app: podinfo"))
    );
}

#[test]
fn mesh_and_apex_host() {
    let p = plan_of(&canary(
        "istio",
        &[
            "gateways: [istio-system/public-gateway]",
            "hosts: [podinfo.test.svc.cluster.local]",
        ],
        &["stepWeight: 50"],
    ));
    let vs = p
        .generated
        .iter()
        .find(|g| g.kind == "VirtualService")
        .unwrap();
    let spec = &vs.manifest.as_ref().unwrap().0["spec"];
    assert_eq!(
        spec["gateways"],
        serde_json::json!(["istio-system/public-gateway"])
    );
    assert_eq!(
        spec["hosts"],
        serde_json::json!(["podinfo.test.svc.cluster.local", "podinfo"])
    );
    let d = default_for(&p, "spec.service.gateways").unwrap();
    assert!(d.reason.contains("bypass"), "{}", d.reason);
    assert!(
        default_for(&p, "spec.service.hosts")
            .unwrap()
            .reason
            .contains("does not count")
    );

    let p = plan_of(&canary(
        "istio",
        &["hosts: [\"*\"]", "gateways: [mesh]"],
        &["stepWeight: 50"],
    ));
    assert!(default_for(&p, "spec.service.hosts").is_none());
    assert!(default_for(&p, "spec.service.gateways").is_none());
}

#[test]
fn session_affinity_routes() {
    let p = plan_of(&canary(
        "istio",
        &[],
        &[
            "maxWeight: 30",
            "stepWeight: 10",
            "sessionAffinity:",
            "  cookieName: flagger-cookie",
        ],
    ));
    assert_eq!(p.strategy.kind, StrategyKind::CanarySessionAffinity);
    assert_eq!(
        default_for(&p, "spec.analysis.sessionAffinity.maxAge")
            .unwrap()
            .value,
        "86400"
    );
    let vs = p
        .generated
        .iter()
        .find(|g| g.kind == "VirtualService")
        .unwrap();
    let http = vs.manifest.as_ref().unwrap().0["spec"]["http"]
        .as_array()
        .unwrap()
        .clone();
    // Flagger 1.44 gives the sticky route no name.
    assert!(http[0].get("name").is_none(), "{}", http[0]);
    assert_eq!(http[0]["route"][1]["weight"], 100);
    assert_eq!(
        http[1]["route"][1]["headers"]["response"]["add"]["Set-Cookie"],
        "flagger-cookie=<random>; Max-Age=86400"
    );
    assert_eq!(http[1]["route"][1]["weight"], 30);
}

#[test]
fn inventory_gives_the_selector_and_discovered_ports() {
    let deployment = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: test
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: podinfo-app
  template:
    spec:
      containers:
        - name: podinfo
          ports:
            - {name: http, containerPort: 9898}
            - {name: grpc, containerPort: 9999}
            - {containerPort: 8080}
        - name: istio-proxy
          ports:
            - {name: metrics, containerPort: 15090}
";
    let mut inv = Inventory::new();
    inv.add_file(
        &read(
            Arc::new(SourceFile::new("d.yaml", deployment)),
            &Budget::GENEROUS,
        ),
        "default",
        false,
    );
    let text = canary("istio", &["portDiscovery: true"], &["stepWeight: 50"]);
    let p = plan_with(&text, Some(&inv));
    let svc = p.generated[2].manifest.as_ref().unwrap();
    assert_eq!(
        svc.0["spec"]["selector"]["app.kubernetes.io/name"],
        "podinfo-app"
    );
    let ports: Vec<&str> = svc.0["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(ports, vec!["http", "grpc", "tcp-podinfo-2"]);
    assert!(
        !p.notes
            .iter()
            .any(|n| n.level == NoteLevel::Assumption && n.text.contains("select"))
    );

    let bad = deployment.replace("app.kubernetes.io/name: podinfo-app", "tier: web");
    let mut inv = Inventory::new();
    inv.add_file(
        &read(Arc::new(SourceFile::new("d.yaml", bad)), &Budget::GENEROUS),
        "default",
        false,
    );
    let p = plan_with(&canary("istio", &[], &["stepWeight: 50"]), Some(&inv));
    assert!(p.notes.iter().any(|n| n.level == NoteLevel::Blocker
        && n.text.contains(
            "spec.selector.matchLabels must contain one of [app name app.kubernetes.io/name]"
        )));
}

#[test]
fn skip_analysis_promotes_at_once() {
    let text = canary("istio", &[], &["stepWeight: 50"]).replace(
        "  provider: istio\n",
        "  provider: istio\n  skipAnalysis: true\n",
    );
    let p = plan_of(&text);
    assert_eq!(stages(&p), vec![Stage::Detect, Stage::Skip]);
    assert_eq!(p.promotion_after_seconds, Some(60));
    assert!(p.strategy.skip_analysis);
}

#[test]
fn no_step_weight_never_advances() {
    let p = plan_of(&canary("istio", &[], &[]));
    assert_eq!(p.strategy.kind, StrategyKind::Canary);
    assert_eq!(p.stalls_at_step, Some(1));
    assert_eq!(p.steps[1].stage, Stage::Start);
}

#[test]
fn json_carries_every_part_of_the_plan() {
    let p = plan_of(&canary(
        "istio",
        &[
            "gateways: [istio-system/public-gateway]",
            "hosts: [app.example.com]",
            "trafficPolicy: {tls: {mode: DISABLE}}",
        ],
        &["maxWeight: 50", "stepWeight: 5", "mirror: true"],
    ));
    let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
    for key in [
        "strategy",
        "steps",
        "promotion_after_seconds",
        "rollback_after_seconds",
        "defaults_applied",
        "generated",
        "canary",
        "provider",
        "reasons",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["steps"][1]["mirrored"], true);
}

#[test]
fn one_iteration_is_singular() {
    let bg = plan_of(&canary("istio", &[], &["iterations: 1"]));
    assert_eq!(bg.strategy.name, "Blue/Green, 1 iteration of 1m");
    let text = canary(
        "istio",
        &[],
        &[
            "iterations: 1",
            "match:",
            "  - headers:",
            "      x-canary:",
            "        exact: insider",
        ],
    );
    let ab = plan_of(&text);
    assert_eq!(ab.strategy.name, "A/B testing, 1 iteration of 1m");
    assert!(
        ab.reasons
            .iter()
            .any(|r| r.text.contains("A/B testing, 1 check ")),
        "{:?}",
        ab.reasons
    );
    let ten = plan_of(&canary("istio", &[], &["iterations: 10"]));
    assert_eq!(ten.strategy.name, "Blue/Green, 10 iterations of 1m");
}

// ----- Golden cases transcribed from Flagger's pkg/router/istio_test.go -----

fn manifest<'p>(p: &'p Plan, kind: &str, name: &str) -> &'p serde_json::Value {
    &p.generated
        .iter()
        .find(|g| g.kind == kind && g.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {:?}", p.generated))
        .manifest
        .as_ref()
        .unwrap()
        .0
}

/// `TestIstioRouter_Sync`: two DestinationRules, one VirtualService with one http route of two
/// destinations; the apex name joins the hosts.
#[test]
fn istio_router_sync() {
    let p = plan_of(&canary(
        "istio",
        &[
            "gateways: [istio-system/public-gateway]",
            "hosts: [app.example.com]",
        ],
        &["stepWeight: 10"],
    ));
    manifest(&p, "DestinationRule", "podinfo-primary");
    manifest(&p, "DestinationRule", "podinfo-canary");
    let vs = manifest(&p, "VirtualService", "podinfo");
    assert_eq!(
        vs["spec"]["hosts"],
        serde_json::json!(["app.example.com", "podinfo"])
    );
    assert_eq!(
        vs["spec"]["gateways"],
        serde_json::json!(["istio-system/public-gateway"])
    );
    let http = vs["spec"]["http"].as_array().unwrap();
    assert_eq!(http.len(), 1);
    assert_eq!(http[0]["route"].as_array().unwrap().len(), 2);
    // pkg/router/util.go `filterMetadata` and `NewControllerRef`.
    let meta = &vs["metadata"];
    assert_eq!(
        meta["annotations"]["kustomize.toolkit.fluxcd.io/reconcile"],
        "disabled"
    );
    assert_eq!(
        meta["annotations"]["helm.toolkit.fluxcd.io/driftDetection"],
        "disabled"
    );
    assert_eq!(meta["ownerReferences"][0]["kind"], "Canary");
    assert_eq!(meta["ownerReferences"][0]["name"], "podinfo");
    assert_eq!(meta["ownerReferences"][0]["controller"], true);
}

/// kubernetes_default.go: each Service carries the selector label with its own name, the
/// Flux annotations and the Canary as owner.
#[test]
fn generated_services_metadata() {
    let p = plan_of(&canary("istio", &[], &["stepWeight: 10"]));
    for name in ["podinfo", "podinfo-primary", "podinfo-canary"] {
        let meta = &manifest(&p, "Service", name)["metadata"];
        assert_eq!(meta["labels"]["app"], name, "{name}");
        assert_eq!(
            meta["annotations"]["kustomize.toolkit.fluxcd.io/reconcile"],
            "disabled"
        );
        assert_eq!(
            meta["annotations"]["helm.toolkit.fluxcd.io/driftDetection"],
            "disabled"
        );
        assert_eq!(meta["ownerReferences"][0]["kind"], "Canary");
    }
}

/// The apex labels Flagger sets on the apex Service (the selector label among them) are the
/// ones the VirtualService gets.
#[test]
fn apex_metadata_reaches_the_virtual_service() {
    let p = plan_of(&canary(
        "istio",
        &[
            "apex:",
            "  labels:",
            "    team: web",
            "  annotations:",
            "    owner: web",
        ],
        &["stepWeight: 10"],
    ));
    let meta = &manifest(&p, "VirtualService", "podinfo")["metadata"];
    assert_eq!(meta["labels"]["team"], "web");
    assert_eq!(meta["labels"]["app"], "podinfo");
    assert_eq!(meta["annotations"]["owner"], "web");
    assert_eq!(
        meta["annotations"]["kustomize.toolkit.fluxcd.io/reconcile"],
        "disabled"
    );
}

/// `TestIstioRouter_SetRoutes` "mirror": the mirror goes to the canary host, and
/// `mirrorPercentage` appears only for a mirrorWeight above 0.
#[test]
fn istio_router_mirror() {
    for (w, want) in [(0, None), (10, Some(10)), (50, Some(50))] {
        let mut analysis = vec!["iterations: 10", "mirror: true"];
        let line = format!("mirrorWeight: {w}");
        if w > 0 {
            analysis.push(&line);
        }
        let p = plan_of(&canary("istio", &[], &analysis));
        // The routes are shown at an iteration: mirrored in Blue/Green.
        assert!(p.steps[p.routes_at_step].mirrored, "{w}");
        let vs = manifest(&p, "VirtualService", "podinfo");
        let http = &vs["spec"]["http"][0];
        assert_eq!(http["mirror"]["host"], "podinfo-canary", "{w}");
        match want {
            Some(v) => assert_eq!(http["mirrorPercentage"]["value"], v),
            None => assert!(http.get("mirrorPercentage").is_none()),
        }
    }
}

/// `TestIstioRouter_ABTest` and `TestIstioRouter_Match`: two http routes, the first with the
/// analysis match (merged with service.match's URI), the second for everyone else.
#[test]
fn istio_router_ab_match() {
    let ab = [
        "iterations: 10",
        "match:",
        "  - headers:",
        "      x-user-type:",
        "        exact: test",
    ];
    let p = plan_of(&canary("istio", &[], &ab));
    let http = manifest(&p, "VirtualService", "podinfo")["spec"]["http"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(http.len(), 2);
    assert_eq!(
        http[0]["match"][0]["headers"]["x-user-type"]["exact"],
        "test"
    );
    assert!(http[1].get("match").is_none());

    let p = plan_of(&canary(
        "istio",
        &["match:", "  - uri:", "      prefix: /podinfo"],
        &ab,
    ));
    let http = manifest(&p, "VirtualService", "podinfo")["spec"]["http"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(http[0]["match"][0]["uri"]["prefix"], "/podinfo");
    assert_eq!(
        http[0]["match"][0]["headers"]["x-user-type"]["exact"],
        "test"
    );
    assert_eq!(http[1]["match"][0]["uri"]["prefix"], "/podinfo");
}

/// `TestIstioRouter_Delegate` "ok": no hosts, no gateways, and with portDiscovery the
/// destinations name the port.
#[test]
fn istio_router_delegate() {
    let p = plan_of(&canary(
        "istio",
        &["delegation: true", "portDiscovery: true"],
        &["stepWeight: 10"],
    ));
    let vs = manifest(&p, "VirtualService", "podinfo");
    assert!(vs["spec"].get("hosts").is_none());
    assert!(vs["spec"].get("gateways").is_none());
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["destination"]["port"]["number"],
        9898
    );
}

/// `TestIstioRouter_Delegate` "invalid": delegation with gateways fails the reconcile, so no
/// VirtualService exists; the plan says so.
#[test]
fn istio_router_delegate_with_gateways_renders_none() {
    let p = plan_of(&canary(
        "istio",
        &["delegation: true", "gateways: [public-gateway.istio, mesh]"],
        &["stepWeight: 10"],
    ));
    assert!(!p.generated.iter().any(|g| g.kind == "VirtualService"));
    assert!(
        p.notes.iter().any(|n| n.level == NoteLevel::Blocker
            && n.text
                .contains("cannot have hosts and gateways when delegation enabled")),
        "{:?}",
        p.notes
    );
}

/// `appProtocol: tcp`: TCP routes with L4 (port) matches and none of the HTTP-only fields.
#[test]
fn istio_router_tcp() {
    let p = plan_of(&canary(
        "istio",
        &[
            "appProtocol: TCP",
            "timeout: 30s",
            "retries:",
            "  attempts: 3",
            "match:",
            "  - port: 9898",
        ],
        &["stepWeight: 10"],
    ));
    let spec = &manifest(&p, "VirtualService", "podinfo")["spec"];
    assert!(spec.get("http").is_none(), "{spec}");
    let tcp = spec["tcp"].as_array().unwrap();
    assert_eq!(tcp.len(), 1);
    assert_eq!(tcp[0]["match"], serde_json::json!([{ "port": 9898 }]));
    assert_eq!(tcp[0]["route"][0]["destination"]["host"], "podinfo-primary");
    assert_eq!(tcp[0]["route"][1]["destination"]["host"], "podinfo-canary");
    for field in ["retries", "timeout", "headers", "corsPolicy", "rewrite"] {
        assert!(tcp[0].get(field).is_none(), "{field}");
    }
}
