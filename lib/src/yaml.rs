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
    /// For an error that broke a document: the whole document, from its start to the next
    /// document marker (or the end). The documents around it are still read.
    pub document: Option<Span>,
}

/// One document of a stream.
#[derive(Clone, Debug)]
pub struct RawDocument {
    pub root: Node,
    /// From the document's first content to its last.
    pub span: Span,
}

/// The documents read from a stream and the problems met on the way. A syntax error breaks
/// only its own document: reading goes on at the next document marker, as `kubectl` reads.
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
        document: None,
    }
}

/// Whether a line separates documents for `kubectl`'s reader (k8s.io/apimachinery
/// `YAMLReader.Read`): `---` at the start of the line, then nothing but spaces or a comment.
pub fn is_document_marker(line: &str) -> bool {
    line.strip_prefix("---").is_some_and(|rest| {
        let rest = rest.trim();
        rest.is_empty() || rest.starts_with('#')
    })
}

/// Where reading resumes after an error at `at`, in a run of the parser that started at
/// `from`: the first document marker on the error's line or after it, past `from`.
fn resume_point(text: &str, from: usize, at: usize) -> Option<usize> {
    let at = at.min(text.len());
    let mut pos = text[..at].rfind('\n').map_or(0, |i| i + 1);
    for line in text[pos..].split_inclusive('\n') {
        if pos > from && is_document_marker(line.trim_end_matches(['\n', '\r'])) {
            return Some(pos);
        }
        pos += line.len();
    }
    None
}

