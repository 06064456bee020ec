//! The inventory source for files: the objects of context files and workspace folders, read
//! with the [collector](crate::collect), for `serve --context` and the language server.
//! (`check` and `plan` hand their `--context` sources to the linter, which indexes them as it
//! reads its inputs.)

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use canarylint::kustomize::{Kustomization, is_kustomization_file};
use canarylint::model::Object;
use canarylint::{Broken, Budget, Inventory, Kind, Node, SourceFile, read};

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
    /// Files set aside as kustomize patches: (file shown, kustomization directory).
    pub patches: Vec<(String, String)>,
}

/// Reads context paths (files, or directories walked by the [collector](crate::collect)) into
/// an inventory of their objects, for `serve --context`: files are read a chunk of documents at
/// a time, so a large one never costs its whole tree. Any path that cannot be read is an
/// error. Files a kustomization lists as patches are not objects; the namespace a
/// kustomization sets replaces the one written. Objects without a namespace land in
/// `default_namespace`; when that is `assumed`, they vouch for no namespace.
pub fn load_context(
    paths: &[PathBuf],
    default_namespace: &str,
    assumed: bool,
) -> Result<Seed, String> {
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
    let keys: Vec<String> = files
        .iter()
        .map(|f| {
            crate::collect::identity(&f.path)
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let layout = crate::units::discover_keys(&keys);
    let mut inventory = Inventory::new();
    let mut namespaces: HashMap<Kind, HashSet<String>> = HashMap::new();
    let mut problems = Vec::new();
    let mut patches = Vec::new();
    for (f, key) in files.iter().zip(&keys) {
        if let Some(k) = layout.patch_of(key) {
            patches.push((f.display.clone(), k.to_string()));
            continue;
        }
        let set_by_kustomization = layout.namespace_of(key);
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
                let written = set_by_kustomization.or(doc.namespace.as_deref());
                let namespace = written.unwrap_or(default_namespace);
                let namespace_assumed = written.is_none() && assumed;
                if doc.name.is_some() && !namespace_assumed {
                    namespaces
                        .entry(doc.kind)
                        .or_default()
                        .insert(namespace.to_string());
                }
                // No origin: a review never shows where a context object was read, and
                // positions in a chunk would not be the file's.
                if let Some(mut object) = Object::extract(doc.kind, &doc.root, namespace, None) {
                    object.namespace_assumed = namespace_assumed;
                    inventory.add(object);
                }
            }
        }
    }
    Ok(Seed {
        inventory,
        namespaces,
        files: files.len(),
        problems,
        patches,
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

/// A file of a workspace folder that holds objects rules look up, or a kustomization.
#[derive(Debug)]
pub struct DiskFile {
    pub source: Arc<SourceFile>,
    /// Read with the namespace `default`, assumed, for objects that name none: the inventory
    /// places them once it knows their kustomization and the configuration.
    pub objects: Arc<Vec<Object>>,
    /// Documents that did not parse.
    pub broken: Arc<Vec<Broken>>,
    /// The file is a kustomization: what it lists.
    pub kustomization: Option<Arc<Kustomization>>,
}

/// Whether a file is a kustomization (by name).
pub fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_kustomization_file)
}

/// Whether a file of a workspace folder is read: a manifest, or a kustomization.
pub fn is_workspace_file(path: &Path) -> bool {
    crate::collect::has_manifest_extension(path) || is_kustomization(path)
}

/// Reads one file of a workspace folder whole; `None` when it cannot be read, is larger than
/// `max_bytes`, or holds no object rules look up and is no kustomization.
pub fn read_objects(path: &Path, max_bytes: u64, default_namespace: &str) -> Option<DiskFile> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > max_bytes {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let kustomization = is_kustomization(path)
        .then(|| canarylint::kustomize::parse(&text).ok())
        .flatten()
        .map(Arc::new);
    let source = Arc::new(SourceFile::new(path.display().to_string(), text));
    let parsed = read(source.clone(), &Budget::GENEROUS);
    let objects = Inventory::objects_of(&parsed, default_namespace, true);
    let broken = Inventory::broken_of(&parsed, default_namespace, true);
    (!objects.is_empty() || !broken.is_empty() || kustomization.is_some()).then(|| DiskFile {
        source,
        objects: Arc::new(objects),
        broken: Arc::new(broken),
        kustomization,
    })
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
        let seed = load_context(std::slice::from_ref(&path), "default", false).unwrap();
        let whole = canarylint::read(Arc::new(SourceFile::new("whole", text)), &Budget::GENEROUS);
        let mut expected = Inventory::new();
        expected.add_file(&whole, "default", false);
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

    #[test]
    fn context_patches_are_not_objects_and_assumed_namespaces_vouch_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("app")).unwrap();
        let deployment = |name: &str, replicas: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n{replicas}"
            )
        };
        std::fs::write(
            root.join("app/kustomization.yaml"),
            "namespace: test\nresources: [deployment.yaml]\npatches:\n  - path: patch.yaml\n",
        )
        .unwrap();
        std::fs::write(
            root.join("app/deployment.yaml"),
            deployment("podinfo", "  template:\n    spec:\n      containers:\n        - name: a\n          ports:\n            - containerPort: 9898\n"),
        )
        .unwrap();
        std::fs::write(
            root.join("app/patch.yaml"),
            deployment("podinfo", "  replicas: 3\n"),
        )
        .unwrap();
        std::fs::write(
            root.join("loose.yaml"),
            deployment("loadtester", "  replicas: 1\n"),
        )
        .unwrap();

        let seed = load_context(&[root.to_path_buf()], "default", true).unwrap();
        // One podinfo, the kustomization's, in its namespace: the patch is not a second one.
        let found = seed.inventory.lookup(Kind::Deployment, "test", "podinfo");
        let ports = found.found().unwrap().as_workload().unwrap().containers[0]
            .ports
            .len();
        assert_eq!(ports, 1);
        assert_eq!(seed.inventory.count(Kind::Deployment), 2);
        // The namespace-less load tester is only assumed to be in default: it vouches for
        // nothing there.
        assert_eq!(
            seed.namespaces[&Kind::Deployment],
            HashSet::from(["test".to_string()])
        );
        let given = load_context(&[root.to_path_buf()], "default", false).unwrap();
        assert_eq!(given.namespaces[&Kind::Deployment].len(), 2);
    }
}
