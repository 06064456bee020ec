use canarylint::schema::{SchemaErrorKind, Seg, path_string, properties_at};
use canarylint::suggest::did_you_mean;
use canarylint::{Applicability, At, Cx, Edit, Fix, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports fields that Flagger's CRD does not define, and suggests the valid name nearest
    /// to a typo (`stepweight` → `stepWeight`).
    ///
    /// ### Why is this bad?
    /// The API server silently drops unknown fields (or rejects the object under strict field
    /// validation). A misspelt `stepWeight` or a mis-indented `metadata.cmd` simply vanishes,
    /// and Flagger runs with defaults the author never chose.
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
    ///     stepWeight: 10
    ///     maxweight: 50
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
    ///     stepWeight: 10
    ///     maxWeight: 50
    /// ```
    ///
    /// ### Flagger behaviour
    /// Flagger's CRDs have no `x-kubernetes-preserve-unknown-fields`, so the API server prunes
    /// every field the schema does not list. `spec.canaryAnalysis`, the pre-v1beta1 name, is
    /// pruned too, which leaves the Canary without `analysis`.
    /// Decided by the API server's pruning and field validation of the CRD schema (no
    /// `x-kubernetes-preserve-unknown-fields` in artifacts/flagger/crd.yaml).
    ///
    /// ### Fix safety
    /// The quick fix renames the key to the suggested name; check that the suggestion is the
    /// field you meant.
    ///
    /// ### Severity
    /// An error: `kubectl apply` validates fields strictly by default (`--validate=strict`
    /// since Kubernetes 1.27) and the API server then refuses the object; where field
    /// validation is `Warn` or `Ignore` (some GitOps controllers) the field is pruned and the
    /// value written is lost, which is the same failure later.
    pub struct UnknownField;
    code: "CL002",
    slug: "unknown-field",
    severity: Error,
    summary: "a field the CRD does not define: the API server drops it",
    since: "0.1.0",
    fix: Sometimes,
    inputs: [],
}

impl Rule for UnknownField {
    fn check(&self, cx: &mut Cx<'_, '_>) {
        let errors = cx.schema_errors().to_vec();
        let kind = cx.kind();
        for e in errors {
            let SchemaErrorKind::Unexpected(names) = &e.kind else {
                continue;
            };
            let parent = path_string(&e.path);
            let valid = properties_at(kind, &e.path);
            for name in names {
                let Some(entry) = e.node.entry(name) else {
                    continue;
                };
                let full = if parent.is_empty() {
                    name.clone()
                } else {
                    format!("{parent}.{name}")
                };
                // An old apiVersion is CL008's, which names the whole migration.
                if full == "spec.canaryAnalysis" && super::old_api_version(cx).is_some() {
                    continue;
                }
                if full == "spec.canaryAnalysis" {
                    cx.report(At::Key(&entry.value), "`spec.canaryAnalysis` is no longer part of the Canary API: the API server drops it, and the Canary has no `analysis`")
                        .help("rename `canaryAnalysis` to `analysis`")
                        .fix(rename(entry.key_span, "analysis"));
                    continue;
                }
                // A field this very name defines elsewhere explains more than a near name here
                // (`metrics` under `spec` belongs to `spec.analysis`, not to `metricsServer`);
                // a difference of case alone is a misspelling at this place.
                let home = home_of(kind, &e.path, name);
                let suggestion = did_you_mean(name, valid.iter().map(String::as_str))
                    .filter(|s| home.is_none() || s.eq_ignore_ascii_case(name));
                let place = if parent.is_empty() {
                    "the object".to_string()
                } else {
                    format!("`{parent}`")
                };
                let mut r = cx.report(
                    At::Key(&entry.value),
                    format!("unknown field `{name}` in {place}: the API server drops it"),
                );
                r = match suggestion {
                    Some(s) => r
                        .help(format!("did you mean `{s}`?"))
                        .fix(rename(entry.key_span, s)),
                    None if is_misplaced_hook_field(&e.path, name) => r.help(format!(
                        "`{name}` belongs under the webhook's `metadata`; indent it one level deeper"
                    )),
                    None => match home {
                        Some(home) => r.help(format!(
                            "`{name}` is a field of `{home}`, not of {place}: move it there"
                        )),
                        None if valid.is_empty() => r.help("remove it"),
                        None => r.help(format!(
                            "remove it; fields allowed here: {}",
                            valid.join(", ")
                        )),
                    },
                };
                drop(r);
            }
        }
    }
}

fn rename(span: canarylint::Span, to: &str) -> Fix {
    Fix {
        title: format!("rename to `{to}`"),
        edits: vec![Edit {
            span,
            replacement: to.to_string(),
        }],
        applicability: Applicability::Unsafe,
    }
}

/// Where the schema defines a field of this name when it is not allowed at `path`: the
/// definition nearest to `path` (sharing the longest prefix with it), as a dotted path with
/// `[]` for list items.
fn home_of(kind: canarylint::Kind, path: &[Seg], name: &str) -> Option<String> {
    let root = canarylint::schema::schema_at(kind, &[])?;
    let here: Vec<String> = path
        .iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(_) => "[]".to_string(),
        })
        .collect();
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut stack: Vec<(&serde_json::Value, Vec<String>)> = vec![(root, Vec::new())];
    while let Some((s, at)) = stack.pop() {
        if at.len() > 8 {
            continue;
        }
        if let Some(props) = s.get("properties").and_then(serde_json::Value::as_object) {
            for (k, v) in props {
                if k == name && at != here {
                    found.push(at.clone());
                }
                let mut next = at.clone();
                next.push(k.clone());
                stack.push((v, next));
            }
        }
        if let Some(items) = s.get("items") {
            let mut next = at.clone();
            next.push("[]".to_string());
            stack.push((items, next));
        }
    }
    let shared = |p: &Vec<String>| p.iter().zip(&here).take_while(|(a, b)| a == b).count();
    let best = found
        .into_iter()
        .max_by_key(|p| (shared(p), std::cmp::Reverse(p.len())))?;
    let mut out = String::new();
    for seg in best {
        if seg == "[]" {
            out.push_str("[]");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// `cmd` or `type` written beside a webhook's fields instead of inside `metadata` (flagger#863).
fn is_misplaced_hook_field(path: &[Seg], name: &str) -> bool {
    let p = path_string(path);
    p.starts_with("spec.analysis.webhooks[") && !p.contains("metadata") && name == "cmd"
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::UnknownField,
            &["
                spec:
                  analysis:
                    webhooks:
                      - name: load-test
                        url: http://flagger-loadtester.test/
                        metadata:
                          type: cmd
                          cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
                "],
            &[
                "
                spec:
                  analysis:
                    maxweight: 50 # error: CL002
                ",
                // A known field in the wrong place: help names where it belongs.
                "
                spec:
                  analysis:
                    skipAnalysis: true # error: CL002
                ",
                "
                spec:
                  analysis:
                    webhooks:
                      - name: load-test
                        url: http://flagger-loadtester.test/
                        cmd: hey http://podinfo-canary.test:9898/ # error: CL002
                ",
                "
                apiVersion: flagger.app/v1beta1
                kind: Canary
                metadata:
                  name: podinfo
                  namespace: test
                spec:
                  targetRef:
                    apiVersion: apps/v1
                    kind: Deployment
                    name: podinfo
                  service:
                    port: 9898
                  canaryAnalysis: # error: CL002
                    interval: 1m
                    threshold: 5
                    stepWeight: 10
                ",
            ],
        );
    }
}
