use canarylint::edit::{delete_entry_lines, indent_before, is_flow, value_end};
use canarylint::model::{AnalysisView, CanaryView};
use canarylint::{Applicability, At, Cx, Edit, Fix, Node, Rule, Severity, Span, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports `mirror: true` together with `stepWeight` or `stepWeights`.
    ///
    /// ### Why is this bad?
    /// On Istio, Flagger mirrors traffic for one interval only and then shifts live traffic by
    /// the weights: the canary takes real requests after a single mirrored check, which is
    /// rarely what "mirror" was meant to give. On Gateway API the mirror is never applied with
    /// weights, and the analysis stalls at 0 %. To mirror for the whole analysis, use
    /// Blue/Green with `iterations`.
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
    ///     mirror: true
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
    ///     iterations: 5
    ///     mirror: true
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler.go: in the weighted strategy the first run at weight 0 sets the
    /// mirror and the next run removes it and applies `stepWeight`; with `iterations` the
    /// mirror stays for every iteration. pkg/router/gateway_api.go adds the mirror filter only
    /// for Blue/Green. The finding is a warning on Istio and an error on Gateway API.
    /// Decided by pkg/controller/scheduler.go (`runCanary`) and pkg/router/gateway_api.go
    /// (`SetRoutes`).
    ///
    /// ### Severity
    /// A warning on Istio: the mirror lasts one interval, then live traffic shifts as written.
    /// An error on Gateway API: the router adds the mirror filter only in Blue/Green, so the
    /// weighted analysis runs on no mirrored traffic and stalls.
    ///
    /// ### Fix safety
    /// The fix replaces `stepWeight` (or `stepWeights`) and `maxWeight` with as many
    /// `iterations` as there were steps: the Canary becomes Blue/Green with mirroring, and live
    /// traffic moves to the canary in one step at promotion instead of by weights. That changes
    /// the rollout, so the fix is marked unsafe: apply it when mirroring is what you wanted.
    pub struct MirrorWithStepWeight;
    code: "CL202",
    slug: "mirror-with-step-weight",
    severity: Warning,
    summary: "mirror: true with stepWeight(s): mirroring lasts one interval (Istio) or never happens (Gateway API)",
    since: "0.1.0",
    fix: Sometimes,
    inputs: [],
    kinds: [Canary],
    provider_specific: true,
}

impl Rule for MirrorWithStepWeight {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        let Some(mirror) = a.mirror().filter(|m| m.value) else {
            return;
        };
        if a.iterations().is_some_and(|i| i.value > 0.0) {
            return;
        }
        let weights = if a.step_weight().is_some() {
            "stepWeight"
        } else if a.step_weights().is_some() {
            "stepWeights"
        } else {
            return;
        };
        let gateway_api = cx.provider().is_some_and(|p| p.is_gateway_api());
        let steps = match (a.step_weight(), a.max_weight()) {
            (Some(s), m) if s.value > 0.0 => {
                (m.map_or(100.0, |m| m.value) / s.value).ceil().max(1.0)
            }
            _ => a.step_weights().map_or(5.0, |(_, w)| w.len().max(1) as f64),
        };
        let (message, severity) = if gateway_api {
            (
                format!(
                    "mirror: true with {weights}: Gateway API mirrors only in Blue/Green, so the analysis stalls at 0 %"
                ),
                Severity::Error,
            )
        } else {
            (
                format!(
                    "mirror: true with {weights}: traffic is mirrored for one interval only, then live traffic shifts to the canary"
                ),
                Severity::Warning,
            )
        };
        let fix = iterations_fix(cx.file.source.text.as_ref(), a);
        let report = cx.report(At::Key(mirror.node), message)
            .severity(severity)
            .help(format!("to mirror during the whole analysis, replace {weights} (and maxWeight) with `iterations: {}`", steps as i64));
        if let Some(fix) = fix {
            report.fix(fix);
        }
    }
}

/// Replaces `stepWeight`/`stepWeights` (and `maxWeight`) with `iterations: n`, which mirrors
/// during the whole analysis: n is the number of weight steps there were. Block style only.
fn iterations_fix(text: &str, a: AnalysisView<'_>) -> Option<Fix> {
    let analysis = a.node;
    if is_flow(text, analysis) || analysis.get("iterations").is_some() {
        return None;
    }
    let (entry, n) = if let Some(e) = analysis.entry("stepWeight") {
        let step = e.value.as_f64().filter(|s| *s > 0.0)?;
        let max = analysis
            .get("maxWeight")
            .and_then(Node::as_f64)
            .unwrap_or(100.0);
        (e, (max / step).ceil().max(1.0))
    } else {
        let e = analysis.entry("stepWeights")?;
        (e, e.value.items().len().max(1) as f64)
    };
    let n = n as i64;
    indent_before(text, entry.key_span.start as usize)?;
    let mut edits = vec![Edit {
        span: Span::new(entry.key_span.start, value_end(text, entry)),
        replacement: format!("iterations: {n}"),
    }];
    let max = analysis.entry("maxWeight");
    if let Some(max) = max {
        edits.push(delete_entry_lines(text, max)?);
    }
    edits.sort_by_key(|e| e.span.start);
    let replaced = if max.is_some() {
        format!("{} and maxWeight", entry.key)
    } else {
        entry.key.to_string()
    };
    Some(Fix {
        title: format!("replace {replaced} with `iterations: {n}`"),
        edits,
        applicability: Applicability::Unsafe,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::MirrorWithStepWeight,
            &[
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 5\n    mirror: true\n",
            ],
            &[
                "spec:\n  analysis:\n    mirror: true # warning: CL202\n",
                "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: podinfo\n  namespace: test\nspec:\n  provider: gatewayapi:v1\n  targetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: podinfo\n  service:\n    port: 9898\n    gatewayRefs:\n      - name: gw\n        namespace: istio-ingress\n  analysis:\n    interval: 1m\n    threshold: 5\n    stepWeights: [10, 50]\n    mirror: true # error: CL202\n",
            ],
        );
    }
}
