//! The tree every reader produces and every rule reads: values with the byte span they were
//! read from. YAML ([`crate::yaml`]) and JSON ([`crate::json`]) build it in one pass; the
//! schema, the model, findings and fixes point into it with [`Span`]s.

/// A byte range in a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const fn new(start: u32, end: u32) -> Self {
        Span { start, end }
    }
    pub const fn empty(at: u32) -> Self {
        Span { start: at, end: at }
    }
    pub fn len(&self) -> u32 {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The text of a key or a string value: short ones (most of a manifest's) are stored inline.
pub type Str = compact_str::CompactString;

/// A value of the tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Str),
    // Boxed slices, not vectors: a tree is never grown once read, and without the capacity
    // word the whole value fits in the string's 24 bytes (its spare byte holds the variant).
    Seq(Box<[Node]>),
    Map(Box<[Entry]>),
}

/// A value with the span it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// One `key: value` pair of a mapping, in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Str,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    /// The mapping entries, or an empty slice when this is not a mapping.
    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// The entry for `key` when this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key == key)
    }

    /// The value under `key` when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Follows a chain of mapping keys.
    pub fn at(&self, keys: &[&str]) -> Option<&Node> {
        let mut node = self;
        for key in keys {
            node = node.get(key)?;
        }
        Some(node)
    }

    /// Changes the entries of a mapping in place (a tree is stored at its final size, so the
    /// entries become a vector for the change). `None` when this is not a mapping.
    pub fn edit_entries<R>(&mut self, f: impl FnOnce(&mut Vec<Entry>) -> R) -> Option<R> {
        let Value::Map(stored) = &mut self.value else {
            return None;
        };
        let mut entries = std::mem::take(stored).into_vec();
        let out = f(&mut entries);
        *stored = entries.into_boxed_slice();
        Some(out)
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Any number, as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// An integer (or a float without a fraction, as the API server accepts for `number`).
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The JSON type name, as schema messages use it.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }

    /// A short rendering of a scalar for messages (`"five"`, `60`, `true`).
    pub fn display(&self) -> String {
        match &self.value {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_number(*f),
            Value::Str(s) => {
                let mut t: String = s.chars().take(60).collect();
                if t.len() < s.len() {
                    t.push('…');
                }
                format!("{t:?}")
            }
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
        }
    }

    /// Converts to JSON, as the API server would store it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_string()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.to_string(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Builds a tree from JSON (objects received by the webhook or from a cluster). Spans are
    /// empty: such objects have no source text.
    pub fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        let v = match value {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            J::String(s) => Value::Str(Str::from(s.as_str())),
            J::Array(items) => Value::Seq(items.iter().map(Node::from_json).collect()),
            J::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| Entry {
                        key: Str::from(k.as_str()),
                        key_span: Span::default(),
                        value: Node::from_json(v),
                    })
                    .collect(),
            ),
        };
        Node::new(v, Span::default())
    }
}

/// Formats a float the way a person wrote it (`0.5`, `10`, not `10.0`).
pub fn format_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}
