//! The admission decision, called as a plain function: no network, no cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use canarylint_server::{Decision, State, build_state, review};
use common::*;
use serde_json::{Value, json};

fn state(flags: &[&str]) -> State {
    let mut all = vec!["--insecure-http", "--no-cluster", "--no-config"];
    all.extend_from_slice(flags);
    build_state(&args(&all)).unwrap()
}

fn with_examples(flags: &[&str]) -> State {
    let ex = examples();
    let mut all = vec!["--context", ex.as_str()];
    all.extend_from_slice(flags);
    state(&all)
}

/// The Gateway and Deployments of examples/, without its Canaries.
fn with_infra(flags: &[&str]) -> State {
    let ex = repo().join("examples");
    let gw = ex.join("istio").display().to_string();
    let deps = ex.join("shop/deployments.yaml").display().to_string();
    let mut all = vec!["--context", gw.as_str(), "--context", deps.as_str()];
    all.extend_from_slice(flags);
    state(&all)
}

fn answer(body: &[u8], state: &State) -> (Value, canarylint_server::Reviewed) {
    let r = review(body, state).unwrap();
    (serde_json::to_value(&r.review).unwrap(), r)
}

/// A Canary of namespace shop, for the Deployment `checkout` of examples/shop.
fn shop_canary(name: &str, gateways: &[&str], hosts: &[&str]) -> Value {
    let mut c = canary("shop", name, gateways, hosts);
    c["spec"]["targetRef"]["name"] = json!("checkout");
    c
}

fn codes(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|w| w.split(' ').next().unwrap().to_string())
        .collect()
}

#[test]
fn the_broken_sample_is_denied_with_its_codes_most_important_first() {
    let st = with_examples(&[]);
    let (v, r) = answer(&sample("review-shop-checkout.json"), &st);
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(response(&v)["uid"], "3b8e2f7a-1c4d-4e5f-9a6b-7c8d9e0f1a2b");
    assert!(!allowed(&v));
    assert_eq!(r.decision, Decision::Deny);
    assert_eq!(response(&v)["status"]["code"], 403);
    assert_eq!(response(&v)["status"]["reason"], "Forbidden");
    assert_eq!(response(&v)["status"]["status"], "Failure");
    let msg = message(&v);
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(
        lines[0],
        "canarylint found 2 problems in Canary shop/checkout:"
    );
    assert!(
        lines[1].starts_with("CL101 spec.service.gateways[0]: "),
        "{msg}"
    );
    assert!(lines[1].contains("istio-system/public-gatway"), "{msg}");
    assert!(
        lines[2].starts_with("CL201 spec.analysis.stepWeight: "),
        "{msg}"
    );
    // The warning comes back with the denial, without a prefix, bounded.
    let w = warnings(&v);
    assert_eq!(codes(&w), vec!["CL202"]);
    assert!(
        w.iter()
            .all(|w| !w.starts_with("Warning") && w.chars().count() <= 256)
    );
    assert!(r.findings.iter().any(|(c, _)| *c == "CL101"));
}

#[test]
fn the_clean_sample_is_allowed_without_warnings() {
    let st = with_examples(&[]);
    let (v, r) = answer(&sample("review-podinfo.json"), &st);
    assert!(allowed(&v), "{v}");
    assert_eq!(response(&v)["uid"], "5d2c9a10-6e7f-4a8b-9c0d-1e2f3a4b5c6d");
    assert!(warnings(&v).is_empty(), "{v}");
    assert_eq!(r.decision, Decision::Allow);
}

#[test]
fn samples_match_the_example_manifests() {
    // The quickstart's samples carry the example Canaries as the API server would send them.
    for (file, yaml, name) in [
        (
            "review-shop-checkout.json",
            "shop/canaries.yaml",
            "checkout",
        ),
        ("review-podinfo.json", "podinfo/canary.yaml", "podinfo"),
    ] {
        let text = std::fs::read_to_string(repo().join("examples").join(yaml)).unwrap();
        let parsed = canarylint::read(
            std::sync::Arc::new(canarylint::SourceFile::new(yaml, text)),
            &canarylint::Budget::GENEROUS,
        );
        let doc = parsed
            .documents
            .iter()
            .find(|d| d.name.as_deref() == Some(name))
            .unwrap();
        let review: Value = serde_json::from_slice(&sample(file)).unwrap();
        assert_eq!(
            review["request"]["object"]["spec"],
            doc.root.to_json()["spec"],
            "{file} differs from {yaml}"
        );
    }
}

