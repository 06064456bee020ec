use canarylint::{At, Cx, Rule, Severity, declare_rule};

use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports `analysis.mirror: true` with a provider that cannot mirror traffic (anything but
    /// `istio` and `gatewayapi:*`), `mirrorWeight` without `mirror: true`, and `mirrorWeight`
    /// on a router other than Istio (warning).
    ///
    /// ### Why is this bad?
    /// Only the Istio and Gateway API routers implement mirroring; the others silently drop
    /// it. Flagger does not notice: in a weighted canary its first step waits for a mirror that
    /// the router never reports, so the next run starts the mirror step again and the weight
    /// stays at 0 %; in Blue/Green the canary gets no mirrored requests and its metrics come
    /// back empty. `mirrorWeight` is read only while mirroring, and only by Istio (as the
    /// VirtualService's `mirrorPercentage`): elsewhere every request is mirrored.
    ///
    /// ### Example
    /// ```yaml
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    ///   namespace: test
    /// spec:
    ///   provider: linkerd
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
    ///     mirror: true
    ///     mirrorWeight: 50
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler.go (`runCanary`, `runBlueGreen`) asks the router to mirror
    /// through `SetRoutes` and reads back whether it does through `GetRoutes`;
    /// pkg/router/istio.go sets `mirror` (and `mirrorPercentage` from `mirrorWeight` when it is
    /// above 0) and pkg/router/gateway_api.go adds a RequestMirror filter in Blue/Green; no
    /// other router does anything with it: the `mirrored` argument of their `SetRoutes` is
    /// ignored and their `GetRoutes` reports `mirrored = false` (pkg/router/factory.go picks the
    /// router from the provider string).
    ///
    /// ### Severity
    /// A warning, not an error: Flagger neither fails nor misroutes here, it silently skips the
    /// mirror (or the weight) and runs the analysis without the shadow traffic.
    pub struct MirrorUnsupported;
    code: "CL203",
    slug: "mirror-unsupported",
    severity: Warning,
    summary: "mirror with a provider that cannot mirror, or mirrorWeight without mirror or off Istio",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for MirrorUnsupported {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(a) = canary.analysis() else { return };
        let Some(provider) = cx.provider().cloned() else {
            return;
        };
        let mirror = a.mirror().filter(|m| m.value);
        let weight = a.mirror_weight();
        let can_mirror = provider.router().can_mirror();
        match (mirror, weight) {
            (Some(m), _) if !can_mirror => {
                cx.report(
                    At::Key(m.node),
                    format!("mirror: true with provider {}: only the Istio and Gateway API routers mirror traffic", provider.name),
                )
                .help("remove mirror (and mirrorWeight), or use a provider that mirrors: istio or gatewayapi:v1");
            }
            (Some(_), Some(w)) if !provider.is_istio() => {
                cx.report(
                    At::Key(w.node),
                    format!(
                        "mirrorWeight is Istio-only: the {} router mirrors every request",
                        provider.name
                    ),
                )
                .severity(Severity::Warning)
                .help("remove mirrorWeight");
            }
            (None, Some(w)) => {
                cx.report(
                    At::Key(w.node),
                    format!("mirrorWeight {} is set but mirror is not true: Flagger ignores it and mirrors nothing", num(w.value)),
                )
                .help("set analysis.mirror: true to mirror, or remove mirrorWeight");
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        let bg = "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 5\n";
        let case = |f: &str| format!("{bg}{f}");
        let pass = [
            case("    mirror: true\n    mirrorWeight: 50\n"),
            case("    mirror: false\n"),
            format!(
                "{bg}    mirror: true\n  provider: gatewayapi:v1\n  service:\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n"
            ),
        ];
        let fail = [
            case("    mirror: true # warning: CL203\n  provider: linkerd\n"),
            case("    mirror: true # warning: CL203\n  provider: kuma\n"),
            case(
                "    mirror: true\n    mirrorWeight: 20 # warning: CL203\n  provider: gatewayapi:v1\n  service:\n    gatewayRefs:\n      - name: gateway\n        namespace: istio-ingress\n",
            ),
            case("    mirrorWeight: 20 # warning: CL203\n"),
            // Inferred from ingressRef: nginx, a guess, so a warning.
            case(
                "    mirror: true # warning: CL203\n  provider: __remove__\n  ingressRef:\n    apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    name: podinfo\n",
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::MirrorUnsupported, &pass, &fail);
    }
}
