//! The inventory the reviews read: objects seeded from `--context` files, kept up to date from
//! the cluster's watches, and what is known about each kind's completeness.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use canarylint::model::Object;
use canarylint::{Coverage, Inventory, Kind};

/// Where a kind of the inventory stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindState {
    /// Not watched (no cluster): only `--context` objects, complete where they appear.
    Static,
    /// Being discovered or listed at start: not authoritative yet, and the server not ready.
    Pending,
    /// Installed after start (its CRD appeared later) and being listed: not authoritative yet,
    /// but never a reason to stop being ready.
    Listing,
    /// The first list completed; watch events keep it current.
    Synced,
    /// The cluster does not serve the kind (its CRD is not installed).
    NotInstalled,
}

impl KindState {
    pub fn as_str(self) -> &'static str {
        match self {
            KindState::Static => "static",
            KindState::Pending => "pending",
            KindState::Listing => "listing",
            KindState::Synced => "synced",
            KindState::NotInstalled => "not_installed",
        }
    }
}

/// The inventory shared by the reviews (readers) and the watches (writers).
///
/// A review holds the read lock only while it lints; a watch event holds the write lock only
/// while it applies one object (or swaps a re-listed kind in).
pub struct SharedInventory {
    inventory: RwLock<Inventory>,
    /// The `--context` objects, restored when a cluster object of the same name goes away.
    /// Copied from the inventory only once a cluster feeds it: without one, nothing is ever
    /// removed, and a second copy would double the memory of a large inventory.
    seed: OnceLock<Inventory>,
    /// Namespaces each kind was seeded in.
    seed_namespaces: HashMap<Kind, HashSet<String>>,
    states: RwLock<BTreeMap<Kind, KindState>>,
    /// Whether a cluster feeds the inventory.
    cluster: AtomicBool,
}

impl SharedInventory {
    /// An inventory of seed objects only (no cluster).
    pub fn new(seed: Inventory, seed_namespaces: HashMap<Kind, HashSet<String>>) -> Self {
        let mut inventory = seed;
        let mut states = BTreeMap::new();
        for (kind, namespaces) in &seed_namespaces {
            inventory.set_coverage(*kind, Coverage::Namespaces(namespaces.clone()));
            states.insert(*kind, KindState::Static);
        }
        SharedInventory {
            inventory: RwLock::new(inventory),
            seed: OnceLock::new(),
            seed_namespaces,
            states: RwLock::new(states),
            cluster: AtomicBool::new(false),
        }
    }

    /// Marks `kinds` as fed by a cluster: pending until their first list completes.
    pub fn expect_cluster(&self, kinds: impl IntoIterator<Item = Kind>) {
        // Before any watch event: the inventory holds the seed objects only.
        self.seed.get_or_init(|| self.read().clone());
        self.cluster.store(true, Ordering::Release);
        let mut states = self.states.write().unwrap_or_else(|e| e.into_inner());
        for k in kinds {
            states.insert(k, KindState::Pending);
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Inventory> {
        // A panic while holding the lock leaves a consistent map (every write is one call).
        self.inventory.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inventory> {
        self.inventory.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The seed objects (none before [`SharedInventory::expect_cluster`]: no watch runs).
    fn seed(&self) -> &Inventory {
        static EMPTY: OnceLock<Inventory> = OnceLock::new();
        self.seed
            .get()
            .unwrap_or_else(|| EMPTY.get_or_init(Inventory::new))
    }

    pub fn has_cluster(&self) -> bool {
        self.cluster.load(Ordering::Acquire)
    }

    pub fn state(&self, kind: Kind) -> Option<KindState> {
        self.states
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&kind)
            .copied()
    }

    pub fn states(&self) -> Vec<(Kind, KindState)> {
        self.states
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, s)| (*k, *s))
            .collect()
    }

    /// Kinds still waiting for their first list since the start.
    pub fn pending(&self) -> Vec<Kind> {
        self.states()
            .into_iter()
            .filter(|(_, s)| *s == KindState::Pending)
            .map(|(k, _)| k)
            .collect()
    }

    pub fn set_state(&self, kind: Kind, state: KindState) {
        self.states
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(kind, state);
    }

    /// An object was added or changed in the cluster.
    pub fn apply(&self, object: Object) {
        self.write().insert(object);
    }

    /// An object was deleted from the cluster; a seed object of the same name comes back.
    pub fn delete(&self, kind: Kind, namespace: &str, name: &str) {
        let mut inv = self.write();
        inv.remove(kind, namespace, name);
        if let Some(seed) = self.seed().lookup(kind, namespace, name).found() {
            inv.insert(seed.clone());
        }
    }

    /// A watch (re-)listed a kind in a scope (one namespace, or all when `None`): replaces the
    /// kind's objects of that scope with `objects`, seed objects kept under them.
    pub fn replace(&self, kind: Kind, scope: Option<&str>, objects: Vec<Object>) {
        let mut inv = self.write();
        match scope {
            None => inv.clear_kind(kind),
            Some(ns) => {
                let names: Vec<canarylint::Str> =
                    inv.in_namespace(kind, ns).map(|o| o.name.clone()).collect();
                for n in names {
                    inv.remove(kind, ns, &n);
                }
            }
        }
        for seed in self.seed().all(kind) {
            if scope.is_none_or(|ns| ns == seed.namespace) {
                inv.insert(seed.clone());
            }
        }
        for o in objects {
            inv.insert(o);
        }
    }

    /// The first list of a kind completed in every watched scope.
    pub fn mark_synced(&self, kind: Kind, watched: Option<&[String]>) {
        let coverage = match watched {
            None => Coverage::All,
            Some(namespaces) => {
                let mut set: HashSet<String> = namespaces.iter().cloned().collect();
                if let Some(seeded) = self.seed_namespaces.get(&kind) {
                    set.extend(seeded.iter().cloned());
                }
                Coverage::Namespaces(set)
            }
        };
        self.write().set_coverage(kind, coverage);
        self.set_state(kind, KindState::Synced);
    }

    /// Objects by kind, for the metrics.
    pub fn counts(&self) -> Vec<(Kind, KindState, usize)> {
        let states = self.states();
        let inv = self.read();
        states
            .into_iter()
            .map(|(k, s)| (k, s, inv.count(k)))
            .collect()
    }
}
