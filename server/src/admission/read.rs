//! Reading a review: the AdmissionReview body read in one pass, the objects straight into lint
//! trees (without their managed fields), and what the API server may leave out of an object
//! filled in from the request.

use std::fmt;

use axum::http::StatusCode;
use canarylint::json;
use canarylint::json::{JsonTree, KeySeed};
use canarylint::tree::Entry;
use canarylint::{Budget, Node, Span, Value};
use kube::core::admission::Operation;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// The request of an AdmissionReview, as far as the decision reads it, read in one pass over
/// the body: the objects go straight into lint trees (without their managed fields), nothing
/// else of them is kept.
pub(super) struct WireReview {
    pub(super) api_version: String,
    pub(super) kind: String,
    pub(super) request: Option<WireRequest>,
}

/// The fields kube's `AdmissionRequest` requires are required here too, so that the same
/// bodies are bad requests.
pub(super) struct WireRequest {
    pub(super) uid: String,
    pub(super) kind: WireGvk,
    pub(super) sub_resource: Option<String>,
    pub(super) name: String,
    pub(super) namespace: Option<String>,
    pub(super) operation: Operation,
    pub(super) object: Option<JsonTree>,
    pub(super) old_object: Option<JsonTree>,
    pub(super) dry_run: bool,
}

#[derive(Deserialize)]
pub(super) struct WireGvk {
    pub(super) group: String,
    pub(super) version: String,
    pub(super) kind: String,
}

/// Checked for shape only: kube's typed request requires it.
#[derive(Deserialize)]
#[allow(dead_code)]
pub(super) struct WireGvr {
    pub(super) group: IgnoredString,
    pub(super) version: IgnoredString,
    pub(super) resource: IgnoredString,
}

/// A string whose value nobody reads.
pub(super) struct IgnoredString;

impl<'de> Deserialize<'de> for IgnoredString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeySeed).map(|_| IgnoredString)
    }
}

/// What the linter never reads and the API server sends with objects: the managed fields, and
/// the copy of the whole object that `kubectl apply` keeps in an annotation (together, often
/// more than half of a body).
pub(super) const PRUNED: &[&[&str]] = &[
    &["metadata", "managedFields"],
    &[
        "metadata",
        "annotations",
        "kubectl.kubernetes.io/last-applied-configuration",
    ],
];

/// Reads the review, its objects under `budget`.
pub(super) struct ReviewSeed<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for ReviewSeed<'_> {
    type Value = WireReview;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<WireReview, D::Error> {
        d.deserialize_map(self)
    }
}

/// A field set twice is an error, as with serde's derived readers.
pub(super) fn once<T, E: de::Error>(
    slot: &mut Option<T>,
    field: &'static str,
    value: T,
) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for ReviewSeed<'_> {
    type Value = WireReview;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AdmissionReview")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireReview, A::Error> {
        let (mut api_version, mut kind, mut request) = (None, None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "apiVersion" => once(&mut api_version, "apiVersion", map.next_value()?)?,
                "kind" => once(&mut kind, "kind", map.next_value()?)?,
                "request" => once(
                    &mut request,
                    "request",
                    map.next_value_seed(Nullable(RequestSeed(self.0)))?,
                )?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(WireReview {
            api_version: api_version.ok_or_else(|| de::Error::missing_field("apiVersion"))?,
            kind: kind.ok_or_else(|| de::Error::missing_field("kind"))?,
            request: request.flatten(),
        })
    }
}

