//! The objects cross-resource rules look up, and which scopes the inventory can vouch for.
//!
//! Objects come in *bundles*, the units that are applied together: one file or stream, or the
//! files of one kustomization (the callers decide, see [`crate::bundle`]), plus the
//! [`Bundle::Context`] of objects that exist whatever is linted (`--context` files, a
//! cluster). An object is seen from its own bundle: an object of its own bundle first, then
//! of the context, then of any other bundle.
//!
//! A lookup answers `Absent` only where the evidence is whole: the inventory was declared
//! complete for the kind (a synced cluster cache, `--complete`), or the looking object's own
//! bundle, or the context, holds an object of that kind in that namespace. Objects whose
//! namespace was only assumed (no `metadata.namespace`, no `--namespace`) never vouch for a
//! namespace, and a namespace that was only assumed is never complete. An identity defined
//! twice, or a document that failed to parse and may be the object, makes the answer
//! `Unknown`: nothing is judged from a guess. [`View::unresolved`] says why.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::document::{BrokenDocument, Kind, ParsedFile};
use crate::model::{Location, Object};
use crate::tree::Str;

/// The unit of objects applied together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bundle {
    /// Objects that exist independently of what is linted: `--context` files, a cluster, the
    /// webhook's watched cache.
    #[default]
    Context,
    /// The objects of one input unit (a file, a stream, a kustomization).
    Input(u32),
}

/// The answer to "does this object exist?".
#[derive(Clone, Copy, Debug)]
pub enum Lookup<'a> {
    Found(&'a Object),
    /// The inventory is authoritative for the scope and has no such object.
    Absent,
    /// The inventory cannot tell (see [`View::unresolved`] for why).
    Unknown,
}

impl<'a> Lookup<'a> {
    pub fn found(self) -> Option<&'a Object> {
        match self {
            Lookup::Found(o) => Some(o),
            _ => None,
        }
    }
}

