use canarylint::{At, Cx, Rule, declare_rule};

use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports `maxWeight` beside `iterations` (a warning) or beside `stepWeights` (a note), and
    /// `stepWeight`/`stepWeights` or `analysis.match` with the `kubernetes` provider, which
    /// can neither shift traffic nor route by request.
    ///
    /// ### Why is this bad?
    /// Flagger ignores it there: Blue/Green and A/B testing switch all traffic at once, and with
    /// `stepWeights` the last entry is the maximum. A reader (or reviewer) trusts a limit that
    /// does nothing.
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
    ///     maxWeight: 30
    ///     stepWeights: [5, 10, 50]
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
    ///     stepWeights: [5, 10, 30]
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler.go: with `stepWeights` the maximum is
    /// `min(100, last stepWeights)` and `maxWeight` is not read; with `iterations` no weights
    /// are stepped at all. Beside `stepWeights` the finding is only a note: Flagger's own
    /// end-to-end tests write `maxWeight` there. With the `kubernetes` provider (spec or
    /// `-mesh-provider`) `advanceCanary` in scheduler.go drops `analysis.match` ("A/B testing
    /// is not supported when using the kubernetes provider") and sets `iterations: 10` when
    /// none are given, and pkg/router/factory.go gives that provider the `NopRouter`: the weights are
    /// never applied.
    ///
    /// ### Severity
    /// A warning: nothing fails, but the rollout is not the one written.
    pub struct WeightsIgnored;
    code: "CL204",
    slug: "weights-ignored",
    severity: Warning,
    summary: "maxWeight beside iterations or stepWeights, or weights and match on the kubernetes provider: Flagger ignores them",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for WeightsIgnored {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        let iterations = a.iterations().is_some_and(|i| i.value > 0.0);
        if super::weights_unused(cx)
            && a.has_match()
            && let Some(m) = a.match_()
        {
            cx.report(
                At::Key(m),
                "analysis.match is dropped: provider kubernetes cannot route by request, so Flagger runs Blue/Green",
            )
            .help("remove analysis.match, or use a provider that routes requests (istio, gatewayapi:v1, …)");
        }
        if super::weights_unused(cx) && !iterations {
            let field = a
                .step_weight()
                .map(|f| (f.node, "stepWeight"))
                .or_else(|| a.step_weights().map(|(n, _)| (n, "stepWeights")));
            if let Some((node, name)) = field {
                cx.report(
                    At::Key(node),
                    format!("{name} is ignored: provider kubernetes cannot shift traffic, so Flagger runs Blue/Green with 10 iterations"),
                )
                .help(format!("replace {name} (and maxWeight) with `iterations`, or use a provider that routes traffic"));
                return;
            }
        }
        let Some(max) = a.max_weight() else { return };
        if iterations {
            cx.report(At::Key(max.node), format!("maxWeight {} is ignored: with iterations, Flagger switches all traffic at once", num(max.value)))
                .help("remove maxWeight");
        } else if let Some((_, weights)) = a.step_weights() {
            let last = weights.last().map_or(100.0, |w| w.value.min(100.0));
            // Flagger's own e2e tests carry a maxWeight beside stepWeights: a note, not a warning.
            cx.report(
                At::Key(max.node),
                format!(
                    "maxWeight {} is ignored: with stepWeights the maximum is the last entry ({})",
                    num(max.value),
                    num(last)
                ),
            )
            .severity(canarylint::Severity::Info)
            .help("remove maxWeight and end stepWeights at the maximum you want");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::WeightsIgnored,
            &["spec:\n  analysis:\n    stepWeight: 10\n    maxWeight: 50\n"],
            &[
                "spec:\n  analysis:\n    stepWeight: __remove__\n    stepWeights: [5, 10]\n    maxWeight: 30 # info: CL204\n",
                "spec:\n  analysis:\n    stepWeight: __remove__\n    iterations: 10\n    maxWeight: 30 # warning: CL204\n",
                "spec:\n  provider: kubernetes\n  analysis:\n    stepWeight: 10 # warning: CL204\n",
                "spec:\n  provider: kubernetes\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 10\n    match: # warning: CL204\n      - headers:\n          x-canary:\n            exact: \"true\"\n",
            ],
        );
    }
}
