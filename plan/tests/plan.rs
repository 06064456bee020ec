//! Golden plans for Flagger's own examples, one per strategy: the JSON shape (the CLI's
//! tests hold the human timeline and the rendered objects). Every complete example must plan,
//! and promote unless a blocker says why not.
//! Update with `INSTA_UPDATE=always cargo test -p canarylint-plan --test plan`, then read the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use canarylint::model::CanaryView;
use canarylint::{Budget, Kind, Settings, SourceFile, read};
use canarylint_plan::{Plan, plan};

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

macro_rules! golden {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            let p = plan_file($file);
            insta::assert_json_snapshot!(concat!(stringify!($test), ".json"), p);
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
        // The flagship examples all promote.
        if p.notes
            .iter()
            .all(|n| n.level != canarylint_plan::NoteLevel::Blocker)
        {
            assert!(
                p.promotion_after_seconds.is_some(),
                "{name} never promotes:\n{}",
                p.to_json()
            );
        }
    }
}
