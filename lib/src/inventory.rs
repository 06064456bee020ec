//! The objects cross-resource rules look up, and which scopes the inventory can vouch for.
//!
//! An inventory is *authoritative* for a (kind, namespace) when it holds at least one object of
//! that kind there, or when it was declared complete (a synced cluster cache, `--context` files
//! declared complete). A lookup into any other scope is `Unknown`, never `Absent`.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::document::{Kind, ParsedFile};
use crate::model::Object;

/// The answer to "does this object exist?".
#[derive(Clone, Copy, Debug)]
pub enum Lookup<'a> {
    Found(&'a Object),
    /// The inventory is authoritative for the scope and has no such object.
    Absent,
    /// The inventory cannot tell.
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

/// Objects by kind, namespace and name.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    objects: HashMap<Kind, BTreeMap<String, BTreeMap<String, Object>>>,
    coverage: HashMap<Kind, Coverage>,
}

impl Inventory {
    pub fn new() -> Self {
        Inventory::default()
    }

    /// Adds (or replaces) an object.
    pub fn insert(&mut self, object: Object) {
        self.objects
            .entry(object.kind)
            .or_default()
            .entry(object.namespace.clone())
            .or_default()
            .insert(object.name.clone(), object);
    }

    /// Removes an object; returns it when it was there.
    pub fn remove(&mut self, kind: Kind, namespace: &str, name: &str) -> Option<Object> {
        let by_ns = self.objects.get_mut(&kind)?;
        let by_name = by_ns.get_mut(namespace)?;
        let removed = by_name.remove(name);
        if by_name.is_empty() {
            by_ns.remove(namespace);
        }
        removed
    }

    /// Empties one kind (before a cache re-lists it).
    pub fn clear_kind(&mut self, kind: Kind) {
        self.objects.remove(&kind);
    }

    /// Adds every object of a parsed file. Objects without a namespace land in
    /// `default_namespace`, as `kubectl apply` would put them.
    pub fn add_file(&mut self, file: &ParsedFile, default_namespace: &str) {
        for obj in Inventory::objects_of(file, default_namespace) {
            self.insert(obj);
        }
    }

    /// The inventory objects of a parsed file.
    pub fn objects_of(file: &ParsedFile, default_namespace: &str) -> Vec<Object> {
        file.documents
            .iter()
            .filter(|doc| doc.kind != Kind::Other)
            .filter_map(|doc| {
                Object::extract(
                    doc.kind,
                    &doc.root,
                    doc.namespace_or(default_namespace),
                    Some(&file.source),
                )
            })
            .collect()
    }

    /// Declares how complete the inventory is for a kind.
    pub fn set_coverage(&mut self, kind: Kind, coverage: Coverage) {
        self.coverage.insert(kind, coverage);
    }

    pub fn coverage(&self, kind: Kind) -> &Coverage {
        static PARTIAL: Coverage = Coverage::Partial;
        self.coverage.get(&kind).unwrap_or(&PARTIAL)
    }

    /// Whether a missing object of this kind in this namespace really is missing.
    pub fn is_authoritative(&self, kind: Kind, namespace: &str) -> bool {
        match self.coverage(kind) {
            Coverage::All => true,
            Coverage::Namespaces(set) if set.contains(namespace) => true,
            _ => self
                .objects
                .get(&kind)
                .and_then(|m| m.get(namespace))
                .is_some_and(|m| !m.is_empty()),
        }
    }

    pub fn lookup(&self, kind: Kind, namespace: &str, name: &str) -> Lookup<'_> {
        if let Some(o) = self
            .objects
            .get(&kind)
            .and_then(|m| m.get(namespace))
            .and_then(|m| m.get(name))
        {
            return Lookup::Found(o);
        }
        if self.is_authoritative(kind, namespace) {
            Lookup::Absent
        } else {
            Lookup::Unknown
        }
    }

    /// Objects of a kind in a namespace, by name.
    pub fn in_namespace(&self, kind: Kind, namespace: &str) -> impl Iterator<Item = &Object> {
        self.objects
            .get(&kind)
            .and_then(|m| m.get(namespace))
            .into_iter()
            .flat_map(|m| m.values())
    }

    /// Every object of a kind.
    pub fn all(&self, kind: Kind) -> impl Iterator<Item = &Object> {
        self.objects
            .get(&kind)
            .into_iter()
            .flat_map(|m| m.values().flat_map(|n| n.values()))
    }

    /// How many objects of a kind.
    pub fn count(&self, kind: Kind) -> usize {
        self.objects
            .get(&kind)
            .map_or(0, |m| m.values().map(BTreeMap::len).sum())
    }

    /// Names of a kind in a namespace: the candidates for "did you mean".
    pub fn names(&self, kind: Kind, namespace: &str) -> Vec<&str> {
        self.in_namespace(kind, namespace)
            .map(|o| o.name.as_str())
            .collect()
    }
}
