use canarylint::model::{AnalysisView, HookView, Strategy, str_field};
use canarylint::yaml::Node;
use canarylint::{At, Cx, Router, Rule, Severity, declare_rule};

use super::is_builtin;
use crate::helpers::num;
use canarylint::model::CanaryView;

declare_rule! {
    /// ### What it does
    /// Reports a Canary whose analysis checks `request-success-rate` or `request-duration` while
    /// none of its webhooks generates load: no webhook carries a load-tester command
    /// (`metadata.cmd`), a k6 script (`metadata.script`) or an nGrinder test, whatever its type.
    ///
    /// ### Why is this bad?
    /// The built-in metrics are computed from the requests the canary serves. When nothing
    /// sends it requests, the queries return no values and Flagger halts: "Halt advancement no
    /// values found for istio metric request-success-rate probably podinfo.test is not receiving
    /// traffic". Each halted check counts as failed, so the canary is rolled back after
    /// `threshold` intervals. Real user traffic can be enough on a busy service with weighted
    /// routing; Blue/Green and A/B canaries, and quiet services, need a load generator.
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
    ///     metrics:
    ///       - name: request-success-rate
    ///         thresholdRange:
    ///           min: 99
    ///         interval: 1m
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
    ///     metrics:
    ///       - name: request-success-rate
    ///         thresholdRange:
    ///           min: 99
    ///         interval: 1m
    ///     webhooks:
    ///       - name: load-test
    ///         url: http://flagger-loadtester.test/
    ///         timeout: 5s
    ///         metadata:
    ///           cmd: hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/
    /// ```
    ///
    /// ### Flagger behaviour
    /// pkg/controller/scheduler_metrics.go halts with "no values found … is not receiving
    /// traffic" when a built-in metric's query is empty (fluxcd/flagger#1365, #191). Any webhook
    /// type counts as a load generator (a `pre-rollout` hook may start a long `hey` run, #191),
    /// and so does the load tester's `cmd` whatever tool it runs. Custom metrics (`templateRef`,
    /// `query`) are not considered: their queries need not depend on requests. A Canary with
    /// `skipAnalysis: true` checks no metrics. Who gets user traffic comes from the
    /// strategy (pkg/controller/scheduler.go, `advanceCanary`: `runCanary`, `runBlueGreen`,
    /// `runAB`) and the router (pkg/router/factory.go; istio.go `SetRoutes` for mirroring and
    /// A/B match routes).
    ///
    /// ### Severity
    /// Info for a weighted canary: from the first step it receives a share of real user
    /// traffic, which on a production service is all the load the metrics need (a quiet
    /// service or an off-peak rollout may still halt). A warning where the canary gets no user
    /// traffic as written: Blue/Green without mirroring (or with a router that cannot mirror),
    /// the `kubernetes` provider (which runs Blue/Green), and A/B testing whose `match` only
    /// opted-in requests carry (a custom header such as `x-canary`, a cookie). An A/B match on
    /// a header every client sends (`user-agent`, `accept-language`), on the URI, the method
    /// or source labels sends ordinary requests to the canary: info.
    pub struct NoTrafficForMetrics;
    code: "CL405",
    slug: "no-traffic-for-metrics",
    severity: Warning,
    summary: "built-in metrics are checked but no webhook generates traffic",
    since: "0.1.0",
    fix: None,
    inputs: [],
    kinds: [Canary],
}

impl Rule for NoTrafficForMetrics {
    fn check_canary<'a>(&self, cx: &mut Cx<'a, '_>, canary: CanaryView<'a>) {
        if canary.skip_analysis().is_some_and(|s| s.value) {
            return;
        }
        let Some(analysis) = canary.analysis() else {
            return;
        };
        let metrics = analysis.metrics();
        let builtins: Vec<&str> = metrics
            .iter()
            .filter_map(|m| m.name())
            .map(|n| n.value)
            .filter(|n| is_builtin(n))
            .collect();
        if builtins.is_empty() || analysis.webhooks().iter().any(generates_load) {
            return;
        }
        let Some(list) = analysis.node.get("metrics") else {
            return;
        };
        let ns = cx.namespace();
        let apex = canary.apex_name().unwrap_or("<name>");
        let port = canary
            .service()
            .and_then(|s| s.port())
            .map_or_else(String::new, |p| format!(":{}", num(p.value)));
        let verb = if builtins.len() == 1 { "gets" } else { "get" };
        let router = cx.provider().map(|p| p.router());
        let (severity, why) = match no_user_traffic(&analysis, router) {
            Some(why) => (Severity::Warning, why),
            None => (
                Severity::Info,
                "the canary gets user traffic, but a quiet service halts",
            ),
        };
        cx.report(
            At::Key(list),
            format!(
                "no webhook generates load: {} {verb} no values without requests; {why}",
                builtins.join(", ")
            ),
        )
        .severity(severity)
        .help(format!(
            "add a rollout webhook to flagger-loadtester with metadata.cmd such as `hey -z 1m -q 10 -c 2 http://{apex}-canary.{ns}{port}/`"
        ));
    }
}

