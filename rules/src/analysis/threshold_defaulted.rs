use canarylint::{Applicability, At, Cx, Edit, Fix, Rule, declare_rule};

use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Notes an `analysis.threshold` of 0 or less.
    ///
    /// ### Why is this bad?
    /// `threshold` is the number of failed checks after which Flagger rolls the canary back.
    /// Flagger replaces a value of 0 or less with 1: the first failed check rolls back. That may
    /// be what was meant, but a 0 often comes from a template default or a belief that 0
    /// disables rollbacks, which it does not.
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
    ///     threshold: 0
    ///     iterations: 10
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
    ///     threshold: 1
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/apis/flagger/v1beta1/canary.go `GetAnalysisThreshold`: a threshold of 0 or less is
    /// 1. The CRD requires the field but sets no minimum.
    ///
    /// ### Fix safety
    /// The fix writes 1, the value Flagger already uses: behaviour does not change.
    ///
    /// ### Severity
    /// Info: Flagger's rewrite to 1 is what most people want anyway.
    pub struct ThresholdDefaulted;
    code: "CL409",
    slug: "threshold-defaulted",
    severity: Info,
    summary: "analysis.threshold of 0 or less: Flagger uses 1",
    since: "0.1.0",
    fix: Always,
    inputs: [],
    kinds: [Canary],
}

impl Rule for ThresholdDefaulted {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(threshold) = canary.analysis().and_then(|a| a.threshold()) else {
            return;
        };
        if threshold.value > 0.0 {
            return;
        }
        cx.report(
            At::Value(threshold.node),
            format!(
                "analysis.threshold {} is not a positive number: Flagger uses 1, so the first failed check rolls back",
                num(threshold.value)
            ),
        )
        .help("set analysis.threshold to the number of failed checks that should trigger a rollback")
        .fix(Fix {
            title: "set analysis.threshold to 1".into(),
            edits: vec![Edit {
                span: threshold.node.span,
                replacement: "1".into(),
            }],
            applicability: Applicability::Safe,
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::ThresholdDefaulted,
            &[
                "spec:\n  analysis:\n    threshold: 1\n",
                "spec:\n  analysis:\n    threshold: 10\n",
            ],
            &[
                "spec:\n  analysis:\n    threshold: 0 # info: CL409\n",
                "spec:\n  analysis:\n    threshold: -1 # info: CL409\n",
            ],
        );
    }
}
