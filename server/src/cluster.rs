//! The cluster cache: a watch per kind keeps the inventory current, so reviews never call the
//! API server.
//!
//! Each watched kind is first discovered (the served version of its group: Istio serves
//! `v1` or `v1beta1`); a kind the cluster does not serve is *not installed* — not
//! authoritative, so reference rules report CL100 instead of denying — and is looked for again
//! every [`REDISCOVER`]. A served kind is listed (pending), then kept current from watch
//! events; a re-list swaps the kind's objects in at once, the old ones serving until then.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use canarylint::Kind;
use canarylint::model::Object;
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use kube::runtime::watcher::Event;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Config};

use crate::inventory::{KindState, SharedInventory, object_from_json};
use crate::metrics::Metrics;

/// How often a kind the cluster does not serve is looked for again.
pub const REDISCOVER: Duration = Duration::from_secs(120);

/// A kind the webhook watches.
#[derive(Clone, Copy, Debug)]
pub struct Watched {
    pub kind: Kind,
    pub group: &'static str,
    /// Versions to try, preferred first.
    pub versions: &'static [&'static str],
    pub kind_name: &'static str,
    /// The plural resource name (what RBAC rules name).
    pub resource: &'static str,
}

/// Every watched kind (the ClusterRole grants list and watch on exactly these).
pub const WATCHED: &[Watched] = &[
    Watched {
        kind: Kind::Canary,
        group: "flagger.app",
        versions: &["v1beta1"],
        kind_name: "Canary",
        resource: "canaries",
    },
    Watched {
        kind: Kind::MetricTemplate,
        group: "flagger.app",
        versions: &["v1beta1"],
        kind_name: "MetricTemplate",
        resource: "metrictemplates",
    },
    Watched {
        kind: Kind::AlertProvider,
        group: "flagger.app",
        versions: &["v1beta1"],
        kind_name: "AlertProvider",
        resource: "alertproviders",
    },
    Watched {
        kind: Kind::IstioGateway,
        group: "networking.istio.io",
        versions: &["v1", "v1beta1", "v1alpha3"],
        kind_name: "Gateway",
        resource: "gateways",
    },
    Watched {
        kind: Kind::GatewayApiGateway,
        group: "gateway.networking.k8s.io",
        versions: &["v1", "v1beta1"],
        kind_name: "Gateway",
        resource: "gateways",
    },
    Watched {
        kind: Kind::VirtualService,
        group: "networking.istio.io",
        versions: &["v1", "v1beta1", "v1alpha3"],
        kind_name: "VirtualService",
        resource: "virtualservices",
    },
    Watched {
        kind: Kind::HttpRoute,
        group: "gateway.networking.k8s.io",
        versions: &["v1", "v1beta1"],
        kind_name: "HTTPRoute",
        resource: "httproutes",
    },
    Watched {
        kind: Kind::PeerAuthentication,
        group: "security.istio.io",
        versions: &["v1", "v1beta1"],
        kind_name: "PeerAuthentication",
        resource: "peerauthentications",
    },
    Watched {
        kind: Kind::Deployment,
        group: "apps",
        versions: &["v1"],
        kind_name: "Deployment",
        resource: "deployments",
    },
    Watched {
        kind: Kind::DaemonSet,
        group: "apps",
        versions: &["v1"],
        kind_name: "DaemonSet",
        resource: "daemonsets",
    },
    Watched {
        kind: Kind::Service,
        group: "",
        versions: &["v1"],
        kind_name: "Service",
        resource: "services",
    },
    Watched {
        kind: Kind::HorizontalPodAutoscaler,
        group: "autoscaling",
        versions: &["v2", "v1"],
        kind_name: "HorizontalPodAutoscaler",
        resource: "horizontalpodautoscalers",
    },
    Watched {
        kind: Kind::ScaledObject,
        group: "keda.sh",
        versions: &["v1alpha1"],
        kind_name: "ScaledObject",
        resource: "scaledobjects",
    },
    Watched {
        kind: Kind::KnativeService,
        group: "serving.knative.dev",
        versions: &["v1"],
        kind_name: "Service",
        resource: "services",
    },
];

