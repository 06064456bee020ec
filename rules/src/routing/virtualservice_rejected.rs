use canarylint::{At, Cx, Node, Rule, declare_rule};

use super::applies_to_mesh;
use super::invalid_host::host_problem;
use crate::helpers::hosts_overlap;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Builds the host and gateway lists of the VirtualService Flagger will generate and applies
    /// istiod's validation to them: the host `*` is refused when the VirtualService applies to
    /// the mesh, and no two hosts may overlap.
    ///
    /// ### Why is this bad?
    /// istiod's validating webhook rejects such a VirtualService ("wildcard host * is not
    /// allowed for virtual services bound to the mesh gateway", "duplicate hosts in virtual
    /// service"). Flagger's reconcile then fails on every run: the canary never initialises, or
    /// an update to a running one is never applied.
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
    ///     hosts:
    ///       - "*.example.com"
    ///       - app.example.com
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
    ///     gateways:
    ///       - istio-system/public-gateway
    ///       - mesh
    ///     hosts:
    ///       - "*.example.com"
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/istio.go writes `hosts = service.hosts`, plus the apex name (`service.name`,
    /// else `targetRef.name`) unless the list already holds it or `*`, and `gateways =
    /// service.gateways`, or `[mesh]` when empty. istiod (pkg/config/validation,
    /// `ValidateVirtualService`) refuses `*` on a VirtualService bound to `mesh` and, when every
    /// host is valid, any pair of hosts that overlap by Istio's matching: `*` overlaps
    /// everything, `*.example.com` overlaps `app.example.com` (fluxcd/flagger#162). `*` beside
    /// an ingress Gateway only, as Flagger's session-affinity test uses, is accepted.
    /// Hosts with other problems are CL104's.
    ///
    /// ### Severity
    /// An error: istiod's validating webhook refuses the VirtualService, so Flagger's reconcile
    /// fails on every sync.
    pub struct VirtualserviceRejected;
    code: "CL110",
    slug: "virtualservice-rejected",
    severity: Error,
    summary: "the generated VirtualService fails istiod validation: host * bound to mesh, or overlapping hosts",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
    providers: [Istio],
    provider_specific: true,
}

impl Rule for VirtualserviceRejected {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        if service.delegation().is_some_and(|d| d.value) {
            return;
        }
        // A TCP service gets a VirtualService with tcp routes only; the host rules are the same.
        let written = service.hosts();
        let gateways = service.gateways();
        let mesh = applies_to_mesh(&gateways);
        let mut all_valid = true;
        for h in &written {
            if host_problem(&h.value.to_ascii_lowercase()).is_some() {
                // istiod reports the host itself (CL104) and skips the duplicate check.
                all_valid = false;
            } else if mesh && h.value == "*" {
                all_valid = false;
                let why = if gateways.is_empty() {
                    "service.gateways is empty, so Flagger adds mesh"
                } else {
                    "service.gateways lists mesh"
                };
                cx.report(
                    At::Value(h.node),
                    format!("host \"*\" is refused by istiod on a VirtualService bound to mesh ({why})"),
                )
                .help("list only ingress Gateways in service.gateways, or replace `*` with the hosts you serve");
            }
        }
        if !all_valid {
            return;
        }
        // The hosts of the generated VirtualService: the written ones, then the apex name.
        let mut hosts: Vec<(&str, Option<&Node>)> =
            written.iter().map(|h| (h.value, Some(h.node))).collect();
        if let Some(apex) = canary.apex_name()
            && !written.iter().any(|h| h.value == apex || h.value == "*")
        {
            hosts.push((apex, None));
        }
        for j in 1..hosts.len() {
            for i in 0..j {
                let ((a, a_node), (b, b_node)) = (hosts[i], hosts[j]);
                if !hosts_overlap(a, b) {
                    continue;
                }
                let (node, message) = match (a_node, b_node) {
                    (_, Some(n)) if a == b => (
                        n,
                        format!(
                            "host {b} is listed twice: istiod rejects the VirtualService (duplicate hosts)"
                        ),
                    ),
                    (_, Some(n)) => (
                        n,
                        format!(
                            "hosts {a} and {b} overlap: istiod rejects the VirtualService (duplicate hosts)"
                        ),
                    ),
                    (Some(n), None) => (
                        n,
                        format!(
                            "host {a} overlaps the apex name {b} Flagger adds: istiod rejects the VirtualService"
                        ),
                    ),
                    (None, None) => continue,
                };
                let help = if b_node.is_none() {
                    format!(
                        "narrow the wildcard so that it does not cover {b}, the name Flagger always adds"
                    )
                } else if a.starts_with('*') || b.starts_with('*') {
                    "keep either the wildcard or the names it covers, not both".to_string()
                } else {
                    "list each host once".to_string()
                };
                cx.report(At::Value(node), message).help(help);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::VirtualserviceRejected,
            &[
                // Flagger's own session-affinity test: `*` on an ingress Gateway only, no apex added.
                "spec:\n  service:\n    gateways: [istio-system/istio-ingressgateway]\n    hosts: [\"*\"]\n",
                "spec:\n  service:\n    gateways: [istio-system/public-gateway, mesh]\n    hosts: [\"*.example.com\", podinfo, podinfo.test.svc.cluster.local]\n",
                // The apex name written out is not added twice.
                "spec:\n  service:\n    hosts: [podinfo]\n",
            ],
            &[
                "spec:\n  service:\n    hosts:\n      - \"*\" # error: CL110\n",
                "spec:\n  service:\n    gateways: [istio-system/public-gateway, mesh]\n    hosts:\n      - \"*\" # error: CL110\n",
                "spec:\n  service:\n    gateways: [istio-system/public-gateway]\n    hosts:\n      - \"*\"\n      - app.example.com # error: CL110\n",
                "spec:\n  service:\n    hosts:\n      - \"*.example.com\"\n      - app.example.com # error: CL110\n      - app.example.com # error: CL110\n",
                "spec:\n  service:\n    hosts:\n      - \"*nfo\" # error: CL110\n",
            ],
        );
    }
}
