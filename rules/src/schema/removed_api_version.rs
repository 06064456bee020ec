use canarylint::yaml::{Node, Value};
use canarylint::{Applicability, At, Cx, Edit, Fix, Kind, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports a Flagger object whose `apiVersion` is not `flagger.app/v1beta1`, the only
    /// version Flagger 1.x's CRDs serve, and names the migration from the pre-1.0 versions
    /// (`v1alpha1`, `v1alpha2`, `v1alpha3`).
    ///
    /// ### Why is this bad?
    /// The API server refuses the object outright ("no matches for kind Canary in version
    /// flagger.app/v1alpha3"): nothing is created, and a GitOps sync fails. Old tutorials and
    /// charts still carry these versions, with `canaryAnalysis` where v1beta1 has `analysis`
    /// and the pre-1.0 metric names `istio_requests_total` and
    /// `istio_request_duration_seconds_bucket`.
    ///
    /// ### Example
    /// ```yaml
    /// apiVersion: flagger.app/v1alpha3
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   service:
    ///     port: 9898
    ///   canaryAnalysis:
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
    /// Flagger's CRDs (artifacts/flagger/crd.yaml, `spec.versions`) list `v1beta1` alone for
    /// Canary, MetricTemplate and AlertProvider, and the controller's clientset
    /// (pkg/apis/flagger/v1beta1) knows no other version. Flagger 1.0 renamed
    /// `spec.canaryAnalysis` to `spec.analysis` (pkg/apis/flagger/v1beta1/canary.go,
    /// `CanarySpec.Analysis`) and the built-in metrics to `request-success-rate` and
    /// `request-duration` (pkg/controller/scheduler_metrics.go, `runBuiltinMetricChecks`).
    ///
    /// ### Severity
    /// An error: the API server rejects the object as written.
    ///
    /// ### Fix safety
    /// For `v1alpha1`..`v1alpha3` the fix sets `flagger.app/v1beta1`, renames
    /// `canaryAnalysis` to `analysis` and the two old metric names to their v1beta1 names. It
    /// is unsafe: review the result (`threshold` still works but is deprecated, CL407).
    pub struct RemovedApiVersion;
    code: "CL008",
    slug: "removed-api-version",
    severity: Error,
    summary: "a Flagger apiVersion the CRD does not serve (only flagger.app/v1beta1)",
    since: "0.2.0",
    fix: Sometimes,
    inputs: [],
}

/// Pre-1.0 built-in metric names and their v1beta1 names.
const OLD_METRICS: [(&str, &str); 2] = [
    ("istio_requests_total", "request-success-rate"),
    ("istio_request_duration_seconds_bucket", "request-duration"),
];

impl Rule for RemovedApiVersion {
    fn check(&self, cx: &mut Cx<'_, '_>) {
        let Some(version) = super::old_api_version(cx) else {
            return;
        };
        let Some(at) = cx.doc.root.get("apiVersion") else {
            return;
        };
        let kind = cx.doc.kind_name.clone();
        let pre_one = matches!(version, "v1alpha1" | "v1alpha2" | "v1alpha3");
        let is_canary = cx.kind() == Kind::Canary;
        let mut steps = Vec::new();
        let mut edits = vec![Edit {
            span: at.span,
            replacement: "flagger.app/v1beta1".into(),
        }];
        let spec = cx.doc.root.get("spec");
        if let Some(entry) = spec.and_then(|s| s.entry("canaryAnalysis")) {
            steps.push("rename `canaryAnalysis` to `analysis`");
            edits.push(Edit {
                span: entry.key_span,
                replacement: "analysis".into(),
            });
        }
        let metrics = spec
            .and_then(|s| s.get("canaryAnalysis").or_else(|| s.get("analysis")))
            .and_then(|a| a.get("metrics"))
            .map(Node::items)
            .unwrap_or_default();
        let mut renamed = false;
        for m in metrics {
            let Some(name) = m.get("name") else { continue };
            if let Value::Str(n) = &name.value
                && let Some((_, new)) = OLD_METRICS.iter().find(|(old, _)| *old == n.as_str())
            {
                renamed = true;
                edits.push(Edit {
                    span: name.span,
                    replacement: (*new).to_string(),
                });
            }
        }
        if renamed {
            steps.push("use the metric names `request-success-rate` and `request-duration`");
        }
        let how = if steps.is_empty() {
            String::new()
        } else {
            format!("; then {}", steps.join(", "))
        };
        let mut r = cx
            .report(
                At::Value(at),
                format!(
                    "apiVersion flagger.app/{version} is not served by Flagger 1.x's CRD (only v1beta1): the API server rejects this {kind}"
                ),
            )
            .help(format!("set apiVersion: flagger.app/v1beta1{how}"));
        if pre_one && is_canary {
            r = r.fix(Fix {
                title: "migrate to flagger.app/v1beta1".into(),
                edits,
                applicability: Applicability::Unsafe,
            });
        }
        drop(r);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::RemovedApiVersion,
            &["spec:\n  analysis:\n    interval: 1m\n"],
            &[
                "
                apiVersion: flagger.app/v1alpha3 # error: CL008
                kind: Canary
                metadata:
                  name: podinfo
                  namespace: test
                spec:
                  targetRef:
                    apiVersion: apps/v1
                    kind: Deployment
                    name: podinfo
                  service:
                    port: 9898
                  canaryAnalysis:
                    interval: 1m
                    threshold: 5
                    maxWeight: 50
                    stepWeight: 10
                    metrics:
                      - name: istio_requests_total
                        threshold: 99
                        interval: 1m
                ",
                "
                apiVersion: flagger.app/v1alpha1 # error: CL008
                kind: MetricTemplate
                metadata:
                  name: error-rate
                  namespace: test
                spec:
                  provider:
                    type: prometheus
                    address: http://prometheus.istio-system:9090
                  query: sum(rate(x[1m]))
                ",
            ],
        );
    }
}