/// A client for `--kubeconfig`, or for the inferred configuration ($KUBECONFIG,
/// ~/.kube/config, in-cluster).
pub async fn client(kubeconfig: Option<&Path>) -> Result<Client, String> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| format!("cannot read kubeconfig {}: {e}", path.display()))?;
            Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .map_err(|e| format!("invalid kubeconfig {}: {e}", path.display()))?
        }
        None => Config::infer()
            .await
            .map_err(|e| format!("no cluster configuration found ({e}); pass --kubeconfig, or --no-cluster to run without a cluster"))?,
    };
    Client::try_from(config).map_err(|e| format!("cannot create a Kubernetes client: {e}"))
}

/// What the watches need to know.
#[derive(Clone)]
pub struct WatchSettings {
    /// `None`: the whole cluster.
    pub namespaces: Option<Vec<String>>,
    pub default_namespace: String,
}

/// Starts one task per watched kind; they run until aborted.
pub fn spawn(
    client: Client,
    inventory: Arc<SharedInventory>,
    settings: WatchSettings,
    metrics: Arc<Metrics>,
) -> Vec<tokio::task::JoinHandle<()>> {
    WATCHED
        .iter()
        .map(|w| {
            tokio::spawn(run_kind(
                client.clone(),
                *w,
                inventory.clone(),
                settings.clone(),
                metrics.clone(),
            ))
        })
        .collect()
}

enum Discovered {
    Served(ApiResource),
    NotServed,
}