#[test]
fn without_context_references_are_unresolved_not_denied() {
    // No Gateway is known: CL101 becomes CL100 (info), only CL201 denies.
    let st = state(&[]);
    let (v, _) = answer(&sample("review-shop-checkout.json"), &st);
    assert!(!allowed(&v));
    let msg = message(&v);
    assert!(msg.contains("CL201") && !msg.contains("CL101"), "{msg}");
}

#[test]
fn warn_mode_never_denies_and_reports_errors_as_warnings_first() {
    let st = with_examples(&["--mode", "warn"]);
    let (v, r) = answer(&sample("review-shop-checkout.json"), &st);
    assert!(allowed(&v));
    assert_eq!(r.decision, Decision::Warn);
    assert_eq!(codes(&warnings(&v)), vec!["CL101", "CL201", "CL202"]);
    // Within the recommended 120 characters (the path goes when only that makes it fit).
    assert!(
        warnings(&v).iter().all(|w| w.chars().count() <= 120),
        "{:#?}",
        warnings(&v)
    );
    assert!(warnings(&v)[0].starts_with("CL101 spec.service.gateways[0]: "));
}

#[test]
fn dry_run_is_reviewed_the_same() {
    let st = with_examples(&[]);
    let mut body: Value = serde_json::from_slice(&sample("review-shop-checkout.json")).unwrap();
    body["request"]["dryRun"] = json!(true);
    let (v, r) = answer(&serde_json::to_vec(&body).unwrap(), &st);
    assert!(!allowed(&v));
    assert!(r.dry_run);
}

#[test]
fn uid_is_echoed_for_every_kind_of_request() {
    let st = state(&[]);
    for (op, gvk, obj, old) in [
        (
            "CREATE",
            CANARY_GVK,
            Some(canary("a", "x", &["mesh"], &[])),
            None,
        ),
        (
            "DELETE",
            CANARY_GVK,
            None,
            Some(canary("a", "x", &["mesh"], &[])),
        ),
        (
            "CREATE",
            ("", "v1", "ConfigMap"),
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})),
            None,
        ),
    ] {
        let uid = format!("uid-{op}-{}", gvk.2);
        let (v, _) = answer(&review_for(&uid, op, gvk, obj, old), &st);
        assert_eq!(response(&v)["uid"], uid.as_str());
    }
}

#[test]
fn deletes_and_other_kinds_are_allowed_without_looking() {
    let st = with_examples(&[]);
    let broken = canary("shop", "x", &["nope/nope"], &["x.example.com"]);
    let (v, r) = answer(
        &review_for("1", "DELETE", CANARY_GVK, None, Some(broken.clone())),
        &st,
    );
    assert!(allowed(&v));
    assert_eq!(r.decision, Decision::Skip);
    let mut cm = broken.clone();
    cm["apiVersion"] = json!("v1");
    cm["kind"] = json!("ConfigMap");
    let (v, r) = answer(
        &review_for("2", "CREATE", ("", "v1", "ConfigMap"), Some(cm), None),
        &st,
    );
    assert!(allowed(&v));
    assert_eq!(r.decision, Decision::Skip);
    // The status subresource (Flagger's own updates) is not linted either.
    let mut body: Value = serde_json::from_slice(&review_for(
        "3",
        "UPDATE",
        CANARY_GVK,
        Some(broken.clone()),
        Some(broken),
    ))
    .unwrap();
    body["request"]["subResource"] = json!("status");
    let (v, r) = answer(&serde_json::to_vec(&body).unwrap(), &st);
    assert!(allowed(&v));
    assert_eq!(r.decision, Decision::Skip);
}

#[test]
fn an_update_that_leaves_the_spec_alone_is_never_denied() {
    // Removing a finalizer from a Canary that was broken before must go through.
    let st = with_infra(&[]);
    let old = shop_canary("x", &["istio-system/public-gatway"], &["x.example.com"]);
    let mut new = old.clone();
    new["metadata"]["finalizers"] = json!([]);
    let (v, r) = answer(
        &review_for(
            "1",
            "UPDATE",
            CANARY_GVK,
            Some(new.clone()),
            Some(old.clone()),
        ),
        &st,
    );
    assert!(allowed(&v), "{v}");
    assert_eq!(r.decision, Decision::Warn);
    assert_eq!(codes(&warnings(&v)), vec!["CL101"]);
    // A spec change is reviewed as usual.
    new["spec"]["analysis"]["stepWeight"] = json!(20);
    let (v, _) = answer(
        &review_for("2", "UPDATE", CANARY_GVK, Some(new), Some(old)),
        &st,
    );
    assert!(!allowed(&v));
}

