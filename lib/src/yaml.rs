//! One pass from YAML (or JSON) text to a tree of values with byte spans.
//!
//! The tree follows what `kubectl` sends to the API server (sigs.k8s.io/yaml, go-yaml v2
//! semantics): YAML 1.1 booleans (`on`, `yes`, `y`), octal and binary integers, `<<` merge
//! keys, aliases expanded. Every value and every mapping key keeps the byte span it came from,
//! so a finding can point at the exact key or value without a second parse.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Tag};

pub use crate::tree::{Entry, Node, Span, Str, Value, format_number};

/// Limits that keep hostile input from exhausting memory or time.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Nodes in one stream, counting every alias expansion.
    pub max_nodes: usize,
    /// Nodes that aliases add to one stream: a few bytes of `*a` can stand for a large tree,
    /// so copies get their own, much lower limit ("billion laughs").
    pub max_alias_nodes: usize,
    /// Nesting depth of mappings and sequences.
    pub max_depth: usize,
    /// Documents in one stream.
    pub max_documents: usize,
    /// Bytes of one stream.
    pub max_bytes: usize,
    /// Bytes of one line: past it, a snippet of the line would flood a terminal or an editor.
    pub max_line_bytes: usize,
}

impl Budget {
    /// For files a user points the CLI or the editor at: generous.
    pub const GENEROUS: Budget = Budget {
        max_nodes: 50_000_000,
        max_alias_nodes: 1_000_000,
        max_depth: 256,
        max_documents: 1_000_000,
        max_bytes: 1 << 30,
        max_line_bytes: 16 << 20,
    };
    /// For requests from the network: a single object, tight limits.
    pub const STRICT: Budget = Budget {
        max_nodes: 250_000,
        max_alias_nodes: 10_000,
        max_depth: 64,
        max_documents: 16,
        max_bytes: 8 << 20,
        // Objects from the API server arrive as JSON, all on one line.
        max_line_bytes: 8 << 20,
    };
}

impl Default for Budget {
    fn default() -> Self {
        Budget::GENEROUS
    }
}

/// A problem that stops reading (part of) a stream, or a duplicate key.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
    /// For a duplicate key: where the key first appeared.
    pub first: Option<Span>,
}

/// One document of a stream.
#[derive(Clone, Debug)]
pub struct RawDocument {
    pub root: Node,
    /// From the document's first content to its last.
    pub span: Span,
}

/// The documents read from a stream and the problems met on the way. Documents completed
/// before a syntax error are kept.
#[derive(Debug, Default)]
pub struct Stream {
    pub documents: Vec<RawDocument>,
    pub errors: Vec<YamlError>,
}

fn byte(m: &granit_parser::Marker) -> u32 {
    m.byte_offset().unwrap_or(m.index()) as u32
}

fn to_span(s: &granit_parser::Span) -> Span {
    Span::new(byte(&s.start), byte(&s.end))
}

/// An open collection. Its finished children wait on the builder's shared stacks from `base`
/// on, so that each collection is allocated once, at its final size, when it closes.
enum Frame {
    Seq {
        base: usize,
        start: u32,
        anchor: usize,
    },
    Map {
        base: usize,
        /// Key → position (from `base`), built once a mapping is large enough to need it.
        index: Option<HashMap<Str, usize>>,
        key: Option<PendingKey>,
        merges: Vec<Node>,
        start: u32,
        anchor: usize,
    },
}

struct PendingKey {
    text: Str,
    span: Span,
    merge: bool,
}

/// The first line longer than `max` bytes: its start offset and length.
fn long_line(text: &str, max: usize) -> Option<(usize, usize)> {
    if text.len() <= max {
        return None;
    }
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if line.len() > max + 1 {
            let body = line.strip_suffix('\n').unwrap_or(line);
            if body.len() > max {
                return Some((start, body.len()));
            }
        }
        start += line.len();
    }
    None
}

fn refusal(message: String, span: Span) -> YamlError {
    YamlError {
        message,
        span,
        first: None,
    }
}