async fn discover(client: &Client, w: &Watched) -> Result<Discovered, kube::Error> {
    for version in w.versions {
        let gvk = GroupVersionKind::gvk(w.group, version, w.kind_name);
        match kube::discovery::pinned_kind(client, &gvk).await {
            Ok((ar, _)) => return Ok(Discovered::Served(ar)),
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(kube::Error::Discovery(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Discovered::NotServed)
}

async fn run_kind(
    client: Client,
    w: Watched,
    inventory: Arc<SharedInventory>,
    settings: WatchSettings,
    metrics: Arc<Metrics>,
) {
    let label = format!("{:?}", w.kind);
    let mut backoff = Duration::from_secs(1);
    let ar = loop {
        match discover(&client, &w).await {
            Ok(Discovered::Served(ar)) => break ar,
            Ok(Discovered::NotServed) => {
                if inventory.state(w.kind) != Some(KindState::NotInstalled) {
                    tracing::info!(kind = %label, group = w.group, "the cluster does not serve this kind; references to it stay unresolved (CL100)");
                }
                inventory.set_state(w.kind, KindState::NotInstalled);
                tokio::time::sleep(REDISCOVER).await;
            }
            Err(e) => {
                metrics.watch_error(&label);
                tracing::warn!(kind = %label, error = %e, "discovery failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    };
    // A kind installed after start must not take a ready server out of service.
    let state = match inventory.state(w.kind) {
        Some(KindState::NotInstalled) => KindState::Listing,
        _ => KindState::Pending,
    };
    inventory.set_state(w.kind, state);
    tracing::info!(kind = %label, api_version = %ar.api_version, "watching");
    let scopes: Vec<Option<String>> = match &settings.namespaces {
        None => vec![None],
        Some(list) => list.iter().cloned().map(Some).collect(),
    };
    let remaining = Arc::new(AtomicUsize::new(scopes.len()));
    let watches = scopes.into_iter().map(|scope| {
        let api: Api<DynamicObject> = match &scope {
            None => Api::all_with(client.clone(), &ar),
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        };
        watch_scope(
            api,
            w.kind,
            scope,
            inventory.clone(),
            remaining.clone(),
            settings.clone(),
            metrics.clone(),
        )
    });
    futures::future::join_all(watches).await;
}

async fn watch_scope(
    api: Api<DynamicObject>,
    kind: Kind,
    scope: Option<String>,
    inventory: Arc<SharedInventory>,
    remaining: Arc<AtomicUsize>,
    settings: WatchSettings,
    metrics: Arc<Metrics>,
) {
    let label = format!("{kind:?}");
    let ns = settings.default_namespace.as_str();
    let stream = watcher(api, watcher::Config::default().any_semantic()).backoff(watch_backoff());
    let mut stream = std::pin::pin!(stream);
    let mut buffer: Vec<Object> = Vec::new();
    let mut synced = false;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => buffer.clear(),
            Ok(Event::InitApply(o)) => buffer.extend(convert(kind, o, ns)),
            Ok(Event::InitDone) => {
                inventory.replace(kind, scope.as_deref(), std::mem::take(&mut buffer));
                if !synced {
                    synced = true;
                    if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                        inventory.mark_synced(kind, settings.namespaces.as_deref());
                        tracing::info!(kind = %label, objects = inventory.read().count(kind), "inventory synced");
                    }
                }
            }
            Ok(Event::Apply(o)) => {
                if let Some(obj) = convert(kind, o, ns) {
                    inventory.apply(obj);
                }
            }
            Ok(Event::Delete(o)) => {
                if let Some(name) = &o.metadata.name {
                    inventory.delete(kind, o.metadata.namespace.as_deref().unwrap_or(ns), name);
                }
            }
            Err(e) => {
                metrics.watch_error(&label);
                tracing::warn!(kind = %label, error = %e, "watch failed; retrying with backoff");
            }
        }
    }
}

/// Retries of a failed watch: 200 ms doubling to at most [`WATCH_BACKOFF_MAX`], with jitter,
/// back to 200 ms once the watch has run for a minute without error.
///
/// kube's default (800 ms doubling to 30 s, reset after two minutes) left the inventory stale
/// for over ten seconds after a restart of the API server: the watches fail while it is down,
/// then get `410 Expired` (a restarted API server starts its watch cache afresh), each failure
/// doubling the wait before the re-list that brings deletions made meanwhile. Every review
/// in that time is decided on the old state; a dozen watches retrying every few seconds cost
/// the API server nothing.
pub const WATCH_BACKOFF_MAX: Duration = Duration::from_secs(3);

fn watch_backoff() -> impl kube::runtime::utils::Backoff {
    let exponential = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(WATCH_BACKOFF_MAX)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times();
    kube::runtime::utils::ResetTimerBackoff::new(
        watcher::ExponentialBackoff::from(exponential),
        Duration::from_secs(60),
    )
}

/// The facts rules need of a cluster object; managed fields dropped first.
fn convert(kind: Kind, mut o: DynamicObject, default_namespace: &str) -> Option<Object> {
    o.metadata.managed_fields = None;
    let json = serde_json::to_value(&o).ok()?;
    object_from_json(kind, &json, default_namespace)
}

/// A client for a kubeconfig context (`None`: the current one), as `canarylint check
/// --cluster` uses it.
pub async fn client_for_context(context: Option<&str>) -> Result<Client, String> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let config = match context {
        None => Config::infer()
            .await
            .map_err(|e| format!("no cluster configuration found: {e}"))?,
        Some(name) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| format!("cannot use kubeconfig context {name}: {e}"))?,
    };
    Client::try_from(config).map_err(|e| format!("cannot create a Kubernetes client: {e}"))
}

/// Lists every watched kind once into an inventory (the one-shot counterpart of the webhook's
/// watches, for the CLI). A listed kind covers every namespace (or the given ones); a kind the
/// cluster does not serve, or may not be listed, stays not authoritative.
pub async fn list_once(
    client: &Client,
    namespaces: Option<&[String]>,
    default_namespace: &str,
) -> Result<(canarylint::Inventory, Vec<String>), String> {
    use canarylint::Coverage;
    let mut inventory = canarylint::Inventory::new();
    let mut notes = Vec::new();
    for w in WATCHED {
        let ar = match discover(client, w).await {
            Ok(Discovered::Served(ar)) => ar,
            Ok(Discovered::NotServed) => continue,
            Err(e) => return Err(format!("cannot reach the cluster: {e}")),
        };
        let scopes: Vec<Option<&str>> = match namespaces {
            None => vec![None],
            Some(list) => list.iter().map(|n| Some(n.as_str())).collect(),
        };
        let mut complete = true;
        for scope in scopes {
            let api: Api<DynamicObject> = match scope {
                None => Api::all_with(client.clone(), &ar),
                Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            };
            match api.list(&Default::default()).await {
                Ok(list) => {
                    for obj in list.items {
                        let json = serde_json::to_value(&obj).unwrap_or_default();
                        if let Some(o) = object_from_json(w.kind, &json, default_namespace) {
                            inventory.insert(o);
                        }
                    }
                }
                Err(kube::Error::Api(s)) if s.code == 403 || s.code == 404 => {
                    complete = false;
                    notes.push(format!("{} {}: {}", w.kind_name, w.group, s.message));
                }
                Err(e) => return Err(format!("cannot list {} ({}): {e}", w.resource, w.group)),
            }
        }
        if complete {
            let coverage = match namespaces {
                None => Coverage::All,
                Some(list) => Coverage::Namespaces(list.iter().cloned().collect()),
            };
            inventory.set_coverage(w.kind, coverage);
        }
    }
    Ok((inventory, notes))
}