/// Why a lookup is `Unknown`.
#[derive(Clone, Debug)]
pub enum Unresolved<'a> {
    /// The identity is defined more than once, and the definitions are not one bundle's
    /// resolution of the other: judged from neither.
    Duplicate(Vec<&'a Object>),
    /// A document of the same bundle failed to parse and may be this object.
    Broken(&'a Broken),
    /// The namespace looked into was only assumed (no `metadata.namespace`, no
    /// `--namespace`).
    AssumedNamespace(&'a str),
    /// An object of this kind and name exists without a namespace of its own: it lands here
    /// only if applied to this namespace.
    NamespaceLess(&'a Object),
    /// Nothing says whether objects of this kind in this namespace are all known.
    NotCovered,
}

/// How complete the inventory is for a kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Coverage {
    /// Authoritative only where it holds objects of the kind.
    #[default]
    Partial,
    /// Authoritative for every namespace.
    All,
    /// Authoritative for these namespaces.
    Namespaces(HashSet<String>),
}

/// A document that failed to parse, as far as a scan of its lines tells.
#[derive(Clone, Debug, PartialEq)]
pub struct Broken {
    pub bundle: Bundle,
    /// `None` when the scan found no `apiVersion` and `kind`: it may be anything.
    pub kind: Option<Kind>,
    pub name: Option<String>,
    /// `None` when unknown or only assumed.
    pub namespace: Option<String>,
    /// Where its parse error (CL000) is.
    pub problem: Location,
}

impl Broken {
    fn may_be(&self, kind: Kind, namespace: &str) -> bool {
        self.kind.is_none_or(|k| k == kind)
            && self.namespace.as_deref().is_none_or(|n| n == namespace)
    }
}

/// Every object of one identity, in the order added (more than one only when defined twice);
/// never empty.
///
/// A slot is ordered and looked up by its objects' name, so that a set of slots needs no key
/// of its own: a map keyed by name would hold every name twice and every object inline in its
/// nodes, half of whose room is spare, and a webhook's cache holds tens of thousands.
#[derive(Clone, Debug)]
struct Slot(Vec<Object>);

impl Slot {
    fn new(object: Object) -> Slot {
        Slot(vec![object])
    }

    fn name(&self) -> &str {
        self.0.first().map_or("", |o| o.name.as_str())
    }

    fn iter(&self) -> impl Iterator<Item = &Object> {
        self.0.iter()
    }
}

impl Borrow<str> for Slot {
    fn borrow(&self) -> &str {
        self.name()
    }
}

impl PartialEq for Slot {
    fn eq(&self, other: &Slot) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Slot {}

impl PartialOrd for Slot {
    fn partial_cmp(&self, other: &Slot) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Slot {
    fn cmp(&self, other: &Slot) -> Ordering {
        self.name().cmp(other.name())
    }
}

/// The objects of one kind in one namespace, by name.
type ByName = BTreeSet<Slot>;

/// Objects by kind, namespace and name.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    objects: HashMap<Kind, BTreeMap<Box<str>, ByName>>,
    coverage: HashMap<Kind, Coverage>,
    /// The (kind, namespace) scopes each bundle holds objects in (namespaces assumed left out).
    held: HashMap<Bundle, HashSet<(Kind, Str)>>,
    /// Bundles that were not read whole: they vouch for nothing.
    partial: HashSet<Bundle>,
    broken: Vec<Broken>,
    /// Kinds that ever held an object whose namespace was assumed: a lookup by name across
    /// namespaces (`View::namespace_less`) is needed only for them, and it visits every
    /// namespace of the kind.
    assumed_kinds: HashSet<Kind>,
    /// Kept only by an inventory made with [`Inventory::by_file`].
    files: Option<Box<FileIndex>>,
}

/// What [`Inventory::remove_file`] needs to take a file's objects out in the time of that
/// file, not of the inventory.
#[derive(Clone, Debug, Default)]
struct FileIndex {
    /// The identities each file's objects were added under.
    identities: HashMap<Arc<str>, Vec<(Kind, Str, Str)>>,
    /// How many objects of a bundle are in each of its `held` scopes: a scope leaves `held`
    /// with its last object.
    held: HashMap<(Bundle, Kind, Str), usize>,
}

impl FileIndex {
    fn added(&mut self, o: &Object) {
        if let Some(origin) = &o.origin {
            self.identities
                .entry(origin.file.clone())
                .or_default()
                .push((o.kind, o.namespace.clone(), o.name.clone()));
        }
        if !o.namespace_assumed {
            *self
                .held
                .entry((o.bundle, o.kind, o.namespace.clone()))
                .or_default() += 1;
        }
    }

    /// Forgets an object's scope; true when it was the last of its bundle there.
    fn left_scope(&mut self, o: &Object) -> bool {
        if o.namespace_assumed {
            return false;
        }
        let key = (o.bundle, o.kind, o.namespace.clone());
        match self.held.get_mut(&key) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                self.held.remove(&key);
                true
            }
            None => false,
        }
    }
}

impl Inventory {
    pub fn new() -> Self {
        Inventory::default()
    }

    /// An inventory that also indexes its objects by file, so that
    /// [`Inventory::remove_file`] can take one file out (the language server patches its
    /// inventory so, one edited file at a time).
    pub fn by_file() -> Self {
        Inventory {
            files: Some(Box::default()),
            ..Inventory::default()
        }
    }

    /// Takes out every object and broken document read from the file `name` (their origin),
    /// and returns them; the scopes only they held no longer vouch for their namespaces.
    /// Only an inventory made with [`Inventory::by_file`] knows its files: another keeps
    /// everything.
    pub fn remove_file(&mut self, name: &str) -> (Vec<Object>, Vec<Broken>) {
        let mut removed = Vec::new();
        let from_file = |o: &Object| o.origin.as_ref().is_some_and(|l| &*l.file == name);
        let Some(index) = self.files.as_mut() else {
            return (removed, Vec::new());
        };
        if let Some(ids) = index.identities.remove(name) {
            for (kind, namespace, object_name) in ids {
                let Some(by_ns) = self.objects.get_mut(&kind) else {
                    continue;
                };
                let Some(by_name) = by_ns.get_mut(namespace.as_str()) else {
                    continue;
                };
                // A file that defines one identity twice lists it twice: the first visit
                // takes both.
                let Some(slot) = by_name.take(object_name.as_str()) else {
                    continue;
                };
                let (gone, kept): (Vec<Object>, Vec<Object>) =
                    slot.0.into_iter().partition(from_file);
                if !kept.is_empty() {
                    by_name.insert(Slot(kept));
                } else if by_name.is_empty() {
                    by_ns.remove(namespace.as_str());
                }
                for o in &gone {
                    if index.left_scope(o)
                        && let Some(scopes) = self.held.get_mut(&o.bundle)
                    {
                        scopes.remove(&(o.kind, o.namespace.clone()));
                    }
                }
                removed.extend(gone);
            }
        }
        let (broken, kept) = std::mem::take(&mut self.broken)
            .into_iter()
            .partition(|b| &*b.problem.file == name);
        self.broken = kept;
        (removed, broken)
    }

    /// Adds an object; one of the same identity and bundle is replaced (an update, as from a
    /// watch). Use [`Inventory::add`] for objects read from files, where two definitions are
    /// both kept.
    pub fn insert(&mut self, object: Object) {
        self.put(object, true);
    }

    /// Adds an object and keeps any other of the same identity: lookups then judge from
    /// neither.
    pub fn add(&mut self, object: Object) {
        self.put(object, false);
    }

    fn put(&mut self, object: Object, replace: bool) {
        if let Some(index) = self.files.as_mut() {
            index.added(&object);
        }
        if object.namespace_assumed {
            self.assumed_kinds.insert(object.kind);
        } else {
            self.held
                .entry(object.bundle)
                .or_default()
                .insert((object.kind, object.namespace.clone()));
        }
        let by_ns = self.objects.entry(object.kind).or_default();
        let by_name = match by_ns.get_mut(object.namespace.as_str()) {
            Some(by_name) => by_name,
            None => by_ns.entry(object.namespace.as_str().into()).or_default(),
        };
        // A set's members cannot be changed in place: the slot is taken out and put back.
        let Some(mut slot) = by_name.take(object.name.as_str()) else {
            by_name.insert(Slot::new(object));
            return;
        };
        let same = slot
            .0
            .iter_mut()
            .find(|o| replace && o.bundle == object.bundle);
        match same {
            Some(o) => {
                let old = std::mem::replace(o, object);
                by_name.insert(slot);
                if let Some(index) = self.files.as_mut()
                    && index.left_scope(&old)
                    && let Some(scopes) = self.held.get_mut(&old.bundle)
                {
                    scopes.remove(&(old.kind, old.namespace));
                }
            }
            None => {
                slot.0.push(object);
                by_name.insert(slot);
            }
        }
    }

    /// Removes every object of an identity; returns the first when there was one.
    pub fn remove(&mut self, kind: Kind, namespace: &str, name: &str) -> Option<Object> {
        let by_ns = self.objects.get_mut(&kind)?;
        let by_name = by_ns.get_mut(namespace)?;
        let removed = by_name.take(name);
        if by_name.is_empty() {
            by_ns.remove(namespace);
        }
        removed.and_then(|s| s.0.into_iter().next())
    }

    /// Empties one kind (before a cache re-lists it).
    pub fn clear_kind(&mut self, kind: Kind) {
        self.objects.remove(&kind);
    }

    /// Adds every object of a parsed file, and its broken documents. Objects without a
    /// namespace land in `default_namespace`, as `kubectl apply` would put them; `assumed`
    /// says that namespace is a guess.
    pub fn add_file(&mut self, file: &ParsedFile, default_namespace: &str, assumed: bool) {
        for obj in Inventory::objects_of(file, default_namespace, assumed) {
            self.add(obj);
        }
        for b in Inventory::broken_of(file, default_namespace, assumed) {
            self.add_broken(b);
        }
    }

    /// The inventory objects of a parsed file, in its bundle.
    pub fn objects_of(file: &ParsedFile, default_namespace: &str, assumed: bool) -> Vec<Object> {
        file.documents
            .iter()
            .filter(|doc| doc.kind != Kind::Other)
            .filter_map(|doc| {
                let mut o = Object::extract(
                    doc.kind,
                    &doc.root,
                    doc.namespace_or(default_namespace),
                    Some(&file.source),
                )?;
                o.bundle = file.bundle;
                o.namespace_assumed = assumed && doc.namespace.is_none();
                Some(o)
            })
            .collect()
    }

    /// The broken documents of a parsed file, for the inventory.
    pub fn broken_of(file: &ParsedFile, default_namespace: &str, assumed: bool) -> Vec<Broken> {
        file.broken
            .iter()
            .map(|b: &BrokenDocument| Broken {
                bundle: file.bundle,
                kind: b.kind,
                name: b.name.clone(),
                namespace: match &b.namespace {
                    Some(ns) => Some(ns.clone()),
                    None if assumed => None,
                    None => Some(default_namespace.to_string()),
                },
                problem: Location::new(&file.source, b.problem),
            })
            .collect()
    }

    /// Records a document that failed to parse.
    pub fn add_broken(&mut self, broken: Broken) {
        self.broken.push(broken);
    }

    /// Declares a bundle not read whole (a kustomization some of whose files are missing from
    /// the run, or that builds objects from elsewhere): it vouches for no namespace.
    pub fn set_partial(&mut self, bundle: Bundle) {
        self.partial.insert(bundle);
    }

    /// Declares how complete the inventory is for a kind.
    pub fn set_coverage(&mut self, kind: Kind, coverage: Coverage) {
        self.coverage.insert(kind, coverage);
    }

    pub fn coverage(&self, kind: Kind) -> &Coverage {
        static PARTIAL: Coverage = Coverage::Partial;
        self.coverage.get(&kind).unwrap_or(&PARTIAL)
    }

    /// The inventory as seen by no object in particular: the context bundle's, with no
    /// namespace assumed.
    pub fn view(&self) -> View<'_> {
        View {
            inventory: self,
            bundle: Bundle::Context,
            assumed: None,
        }
    }

    /// The inventory as seen by an object of `bundle`, whose own namespace was assumed to be
    /// `assumed` (when it was).
    pub fn view_from<'a>(&'a self, bundle: Bundle, assumed: Option<&'a str>) -> View<'a> {
        View {
            inventory: self,
            bundle,
            assumed,
        }
    }

    /// Whether a missing object of this kind in this namespace really is missing, seen from
    /// the context.
    pub fn is_authoritative(&self, kind: Kind, namespace: &str) -> bool {
        self.view().is_authoritative(kind, namespace)
    }

    /// Looks an object up, seen from the context.
    pub fn lookup(&self, kind: Kind, namespace: &str, name: &str) -> Lookup<'_> {
        self.view().lookup(kind, namespace, name)
    }

    fn slot(&self, kind: Kind, namespace: &str, name: &str) -> Option<&Slot> {
        self.objects
            .get(&kind)
            .and_then(|m| m.get(namespace))
            .and_then(|m| m.get(name))
    }

    fn vouches(&self, bundle: Bundle, kind: Kind, namespace: &str) -> bool {
        !self.partial.contains(&bundle)
            && self
                .held
                .get(&bundle)
                .is_some_and(|s| s.contains(&(kind, Str::from(namespace))))
    }

    /// Every object of a kind in a namespace, of every bundle.
    pub fn in_namespace(&self, kind: Kind, namespace: &str) -> impl Iterator<Item = &Object> {
        self.objects
            .get(&kind)
            .and_then(|m| m.get(namespace))
            .into_iter()
            .flat_map(|m| m.iter().flat_map(Slot::iter))
    }

    /// Every object of a kind.
    pub fn all(&self, kind: Kind) -> impl Iterator<Item = &Object> {
        self.objects
            .get(&kind)
            .into_iter()
            .flat_map(|m| m.values().flat_map(|n| n.iter().flat_map(Slot::iter)))
    }

    /// How many objects of a kind.
    pub fn count(&self, kind: Kind) -> usize {
        self.objects.get(&kind).map_or(0, |m| {
            m.values()
                .map(|n| n.iter().map(|s| s.0.len()).sum::<usize>())
                .sum()
        })
    }

    /// Names of a kind in a namespace, of every bundle.
    pub fn names(&self, kind: Kind, namespace: &str) -> Vec<&str> {
        self.view().names(kind, namespace)
    }
}

