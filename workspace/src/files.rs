//! The inventory source for files: the objects of context files and workspace folders, read
//! with the [collector](crate::collect), for `serve --context` and the language server.
//! (`check` and `plan` hand their `--context` sources to the linter, which indexes them as it
//! reads its inputs.)

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use canarylint::model::Object;
use canarylint::{Budget, Inventory, Kind, Node, ParsedFile, SourceFile, read};

use crate::collect::{Seen, Slot, find};

/// An object of a cluster (or of an AdmissionReview) as JSON, made an inventory object.
pub fn object_from_json(
    kind: Kind,
    json: &serde_json::Value,
    default_namespace: &str,
) -> Option<Object> {
    let namespace = json
        .pointer("/metadata/namespace")
        .and_then(serde_json::Value::as_str)
        .unwrap_or(default_namespace);
    Object::extract(kind, &Node::from_json(json), namespace, None)
}

/// Context files read into an inventory, and what they say of its completeness.
pub struct Seed {
    pub inventory: Inventory,
    /// The namespaces each kind was seen in: for those, the files are taken as complete.
    pub namespaces: HashMap<Kind, HashSet<String>>,
    pub files: usize,
    /// Problems of the files (`file: message`): their readable objects are still used.
    pub problems: Vec<String>,
}

/// Reads context paths (files, or directories walked by the [collector](crate::collect)) into
/// an inventory of their objects, for `serve --context`: files are read a chunk of documents at
/// a time, so a large one never costs its whole tree. Any path that cannot be read is an
/// error.
pub fn load_context(paths: &[PathBuf], default_namespace: &str) -> Result<Seed, String> {
    let mut files = Vec::new();
    for slot in find(paths, &mut Seen::default()) {
        match slot {
            Slot::Files(found) => files.extend(found),
            Slot::Error(e) if e.source.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("{}: no such file or directory", e.path.display()));
            }
            Slot::Error(e) => return Err(e.to_string()),
            Slot::Stdin => return Err("standard input cannot be a context".into()),
        }
    }
    let mut inventory = Inventory::new();
    let mut namespaces: HashMap<Kind, HashSet<String>> = HashMap::new();
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(&f.path)
            .map_err(|e| format!("cannot read {}: {e}", f.display))?;
        let name: Arc<str> = f.display.as_str().into();
        for chunk in chunks(&text, CHUNK_BYTES) {
            let parsed = canarylint::read(
                Arc::new(SourceFile::new(name.clone(), chunk)),
                &Budget::GENEROUS,
            );
            for problem in &parsed.problems {
                problems.push(format!("{}: {}", f.display, problem.message));
            }
            for doc in parsed.documents.iter().filter(|d| d.kind != Kind::Other) {
                let namespace = doc.namespace_or(default_namespace);
                if doc.name.is_some() {
                    namespaces
                        .entry(doc.kind)
                        .or_default()
                        .insert(namespace.to_string());
                }
                // No origin: a review never shows where a context object was read, and
                // positions in a chunk would not be the file's.
                if let Some(object) = Object::extract(doc.kind, &doc.root, namespace, None) {
                    inventory.insert(object);
                }
            }
        }
    }
    Ok(Seed {
        inventory,
        namespaces,
        files: files.len(),
        problems,
    })
}

/// Context files are read this many bytes of documents at a time. A tree costs about ten
/// times its text: read whole, one large file (all the Deployments of a cluster) would make
/// the server's heap ten times that file for good, since the allocator keeps what it once
/// held; read in chunks, the heap holds the inventory and one chunk's tree.
const CHUNK_BYTES: usize = 256 * 1024;