#[test]
fn the_namespace_of_the_request_applies_to_objects_without_one() {
    let st = with_examples(&[]);
    let mut c = canary("shop", "x", &["public-gatway"], &["x.example.com"]);
    c["metadata"].as_object_mut().unwrap().remove("namespace");
    let mut body: Value =
        serde_json::from_slice(&review_for("1", "CREATE", CANARY_GVK, Some(c), None)).unwrap();
    body["request"]["namespace"] = json!("istio-system");
    let (v, _) = answer(&serde_json::to_vec(&body).unwrap(), &st);
    assert!(
        message(&v).contains("Istio Gateway istio-system/public-gatway"),
        "{v}"
    );
}

#[test]
fn bodies_that_are_not_reviews_are_bad_requests() {
    let st = state(&[]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "not an AdmissionReview"),
        (b"{not json".to_vec(), "not an AdmissionReview"),
        (b"[]".to_vec(), "not an AdmissionReview"),
        (b"\xff\xfe".to_vec(), "not an AdmissionReview"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(), "has no request"),
        (br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":null}"#.to_vec(), "expected apiVersion admission.k8s.io/v1"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}"#.to_vec(), "kind AdmissionReview"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x"}}"#.to_vec(), "not an AdmissionReview"),
    ];
    for (body, expect) in cases {
        match review(&body, &st) {
            Ok(r) => panic!(
                "{:?} was answered: {:?}",
                String::from_utf8_lossy(&body),
                r.review
            ),
            Err((status, msg)) => {
                assert_eq!(status, StatusCode::BAD_REQUEST);
                assert!(msg.contains(expect), "{msg}");
            }
        }
    }
}

#[test]
fn odd_objects_never_panic() {
    let st = with_examples(&[]);
    let objects = [
        json!({"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": {"name": "x", "namespace": "a"}}),
        json!({"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": {"name": "x"}, "spec": null}),
        json!({"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": {"name": "x"}, "spec": {"service": "nope", "analysis": [1, 2]}}),
        json!({"metadata": {"name": "x"}, "spec": {"service": {"gateways": [1, {"a": null}], "hosts": "x"}}}),
        json!({"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": {"name": "x"}, "spec": {"targetRef": {"name": "é\u{0}\n\t"}}}),
    ];
    for o in objects {
        let r = review(
            &review_for("u", "CREATE", CANARY_GVK, Some(o.clone()), None),
            &st,
        );
        assert!(r.is_ok(), "{o}");
        let v = serde_json::to_value(&r.unwrap().review).unwrap();
        assert!(
            warnings(&v)
                .iter()
                .all(|w| w.chars().count() <= 256 && !w.contains('\n'))
        );
    }
}

#[test]
fn many_warnings_are_capped_with_a_count() {
    let st = with_infra(&[]);
    // Ten hosts the Gateway does not serve under --mode warn: ten CL102 plus others.
    let hosts: Vec<String> = (0..14).map(|i| format!("h{i}.example.org")).collect();
    let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let st_warn = with_infra(&["--mode", "warn"]);
    let body = review_for(
        "u",
        "CREATE",
        CANARY_GVK,
        Some(shop_canary("x", &["istio-system/public-gateway"], &hosts)),
        None,
    );
    let (v, _) = answer(&body, &st_warn);
    let w = warnings(&v);
    assert_eq!(w.len(), 10, "{w:#?}");
    assert!(w[9].starts_with("and "), "{w:#?}");
    let (v, _) = answer(&body, &st);
    assert!(!allowed(&v));
    assert!(message(&v).contains("\nand "), "{}", message(&v));
}

