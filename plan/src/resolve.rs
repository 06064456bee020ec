//! A Canary as Flagger's controller reads it: defaults filled in, rewrites applied, each named.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::duration::{fmt_seconds, go_duration, whole_seconds};
use super::{
    ConditionalHook, DefaultApplied, MetricKind, MetricPlan, Mirroring, Note, NoteLevel,
    ProviderInfo, Reason, StrategyInfo, StrategyKind, WeightMode,
};
use canarylint::context::{Provider, ProviderSource, Settings};
use canarylint::document::Kind;
use canarylint::inventory::{Lookup, View};
use canarylint::model::{AnalysisView, CanaryView, Field, PortRef, ServiceView};
use canarylint::tree::{Node, format_number};

/// The router a provider name selects (pkg/router/factory.go).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Router {
    Istio,
    GatewayApi,
    Kubernetes,
    Knative,
    /// A router this plan does not model (linkerd, nginx, contour, …).
    Other,
}

#[derive(Clone, Debug)]
pub(crate) struct SessionAffinity {
    pub cookie_name: String,
    pub primary_cookie_name: Option<String>,
    pub max_age: i64,
}

/// `spec.service`, with Flagger's defaults.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServiceEff {
    pub port: i64,
    pub port_name: String,
    /// A number or a name.
    pub target_port: J,
    pub app_protocol: Option<String>,
    pub headless: bool,
    pub traffic_distribution: Option<String>,
    pub port_discovery: bool,
    pub delegation: bool,
    /// `service.hosts` as written.
    pub hosts: Vec<String>,
    /// `service.gateways` as written.
    pub gateways: Vec<String>,
    pub gateway_refs: Vec<J>,
    pub match_: Option<J>,
    pub rewrite: Option<J>,
    pub timeout: Option<String>,
    pub retries: Option<J>,
    pub cors_policy: Option<J>,
    pub headers: Option<J>,
    pub traffic_policy: Option<J>,
    /// `service.mirror` (Gateway API request mirrors to static backends).
    pub mirrors: Vec<J>,
    /// `service.apex`, `service.primary`, `service.canary` metadata.
    pub apex_meta: Option<J>,
    pub primary_meta: Option<J>,
    pub canary_meta: Option<J>,
}

/// Everything the timeline and the generated objects need.
#[derive(Clone, Debug)]
pub(crate) struct Effective {
    pub namespace: String,
    pub name: String,
    pub router: Router,
    /// `v1` or `v1beta1` for Gateway API.
    pub gateway_api_version: String,
    pub target_kind: String,
    pub target_name: String,
    pub target_api_version: String,
    /// `service.name`, else `targetRef.name`.
    pub apex: String,
    /// Seconds, after Flagger's clamping.
    pub interval: f64,
    /// `analysis.interval` as `time.ParseDuration` reads it (the primary cookie uses it raw).
    pub interval_raw: Option<f64>,
    pub threshold: i64,
    /// After the kubernetes provider forced 10.
    pub iterations: i64,
    pub step_weight: i64,
    pub step_weights: Vec<i64>,
    /// `analysis.maxWeight` as written (0 when absent).
    pub max_weight_field: i64,
    pub step_weight_promotion: i64,
    pub mirror: bool,
    pub mirror_weight: i64,
    /// `analysis.match` when it has conditions (dropped by the kubernetes provider).
    pub analysis_match: Option<J>,
    pub skip_analysis: bool,
    /// `(name, effective type)` of every webhook, in order.
    pub hooks: Vec<(String, String)>,
    pub metrics: Vec<MetricPlan>,
    pub session_affinity: Option<SessionAffinity>,
    pub service: Option<ServiceEff>,
    /// The selector label and its value (from the workload, or assumed).
    pub selector: (String, String),
    /// Container ports added by `portDiscovery`, by name (Flagger keeps them in a map).
    pub discovered_ports: Vec<(String, i64)>,
    /// `(kind, name, apiVersion)` of `autoscalerRef`.
    pub autoscaler: Option<(String, String, String)>,
}

impl Effective {
    /// Flagger's `maxWeight()` (scheduler.go).
    pub fn max_weight(&self) -> i64 {
        if let Some(last) = self.step_weights.last() {
            return (*last).min(100);
        }
        if self.max_weight_field > 0 {
            return self.max_weight_field;
        }
        100
    }

    /// Flagger's `nextStepWeight()` (scheduler.go): the next increment from `canary`.
    pub fn next_step_weight(&self, canary: i64) -> i64 {
        let sw = &self.step_weights;
        if self.step_weight > 0 || sw.is_empty() {
            return self.step_weight;
        }
        let max_step = 100 - canary;
        if max_step == 0 {
            return 1;
        }
        if canary == 0 {
            return max_step.min(sw[0]);
        }
        for i in 0..sw.len() - 1 {
            if sw[i] == canary {
                return max_step.min(sw[i + 1] - canary);
            }
        }
        max_step
    }

    pub fn has_match(&self) -> bool {
        self.analysis_match.is_some()
    }

    /// Whether `SetRoutes(…, mirrored=true)` really leaves a mirror that `GetRoutes` reports.
    pub fn mirror_applies(&self) -> bool {
        match self.router {
            // SetRoutes rebuilds http[] for analysis.match after setting the mirror.
            Router::Istio => !self.has_match(),
            // Only the Blue/Green path adds the RequestMirror filter (gateway_api.go).
            Router::GatewayApi => self.iterations > 0,
            _ => false,
        }
    }

    pub fn hooks_of(&self, type_: &str) -> impl Iterator<Item = &str> {
        self.hooks
            .iter()
            .filter(move |(_, t)| t == type_)
            .map(|(n, _)| n.as_str())
    }

    pub fn primary_name(&self) -> String {
        format!("{}-primary", self.apex)
    }
    pub fn canary_name(&self) -> String {
        format!("{}-canary", self.apex)
    }
}

pub(crate) struct Resolved {
    pub eff: Effective,
    pub provider: ProviderInfo,
    pub strategy: StrategyInfo,
    pub reasons: Vec<Reason>,
    pub defaults: Vec<DefaultApplied>,
    pub conditional_hooks: Vec<ConditionalHook>,
    pub notes: Vec<Note>,
}

#[derive(Default)]
struct Out {
    defaults: Vec<DefaultApplied>,
    reasons: Vec<Reason>,
    notes: Vec<Note>,
}

