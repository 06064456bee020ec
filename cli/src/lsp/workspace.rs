//! The files of the workspace folders: read at start, bounded, kept as inventory objects.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use canarylint::bundle::{Grouping, Layout, UnitKey, normalize};
use canarylint::config::Config;
use canarylint::kustomize::{Kustomization, is_kustomization_file};
use canarylint::model::Object;
use canarylint::{
    Broken, Budget, Bundle, Inventory, Kind, Linter, ParsedFile, SourceFile, Unit, read,
};
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

/// A file of the workspace that holds objects rules look up, or a kustomization.
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
            if !entry.file_type().is_file() || !is_workspace_file(entry.path()) {
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

/// Whether a file is read into the workspace: a manifest, or a kustomization.
pub fn is_workspace_file(path: &Path) -> bool {
    has_manifest_extension(path) || is_kustomization(path)
}

/// Whether a file is a kustomization.
pub fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_kustomization_file)
}

/// Reads one file; `None` when it cannot be read, or holds no object rules look up and is no
/// kustomization.
pub fn read_file(path: &Path, limits: Limits) -> Option<DiskFile> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > limits.max_file_bytes {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let kustomization = is_kustomization(path)
        .then(|| canarylint::kustomize::parse(&text).ok())
        .flatten()
        .map(Arc::new);
    let source = Arc::new(SourceFile::new(name_of(path), text));
    let parsed = read(source.clone(), &Budget::GENEROUS);
    let objects = objects_of(&parsed, &default_namespace());
    let broken = Inventory::broken_of(&parsed, &default_namespace(), true);
    (!objects.is_empty() || !broken.is_empty() || kustomization.is_some()).then(|| DiskFile {
        source,
        objects: Arc::new(objects),
        broken: Arc::new(broken),
        kustomization,
    })
}

/// The namespace of objects that set none.
pub fn default_namespace() -> String {
    canarylint::Settings::default().default_namespace
}

/// The inventory objects of a parsed file, their namespace assumed where they name none.
pub fn objects_of(parsed: &ParsedFile, namespace: &str) -> Vec<Object> {
    Inventory::objects_of(parsed, namespace, true)
}

/// Where the files of the workspace land: their bundles, which are kustomize patches, and
/// the namespace of objects that name none.
pub struct Places {
    layout: Layout,
    grouping: Grouping,
    given: HashSet<String>,
    /// The namespace of objects that name none, and whether it is only assumed.
    pub namespace: String,
    pub assumed: bool,
}

/// What a file of the workspace is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocPlace {
    Objects(Unit),
    /// A kustomize patch: not objects.
    Patch,
}

fn key(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

impl Places {
    /// `kustomizations` by their file, `files` every file of the workspace and the open
    /// documents; the settings of `linter` (the workspace's configuration).
    pub fn new<'a>(
        kustomizations: impl IntoIterator<Item = (&'a Path, &'a Kustomization)>,
        files: impl IntoIterator<Item = &'a Path>,
        linter: &Linter,
    ) -> Places {
        let mut layout = Layout::new();
        for (file, k) in kustomizations {
            if let Some(dir) = file.parent() {
                layout.add(&key(dir), k.clone());
            }
        }
        Places {
            layout,
            grouping: linter.config.bundle.unwrap_or_default(),
            given: files.into_iter().map(|p| normalize(&key(p))).collect(),
            namespace: linter.settings.default_namespace.clone(),
            assumed: linter.settings.namespace_assumed,
        }
    }

    /// Where a file lands; `unsaved` names a document without a path. `ids` numbers the
    /// bundles, and keeps the numbers from one call to the next. Also says whether the
    /// bundle was read whole.
    pub fn place(
        &self,
        path: Option<&Path>,
        unsaved: &str,
        ids: &mut HashMap<UnitKey, u32>,
    ) -> (DocPlace, bool) {
        let unit_key = match path {
            Some(p) => self.layout.unit_key(&key(p), self.grouping),
            None => Some(UnitKey::File(format!("\0{unsaved}"))),
        };
        let Some(unit_key) = unit_key else {
            return (DocPlace::Patch, true);
        };
        let whole = self.layout.is_whole_unit(&unit_key, &self.given);
        let next = ids.len() as u32;
        let id = *ids.entry(unit_key).or_insert(next);
        let unit = Unit {
            bundle: Bundle::Input(id),
            namespace: path
                .and_then(|p| self.layout.namespace_of(&key(p)))
                .map(Arc::from),
        };
        (DocPlace::Objects(unit), whole)
    }

    /// An object of a file read with [`objects_of`], placed in its unit.
    pub fn object(&self, o: &Object, unit: &Unit) -> Object {
        let mut o = o.clone();
        o.bundle = unit.bundle;
        if let Some(ns) = &unit.namespace {
            o.namespace = ns.to_string();
            o.namespace_assumed = false;
        } else if o.namespace_assumed {
            o.namespace.clone_from(&self.namespace);
            o.namespace_assumed = self.assumed;
        }
        o
    }

    /// A broken document of a file, placed in its unit.
    pub fn broken(&self, b: &Broken, unit: &Unit) -> Broken {
        let mut b = b.clone();
        b.bundle = unit.bundle;
        if let Some(ns) = &unit.namespace {
            b.namespace = Some(ns.to_string());
        } else if b.namespace.is_none() && !self.assumed {
            b.namespace = Some(self.namespace.clone());
        }
        b
    }
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
