use canarylint::model::CanaryView;
use canarylint::{Applicability, At, Cx, Edit, Fix, Node, Rule, Span, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports an `analysis.alerts` entry without a `severity`, or with an empty one.
    ///
    /// ### Why is this bad?
    /// Flagger's docs say the severity defaults to `info`, but the code compares the event's
    /// severity with the alert's and sends nothing when the alert has none. The alert is
    /// accepted, looks configured, and stays silent through every failed release.
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
    ///     alerts:
    ///       - name: on-call
    ///         providerRef:
    ///           name: on-call-slack
    /// ---
    /// apiVersion: flagger.app/v1beta1
    /// kind: AlertProvider
    /// metadata:
    ///   name: on-call-slack
    ///   namespace: test
    /// spec:
    ///   type: slack
    ///   channel: on-call
    ///   address: https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK
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
    ///     alerts:
    ///       - name: on-call
    ///         severity: info
    ///         providerRef:
    ///           name: on-call-slack
    /// ---
    /// apiVersion: flagger.app/v1beta1
    /// kind: AlertProvider
    /// metadata:
    ///   name: on-call-slack
    ///   namespace: test
    /// spec:
    ///   type: slack
    ///   channel: on-call
    ///   address: https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/events.go `alert`: an alert is sent when its severity is `info`, when it
    /// equals the event's severity, or when it is `error` and the event a warning. An empty
    /// severity matches none of these (fluxcd/flagger#1072, #1105), contrary to
    /// docs/gitbook/usage/alerting.md ("default info").
    ///
    /// ### Fix safety
    /// The fix adds `severity: info`, the documented default, so the alert starts sending every
    /// event: pick `warn` or `error` for a quieter channel.
    ///
    /// ### Severity
    /// A warning: nothing fails, but the alert is silently never sent.
    pub struct AlertWithoutSeverity;
    code: "CL410",
    slug: "alert-without-severity",
    severity: Warning,
    summary: "an alert without severity: Flagger never sends it",
    since: "0.1.0",
    fix: Sometimes,
    inputs: [],
    kinds: [Canary],
}

impl Rule for AlertWithoutSeverity {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(analysis) = canary.analysis() else {
            return;
        };
        for alert in analysis.alerts() {
            let name = alert.name().map_or("", |n| n.value);
            let help = "set severity to info, warn or error";
            match alert.node.get("severity") {
                Some(sev) if sev.as_str().is_some_and(|s| !s.is_empty()) => {}
                Some(sev) if sev.as_str().is_some() => {
                    cx.report(
                        At::Value(sev),
                        format!("alert \"{name}\" has an empty severity: Flagger never sends it"),
                    )
                    .help(help)
                    .fix(Fix {
                        title: "set severity to info".into(),
                        edits: vec![Edit {
                            span: sev.span,
                            replacement: "info".into(),
                        }],
                        applicability: Applicability::Unsafe,
                    });
                }
                // Another type is the schema's finding.
                Some(_) => {}
                None => {
                    let fix = add_severity(cx, alert.node);
                    let mut r = cx
                        .report(
                            At::Key(alert.node),
                            format!("alert \"{name}\" has no severity: Flagger never sends it"),
                        )
                        .help(help);
                    if let Some(f) = fix {
                        r = r.fix(f);
                    }
                    drop(r);
                }
            }
        }
    }
}

/// Inserts `severity: info` before the first key of a block-style alert.
fn add_severity(cx: &Cx<'_, '_>, alert: &Node) -> Option<Fix> {
    let first = alert.entries().first()?;
    let text = &*cx.file.source.text;
    let start = first.key_span.start as usize;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..start];
    if !prefix.chars().all(|c| c == ' ' || c == '-') {
        return None;
    }
    Some(Fix {
        title: "add severity: info".into(),
        edits: vec![Edit {
            span: Span::empty(first.key_span.start),
            replacement: format!("severity: info\n{}", " ".repeat(prefix.chars().count())),
        }],
        applicability: Applicability::Unsafe,
    })
}

#[cfg(test)]
mod tests {
    const PROVIDER: &str = "---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata:
  name: on-call
  namespace: test
spec:
  type: slack
  channel: on-call
  address: https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK
";

    #[test]
    fn cases() {
        let alerts = |a: &str| format!("spec:\n  analysis:\n    alerts:\n{a}{PROVIDER}");
        let pass = [
            alerts(
                "      - name: on-call\n        severity: error\n        providerRef:\n          name: on-call\n",
            ),
            alerts(
                "      - name: on-call\n        severity: info\n        providerRef:\n          name: on-call\n",
            ),
        ];
        let fail = [
            alerts(
                "      - name: on-call # warning: CL410\n        providerRef:\n          name: on-call\n",
            ),
            alerts(
                "      - name: on-call\n        severity: \"\" # warning: CL410\n        providerRef:\n          name: on-call\n",
            ),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::AlertWithoutSeverity, &pass, &fail);
    }
}