impl Out {
    fn default(
        &mut self,
        field: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.defaults.push(DefaultApplied {
            field: field.into(),
            value: value.into(),
            reason: reason.into(),
        });
    }
    fn reason(&mut self, field: impl Into<String>, text: impl Into<String>) {
        self.reasons.push(Reason {
            field: field.into(),
            text: text.into(),
        });
    }
    fn note(&mut self, level: NoteLevel, text: impl Into<String>) {
        self.notes.push(Note {
            level,
            text: text.into(),
        });
    }
}

/// A number Flagger reads into a Go `int`. A fraction cannot be decoded at all.
fn int_of(f: Option<Field<'_, f64>>, field: &str, out: &mut Out) -> Option<i64> {
    let f = f?;
    if f.value.fract() != 0.0 || !f.value.is_finite() {
        out.note(
            NoteLevel::Blocker,
            format!(
                "{field}: {} is not a whole number; Flagger reads it into an integer and cannot decode the Canary",
                format_number(f.value)
            ),
        );
    }
    Some(f.value.trunc() as i64)
}

fn json_of(node: Option<&Node>) -> Option<J> {
    node.filter(|n| !n.is_null()).map(Node::to_json)
}

fn list_json(v: &[i64]) -> String {
    let items: Vec<String> = v.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

fn string_list(node: Option<&Node>) -> Vec<String> {
    node.map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

fn provider_info(p: &Provider) -> ProviderInfo {
    let source = match p.source {
        ProviderSource::Spec => "spec.provider".to_string(),
        ProviderSource::Shape(field) => format!("inferred from {field}"),
        ProviderSource::Configured => "configured default".to_string(),
        ProviderSource::Default => "Flagger's default".to_string(),
    };
    ProviderInfo {
        name: p.name.clone(),
        source,
    }
}

/// Resolves a Canary concern by concern, in the order Flagger's controller meets them: each
/// step adds its defaults, reasons and notes to `out` in that order, which is the order the
/// plan shows them.
pub(crate) fn resolve(
    canary: &CanaryView<'_>,
    settings: &Settings,
    inventory: Option<View<'_>>,
) -> Resolved {
    let mut out = <Out as Default>::default();
    let (namespace, name) = identity(canary, settings, &mut out);
    let (provider, router) = provider_and_router(canary, settings, &mut out);
    let target = target(canary, &name, &provider, router, &mut out);
    let svc = canary.service();
    let apex = apex(canary, &target.name, &mut out);
    let analysis = canary.analysis();
    if analysis.is_none() {
        out.note(
            NoteLevel::Blocker,
            "spec.analysis is missing (the CRD requires it)",
        );
    }
    let (interval, interval_raw) = interval(analysis, &mut out);
    let threshold = threshold(analysis, &mut out);
    let iterations = iterations_and_match(analysis, router, &mut out);
    let weights = weights(analysis, &mut out);

    let mut eff = Effective {
        namespace,
        name,
        router,
        gateway_api_version: gateway_api_version(&provider),
        target_kind: target.kind,
        target_name: target.name,
        target_api_version: target.api_version,
        apex,
        interval,
        interval_raw,
        threshold,
        iterations: iterations.effective,
        step_weight: weights.step_weight,
        step_weights: weights.step_weights.clone(),
        max_weight_field: weights.max_weight_field,
        step_weight_promotion: weights.step_weight_promotion,
        mirror: weights.mirror,
        mirror_weight: weights.mirror_weight,
        analysis_match: iterations.analysis_match,
        skip_analysis: canary.skip_analysis().is_some_and(|f| f.value),
        hooks: Vec::new(),
        metrics: Vec::new(),
        session_affinity: None,
        service: None,
        selector: (String::new(), String::new()),
        discovered_ports: Vec::new(),
        autoscaler: None,
    };
    weight_defaults(&eff, analysis, &weights, &mut out);
    mirroring(&eff, &provider, &mut out);
    session_affinity(analysis, &mut eff, &provider, &mut out);
    lifecycle_defaults(canary, analysis, &mut out);
    service(svc, &mut eff, inventory, target.knative, &mut out);
    let conditional = webhooks(analysis, &mut eff, &mut out);
    metrics(analysis, &mut eff, &mut out);
    alerts(analysis, &eff.namespace, &mut out);
    suspend(canary, &mut out);
    workload(&mut eff, settings, inventory, &mut out);
    autoscaler(canary, &mut eff, &mut out);

    let interval_text = fmt_seconds(whole_seconds(eff.interval));
    let strategy = strategy(
        &eff,
        &provider,
        &mut out,
        iterations.written,
        iterations.forced,
        &interval_text,
    );
    if analysis.is_some()
        && eff.metrics.is_empty()
        && !eff.hooks.iter().any(|(_, t)| t == "rollout")
    {
        out.note(
            NoteLevel::Info,
            "no metrics and no rollout hooks: the analysis checks only that the canary stays ready",
        );
    }

    Resolved {
        eff,
        provider: provider_info(&provider),
        strategy,
        reasons: out.reasons,
        defaults: out.defaults,
        conditional_hooks: conditional,
        notes: out.notes,
    }
}

/// The Canary's name, and its namespace (assumed when metadata has none).
fn identity(canary: &CanaryView<'_>, settings: &Settings, out: &mut Out) -> (String, String) {
    let doc = canary.doc;
    let name = canary.name().unwrap_or("<unnamed>").to_string();
    let namespace = doc.namespace_or(&settings.default_namespace).to_string();
    if doc.namespace.is_none() && settings.namespace_assumed {
        out.note(
            NoteLevel::Assumption,
            format!(
                "metadata.namespace is not set: the plan assumes the Canary lands in `{namespace}` (give the namespace it is applied to with --namespace)"
            ),
        );
    }
    (namespace, name)
}

/// The provider (written, inferred or defaulted) and the router it selects.
fn provider_and_router(
    canary: &CanaryView<'_>,
    settings: &Settings,
    out: &mut Out,
) -> (Provider, Router) {
    let provider = Provider::resolve(canary, settings);
    // The router Flagger builds for the string (pkg/router/factory.go, `MeshRouter`).
    let router = match provider.router() {
        canarylint::Router::Istio => Router::Istio,
        canarylint::Router::GatewayApiV1 | canarylint::Router::GatewayApiV1beta1 => {
            Router::GatewayApi
        }
        canarylint::Router::Kubernetes => Router::Kubernetes,
        canarylint::Router::Knative => Router::Knative,
        _ => Router::Other,
    };
    if router == Router::Istio && provider.name != "istio" {
        out.default(
            "spec.provider",
            "istio",
            format!(
                "`{}` is not a provider Flagger knows: its router factory falls back to Istio",
                provider.name
            ),
        );
    }
    match provider.source {
        ProviderSource::Default => out.note(
            NoteLevel::Assumption,
            "no spec.provider: the plan assumes Flagger runs with its default -mesh-provider=istio",
        ),
        ProviderSource::Shape(field) => out.note(
            NoteLevel::Assumption,
            format!(
                "no spec.provider: {field} suggests Flagger runs with -mesh-provider={}",
                provider.name
            ),
        ),
        _ => {}
    }
    (provider, router)
}

/// `v1` or `v1beta1`, from `gatewayapi:<version>`.
fn gateway_api_version(provider: &Provider) -> String {
    provider
        .name
        .split_once(':')
        .map_or("v1", |(_, v)| v)
        .to_string()
}

/// `spec.targetRef`, with Flagger's defaults.
struct Target {
    name: String,
    kind: String,
    api_version: String,
    /// A Knative Service: Flagger builds no Kubernetes Services for it.
    knative: bool,
}

/// The target workload, and whether the provider can roll it out.
fn target(
    canary: &CanaryView<'_>,
    name: &str,
    provider: &Provider,
    router: Router,
    out: &mut Out,
) -> Target {
    let target = canary.target_ref();
    let target_name = target.and_then(|t| t.name()).map(|f| f.value.to_string());
    let target_kind = target
        .and_then(|t| t.kind())
        .map_or_else(|| "Deployment".to_string(), |f| f.value.to_string());
    let target_api_version = target
        .and_then(|t| t.api_version())
        .map_or_else(|| "apps/v1".to_string(), |f| f.value.to_string());
    if target_name.is_none() {
        out.note(
            NoteLevel::Blocker,
            "spec.targetRef.name is missing: Flagger has nothing to roll out",
        );
    }
    let target_name = target_name.unwrap_or_else(|| name.to_string());
    let knative = target_kind == "Service" && target_api_version.starts_with("serving.knative.dev");
    if knative && router != Router::Knative {
        out.note(
            NoteLevel::Blocker,
            format!(
                "invalid canary spec: can't use {} provider with Knative Service as target (set spec.provider: knative)",
                provider.name
            ),
        );
    }
    if router == Router::Knative && !knative {
        out.note(
            NoteLevel::Blocker,
            format!("invalid canary spec: can't use {target_api_version}/{target_kind} as target if provider is set to knative"),
        );
    }
    Target {
        name: target_name,
        kind: target_kind,
        api_version: target_api_version,
        knative,
    }
}

/// The apex name: `service.name`, else `targetRef.name`.
fn apex(canary: &CanaryView<'_>, target_name: &str, out: &mut Out) -> String {
    let svc = canary.service();
    let apex = canary.apex_name().unwrap_or(target_name).to_string();
    if svc.is_some() && svc.and_then(|s| s.name()).is_none() {
        out.default(
            "spec.service.name",
            apex.clone(),
            "not set: the Services, routes and metrics use targetRef.name",
        );
    }
    apex
}

/// `analysis.interval` (canary.go GetAnalysisInterval): the effective seconds, and the value
/// `time.ParseDuration` reads.
fn interval(analysis: Option<AnalysisView<'_>>, out: &mut Out) -> (f64, Option<f64>) {
    let interval_field = analysis.and_then(|a| a.interval());
    let interval_raw = interval_field.and_then(|f| go_duration(f.value));
    let interval = match interval_field {
        None => {
            out.default(
                "spec.analysis.interval",
                "60s",
                "not set: Flagger's default",
            );
            60.0
        }
        Some(f) if f.value.is_empty() => {
            out.default("spec.analysis.interval", "60s", "empty: Flagger's default");
            60.0
        }
        Some(f) => match interval_raw {
            None => {
                out.default(
                    "spec.analysis.interval",
                    "60s",
                    format!(
                        "\"{}\" is not a Go duration: Flagger falls back to 60s",
                        f.value
                    ),
                );
                60.0
            }
            Some(s) if s < 10.0 => {
                out.default(
                    "spec.analysis.interval",
                    "10s",
                    format!("\"{}\" is below 10s: Flagger raises it to 10s", f.value),
                );
                10.0
            }
            Some(s) => s,
        },
    };
    (interval, interval_raw)
}

/// `analysis.threshold` (canary.go GetAnalysisThreshold).
fn threshold(analysis: Option<AnalysisView<'_>>, out: &mut Out) -> i64 {
    let threshold_written = int_of(
        analysis.and_then(|a| a.threshold()),
        "spec.analysis.threshold",
        out,
    );
    match threshold_written {
        Some(t) if t > 0 => t,
        Some(t) => {
            out.default(
                "spec.analysis.threshold",
                "1",
                format!("{t} is not above 0: Flagger uses 1"),
            );
            1
        }
        None => {
            out.default(
                "spec.analysis.threshold",
                "1",
                "not set: Flagger uses 1 (the CRD requires the field)",
            );
            1
        }
    }
}

/// `analysis.iterations` and `analysis.match`, after the kubernetes provider's rewrites.
struct Iterations {
    /// As written (0 when absent).
    written: i64,
    effective: i64,
    /// The kubernetes provider forced 10.
    forced: bool,
    /// `analysis.match` when it has conditions and survives.
    analysis_match: Option<J>,
}

/// Iterations and match; the kubernetes provider rewrites both (scheduler.go).
fn iterations_and_match(
    analysis: Option<AnalysisView<'_>>,
    router: Router,
    out: &mut Out,
) -> Iterations {
    let iterations_written = int_of(
        analysis.and_then(|a| a.iterations()),
        "spec.analysis.iterations",
        out,
    )
    .unwrap_or(0);
    let mut iterations = iterations_written;
    let mut analysis_match = analysis
        .filter(|a| a.has_match())
        .and_then(|a| json_of(a.match_()));
    let mut forced_iterations = false;
    if router == Router::Kubernetes {
        if analysis_match.is_some() {
            out.default(
                "spec.analysis.match",
                "(dropped)",
                "event \"A/B testing is not supported when using the kubernetes provider\": Flagger drops match",
            );
            analysis_match = None;
        }
        if iterations < 1 {
            out.default(
                "spec.analysis.iterations",
                "10",
                "event \"Progressive traffic is not supported when using the kubernetes provider\": Flagger sets iterations to 10",
            );
            iterations = 10;
            forced_iterations = true;
        }
    }
    Iterations {
        written: iterations_written,
        effective: iterations,
        forced: forced_iterations,
        analysis_match,
    }
}

/// The weight and mirror fields of `analysis`, as written.
struct Weights {
    step_weight: i64,
    step_weight_set: bool,
    step_weights: Vec<i64>,
    max_weight_field: i64,
    max_weight_set: bool,
    step_weight_promotion: i64,
    mirror: bool,
    mirror_weight: i64,
}

/// Weights and mirroring as written (scheduler.go maxWeight, nextStepWeight read them).
fn weights(analysis: Option<AnalysisView<'_>>, out: &mut Out) -> Weights {
    let step_weight = int_of(
        analysis.and_then(|a| a.step_weight()),
        "spec.analysis.stepWeight",
        out,
    )
    .unwrap_or(0);
    let step_weights: Vec<i64> = analysis
        .and_then(|a| a.step_weights())
        .map(|(_, items)| items.iter().map(|f| f.value.trunc() as i64).collect())
        .unwrap_or_default();
    let max_weight_field = int_of(
        analysis.and_then(|a| a.max_weight()),
        "spec.analysis.maxWeight",
        out,
    )
    .unwrap_or(0);
    let max_weight_set = analysis.and_then(|a| a.max_weight()).is_some();
    let step_weight_set = analysis.and_then(|a| a.step_weight()).is_some();
    let step_weight_promotion = int_of(
        analysis.and_then(|a| a.step_weight_promotion()),
        "spec.analysis.stepWeightPromotion",
        out,
    )
    .unwrap_or(0);
    let mirror = analysis.and_then(|a| a.mirror()).is_some_and(|f| f.value);
    let mirror_weight = int_of(
        analysis.and_then(|a| a.mirror_weight()),
        "spec.analysis.mirrorWeight",
        out,
    )
    .unwrap_or(0);
    Weights {
        step_weight,
        step_weight_set,
        step_weights,
        max_weight_field,
        max_weight_set,
        step_weight_promotion,
        mirror,
        mirror_weight,
    }
}

/// The weight fields a strategy ignores or fills in, and the promotion step.
fn weight_defaults(
    eff: &Effective,
    analysis: Option<AnalysisView<'_>>,
    w: &Weights,
    out: &mut Out,
) {
    let (iterations, router, skip_analysis) = (eff.iterations, eff.router, eff.skip_analysis);
    let Weights {
        step_weight,
        step_weight_set,
        ref step_weights,
        max_weight_field,
        max_weight_set,
        step_weight_promotion,
        ..
    } = *w;
    if iterations > 0 {
        let strategy_name = if eff.has_match() {
            "A/B testing"
        } else {
            "Blue/Green"
        };
        for (set, field) in [
            (step_weight_set, "spec.analysis.stepWeight"),
            (!step_weights.is_empty(), "spec.analysis.stepWeights"),
            (max_weight_set, "spec.analysis.maxWeight"),
        ] {
            if set {
                out.default(
                    field,
                    "(ignored)",
                    format!("iterations selects {strategy_name}: no weight steps"),
                );
            }
        }
    } else {
        if step_weight > 0 && !step_weights.is_empty() {
            out.default(
                "spec.analysis.stepWeights",
                "(ignored for the steps)",
                format!(
                    "stepWeight is set, so each step adds {step_weight}; promotion still happens at min(100, last entry) = {}",
                    eff.max_weight()
                ),
            );
        }
        if !step_weights.is_empty() {
            let reason = if max_weight_set {
                "maxWeight is ignored beside stepWeights: promotion happens at min(100, last stepWeights entry)"
            } else {
                "from stepWeights: promotion happens at min(100, last entry)"
            };
            out.default(
                "spec.analysis.maxWeight",
                eff.max_weight().to_string(),
                reason,
            );
        } else if max_weight_field <= 0 && step_weight > 0 {
            let why = if max_weight_set {
                format!("{max_weight_field} is not above 0")
            } else {
                "not set".to_string()
            };
            out.default(
                "spec.analysis.maxWeight",
                "100",
                format!("{why}: promotion once the canary has all the traffic"),
            );
        }
    }
    if router != Router::Kubernetes && !skip_analysis {
        if analysis.and_then(|a| a.step_weight_promotion()).is_none() || step_weight_promotion == 0
        {
            out.default(
                "spec.analysis.stepWeightPromotion",
                "0",
                "not set: after the promotion, all traffic returns to the primary in one step",
            );
        }
    } else if router == Router::Kubernetes && step_weight_promotion != 0 {
        out.default(
            "spec.analysis.stepWeightPromotion",
            "(ignored)",
            "the kubernetes provider shifts no traffic",
        );
    }
}

/// What each router does with `analysis.mirror`.
fn mirroring(eff: &Effective, provider: &Provider, out: &mut Out) {
    let (mirror, router, iterations, mirror_weight) =
        (eff.mirror, eff.router, eff.iterations, eff.mirror_weight);
    if mirror {
        match router {
            Router::Kubernetes => out.default(
                "spec.analysis.mirror",
                "(ignored)",
                "the kubernetes provider cannot mirror traffic",
            ),
            Router::Istio => {
                if eff.has_match() {
                    if iterations > 0 {
                        out.default(
                            "spec.analysis.mirror",
                            "(ignored)",
                            "A/B testing never asks the router for a mirror",
                        );
                    } else {
                        out.note(
                            NoteLevel::Blocker,
                            "analysis.match makes Istio rebuild the http routes after setting the mirror, so the mirror is dropped and Flagger never sees it: the canary stays at 0%",
                        );
                    }
                } else if mirror_weight <= 0 {
                    out.default(
                        "spec.analysis.mirrorWeight",
                        "100",
                        "not set: Istio mirrors every request (no mirrorPercentage)",
                    );
                }
            }
            Router::GatewayApi => {
                if iterations <= 0 {
                    out.note(
                        NoteLevel::Blocker,
                        "analysis.mirror with stepWeight(s) on Gateway API: the router adds the RequestMirror filter only for Blue/Green, so Flagger never sees a mirror and the canary stays at 0% (repeating the pre-rollout step)",
                    );
                }
                if mirror_weight > 0 {
                    out.default(
                        "spec.analysis.mirrorWeight",
                        "(ignored)",
                        "mirrorWeight (Istio's mirrorPercentage) is Istio-only: Gateway API mirrors every request",
                    );
                }
            }
            _ => {
                if iterations > 0 {
                    out.default(
                        "spec.analysis.mirror",
                        "(ignored)",
                        format!("the {} router does not mirror traffic", provider.name),
                    );
                } else {
                    out.note(
                        NoteLevel::Blocker,
                        format!(
                            "analysis.mirror on {}: only Istio mirrors during a progressive canary; the router never reports a mirror, so the canary stays at 0% (repeating the pre-rollout step)",
                            provider.name
                        ),
                    );
                }
            }
        }
    }
}

/// `analysis.sessionAffinity`, on the routers that implement it.
fn session_affinity(
    analysis: Option<AnalysisView<'_>>,
    eff: &mut Effective,
    provider: &Provider,
    out: &mut Out,
) {
    let (router, interval_raw) = (eff.router, eff.interval_raw);
    if let Some(sa) = analysis.and_then(|a| a.session_affinity()) {
        let cookie = sa
            .get("cookieName")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        let primary = sa
            .get("primaryCookieName")
            .and_then(Node::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let max_age = sa
            .get("maxAge")
            .and_then(Node::as_f64)
            .unwrap_or(0.0)
            .trunc() as i64;
        let max_age = if max_age == 0 {
            out.default(
                "spec.analysis.sessionAffinity.maxAge",
                "86400",
                "not set: the canary cookie lives one day",
            );
            86400
        } else {
            max_age
        };
        if matches!(router, Router::Istio | Router::GatewayApi) {
            if primary.as_deref() == Some(cookie.as_str()) {
                out.note(
                    NoteLevel::Blocker,
                    "invalid canary spec: can't use the same cookie name for both primary and cookie name; please update them to be different",
                );
            }
            if primary.is_some() {
                match interval_raw {
                    Some(s) => out.default(
                        "spec.analysis.sessionAffinity.primaryCookieName",
                        format!("Max-Age={}", whole_seconds(s)),
                        "the primary cookie lives as long as analysis.interval",
                    ),
                    None => out.note(
                        NoteLevel::Blocker,
                        "sessionAffinity.primaryCookieName needs analysis.interval to parse as a Go duration: setting the routes fails with \"failed to parse canary interval\"",
                    ),
                }
            }
            if eff.has_match() && router == Router::Istio {
                out.note(
                    NoteLevel::Warning,
                    "analysis.match makes Istio rebuild the http routes: the session-affinity routes are dropped",
                );
            }
            if cookie.is_empty() {
                out.note(
                    NoteLevel::Warning,
                    "sessionAffinity.cookieName is empty (the CRD requires it)",
                );
            }
            eff.session_affinity = Some(SessionAffinity {
                cookie_name: cookie,
                primary_cookie_name: primary,
                max_age,
            });
            let extras: Vec<&str> = [
                "domain",
                "httpOnly",
                "partitioned",
                "path",
                "sameSite",
                "secure",
            ]
            .into_iter()
            .filter(|k| sa.get(k).is_some())
            .collect();
            if !extras.is_empty() {
                out.note(
                    NoteLevel::Info,
                    format!(
                        "the generated Set-Cookie headers show Max-Age only; Flagger also adds the cookie attributes {}",
                        extras.join(", ")
                    ),
                );
            }
        } else {
            out.default(
                "spec.analysis.sessionAffinity",
                "(ignored)",
                format!("the {} router does not implement session affinity (only Istio and Gateway API do)", provider.name),
            );
        }
    }
}

/// Lifecycle defaults (canary.go).
fn lifecycle_defaults(canary: &CanaryView<'_>, analysis: Option<AnalysisView<'_>>, out: &mut Out) {
    if canary.progress_deadline_seconds().is_none() {
        out.default(
            "spec.progressDeadlineSeconds",
            "600",
            "not set: a canary or primary not ready within 10m is rolled back",
        );
    }
    for (getter, field) in [
        (
            analysis.and_then(|a| a.primary_ready_threshold()),
            "spec.analysis.primaryReadyThreshold",
        ),
        (
            analysis.and_then(|a| a.canary_ready_threshold()),
            "spec.analysis.canaryReadyThreshold",
        ),
    ] {
        if getter.is_none() {
            out.default(
                field,
                "100",
                "not set: all updated replicas must be available",
            );
        }
    }
}

/// `spec.service`, with Flagger's defaults and what each router makes of hosts and gateways.
fn service(
    svc: Option<ServiceView<'_>>,
    eff: &mut Effective,
    inventory: Option<View<'_>>,
    knative: bool,
    out: &mut Out,
) {
    let Some(s) = svc else {
        if !knative {
            out.note(
                NoteLevel::Blocker,
                "spec.service is missing: Flagger cannot build the Services",
            );
        }
        return;
    };
    let service = service_fields(s, out);
    service_routing(&service, eff.router, &eff.apex, &eff.namespace, out);
    if service.port_discovery && inventory.is_none() {
        out.note(
            NoteLevel::Assumption,
            "service.portDiscovery adds the target's container ports to the Services; without the workload they are not shown",
        );
    }
    eff.service = Some(service);
}

/// The fields of `spec.service` as Flagger reads them, ports defaulted.
fn service_fields(s: ServiceView<'_>, out: &mut Out) -> ServiceEff {
    let port = s.port().map(|f| f.value.trunc() as i64);
    if port.is_none() {
        out.note(
            NoteLevel::Blocker,
            "spec.service.port is missing: Flagger cannot build the Services",
        );
    }
    let port = port.unwrap_or(0);
    let port_name = match s.port_name() {
        Some(f) if !f.value.is_empty() => f.value.to_string(),
        _ => {
            out.default(
                "spec.service.portName",
                "http",
                "not set: the Service port is named http",
            );
            "http".to_string()
        }
    };
    let target_port = match s.target_port() {
        Some(f) if f.value != PortRef::Number(0) => match f.value {
            PortRef::Number(n) => J::from(n),
            PortRef::Name(n) => J::from(n),
        },
        _ => {
            out.default(
                "spec.service.targetPort",
                port.to_string(),
                "not set: the Services forward to service.port",
            );
            J::from(port)
        }
    };
    let node = s.node;
    let hosts = string_list(node.get("hosts"));
    let gateways = string_list(node.get("gateways"));
    let gateway_refs: Vec<J> = node
        .get("gatewayRefs")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .map(Node::to_json)
        .collect();
    let delegation = s.delegation().is_some_and(|f| f.value);
    let meta = |key: &str| json_of(node.get(key));
    ServiceEff {
        port,
        port_name,
        target_port,
        app_protocol: s.app_protocol().map(|f| f.value.to_string()),
        headless: s.headless().is_some_and(|f| f.value),
        traffic_distribution: node
            .get("trafficDistribution")
            .and_then(Node::as_str)
            .map(str::to_string),
        port_discovery: s.port_discovery().is_some_and(|f| f.value),
        delegation,
        hosts: hosts.clone(),
        gateways: gateways.clone(),
        gateway_refs,
        match_: json_of(node.get("match")).filter(|m| m.as_array().is_some_and(|a| !a.is_empty())),
        rewrite: meta("rewrite"),
        timeout: s
            .timeout()
            .map(|f| f.value.to_string())
            .filter(|t| !t.is_empty()),
        retries: meta("retries"),
        cors_policy: meta("corsPolicy"),
        headers: meta("headers"),
        traffic_policy: meta("trafficPolicy"),
        mirrors: node
            .get("mirror")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(Node::to_json)
            .collect(),
        apex_meta: meta("apex"),
        primary_meta: meta("primary"),
        canary_meta: meta("canary"),
    }
}

/// What the router makes of `service.hosts`, `gateways` and `gatewayRefs`.
fn service_routing(
    service: &ServiceEff,
    router: Router,
    apex: &str,
    namespace: &str,
    out: &mut Out,
) {
    let (hosts, gateways, delegation) = (&service.hosts, &service.gateways, service.delegation);
    match router {
        Router::Istio => {
            if delegation && (!hosts.is_empty() || !gateways.is_empty()) {
                out.note(
                    NoteLevel::Blocker,
                    format!("VirtualService {apex}.{namespace} cannot have hosts and gateways when delegation enabled"),
                );
            }
            if delegation {
                out.default(
                    "spec.service.hosts",
                    "[]",
                    "delegation: the VirtualService is a delegate, with no hosts and no gateways",
                );
            } else {
                if !hosts.iter().any(|h| h == apex || h == "*") {
                    let mut all = hosts.clone();
                    all.push(apex.to_string());
                    let fqdn = hosts
                        .iter()
                        .find(|h| h.starts_with(&format!("{apex}.")))
                        .map(|h| format!(" (`{h}` does not count)"))
                        .unwrap_or_default();
                    out.default(
                        "spec.service.hosts",
                        format!("[{}]", all.join(", ")),
                        format!("Flagger appends the apex name `{apex}` unless the list has exactly it or `*`{fqdn}"),
                    );
                }
                if gateways.is_empty() {
                    out.default(
                        "spec.service.gateways",
                        "[mesh]",
                        "not set: Flagger adds mesh, so in-mesh callers use the VirtualService",
                    );
                } else if !gateways.iter().any(|g| g == "mesh") {
                    out.default(
                        "spec.service.gateways",
                        format!("[{}] (no mesh)", gateways.join(", ")),
                        "mesh is added only when gateways is empty: in-mesh callers bypass this VirtualService",
                    );
                }
            }
            if !service.gateway_refs.is_empty() {
                out.default(
                    "spec.service.gatewayRefs",
                    "(ignored)",
                    "the Istio router uses service.gateways",
                );
            }
        }
        Router::GatewayApi => {
            if service.gateway_refs.is_empty() {
                out.note(
                    NoteLevel::Blocker,
                    "GatewayRefs must be specified when using Gateway API as a provider.",
                );
            }
            if !gateways.is_empty() {
                out.default(
                    "spec.service.gateways",
                    "(ignored)",
                    "the Gateway API router attaches to service.gatewayRefs",
                );
            }
        }
        _ => {}
    }
}

/// The webhooks, in order, with their effective types; returns the ones that fire on
/// conditions rather than at a step.
fn webhooks(
    analysis: Option<AnalysisView<'_>>,
    eff: &mut Effective,
    out: &mut Out,
) -> Vec<ConditionalHook> {
    let mut conditional = Vec::new();
    let known_types = [
        "confirm-rollout",
        "pre-rollout",
        "rollout",
        "confirm-promotion",
        "post-rollout",
        "event",
        "rollback",
        "confirm-traffic-increase",
    ];
    for (i, hook) in analysis
        .map(|a| a.webhooks())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let hname = hook
            .name()
            .map_or_else(|| format!("#{i}"), |f| f.value.to_string());
        let t = hook.effective_type().to_string();
        if hook.type_().is_none_or(|f| f.value.is_empty()) {
            out.default(
                format!("spec.analysis.webhooks[{i}].type"),
                "rollout",
                format!("not set: `{hname}` runs with every analysis"),
            );
        }
        if hook.timeout().is_none_or(|f| f.value.len() < 2) {
            out.default(
                format!("spec.analysis.webhooks[{i}].timeout"),
                "10s",
                format!("not set: `{hname}` may take 10s"),
            );
        }
        if !known_types.contains(&t.as_str()) {
            out.note(
                NoteLevel::Warning,
                format!("webhook `{hname}` has type `{t}`, which Flagger never calls"),
            );
        }
        match t.as_str() {
            "rollback" => conditional.push(ConditionalHook {
                name: hname.clone(),
                type_: t.clone(),
                when: "asked at every run while the analysis is in progress; an answer with HTTP status ≤ 202 rolls the canary back".into(),
            }),
            "event" => conditional.push(ConditionalHook {
                name: hname.clone(),
                type_: t.clone(),
                when: "called for every event Flagger records for this Canary".into(),
            }),
            "post-rollout" => conditional.push(ConditionalHook {
                name: hname.clone(),
                type_: t.clone(),
                when: "also called after a rollback (phase Failed)".into(),
            }),
            _ => {}
        }
        eff.hooks.push((hname, t));
    }
    conditional
}

/// The metric checks, with their bounds as Flagger compares them.
fn metrics(analysis: Option<AnalysisView<'_>>, eff: &mut Effective, out: &mut Out) {
    let namespace = eff.namespace.clone();
    for (i, m) in analysis
        .map(|a| a.metrics())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let mname = m
            .name()
            .map_or_else(|| format!("#{i}"), |f| f.value.to_string());
        let interval = match m.interval() {
            Some(f) if !f.value.is_empty() => f.value.to_string(),
            _ => {
                out.default(
                    format!("spec.analysis.metrics[{i}].interval"),
                    "1m",
                    format!("not set: `{mname}` looks back over 1m"),
                );
                "1m".to_string()
            }
        };
        let builtin = mname == "request-success-rate" || mname == "request-duration";
        let template = m.template_ref().map(|t| {
            let ns = match t.namespace() {
                Some(f) if !f.value.is_empty() => f.value.to_string(),
                _ => {
                    out.default(
                        format!("spec.analysis.metrics[{i}].templateRef.namespace"),
                        namespace.clone(),
                        "not set: the MetricTemplate is looked up in the Canary's namespace",
                    );
                    namespace.clone()
                }
            };
            format!("{ns}/{}", t.name().map_or("", |f| f.value))
        });
        let query = m.query().is_some_and(|q| !q.value.is_empty());
        let kind = match (builtin, template.is_some() || query) {
            (true, true) => {
                out.note(
                    NoteLevel::Warning,
                    format!("metric `{mname}` has a builtin name: Flagger runs its own check as well as the custom one"),
                );
                MetricKind::BuiltinAndCustom
            }
            (true, false) => MetricKind::Builtin,
            (false, _) if template.is_some() => MetricKind::Template,
            (false, true) => MetricKind::Query,
            (false, false) => {
                out.note(
                    NoteLevel::Blocker,
                    format!("metric `{mname}` is not builtin and has neither templateRef nor query: every check fails (\"no usable metrics template and query were configured\")"),
                );
                MetricKind::Unusable
            }
        };
        let (mut min, mut max) = (m.min().map(|f| f.value), m.max().map(|f| f.value));
        if m.threshold_range().is_none() {
            // scheduler_metrics.go: without thresholdRange the deprecated `threshold` is the
            // minimum of the success rate and the maximum of everything else (0 when unset).
            let t = m.threshold().map_or(0.0, |f| f.value);
            let success_rate = mname == "request-success-rate";
            let (bound, what) = if success_rate {
                ("min", "minimum")
            } else {
                ("max", "maximum")
            };
            if success_rate {
                min = Some(t);
            } else {
                max = Some(t);
            }
            let why = if m.threshold().is_some() {
                format!("no thresholdRange: the deprecated threshold is the {what}")
            } else if success_rate {
                "no thresholdRange and no threshold: the check passes whatever the rate".to_string()
            } else {
                "no thresholdRange and no threshold: the check fails whenever the value is above 0"
                    .to_string()
            };
            out.default(
                format!("spec.analysis.metrics[{i}].thresholdRange.{bound}"),
                format_number(t),
                why,
            );
            if m.threshold().is_none() && !success_rate {
                out.note(
                    NoteLevel::Warning,
                    format!("metric `{mname}` has no thresholdRange: it fails every check with a value above 0"),
                );
            }
        }
        eff.metrics.push(MetricPlan {
            name: mname,
            kind,
            template,
            interval,
            min,
            max,
        });
    }
}

/// Alert defaults.
fn alerts(analysis: Option<AnalysisView<'_>>, namespace: &str, out: &mut Out) {
    for (i, a) in analysis
        .map(|a| a.alerts())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let aname = a
            .name()
            .map_or_else(|| format!("#{i}"), |f| f.value.to_string());
        if a.severity().is_none_or(|f| f.value.is_empty()) {
            out.default(
                format!("spec.analysis.alerts[{i}].severity"),
                "(none)",
                format!("not set: Flagger sends nothing to `{aname}` (the docs say info)"),
            );
        }
        if a.provider_ref().is_some_and(|p| p.namespace().is_none()) {
            out.default(
                format!("spec.analysis.alerts[{i}].providerRef.namespace"),
                namespace,
                "not set: the AlertProvider is looked up in the Canary's namespace",
            );
        }
    }
}

