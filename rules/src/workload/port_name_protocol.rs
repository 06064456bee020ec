use canarylint::model::CanaryView;
use canarylint::{At, Cx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// On Istio, checks that the port name of Flagger's Services (`service.portName`, default
    /// `http`) starts with a protocol Istio recognises (`http`, `http2`, `https`, `grpc`,
    /// `grpc-web`, `tcp`, `tls`, `udp`, `mongo`, `mysql`, `redis`), alone or followed by
    /// `-suffix`, unless `service.appProtocol` names the protocol.
    ///
    /// ### Why is this bad?
    /// Istio picks a port's protocol from `appProtocol` or from the port name's prefix. With
    /// neither, it does not know the port speaks HTTP: it sniffs the first bytes where protocol
    /// sniffing is on and treats the port as opaque TCP where it is off or the server speaks
    /// first. Then the HTTP routes of Flagger's VirtualService do not apply, and the request
    /// metrics (`istio_requests_total`, the request duration histogram) that Flagger's built-in
    /// checks query never appear: the analysis halts with "no values found".
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
    ///     portName: web
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
    ///     portName: http-web
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/kubernetes_default.go names the one port of `<name>`, `<name>-primary` and
    /// `<name>-canary` after `service.portName` (default `http`) and copies
    /// `service.appProtocol` onto it. Istio's port naming convention (istioctl analyze IST0118)
    /// takes the part before the first `-`.
    /// Decided by Istio's port protocol selection (pkg/config/kube, `ConvertProtocol`:
    /// `appProtocol`, else the port name's prefix) on the Services
    /// pkg/router/kubernetes_default.go (`reconcileService`) writes.
    ///
    /// ### Severity
    /// A warning: nothing fails at once, but Istio treats the port as opaque TCP, so the HTTP
    /// metrics of the built-in checks never appear and the analysis very likely halts for lack
    /// of values.
    pub struct PortNameProtocol;
    code: "CL303",
    slug: "port-name-protocol",
    severity: Warning,
    summary: "service.portName has no protocol prefix Istio recognises and no appProtocol is set",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
    providers: [Istio],
    provider_specific: true,
}

/// Protocols Istio recognises in a port name's prefix (pkg/config/protocol).
const PROTOCOLS: &[&str] = &[
    "http",
    "http2",
    "https",
    "grpc",
    "tcp",
    "tls",
    "udp",
    "mongo",
    "mysql",
    "redis",
    "http_proxy",
];

/// Whether Istio infers a protocol from a port name (`<protocol>[-<suffix>]`).
pub fn has_protocol_prefix(name: &str) -> bool {
    let prefix = name.split('-').next().unwrap_or(name).to_ascii_lowercase();
    PROTOCOLS.contains(&prefix.as_str())
}

impl Rule for PortNameProtocol {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        if service.app_protocol().is_some_and(|p| !p.value.is_empty()) {
            return;
        }
        let Some(name) = service.port_name() else {
            return;
        };
        if has_protocol_prefix(name.value) {
            return;
        }
        cx.report(
            At::Value(name.node),
            format!("portName \"{}\" has no protocol prefix Istio recognises and no appProtocol is set: Istio may treat it as TCP", name.value),
        )
        .help(format!("name the port http-{} (or grpc-…), or set service.appProtocol: http", name.value));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::PortNameProtocol,
            &[
                "spec:\n  service:\n    portName: http-podinfo\n",
                "spec:\n  service:\n    portName: grpc\n",
                "spec:\n  service:\n    portName: web\n    appProtocol: http\n",
                "spec:\n  provider: kuma\n  service:\n    portName: web\n",
            ],
            &["spec:\n  service:\n    portName: web # warning: CL303\n"],
        );
    }

    #[test]
    fn prefixes() {
        use super::has_protocol_prefix;
        assert!(has_protocol_prefix("http"));
        assert!(has_protocol_prefix("grpc-web"));
        assert!(has_protocol_prefix("tcp-metrics"));
        assert!(!has_protocol_prefix("web"));
        assert!(!has_protocol_prefix("httpx"));
    }
}
