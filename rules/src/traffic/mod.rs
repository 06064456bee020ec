//! CL2xx: the traffic strategy.

mod analysis_strategy;
mod mirror_with_step_weight;
mod step_weight_exceeds_max_weight;
mod step_weights_not_increasing;
mod weights_ignored;

pub use analysis_strategy::AnalysisStrategy;
pub use mirror_with_step_weight::MirrorWithStepWeight;
pub use step_weight_exceeds_max_weight::StepWeightExceedsMaxWeight;
pub use step_weights_not_increasing::StepWeightsNotIncreasing;
pub use weights_ignored::WeightsIgnored;