/// Reads a YAML or JSON stream.
pub fn parse_stream(text: &str, budget: &Budget) -> Stream {
    let mut out = Stream::default();
    if text.len() > budget.max_bytes {
        out.errors.push(refusal(
            format!(
                "input is {} bytes, over the limit of {} bytes",
                text.len(),
                budget.max_bytes
            ),
            Span::empty(0),
        ));
        return out;
    }
    if let Some((at, len)) = long_line(text, budget.max_line_bytes) {
        out.errors.push(refusal(
            format!(
                "a line of {len} bytes, over the limit of {} bytes per line",
                budget.max_line_bytes
            ),
            Span::empty(at as u32),
        ));
        return out;
    }
    // A byte-order mark is not content; the parser would take it for a scalar.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[bom..];
    let mut b = Builder {
        stack: Vec::new(),
        items: Vec::new(),
        entries: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        alias_nodes: 0,
        budget: *budget,
        errors: Vec::new(),
    };
    let mut doc_root: Option<Node> = None;
    let mut doc_start = 0u32;
    // Suppression comments are found by a scan of the text; the parser only has to skip them.
    let mut options = granit_parser::Options::default();
    options.set_emit_comments(false);
    // The parser counts nesting too (its scanner reads ahead, so it may notice first): the
    // same limit, and the budget's message for both.
    options.flow_nesting_limit = budget.max_depth;
    options.block_nesting_limit = budget.max_depth;
    let mut parser = Parser::new_from_str_with_options(body, options);
    let shift = |s: Span| Span::new(s.start + bom as u32, s.end + bom as u32);
    while let Some(next) = parser.next_event() {
        let (event, raw_span) = match next {
            Ok(ev) => ev,
            Err(e) => {
                let at = shift(Span::empty(byte(e.marker())));
                let message = match e.kind() {
                    granit_parser::ErrorKind::RecursionLimitExceeded => {
                        format!("nesting deeper than {} levels", budget.max_depth)
                    }
                    _ => e.info().to_string(),
                };
                out.errors.push(refusal(message, at));
                break;
            }
        };
        let span = shift(to_span(&raw_span));
        let result = match event {
            Event::DocumentStart(..) => {
                doc_root = None;
                doc_start = span.end;
                b.anchors.clear();
                Ok(None)
            }
            Event::DocumentEnd => {
                if let Some(root) = doc_root.take() {
                    if out.documents.len() >= b.budget.max_documents {
                        out.errors.push(refusal(
                            format!(
                                "more than {} documents in one stream",
                                b.budget.max_documents
                            ),
                            root.span,
                        ));
                        break;
                    }
                    let start = root.span.start.max(doc_start.min(root.span.start));
                    let end = root.span.end;
                    out.documents.push(RawDocument {
                        root,
                        span: Span::new(start, end),
                    });
                }
                Ok(None)
            }
            Event::Alias(id) => b.alias(id, span),
            Event::Scalar(text, style, anchor, tag) => {
                b.scalar(Str::from(text), style, anchor, tag.as_deref(), span)
            }
            Event::SequenceStart(_, anchor, _) => {
                let base = b.items.len();
                b.open(
                    Frame::Seq {
                        base,
                        start: span.start,
                        anchor,
                    },
                    span,
                )
            }
            Event::MappingStart(_, anchor, _) => {
                let base = b.entries.len();
                b.open(
                    Frame::Map {
                        base,
                        index: None,
                        key: None,
                        merges: Vec::new(),
                        start: span.start,
                        anchor,
                    },
                    span,
                )
            }
            Event::SequenceEnd | Event::MappingEnd => b.close(span),
            Event::UnresolvedAlias(name) => {
                Err(refusal(format!("alias *{name} refers to no anchor"), span))
            }
            _ => Ok(None),
        };
        match result {
            Ok(Some(node)) => doc_root = Some(node),
            Ok(None) => {}
            Err(e) => {
                out.errors.push(e);
                break;
            }
        }
    }
    out.errors.append(&mut b.errors);
    out
}

struct Builder {
    stack: Vec<Frame>,
    /// Finished items of the open sequences, innermost last.
    items: Vec<Node>,
    /// Finished entries of the open mappings, innermost last.
    entries: Vec<Entry>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    alias_nodes: usize,
    budget: Budget,
    errors: Vec<YamlError>,
}

impl Builder {
    fn count(&mut self, n: usize, span: Span) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > self.budget.max_nodes {
            return Err(refusal(
                format!(
                    "more than {} values in one stream (aliases expanded); refusing to read on",
                    self.budget.max_nodes
                ),
                span,
            ));
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame, span: Span) -> Result<Option<Node>, YamlError> {
        if self.stack.len() >= self.budget.max_depth {
            return Err(refusal(
                format!("nesting deeper than {} levels", self.budget.max_depth),
                span,
            ));
        }
        self.count(1, span)?;
        self.stack.push(frame);
        Ok(None)
    }

