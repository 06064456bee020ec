use canarylint::model::CanaryView;
use canarylint::{At, Cx, Node, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports `service.delegation: true` together with a non-empty `service.hosts` or
    /// `service.gateways`.
    ///
    /// ### Why is this bad?
    /// With delegation, Flagger generates a *delegate* VirtualService: a route table that a root
    /// VirtualService (yours, bound to the Gateway and hosts) hands requests to. Istio forbids
    /// hosts and gateways on a delegate, so Flagger refuses to reconcile: every run fails with
    /// "VirtualService podinfo.test cannot have hosts and gateways when delegation enabled" and
    /// the canary never leaves initialisation.
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
    ///     delegation: true
    ///     hosts:
    ///       - app.example.com
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Use instead
    /// Keep the hosts and gateways on the root VirtualService that delegates to `podinfo`:
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
    ///     delegation: true
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/istio.go (`reconcileVirtualService`) returns the error above whenever
    /// `delegation` is true and `hosts` or `gateways` has an entry; it then writes the delegate
    /// with empty hosts and gateways. Only the Istio router reads `delegation`.
    ///
    /// ### Severity
    /// An error: the reconcile fails on every sync and the canary never starts.
    pub struct DelegationWithHosts;
    code: "CL105",
    slug: "delegation-with-hosts",
    severity: Error,
    summary: "service.delegation: true with hosts or gateways: Flagger refuses to reconcile",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
    providers: [Istio],
    provider_specific: true,
}

impl Rule for DelegationWithHosts {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let Some(delegation) = service.delegation().filter(|d| d.value) else {
            return;
        };
        let set: Vec<(&str, &Node)> = [
            ("hosts", service.hosts_node()),
            ("gateways", service.gateways_node()),
        ]
        .into_iter()
        .filter_map(|(name, n)| Some((name, n.filter(|n| !n.items().is_empty())?)))
        .collect();
        if set.is_empty() {
            return;
        }
        let fields = set
            .iter()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
            .join(" and ");
        let spans: Vec<_> = set
            .iter()
            .filter_map(|(name, n)| Some((*name, cx.key_span(n)?)))
            .collect();
        let mut r = cx
            .report(
                At::Key(delegation.node),
                format!("delegation: true beside {fields}: Flagger fails (\"cannot have hosts and gateways when delegation enabled\")"),
            )
            .help("remove hosts and gateways here and set them on the root VirtualService that delegates to this one");
        for (name, span) in spans {
            r = r.label(span, format!("{name} set here"));
        }
        drop(r);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::DelegationWithHosts,
            &[
                "spec:\n  service:\n    delegation: true\n",
                "spec:\n  service:\n    delegation: true\n    hosts: []\n",
                "spec:\n  service:\n    delegation: false\n    hosts: [podinfo.test.svc.cluster.local]\n",
            ],
            &[
                "spec:\n  service:\n    delegation: true # error: CL105\n    hosts: [app.example.com]\n",
                "spec:\n  service:\n    delegation: true # error: CL105\n    gateways: [mesh]\n    hosts: [podinfo]\n",
            ],
        );
    }
}