fn suspend(canary: &CanaryView<'_>, out: &mut Out) {
    if canary.node.get("suspend").and_then(Node::as_bool) == Some(true) {
        out.note(
            NoteLevel::Blocker,
            "spec.suspend: true: Flagger skips every run until it is unset",
        );
    }
}

/// Selector label and discovered ports, from the target workload when we have it. Without
/// it, the first configured label with the target's name as value is the common case (the
/// podinfo examples all use `app: <name>`); the plan says it assumed so.
fn workload(eff: &mut Effective, settings: &Settings, inventory: Option<View<'_>>, out: &mut Out) {
    let (target_name, target_kind, namespace) = (
        eff.target_name.clone(),
        eff.target_kind.clone(),
        eff.namespace.clone(),
    );
    let default_label = settings
        .selector_labels
        .first()
        .cloned()
        .unwrap_or_else(|| "app".to_string());
    eff.selector = (default_label.clone(), target_name.clone());
    let workload_kind = match target_kind.as_str() {
        "Deployment" => Some(Kind::Deployment),
        "DaemonSet" => Some(Kind::DaemonSet),
        _ => None,
    };
    let lookup = match (workload_kind, inventory) {
        (Some(k), Some(inv)) => inv.lookup(k, &namespace, &target_name),
        _ => Lookup::Unknown,
    };
    match (workload_kind, lookup) {
        (Some(_), Lookup::Found(obj)) => {
            let w = obj.as_workload();
            let labels = w.map(|w| w.match_labels.clone()).unwrap_or_default();
            let found = settings
                .selector_labels
                .iter()
                .find_map(|l| labels.iter().find(|(k, _)| k == l).map(|(k, v)| (k.to_string(), v.to_string())));
            match found {
                Some(sel) => eff.selector = sel,
                None => out.note(
                    NoteLevel::Blocker,
                    format!(
                        "{} {target_name}.{namespace} spec.selector.matchLabels must contain one of [{}]",
                        target_kind.to_lowercase(),
                        settings.selector_labels.join(" ")
                    ),
                ),
            }
            if let (Some(w), Some(s)) = (w, eff.service.as_ref().filter(|s| s.port_discovery)) {
                eff.discovered_ports = discover_ports(w, s, out);
            }
        }
        (Some(k), Lookup::Absent) => {
            out.note(
                NoteLevel::Warning,
                format!(
                    "{} {target_name}.{namespace} is not among the objects given: Flagger would report a get query error",
                    k.name()
                ),
            );
            out.note(
                NoteLevel::Assumption,
                format!("the Services select `{default_label}: {target_name}`, assuming the workload's matchLabels"),
            );
        }
        (Some(_), Lookup::Unknown) => out.note(
            NoteLevel::Assumption,
            format!(
                "target workload not given: the Services select `{default_label}: {target_name}` (Flagger takes the first of {} present in the workload's spec.selector.matchLabels, with its value)",
                settings.selector_labels.join(", ")
            ),
        ),
        _ => {}
    }
}

