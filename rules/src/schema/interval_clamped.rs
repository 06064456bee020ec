use canarylint::{Applicability, At, Cx, Edit, Fix, Rule, declare_rule};

use crate::helpers::{go_duration, matches_crd_duration};
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports an `analysis.interval` shorter than 10 seconds.
    ///
    /// ### Why is this bad?
    /// Flagger never runs the analysis more often than every 10 seconds: it silently raises a
    /// shorter interval to 10s. The rollout then takes longer than the manifest says, and every
    /// duration derived from the interval (the schedule of webhooks and metric checks, the
    /// primary's session-affinity cookie lifetime) is computed from 10s, not from what is written.
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
    ///     interval: 5s
    ///     threshold: 5
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
    ///     interval: 10s
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/apis/flagger/v1beta1/canary.go `GetAnalysisInterval`: an empty or unparsable interval
    /// becomes 60s (reported by CL003), and any interval below 10s becomes 10s.
    ///
    /// ### Fix safety
    /// The fix writes `10s`, the value Flagger already uses: behaviour does not change.
    ///
    /// ### Severity
    /// A warning: nothing fails, but Flagger runs at a pace other than the one written.
    pub struct IntervalClamped;
    code: "CL004",
    slug: "interval-clamped",
    severity: Warning,
    summary: "analysis.interval below 10s: Flagger raises it to 10s",
    since: "0.1.0",
    fix: Always,
    inputs: [],
    kinds: [Canary],
}

impl Rule for IntervalClamped {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(interval) = canary.analysis().and_then(|a| a.interval()) else {
            return;
        };
        // A value the CRD rejects or Go cannot parse is CL003's.
        if !matches_crd_duration(interval.value) {
            return;
        }
        let Some(secs) = go_duration(interval.value) else {
            return;
        };
        if secs >= 10.0 {
            return;
        }
        cx.report(
            At::Value(interval.node),
            format!(
                "analysis.interval {} is below 10s: Flagger runs the analysis every 10s instead",
                interval.value
            ),
        )
        .help("set analysis.interval to 10s or more, the shortest interval Flagger runs")
        .fix(Fix {
            title: "set analysis.interval to 10s".into(),
            edits: vec![Edit {
                span: interval.node.span,
                replacement: "10s".into(),
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
            &super::IntervalClamped,
            &[
                "spec:\n  analysis:\n    interval: 10s\n",
                "spec:\n  analysis:\n    interval: 1m\n",
                "spec:\n  analysis:\n    interval: 1m30s\n",
            ],
            &[
                "spec:\n  analysis:\n    interval: 5s # warning: CL004\n",
                "spec:\n  analysis:\n    interval: 500ms # warning: CL004\n",
                "spec:\n  analysis:\n    interval: \"0s\" # warning: CL004\n",
            ],
        );
    }
}
