use canarylint::{At, Cx, Rule, declare_rule};

use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports `stepWeights` that are not strictly increasing, or hold a value outside 1..100.
    ///
    /// ### Why is this bad?
    /// Flagger finds the next step by looking the current weight up in the list: a decrease
    /// gives a negative step, a repeated value never advances, and a value it cannot find makes
    /// the weight jump straight to 100.
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
    ///     stepWeights: [10, 50, 20]
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
    ///     stepWeights: [10, 20, 50]
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler.go computes each step as the difference to the next entry found
    /// by equality with the current weight and does not validate the list.
    /// Decided by pkg/controller/scheduler.go (`nextStepWeight`).
    ///
    /// ### Severity
    /// An error: a decreasing entry makes Flagger shift traffic back, and an entry it cannot
    /// find by equality jumps the canary to 100 %: live traffic is routed other than written.
    pub struct StepWeightsNotIncreasing;
    code: "CL205",
    slug: "step-weights-not-increasing",
    severity: Error,
    summary: "stepWeights not strictly increasing, or a value outside 1..100",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for StepWeightsNotIncreasing {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        if super::weights_unused(cx) {
            return;
        }
        let Some((_, weights)) = a.step_weights() else {
            return;
        };
        let mut prev: Option<f64> = None;
        for w in weights {
            if !(1.0..=100.0).contains(&w.value) {
                cx.report(
                    At::Value(w.node),
                    format!("stepWeights entry {} is outside 1..100", num(w.value)),
                )
                .help("use percentages between 1 and 100");
            } else if let Some(p) = prev.filter(|p| w.value <= *p) {
                cx.report(
                    At::Value(w.node),
                    format!("stepWeights entry {} does not increase on the previous {}: Flagger's next step would be {}", num(w.value), num(p), num(w.value - p)),
                )
                .help("list the weights in strictly increasing order");
            }
            prev = Some(w.value);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::StepWeightsNotIncreasing,
            &[
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    stepWeights: [1, 2, 10, 80]\n",
            ],
            &[
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    stepWeights:\n      - 10\n      - 50\n      - 20 # error: CL205\n      - 120 # error: CL205\n",
            ],
        );
    }
}
