use canarylint::{At, Cx, Kind, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Notes a reference that could not be checked because the inventory does not cover the
    /// referenced object's kind and namespace.
    ///
    /// ### Why is this bad?
    /// It is not: it says what canarylint could not verify. A file-only run does not see the
    /// Gateways of `istio-system` unless they are given, and saying "not found" for an object
    /// that may well exist is the false positive that makes people turn linters off.
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
    ///       - mesh
    ///     hosts:
    ///       - app.example.com
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Use instead
    /// Give canarylint the referenced objects, as files (`--context istio/`) or from the
    /// cluster, and the reference is checked for real:
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
    ///     gateways:
    ///       - istio-system/public-gateway
    ///       - mesh
    ///     hosts:
    ///       - app.example.com
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: Gateway
    /// metadata:
    ///   name: public-gateway
    ///   namespace: istio-system
    /// spec:
    ///   selector:
    ///     istio: ingressgateway
    ///   servers:
    ///     - port:
    ///         number: 80
    ///         name: http
    ///         protocol: HTTP
    ///       hosts:
    ///         - "*.example.com"
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
    ///             - name: http
    ///               containerPort: 9898
    /// ```
    ///
    /// ### Flagger behaviour
    /// An inventory vouches for a kind and namespace when it holds at least one object of that
    /// kind there, or when it was declared complete (a synced cluster cache). Reference rules
    /// (CL101, CL301, CL404, …) report this instead of "not found" everywhere else.
    ///
    /// ### Severity
    /// Info: what canarylint cannot see may well exist; it never says "does not exist" without
    /// an authoritative inventory.
    pub struct UnresolvedReference;
    code: "CL100",
    slug: "unresolved-reference",
    severity: Info,
    summary: "a reference could not be checked: the inventory does not cover it",
    since: "0.1.0",
    fix: None,
    inputs: [],
}

impl Rule for UnresolvedReference {}

/// Reports, under CL100, a reference the inventory cannot vouch for.
pub fn report(cx: &mut Cx<'_, '_>, at: At<'_>, kind: Kind, namespace: &str, name: &str) {
    cx.report(
        at,
        format!(
            "{} {namespace}/{name} could not be checked: no {} of namespace {namespace} is known",
            kind.describe(),
            kind.describe()
        ),
    )
    .help(format!(
        "give canarylint the {} manifests of namespace {namespace} (for example with --context), or check against a cluster",
        kind.describe()
    ))
    .as_rule(canarylint::RuleMetadata::meta(&UnresolvedReference));
}
