use canarylint::model::CanaryView;
use canarylint::{At, Cx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports `analysis.match` together with `mirror: true` or `sessionAffinity` on the Istio
    /// and Gateway API routers.
    ///
    /// ### Why is this bad?
    /// When `analysis.match` is set, the router rebuilds the routes as two match routes: the
    /// matching requests split between primary and canary, everything else to the primary.
    /// That rewrite comes last and replaces the routes that carried the mirror and the sticky
    /// session cookie, so nothing is mirrored and nobody is pinned to the canary, whatever
    /// the Canary says. In A/B testing Flagger does not even ask for the mirror.
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
    ///     mirror: true
    ///     match:
    ///       - headers:
    ///           x-canary:
    ///             exact: "insider"
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
    ///     match:
    ///       - headers:
    ///           x-canary:
    ///             exact: "insider"
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/istio.go (`SetRoutes`) sets the mirror on `http[0]` and builds the sticky
    /// routes, then, when `analysis.match` is non-empty, replaces `http` with the A/B routes;
    /// pkg/router/gateway_api.go rewrites its first rule the same way. pkg/controller/
    /// scheduler.go runs A/B testing without a mirror. An Istio Canary with `appProtocol: tcp`
    /// gets TCP routes and no match, and is not reported; `sessionAffinity` with `iterations`
    /// is CL209's.
    ///
    /// ### Severity
    /// A warning: nothing fails, but the mirror or the sticky routes written are silently
    /// dropped.
    pub struct RoutesDroppedByMatch;
    code: "CL210",
    slug: "routes-dropped-by-match",
    severity: Warning,
    summary: "analysis.match with mirror or sessionAffinity: the match routes replace them",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
    provider_specific: true,
}

impl Rule for RoutesDroppedByMatch {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        if !a.has_match() {
            return;
        }
        let Some(provider) = cx.provider() else {
            return;
        };
        if !(provider.is_istio() || provider.is_gateway_api()) {
            return;
        }
        let tcp = canary
            .service()
            .and_then(|s| s.app_protocol())
            .is_some_and(|p| p.value.eq_ignore_ascii_case("tcp"));
        if provider.is_istio() && tcp {
            return;
        }
        if let Some(m) = a.mirror().filter(|m| m.value) {
            cx.report(At::Key(m.node), "mirror: true with analysis.match: the match routes replace the mirrored route, so nothing is mirrored")
                .help("remove mirror, or remove analysis.match and use Blue/Green (iterations) to mirror");
        }
        let iterations = a.iterations().is_some_and(|i| i.value > 0.0);
        if let Some(sa) = a.session_affinity().filter(|_| !iterations) {
            cx.report(At::Key(sa), "sessionAffinity with analysis.match: the match routes replace the sticky-cookie routes")
                .help("remove sessionAffinity, or remove analysis.match");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let m = "    match:\n      - headers:\n          x-canary:\n            exact: insider\n";
        let ab = "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 10\n";
        let pass = [
            format!("{ab}{m}"),
            format!("{ab}    mirror: true\n"),
            format!("{ab}{m}    mirror: true\n  service:\n    port: 9898\n    appProtocol: tcp\n"),
        ];
        let fail = [
            format!("{ab}{m}    mirror: true # warning: CL210\n"),
            format!(
                "spec:\n  analysis:\n{m}    sessionAffinity: # warning: CL210\n      cookieName: flagger-cookie\n"
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::RoutesDroppedByMatch, &pass, &fail);
    }
}