/// `autoscalerRef`, when Flagger knows its kind.
fn autoscaler(canary: &CanaryView<'_>, eff: &mut Effective, out: &mut Out) {
    if let Some(a) = canary.autoscaler_ref() {
        let kind = a.kind().map_or("", |f| f.value).to_string();
        let aname = a.name().map_or("", |f| f.value).to_string();
        let api = a.api_version().map_or("", |f| f.value).to_string();
        if kind == "HorizontalPodAutoscaler" || kind == "ScaledObject" {
            eff.autoscaler = Some((kind, aname, api));
        } else {
            out.note(
                NoteLevel::Warning,
                format!(
                    "autoscalerRef kind `{kind}`: Flagger logs \"unknown hpa kind\" and ignores it"
                ),
            );
        }
    }
}

/// Container ports `portDiscovery` adds (router/util.go): every container but the proxies,
/// except the one already served as targetPort (or port).
fn discover_ports(
    w: &canarylint::model::WorkloadInfo,
    s: &ServiceEff,
    out: &mut Out,
) -> Vec<(String, i64)> {
    // Flagger keeps these in a Go map: by name, the last one wins, in no particular order. We
    // sort by name so the plan is stable.
    let mut ports: BTreeMap<String, i64> = BTreeMap::new();
    for (name, p, _) in w.discovered_ports() {
        let served = match &s.target_port {
            J::Number(n) => n.as_i64() == Some(p.port),
            J::String(name) => p.name.as_deref() == Some(name.as_str()),
            _ => false,
        };
        if served {
            continue;
        }
        if name == s.port_name {
            out.note(
                NoteLevel::Blocker,
                format!(
                    "portDiscovery adds container port `{name}` ({}), the same name as the main port: the API server rejects the Service (duplicate port name)",
                    p.port
                ),
            );
        }
        ports.insert(name, p.port);
    }
    ports.into_iter().collect()
}

