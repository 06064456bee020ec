use canarylint::model::CanaryView;
use canarylint::{At, Cx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Checks that `analysis` sets exactly one of `iterations`, `stepWeight` and `stepWeights`.
    ///
    /// ### Why is this bad?
    /// The CRD requires exactly one of them (a `oneOf`), so the API server rejects the Canary
    /// otherwise. With none, there would be no way for the canary to progress at all.
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
    ///     iterations: 10
    ///     stepWeight: 10
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
    /// ```
    ///
    /// ### Flagger behaviour
    /// crd.yaml: `analysis.oneOf` requires `interval`, `threshold` and one of `iterations`,
    /// `stepWeight`, `stepWeights`. `iterations` selects Blue/Green (A/B testing with `match`);
    /// the weights select the progressive canary. This rule replaces the schema's bare `oneOf`
    /// message.
    ///
    /// ### Severity
    /// An error: the API server refuses the Canary (the CRD's `oneOf`).
    pub struct AnalysisStrategy;
    code: "CL206",
    slug: "analysis-strategy",
    severity: Error,
    summary: "analysis must set exactly one of iterations, stepWeight, stepWeights",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for AnalysisStrategy {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        let mut present: Vec<&canarylint::tree::Entry> =
            ["iterations", "stepWeight", "stepWeights"]
                .iter()
                .filter_map(|k| a.node.entry(k))
                .collect();
        present.sort_by_key(|e| e.key_span.start);
        match present.as_slice() {
            [] => {
                cx.report(At::Key(a.node), "analysis sets none of iterations, stepWeight, stepWeights: the API server rejects the Canary")
                    .help("add `stepWeight` (with `maxWeight`) for a progressive canary, or `iterations` for Blue/Green");
            }
            [_] => {}
            [first, rest @ ..] => {
                let names: Vec<&str> = present.iter().map(|e| e.key.as_str()).collect();
                for e in rest {
                    cx.report(
                        At::Key(&e.value),
                        format!("analysis sets both {} and {}: the API server accepts exactly one", first.key, e.key),
                    )
                    .help(format!("keep one of {}: iterations for Blue/Green or A/B testing, stepWeight(s) for a progressive canary", names.join(", ")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::AnalysisStrategy,
            &[
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 10\n",
            ],
            &[
                "spec:\n  analysis:\n    iterations: 10 # error: CL206\n",
                "spec:\n  analysis: # error: CL206\n    stepWeight: __remove__\n    maxWeight: __remove__\n",
            ],
        );
    }
}
