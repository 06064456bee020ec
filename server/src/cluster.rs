//! The cluster cache: a watch per kind keeps the inventory current, so reviews never call the
//! API server. The kinds, their discovery and the conversion of objects are the workspace's
//! cluster source ([`canarylint_workspace::cluster`]), shared with `check --cluster`.
//!
//! Each watched kind is first discovered (the served version of its group: Istio serves
//! `v1` or `v1beta1`); a kind the cluster does not serve is *not installed* — not
//! authoritative, so reference rules report CL100 instead of denying — and is looked for again
//! every [`REDISCOVER`]. A served kind is listed (pending), then kept current from watch
//! events; a re-list swaps the kind's objects in at once, the old ones serving until then.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use canarylint::Kind;
use canarylint::model::Object;
use canarylint_workspace::cluster::{Discovered, WATCHED, Watched, convert, discover};
use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::Event;
use kube::runtime::{WatchStreamExt, watcher};

use crate::inventory::{KindState, SharedInventory};
use crate::metrics::Metrics;

/// How often a kind the cluster does not serve is looked for again.
pub const REDISCOVER: Duration = Duration::from_secs(120);

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
