use canarylint::model::CanaryView;
use canarylint::{At, Cx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Checks that every `service.hosts` entry is a host name as istiod accepts and matches
    /// it: no scheme, port or path, DNS-1123 labels, a wildcard only as a leading `*`, and no
    /// upper-case letters.
    ///
    /// ### Why is this bad?
    /// istiod's validation rejects the VirtualService Flagger generates from a host with a
    /// scheme, port or path, so Flagger's reconcile fails and the canary never starts. Upper
    /// case passes validation but never binds: istiod compares hosts byte for byte, so
    /// `App.example.com` never matches a Gateway's `app.example.com`.
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
    ///       - https://app.example.com/
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
    ///     hosts:
    ///       - app.example.com
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// Flagger copies `service.hosts` into the VirtualService (pkg/router/istio.go,
    /// `reconcileVirtualService`) or the HTTPRoute `hostnames` (pkg/router/gateway_api.go,
    /// `Reconcile`) as written; istiod validates each VirtualService host with
    /// `ValidateWildcardDomain` (pkg/config/validation/agent), whose label check accepts
    /// upper case, and the HTTPRoute CRD's `hostname` pattern accepts lower case only.
    ///
    /// ### Severity
    /// An error when the object is refused (scheme, port, path, bad wildcard, bad label; upper
    /// case on Gateway API) and Flagger's reconcile fails. Upper case on Istio is a warning:
    /// istiod stores the host and compares it byte for byte, so it binds only where a
    /// wildcard server host covers it.
    pub struct InvalidHost;
    code: "CL104",
    slug: "invalid-host",
    severity: Error,
    summary: "a service.hosts entry is not a host name (scheme, port, path, bad wildcard, upper case)",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
    providers: [Istio, GatewayApi],
    provider_specific: true,
}

/// Why a host is not valid, if it is not.
pub fn host_problem(host: &str) -> Option<(String, String)> {
    if host == "*" {
        return None;
    }
    if let Some((scheme, rest)) = host.split_once("://") {
        let bare = rest.split(['/', ':']).next().unwrap_or(rest);
        return Some((
            format!("has a scheme ({scheme}://)"),
            format!("write the bare host: {bare}"),
        ));
    }
    if let Some(i) = host.find('/') {
        return Some((
            "has a path".into(),
            format!("write the bare host: {}", &host[..i]),
        ));
    }
    if let Some((h, _)) = host.rsplit_once(':') {
        return Some((
            "has a port".into(),
            format!("write the host without port: {h}"),
        ));
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some((
            UPPER_CASE.into(),
            format!("write it in lower case: {}", host.to_ascii_lowercase()),
        ));
    }
    let body = match host.strip_prefix('*') {
        Some(rest) => rest.strip_prefix('.').unwrap_or(rest),
        None => host,
    };
    if body.contains('*') {
        return Some((
            "has a wildcard that is not the leading `*`".into(),
            "use a wildcard only at the start, as in *.example.com".into(),
        ));
    }
    if host.len() > 253 || body.is_empty() {
        return Some((
            "is not a valid DNS name".into(),
            "use a DNS name such as app.example.com".into(),
        ));
    }
    for label in body.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Some((
                format!("has the label \"{label}\", which is not a DNS-1123 label"),
                "use lower-case letters, digits and '-' in each label".into(),
            ));
        }
    }
    None
}

const UPPER_CASE: &str = "has upper-case letters: istiod compares hosts byte for byte, so it never binds to a lower-case Gateway host";

impl Rule for InvalidHost {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(service) = canary.service() else {
            return;
        };
        let istio = cx.provider().is_some_and(|p| p.is_istio());
        for h in service.hosts() {
            if let Some((why, help)) = host_problem(h.value) {
                // istiod's label check takes upper case (pkg/config/labels, `IsDNS1123Label`):
                // the VirtualService is stored, and binds wherever a wildcard covers the host.
                // Gateway API hostnames must be lower case (the HTTPRoute CRD's pattern).
                let severity = if istio && why == UPPER_CASE {
                    canarylint::Severity::Warning
                } else {
                    canarylint::Severity::Error
                };
                cx.report(At::Value(h.node), format!("host \"{}\" {why}", h.value))
                    .severity(severity)
                    .help(help);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::InvalidHost,
            // Each list on its own: istiod also refuses overlapping hosts and `*` bound to mesh (CL110).
            &[
                "spec:\n  service:\n    hosts: [app.example.com, podinfo]\n",
                "spec:\n  service:\n    hosts: [\"*.example.com\"]\n",
                "spec:\n  service:\n    gateways: [istio-system/public-gateway]\n    hosts: [\"*\"]\n",
            ],
            &[
                "spec:\n  service:\n    hosts:\n      - https://app.example.com/ # error: CL104\n      - app.example.com:443 # error: CL104\n      - App.example.com # warning: CL104\n      - app.*.com # error: CL104\n      - app_1.example.com # error: CL104\n",
            ],
        );
    }
}