/// The inventory as one object sees it: its bundle decides what vouches for a namespace, and
/// which names are offered as "did you mean".
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    pub inventory: &'a Inventory,
    pub bundle: Bundle,
    /// The viewer's own namespace, when it was only assumed.
    pub assumed: Option<&'a str>,
}

impl<'a> View<'a> {
    /// Whether an object of this bundle with this namespace state is the same object the
    /// viewer would meet: one whose namespace was assumed meets only a viewer assumed into
    /// the same namespace (both are applied with the same `-n`).
    fn meets(&self, o: &Object) -> bool {
        !o.namespace_assumed || self.assumed == Some(o.namespace.as_str())
    }

    /// The single candidate, or the reason there is none.
    fn resolve(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
    ) -> Result<&'a Object, Unresolved<'a>> {
        let inv = self.inventory;
        let slot = inv.slot(kind, namespace, name);
        let candidates = |pick: &dyn Fn(&Object) -> bool| -> Vec<&'a Object> {
            slot.into_iter()
                .flat_map(Slot::iter)
                .filter(|o| self.meets(o) && pick(o))
                .collect()
        };
        let one = |found: Vec<&'a Object>| -> Option<Result<&'a Object, Unresolved<'a>>> {
            match found.len() {
                0 => None,
                1 => Some(Ok(found[0])),
                _ => Some(Err(Unresolved::Duplicate(found))),
            }
        };
        if let Some(r) = one(candidates(&|o| o.bundle == self.bundle)) {
            return r;
        }
        let own_broken = || inv.broken.iter().filter(|b| b.bundle == self.bundle);
        if let Some(b) =
            own_broken().find(|b| b.name.as_deref() == Some(name) && b.may_be(kind, namespace))
        {
            return Err(Unresolved::Broken(b));
        }
        if let Some(r) = one(candidates(&|o| o.bundle == Bundle::Context)) {
            return r;
        }
        if let Some(r) = one(candidates(&|_| true)) {
            return r;
        }
        if let Some(o) = self.namespace_less(kind, name) {
            return Err(Unresolved::NamespaceLess(o));
        }
        if let Some(b) = own_broken().find(|b| b.name.is_none() && b.may_be(kind, namespace)) {
            return Err(Unresolved::Broken(b));
        }
        if let Some(assumed) = self.assumed.filter(|a| *a == namespace) {
            return Err(Unresolved::AssumedNamespace(assumed));
        }
        Err(Unresolved::NotCovered)
    }

    /// An object with this kind and name but no namespace of its own, that the viewer does
    /// not meet: of its own bundle first (the same apply), else of any (a kustomize base
    /// whose overlay sets the namespace, a manifest applied with `-n`).
    fn namespace_less(&self, kind: Kind, name: &str) -> Option<&'a Object> {
        if !self.inventory.assumed_kinds.contains(&kind) {
            return None;
        }
        let candidates = || {
            self.inventory
                .objects
                .get(&kind)
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(|by_name| by_name.get(name))
                .flat_map(Slot::iter)
                .filter(|o| o.namespace_assumed && !self.meets(o))
        };
        candidates()
            .find(|o| o.bundle == self.bundle)
            .or_else(|| candidates().next())
    }

    /// Whether a missing object of this kind in this namespace really is missing.
    pub fn is_authoritative(&self, kind: Kind, namespace: &str) -> bool {
        if self.assumed == Some(namespace) {
            return false;
        }
        let inv = self.inventory;
        if inv
            .broken
            .iter()
            .any(|b| b.bundle == self.bundle && b.may_be(kind, namespace))
        {
            return false;
        }
        match inv.coverage(kind) {
            Coverage::All => return true,
            Coverage::Namespaces(set) if set.contains(namespace) => return true,
            _ => {}
        }
        inv.vouches(self.bundle, kind, namespace) || inv.vouches(Bundle::Context, kind, namespace)
    }

    pub fn lookup(&self, kind: Kind, namespace: &str, name: &str) -> Lookup<'a> {
        match self.resolve(kind, namespace, name) {
            Ok(o) => Lookup::Found(o),
            Err(Unresolved::NotCovered) if self.is_authoritative(kind, namespace) => Lookup::Absent,
            Err(_) => Lookup::Unknown,
        }
    }

    /// Why a lookup that is not `Found` is `Unknown` (`NotCovered` also when it is `Absent`).
    pub fn unresolved(&self, kind: Kind, namespace: &str, name: &str) -> Unresolved<'a> {
        match self.resolve(kind, namespace, name) {
            Ok(_) => Unresolved::NotCovered,
            Err(u) => u,
        }
    }

    /// Objects of a kind in a namespace that are applied with the viewer: those of its own
    /// bundle and of the context.
    pub fn in_namespace(&self, kind: Kind, namespace: &str) -> impl Iterator<Item = &'a Object> {
        let me = *self;
        self.inventory
            .in_namespace(kind, namespace)
            .filter(move |o| (o.bundle == me.bundle || o.bundle == Bundle::Context) && me.meets(o))
    }

    /// Names of a kind in a namespace that "did you mean" may offer: those of the viewer's
    /// own bundle and of the context, never another bundle's.
    pub fn names(&self, kind: Kind, namespace: &str) -> Vec<&'a str> {
        let mut names: Vec<&'a str> = self
            .in_namespace(kind, namespace)
            .map(|o| o.name.as_str())
            .collect();
        names.dedup();
        names
    }

    /// Every object of a kind, of every bundle.
    pub fn all(&self, kind: Kind) -> impl Iterator<Item = &'a Object> {
        self.inventory.all(kind)
    }

    pub fn coverage(&self, kind: Kind) -> &'a Coverage {
        self.inventory.coverage(kind)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::tree::Node;

    fn gateway(namespace: &str, name: &str, host: &str, bundle: Bundle) -> Object {
        let json = serde_json::json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "Gateway",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"servers": [{"port": {"number": 80, "protocol": "HTTP"}, "hosts": [host]}]},
        });
        let mut o =
            Object::extract(Kind::IstioGateway, &Node::from_json(&json), namespace, None).unwrap();
        o.bundle = bundle;
        o
    }

    fn host(o: &Object) -> &str {
        &o.as_istio_gateway().unwrap().servers[0].hosts[0]
    }

    #[test]
    fn objects_are_kept_by_identity_and_listed_by_name() {
        let mut inv = Inventory::new();
        for name in ["c", "a", "b"] {
            inv.insert(gateway("ns", name, "x", Bundle::Context));
        }
        inv.insert(gateway("other", "a", "x", Bundle::Context));
        let names: Vec<&str> = inv
            .in_namespace(Kind::IstioGateway, "ns")
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(inv.names(Kind::IstioGateway, "ns"), ["a", "b", "c"]);
        let all: Vec<(&str, &str)> = inv
            .all(Kind::IstioGateway)
            .map(|o| (o.namespace.as_str(), o.name.as_str()))
            .collect();
        assert_eq!(all, [("ns", "a"), ("ns", "b"), ("ns", "c"), ("other", "a")]);
        assert_eq!(inv.count(Kind::IstioGateway), 4);
        assert!(inv.lookup(Kind::IstioGateway, "ns", "b").found().is_some());
        assert!(matches!(
            inv.lookup(Kind::IstioGateway, "ns", "d"),
            Lookup::Absent
        ));
        assert!(matches!(
            inv.lookup(Kind::IstioGateway, "elsewhere", "a"),
            Lookup::Unknown
        ));
    }

    #[test]
    fn insert_replaces_its_own_bundle_and_add_keeps_both() {
        let mut inv = Inventory::new();
        inv.insert(gateway("ns", "gw", "old", Bundle::Context));
        inv.insert(gateway("ns", "gw", "new", Bundle::Context));
        assert_eq!(inv.count(Kind::IstioGateway), 1);
        let found = inv.lookup(Kind::IstioGateway, "ns", "gw").found().unwrap();
        assert_eq!(host(found), "new");

        // Another bundle's object of the same identity sits beside it; updating either
        // replaces only that one.
        inv.insert(gateway("ns", "gw", "input", Bundle::Input(1)));
        inv.insert(gateway("ns", "gw", "input2", Bundle::Input(1)));
        let hosts: Vec<&str> = inv
            .in_namespace(Kind::IstioGateway, "ns")
            .map(host)
            .collect();
        assert_eq!(hosts, ["new", "input2"]);
        let own = inv.view_from(Bundle::Input(1), None);
        assert_eq!(
            host(own.lookup(Kind::IstioGateway, "ns", "gw").found().unwrap()),
            "input2"
        );

        // Two definitions read from files are both kept, and judged from neither.
        inv.add(gateway("ns", "gw", "again", Bundle::Context));
        assert_eq!(inv.count(Kind::IstioGateway), 3);
        assert!(matches!(
            inv.view().unresolved(Kind::IstioGateway, "ns", "gw"),
            Unresolved::Duplicate(d) if d.len() == 2
        ));

        // Removing an identity removes every definition and gives back the first.
        let removed = inv.remove(Kind::IstioGateway, "ns", "gw").unwrap();
        assert_eq!(host(&removed), "new");
        assert_eq!(inv.count(Kind::IstioGateway), 0);
        assert!(inv.remove(Kind::IstioGateway, "ns", "gw").is_none());
        assert_eq!(inv.in_namespace(Kind::IstioGateway, "ns").count(), 0);
    }
}
