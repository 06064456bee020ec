//! What Flagger will do with a Canary, before it does it: the model behind `canarylint plan`.
//!
//! [`plan`] resolves a Canary the way Flagger's controller reads it (every default and silent
//! rewrite named), replays the scheduler one run at a time on the shortest path (every check
//! passes, every gate approves), and builds the objects Flagger generates. The result is a
//! [`Plan`]: plain data, serializable (`--format json`); the doors that show it to people
//! (the CLI's timeline and YAML, the LSP hover) render it themselves.
//!
//! Ground truth: Flagger's scheduler (`pkg/controller/scheduler.go`), its routers
//! (`pkg/router/istio.go`, `gateway_api.go`, `kubernetes_default.go`) and its defaults
//! (`pkg/apis/flagger/v1beta1/canary.go`).
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod duration;
mod generate;
mod resolve;
mod timeline;

#[cfg(test)]
mod tests;

use serde::Serialize;

use canarylint::context::Settings;
use canarylint::inventory::View;
use canarylint::model::CanaryView;

/// Everything `canarylint plan` shows about one Canary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub canary: CanaryId,
    pub provider: ProviderInfo,
    pub strategy: StrategyInfo,
    /// The fields that decided the strategy, and how.
    pub reasons: Vec<Reason>,
    /// The effective `analysis.interval`: the time between two scheduler runs.
    pub interval_seconds: u64,
    /// The effective `analysis.threshold`: failed checks that trigger a rollback.
    pub threshold: u64,
    /// One entry per scheduler run, from the run that detects a new revision to the run that
    /// finishes the promotion (or to the run that repeats forever, see `stalls_at_step`).
    pub steps: Vec<Step>,
    /// From the run that detects a new revision to the run that copies the canary over the
    /// primary, when every check passes and every gate approves. `None` when it never happens.
    pub promotion_after_seconds: Option<u64>,
    /// To the run that scales the canary down and marks the rollout Succeeded.
    pub completed_after_seconds: Option<u64>,
    /// `threshold × interval`: from the first failed check to the rollback when every later
    /// check fails too.
    pub rollback_after_seconds: u64,
    /// The step that repeats without end when Flagger never advances.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stalls_at_step: Option<usize>,
    pub defaults_applied: Vec<DefaultApplied>,
    /// The metric checks every analysis run makes.
    pub metrics: Vec<MetricPlan>,
    /// Hooks that fire on conditions rather than at a fixed step.
    pub conditional_hooks: Vec<ConditionalHook>,
    /// The step whose traffic split the generated routing objects show.
    pub routes_at_step: usize,
    pub generated: Vec<GeneratedObject>,
    /// Assumptions, warnings, and problems that stop Flagger.
    pub notes: Vec<Note>,
}

impl Plan {
    /// The plan as pretty-printed JSON (`--format json`), fields in declaration order.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The step the routes are shown at.
    pub fn routes_step(&self) -> Option<&Step> {
        self.steps.get(self.routes_at_step)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CanaryId {
    pub namespace: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    /// As Flagger will use it (`istio`, `gatewayapi:v1`, `kubernetes`, …).
    pub name: String,
    /// Where it came from: `spec.provider`, `inferred from service.gatewayRefs`,
    /// `configured default`, or `Flagger's default`.
    pub source: String,
}

/// Flagger's three code paths (canary, Blue/Green, A/B testing) with their variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// Progressive canary with nothing that ever raises the weight.
    Canary,
    CanaryStepWeight,
    CanaryStepWeights,
    /// A progressive canary with one interval of mirroring at weight 0 first.
    CanaryMirroring,
    CanarySessionAffinity,
    BlueGreen,
    BlueGreenMirroring,
    AbTesting,
}

/// How the canary weight rises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightMode {
    StepWeight,
    StepWeights,
}

/// When traffic is mirrored to the canary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mirroring {
    /// One interval before the first weight (progressive canary, Istio).
    PreStage,
    /// During every iteration (Blue/Green).
    EveryIteration,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StrategyInfo {
    pub kind: StrategyKind,
    /// A short human name: `Canary, +10% every 1m up to 50%`.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirroring: Option<Mirroring>,
    pub session_affinity: bool,
    pub skip_analysis: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub field: String,
    pub text: String,
}

/// A value Flagger fills in or rewrites without saying so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefaultApplied {
    /// The field's path (`spec.analysis.interval`).
    pub field: String,
    /// The value Flagger uses.
    pub value: String,
    pub reason: String,
}

