//! Typed views over the object tree: the fields rules read, each with the node it came from.
//!
//! Views borrow the tree and never fail: a field of the wrong type reads as absent (the schema
//! rules report the type), so every rule sees the same, total model.

mod canary;
mod objects;

pub use canary::*;
pub use objects::*;

use crate::tree::{Node, Str, Value};

/// A value read from the tree, with the node to point findings at.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a, T> {
    pub value: T,
    pub node: &'a Node,
}

/// A port written as a number or as a name (`int-or-string`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortRef<'a> {
    Number(i64),
    Name(&'a str),
}

impl std::fmt::Display for PortRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(s) => write!(f, "{s}"),
        }
    }
}

pub fn str_field<'a>(node: &'a Node, key: &str) -> Option<Field<'a, &'a str>> {
    let n = node.get(key)?;
    Some(Field {
        value: n.as_str()?,
        node: n,
    })
}

pub fn num_field<'a>(node: &'a Node, key: &str) -> Option<Field<'a, f64>> {
    let n = node.get(key)?;
    Some(Field {
        value: n.as_f64()?,
        node: n,
    })
}

pub fn bool_field<'a>(node: &'a Node, key: &str) -> Option<Field<'a, bool>> {
    let n = node.get(key)?;
    Some(Field {
        value: n.as_bool()?,
        node: n,
    })
}

pub fn map_field<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    node.get(key).filter(|n| n.is_map())
}

pub fn port_field<'a>(node: &'a Node, key: &str) -> Option<Field<'a, PortRef<'a>>> {
    let n = node.get(key)?;
    let value = match &n.value {
        Value::Str(s) => match s.parse::<i64>() {
            Ok(i) => PortRef::Number(i),
            Err(_) => PortRef::Name(s),
        },
        _ => PortRef::Number(n.as_i64()?),
    };
    Some(Field { value, node: n })
}

/// The string items of a list field (other items are skipped).
pub fn str_list<'a>(node: &'a Node, key: &str) -> Vec<Field<'a, &'a str>> {
    node.get(key)
        .map(|l| {
            l.items()
                .iter()
                .filter_map(|n| {
                    Some(Field {
                        value: n.as_str()?,
                        node: n,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The mapping items of a list field.
pub fn map_list<'a>(node: &'a Node, key: &str) -> impl Iterator<Item = &'a Node> {
    node.get(key)
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter(|n| n.is_map())
}

/// `key: value` pairs of a string map (labels, matchLabels).
pub fn string_map(node: Option<&Node>) -> Vec<(Str, Str)> {
    node.map(|n| {
        n.entries()
            .iter()
            .filter_map(|e| {
                let v = match &e.value.value {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => Str::from(i.to_string()),
                    Value::Bool(b) => Str::from(if *b { "true" } else { "false" }),
                    _ => return None,
                };
                Some((e.key.clone(), v))
            })
            .collect()
    })
    .unwrap_or_default()
}
