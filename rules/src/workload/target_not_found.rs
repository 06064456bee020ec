use canarylint::suggest::did_you_mean;
use canarylint::{At, Cx, Lookup, Rule, declare_rule};

use crate::routing::unresolved_reference;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports a `targetRef` that names a Deployment, DaemonSet or Knative Service absent from
    /// an inventory that covers the Canary's namespace.
    ///
    /// ### Why is this bad?
    /// Flagger cannot initialise the Canary: it keeps logging that the target cannot be found,
    /// creates no primary, and no rollout ever happens.
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
    ///     name: podinf
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
    /// The target is read from the Canary's own namespace (pkg/canary/factory.go dispatches on
    /// `kind`); a missing one fails every sync. Without the namespace's workloads in the
    /// inventory, the reference is reported as CL100 instead.
    /// Decided by pkg/canary/factory.go (`Controller`) and deployment_controller.go /
    /// daemonset_controller.go (`Initialize`).
    ///
    /// ### Severity
    /// An error when the inventory vouches for the namespace: Flagger fails every sync
    /// ("deployment … get query error") and the canary never starts. Otherwise CL100 (info).
    pub struct TargetNotFound;
    code: "CL301",
    slug: "target-not-found",
    severity: Error,
    summary: "targetRef names a workload that does not exist",
    since: "0.1.0",
    fix: None,
    inputs: [Deployment, DaemonSet, KnativeService],
    kinds: [Canary],
}

impl Rule for TargetNotFound {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(t) = canary.target_ref() else { return };
        let Some((kind, name, lookup)) = super::target(cx, &canary) else {
            return;
        };
        let Some(name_node) = t.name().map(|n| n.node) else {
            return;
        };
        let ns = cx.namespace();
        match lookup {
            Lookup::Found(_) => {}
            Lookup::Unknown => {
                unresolved_reference::report(cx, At::Value(name_node), kind, ns, name)
            }
            Lookup::Absent => {
                let names = cx.inventory.names(kind, ns);
                let help = match did_you_mean(name, names.iter().copied()) {
                    Some(n) => format!("did you mean `{n}`?"),
                    // Other workloads of the namespace are no evidence of what was meant.
                    None => format!(
                        "create the {} {ns}/{name}, or correct targetRef.name",
                        kind.describe()
                    ),
                };
                cx.report(
                    At::Value(name_node),
                    format!("{} {ns}/{name} does not exist", kind.describe()),
                )
                .help(help);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::DEPLOYMENT;

    #[test]
    fn cases() {
        let d = |f: &str| format!("{f}{DEPLOYMENT}");
        let pass = [d("spec:\n  service:\n    port: 9898\n")];
        let fail = [d("spec:\n  targetRef:\n    name: podinf # error: CL301\n")];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::TargetNotFound, &pass, &fail);
    }
}
