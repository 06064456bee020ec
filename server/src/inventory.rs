//! The inventory the reviews read: objects seeded from `--context` files, kept up to date from
//! the cluster's watches, and what is known about each kind's completeness.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use canarylint::model::Object;
use canarylint::{Budget, Coverage, Inventory, Kind, Node, SourceFile};

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
                let names: Vec<String> =
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

/// Converts an object received as JSON (from the cluster or a review) to an inventory object.
pub fn object_from_json(
    kind: Kind,
    json: &serde_json::Value,
    default_namespace: &str,
) -> Option<Object> {
    let namespace = json
        .pointer("/metadata/namespace")
        .and_then(serde_json::Value::as_str)
        .unwrap_or(default_namespace);
    Object::extract(kind, &Node::from_json(json), namespace, None)
}

/// The `--context` files read into a seed inventory.
pub struct Seed {
    pub inventory: Inventory,
    pub namespaces: HashMap<Kind, HashSet<String>>,
    pub files: usize,
}

/// Reads `--context` paths: files, or directories searched for `.yaml`, `.yml` and `.json`
/// (hidden entries skipped). Files a kustomization lists as patches are not objects; the
/// namespace a kustomization sets replaces the one written. Objects without a namespace land
/// in `default_namespace`; when that is `assumed`, they vouch for no namespace.
pub fn load_context(
    paths: &[PathBuf],
    default_namespace: &str,
    assumed: bool,
) -> Result<Seed, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            for entry in walkdir::WalkDir::new(p)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                })
            {
                let entry = entry.map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                if entry.file_type().is_file() && is_manifest(entry.path()) {
                    files.push(entry.into_path());
                }
            }
        } else if p.exists() {
            files.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    let keys: Vec<String> = files
        .iter()
        .map(|f| {
            std::fs::canonicalize(f)
                .unwrap_or_else(|_| f.clone())
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let layout = canarylint::bundle::discover(
        keys.iter().map(String::as_str),
        |dir| {
            canarylint::kustomize::FILE_NAMES
                .iter()
                .map(|n| Path::new(dir).join(n))
                .find(|p| p.is_file())
                .and_then(|p| std::fs::read_to_string(p).ok())
        },
        |dir| Path::new(dir).join(".git").exists(),
    );
    let mut inventory = Inventory::new();
    let mut namespaces: HashMap<Kind, HashSet<String>> = HashMap::new();
    for (f, key) in files.iter().zip(&keys) {
        if let Some(k) = layout.patch_of(key) {
            tracing::info!(file = %f.display(), kustomization = %k, "context file is a kustomize patch, not objects");
            continue;
        }
        let set_by_kustomization = layout.namespace_of(key);
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let name: Arc<str> = f.display().to_string().into();
        for chunk in chunks(&text, CHUNK_BYTES) {
            let parsed = canarylint::read(
                Arc::new(SourceFile::new(name.clone(), chunk)),
                &Budget::GENEROUS,
            );
            for problem in &parsed.problems {
                tracing::warn!(file = %f.display(), problem = %problem.message, "context file has a problem; its readable objects are still used");
            }
            for doc in parsed.documents.iter().filter(|d| d.kind != Kind::Other) {
                let written = set_by_kustomization.or(doc.namespace.as_deref());
                let namespace = written.unwrap_or(default_namespace);
                let namespace_assumed = written.is_none() && assumed;
                if doc.name.is_some() && !namespace_assumed {
                    namespaces
                        .entry(doc.kind)
                        .or_default()
                        .insert(namespace.to_string());
                }
                // No origin: a review never shows where a context object was read, and
                // positions in a chunk would not be the file's.
                if let Some(mut object) = Object::extract(doc.kind, &doc.root, namespace, None) {
                    object.namespace_assumed = namespace_assumed;
                    inventory.add(object);
                }
            }
        }
    }
    Ok(Seed {
        inventory,
        namespaces,
        files: files.len(),
    })
}

/// Context files are read this many bytes of documents at a time. A tree costs about ten
/// times its text: read whole, one large file (all the Deployments of a cluster) would make
/// the server's heap ten times that file for good, since the allocator keeps what it once
/// held; read in chunks, the heap holds the inventory and one chunk's tree.
const CHUNK_BYTES: usize = 256 * 1024;

/// Cuts a YAML stream into chunks of whole documents, at document markers (`---` at the
/// start of a line, which ends any scalar before it), of about `max` bytes each. A stream
/// with directives (`%YAML`, `%TAG`: they belong to the document after them) stays whole.
fn chunks(text: &str, max: usize) -> Vec<&str> {
    if text.len() <= max || text.lines().any(|l| l.starts_with('%')) {
        return vec![text];
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let marker = line.starts_with("---")
            && matches!(
                line.as_bytes().get(3),
                None | Some(b' ' | b'\t' | b'\n' | b'\r')
            );
        if marker && at - start >= max {
            out.push(&text[start..at]);
            start = at;
        }
        at += line.len();
    }
    out.push(&text[start..]);
    out
}

fn is_manifest(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: usize) -> String {
        let mut text = String::from("# a comment before the first document\n");
        for i in 0..n {
            text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\n  namespace: ns{}\n  annotations:\n    note: |\n      a block scalar\n      of two lines\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        ports:\n        - containerPort: {}\n",
                i % 7,
                8000 + i
            ));
        }
        text
    }

    #[test]
    fn chunks_cut_only_at_document_markers_and_lose_nothing() {
        let text = stream(3000);
        let parts = chunks(&text, 16 * 1024);
        assert!(parts.len() > 10, "{}", parts.len());
        assert_eq!(parts.concat(), text);
        assert!(parts[1..].iter().all(|p| p.starts_with("---\n")));
        assert_eq!(chunks("a: 1\n", 1), vec!["a: 1\n"]);
        let directive = format!("%YAML 1.1\n{text}");
        assert_eq!(chunks(&directive, 1024).len(), 1);
    }

    #[test]
    fn a_large_context_file_gives_the_objects_of_a_whole_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployments.yaml");
        let text = stream(3000);
        assert!(text.len() > 2 * CHUNK_BYTES);
        std::fs::write(&path, &text).unwrap();
        let seed = load_context(std::slice::from_ref(&path), "default", false).unwrap();
        let whole = canarylint::read(Arc::new(SourceFile::new("whole", text)), &Budget::GENEROUS);
        let mut expected = Inventory::new();
        expected.add_file(&whole, "default", false);
        assert_eq!(seed.inventory.count(Kind::Deployment), 3000);
        for i in [0, 1499, 2999] {
            let ns = format!("ns{}", i % 7);
            let name = format!("d{i}");
            let got = seed.inventory.lookup(Kind::Deployment, &ns, &name);
            let want = expected.lookup(Kind::Deployment, &ns, &name);
            let (got, want) = (got.found().unwrap(), want.found().unwrap());
            let ports = |o: &Object| format!("{:?}", o.as_workload().map(|w| &w.containers));
            assert_eq!(ports(got), ports(want));
        }
        assert_eq!(seed.namespaces[&Kind::Deployment].len(), 7);
    }

    #[test]
    fn context_patches_are_not_objects_and_assumed_namespaces_vouch_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("app")).unwrap();
        let deployment = |name: &str, replicas: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n{replicas}"
            )
        };
        std::fs::write(
            root.join("app/kustomization.yaml"),
            "namespace: test\nresources: [deployment.yaml]\npatches:\n  - path: patch.yaml\n",
        )
        .unwrap();
        std::fs::write(
            root.join("app/deployment.yaml"),
            deployment("podinfo", "  template:\n    spec:\n      containers:\n        - name: a\n          ports:\n            - containerPort: 9898\n"),
        )
        .unwrap();
        std::fs::write(
            root.join("app/patch.yaml"),
            deployment("podinfo", "  replicas: 3\n"),
        )
        .unwrap();
        std::fs::write(
            root.join("loose.yaml"),
            deployment("loadtester", "  replicas: 1\n"),
        )
        .unwrap();

        let seed = load_context(&[root.to_path_buf()], "default", true).unwrap();
        // One podinfo, the kustomization's, in its namespace: the patch is not a second one.
        let found = seed.inventory.lookup(Kind::Deployment, "test", "podinfo");
        let ports = found.found().unwrap().as_workload().unwrap().containers[0]
            .ports
            .len();
        assert_eq!(ports, 1);
        assert_eq!(seed.inventory.count(Kind::Deployment), 2);
        // The namespace-less load tester is only assumed to be in default: it vouches for
        // nothing there.
        assert_eq!(
            seed.namespaces[&Kind::Deployment],
            HashSet::from(["test".to_string()])
        );
        let given = load_context(&[root.to_path_buf()], "default", false).unwrap();
        assert_eq!(given.namespaces[&Kind::Deployment].len(), 2);
    }
}