/// Why the canary gets no user traffic as written, if it gets none.
fn no_user_traffic(analysis: &AnalysisView<'_>, router: Option<Router>) -> Option<&'static str> {
    if router == Some(Router::Kubernetes) {
        return Some("the kubernetes provider sends users to the primary only");
    }
    let mirrors =
        analysis.mirror().is_some_and(|m| m.value) && router.is_none_or(|r| r.can_mirror());
    match analysis.strategy() {
        Strategy::Canary => None,
        Strategy::BlueGreen if mirrors => None,
        Strategy::BlueGreen => Some("Blue/Green without mirroring sends users to the primary only"),
        Strategy::ABTesting => {
            let items = analysis.match_().map(Node::items).unwrap_or_default();
            if items.iter().any(ordinary_requests_match) {
                None
            } else {
                Some("only opted-in requests match the A/B routes")
            }
        }
    }
}

/// Headers every client sends on its own: a match on them selects ordinary users.
const ORDINARY_HEADERS: &[&str] = &[
    "user-agent",
    "accept",
    "accept-language",
    "accept-encoding",
    "x-forwarded-for",
    "x-real-ip",
    "host",
    ":authority",
];

/// Whether ordinary requests can satisfy one `analysis.match` item.
fn ordinary_requests_match(item: &Node) -> bool {
    let headers = item.get("headers").map(Node::entries).unwrap_or_default();
    let opt_in = headers
        .iter()
        .any(|h| !ORDINARY_HEADERS.contains(&h.key.to_ascii_lowercase().as_str()));
    if opt_in {
        return false;
    }
    // A query parameter is something a client adds on purpose.
    !headers.is_empty()
        || ["uri", "method", "sourceLabels", "port", "authority"]
            .iter()
            .any(|k| item.get(k).is_some())
}

/// A webhook that makes requests: the load tester's `cmd`, a k6 `script`, an nGrinder test.
fn generates_load(hook: &HookView<'_>) -> bool {
    let Some(metadata) = hook.metadata() else {
        return false;
    };
    let non_empty =
        |key: &str| str_field(metadata, key).is_some_and(|f| !f.value.trim().is_empty());
    non_empty("cmd")
        || non_empty("script")
        || str_field(metadata, "type").is_some_and(|t| t.value == "ngrinder")
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::test_support::check(
            &super::NoTrafficForMetrics,
            &[
                // The base Canary: a rollout hook with a load-test command.
                "spec:\n  analysis:\n    interval: 1m\n",
                // A pre-rollout hook that starts a long load test counts too.
                "
                spec:
                  analysis:
                    webhooks:
                      - name: pre
                        type: pre-rollout
                        url: http://flagger-loadtester.test/
                        timeout: 5s
                        metadata:
                          cmd: hey -z 10m -q 10 -c 2 http://podinfo-canary.test:9898/
                ",
                // Custom metrics only.
                "
                spec:
                  analysis:
                    metrics:
                      - name: error-rate
                        templateRef:
                          name: error-rate
                          namespace: flagger-system
                        thresholdRange:
                          max: 1
                        interval: 1m
                    webhooks: __remove__
                ",
                "spec:\n  skipAnalysis: true\n  analysis:\n    webhooks: __remove__\n",
            ],
            &[
                // A weighted canary gets a share of user traffic: info only.
                "spec:\n  analysis:\n    metrics: # info: CL405\n      - name: request-success-rate\n        thresholdRange:\n          min: 99\n        interval: 1m\n    webhooks: __remove__\n",
                // Blue/Green without mirroring: users never reach the canary.
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 10\n    metrics: # warning: CL405\n      - name: request-success-rate\n        thresholdRange:\n          min: 99\n        interval: 1m\n    webhooks: __remove__\n",
                // Blue/Green with mirroring on Istio: shadowed user traffic.
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 10\n    mirror: true\n    metrics: # info: CL405\n      - name: request-success-rate\n        thresholdRange:\n          min: 99\n        interval: 1m\n    webhooks: __remove__\n",
                // A/B on an opt-in header.
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 10\n    match:\n      - headers:\n          x-canary:\n            exact: insider\n    metrics: # warning: CL405\n      - name: request-success-rate\n        thresholdRange:\n          min: 99\n        interval: 1m\n    webhooks: __remove__\n",
                // A/B on the user agent: ordinary Firefox users reach the canary.
                "spec:\n  analysis:\n    stepWeight: __remove__\n    maxWeight: __remove__\n    iterations: 10\n    match:\n      - headers:\n          user-agent:\n            regex: \".*Firefox.*\"\n    metrics: # info: CL405\n      - name: request-success-rate\n        thresholdRange:\n          min: 99\n        interval: 1m\n    webhooks: __remove__\n",
                "
                spec:
                  analysis:
                    stepWeight: __remove__
                    maxWeight: __remove__
                    iterations: 5
                    metrics: # warning: CL405
                      - name: request-duration
                        thresholdRange:
                          max: 500
                        interval: 1m
                    webhooks:
                      - name: gate
                        type: confirm-rollout
                        url: http://flagger-loadtester.test/gate/approve
                ",
            ],
        );
    }
}
