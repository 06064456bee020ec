use canarylint::schema::{SchemaErrorKind, Seg, path_string, schema_at};
use canarylint::suggest::did_you_mean;
use canarylint::{At, Cx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Checks Canary, MetricTemplate and AlertProvider objects against the `openAPIV3Schema` of
    /// Flagger's CRDs: types, required fields, allowed values and patterns.
    ///
    /// ### Why is this bad?
    /// The API server rejects the object, so `kubectl apply` or the GitOps sync fails and the
    /// previous version stays in place.
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
    ///     port: "9898"
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
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// The schema is Flagger's own (`artifacts/flagger/crd.yaml`, v1beta1), embedded at build
    /// time. Unknown fields are reported by CL002, malformed durations by CL003 and the
    /// iterations/stepWeight/stepWeights choice by CL206, so each problem is reported once.
    /// Decided by the API server's CRD validation (apiextensions-apiserver) of
    /// artifacts/flagger/crd.yaml.
    ///
    /// ### Severity
    /// An error: the API server validates every Flagger object against the CRD's
    /// `openAPIV3Schema` and refuses one that does not fit.
    pub struct SchemaViolation;
    code: "CL001",
    slug: "schema-violation",
    severity: Error,
    summary: "the object does not satisfy the CRD schema (type, required field, enum, pattern)",
    since: "0.1.0",
    fix: None,
    inputs: [],
}

/// Fields whose pattern CL003 explains better.
fn is_duration_field(path: &[Seg]) -> bool {
    let s = path_string(path);
    s == "spec.analysis.interval"
        || (s.starts_with("spec.analysis.metrics[") && s.ends_with(".interval"))
        || (s.starts_with("spec.analysis.webhooks[") && s.ends_with(".timeout"))
}

fn field_name(path: &[Seg]) -> String {
    match path.last() {
        Some(Seg::Key(k)) => k.clone(),
        Some(Seg::Index(_)) => path_string(path),
        None => "the object".into(),
    }
}

/// `address` / `secretRef`: the fields a `oneOf` of required lists chooses between.
fn one_of_choices(kind: canarylint::Kind, path: &[Seg]) -> Vec<String> {
    schema_at(kind, path)
        .and_then(|s| s.get("oneOf"))
        .and_then(|o| o.as_array())
        .map(|branches| {
            branches
                .iter()
                .filter_map(|b| b.get("required")?.as_array())
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Rule for SchemaViolation {
    fn check(&self, cx: &mut Cx<'_, '_>) {
        let errors = cx.schema_errors().to_vec();
        let kind = cx.kind();
        let pruned_analysis = cx.doc.root.at(&["spec", "canaryAnalysis"]).is_some();
        for e in errors {
            let name = field_name(&e.path);
            let at_path = path_string(&e.path);
            match &e.kind {
                SchemaErrorKind::Unexpected(_) => {}
                SchemaErrorKind::Pattern(_) if is_duration_field(&e.path) => {}
                SchemaErrorKind::OneOf { .. } if at_path == "spec.analysis" => {}
                SchemaErrorKind::Required(p) if p == "analysis" && pruned_analysis => {}
                SchemaErrorKind::Required(p) => {
                    let parent = if at_path.is_empty() {
                        "the object".to_string()
                    } else {
                        format!("`{at_path}`")
                    };
                    let full = if at_path.is_empty() {
                        p.clone()
                    } else {
                        format!("{at_path}.{p}")
                    };
                    cx.report(
                        At::Missing(e.node, p),
                        format!("`{p}` is required in {parent} but missing"),
                    )
                    .help(format!("add `{full}`"));
                }
                SchemaErrorKind::Type(expected) => {
                    let want = expected.join(" or ");
                    cx.report(
                        At::Value(e.node),
                        format!(
                            "`{name}` must be {} {want}, found {} {}",
                            article(&want),
                            e.node.type_name(),
                            e.node.display()
                        ),
                    )
                    .help(type_help(&want, e.node));
                }
                SchemaErrorKind::Enum(options) => {
                    let opts: Vec<String> = options
                        .iter()
                        .map(|o| {
                            o.as_str().map_or_else(
                                || o.to_string(),
                                |s| {
                                    if s.is_empty() {
                                        "\"\"".into()
                                    } else {
                                        s.to_string()
                                    }
                                },
                            )
                        })
                        .collect();
                    let found = e.node.as_str().unwrap_or("");
                    let hint = did_you_mean(found, opts.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| format!("use one of: {}", opts.join(", ")));
                    cx.report(
                        At::Value(e.node),
                        format!("`{name}` {} is not an allowed value", e.node.display()),
                    )
                    .help(hint);
                }
                SchemaErrorKind::Pattern(p) => {
                    cx.report(
                        At::Value(e.node),
                        format!(
                            "`{name}` {} does not match the pattern {p}",
                            e.node.display()
                        ),
                    )
                    .help(format!("write `{name}` so that it matches {p}"));
                }
                SchemaErrorKind::OneOf { multiple } => {
                    let choices = one_of_choices(kind, &e.path);
                    let (msg, help) = if choices.is_empty() {
                        (
                            format!("`{name}` matches {} of the forms the CRD allows", if *multiple { "more than one" } else { "none" }),
                            "follow exactly one of the forms described in Flagger's documentation for this field".to_string(),
                        )
                    } else if *multiple {
                        (
                            format!(
                                "`{name}` sets more than one of {}: the CRD allows exactly one",
                                quote_list(&choices)
                            ),
                            format!("keep only one of {}", quote_list(&choices)),
                        )
                    } else {
                        (
                            format!(
                                "`{name}` sets none of {}: the CRD needs exactly one",
                                quote_list(&choices)
                            ),
                            format!("add one of {}", quote_list(&choices)),
                        )
                    };
                    cx.report(At::Key(e.node), msg).help(help);
                }
                SchemaErrorKind::Other(m) => {
                    cx.report(At::Value(e.node), format!("`{name}`: {m}"))
                        .help("change the value to what Flagger's CRD allows");
                }
            }
        }
    }
}

fn article(want: &str) -> &'static str {
    if want.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_help(want: &str, found: &canarylint::Node) -> String {
    if want.starts_with("number") || want.starts_with("integer") {
        if let Some(s) = found.as_str()
            && s.trim().parse::<f64>().is_ok()
        {
            return format!("remove the quotes: {}", s.trim());
        }
        return "write a plain number".into();
    }
    if want.starts_with("string") && found.as_bool().is_some() {
        return "quote the value: YAML reads unquoted on/off/yes/no as booleans".into();
    }
    format!("write {} {want} here", article(want))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::SchemaViolation,
            &[
                "
                spec:
                  service:
                    port: 9898
                    targetPort: http
                ",
                "
                spec:
                  analysis:
                    stepWeight: __remove__
                    maxWeight: __remove__
                    stepWeights: [5, 10, 50]
                ",
            ],
            &[
                "
                spec:
                  service:
                    port: \"9898\" # error: CL001
                ",
                "
                spec:
                  service: # error: CL001
                    port: __remove__
                    name: podinfo
                ",
                "
                spec:
                  analysis:
                    webhooks:
                      - name: gate
                        type: pre-rolout # error: CL001
                        url: http://gate.test/
                ",
                "
                spec:
                  provider: gatewayapi # error: CL001
                ",
                "
                apiVersion: flagger.app/v1beta1
                kind: AlertProvider
                metadata:
                  name: on-call
                  namespace: flagger
                spec: # error: CL001
                  type: slack
                  address: https://hooks.slack.com/services/x
                  secretRef:
                    name: on-call-url
                ",
            ],
        );
    }
}
