//! JSON text straight into the lint tree.
//!
//! Objects that arrive as JSON (admission reviews, the API server's lists) need neither the
//! YAML front end nor an intermediate `serde_json::Value`: [`read_tree`] builds the [`Node`]
//! tree in one pass over the bytes. Such objects have no source text a finding could point
//! into, so every span is empty; findings name the field by its path.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::document::{Document, Kind, ParsedFile, Problem};
use crate::source::SourceFile;
use crate::suppress::InlineSuppressions;
use crate::tree::{Entry, Node, Span, Value};
use crate::yaml::Budget;

/// A tree read from JSON, or the reason the budget stopped it.
#[derive(Debug)]
pub struct JsonTree {
    /// `Null` when the budget refused the value.
    pub root: Node,
    /// The same message the YAML reader gives for the same excess.
    pub refusal: Option<String>,
}

/// Reads one JSON value into a tree under `budget` (its node count and nesting depth), leaving
/// out the values at the key paths in `prune` (at most 64 paths; for example
/// `&[&["metadata", "managedFields"]]`), which are checked for syntax but never built.
///
/// Duplicate keys keep the last value, as `serde_json` and the API server do. A text that is
/// not JSON is an error; a value over the budget is not: it comes back as a refusal, which
/// callers report as the YAML reader's refusal would be.
pub fn read_tree(json: &str, budget: &Budget, prune: &[&[&str]]) -> serde_json::Result<JsonTree> {
    let mut de = serde_json::Deserializer::from_str(json);
    let tree = TreeSeed::new(budget, prune).deserialize(&mut de)?;
    de.end()?;
    Ok(tree)
}

/// [`read_tree`] as a serde seed: reads a value inside a larger JSON document (the object of
/// an admission review) in the same pass as the rest of it.
pub struct TreeSeed<'b, 'p> {
    budget: &'b Budget,
    prune: &'p [&'p [&'p str]],
}

impl<'b, 'p> TreeSeed<'b, 'p> {
    pub fn new(budget: &'b Budget, prune: &'p [&'p [&'p str]]) -> Self {
        TreeSeed {
            budget,
            prune: &prune[..prune.len().min(64)],
        }
    }
}

impl<'de> DeserializeSeed<'de> for TreeSeed<'_, '_> {
    type Value = JsonTree;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<JsonTree, D::Error> {
        let state = State {
            budget: self.budget,
            prune: self.prune,
            nodes: Cell::new(0),
            refusal: RefCell::new(None),
        };
        let all = self
            .prune
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .fold(0u64, |m, (i, _)| m | (1 << i));
        let root = Seed {
            state: &state,
            depth: 0,
            mask: all,
        }
        .deserialize(d)?;
        let refusal = state.refusal.into_inner();
        Ok(JsonTree {
            root: if refusal.is_some() { null() } else { root },
            refusal,
        })
    }
}

/// A file of one object read from JSON: the document (when `root` is a Kubernetes object, a
/// mapping with string `apiVersion` and `kind`) or the refusal, against `source` (usually an
/// empty text: spans are empty).
pub fn parsed_object(source: Arc<SourceFile>, tree: JsonTree) -> ParsedFile {
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    if let Some(message) = tree.refusal {
        problems.push(Problem {
            message,
            span: Span::default(),
            first: None,
            document: None,
        });
    } else if let Some(doc) = document(tree.root) {
        documents.push(doc);
    }
    ParsedFile {
        source,
        documents,
        problems,
        broken: Vec::new(),
        suppressions: InlineSuppressions::default(),
        bundle: Default::default(),
    }
}

