use canarylint::model::CanaryView;
use canarylint::{At, Cx, Kind, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports two Canaries of one namespace whose `targetRef` names the same workload.
    ///
    /// ### Why is this bad?
    /// Each Canary creates its own `<target>-primary` workload and Services and scales the target
    /// down after promotion. Two of them on one target fight over the same objects: each rollout
    /// restarts the other's analysis, the primary is overwritten with whichever spec synced last,
    /// and traffic shifts follow neither plan. Flagger does not refuse this; it only logs
    /// "Bad things will happen! Found more than one canary with the same target".
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
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo-v2
    ///   namespace: test
    /// spec:
    ///   provider: istio
    ///   targetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: podinfo
    ///   service:
    ///     name: podinfo-v2
    ///     port: 9898
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Use instead
    /// One Canary per workload; change its analysis instead of adding a second one:
    ///
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
    /// pkg/controller/scheduler.go: when several Canaries of a namespace share a target, Flagger
    /// logs "Bad things will happen! Found more than one canary with the same target" and carries
    /// on with both. Canaries are compared by namespace, `targetRef.kind` and `targetRef.name`,
    /// using every Canary canarylint knows of (the files given, `--context`, the cluster).
    ///
    /// ### Severity
    /// An error: both Canaries reconcile the same `<target>-primary` and the same routes, so
    /// each promotion or rollback of one undoes the other; Flagger only logs "Bad things will
    /// happen!" (pkg/controller/scheduler.go, `advanceCanary`).
    pub struct DuplicateTarget;
    code: "CL005",
    slug: "duplicate-target",
    severity: Error,
    summary: "two Canaries of one namespace target the same workload",
    since: "0.1.0",
    fix: None,
    inputs: [Canary],
    kinds: [Canary],
}

impl Rule for DuplicateTarget {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(me) = canary.name() else { return };
        let Some(target) = canary.target_ref() else {
            return;
        };
        let Some(name) = target.name() else { return };
        let kind = target.kind().map(|k| k.value);
        let ns = cx.namespace();
        let others: Vec<_> = cx
            .inventory
            .in_namespace(Kind::Canary, ns)
            .filter(|o| o.name != me)
            .filter(|o| {
                o.as_canary().is_some_and(|c| {
                    c.target_name.as_deref() == Some(name.value) && c.target_kind.as_deref() == kind
                })
            })
            .collect();
        if others.is_empty() {
            return;
        }
        let names: Vec<&str> = others.iter().map(|o| o.name.as_str()).collect();
        let what = kind.unwrap_or("workload");
        let mut r = cx
            .report(
                At::Value(name.node),
                format!(
                    "{what} {ns}/{} is also the target of Canary {}: two Canaries fight over one workload",
                    name.value,
                    names.join(", ")
                ),
            )
            .help("keep one Canary per workload and delete or retarget the others");
        for o in &others {
            r = r.related(
                o.origin.clone(),
                format!("Canary {} targets the same {what}", o.name),
            );
        }
        drop(r);
    }
}

#[cfg(test)]
mod tests {
    /// A clean Canary of namespace `test` named `name` that targets the Deployment `target`.
    fn other(name: &str, target: &str, marker: &str) -> String {
        format!(
            "---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: {name}
  namespace: test
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {target}{marker}
  service:
    name: {name}
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    iterations: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
    webhooks:
      - name: load-test
        url: http://flagger-loadtester.test/
        timeout: 5s
        metadata:
          cmd: hey -z 1m -q 10 -c 2 http://{name}-canary.test:9898/
"
        )
    }

    #[test]
    fn cases() {
        let pass = [
            format!(
                "spec:\n  service:\n    port: 9898\n{}",
                other("frontend", "frontend", "")
            ),
            // Same name, other namespace.
            format!(
                "spec:\n  service:\n    port: 9898\n{}",
                other("podinfo-v2", "podinfo", "")
                    .replace("namespace: test", "namespace: prod")
                    .replace("-canary.test:", "-canary.prod:")
            ),
        ];
        let fail = [format!(
            "spec:\n  targetRef:\n    name: podinfo # error: CL005\n{}",
            other("podinfo-v2", "podinfo", " # error: CL005")
        )];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::DuplicateTarget, &pass, &fail);
    }
}
