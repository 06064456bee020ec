//! The canarylint rules: one file per rule, grouped by area.
//!
//! Each rule declares its code, slug, severity and documentation with
//! [`canarylint::declare_rule!`], implements [`canarylint::Rule`], and carries its own pass and
//! fail cases. [`ALL`] is the registry, sorted by code.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod analysis;
pub mod helpers;
pub mod policy;
pub mod routing;
pub mod schema;
pub mod traffic;
pub mod workload;

#[cfg(test)]
mod test_support;

use canarylint::{Rule, RuleMeta};

/// Every rule, sorted by code.
pub static ALL: &[&dyn Rule] = &[
    &schema::ParseError,
    &schema::SchemaViolation,
    &schema::UnknownField,
    &schema::InvalidDuration,
    &schema::IntervalClamped,
    &schema::DuplicateTarget,
    &schema::DuplicateName,
    &schema::UnusedSuppression,
    &schema::RemovedApiVersion,
    &routing::UnresolvedReference,
    &routing::GatewayNotFound,
    &routing::HostNotInGateway,
    &routing::MeshGatewayOmitted,
    &routing::InvalidHost,
    &routing::DelegationWithHosts,
    &routing::HostsWithoutGateway,
    &routing::GatewayRefNotFound,
    &routing::HostnameNotInListener,
    &routing::RoutingFieldIgnored,
    &routing::VirtualserviceRejected,
    &routing::RouteNameConflict,
    &traffic::StepWeightExceedsMaxWeight,
    &traffic::MirrorWithStepWeight,
    &traffic::MirrorUnsupported,
    &traffic::WeightsIgnored,
    &traffic::StepWeightsNotIncreasing,
    &traffic::AnalysisStrategy,
    &traffic::UnevenStep,
    &traffic::MatchWithoutIterations,
    &traffic::SessionAffinityMisuse,
    &traffic::RoutesDroppedByMatch,
    &workload::TargetNotFound,
    &workload::TargetPortNotExposed,
    &workload::PortNameProtocol,
    &workload::HookUrlPortMismatch,
    &workload::SelectorLabelMissing,
    &workload::ServiceNameConflict,
    &workload::AutoscalerMismatch,
    &workload::TargetApiVersion,
    &workload::PortDiscoveryNameClash,
    &workload::ProviderRequirement,
    &workload::HookUrlWrongService,
    &analysis::UnknownBuiltinMetric,
    &analysis::MetricWithoutThreshold,
    &analysis::ThresholdRangeInvalid,
    &analysis::ReferenceNotFound,
    &analysis::NoTrafficForMetrics,
    &analysis::HookTimeoutExceedsInterval,
    &analysis::DeprecatedField,
    &analysis::BuiltinNameWithTemplate,
    &analysis::ThresholdDefaulted,
    &analysis::AlertWithoutSeverity,
    &analysis::EmptyHookCommand,
    &policy::TlsModeConflict,
    &policy::RetryOnInvalid,
];

/// Every rule's metadata, in registry order.
pub fn all_meta() -> Vec<&'static RuleMeta> {
    ALL.iter().map(|r| r.meta()).collect()
}

/// Finds a rule by code (`CL201`, any case) or slug.
pub fn find(code_or_slug: &str) -> Option<&'static RuleMeta> {
    ALL.iter()
        .map(|r| r.meta())
        .find(|m| m.code.eq_ignore_ascii_case(code_or_slug) || m.slug == code_or_slug)
}