#[test]
fn config_overrides_and_ignores_apply() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "rules:\n  CL201: warning\n  CL202: off\nignore:\n  - resource: Canary/shop/other\n    rules: [CL101]\n").unwrap();
    let gw = repo().join("examples/istio").display().to_string();
    let deps = repo()
        .join("examples/shop/deployments.yaml")
        .display()
        .to_string();
    let cfg_s = cfg.display().to_string();
    let st = build_state(&args(&[
        "--insecure-http",
        "--no-cluster",
        "--context",
        &gw,
        "--context",
        &deps,
        "--config",
        &cfg_s,
    ]))
    .unwrap();
    let (v, _) = answer(&sample("review-shop-checkout.json"), &st);
    assert!(!allowed(&v));
    assert_eq!(
        message(&v).lines().count(),
        2,
        "only CL101 denies: {}",
        message(&v)
    );
    assert_eq!(codes(&warnings(&v)), vec!["CL201"]);
    // The ignore entry silences CL101 for shop/other.
    let body = review_for(
        "u",
        "CREATE",
        CANARY_GVK,
        Some(shop_canary(
            "other",
            &["istio-system/public-gatway"],
            &["o.example.com"],
        )),
        None,
    );
    let (v, _) = answer(&body, &st);
    assert!(allowed(&v), "{v}");
    // A broken configuration is refused at start.
    std::fs::write(&cfg, "rules:\n  CL9999: off\n").unwrap();
    assert!(
        build_state(&args(&[
            "--insecure-http",
            "--no-cluster",
            "--config",
            &cfg_s
        ]))
        .is_err()
    );
}

#[test]
fn suppression_annotations_are_honoured() {
    let st = with_infra(&[]);
    let mut c = shop_canary("x", &["istio-system/public-gatway"], &["x.example.com"]);
    c["metadata"]["annotations"] = json!({"canarylint.io/ignore": "CL101"});
    let (v, _) = answer(&review_for("u", "CREATE", CANARY_GVK, Some(c), None), &st);
    assert!(allowed(&v), "{v}");
}

fn gateway_update(
    hosts_after: Option<&[&str]>,
    st: &State,
) -> (Value, canarylint_server::Reviewed) {
    let old = gateway("istio-system", "public-gateway", &["*.example.com"]);
    let (op, new) = match hosts_after {
        Some(h) => ("UPDATE", Some(gateway("istio-system", "public-gateway", h))),
        None => ("DELETE", None),
    };
    answer(&review_for("gw", op, GATEWAY_GVK, new, Some(old)), st)
}

#[test]
fn gateway_changes_that_strand_canaries_are_warned_about() {
    let st = with_examples(&[]);
    // examples/: podinfo (test) and cart (shop) route through istio-system/public-gateway.
    let (v, r) = gateway_update(None, &st);
    assert!(allowed(&v));
    assert_eq!(r.decision, Decision::Warn);
    let w = warnings(&v);
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(
        w[0].contains("Canary shop/cart") && w[0].contains("dangling"),
        "{w:#?}"
    );
    assert!(w[1].contains("Canary test/podinfo"), "{w:#?}");
    assert!(w.iter().all(|w| w.chars().count() <= 120), "{w:#?}");
    let (v, _) = gateway_update(Some(&["podinfo.example.com"]), &st);
    assert_eq!(
        warnings(&v),
        vec![
            "Canary shop/cart loses host cart.example.com: Gateway istio-system/public-gateway no longer serves it"
        ]
    );
    let (v, r) = gateway_update(Some(&["*.example.com", "*.example.net"]), &st);
    assert!(allowed(&v) && warnings(&v).is_empty());
    assert_eq!(r.decision, Decision::Allow);
}

#[test]
fn protect_gateways_denies_them() {
    let st = with_examples(&["--protect-gateways"]);
    let (v, r) = gateway_update(None, &st);
    assert!(!allowed(&v));
    assert_eq!(r.decision, Decision::Deny);
    assert!(
        message(&v)
            .starts_with("canarylint found 2 problems in Gateway istio-system/public-gateway:"),
        "{}",
        message(&v)
    );
    // Unrelated Gateways are free to go.
    let body = review_for(
        "gw",
        "DELETE",
        GATEWAY_GVK,
        None,
        Some(gateway("istio-system", "internal", &["*"])),
    );
    let (v, _) = answer(&body, &st);
    assert!(allowed(&v));
    // --mode warn wins.
    let st = with_examples(&["--protect-gateways", "--mode", "warn"]);
    let (v, _) = gateway_update(None, &st);
    assert!(allowed(&v));
    assert_eq!(warnings(&v).len(), 2);
}
