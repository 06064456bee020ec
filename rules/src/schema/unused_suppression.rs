use canarylint::suppress::{IGNORE_ANNOTATION, IGNORE_COMMENT};
use canarylint::{Rule, SuppressionCx, Unused, declare_rule};

declare_rule! {
    /// ### What it does
    /// Notes a suppression that silences nothing: a `# canarylint-ignore` comment on a line
    /// with no such finding, a code in the `canarylint.io/ignore` annotation that matches no
    /// finding of the object, or an `ignore` entry of `.canarylint.yaml` that matched nothing
    /// in the whole run.
    ///
    /// ### Why is this bad?
    /// Stale ignores pile up: the problem they were written for was fixed (or moved), and the
    /// next real finding on that line or object will be silenced without anyone noticing.
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
    ///     iterations: 10 # canarylint-ignore CL201 -- no longer needed
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
    /// None: this is about canarylint's own suppressions (RULES.md, "Suppression and
    /// configuration"). The engine records which suppression silenced which finding; the rule
    /// reports the ones that silenced nothing. It cannot itself be silenced by the suppression
    /// it reports, but it can be turned off in `.canarylint.yaml`.
    ///
    /// ### Severity
    /// Info: a stale suppression hides nothing today; it is worth removing before it hides
    /// something tomorrow.
    pub struct UnusedSuppression;
    code: "CL007",
    slug: "unused-suppression",
    severity: Info,
    summary: "a suppression (comment, annotation or config ignore) that silences nothing",
    since: "0.1.0",
    fix: None,
    inputs: [],
    about_suppressions: true,
}

// Suppression usage is only known once every other rule has run: the engine records it and
// hands this rule each suppression that silenced nothing.
impl Rule for UnusedSuppression {
    fn check_suppression(&self, cx: &mut SuppressionCx<'_, '_>, unused: &Unused<'_>) {
        match *unused {
            Unused::Comment { codes, line } => {
                cx.report(format!(
                    "`# {IGNORE_COMMENT} {}` silences nothing on line {line}",
                    codes.join(", ")
                ))
                .help("remove the comment, or move it to the line of the finding");
            }
            Unused::Annotation { codes } => {
                cx.report(format!(
                    "`{IGNORE_ANNOTATION}` lists {}, which silence nothing on this object",
                    codes.join(", ")
                ))
                .help("remove them from the annotation, or fix the finding they were meant for");
            }
            Unused::ConfigEntry { resource, rules } => {
                cx.report(format!(
                    "ignore entry `{resource}` ({}) silences nothing in this run",
                    rules.join(", ")
                ))
                .help("remove the entry, or correct its resource pattern");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::UnusedSuppression,
            &["spec:\n  analysis:\n    threshold: 5\n"],
            &[
                "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: podinfo\n  namespace: test\nspec:\n  analysis:\n    interval: 1m # canarylint-ignore CL003 # info: CL007\n",
                "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: podinfo\n  namespace: test\n  annotations:\n    canarylint.io/ignore: CL103 # info: CL007\nspec:\n  analysis:\n    interval: 1m\n",
            ],
        );
    }
}
