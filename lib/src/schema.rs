//! Flagger's CRD schemas, embedded as JSON Schema (Draft 4), validated over the object tree.
//!
//! `lib/schema/flagger.schema.json` is generated from Flagger's `crd.yaml` by [`generate`]
//! (a test keeps it current). Validation runs on [`Node`] directly through jsonschema's custom
//! representation support, so no document is converted to JSON on the hot path.

use std::borrow::Cow;
use std::sync::OnceLock;

use jsonschema::json::{Array, Json, JsonNumber, Node as JNode, NodeIdentity, Object};
use serde_json::{Map, Value as J};

use crate::document::Kind;
use crate::tree::{Entry, Node, Value};
use crate::yaml::{Budget, parse_stream};

/// The embedded schemas: `{"canary": …, "metrictemplate": …, "alertprovider": …}`.
pub const SCHEMA_JSON: &str = include_str!("../schema/flagger.schema.json");

/// The schema names accepted by [`schema_for`].
pub const SCHEMA_NAMES: [&str; 3] = ["canary", "metrictemplate", "alertprovider"];

fn all_schemas() -> &'static J {
    static ALL: OnceLock<J> = OnceLock::new();
    ALL.get_or_init(|| serde_json::from_str(SCHEMA_JSON).unwrap_or(J::Null))
}

/// The JSON Schema of one kind (`canary`, `metrictemplate`, `alertprovider`).
pub fn schema_for(name: &str) -> Option<&'static J> {
    all_schemas().get(name)
}

fn schema_name(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Canary => Some("canary"),
        Kind::MetricTemplate => Some("metrictemplate"),
        Kind::AlertProvider => Some("alertprovider"),
        _ => None,
    }
}

type Validator = jsonschema::Validator<TreeJson>;

fn validator(kind: Kind) -> Option<&'static Validator> {
    static V: OnceLock<Vec<Option<Validator>>> = OnceLock::new();
    let all = V.get_or_init(|| {
        SCHEMA_NAMES
            .iter()
            .map(|name| {
                let schema = schema_for(name)?;
                jsonschema::options_for::<TreeJson>()
                    .with_draft(jsonschema::Draft::Draft4)
                    .should_validate_formats(false)
                    .build(schema)
                    .ok()
            })
            .collect()
    });
    let name = schema_name(kind)?;
    let i = SCHEMA_NAMES.iter().position(|n| *n == name)?;
    all.get(i)?.as_ref()
}

/// One step of a path into an object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Renders a path as `spec.analysis.metrics[0].name`.
pub fn path_string(segs: &[Seg]) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            Seg::Key(k) => {
                let plain = !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if plain {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                } else {
                    out.push_str(&format!("[{k:?}]"));
                }
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// What a schema violation is.
#[derive(Clone, Debug, PartialEq)]
pub enum SchemaErrorKind {
    /// A required property is missing from the object at the path.
    Required(String),
    /// Properties the schema does not define.
    Unexpected(Vec<String>),
    /// The value has the wrong type; `expected` is the schema's type list.
    Type(Vec<String>),
    /// The value is not one of the allowed values.
    Enum(Vec<J>),
    /// The string does not match the pattern.
    Pattern(String),
    /// None (or more than one) of the `oneOf` branches matched.
    OneOf { multiple: bool },
    /// Any other violation, with jsonschema's message.
    Other(String),
}

/// A schema violation, located in the tree.
#[derive(Clone, Debug)]
pub struct SchemaError<'a> {
    pub node: &'a Node,
    pub path: Vec<Seg>,
    pub kind: SchemaErrorKind,
}

