use canarylint::model::CanaryView;
use canarylint::{Applicability, At, Cx, Edit, Fix, Rule, Span, declare_rule};

declare_rule! {
    /// ### What it does
    /// Notes a `service.gateways` list without `mesh`.
    ///
    /// ### Why is this bad?
    /// Flagger adds `mesh` to the VirtualService only when `gateways` is empty. With a list of
    /// ingress Gateways and no `mesh`, calls from inside the cluster (through sidecars) bypass
    /// the VirtualService: they reach primary and canary pods alike, ignoring the weights, and
    /// the `match`, `retries` and `timeout` you configured. That is often intended for
    /// ingress-only services, hence only a note.
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
    ///     gateways:
    ///       - istio-system/public-gateway
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
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/istio.go copies `service.gateways` and appends `mesh` only to an empty list
    /// (fluxcd/flagger#140).
    /// Decided by pkg/router/istio.go, `reconcileVirtualService`.
    ///
    /// ### Severity
    /// Info: leaving in-mesh callers out of the split is often intended (an ingress-only
    /// service).
    pub struct MeshGatewayOmitted;
    code: "CL103",
    slug: "mesh-gateway-omitted",
    severity: Info,
    summary: "service.gateways without mesh: in-cluster callers bypass the canary split",
    since: "0.1.0",
    fix: Always,
    inputs: [],
    kinds: [Canary],
    providers: [Istio],
    provider_specific: true,
}

impl Rule for MeshGatewayOmitted {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let Some(list) = service.gateways_node() else {
            return;
        };
        let items = service.gateways();
        if items.is_empty() || items.iter().any(|g| g.value == "mesh") {
            return;
        }
        let fix = add_mesh(cx, list);
        let mut r = cx
            .report(At::Key(list), "service.gateways has no `mesh`: calls from inside the cluster bypass the canary routing")
            .help("add `mesh` to service.gateways if in-cluster callers should follow the canary");
        if let Some(f) = fix {
            r = r.fix(f);
        }
        drop(r);
    }
}

/// Adds `mesh` after the last item, in the list's own style.
fn add_mesh(cx: &Cx<'_, '_>, list: &canarylint::Node) -> Option<Fix> {
    let last = list.items().last()?;
    let text = &*cx.file.source.text;
    let list_text = cx.text(list.span);
    let edit = if list_text.trim_start().starts_with('[') {
        Edit {
            span: Span::empty(last.span.end),
            replacement: ", mesh".into(),
        }
    } else {
        // Block list: a new `- mesh` line with the same indentation as the last item.
        let line_start = text[..last.span.start as usize]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let dash = text[line_start..last.span.start as usize].rfind('-')? + line_start;
        let indent = &text[line_start..dash];
        let line_end = text[last.span.end as usize..]
            .find('\n')
            .map_or(text.len(), |i| last.span.end as usize + i);
        Edit {
            span: Span::empty(line_end as u32),
            replacement: format!("\n{indent}- mesh"),
        }
    };
    Some(Fix {
        title: "add `mesh` to service.gateways".into(),
        edits: vec![edit],
        applicability: Applicability::Safe,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::MeshGatewayOmitted,
            &[
                "spec:\n  service:\n    gateways: [mesh]\n",
                "spec:\n  service:\n    port: 9898\n",
            ],
            &[
                "spec:\n  service:\n    gateways: # info: CL103\n      - istio-system/public-gateway\n",
            ],
        );
    }
}
