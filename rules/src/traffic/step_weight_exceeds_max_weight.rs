use canarylint::{Applicability, At, Cx, Edit, Fix, Rule, declare_rule};

use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports a `stepWeight` above `maxWeight` (100 when unset), and traffic weights outside
    /// 0..100: `maxWeight`, `stepWeight`, `mirrorWeight`, `stepWeightPromotion`.
    ///
    /// ### Why is this bad?
    /// Flagger raises the canary's weight by `stepWeight` and promotes once the weight reaches
    /// `maxWeight`. A first step past `maxWeight` means the canary takes more traffic than you
    /// allowed at once, and is promoted after a single analysis: the progressive rollout you
    /// wrote is not the one that runs.
    ///
    /// ### Example
    /// ```yaml
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   provider: istio
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     maxWeight: 50
    ///     stepWeight: 60
    /// ```
    ///
    /// ### Use instead
    /// ```yaml
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   provider: istio
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     maxWeight: 50
    ///     stepWeight: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler.go: the weight rises by `stepWeight`, capped at 100, and the
    /// canary is promoted at weight ≥ `maxWeight`; nothing validates the relation. The CRD
    /// declares these fields as plain numbers with no bounds.
    /// Decided by pkg/controller/scheduler.go (`runCanary`, `nextStepWeight`).
    ///
    /// ### Fix safety
    /// The quick fix lowers `stepWeight` to `maxWeight`: one step straight to the maximum.
    /// Choose a smaller step if you want a gradual rollout.
    ///
    /// ### Severity
    /// An error: `stepWeight` above `maxWeight` sends more live traffic to the canary than the
    /// maximum written, on the first step; a weight outside 0..100 makes Flagger write a route
    /// istiod refuses (a negative weight) or never reach promotion.
    pub struct StepWeightExceedsMaxWeight;
    code: "CL201",
    slug: "step-weight-exceeds-max-weight",
    severity: Error,
    summary: "stepWeight above maxWeight, or a traffic weight outside 0..100",
    since: "0.1.0",
    fix: Sometimes,
    inputs: [],
    kinds: [Canary],
}

impl Rule for StepWeightExceedsMaxWeight {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        if super::weights_unused(cx) {
            return;
        }
        let mut out_of_range = false;
        for (name, f) in [
            ("maxWeight", a.max_weight()),
            ("stepWeight", a.step_weight()),
            ("mirrorWeight", a.mirror_weight()),
            ("stepWeightPromotion", a.step_weight_promotion()),
        ] {
            let Some(f) = f else { continue };
            if !(0.0..=100.0).contains(&f.value) {
                out_of_range = true;
                cx.report(
                    At::Value(f.node),
                    format!(
                        "{name} {} is outside 0..100: it is a percentage of traffic",
                        num(f.value)
                    ),
                )
                .help(format!("set {name} between 0 and 100"));
            }
        }
        if out_of_range {
            return;
        }
        let (Some(step), None) = (a.step_weight(), a.step_weights()) else {
            return;
        };
        if a.iterations().is_some_and(|i| i.value > 0.0) {
            return;
        }
        let max = a.max_weight().map_or(100.0, |m| m.value);
        if step.value > max {
            let max_text = match a.max_weight() {
                Some(_) => format!("maxWeight {}", num(max)),
                None => "the default maxWeight of 100".into(),
            };
            cx.report(
                At::Value(step.node),
                format!("stepWeight {} exceeds {max_text}: the first step overshoots and the canary is promoted after one analysis", num(step.value)),
            )
            .help(format!("set stepWeight to at most {} (for example {})", num(max), num((max / 5.0).max(1.0).floor())))
            .fix(Fix {
                title: format!("lower stepWeight to {}", num(max)),
                edits: vec![Edit {
                    span: step.node.span,
                    replacement: num(max),
                }],
                applicability: Applicability::Unsafe,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::StepWeightExceedsMaxWeight,
            &[
                "spec:\n  analysis:\n    stepWeight: 50\n    maxWeight: 50\n",
                "spec:\n  analysis:\n    stepWeight: 20\n    maxWeight: __remove__\n",
            ],
            &[
                "spec:\n  analysis:\n    stepWeight: 60 # error: CL201\n    maxWeight: 50\n",
                "spec:\n  analysis:\n    stepWeight: 10\n    maxWeight: 150 # error: CL201\n",
                "spec:\n  analysis:\n    mirrorWeight: -5 # error: CL201\n",
            ],
        );
    }
}