/// Why one run of the parser stopped before the end of the text.
struct Stop {
    error: YamlError,
    /// Where the broken document started.
    document_start: u32,
    /// A budget ran out: nothing more is read.
    fatal: bool,
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
        fatal: false,
    };
    // One parser reads the whole stream; only after an error does another start, at the
    // next document marker, so that no document is read twice.
    let mut from = 0usize;
    while let Err(stop) = b.read(body, from, bom as u32, &mut out) {
        let Stop {
            mut error,
            document_start,
            fatal,
        } = stop;
        let resume = if fatal {
            None
        } else {
            resume_point(body, from, (error.span.start as usize).saturating_sub(bom))
        };
        if !fatal {
            let end = resume.map_or(text.len(), |r| r + bom) as u32;
            error.document = Some(Span::new(document_start.min(error.span.start), end));
        }
        out.errors.push(error);
        match resume {
            Some(r) => {
                from = r;
                b.reset();
            }
            None => break,
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
    /// Set with an error that ends the whole stream (a budget ran out).
    fatal: bool,
}

impl Builder {
    /// Forgets a broken document's unfinished collections and anchors.
    fn reset(&mut self) {
        self.stack.clear();
        self.items.clear();
        self.entries.clear();
        self.anchors.clear();
    }

    /// Runs one parser over `body[from..]` (`shift` is where `body` starts in the text),
    /// collecting finished documents into `out`, until the end or the first error.
    fn read(&mut self, body: &str, from: usize, shift: u32, out: &mut Stream) -> Result<(), Stop> {
        let shift = shift + from as u32;
        let mut doc_root: Option<Node> = None;
        let mut doc_start = shift;
        // Suppression comments are found by a scan of the text; the parser only has to skip
        // them.
        let mut options = granit_parser::Options::default();
        options.set_emit_comments(false);
        // The parser counts nesting too (its scanner reads ahead, so it may notice first):
        // the same limit, and the budget's message for both.
        options.flow_nesting_limit = self.budget.max_depth;
        options.block_nesting_limit = self.budget.max_depth;
        let mut parser = Parser::new_from_str_with_options(&body[from..], options);
        let moved = |s: Span| Span::new(s.start + shift, s.end + shift);
        let stop = |error: YamlError, document_start: u32, fatal: bool| Stop {
            error,
            document_start,
            fatal,
        };
        while let Some(next) = parser.next_event() {
            let (event, raw_span) = match next {
                Ok(ev) => ev,
                Err(e) => {
                    let at = moved(Span::empty(byte(e.marker())));
                    let message = match e.kind() {
                        granit_parser::ErrorKind::RecursionLimitExceeded => {
                            format!("nesting deeper than {} levels", self.budget.max_depth)
                        }
                        _ => e.info().to_string(),
                    };
                    return Err(stop(refusal(message, at), doc_start, false));
                }
            };
            let span = moved(to_span(&raw_span));
            let result = match event {
                Event::DocumentStart(..) => {
                    doc_root = None;
                    doc_start = span.start;
                    self.anchors.clear();
                    Ok(None)
                }
                Event::DocumentEnd => {
                    if let Some(root) = doc_root.take() {
                        if out.documents.len() >= self.budget.max_documents {
                            let e = refusal(
                                format!(
                                    "more than {} documents in one stream",
                                    self.budget.max_documents
                                ),
                                root.span,
                            );
                            return Err(stop(e, doc_start, true));
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
                Event::Alias(id) => self.alias(id, span),
                Event::Scalar(text, style, anchor, tag) => {
                    self.scalar(Str::from(text), style, anchor, tag.as_deref(), span)
                }
                Event::SequenceStart(_, anchor, _) => {
                    let base = self.items.len();
                    self.open(
                        Frame::Seq {
                            base,
                            start: span.start,
                            anchor,
                        },
                        span,
                    )
                }
                Event::MappingStart(_, anchor, _) => {
                    let base = self.entries.len();
                    self.open(
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
                Event::SequenceEnd | Event::MappingEnd => self.close(span),
                Event::UnresolvedAlias(name) => {
                    Err(refusal(format!("alias *{name} refers to no anchor"), span))
                }
                _ => Ok(None),
            };
            match result {
                Ok(Some(node)) => doc_root = Some(node),
                Ok(None) => {}
                Err(e) => {
                    let fatal = std::mem::take(&mut self.fatal);
                    return Err(stop(e, doc_start, fatal));
                }
            }
        }
        Ok(())
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > self.budget.max_nodes {
            self.fatal = true;
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
            self.fatal = true;
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
                            document: None,
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

    fn keys(s: &Stream) -> Vec<&str> {
        s.documents
            .iter()
            .map(|d| d.root.entries().first().map_or("", |e| e.key.as_str()))
            .collect()
    }

    #[test]
    fn a_broken_document_breaks_only_itself() {
        let text = "a: 1\n---\nb:\n  x: 1\n y: 2\n---\nc: 3\n";
        let s = parse_stream(text, &Budget::default());
        assert_eq!(keys(&s), ["a", "c"]);
        assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
        let doc = s.errors[0].document.unwrap();
        assert_eq!(&text[doc.range()], "---\nb:\n  x: 1\n y: 2\n");
        // The spans of the documents after the broken one are the text's own.
        let c = s.documents[1].root.entry("c").unwrap();
        assert_eq!(&text[c.key_span.range()], "c");
        assert_eq!(&text[c.value.span.range()], "3");
    }

    #[test]
    fn reading_resumes_after_errors_found_at_the_next_marker() {
        // An unclosed flow collection and an unclosed quote are only noticed at the marker.
        for broken in ["b: [1, 2\n", "b: {x: 1\n", "b: \"open\n"] {
            let text = format!("a: 1\n---\n{broken}--- # next\nc: 3\n---\nd: 4\n");
            let s = parse_stream(&text, &Budget::default());
            assert_eq!(keys(&s), ["a", "c", "d"], "{broken:?}: {:?}", s.errors);
            assert_eq!(s.errors.len(), 1, "{broken:?}");
            let doc = s.errors[0].document.unwrap();
            assert!(text[doc.range()].contains(broken.trim_end()), "{broken:?}");
            assert!(!text[doc.range()].contains("c: 3"), "{broken:?}");
        }
    }

    #[test]
    fn every_broken_document_is_reported() {
        let text = "a: [\n---\nb: 1\n---\n- c\nx: 2\n---\nd: 1\n  e: 2\n";
        let s = parse_stream(text, &Budget::default());
        assert_eq!(keys(&s), ["b"]);
        assert_eq!(s.errors.len(), 3, "{:?}", s.errors);
        assert!(s.errors.iter().all(|e| e.document.is_some()));
        // The first document has no marker of its own: it starts at the text's start.
        assert_eq!(s.errors[0].document.unwrap().start, 0);
        assert_eq!(s.errors[2].document.unwrap().end as usize, text.len());
    }

    #[test]
    fn only_kubectl_markers_resume_reading() {
        // `---x` and `--- text` do not separate documents for kubectl's reader.
        for line in ["---x", "--- {z: 1}", "  ---"] {
            let text = format!("a: [\n{line}\nb: 1\n");
            let s = parse_stream(&text, &Budget::default());
            assert!(s.documents.is_empty(), "{line:?}: {:?}", keys(&s));
        }
        assert!(is_document_marker("---"));
        assert!(is_document_marker("---   "));
        assert!(is_document_marker("--- # a comment"));
        assert!(!is_document_marker("---x"));
        assert!(!is_document_marker("--- |"));
        assert!(!is_document_marker(" ---"));
    }

    #[test]
    fn a_budget_that_runs_out_ends_the_stream() {
        let budget = Budget {
            max_nodes: 5,
            ..Budget::default()
        };
        let s = parse_stream("a: 1\n---\nb: [1, 2, 3, 4]\n---\nc: 3\n", &budget);
        assert_eq!(keys(&s), ["a"]);
        assert_eq!(s.errors.len(), 1);
        assert!(s.errors[0].document.is_none());
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
