//! The files of the workspace folders: read at start, bounded, kept as inventory objects.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use canarylint::config::Config;
use canarylint::model::Object;
use canarylint::{Budget, Inventory, Kind, Linter, ParsedFile, SourceFile, read};
use rayon::prelude::*;
use walkdir::WalkDir;

use crate::input::has_manifest_extension;

/// How much of a workspace is read.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_files: usize,
    pub max_bytes: u64,
    /// Larger files are passed over: generated bundles, not manifests someone edits.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_files: 10_000,
            max_bytes: 50 * 1024 * 1024,
            max_file_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Folders never read: build output and dependencies (hidden folders are skipped too).
const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];

/// A file of the workspace that holds objects rules look up.
#[derive(Debug)]
pub struct DiskFile {
    pub source: Arc<SourceFile>,
    pub objects: Arc<Vec<Object>>,
}

/// What reading the workspace found.
#[derive(Debug, Default)]
pub struct Index {
    pub files: HashMap<PathBuf, DiskFile>,
    /// Manifest files read (with or without objects).
    pub read: usize,
    /// Whether a limit stopped the walk.
    pub truncated: bool,
}

/// The name files are known by: their path.
pub fn name_of(path: &Path) -> String {
    path.display().to_string()
}

/// Reads the manifests under the roots, within the limits. Stops early when `cancel` is set.
pub fn index(roots: &[PathBuf], limits: Limits, cancel: &AtomicBool) -> Index {
    let mut paths = Vec::new();
    let mut bytes = 0u64;
    let mut truncated = false;
    'roots: for root in roots {
        let walk = WalkDir::new(root)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !skipped(e));
        for entry in walk.flatten() {
            if cancel.load(Ordering::Relaxed) {
                return Index::default();
            }
            if !entry.file_type().is_file() || !has_manifest_extension(entry.path()) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.len() > limits.max_file_bytes {
                continue;
            }
            if paths.len() >= limits.max_files || bytes + meta.len() > limits.max_bytes {
                truncated = true;
                break 'roots;
            }
            bytes += meta.len();
            paths.push(entry.into_path());
        }
    }
    let read = paths.len();
    let files = paths
        .into_par_iter()
        .filter_map(|p| {
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            let file = read_file(&p, limits)?;
            Some((p, file))
        })
        .collect();
    Index {
        files,
        read,
        truncated,
    }
}

fn skipped(entry: &walkdir::DirEntry) -> bool {
    let Some(name) = entry.file_name().to_str() else {
        return false;
    };
    if name.starts_with('.') {
        return true;
    }
    entry.file_type().is_dir() && SKIPPED_DIRS.contains(&name)
}

/// Reads one file; `None` when it cannot be read or holds no object rules look up.
pub fn read_file(path: &Path, limits: Limits) -> Option<DiskFile> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > limits.max_file_bytes {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let source = Arc::new(SourceFile::new(name_of(path), text));
    let parsed = read(source.clone(), &Budget::GENEROUS);
    let objects = objects_of(&parsed, &default_namespace());
    (!objects.is_empty()).then(|| DiskFile {
        source,
        objects: Arc::new(objects),
    })
}

/// The namespace of objects that set none.
pub fn default_namespace() -> String {
    canarylint::Settings::default().default_namespace
}

/// The inventory objects of a parsed file.
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

/// Whether a parsed file holds any object rules look up.
pub fn has_objects(parsed: &ParsedFile) -> bool {
    parsed.documents.iter().any(|d| d.kind != Kind::Other)
}

/// The linter for a document: the `.canarylint.yaml` found from its folder (or the first
/// workspace folder) upward. A configuration that does not load is reported and left out.
pub fn linter_for(path: Option<&Path>, roots: &[PathBuf]) -> (Linter, Option<String>) {
    let dir = path
        .and_then(Path::parent)
        .or(roots.first().map(PathBuf::as_path));
    let found = dir.and_then(Config::discover);
    let (config, error) = match found {
        None => (Config::default(), None),
        Some(p) => match Config::load(&p, &canarylint_rules::all_meta()) {
            Ok(c) => (c, None),
            Err(errors) => {
                let text = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                (
                    Config::default(),
                    Some(format!("configuration ignored: {text}")),
                )
            }
        },
    };
    (
        Linter::new(canarylint_rules::ALL).with_config(config),
        error,
    )
}

/// Whether a file name is the configuration file.
pub fn is_config(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n == canarylint::config::CONFIG_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_reads_manifests_and_skips_hidden_and_build_folders() {
        let dir = tempfile::tempdir().unwrap();
        let gw = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  namespace: istio-system\nspec:\n  servers:\n    - hosts: ['*.example.com']\n";
        std::fs::create_dir_all(dir.path().join("istio")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::create_dir_all(dir.path().join("target")).unwrap();
        std::fs::write(dir.path().join("istio/gateway.yaml"), gw).unwrap();
        std::fs::write(dir.path().join(".git/gateway.yaml"), gw).unwrap();
        std::fs::write(dir.path().join("target/gateway.yaml"), gw).unwrap();
        std::fs::write(dir.path().join("notes.yaml"), "a: 1\n").unwrap();
        let roots = vec![dir.path().to_path_buf()];
        let idx = index(&roots, Limits::default(), &AtomicBool::new(false));
        assert_eq!(idx.read, 2);
        assert_eq!(idx.files.len(), 1);
        let f = &idx.files[&dir.path().join("istio/gateway.yaml")];
        assert_eq!(f.objects.len(), 1);
        assert_eq!(f.objects[0].kind, Kind::IstioGateway);

        let small = Limits {
            max_files: 1,
            ..Limits::default()
        };
        let idx = index(&roots, small, &AtomicBool::new(false));
        assert!(idx.truncated);
        assert_eq!(idx.read, 1);
    }
}
