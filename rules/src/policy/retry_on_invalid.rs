use canarylint::model::{Field, str_field};
use canarylint::suggest::did_you_mean;
use canarylint::{Applicability, At, Cx, Edit, Fix, Rule, Severity, Span, declare_rule};

use crate::helpers::go_duration;
use canarylint::model::CanaryView;

/// The retry conditions istiod accepts (pkg/config/validation `supportedRetryOnPolicies`):
/// Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on` values.
const RETRY_ON: &[&str] = &[
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// Whether Go's `http.StatusText` knows the code (istiod also accepts those as tokens).
fn is_http_status(code: i64) -> bool {
    matches!(code, 100..=103 | 200..=208 | 226 | 300..=305 | 307 | 308 | 400..=418 | 421..=426 | 428 | 429 | 431 | 451 | 500..=508 | 510 | 511)
}

declare_rule! {
    /// ### What it does
    /// Checks `service.retries`: every comma-separated `retryOn` token must be a retry condition
    /// istiod accepts (or an HTTP status code), and `perTryTimeout` must not exceed
    /// `service.timeout`.
    ///
    /// ### Why is this bad?
    /// Flagger copies `retries` into the VirtualService. istiod's validation rejects a
    /// VirtualService with an unknown `retryOn` token (`connect-failures`, `5xx `, an empty
    /// entry after a trailing comma): Flagger's reconcile then fails and the Canary never
    /// initializes, so on an explicit `provider: istio` this part is reported as an error. A
    /// `perTryTimeout` longer than the route `timeout` means the whole request times out before
    /// a second attempt can start, so the retries never happen.
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
    ///     timeout: 5s
    ///     retries:
    ///       attempts: 3
    ///       perTryTimeout: 10s
    ///       retryOn: gateway-error,connect-failures
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
    ///     timeout: 5s
    ///     retries:
    ///       attempts: 3
    ///       perTryTimeout: 1s
    ///       retryOn: gateway-error,connect-failure
    ///   analysis:
    ///     interval: 1m
    ///     threshold: 5
    ///     iterations: 10
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/router/istio.go puts `service.retries` and `service.timeout` on every HTTP route of
    /// the VirtualService; pkg/router/contour.go puts `attempts`, `perTryTimeout` and `timeout`
    /// on the HTTPProxy and ignores `retryOn`. istiod (pkg/config/validation, `validateHTTPRetry`)
    /// splits `retryOn` on commas without trimming and accepts Envoy's retry conditions and
    /// HTTP status codes. The `retryOn` check runs for Istio, the timeout check for Istio and
    /// Contour.
    ///
    /// ### Fix safety
    /// A token one letter away from a known condition, or with stray spaces, is rewritten to
    /// that condition. Check that it is the condition you meant.
    ///
    /// ### Severity
    /// An error where istiod refuses the VirtualService (`retryOn` holds a token Envoy does not
    /// know: `validateHTTPRetry`), so Flagger's reconcile fails; a warning for a
    /// `perTryTimeout` above the route timeout, which Envoy accepts and caps.
    pub struct RetryOnInvalid;
    code: "CL502",
    slug: "retry-on-invalid",
    severity: Warning,
    summary: "retries.retryOn has a token Envoy does not know, or perTryTimeout exceeds service.timeout",
    since: "0.1.0",
    fix: Sometimes,
    inputs: [],
    kinds: [Canary],
    provider_specific: true,
}

impl Rule for RetryOnInvalid {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        let Some(provider) = cx.provider() else {
            return;
        };
        let istio = provider.is_istio();
        if !(istio || provider.router() == canarylint::Router::Contour) {
            return;
        }
        let Some(service) = canary.service() else {
            return;
        };
        let Some(retries) = service.retries() else {
            return;
        };
        if istio && let Some(retry_on) = str_field(retries, "retryOn") {
            check_tokens(cx, retry_on);
        }
        if let (Some(per_try), Some(timeout)) =
            (str_field(retries, "perTryTimeout"), service.timeout())
            && let (Some(p), Some(t)) = (go_duration(per_try.value), go_duration(timeout.value))
            && p > t
            && t > 0.0
        {
            let timeout_line = cx.file.source.line_col(timeout.node.span.start).line;
            cx.report(
                At::Value(per_try.node),
                format!(
                    "retries.perTryTimeout {} exceeds service.timeout {}: the request times out before a retry can start",
                    per_try.value, timeout.value
                ),
            )
            .help("set perTryTimeout well below service.timeout, so that attempts fit inside it")
            .label(timeout.node.span, format!("service.timeout, line {timeout_line}"));
        }
    }
}

