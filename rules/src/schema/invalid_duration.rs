use canarylint::model::Field;
use canarylint::{At, Cx, Rule, declare_rule};

use crate::helpers::{go_duration, matches_crd_duration};
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Checks the durations of a Canary: `analysis.interval`, metric `interval` and webhook
    /// `timeout` must match the CRD pattern `^[0-9]+(m|s)` and parse as Go durations;
    /// `service.timeout` and `retries.perTryTimeout` must parse as durations.
    ///
    /// ### Why is this bad?
    /// `1h` fails the CRD pattern, so the API server rejects the Canary. A value that passes the
    /// pattern but does not parse, such as `5min`, is accepted and then silently replaced:
    /// Flagger runs the analysis every 60 seconds instead.
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
    ///     interval: 5min
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
    ///     interval: 5m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// `GetAnalysisInterval` (pkg/apis/flagger/v1beta1/canary.go) falls back to 60s when the
    /// interval does not parse; webhooks fall back to a 10s timeout. The CRD pattern is not
    /// anchored at the end, so `1m30s` is accepted.
    ///
    /// ### Severity
    /// An error where the CRD pattern refuses the value (the API server rejects the Canary); a
    /// value that matches the pattern but does not parse is silently replaced by the default,
    /// and the message says which.
    pub struct InvalidDuration;
    code: "CL003",
    slug: "invalid-duration",
    severity: Error,
    summary: "a duration that the API server rejects or Flagger cannot parse",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for InvalidDuration {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        if let Some(a) = canary.analysis() {
            if let Some(i) = a.interval() {
                check(
                    cx,
                    i,
                    "analysis.interval",
                    true,
                    "Flagger silently uses 60s instead",
                );
            }
            for m in a.metrics() {
                if let Some(i) = m.interval() {
                    check(
                        cx,
                        i,
                        "metric interval",
                        true,
                        "the metric query gets an unusable range",
                    );
                }
            }
            for w in a.webhooks() {
                if let Some(t) = w.timeout() {
                    check(
                        cx,
                        t,
                        "webhook timeout",
                        true,
                        "Flagger silently uses 10s instead",
                    );
                }
            }
        }
        if let Some(s) = canary.service() {
            if let Some(t) = s.timeout() {
                check(
                    cx,
                    t,
                    "service.timeout",
                    false,
                    "the generated VirtualService is rejected",
                );
            }
            if let Some(t) = s
                .retries()
                .and_then(|r| canarylint::model::str_field(r, "perTryTimeout"))
            {
                check(
                    cx,
                    t,
                    "retries.perTryTimeout",
                    false,
                    "the generated VirtualService is rejected",
                );
            }
        }
    }
}

fn check(
    cx: &mut Cx<'_, '_>,
    f: Field<'_, &str>,
    what: &str,
    crd_pattern: bool,
    consequence: &str,
) {
    if crd_pattern && !matches_crd_duration(f.value) {
        let hint = go_duration(f.value)
            .filter(|s| *s >= 1.0 && s.fract() == 0.0)
            .map(|s| {
                let s = s as i64;
                if s % 60 == 0 {
                    format!("write {}m", s / 60)
                } else {
                    format!("write {s}s")
                }
            })
            .unwrap_or_else(|| "write a number of seconds or minutes, such as 30s or 5m".into());
        cx.report(
            At::Value(f.node),
            format!("{what} \"{}\" is rejected by the API server: it must start with a number of seconds or minutes", f.value),
        )
        .help(hint);
        return;
    }
    if go_duration(f.value).is_none() {
        cx.report(
            At::Value(f.node),
            format!(
                "{what} \"{}\" is not a valid duration: {consequence}",
                f.value
            ),
        )
        .help("write a Go duration such as 30s, 1m or 1m30s");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::InvalidDuration,
            &["
                spec:
                  analysis:
                    interval: 1m30s
                  service:
                    timeout: 30s
                    retries:
                      attempts: 3
                      perTryTimeout: 5s
                "],
            &[
                "
                spec:
                  analysis:
                    interval: 1h # error: CL003
                ",
                "
                spec:
                  analysis:
                    interval: 5min # error: CL003
                ",
                "
                spec:
                  analysis:
                    webhooks:
                      - name: load-test
                        url: http://flagger-loadtester.test/
                        timeout: \"15\" # error: CL003
                ",
                "
                spec:
                  service:
                    timeout: 30 seconds # error: CL003
                ",
            ],
        );
    }
}