fn strategy(
    eff: &Effective,
    provider: &Provider,
    out: &mut Out,
    iterations_written: i64,
    forced: bool,
    interval: &str,
) -> StrategyInfo {
    let n = eff.iterations;
    let sa_on = eff.session_affinity.is_some();
    if forced {
        out.reason(
            "spec.provider",
            "kubernetes: no traffic shifting; Flagger runs Blue/Green with 10 iterations",
        );
    }
    if eff.skip_analysis {
        out.reason(
            "spec.skipAnalysis",
            "true: once the canary is ready, Flagger promotes it without hooks or checks",
        );
    }
    if n > 0 && eff.has_match() {
        out.reason(
            "spec.analysis.iterations",
            format!(
                "{n} with analysis.match: A/B testing, {} while matching requests go to the canary",
                count(n, "check")
            ),
        );
        out.reason(
            "spec.analysis.match",
            "requests that match go to the canary; the rest stay on the primary",
        );
        return StrategyInfo {
            kind: StrategyKind::AbTesting,
            name: format!("A/B testing, {} of {interval}", count(n, "iteration")),
            weights: None,
            mirroring: None,
            session_affinity: false,
            skip_analysis: eff.skip_analysis,
        };
    }
    if n > 0 {
        let mirrored = eff.mirror && eff.mirror_applies();
        if !forced {
            out.reason(
                "spec.analysis.iterations",
                format!("{iterations_written} without analysis.match: Blue/Green, {} of the canary before live traffic switches", count(n, "check")),
            );
        }
        if mirrored {
            out.reason(
                "spec.analysis.mirror",
                format!(
                    "true on {}: live traffic is mirrored to the canary during the iterations",
                    provider.name
                ),
            );
        }
        return StrategyInfo {
            kind: if mirrored {
                StrategyKind::BlueGreenMirroring
            } else {
                StrategyKind::BlueGreen
            },
            name: format!(
                "Blue/Green, {} of {interval}{}",
                count(n, "iteration"),
                if mirrored {
                    " with traffic mirroring"
                } else {
                    ""
                }
            ),
            weights: None,
            mirroring: mirrored.then_some(Mirroring::EveryIteration),
            session_affinity: false,
            skip_analysis: eff.skip_analysis,
        };
    }
    out.reason(
        "spec.analysis.iterations",
        "not set: no Blue/Green or A/B testing, so progressive traffic shifting",
    );
    let max = eff.max_weight();
    let (weights, mut name) = if eff.step_weight > 0 {
        out.reason(
            "spec.analysis.stepWeight",
            format!(
                "{}: the canary weight rises by {} at each step",
                eff.step_weight, eff.step_weight
            ),
        );
        if eff.step_weights.is_empty() {
            out.reason(
                "spec.analysis.maxWeight",
                format!("{max}: promotion once the canary has at least {max}%"),
            );
        }
        (
            Some(WeightMode::StepWeight),
            format!(
                "Canary, +{}% every {interval} up to {max}%",
                eff.step_weight
            ),
        )
    } else if !eff.step_weights.is_empty() {
        out.reason(
            "spec.analysis.stepWeights",
            format!(
                "{}: the canary weight follows the list; promotion at min(100, last) = {max}",
                list_json(&eff.step_weights)
            ),
        );
        let sw = &eff.step_weights;
        let list: Vec<String> = if sw.len() > 6 {
            let mut l: Vec<String> = sw[..3].iter().map(|w| format!("{w}%")).collect();
            l.push("…".into());
            l.extend(sw.last().map(|w| format!("{w}%")));
            l
        } else {
            sw.iter().map(|w| format!("{w}%")).collect()
        };
        (
            Some(WeightMode::StepWeights),
            format!("Canary, {} every {interval}", list.join(" → ")),
        )
    } else {
        out.reason(
            "spec.analysis.stepWeight",
            "not set (nor stepWeights): the canary weight never rises",
        );
        out.note(
            NoteLevel::Blocker,
            "no iterations, stepWeight or stepWeights: the canary never gets traffic and is never promoted",
        );
        (None, "Canary that never advances".to_string())
    };
    let mirroring = (eff.mirror && eff.router == Router::Istio && !eff.has_match())
        .then_some(Mirroring::PreStage);
    if mirroring.is_some() {
        out.reason(
            "spec.analysis.mirror",
            "true on istio: one interval of mirrored traffic at 0% before the first weight",
        );
        name.push_str(", after one mirrored interval");
    }
    if eff.has_match() {
        out.reason(
            "spec.analysis.match",
            "set without iterations: not A/B testing; the weights apply to matching requests only",
        );
        out.note(
            NoteLevel::Warning,
            "analysis.match without iterations: the weighted split applies to matching requests; the others stay on the primary",
        );
    }
    if let Some(sa) = &eff.session_affinity {
        out.reason(
            "spec.analysis.sessionAffinity",
            format!(
                "cookieName {}: users once sent to the canary get that cookie and stay on the canary",
                sa.cookie_name
            ),
        );
        name.push_str(&format!(", sticky by cookie {}", sa.cookie_name));
    }
    let kind = if mirroring.is_some() {
        StrategyKind::CanaryMirroring
    } else if sa_on {
        StrategyKind::CanarySessionAffinity
    } else {
        match weights {
            Some(WeightMode::StepWeight) => StrategyKind::CanaryStepWeight,
            Some(WeightMode::StepWeights) => StrategyKind::CanaryStepWeights,
            None => StrategyKind::Canary,
        }
    };
    StrategyInfo {
        kind,
        name,
        weights,
        mirroring,
        session_affinity: sa_on,
        skip_analysis: eff.skip_analysis,
    }
}

/// `1 iteration`, `10 iterations`.
fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