/// Cuts a YAML stream into chunks of whole documents, at document markers (`---` at the
/// start of a line, which ends any scalar before it), of about `max` bytes each. A stream
/// with directives (`%YAML`, `%TAG`: they belong to the document after them) stays whole.
fn chunks(text: &str, max: usize) -> Vec<&str> {
    if text.len() <= max || text.lines().any(|l| l.starts_with('%')) {
        return vec![text];
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let marker = line.starts_with("---")
            && matches!(
                line.as_bytes().get(3),
                None | Some(b' ' | b'\t' | b'\n' | b'\r')
            );
        if marker && at - start >= max {
            out.push(&text[start..at]);
            start = at;
        }
        at += line.len();
    }
    out.push(&text[start..]);
    out
}

/// A file that holds objects rules look up.
#[derive(Debug)]
pub struct DiskFile {
    pub source: Arc<SourceFile>,
    pub objects: Arc<Vec<Object>>,
}

/// Reads one file whole; `None` when it cannot be read, is larger than `max_bytes`, or holds
/// no object rules look up.
pub fn read_objects(path: &Path, max_bytes: u64, default_namespace: &str) -> Option<DiskFile> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > max_bytes {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let source = Arc::new(SourceFile::new(path.display().to_string(), text));
    let parsed = read(source.clone(), &Budget::GENEROUS);
    let objects = objects_of(&parsed, default_namespace);
    (!objects.is_empty()).then(|| DiskFile {
        source,
        objects: Arc::new(objects),
    })
}

/// The inventory objects of a parsed file, one per name (the last one written wins, as it
/// would in the cluster), by kind.
pub fn objects_of(parsed: &ParsedFile, namespace: &str) -> Vec<Object> {
    let mut kinds: Vec<Kind> = parsed
        .documents
        .iter()
        .map(|d| d.kind)
        .filter(|k| *k != Kind::Other)
        .collect();
    if kinds.is_empty() {
        return Vec::new();
    }
    kinds.sort();
    kinds.dedup();
    let mut inv = Inventory::new();
    inv.add_file(parsed, namespace);
    kinds
        .into_iter()
        .flat_map(|k| inv.all(k).cloned().collect::<Vec<_>>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: usize) -> String {
        let mut text = String::from("# a comment before the first document\n");
        for i in 0..n {
            text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\n  namespace: ns{}\n  annotations:\n    note: |\n      a block scalar\n      of two lines\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        ports:\n        - containerPort: {}\n",
                i % 7,
                8000 + i
            ));
        }
        text
    }

    #[test]
    fn chunks_cut_only_at_document_markers_and_lose_nothing() {
        let text = stream(3000);
        let parts = chunks(&text, 16 * 1024);
        assert!(parts.len() > 10, "{}", parts.len());
        assert_eq!(parts.concat(), text);
        assert!(parts[1..].iter().all(|p| p.starts_with("---\n")));
        assert_eq!(chunks("a: 1\n", 1), vec!["a: 1\n"]);
        let directive = format!("%YAML 1.1\n{text}");
        assert_eq!(chunks(&directive, 1024).len(), 1);
    }

    #[test]
    fn a_large_context_file_gives_the_objects_of_a_whole_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployments.yaml");
        let text = stream(3000);
        assert!(text.len() > 2 * CHUNK_BYTES);
        std::fs::write(&path, &text).unwrap();
        let seed = load_context(std::slice::from_ref(&path), "default").unwrap();
        let whole = canarylint::read(Arc::new(SourceFile::new("whole", text)), &Budget::GENEROUS);
        let mut expected = Inventory::new();
        expected.add_file(&whole, "default");
        assert_eq!(seed.inventory.count(Kind::Deployment), 3000);
        for i in [0, 1499, 2999] {
            let ns = format!("ns{}", i % 7);
            let name = format!("d{i}");
            let got = seed.inventory.lookup(Kind::Deployment, &ns, &name);
            let want = expected.lookup(Kind::Deployment, &ns, &name);
            let (got, want) = (got.found().unwrap(), want.found().unwrap());
            let ports = |o: &Object| format!("{:?}", o.as_workload().map(|w| &w.containers));
            assert_eq!(ports(got), ports(want));
        }
        assert_eq!(seed.namespaces[&Kind::Deployment].len(), 7);
    }
}