fn document(root: Node) -> Option<Document> {
    let api_version = root.get("apiVersion")?.as_str()?.to_string();
    let kind_name = root.get("kind")?.as_str()?.to_string();
    let meta = root.get("metadata");
    let field = |key: &str| {
        meta.and_then(|m| m.get(key))
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    let name = field("name");
    let namespace = field("namespace");
    Some(Document {
        index: 0,
        span: root.span,
        kind: Kind::classify(&api_version, &kind_name),
        root,
        api_version,
        kind_name,
        name,
        namespace,
    })
}

struct State<'b, 'p> {
    budget: &'b Budget,
    prune: &'p [&'p [&'p str]],
    nodes: Cell<usize>,
    refusal: RefCell<Option<String>>,
}

impl State<'_, '_> {
    fn refused(&self) -> bool {
        self.refusal.borrow().is_some()
    }

    fn refuse(&self, message: String) {
        let mut r = self.refusal.borrow_mut();
        if r.is_none() {
            *r = Some(message);
        }
    }

    /// Counts one value; false once the budget is spent.
    fn count(&self) -> bool {
        let n = self.nodes.get() + 1;
        self.nodes.set(n);
        if n > self.budget.max_nodes {
            self.refuse(format!(
                "more than {} values in one stream (aliases expanded); refusing to read on",
                self.budget.max_nodes
            ));
            return false;
        }
        true
    }

    /// Whether a collection at `depth` (the number of collections around it) may open.
    fn open(&self, depth: usize) -> bool {
        if depth >= self.budget.max_depth {
            self.refuse(format!(
                "nesting deeper than {} levels",
                self.budget.max_depth
            ));
            return false;
        }
        self.count()
    }
}

/// One value at `depth`; `mask` holds the prune paths whose keys matched all the way here.
struct Seed<'s, 'b, 'p> {
    state: &'s State<'b, 'p>,
    depth: usize,
    mask: u64,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_, '_> {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        if self.state.refused() {
            d.deserialize_ignored_any(IgnoredAny)?;
            return Ok(null());
        }
        d.deserialize_any(self)
    }
}

fn null() -> Node {
    Node::new(Value::Null, Span::default())
}

