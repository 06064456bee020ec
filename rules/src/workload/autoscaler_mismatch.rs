use canarylint::suggest::did_you_mean;
use canarylint::{At, Cx, Kind, Lookup, Rule, Severity, declare_rule};

use crate::routing::unresolved_reference;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Looks up the HorizontalPodAutoscaler or KEDA ScaledObject named by `autoscalerRef` in
    /// the Canary's namespace: an autoscaler that does not exist is an error, one whose
    /// `scaleTargetRef` is not the Canary's target a warning.
    ///
    /// ### Why is this bad?
    /// Flagger copies the autoscaler into `<name>-primary`, aimed at the primary workload (and
    /// pauses a KEDA ScaledObject between analyses). A missing autoscaler fails that reconcile
    /// on every run, so the canary never starts. One that scales some other workload is copied
    /// anyway, since Flagger does not check it: the canary is not autoscaled during the
    /// analysis while the primary inherits settings meant for something else, and one aimed at
    /// `<target>-primary` fights the primary autoscaler Flagger creates.
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
    ///   autoscalerRef:
    ///     apiVersion: autoscaling/v2
    ///     kind: HorizontalPodAutoscaler
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: autoscaling/v2
    /// kind: HorizontalPodAutoscaler
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   scaleTargetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: frontend
    ///   minReplicas: 2
    ///   maxReplicas: 4
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
    ///   autoscalerRef:
    ///     apiVersion: autoscaling/v2
    ///     kind: HorizontalPodAutoscaler
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: autoscaling/v2
    /// kind: HorizontalPodAutoscaler
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   scaleTargetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   minReplicas: 2
    ///   maxReplicas: 4
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/canary/hpa_reconciler.go and scaled_object_reconciler.go read the autoscaler from
    /// the Canary's namespace (an error when it is missing) and build `<name>-primary` with
    /// `scaleTargetRef.name` set to `<targetRef.name>-primary`, without looking at the original
    /// target. Only the kinds HorizontalPodAutoscaler and ScaledObject are used (a ScaledObject
    /// targets a Deployment unless it says otherwise). Knative targets are CL310's. Without
    /// that namespace's autoscalers in the inventory the reference is reported as CL100.
    /// Decided by pkg/canary/hpa_reconciler.go and scaled_object_reconciler.go
    /// (`ReconcilePrimaryScaler`).
    ///
    /// ### Severity
    /// An error when the autoscaler is absent from an authoritative inventory (Flagger fails to
    /// build the primary autoscaler on every sync); a warning when its `scaleTargetRef` is not
    /// the Canary's target: Flagger does not check it and the original autoscaler keeps scaling
    /// something else.
    pub struct AutoscalerMismatch;
    code: "CL307",
    slug: "autoscaler-mismatch",
    severity: Warning,
    summary: "autoscalerRef names a missing HPA/ScaledObject, or one that scales another workload",
    since: "0.1.0",
    fix: None,
    inputs: [HorizontalPodAutoscaler, ScaledObject],
    kinds: [Canary],
}

impl Rule for AutoscalerMismatch {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(scaler) = canary.autoscaler_ref() else {
            return;
        };
        let Some(t) = canary.target_ref() else { return };
        if super::target_kind(&t) == Some(Kind::KnativeService) {
            return;
        }
        let kind = match scaler.kind().map(|k| k.value) {
            Some("HorizontalPodAutoscaler") => Kind::HorizontalPodAutoscaler,
            Some("ScaledObject") => Kind::ScaledObject,
            _ => return,
        };
        let Some(name) = scaler.name() else { return };
        let ns = cx.namespace();
        let (Some(target_kind), Some(target_name)) =
            (t.kind().map(|k| k.value), t.name().map(|n| n.value))
        else {
            return;
        };
        match cx.lookup(kind, ns, name.value) {
            Lookup::Unknown => {
                unresolved_reference::report(cx, At::Value(name.node), kind, ns, name.value)
            }
            Lookup::Absent => {
                let names = cx.inventory.names(kind, ns);
                let help = match did_you_mean(name.value, names.iter().copied()) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => format!(
                        "create the {} {}, or remove autoscalerRef",
                        kind.name(),
                        name.value
                    ),
                };
                cx.report(
                    At::Value(name.node),
                    format!(
                        "{} {ns}/{} does not exist: Flagger cannot create the primary autoscaler",
                        kind.name(),
                        name.value
                    ),
                )
                .severity(Severity::Error)
                .help(help);
            }
            Lookup::Found(o) => {
                let Some(info) = o.as_scaler() else { return };
                let scaled_name = info.target_name.as_deref().unwrap_or("");
                let scaled_kind = info.target_kind.as_deref().unwrap_or(target_kind);
                if scaled_name == target_name && scaled_kind == target_kind {
                    return;
                }
                let message = if scaled_name == format!("{target_name}-primary") {
                    format!(
                        "{} {ns}/{} scales {scaled_kind}/{scaled_name}: it fights the primary autoscaler Flagger creates",
                        kind.name(),
                        name.value
                    )
                } else {
                    format!(
                        "{} {ns}/{} scales {scaled_kind}/{scaled_name}, not the Canary's target {target_kind}/{target_name}",
                        kind.name(),
                        name.value
                    )
                };
                cx.report(At::Value(name.node), message)
                    .help(format!(
                        "point the scaleTargetRef of {} at {target_kind} {target_name}",
                        name.value
                    ))
                    .related(o.origin.clone(), format!("{} {}", kind.name(), name.value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    fn hpa(name: &str, target: &str) -> String {
        format!(
            "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {name}\n  namespace: test\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {target}\n  minReplicas: 2\n  maxReplicas: 4\n"
        )
    }

    #[test]
    fn cases() {
        let r = |name: &str| {
            format!(
                "spec:\n  autoscalerRef:\n    apiVersion: autoscaling/v2\n    kind: HorizontalPodAutoscaler\n    name: {name}\n"
            )
        };
        let so = "spec:\n  autoscalerRef:\n    apiVersion: keda.sh/v1alpha1\n    kind: ScaledObject\n    name: podinfo-so\n---\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: podinfo-so\n  namespace: test\nspec:\n  scaleTargetRef:\n    name: podinfo\n";
        let pass = [
            format!("{}{}", r("podinfo"), hpa("podinfo", "podinfo")),
            so.to_string(),
            // No autoscaler of the namespace is known: CL100 only.
            r("podinfo"),
        ];
        let fail = [
            format!(
                "{}{}",
                r("podinfo").replace("name: podinfo\n", "name: podinfo # warning: CL307\n"),
                hpa("podinfo", "frontend")
            ),
            format!(
                "{}{}",
                r("podinfo").replace("name: podinfo\n", "name: podinfo # warning: CL307\n"),
                hpa("podinfo", "podinfo-primary")
            ),
            format!(
                "{}{}",
                r("podinf").replace("name: podinf\n", "name: podinf # error: CL307\n"),
                hpa("podinfo", "podinfo")
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::AutoscalerMismatch, &pass, &fail);
    }
}
