//! Typed values out of the tree, with serde: [`from_node`] deserializes any `Deserialize` type
//! from a [`Node`], and every error carries the span of the node (or mapping key) where it
//! happened, so a message can name the line and column of the bad key or value.
//!
//! The tree was read with the same YAML 1.1 rules as manifests (`on`/`off` booleans, merge keys,
//! aliases, budgets), so a configuration means what `kubectl` would make of it. [`Spanned`] keeps
//! a value's span for checks made after deserializing (a rule code that does not exist).

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use crate::tree::{Entry, Node, Span, Value};

/// A deserialization error and the span it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    /// The innermost node (or key) being read when it happened.
    pub span: Option<Span>,
}

impl Error {
    /// Places an error that has no place yet: the innermost node wins.
    fn at(mut self, span: Span) -> Error {
        self.span.get_or_insert(span);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            span: None,
        }
    }
}

/// Deserializes a value from a node of the tree.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, Error> {
    T::deserialize(NodeDeserializer(node))
}

/// The keys a struct deriving `Deserialize` accepts (its fields, as renamed), read from what
/// serde's derive hands the deserializer: the list lives in the type, nowhere else.
pub fn field_names<'de, T: de::Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut names));
    names
}

/// A value together with the span of the node it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// The struct name [`NodeDeserializer`] recognises to hand out a node's span.
const SPANNED: &str = "$canarylint::Spanned";
const SPANNED_FIELDS: &[&str] = &["span", "value"];

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value of the tree")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut span = None;
                let mut value = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "span" => {
                            let (start, end) = map.next_value::<(u32, u32)>()?;
                            span = Some(Span::new(start, end));
                        }
                        _ => value = Some(map.next_value::<T>()?),
                    }
                }
                match value {
                    Some(value) => Ok(Spanned {
                        value,
                        span: span.unwrap_or_default(),
                    }),
                    None => Err(de::Error::missing_field("value")),
                }
            }
        }
        deserializer.deserialize_struct(SPANNED, SPANNED_FIELDS, V(std::marker::PhantomData))
    }
}

#[cfg(feature = "schema")]
impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// A node as a serde `Deserializer`.
struct NodeDeserializer<'de>(&'de Node);

impl<'de> Deserializer<'de> for NodeDeserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let node = self.0;
        let result = match &node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s.as_str()),
            Value::Seq(items) => visitor.visit_seq(Items(items.iter())),
            Value::Map(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.at(node.span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED {
            let node = self.0;
            return visitor
                .visit_map(SpannedAccess { node, step: 0 })
                .map_err(|e| e.at(node.span));
        }
        let _ = fields;
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Unit variants, written as strings: `failOn: warning`.
        let node = self.0;
        match &node.value {
            Value::Str(s) => visitor
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: Error| e.at(node.span)),
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct Items<'de>(std::slice::Iter<'de, Node>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(node) => seed
                .deserialize(NodeDeserializer(node))
                .map(Some)
                .map_err(|e| e.at(node.span)),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'de> {
    entries: std::slice::Iter<'de, Entry>,
    value: Option<&'de Node>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(&entry.value);
        seed.deserialize(KeyDeserializer(entry))
            .map(Some)
            .map_err(|e| e.at(entry.key_span))
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let node = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("a value without its key"))?;
        seed.deserialize(NodeDeserializer(node))
            .map_err(|e| e.at(node.span))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A mapping key: a string, with the key's own span (for `Spanned` keys and unknown fields).
struct KeyDeserializer<'de>(&'de Entry);

impl<'de> Deserializer<'de> for KeyDeserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor
            .visit_borrowed_str(self.0.key.as_str())
            .map_err(|e: Error| e.at(self.0.key_span))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED {
            return visitor.visit_map(SpannedKeyAccess {
                entry: self.0,
                step: 0,
            });
        }
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The two fields of a [`Spanned`] value: its node's span, then the node itself.
struct SpannedAccess<'de> {
    node: &'de Node,
    step: u8,
}

impl<'de> MapAccess<'de> for SpannedAccess<'de> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let key = match self.step {
            0 => "span",
            1 => "value",
            _ => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.step += 1;
        if self.step == 1 {
            let s = self.node.span;
            seed.deserialize(span_pair(s))
        } else {
            seed.deserialize(NodeDeserializer(self.node))
        }
    }
}

/// The two fields of a [`Spanned`] mapping key.
struct SpannedKeyAccess<'de> {
    entry: &'de Entry,
    step: u8,
}

impl<'de> MapAccess<'de> for SpannedKeyAccess<'de> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let key = match self.step {
            0 => "span",
            1 => "value",
            _ => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.step += 1;
        if self.step == 1 {
            let s = self.entry.key_span;
            seed.deserialize(span_pair(s))
        } else {
            seed.deserialize(KeyDeserializer(self.entry))
        }
    }
}

/// A span as the `(start, end)` pair [`Spanned`] reads.
fn span_pair(s: Span) -> de::value::SeqDeserializer<std::array::IntoIter<u32, 2>, Error> {
    de::value::SeqDeserializer::new([s.start, s.end].into_iter())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::yaml::{Budget, parse_stream};

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Cfg {
        fail_on: Option<Spanned<String>>,
        labels: Option<Vec<String>>,
        rules: Option<Vec<Spanned<u32>>>,
    }

    fn parse(text: &str) -> (String, Result<Cfg, Error>) {
        let stream = parse_stream(text, &Budget::STRICT);
        let root = stream.documents.into_iter().next().map(|d| d.root);
        let root = Box::leak(Box::new(root.unwrap_or_default()));
        (text.to_string(), from_node(root))
    }

    fn at(text: &str, e: &Error) -> String {
        let s = e.span.expect("a span");
        text[s.range()].to_string()
    }

    #[test]
    fn field_names_are_the_serialized_ones() {
        assert_eq!(field_names::<Cfg>(), ["failOn", "labels", "rules"]);
    }

    #[test]
    fn values_keep_their_spans() {
        let (text, cfg) = parse("failOn: warning\nlabels: [app]\nrules: [1, 2]\n");
        let cfg = cfg.unwrap();
        let fail_on = cfg.fail_on.unwrap();
        assert_eq!(fail_on.value, "warning");
        assert_eq!(&text[fail_on.span.range()], "warning");
        assert_eq!(cfg.labels.unwrap(), ["app"]);
        assert_eq!(&text[cfg.rules.unwrap()[1].span.range()], "2");
    }

    #[test]
    fn errors_point_at_the_bad_key_or_value() {
        let (text, cfg) = parse("labels: [app]\nfailon: x\n");
        let e = cfg.unwrap_err();
        assert!(e.message.contains("unknown field `failon`"), "{e}");
        assert_eq!(at(&text, &e), "failon");
        let (text, cfg) = parse("rules: [1, two]\n");
        let e = cfg.unwrap_err();
        assert!(e.message.contains("invalid type"), "{e}");
        assert_eq!(at(&text, &e), "two");
    }
}
