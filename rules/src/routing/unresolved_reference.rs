use canarylint::{At, Cx, Kind, Rule, Unresolved, declare_rule};

declare_rule! {
    /// ### What it does
    /// Notes a reference that could not be checked, and says why: nothing given covers the
    /// referenced object's kind and namespace; the namespace was only assumed; the object is
    /// defined twice; a document that may define it does not parse (pointing at its CL000);
    /// or an object of that name exists without a namespace of its own.
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
    /// Flagger reads every reference from the cluster when it runs (the target in
    /// pkg/canary/factory.go's controllers, templates in `scheduler_metrics.go`), so only what
    /// is in the cluster decides. canarylint sees files: it calls an object missing only where
    /// the evidence is whole, and reports this instead everywhere else.
    ///
    /// - A namespace is known for a kind when the inventory was declared complete for it (a
    ///   synced cluster cache, `--complete`), or when the Canary's own unit (its file or
    ///   stream, or its kustomization read whole), or `--context`, holds an object of that kind
    ///   there. Another file's objects are found, but never make a namespace complete: a folder
    ///   of independent examples is not one cluster. `--bundle directory|all` (or `bundle` in
    ///   the configuration) makes a directory, or everything given, one unit.
    /// - Objects without `metadata.namespace` land where they are applied (`kubectl apply
    ///   -n`, or their kustomization's `namespace:`). Without `--namespace` or `namespace` in
    ///   the configuration, that namespace is only assumed (`default`) and never complete.
    /// - Two definitions of one identity are never merged or chosen between: the reference is
    ///   judged from neither, and both places are shown. A kustomization's patches are not
    ///   definitions.
    /// - A document that does not parse (CL000) may be the object: the reference points at it.
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

/// Reports, under CL100, a reference the inventory cannot vouch for, saying why.
pub fn report(cx: &mut Cx<'_, '_>, at: At<'_>, kind: Kind, namespace: &str, name: &str) {
    let what = kind.describe();
    let meta = canarylint::RuleMetadata::meta(&UnresolvedReference);
    match cx.inventory.unresolved(kind, namespace, name) {
        Unresolved::Duplicate(objects) => {
            // Definitions in one unit are applied together and one replaces the other; in
            // different units they are alternatives, and the one applied is not known.
            let together = objects.iter().all(|o| o.bundle == objects[0].bundle);
            let (message, help) = if together {
                (
                    format!(
                        "{what} {namespace}/{name} is defined {} times in manifests applied together: not checked against any of them",
                        objects.len()
                    ),
                    format!(
                        "keep one definition of {what} {namespace}/{name}; the API server keeps whichever is applied last"
                    ),
                )
            } else {
                (
                    format!(
                        "{what} {namespace}/{name} is defined {} times, in files not applied together: not checked against any of them",
                        objects.len()
                    ),
                    format!(
                        "lint the files applied together as one unit (a kustomization, --bundle directory or all), or give the {what} that exists with --context"
                    ),
                )
            };
            let mut r = cx.report(at, message).help(help).as_rule(meta);
            for o in objects {
                r = r.related(
                    o.origin.clone(),
                    format!("{what} {namespace}/{name} defined here"),
                );
            }
        }
        Unresolved::Broken(b) => {
            let problem = b.problem.clone();
            cx.report(
                at,
                format!(
                    "{what} {namespace}/{name} could not be checked: the document that may define it does not parse"
                ),
            )
            .help("fix the parse error (CL000) of that document")
            .related(Some(problem), "this document does not parse (CL000)")
            .as_rule(meta);
        }
        Unresolved::AssumedNamespace(ns) => {
            cx.report(
                at,
                format!(
                    "{what} {ns}/{name} could not be checked: the namespace {ns} is only assumed (no metadata.namespace, and no --namespace given)"
                ),
            )
            .help(
                "set metadata.namespace, or give the namespace the manifests are applied to with --namespace (or `namespace:` in .canarylint.yaml)",
            )
            .as_rule(meta);
        }
        Unresolved::NamespaceLess(o) => {
            let origin = o.origin.clone();
            cx.report(
                at,
                format!(
                    "{what} {namespace}/{name} could not be checked: a {what} {name} without metadata.namespace is defined, and it lands in {namespace} only if applied there"
                ),
            )
            .help(format!(
                "set metadata.namespace on that {what}, or pass --namespace {namespace} if that is where it is applied"
            ))
            .related(origin, format!("{what} {name}, without a namespace"))
            .as_rule(meta);
        }
        Unresolved::NotCovered => {
            // Objects of the namespace read from files not applied with this one are no
            // evidence of what the namespace holds, but saying "none is known" would be false.
            let elsewhere = cx
                .inventory
                .inventory
                .in_namespace(kind, namespace)
                .next()
                .and_then(|o| o.origin.clone());
            match elsewhere {
                Some(origin) => {
                    cx.report(
                        at,
                        format!(
                            "{what} {namespace}/{name} could not be checked: the {what}s of namespace {namespace} read here come from files not applied with this one, and need not be all of them"
                        ),
                    )
                    .help(format!(
                        "lint the manifests applied together as one unit (a kustomization, --bundle directory or all), or give the {what}s of namespace {namespace} that exist with --context"
                    ))
                    .related(
                        Some(origin),
                        format!("a {what} of namespace {namespace}, in a file not applied with this one"),
                    )
                    .as_rule(meta);
                }
                None => {
                    cx.report(
                        at,
                        format!(
                            "{what} {namespace}/{name} could not be checked: no {what} of namespace {namespace} is known"
                        ),
                    )
                    .help(format!(
                        "give canarylint the {what} manifests of namespace {namespace} (for example with --context), or check against a cluster"
                    ))
                    .as_rule(meta);
                }
            }
        }
    }
}
