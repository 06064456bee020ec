use canarylint::model::CanaryView;
use canarylint::{At, Cx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Checks that `targetRef.apiVersion` fits `targetRef.kind`: `apps/v1` for a Deployment or
    /// DaemonSet, `serving.knative.dev/v1` (Knative) or `v1` for a Service.
    ///
    /// ### Why is this bad?
    /// Flagger picks the controller by `kind` alone, so a wrong `apiVersion` is usually
    /// harmless to Flagger — but it tells readers and other tools a different story, and for a
    /// Service it decides whether Flagger treats the target as Knative.
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
    ///     apiVersion: v1
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
    /// pkg/canary/factory.go dispatches on `kind`; the controller checks a Knative target by its
    /// `serving.knative.dev` API group (controller.go). Flagger's FAQ has the `v1` Deployment
    /// shown above.
    /// Decided by pkg/canary/factory.go (`Controller`), which dispatches on `kind`.
    ///
    /// ### Severity
    /// A warning: Flagger itself reads only `kind` here, but tools that resolve the reference
    /// by group and version (the API server for an autoscaler's `scaleTargetRef`, kustomize
    /// name references) do not find the object.
    pub struct TargetApiVersion;
    code: "CL308",
    slug: "target-api-version",
    severity: Warning,
    summary: "targetRef.apiVersion does not fit its kind",
    since: "0.1.0",
    fix: Always,
    inputs: [],
    kinds: [Canary],
}

impl Rule for TargetApiVersion {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(t) = canary.target_ref() else { return };
        let (Some(kind), Some(api)) = (t.kind(), t.api_version()) else {
            return;
        };
        let expected: &[&str] = match kind.value {
            "Deployment" | "DaemonSet" => &["apps/v1"],
            "Service" => &["serving.knative.dev/v1", "v1"],
            _ => return,
        };
        if expected.contains(&api.value) {
            return;
        }
        let want = expected[0];
        cx.report(
            At::Value(api.node),
            format!(
                "targetRef.apiVersion {} does not fit kind {} (expected {})",
                api.value,
                kind.value,
                expected.join(" or ")
            ),
        )
        .help(format!("set targetRef.apiVersion to {want}"))
        .fix(canarylint::Fix {
            title: format!("set apiVersion to {want}"),
            edits: vec![canarylint::Edit {
                span: api.node.span,
                replacement: want.to_string(),
            }],
            applicability: canarylint::Applicability::Safe,
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::TargetApiVersion,
            &["spec:\n  targetRef:\n    apiVersion: apps/v1\n"],
            &["spec:\n  targetRef:\n    apiVersion: v1 # warning: CL308\n"],
        );
    }
}