fn check_tokens(cx: &mut Cx<'_, '_>, retry_on: Field<'_, &str>) {
    // Where the value's text starts in the file, when the scalar is written without escapes.
    let raw = cx.text(retry_on.node.span);
    let value_start = if raw == retry_on.value {
        Some(retry_on.node.span.start)
    } else if raw.len() == retry_on.value.len() + 2 && &raw[1..raw.len() - 1] == retry_on.value {
        Some(retry_on.node.span.start + 1)
    } else {
        None
    };
    let mut offset = 0usize;
    for token in retry_on.value.split(',') {
        let token_offset = offset;
        offset += token.len() + 1;
        if RETRY_ON.contains(&token) || token.parse::<i64>().is_ok_and(is_http_status) {
            continue;
        }
        let trimmed = token.trim();
        let known = |t: &str| RETRY_ON.contains(&t) || t.parse::<i64>().is_ok_and(is_http_status);
        let (message, replacement) = if trimmed.is_empty() {
            (
                "retryOn has an empty condition (a stray comma): istiod rejects the VirtualService"
                    .to_string(),
                None,
            )
        } else if known(trimmed) {
            (
                format!(
                    "retryOn condition \"{token}\" has surrounding spaces: istiod compares exactly and rejects the VirtualService"
                ),
                Some(trimmed.to_string()),
            )
        } else {
            let near = did_you_mean(trimmed, RETRY_ON.iter().copied()).map(str::to_string);
            (
                format!(
                    "retryOn condition \"{token}\" is unknown to Envoy: istiod rejects the VirtualService"
                ),
                near,
            )
        };
        let help = match &replacement {
            Some(r) => format!("write `{r}`"),
            None if trimmed.is_empty() => "remove the empty entry from retryOn".to_string(),
            None => "use Envoy retry conditions such as 5xx, gateway-error, reset, connect-failure, refused-stream, or a status code".to_string(),
        };
        let span = value_start.map(|s| {
            Span::new(
                s + token_offset as u32,
                s + (token_offset + token.len()) as u32,
            )
        });
        let mut r = cx
            .report(At::Value(retry_on.node), message)
            .help(help)
            .severity(Severity::Error);
        if let (Some(span), Some(rep)) = (span, replacement) {
            r = r.fix(Fix {
                title: format!("write {rep}"),
                edits: vec![Edit {
                    span,
                    replacement: rep,
                }],
                applicability: Applicability::Unsafe,
            });
        }
        drop(r);
    }
}

#[cfg(test)]
mod tests {
    fn retries(fields: &str) -> String {
        format!("spec:\n  service:\n    timeout: 5s\n    retries:\n      attempts: 3\n{fields}")
    }

    #[test]
    fn cases() {
        let pass = [
            retries(
                "      perTryTimeout: 1s\n      retryOn: gateway-error,connect-failure,refused-stream\n",
            ),
            retries("      perTryTimeout: 5s\n      retryOn: 5xx,503,retriable-4xx\n"),
            // Contour ignores retryOn.
            retries("      perTryTimeout: 1s\n      retryOn: 5xx\n")
                .replace("spec:\n", "spec:\n  provider: contour\n"),
        ];
        let fail = [
            retries(
                "      perTryTimeout: 1s\n      retryOn: gateway-error,connect-failures # error: CL502\n",
            ),
            retries("      perTryTimeout: 1s\n      retryOn: \"5xx, reset,\" # error: CL502\n"),
            retries("      perTryTimeout: 10s # warning: CL502\n      retryOn: 5xx\n"),
        ];
        let pass: Vec<&str> = pass.iter().map(String::as_str).collect();
        let fail: Vec<&str> = fail.iter().map(String::as_str).collect();
        crate::test_support::check(&super::RetryOnInvalid, &pass, &fail);
    }
}