    fn close(&mut self, span: Span) -> Result<Option<Node>, YamlError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(None);
        };
        let (node, anchor) = match frame {
            Frame::Seq {
                base,
                start,
                anchor,
            } => {
                let items: Box<[Node]> = self.items.drain(base..).collect();
                let end = items.last().map_or(span.end, |n| n.span.end).max(start);
                (Node::new(Value::Seq(items), Span::new(start, end)), anchor)
            }
            Frame::Map {
                base,
                index,
                merges,
                start,
                anchor,
                ..
            } => {
                let mut entries: Vec<Entry> = self.entries.drain(base..).collect();
                let end = entries
                    .last()
                    .map_or(span.end, |e| e.value.span.end.max(e.key_span.end))
                    .max(start);
                if !merges.is_empty() {
                    apply_merges(&mut entries, index, merges);
                }
                (
                    Node::new(
                        Value::Map(entries.into_boxed_slice()),
                        Span::new(start, end),
                    ),
                    anchor,
                )
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push(node)
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<Option<Node>, YamlError> {
        let Some(target) = self.anchors.get(&id) else {
            return Err(refusal("alias to an unknown anchor".into(), span));
        };
        let size = count_nodes(target);
        // Counted before the copy is made: the budget exists to stop that copy.
        self.alias_nodes += size;
        if self.alias_nodes > self.budget.max_alias_nodes {
            return Err(refusal(
                format!(
                    "aliases expand to more than {} values in one stream; refusing to read on",
                    self.budget.max_alias_nodes
                ),
                span,
            ));
        }
        self.count(size, span)?;
        let Some(target) = self.anchors.get(&id) else {
            return Err(refusal("alias to an unknown anchor".into(), span));
        };
        let mut node = target.clone();
        // The alias stands where it is written; its content keeps the anchor's spans.
        node.span = span;
        self.push(node)
    }

    fn scalar(
        &mut self,
        text: Str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Option<Node>, YamlError> {
        self.count(1, span)?;
        // A key is kept as text; everything else is resolved.
        if let Some(Frame::Map { key, .. }) = self.stack.last_mut()
            && key.is_none()
        {
            let plain = style == ScalarStyle::Plain;
            let merge = plain && text == "<<" && tag.is_none();
            let text = if plain && tag.is_none() {
                match resolve_plain(&text) {
                    Value::Bool(b) => Str::from(if b { "true" } else { "false" }),
                    _ => text,
                }
            } else {
                text
            };
            *key = Some(PendingKey { text, span, merge });
            return Ok(None);
        }
        let value = resolve(text, style, tag);
        let node = Node::new(value, span);
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push(node)
    }

    /// Hands a finished value to its parent; returns it when it is a document's root.
    fn push(&mut self, node: Node) -> Result<Option<Node>, YamlError> {
        match self.stack.last_mut() {
            None => Ok(Some(node)),
            Some(Frame::Seq { .. }) => {
                self.items.push(node);
                Ok(None)
            }
            Some(Frame::Map {
                base,
                index,
                key,
                merges,
                ..
            }) => {
                let Some(k) = key.take() else {
                    // A mapping or sequence used as a key.
                    return Err(refusal(
                        "a mapping or list cannot be used as a key".into(),
                        node.span,
                    ));
                };
                if k.merge {
                    match &node.value {
                        Value::Map(_) => merges.push(node),
                        Value::Seq(items) if items.iter().all(Node::is_map) => {
                            if let Value::Seq(items) = node.value {
                                merges.extend(items);
                            }
                        }
                        _ => {
                            return Err(refusal(
                                "a merge key `<<` needs a mapping or a list of mappings".into(),
                                node.span,
                            ));
                        }
                    }
                    return Ok(None);
                }
                let base = *base;
                let entries = &mut self.entries[base..];
                match find_key(entries, index, &k.text) {
                    Some(i) => {
                        self.errors.push(YamlError {
                            message: format!("duplicate key `{}` in a mapping", k.text),
                            span: k.span,
                            first: Some(entries[i].key_span),
                        });
                        // Last one wins, as a lenient decoder would keep it.
                        entries[i] = Entry {
                            key: k.text,
                            key_span: k.span,
                            value: node,
                        };
                    }
                    None => {
                        let at = entries.len();
                        if let Some(ix) = index.as_mut() {
                            ix.insert(k.text.clone(), at);
                        } else if at >= 16 {
                            let mut ix: HashMap<Str, usize> = entries
                                .iter()
                                .enumerate()
                                .map(|(i, e)| (e.key.clone(), i))
                                .collect();
                            ix.insert(k.text.clone(), at);
                            *index = Some(ix);
                        }
                        self.entries.push(Entry {
                            key: k.text,
                            key_span: k.span,
                            value: node,
                        });
                    }
                }
                Ok(None)
            }
        }
    }
}

fn find_key(entries: &[Entry], index: &Option<HashMap<Str, usize>>, key: &str) -> Option<usize> {
    match index {
        Some(ix) => ix.get(key).copied(),
        None => entries.iter().position(|e| e.key == key),
    }
}

/// Explicit keys win over merged ones; among merged mappings the first one wins.
fn apply_merges(entries: &mut Vec<Entry>, index: Option<HashMap<Str, usize>>, merges: Vec<Node>) {
    let mut seen: std::collections::HashSet<Str> = match index {
        Some(ix) => ix.into_keys().collect(),
        None => entries.iter().map(|e| e.key.clone()).collect(),
    };
    for m in merges {
        if let Value::Map(extra) = m.value {
            for e in extra {
                if seen.insert(e.key.clone()) {
                    entries.push(e);
                }
            }
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|e| 1 + count_nodes(&e.value))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn resolve(text: Str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag
        && (tag.handle() == "tag:yaml.org,2002:" || tag.handle() == "!!")
    {
        return match tag.suffix() {
            "str" | "binary" | "timestamp" => Value::Str(text),
            "null" => Value::Null,
            "bool" | "int" | "float" => match resolve_plain(&text) {
                v @ (Value::Bool(_) | Value::Int(_) | Value::Float(_)) => v,
                _ => Value::Str(text),
            },
            _ => resolve_by_style(text, style),
        };
    }
    resolve_by_style(text, style)
}

fn resolve_by_style(text: Str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::Str(text);
    }
    match resolve_plain(&text) {
        Value::Str(_) => Value::Str(text),
        v => v,
    }
}

/// YAML 1.1 resolution of a plain scalar, as go-yaml v2 (and so kubectl) does it.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Value::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Value::Str(Str::default());
    }
    let cleaned;
    let t = if s.contains('_') {
        cleaned = s.replace('_', "");
        cleaned.as_str()
    } else {
        s
    };
    if let Some(i) = parse_int(t) {
        return Value::Int(i);
    }
    if is_float(t)
        && let Ok(f) = t.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(Str::default())
}

fn parse_int(t: &str) -> Option<i64> {
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(h) = digits.strip_prefix("0x") {
        (16, h)
    } else if let Some(b) = digits.strip_prefix("0b") {
        (2, b)
    } else if let Some(o) = digits.strip_prefix("0o") {
        (8, o)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let v = i64::from_str_radix(body, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn is_float(t: &str) -> bool {
    // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - fs;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let s = parse_stream(text, &Budget::default());
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        s.documents.into_iter().next().map(|d| d.root).unwrap()
    }

    #[test]
    fn a_node_is_four_words() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Node>(), 32);
        assert_eq!(std::mem::size_of::<Entry>(), 64);
    }

    #[test]
    fn yaml11_scalars() {
        let n = one(
            "a: on\nb: yes\nc: NO\nd: \"on\"\ne: 0777\nf: ~\ng: 1.5\nh: 0x1F\ni: 1_000\nj: 08\nk: y\n",
        );
        assert_eq!(n.get("a").unwrap().value, Value::Bool(true));
        assert_eq!(n.get("b").unwrap().value, Value::Bool(true));
        assert_eq!(n.get("c").unwrap().value, Value::Bool(false));
        assert_eq!(n.get("d").unwrap().value, Value::Str("on".into()));
        assert_eq!(n.get("e").unwrap().value, Value::Int(511));
        assert_eq!(n.get("f").unwrap().value, Value::Null);
        assert_eq!(n.get("g").unwrap().value, Value::Float(1.5));
        assert_eq!(n.get("h").unwrap().value, Value::Int(31));
        assert_eq!(n.get("i").unwrap().value, Value::Int(1000));
        assert_eq!(n.get("j").unwrap().value, Value::Float(8.0));
        assert_eq!(n.get("k").unwrap().value, Value::Bool(true));
    }

    #[test]
    fn merge_keys_and_aliases() {
        let n = one("base: &b\n  x: 1\n  z: 2\nm:\n  <<: *b\n  z: 3\nl: *b\ny: 1\n");
        let m = n.get("m").unwrap();
        assert_eq!(m.get("x").unwrap().value, Value::Int(1));
        assert_eq!(m.get("z").unwrap().value, Value::Int(3));
        assert_eq!(n.get("l").unwrap().get("z").unwrap().value, Value::Int(2));
        // go-yaml v2 reads a plain `y` key as a boolean, and JSON then spells it "true".
        assert!(n.get("true").is_some());
    }

    #[test]
    fn duplicate_key_is_reported_with_both_positions() {
        let s = parse_stream("a: 1\nb: 2\na: 3\n", &Budget::default());
        assert_eq!(s.errors.len(), 1);
        assert_eq!(s.errors[0].span, Span::new(10, 11));
        assert_eq!(s.errors[0].first, Some(Span::new(0, 1)));
        assert_eq!(s.documents[0].root.get("a").unwrap().value, Value::Int(3));
    }

    #[test]
    fn spans_are_bytes_even_after_multibyte_text() {
        let text = "# héllo wörld\nname: \"ünï\"\nport: 80\n";
        let n = one(text);
        let port = n.entry("port").unwrap();
        assert_eq!(&text[port.key_span.range()], "port");
        assert_eq!(&text[port.value.span.range()], "80");
        let name = n.get("name").unwrap();
        assert_eq!(&text[name.span.range()], "\"ünï\"");
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let s = parse_stream(&text, &Budget::STRICT);
        assert!(
            s.errors
                .iter()
                .any(|e| e.message.contains("aliases expand"))
        );
        // The generous budget stops it too, long before the values would fill memory.
        let s = parse_stream(&text, &Budget::GENEROUS);
        assert!(
            s.errors
                .iter()
                .any(|e| e.message.contains("aliases expand to more than 1000000")),
            "{:?}",
            s.errors
        );
    }

    #[test]
    fn an_overlong_line_is_refused_with_its_position() {
        let budget = Budget {
            max_line_bytes: 8,
            ..Budget::GENEROUS
        };
        let s = parse_stream("a: 1\nname: abcdefgh\n", &budget);
        assert!(s.documents.is_empty());
        assert_eq!(s.errors.len(), 1);
        assert_eq!(s.errors[0].span, Span::empty(5));
        assert!(
            s.errors[0].message.contains("line of 14 bytes"),
            "{:?}",
            s.errors
        );
        // A line of exactly the limit, its newline aside, is fine.
        assert!(parse_stream("a: 1\nb: 34567\n", &budget).errors.is_empty());
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        // Far deeper than any stack would survive if reading recursed.
        let deep = format!("{}1{}", "[".repeat(200_000), "]".repeat(200_000));
        let s = parse_stream(&deep, &Budget::GENEROUS);
        assert!(s.documents.is_empty());
        assert!(
            s.errors[0]
                .message
                .contains("nesting deeper than 256 levels"),
            "{:?}",
            s.errors
        );
        let s = parse_stream(
            &format!("{}1{}", "[".repeat(65), "]".repeat(65)),
            &Budget::STRICT,
        );
        assert!(s.errors[0].message.contains("deeper than 64"));
        let ok = format!("{}1{}", "[".repeat(64), "]".repeat(64));
        assert!(parse_stream(&ok, &Budget::STRICT).errors.is_empty());
    }

    #[test]
    fn documents_and_bytes_are_bounded() {
        let many = "a: 1\n---\n".repeat(17);
        let s = parse_stream(&many, &Budget::STRICT);
        assert_eq!(s.documents.len(), 16);
        assert!(s.errors[0].message.contains("more than 16 documents"));
        let budget = Budget {
            max_bytes: 10,
            ..Budget::STRICT
        };
        let s = parse_stream("a: 1\nb: 2\nc: 3\n", &budget);
        assert!(s.documents.is_empty());
        assert!(s.errors[0].message.contains("over the limit of 10 bytes"));
    }

    #[test]
    fn syntax_error_keeps_earlier_documents() {
        let s = parse_stream("a: 1\n---\nb: [1, 2\n", &Budget::default());
        assert_eq!(s.documents.len(), 1);
        assert_eq!(s.errors.len(), 1);
    }

    #[test]
    fn bom_is_skipped() {
        let text = "\u{feff}a: 1\n";
        let s = parse_stream(text, &Budget::default());
        assert!(s.errors.is_empty());
        let e = s.documents[0].root.entry("a").unwrap();
        assert_eq!(&text[e.key_span.range()], "a");
    }
}
