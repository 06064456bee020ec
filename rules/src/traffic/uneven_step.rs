use canarylint::{At, Cx, Rule, declare_rule};

use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Notes a weighted canary whose `maxWeight` (default 100) is not a multiple of
    /// `stepWeight`.
    ///
    /// ### Why is this bad?
    /// Flagger raises the canary weight by `stepWeight` while it is below `maxWeight`, capped
    /// only at 100, and promotes once it reaches `maxWeight`. When the steps do not land on
    /// `maxWeight`, the last step overshoots it: `stepWeight: 15` with `maxWeight: 50` goes
    /// 15, 30, 45, then 60 % of the traffic to the canary before promotion. Against the
    /// default `maxWeight` of 100 the last step is cut short instead (30, 60, 90, 100). Often
    /// harmless, sometimes more exposure than `maxWeight` promised.
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
    ///     stepWeight: 15
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
    ///     maxWeight: 45
    ///     stepWeight: 15
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler.go (`runCanary`): while the canary weight is below `maxWeight`
    /// it adds `stepWeight`, limiting the result to 100; at or above `maxWeight` it promotes.
    /// Not checked with `iterations` or `stepWeights` (where `maxWeight` is ignored, CL204),
    /// nor when `stepWeight` exceeds `maxWeight` (CL201).
    /// Decided by pkg/controller/scheduler.go (`runCanary`).
    ///
    /// ### Severity
    /// Info: the last step is smaller than the others, which is often intended.
    pub struct UnevenStep;
    code: "CL207",
    slug: "uneven-step",
    severity: Info,
    summary: "maxWeight is not a multiple of stepWeight: the last step overshoots maxWeight or is cut at 100",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for UnevenStep {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        if super::weights_unused(cx) {
            return;
        }
        if a.iterations().is_some_and(|i| i.value > 0.0) || a.step_weights().is_some() {
            return;
        }
        let Some(step) = a.step_weight().filter(|s| s.value > 0.0) else {
            return;
        };
        let max = a
            .max_weight()
            .map(|m| m.value)
            .filter(|m| *m > 0.0)
            .unwrap_or(100.0);
        let s = step.value;
        if s > max || max > 100.0 || (max / s).fract() == 0.0 {
            return;
        }
        // The weights Flagger sets: +stepWeight while below maxWeight, capped at 100.
        let mut weights = Vec::new();
        let mut w = 0.0;
        while w < max {
            w = (w + s).min(100.0);
            weights.push(w);
        }
        let shown: Vec<String> = if weights.len() > 6 {
            let n = weights.len();
            [weights[0], weights[1]]
                .iter()
                .map(|w| num(*w))
                .chain(["…".to_string()])
                .chain(weights[n - 2..].iter().map(|w| num(*w)))
                .collect()
        } else {
            weights.iter().map(|w| num(*w)).collect()
        };
        let lower = (max / s).floor() * s;
        let upper = (max / s).ceil() * s;
        let candidates: Vec<String> = [lower, upper]
            .into_iter()
            .filter(|c| *c > 0.0 && *c <= 100.0)
            .map(num)
            .collect();
        let default = if a.max_weight().is_some() {
            ""
        } else {
            " (the default)"
        };
        cx.report(
            At::Value(step.node),
            format!(
                "maxWeight {}{default} is not a multiple of stepWeight {}: the canary weight goes {} %",
                num(max),
                num(s),
                shown.join(", ")
            ),
        )
        .help(format!("set maxWeight to a multiple of {} (such as {}), or use a stepWeight that divides {}", num(s), candidates.join(" or "), num(max)));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::UnevenStep,
            &[
                "spec:\n  analysis:\n    maxWeight: 50\n    stepWeight: 10\n",
                "spec:\n  analysis:\n    maxWeight: __remove__\n    stepWeight: 20\n",
                "spec:\n  analysis:\n    maxWeight: __remove__\n    stepWeight: __remove__\n    stepWeights: [5, 15, 30]\n",
            ],
            &[
                "spec:\n  analysis:\n    maxWeight: 50\n    stepWeight: 15 # info: CL207\n",
                "spec:\n  analysis:\n    maxWeight: __remove__\n    stepWeight: 30 # info: CL207\n",
            ],
        );
    }
}