/// Validates a Flagger object against its CRD schema.
pub fn validate<'a>(kind: Kind, root: &'a Node) -> Vec<SchemaError<'a>> {
    let Some(v) = validator(kind) else {
        return Vec::new();
    };
    if v.is_valid(root) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for err in v.iter_errors(root) {
        let path: Vec<Seg> = err
            .instance_path()
            .iter()
            .map(|s| match s {
                jsonschema::paths::LocationSegment::Property(p) => Seg::Key(p.to_string()),
                jsonschema::paths::LocationSegment::Index(i) => Seg::Index(i),
            })
            .collect();
        let Some(node) = node_at(root, &path) else {
            continue;
        };
        use jsonschema::error::ValidationErrorKind as K;
        let kind = match err.kind() {
            K::Required { property } => {
                SchemaErrorKind::Required(property.as_str().unwrap_or_default().to_string())
            }
            K::AdditionalProperties { unexpected } => {
                SchemaErrorKind::Unexpected(unexpected.clone())
            }
            K::Type { kind } => SchemaErrorKind::Type(type_names(kind)),
            K::Enum { options } => {
                SchemaErrorKind::Enum(options.as_array().cloned().unwrap_or_default())
            }
            K::Pattern { pattern } => SchemaErrorKind::Pattern(pattern.clone()),
            K::OneOfNotValid { .. } => SchemaErrorKind::OneOf { multiple: false },
            K::OneOfMultipleValid { .. } => SchemaErrorKind::OneOf { multiple: true },
            _ => SchemaErrorKind::Other(err.to_string()),
        };
        out.push(SchemaError { node, path, kind });
    }
    out
}

fn type_names(kind: &jsonschema::error::TypeKind) -> Vec<String> {
    match kind {
        jsonschema::error::TypeKind::Single(t) => vec![t.to_string()],
        jsonschema::error::TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    }
}

/// The node at a path.
pub fn node_at<'a>(root: &'a Node, path: &[Seg]) -> Option<&'a Node> {
    let mut n = root;
    for s in path {
        n = match s {
            Seg::Key(k) => n.get(k)?,
            Seg::Index(i) => n.items().get(*i)?,
        };
    }
    Some(n)
}

/// The subschema that applies at `path` (following `properties`, `additionalProperties` and
/// `items`).
pub fn schema_at(kind: Kind, path: &[Seg]) -> Option<&'static J> {
    let mut s = schema_name(kind).and_then(schema_for)?;
    for seg in path {
        s = match seg {
            Seg::Key(k) => s
                .get("properties")
                .and_then(|p| p.get(k))
                .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))?,
            Seg::Index(_) => s.get("items")?,
        };
    }
    Some(s)
}

/// The property names the schema allows for the object at `path` (for "did you mean").
pub fn properties_at(kind: Kind, path: &[Seg]) -> Vec<String> {
    let Some(mut s) = schema_name(kind).and_then(schema_for) else {
        return Vec::new();
    };
    for seg in path {
        let next = match seg {
            Seg::Key(k) => s
                .get("properties")
                .and_then(|p| p.get(k))
                .or_else(|| s.get("additionalProperties").filter(|a| a.is_object())),
            Seg::Index(_) => s.get("items"),
        };
        match next {
            Some(n) => s = n,
            None => return Vec::new(),
        }
    }
    s.get("properties")
        .and_then(J::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

// ---- the tree as a jsonschema instance -------------------------------------------------------

/// Marker type: validates [`Node`] trees.
pub struct TreeJson;

impl Json for TreeJson {
    type Node<'a> = &'a Node;
    type PreparedKey = String;
    type StringBuffer = Node;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>(buffer: &mut Node, string: &str, f: impl FnOnce(&Node) -> T) -> T {
        buffer.value = Value::Str(string.into());
        f(buffer)
    }
}

impl Default for Node {
    fn default() -> Self {
        Node::new(Value::Null, crate::tree::Span::default())
    }
}

/// A number of the tree.
pub struct TreeNumber(Value);

impl JsonNumber for TreeNumber {
    fn as_u64(&self) -> Option<u64> {
        match self.0 {
            Value::Int(i) => u64::try_from(i).ok(),
            _ => None,
        }
    }
    fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }
    fn as_f64(&self) -> Option<f64> {
        match self.0 {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }
    fn as_str(&self) -> Cow<'_, str> {
        match self.0 {
            Value::Int(i) => Cow::Owned(i.to_string()),
            Value::Float(f) => Cow::Owned(format!("{f:?}")),
            _ => Cow::Borrowed("0"),
        }
    }
    fn to_number(&self) -> Cow<'_, serde_json::Number> {
        Cow::Owned(match self.0 {
            Value::Int(i) => serde_json::Number::from(i),
            Value::Float(f) => {
                serde_json::Number::from_f64(f).unwrap_or_else(|| serde_json::Number::from(0))
            }
            _ => serde_json::Number::from(0),
        })
    }
    fn is_integer(&self) -> bool {
        match self.0 {
            Value::Int(_) => true,
            Value::Float(f) => f.fract() == 0.0,
            _ => false,
        }
    }
    fn is_written_as_integer(&self) -> bool {
        matches!(self.0, Value::Int(_))
    }
}

