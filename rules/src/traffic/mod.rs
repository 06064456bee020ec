//! CL2xx: the traffic strategy.

mod analysis_strategy;
mod match_without_iterations;
mod mirror_unsupported;
mod mirror_with_step_weight;
mod routes_dropped_by_match;
mod session_affinity_misuse;
mod step_weight_exceeds_max_weight;
mod step_weights_not_increasing;
mod uneven_step;
mod weights_ignored;

pub use analysis_strategy::AnalysisStrategy;
pub use match_without_iterations::MatchWithoutIterations;
pub use mirror_unsupported::MirrorUnsupported;
pub use mirror_with_step_weight::MirrorWithStepWeight;
pub use routes_dropped_by_match::RoutesDroppedByMatch;
pub use session_affinity_misuse::SessionAffinityMisuse;
pub use step_weight_exceeds_max_weight::StepWeightExceedsMaxWeight;
pub use step_weights_not_increasing::StepWeightsNotIncreasing;
pub use uneven_step::UnevenStep;
pub use weights_ignored::WeightsIgnored;

/// Whether Flagger will never step weights for this Canary: the `kubernetes` provider has no
/// router, so pkg/controller/scheduler.go (`advanceCanary`) forces `iterations: 10`
/// ("Progressive traffic is not supported when using the kubernetes provider").
pub(crate) fn weights_unused(cx: &canarylint::Cx<'_, '_>) -> bool {
    cx.provider()
        .is_some_and(|p| p.router() == canarylint::Router::Kubernetes)
}
