use canarylint::model::CanaryView;
use canarylint::{At, Cx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Checks that the target's `spec.selector.matchLabels` holds one of Flagger's selector
    /// labels: `app`, `name` or `app.kubernetes.io/name` unless configured otherwise
    /// (`selectorLabels` in `.canarylint.yaml`, Flagger's `-selector-labels`).
    ///
    /// ### Why is this bad?
    /// Flagger builds the primary workload and every generated Service from that one label.
    /// Without it, it stops with "spec.selector.matchLabels must contain one of …" and the
    /// Canary never initialises.
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
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   selector:
    ///     matchLabels:
    ///       component: podinfo
    ///   template:
    ///     metadata:
    ///       labels:
    ///         component: podinfo
    ///     spec:
    ///       containers:
    ///         - name: podinfod
    ///           image: ghcr.io/stefanprodan/podinfo:6.0.0
    ///           ports:
    ///             - containerPort: 9898
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
    /// ---
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   selector:
    ///     matchLabels:
    ///       app: podinfo
    ///   template:
    ///     metadata:
    ///       labels:
    ///         app: podinfo
    ///     spec:
    ///       containers:
    ///         - name: podinfod
    ///           image: ghcr.io/stefanprodan/podinfo:6.0.0
    ///           ports:
    ///             - containerPort: 9898
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/canary/deployment_controller.go (and daemonset_controller.go) walk the selector
    /// labels in order and use the first one present; only that label is copied to the primary
    /// (fluxcd/flagger#809, #1257).
    /// Decided by pkg/canary/deployment_controller.go and daemonset_controller.go
    /// (`getSelectorLabel`).
    ///
    /// ### Configuration
    /// `selectorLabels: [app, name, app.kubernetes.io/name]` in `.canarylint.yaml`, matching
    /// Flagger's `-selector-labels` flag.
    ///
    /// ### Severity
    /// An error: Flagger fails every sync ("spec.selector.matchLabels must contain one of …")
    /// and the canary never starts.
    pub struct SelectorLabelMissing;
    code: "CL305",
    slug: "selector-label-missing",
    severity: Error,
    summary: "the target's selector has none of Flagger's selector labels",
    since: "0.1.0",
    fix: None,
    inputs: [Deployment, DaemonSet],
    kinds: [Canary],
}

impl Rule for SelectorLabelMissing {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(workload) = super::found_workload(cx, &canary) else {
            return;
        };
        let Some(info) = workload.as_workload() else {
            return;
        };
        let labels = &cx.settings.selector_labels;
        if info
            .match_labels
            .iter()
            .any(|(k, _)| labels.iter().any(|l| l == k))
        {
            return;
        }
        let Some(name_node) = canary.target_ref().and_then(|t| t.name()).map(|n| n.node) else {
            return;
        };
        let has: Vec<&str> = info.match_labels.iter().map(|(k, _)| k.as_str()).collect();
        let kind = workload.kind.name().to_lowercase();
        let first = labels.first().map_or("app", String::as_str);
        cx.report(
            At::Value(name_node),
            format!(
                "{kind} {}.{} spec.selector.matchLabels must contain one of [{}]; it has [{}]",
                workload.name,
                workload.namespace,
                labels.join(" "),
                has.join(" ")
            ),
        )
        .help(format!(
            "add `{first}: {}` to the {kind}'s selector and pod labels",
            workload.name
        ))
        .related(
            info.selector_location
                .as_deref()
                .cloned()
                .or_else(|| workload.origin.clone()),
            format!("selector of {} {}", workload.kind.describe(), workload.name),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::DEPLOYMENT;

    #[test]
    fn cases() {
        let pass = [format!("spec:\n  service:\n    port: 9898\n{DEPLOYMENT}")];
        let bad = DEPLOYMENT.replace("app: podinfo", "component: podinfo");
        let fail = [format!(
            "spec:\n  targetRef:\n    name: podinfo # error: CL305\n{bad}"
        )];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::SelectorLabelMissing, &pass, &fail);
    }
}