pub(super) struct RequestSeed<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for RequestSeed<'_> {
    type Value = WireRequest;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<WireRequest, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RequestSeed<'_> {
    type Value = WireRequest;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AdmissionRequest")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireRequest, A::Error> {
        let mut uid = None;
        let mut kind = None;
        let mut resource: Option<WireGvr> = None;
        let mut sub_resource = None;
        let mut name = None;
        let mut namespace = None;
        let mut operation = None;
        let mut user_info = None;
        let mut object = None;
        let mut old_object = None;
        let mut dry_run = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "uid" => once(&mut uid, "uid", map.next_value()?)?,
                "kind" => once(&mut kind, "kind", map.next_value()?)?,
                "resource" => once(&mut resource, "resource", map.next_value()?)?,
                "subResource" => once(&mut sub_resource, "subResource", map.next_value()?)?,
                "name" => once(&mut name, "name", map.next_value()?)?,
                "namespace" => once(&mut namespace, "namespace", map.next_value()?)?,
                "operation" => once(&mut operation, "operation", map.next_value()?)?,
                "userInfo" => once(&mut user_info, "userInfo", map.next_value::<IgnoredAny>()?)?,
                "object" => once(
                    &mut object,
                    "object",
                    map.next_value_seed(Nullable(ObjectSeed(self.0, "object")))?,
                )?,
                "oldObject" => once(
                    &mut old_object,
                    "oldObject",
                    map.next_value_seed(Nullable(ObjectSeed(self.0, "oldObject")))?,
                )?,
                "dryRun" => once(&mut dry_run, "dryRun", map.next_value()?)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        resource.ok_or_else(|| de::Error::missing_field("resource"))?;
        user_info.ok_or_else(|| de::Error::missing_field("userInfo"))?;
        Ok(WireRequest {
            uid: uid.ok_or_else(|| de::Error::missing_field("uid"))?,
            kind: kind.ok_or_else(|| de::Error::missing_field("kind"))?,
            sub_resource: sub_resource.flatten(),
            name: name.unwrap_or_default(),
            namespace: namespace.flatten(),
            operation: operation.ok_or_else(|| de::Error::missing_field("operation"))?,
            object: object.flatten(),
            old_object: old_object.flatten(),
            dry_run: dry_run.unwrap_or_default(),
        })
    }
}

/// An object of the request: a JSON object, read into a lint tree.
pub(super) struct ObjectSeed<'b>(&'b Budget, &'static str);

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = JsonTree;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<JsonTree, D::Error> {
        let tree = json::TreeSeed::new(self.0, PRUNED).deserialize(d)?;
        // Over the budget, the tree is empty: the refusal is reported like the YAML reader's.
        if tree.refusal.is_none() && !tree.root.is_map() {
            return Err(de::Error::custom(format!(
                "request.{} is not a JSON object",
                self.1
            )));
        }
        Ok(tree)
    }
}

/// `null` or a value.
pub(super) struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<S::Value>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null or a value")
    }

    fn visit_none<E>(self) -> Result<Option<S::Value>, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Option<S::Value>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<S::Value>, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

pub(super) fn read_review(body: &[u8], budget: &Budget) -> serde_json::Result<WireReview> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let review = ReviewSeed(budget).deserialize(&mut de)?;
    de.end()?;
    Ok(review)
}

/// Fills what the linter needs and the API server may leave out, as kube's `DynamicObject`
/// did when the object was read through it: `apiVersion` and `kind` from the request unless
/// the object has both as strings, a `metadata` mapping, its namespace from the request.
pub(super) fn prepare(
    root: &mut Node,
    gvk: &WireGvk,
    namespace: Option<&str>,
) -> Result<(), (StatusCode, String)> {
    let not_an_object = || {
        (
            StatusCode::BAD_REQUEST,
            "the body is not an AdmissionReview: request.object.metadata is not a JSON object"
                .to_string(),
        )
    };
    let done = root.edit_entries(|entries| {
        let typed = |entries: &[Entry], key: &str| {
            entries
                .iter()
                .any(|e| e.key == key && e.value.as_str().is_some())
        };
        if !(typed(entries, "apiVersion") && typed(entries, "kind")) {
            let api_version = if gvk.group.is_empty() {
                gvk.version.to_string()
            } else {
                format!("{}/{}", gvk.group, gvk.version)
            };
            set(entries, "apiVersion", string(&api_version));
            set(entries, "kind", string(&gvk.kind));
        }
        let i = match entries.iter().position(|e| e.key == "metadata") {
            Some(i) => i,
            None => {
                entries.push(Entry {
                    key: "metadata".into(),
                    key_span: Span::default(),
                    value: Node::new(Value::Map(Box::default()), Span::default()),
                });
                entries.len() - 1
            }
        };
        entries[i].value.edit_entries(|meta| {
            if let Some(ns) = namespace
                && !meta.iter().any(|e| e.key == "namespace")
            {
                meta.push(Entry {
                    key: "namespace".into(),
                    key_span: Span::default(),
                    value: string(ns),
                });
            }
        })
    });
    match done {
        Some(None) => Err(not_an_object()),
        _ => Ok(()),
    }
}

pub(super) fn string(s: &str) -> Node {
    Node::new(Value::Str(s.into()), Span::default())
}

pub(super) fn set(entries: &mut Vec<Entry>, key: &str, value: Node) {
    match entries.iter_mut().find(|e| e.key == key) {
        Some(e) => e.value = value,
        None => entries.push(Entry {
            key: key.into(),
            key_span: Span::default(),
            value,
        }),
    }
}
