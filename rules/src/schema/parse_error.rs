use canarylint::{FileCx, Rule, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports text that is not valid YAML or JSON, duplicate keys, and documents that are not
    /// Kubernetes objects in a file that holds some.
    ///
    /// ### Why is this bad?
    /// `kubectl apply` refuses the whole file, so nothing in it reaches the cluster; with
    /// strict field validation a duplicate key is rejected too, and a lenient decoder keeps
    /// only the last value, silently dropping the first.
    ///
    /// ### Example
    /// ```yaml
    /// apiVersion: flagger.app/v1beta1
    /// kind: Canary
    /// metadata:
    ///   name: podinfo
    /// spec:
    ///   analysis:
    ///     interval: 1m
    ///     interval: 2m
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
    ///     interval: 2m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// Nothing reaches Flagger: the API client rejects the text before any object is created.
    /// canarylint reads YAML as `kubectl` does (YAML 1.1 booleans such as `on` and `yes`, merge
    /// keys), so what it checks is what the API server would store.
    ///
    /// This finding cannot be suppressed: every other finding in a broken file is unreliable.
    ///
    /// ### Severity
    /// An error: `kubectl` and the API server refuse text that does not parse, so nothing in
    /// the document is applied.
    pub struct ParseError;
    code: "CL000",
    slug: "parse-error",
    severity: Error,
    summary: "not valid YAML/JSON, a duplicate key, or a document that is not an object",
    since: "0.1.0",
    fix: None,
    inputs: [],
    suppressible: false,
}

impl Rule for ParseError {
    fn check_file(&self, cx: &mut FileCx<'_, '_>) {
        let problems = cx.file.problems.clone();
        for mut p in problems {
            if p.message.contains("tab") {
                p.span = tab_near(&cx.file.source.text, p.span);
            }
            let help = if p.message.contains("tab") {
                "indent with spaces: YAML does not allow tabs for indentation"
            } else if p.first.is_some() {
                "remove one of the two keys; only the last one would be kept"
            } else if p.message.contains("not a Kubernetes object") {
                "give the document apiVersion and kind, or move it to a file of its own"
            } else if p.message.contains("limit") || p.message.contains("refusing") {
                "split the input, or remove the anchors and aliases that expand it"
            } else {
                "fix the YAML syntax at this position"
            };
            let mut r = cx.report(p.span, p.message).help(help);
            if let Some(first) = p.first {
                r = r.label(first, "first defined here");
            }
            drop(r);
        }
    }
}

/// The parser reports a tab where the scalar before it started; point at the tab itself.
fn tab_near(text: &str, span: canarylint::Span) -> canarylint::Span {
    let from = span.start as usize;
    let window_end = text[from.min(text.len())..]
        .match_indices('\n')
        .nth(2)
        .map_or(text.len(), |(i, _)| from + i);
    match text.get(from..window_end).and_then(|w| w.find('\t')) {
        Some(i) => canarylint::Span::new((from + i) as u32, (from + i + 1) as u32),
        None => span,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::ParseError,
            &["
                spec:
                  analysis:
                    interval: 2m
                "],
            &[
                "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: podinfo\n\tnamespace: test # error: CL000\n",
                "
                apiVersion: flagger.app/v1beta1
                kind: Canary
                metadata:
                  name: podinfo
                  name: other # error: CL000
                ",
                "
                apiVersion: flagger.app/v1beta1
                kind: Canary
                metadata:
                  name: [podinfo # error: CL000
                ",
                "
                apiVersion: flagger.app/v1beta1
                kind: Canary
                metadata:
                  name: podinfo
                ---
                - just a list # error: CL000
                ",
            ],
        );
    }
}
