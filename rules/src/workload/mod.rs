//! CL3xx: the target workload, its ports and labels.

mod autoscaler_mismatch;
mod hook_url_port_mismatch;
mod hook_url_wrong_service;
mod port_discovery_name_clash;
mod port_name_protocol;
mod provider_requirement;
mod selector_label_missing;
mod service_name_conflict;
mod target_api_version;
mod target_not_found;
mod target_port_not_exposed;

pub use autoscaler_mismatch::AutoscalerMismatch;
pub use hook_url_port_mismatch::HookUrlPortMismatch;
pub use hook_url_wrong_service::HookUrlWrongService;
pub use port_discovery_name_clash::PortDiscoveryNameClash;
pub use port_name_protocol::PortNameProtocol;
pub use provider_requirement::ProviderRequirement;
pub use selector_label_missing::SelectorLabelMissing;
pub use service_name_conflict::ServiceNameConflict;
pub use target_api_version::TargetApiVersion;
pub use target_not_found::TargetNotFound;
pub use target_port_not_exposed::TargetPortNotExposed;

use canarylint::model::{CanaryView, Object, RefView};
use canarylint::{Cx, Kind, Lookup};

/// The inventory kind a `targetRef` points at, when canarylint knows it.
pub fn target_kind(target: &RefView<'_>) -> Option<Kind> {
    let kind = target.kind()?.value;
    let api = target.api_version().map_or("", |a| a.value);
    match kind {
        "Deployment" => Some(Kind::Deployment),
        "DaemonSet" => Some(Kind::DaemonSet),
        "Service" if api.starts_with("serving.knative.dev") => Some(Kind::KnativeService),
        _ => None,
    }
}

/// Looks the target workload up.
pub fn target<'a>(cx: &Cx<'a, '_>, canary: &CanaryView<'a>) -> Option<(Kind, &'a str, Lookup<'a>)> {
    let t = canary.target_ref()?;
    let kind = target_kind(&t)?;
    let name = t.name()?.value;
    Some((kind, name, cx.lookup(kind, cx.namespace(), name)))
}

/// The target when it is a Deployment or DaemonSet in the inventory.
pub fn found_workload<'a>(cx: &Cx<'a, '_>, canary: &CanaryView<'a>) -> Option<&'a Object> {
    match target(cx, canary)? {
        (Kind::Deployment | Kind::DaemonSet, _, Lookup::Found(o)) => Some(o),
        _ => None,
    }
}