fn scalar(state: &State<'_, '_>, v: Value) -> Node {
    if state.count() {
        Node::new(v, Span::default())
    } else {
        null()
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_, '_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(scalar(self.state, Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(scalar(self.state, Value::Int(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        // As `Node::from_json`: integers past i64 become floats.
        let value = i64::try_from(v).map_or(Value::Float(v as f64), Value::Int);
        Ok(scalar(self.state, value))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(scalar(self.state, Value::Float(v)))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node, E> {
        Ok(scalar(self.state, Value::Str(v.into())))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(scalar(self.state, Value::Str(v.into())))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(scalar(self.state, Value::Str(v.into())))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(scalar(self.state, Value::Null))
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(scalar(self.state, Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        if !self.state.open(self.depth) {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(null());
        }
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(Seed {
            state: self.state,
            depth: self.depth + 1,
            mask: 0,
        })? {
            items.push(item);
        }
        Ok(Node::new(
            Value::Seq(items.into_boxed_slice()),
            Span::default(),
        ))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        if !self.state.open(self.depth) {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(null());
        }
        let mut entries: Vec<Entry> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let (mask, pruned) = self.descend(&key);
            if pruned {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map.next_value_seed(Seed {
                state: self.state,
                depth: self.depth + 1,
                mask,
            })?;
            let key = match key {
                Cow::Borrowed(k) => k.into(),
                Cow::Owned(k) => k.into(),
            };
            entries.push(Entry {
                key,
                key_span: Span::default(),
                value,
            });
        }
        last_wins(&mut entries);
        Ok(Node::new(
            Value::Map(entries.into_boxed_slice()),
            Span::default(),
        ))
    }
}

impl Seed<'_, '_, '_> {
    /// The prune paths that continue through `key`, and whether one of them ends there.
    fn descend(&self, key: &str) -> (u64, bool) {
        let mut mask = 0u64;
        let mut ends = false;
        let mut m = self.mask;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            let path = self.state.prune[i];
            if path.get(self.depth) == Some(&key) {
                if path.len() == self.depth + 1 {
                    ends = true;
                } else {
                    mask |= 1 << i;
                }
            }
        }
        (mask, ends)
    }
}

/// A key (or any string), borrowed from the text when it has no escapes.
pub struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// Keeps one entry per key, with the last value, where the key first appeared.
fn last_wins(entries: &mut Vec<Entry>) {
    if entries.len() < 2 {
        return;
    }
    // Small mappings (nearly all) are checked pairwise; large ones by sorting, so that a
    // hostile mapping of many keys costs n log n, not n².
    let has_duplicates = if entries.len() <= 16 {
        entries
            .iter()
            .enumerate()
            .any(|(i, e)| entries[..i].iter().any(|f| f.key == e.key))
    } else {
        let mut keys: Vec<&str> = entries.iter().map(|e| &*e.key).collect();
        keys.sort_unstable();
        keys.windows(2).any(|w| w[0] == w[1])
    };
    if !has_duplicates {
        return;
    }
    let mut kept: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in entries.drain(..) {
        match index.get(&*e.key) {
            Some(&i) => kept[i].value = e.value,
            None => {
                index.insert(e.key.to_string(), kept.len());
                kept.push(e);
            }
        }
    }
    *entries = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(json: &str) -> JsonTree {
        read_tree(json, &Budget::STRICT, &[]).unwrap()
    }

    #[test]
    fn the_same_tree_as_from_json_without_the_pruned_paths() {
        let text = r#"{"apiVersion":"v1","kind":"X","metadata":{"name":"a","managedFields":[{"f":1}],"labels":{"managedFields":"kept"}},"spec":{"n":-3,"u":18446744073709551615,"f":0.5,"b":true,"z":null,"s":"é\n","l":[1,[2],{}]}}"#;
        let pruned = read_tree(text, &Budget::STRICT, &[&["metadata", "managedFields"]]).unwrap();
        let mut expected: serde_json::Value = serde_json::from_str(text).unwrap();
        expected["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        assert!(pruned.refusal.is_none());
        // Through `from_json` too: integers past i64 are floats in both.
        assert_eq!(pruned.root.to_json(), Node::from_json(&expected).to_json());
        assert_eq!(
            pruned
                .root
                .at(&["metadata", "labels", "managedFields"])
                .and_then(Node::as_str),
            Some("kept")
        );
        let all: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(tree(text).root.to_json(), Node::from_json(&all).to_json());
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let t = tree(r#"{"a":1,"b":2,"a":3}"#);
        assert_eq!(t.root.entries().len(), 2);
        assert_eq!(t.root.get("a").and_then(Node::as_i64), Some(3));
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\":{i}", i % 30)).collect();
        let t = tree(&format!("{{{}}}", many.join(",")));
        assert_eq!(t.root.entries().len(), 30);
        assert_eq!(t.root.get("k3").and_then(Node::as_i64), Some(33));
    }

    #[test]
    fn the_budget_refuses_as_the_yaml_reader_does() {
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        let t = tree(&deep);
        assert_eq!(t.refusal.as_deref(), Some("nesting deeper than 64 levels"));
        assert!(t.root.is_null());
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(tree(&ok).refusal.is_none());
        let budget = Budget {
            max_nodes: 3,
            ..Budget::STRICT
        };
        let t = read_tree("[1,2,3]", &budget, &[]).unwrap();
        assert!(t.refusal.unwrap().starts_with("more than 3 values"));
        assert!(read_tree("[1,2]", &budget, &[]).unwrap().refusal.is_none());
    }

    #[test]
    fn bad_json_is_an_error() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "1 2", "{1:2}"] {
            assert!(read_tree(bad, &Budget::STRICT, &[]).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_object_becomes_one_document() {
        let source = Arc::new(SourceFile::new("<json>", ""));
        let parsed = parsed_object(
            source.clone(),
            tree(
                r#"{"apiVersion":"flagger.app/v1beta1","kind":"Canary","metadata":{"name":"c","namespace":"n"}}"#,
            ),
        );
        assert_eq!(parsed.documents.len(), 1);
        let doc = &parsed.documents[0];
        assert_eq!(doc.kind, Kind::Canary);
        assert_eq!(
            (doc.name.as_deref(), doc.namespace.as_deref()),
            (Some("c"), Some("n"))
        );
        assert!(parsed.problems.is_empty());
        let none = parsed_object(source.clone(), tree(r#"{"kind":"Canary"}"#));
        assert!(none.documents.is_empty() && none.problems.is_empty());
        let refused = parsed_object(
            source,
            tree(&format!("{}{}", "[".repeat(70), "]".repeat(70))),
        );
        assert!(refused.documents.is_empty());
        assert_eq!(refused.problems.len(), 1);
    }
}