impl<'a> JNode<'a, TreeJson> for &'a Node {
    type Object = &'a [Entry];
    type Array = &'a [Node];
    type Number = TreeNumber;

    fn as_object(&self) -> Option<&'a [Entry]> {
        match &self.value {
            Value::Map(e) => Some(e),
            _ => None,
        }
    }
    fn as_array(&self) -> Option<&'a [Node]> {
        match &self.value {
            Value::Seq(i) => Some(i),
            _ => None,
        }
    }
    fn as_string(&self) -> Option<Cow<'a, str>> {
        match &self.value {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            _ => None,
        }
    }
    fn as_number(&self) -> Option<TreeNumber> {
        match self.value {
            Value::Int(_) | Value::Float(_) => Some(TreeNumber(self.value.clone())),
            _ => None,
        }
    }
    fn as_boolean(&self) -> Option<bool> {
        Node::as_bool(self)
    }
    fn is_null(&self) -> bool {
        Node::is_null(self)
    }
    fn json_type(&self) -> jsonschema::JsonType {
        use jsonschema::JsonType as T;
        match self.value {
            Value::Null => T::Null,
            Value::Bool(_) => T::Boolean,
            Value::Int(_) | Value::Float(_) => T::Number,
            Value::Str(_) => T::String,
            Value::Seq(_) => T::Array,
            Value::Map(_) => T::Object,
        }
    }
    fn to_value(&self) -> Cow<'a, J> {
        Cow::Owned(Node::to_json(self))
    }
    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(std::ptr::from_ref::<Node>(*self) as usize))
    }
}

impl<'a> Object<'a, TreeJson> for &'a [Entry] {
    type Node = &'a Node;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        <[Entry]>::len(self)
    }
    fn get(&self, key: &String) -> Option<&'a Node> {
        self.iter()
            .find(|e| e.key.as_str() == key.as_str())
            .map(|e| &e.value)
    }
    fn members(&self) -> Members<'a> {
        Members(self.iter())
    }
}

/// Iterator over a mapping's members.
pub struct Members<'a>(std::slice::Iter<'a, Entry>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a Node);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|e| (e.key.as_str(), &e.value))
    }
}

impl<'a> Array<'a, TreeJson> for &'a [Node] {
    type Node = &'a Node;
    type ElementsIter = std::slice::Iter<'a, Node>;

    fn len(&self) -> usize {
        <[Node]>::len(self)
    }
    fn elements(&self) -> std::slice::Iter<'a, Node> {
        self.iter()
    }
}

// ---- generation from the CRD ------------------------------------------------------------------

