use canarylint::model::CanaryView;
use canarylint::model::Strategy;
use canarylint::{At, Cx, Node, Rule, Severity, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports `analysis.sessionAffinity` where it cannot work: with `iterations` (Blue/Green or
    /// A/B testing), with a provider other than `istio` or `gatewayapi:*`, or with a
    /// `primaryCookieName` equal to `cookieName`.
    ///
    /// ### Why is this bad?
    /// Session affinity pins users to the canary once weighted routing has sent them there; it
    /// exists only in the weighted strategy. With `iterations`, Blue/Green keeps every user on
    /// the primary (and A/B testing replaces the sticky routes with its match routes), so no
    /// user is ever pinned. Only the Istio and Gateway API routers write the cookie routes;
    /// the others ignore the field. Equal cookie names make Flagger reject the Canary: "can't
    /// use the same cookie name for both primary and cookie name".
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
    ///     sessionAffinity:
    ///       cookieName: flagger-cookie
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
    ///     maxWeight: 50
    ///     stepWeight: 10
    ///     sessionAffinity:
    ///       cookieName: flagger-cookie
    ///       primaryCookieName: flagger-primary-cookie
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/istio.go and pkg/router/gateway_api.go (`SetRoutes`) add the cookie-setting and sticky
    /// routes in `SetRoutes` only while the canary weight is above 0, which Blue/Green never
    /// does before its final switch; A/B testing then overwrites the routes with its match
    /// routes. The controller's spec validation (pkg/controller/controller.go) rejects equal
    /// cookie names (`syncHandler`: "invalid canary spec"). pkg/router/factory.go picks the
    /// router; only `IstioRouter` and the Gateway API routers read `sessionAffinity`.
    ///
    /// ### Severity
    /// Equal cookie names are an error: the controller refuses the Canary. The other findings
    /// are warnings: Flagger silently ignores `sessionAffinity` there, and traffic is split
    /// by weight as if it were absent.
    pub struct SessionAffinityMisuse;
    code: "CL209",
    slug: "session-affinity-misuse",
    severity: Error,
    summary: "sessionAffinity with iterations, a provider without cookie routing, or equal cookie names",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for SessionAffinityMisuse {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        let Some(sa) = a.session_affinity() else {
            return;
        };
        let Some(provider) = cx.provider().cloned() else {
            return;
        };
        let cookie = sa.get("cookieName").and_then(Node::as_str);
        if let (Some(c), Some(p)) = (cookie, sa.get("primaryCookieName"))
            && p.as_str() == Some(c)
        {
            cx.report(
                At::Value(p),
                format!("primaryCookieName equals cookieName \"{c}\": Flagger rejects the Canary (\"can't use the same cookie name\")"),
            )
            .help(format!("give the primary cookie a name of its own, such as primary-{c}"));
        }
        match a.strategy() {
            Strategy::Canary => {}
            strategy => {
                let what = if strategy == Strategy::BlueGreen {
                    "Blue/Green"
                } else {
                    "A/B testing"
                };
                cx.report(
                    At::Key(sa),
                    format!("sessionAffinity with iterations ({what}): Flagger pins users only while weights shift, so it never applies"),
                )
                .severity(Severity::Warning)
                .help("use stepWeight and maxWeight instead of iterations, or remove sessionAffinity");
            }
        }
        if !(provider.is_istio() || provider.is_gateway_api()) {
            cx.report(
                At::Key(sa),
                format!("sessionAffinity with provider {}: only the Istio and Gateway API routers set the cookie routes", provider.name),
            )
            .severity(Severity::Warning)
            .help("remove sessionAffinity, or use the istio or gatewayapi:v1 provider");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::SessionAffinityMisuse,
            &[
                "spec:\n  analysis:\n    sessionAffinity:\n      cookieName: canary-cookie\n      primaryCookieName: primary-cookie\n",
                "spec:\n  analysis:\n    sessionAffinity:\n      cookieName: canary-cookie\n      maxAge: 21600\n",
            ],
            &[
                "spec:\n  analysis:\n    sessionAffinity:\n      cookieName: flagger-cookie\n      primaryCookieName: flagger-cookie # error: CL209\n",
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 10\n    sessionAffinity: # warning: CL209\n      cookieName: flagger-cookie\n",
                "spec:\n  provider: kuma\n  analysis:\n    sessionAffinity: # warning: CL209\n      cookieName: flagger-cookie\n",
            ],
        );
    }
}