/// What a scheduler run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// A new revision is seen: confirm-rollout gates, the canary is scaled up.
    Detect,
    /// Pre-rollout hooks instead of an analysis (weight 0, no iterations, no mirror yet).
    Start,
    /// Rollout hooks and metric checks, then the next weight or iteration.
    Analysis,
    /// The last analysis, the confirm-promotion gate, and the copy of the canary over the primary.
    Promote,
    /// Traffic back to the primary (at once, or by `stepWeightPromotion`).
    PromotionStep,
    /// The canary is scaled to zero; post-rollout hooks.
    Finalise,
    /// `skipAnalysis: true`: promotion without checks.
    Skip,
}

/// One scheduler run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// 0 for the run that detects the new revision.
    pub index: usize,
    /// `index × interval`.
    pub at_seconds: u64,
    pub stage: Stage,
    /// Percent of live traffic routed to the canary from this run on. For A/B testing: of the
    /// requests that match `analysis.match`.
    pub weight: u32,
    pub primary_weight: u32,
    /// Whether the canary receives a mirrored copy of the primary's traffic from this run on.
    pub mirrored: bool,
    /// Percent of requests mirrored, when mirrored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror_weight: Option<u32>,
    /// Webhooks called in this run, in order.
    pub hooks: Vec<HookCall>,
    /// Metric checks made in this run (they look back over their own interval).
    pub metrics: Vec<MetricCheck>,
    /// What Flagger does in this run.
    pub action: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HookCall {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetricCheck {
    pub name: String,
    /// The window the query looks back over.
    pub interval: String,
}

/// How a metric is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricKind {
    /// `request-success-rate` or `request-duration`, queried by Flagger itself.
    Builtin,
    /// Builtin name and a templateRef or query: both checks run.
    BuiltinAndCustom,
    Template,
    Query,
    /// Neither builtin nor templateRef nor query: fails every check.
    Unusable,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricPlan {
    pub name: String,
    pub kind: MetricKind,
    /// `namespace/name` of the MetricTemplate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    pub interval: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConditionalHook {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub when: String,
}

/// An object Flagger creates or takes over.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GeneratedObject {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// One line: ports, selector, hosts, weights.
    pub summary: String,
    /// The object as Flagger writes it; `None` when it is a copy of an object we cannot see
    /// (the primary workload, the primary autoscaler).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Manifest>,
}

/// A generated object's body. Serializes with sorted keys whatever `serde_json`'s map is, so
/// output is stable.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest(pub serde_json::Value);

impl Serialize for Manifest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Sorted(&self.0).serialize(serializer)
    }
}

struct Sorted<'a>(&'a serde_json::Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut m = serializer.serialize_map(Some(keys.len()))?;
                for k in keys {
                    if let Some(v) = map.get(k) {
                        m.serialize_entry(k, &Sorted(v))?;
                    }
                }
                m.end()
            }
            serde_json::Value::Array(items) => {
                let mut s = serializer.serialize_seq(Some(items.len()))?;
                for v in items {
                    s.serialize_element(&Sorted(v))?;
                }
                s.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteLevel {
    Info,
    /// Something the plan had to guess.
    Assumption,
    /// Flagger will do it, but probably not what was meant.
    Warning,
    /// Flagger will not get through the rollout.
    Blocker,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    pub level: NoteLevel,
    pub text: String,
}

/// Plans a Canary. `inventory` lets the plan read the target workload (selector label,
/// container ports); without it, the label is assumed to be the first of
/// `settings.selector_labels` with the target's name as value.
pub fn plan(canary: &CanaryView<'_>, settings: &Settings, inventory: Option<View<'_>>) -> Plan {
    let resolved = resolve::resolve(canary, settings, inventory);
    let timeline = timeline::simulate(&resolved.eff);
    let mut notes = resolved.notes;
    notes.extend(timeline.notes.iter().cloned());
    let routes_at_step = timeline.routes_at_step;
    let generated = generate::generate(
        &resolved.eff,
        timeline.steps.get(routes_at_step),
        &mut notes,
    );
    // Blockers first, then warnings, assumptions, information; stable within a level.
    notes.sort_by_key(|n| std::cmp::Reverse(n.level));
    let eff = &resolved.eff;
    Plan {
        canary: CanaryId {
            namespace: eff.namespace.clone(),
            name: eff.name.clone(),
        },
        provider: resolved.provider,
        strategy: resolved.strategy,
        reasons: resolved.reasons,
        interval_seconds: duration::whole_seconds(eff.interval),
        threshold: eff.threshold.max(0) as u64,
        steps: timeline.steps,
        promotion_after_seconds: timeline.promotion_after_seconds,
        completed_after_seconds: timeline.completed_after_seconds,
        rollback_after_seconds: duration::whole_seconds(eff.threshold as f64 * eff.interval),
        stalls_at_step: timeline.stalls_at_step,
        defaults_applied: resolved.defaults,
        metrics: eff.metrics.clone(),
        conditional_hooks: resolved.conditional_hooks,
        routes_at_step,
        generated,
        notes,
    }
}
