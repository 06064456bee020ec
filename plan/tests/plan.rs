//! Golden plans for Flagger's own examples, one per strategy: the JSON shape, and the human
//! timeline with the summary and the rendered objects. Every complete example must plan, fit
//! 80 columns and render YAML that reads back.
//! Update with `INSTA_UPDATE=always cargo test -p canarylint-plan --test plan`, then read the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use canarylint::model::CanaryView;
use canarylint::{Budget, Kind, Settings, SourceFile, read};
use canarylint_plan::{Plan, plan, render_generated_yaml, render_human, summary};

fn shared() -> PathBuf {
    if let Ok(p) = std::env::var("CANARYLINT_SHARED") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        p.is_dir(),
        "the shared reference data is expected at {} (or set CANARYLINT_SHARED)",
        p.display()
    );
    p
}

fn examples() -> PathBuf {
    shared().join("reference/flagger/examples")
}

fn plan_file(name: &str) -> Plan {
    let text = std::fs::read_to_string(examples().join(name)).unwrap();
    let file = read(Arc::new(SourceFile::new(name, text)), &Budget::GENEROUS);
    let doc = file
        .documents
        .iter()
        .find(|d| d.kind == Kind::Canary)
        .unwrap_or_else(|| panic!("{name} holds no Canary"));
    plan(&CanaryView::new(doc).unwrap(), &Settings::default(), None)
}

fn human(plan: &Plan) -> String {
    format!(
        "{}\n--- summary ---\n{}\n\n--- render ---\n{}",
        render_human(plan),
        summary(plan),
        render_generated_yaml(plan)
    )
}

macro_rules! golden {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            let p = plan_file($file);
            insta::assert_json_snapshot!(concat!(stringify!($test), ".json"), p);
            insta::assert_snapshot!(concat!(stringify!($test), ".human"), human(&p));
        }
    };
}

// Canary with stepWeight (Istio, portDiscovery, gateway without mesh, match and rewrite).
golden!(
    istio_canary,
    "artifacts-examples-istio-canary.yaml--01-canary-podinfo.yaml"
);
// Canary with stepWeights (linkerd).
golden!(
    linkerd_step_weights,
    "artifacts-examples-linkerd-canary-steps.yaml--01-canary-podinfo.yaml"
);
// stepWeights with a maxWeight that is ignored, provider inferred from gatewayRefs.
golden!(
    linkerd_test_steps,
    "test-linkerd-test-steps.sh--03-canary-podinfo.yaml"
);
// A/B testing (Istio).
golden!(
    istio_ab_testing,
    "docs-gitbook-tutorials-istio-ab-testing.md--01-canary-podinfo.yaml"
);
// Blue/Green (kubernetes provider).
golden!(
    kubernetes_blue_green,
    "docs-gitbook-tutorials-kubernetes-blue-green.md--01-canary-podinfo.yaml"
);
// Blue/Green with mirroring (Gateway API).
golden!(
    gatewayapi_blue_green_mirror,
    "docs-gitbook-tutorials-gatewayapi-progressive-delivery.md--06-canary-podinfo.yaml"
);
// Session affinity (Istio, primary cookie, hosts `*`).
golden!(
    istio_session_affinity,
    "test-istio-test-session-affinity.sh--01-canary-podinfo.yaml"
);
// Canary on Gateway API.
golden!(
    gatewayapi_canary,
    "docs-gitbook-tutorials-gatewayapi-progressive-delivery.md--03-canary-podinfo.yaml"
);
// A/B testing on Gateway API.
golden!(
    gatewayapi_ab_testing,
    "test-gatewayapi-test-ab.sh--01-canary-podinfo.yaml"
);

#[test]
fn every_complete_example_plans() {
    let mut names: Vec<String> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n.contains("-canary-"))
        .collect();
    names.sort();
    assert!(names.len() >= 60, "{} Canary examples", names.len());
    for name in names {
        let p = plan_file(&name);
        assert!(!p.steps.is_empty(), "{name}");
        let text = render_human(&p);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{name}: too wide: {line:?}");
        }
        let yaml = render_generated_yaml(&p);
        let stream = canarylint::yaml::parse_stream(&yaml, &Budget::GENEROUS);
        assert!(
            stream.errors.is_empty(),
            "{name}: {:?}\n{yaml}",
            stream.errors
        );
        let manifests = p.generated.iter().filter(|g| g.manifest.is_some()).count();
        assert_eq!(stream.documents.len(), manifests, "{name}");
        // The flagship examples all promote.
        if p.notes
            .iter()
            .all(|n| n.level != canarylint_plan::NoteLevel::Blocker)
        {
            assert!(
                p.promotion_after_seconds.is_some(),
                "{name} never promotes:\n{text}"
            );
        }
    }
}

/// The plan of every complete Flagger example with a Canary, as a person reads it. Reviewing a
/// change here means reading the timeline diff against docs/flagger-semantics.
#[test]
fn every_complete_example() {
    let mut names: Vec<String> = std::fs::read_dir(examples())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            name.ends_with(".yaml").then_some(name)
        })
        .filter(|n| n.contains("-canary-"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 60,
        "expected Flagger's 66 example Canaries, found {}",
        names.len()
    );
    let mut all = String::new();
    for name in &names {
        let p = plan_file(name);
        all.push_str(&format!("=== {name}\n{}\n", render_human(&p)));
    }
    insta::assert_snapshot!("every_complete_example.human", all);
}