/// Builds the embedded schema file from Flagger's `crd.yaml`.
///
/// Each `openAPIV3Schema` is rewritten for a Draft 4 validator: descriptions dropped,
/// `nullable` turned into a `null` type, `x-kubernetes-int-or-string` into an integer-or-string
/// `anyOf`, `additionalProperties: false` on every object with `properties` (the API server
/// prunes unknown fields; we report them), and a `oneOf` whose branches only list required
/// fields has their common part hoisted into `required`, so a missing field is reported as
/// such instead of hiding behind the `oneOf`.
pub fn generate(crd_yaml: &str) -> Result<String, String> {
    let stream = parse_stream(crd_yaml, &Budget::GENEROUS);
    if let Some(e) = stream.errors.first() {
        return Err(format!("crd.yaml: {}", e.message));
    }
    let mut out = Map::new();
    for doc in &stream.documents {
        let crd = doc.root.to_json();
        let Some(kind) = crd.pointer("/spec/names/kind").and_then(J::as_str) else {
            continue;
        };
        let versions = crd
            .pointer("/spec/versions")
            .and_then(J::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(schema) = versions
            .iter()
            .find(|v| v.get("name").and_then(J::as_str) == Some("v1beta1"))
            .and_then(|v| v.pointer("/schema/openAPIV3Schema"))
        else {
            continue;
        };
        let mut s = schema.clone();
        rewrite(&mut s);
        if let J::Object(m) = &mut s {
            m.insert(
                "$schema".into(),
                J::String("http://json-schema.org/draft-04/schema#".into()),
            );
            m.insert(
                "title".into(),
                J::String(format!("Flagger {kind} (flagger.app/v1beta1)")),
            );
        }
        out.insert(kind.to_lowercase(), s);
    }
    if out.len() != 3 {
        return Err(format!(
            "expected the Canary, MetricTemplate and AlertProvider CRDs, found {:?}",
            out.keys().collect::<Vec<_>>()
        ));
    }
    let mut text = serde_json::to_string_pretty(&J::Object(out)).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

fn rewrite(v: &mut J) {
    match v {
        J::Object(m) => {
            m.remove("description");
            if m.remove("nullable") == Some(J::Bool(true))
                && let Some(J::String(t)) = m.get("type").cloned()
            {
                m.insert("type".into(), serde_json::json!([t, "null"]));
            }
            if m.remove("x-kubernetes-int-or-string") == Some(J::Bool(true)) {
                m.remove("type");
                m.entry("anyOf").or_insert_with(
                    || serde_json::json!([{"type": "integer"}, {"type": "string"}]),
                );
            }
            let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&J::Bool(true));
            if m.contains_key("properties") && !m.contains_key("additionalProperties") && !preserve
            {
                m.insert("additionalProperties".into(), J::Bool(false));
            }
            hoist_required(m);
            for (k, child) in m.iter_mut() {
                // Property names are data, not schema keywords.
                if k == "properties" {
                    if let J::Object(props) = child {
                        for p in props.values_mut() {
                            rewrite(p);
                        }
                    }
                } else {
                    rewrite(child);
                }
            }
        }
        J::Array(items) => items.iter_mut().for_each(rewrite),
        _ => {}
    }
}

fn hoist_required(m: &mut Map<String, J>) {
    let Some(J::Array(branches)) = m.get("oneOf") else {
        return;
    };
    let lists: Option<Vec<Vec<String>>> = branches
        .iter()
        .map(|b| {
            let o = b.as_object()?;
            if o.len() != 1 {
                return None;
            }
            o.get("required")?
                .as_array()?
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .collect();
    let Some(lists) = lists else {
        return;
    };
    let Some(first) = lists.first() else {
        return;
    };
    let common: Vec<String> = first
        .iter()
        .filter(|f| lists.iter().all(|l| l.contains(f)))
        .cloned()
        .collect();
    if common.is_empty() {
        return;
    }
    let new_branches: Vec<J> = lists
        .iter()
        .map(|l| {
            let rest: Vec<J> = l
                .iter()
                .filter(|f| !common.contains(f))
                .map(|f| J::String(f.clone()))
                .collect();
            serde_json::json!({ "required": rest })
        })
        .collect();
    let mut required: Vec<J> = m
        .get("required")
        .and_then(J::as_array)
        .cloned()
        .unwrap_or_default();
    for c in common {
        if !required.iter().any(|r| r.as_str() == Some(&c)) {
            required.push(J::String(c));
        }
    }
    m.insert("required".into(), J::Array(required));
    m.insert("oneOf".into(), J::Array(new_branches));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Budget, parse_stream};

    fn doc(text: &str) -> Node {
        parse_stream(text, &Budget::default())
            .documents
            .remove(0)
            .root
    }

    #[test]
    fn embedded_schema_compiles() {
        for k in [Kind::Canary, Kind::MetricTemplate, Kind::AlertProvider] {
            assert!(validator(k).is_some(), "{k:?}");
        }
    }

    #[test]
    fn reports_unknown_fields_types_and_required() {
        let n = doc(
            "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: x\nspec:\n  targetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: x\n  analysis:\n    interval: 1m\n    threshold: 5\n    stepweight: 10\n    stepWeight: five\n",
        );
        let errs = validate(Kind::Canary, &n);
        let kinds: Vec<_> = errs
            .iter()
            .map(|e| (&e.kind, path_string(&e.path)))
            .collect();
        assert!(
            kinds.iter().any(
                |(k, p)| matches!(k, SchemaErrorKind::Unexpected(u) if u == &["stepweight"])
                    && p == "spec.analysis"
            ),
            "{kinds:?}"
        );
        assert!(
            kinds
                .iter()
                .any(|(k, p)| matches!(k, SchemaErrorKind::Type(_))
                    && p == "spec.analysis.stepWeight"),
            "{kinds:?}"
        );
        let props = properties_at(
            Kind::Canary,
            &[Seg::Key("spec".into()), Seg::Key("analysis".into())],
        );
        assert!(props.contains(&"stepWeight".to_string()));
    }
}
