use canarylint::model::CanaryView;
use canarylint::{At, Cx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports `analysis.match` on a Canary without `iterations`.
    ///
    /// ### Why is this bad?
    /// `match` only means A/B testing together with `iterations`. Without them Flagger runs a
    /// weighted canary in which the match narrows the split: requests that match are shifted
    /// step by step, every other request stays on the primary. The canary sees a fraction of a
    /// fraction of the traffic, and the primary shows up on both routes (fluxcd/flagger#1668).
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
    ///     stepWeight: 10
    ///     match:
    ///       - headers:
    ///           x-canary:
    ///             exact: "insider"
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
    ///     iterations: 10
    ///     match:
    ///       - headers:
    ///           x-canary:
    ///             exact: "insider"
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler.go picks A/B testing only when `match` is non-empty and
    /// `iterations > 0`; otherwise it runs the weighted strategy, and the routers still apply
    /// `match` to the weighted route (pkg/router/istio.go puts the merged match on the weighted
    /// route and a primary-only route after it). The `kubernetes` provider drops `match`
    /// altogether and is not reported here.
    /// Decided by pkg/controller/scheduler.go (`advanceCanary`) and pkg/router/istio.go
    /// (`SetRoutes`).
    ///
    /// ### Severity
    /// A warning: nothing fails, but the rollout is a weighted split of the matching requests
    /// only, not the A/B test the `match` suggests.
    pub struct MatchWithoutIterations;
    code: "CL208",
    slug: "match-without-iterations",
    severity: Warning,
    summary: "analysis.match without iterations: not A/B testing, only matching requests are shifted",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for MatchWithoutIterations {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        if !a.has_match() || a.iterations().is_some_and(|i| i.value > 0.0) {
            return;
        }
        if cx
            .provider()
            .is_some_and(|p| p.router() == canarylint::Router::Kubernetes)
        {
            return;
        }
        let Some(m) = a.match_() else { return };
        let weights = if a.step_weights().is_some() {
            "stepWeights"
        } else {
            "stepWeight"
        };
        cx.report(
            At::Key(m),
            format!("analysis.match without iterations is not A/B testing: only matching requests are shifted by {weights}"),
        )
        .help(format!("for A/B testing replace {weights} (and maxWeight) with `iterations`; for a weighted canary remove match"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let m = "    match:\n      - headers:\n          x-canary:\n            exact: insider\n";
        let pass = [
            format!(
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 10\n{m}"
            ),
            "spec:\n  analysis:\n    match: []\n".to_string(),
        ];
        let fail = ["spec:\n  analysis:\n    match: # warning: CL208\n      - headers:\n          x-canary:\n            exact: insider\n".to_string()];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::MatchWithoutIterations, &pass, &fail);
    }
}
