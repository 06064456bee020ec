//! The files of the workspace folders: found by the workspace layer's collector (the same
//! walk as `canarylint check`: `.gitignore`, hidden entries, plus kustomizations), read within
//! bounds, kept as inventory objects; where each lands (bundles, kustomize patches,
//! namespaces); and the linter of a document, from the same settings as every door.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use canarylint::bundle::{Grouping, Layout, UnitKey, normalize};
use canarylint::kustomize::Kustomization;
use canarylint::model::{Location, Object, ObjectData};
use canarylint::{Broken, Bundle, Inventory, Kind, Linter, ParsedFile, Span, Unit};
use canarylint_workspace::collect::walk_folders;
use canarylint_workspace::{ConfigSource, Options, Workspace};
use rayon::prelude::*;

pub use canarylint_workspace::collect::Limits;
pub use canarylint_workspace::files::{DiskFile, is_kustomization, is_workspace_file};
pub use canarylint_workspace::settings::is_config;

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
    let (paths, truncated) = walk_folders(roots, limits, is_workspace_file, cancel);
    if cancel.load(Ordering::Relaxed) {
        return Index::default();
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

/// Reads one file; `None` when it cannot be read, or holds no object rules look up and is no
/// kustomization.
pub fn read_file(path: &Path, limits: Limits) -> Option<DiskFile> {
    canarylint_workspace::files::read_objects(path, limits.max_file_bytes, &default_namespace())
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
            o.namespace = canarylint::Str::from(&**ns);
            o.namespace_assumed = false;
        } else if o.namespace_assumed {
            o.namespace = canarylint::Str::from(self.namespace.as_str());
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

/// The folder a document's configuration is found from: the `.canarylint.yaml` of that
/// folder or the nearest above it, as `check` run there would find it. A document without a
/// path takes the first workspace folder's.
pub fn config_dir(path: Option<&Path>, roots: &[PathBuf]) -> Option<PathBuf> {
    path.and_then(Path::parent)
        .or(roots.first().map(PathBuf::as_path))
        .map(Path::to_path_buf)
}

/// The linter of the configuration found from `dir` upward (see [`config_dir`]). A
/// configuration that does not load is reported and left out.
pub fn linter_in(dir: Option<&Path>) -> (Linter, Option<String>) {
    let options = Options {
        config: dir.map_or(ConfigSource::None, |d| {
            ConfigSource::Discover(d.to_path_buf())
        }),
        ..Options::default()
    };
    match Workspace::load(&options) {
        Ok(ws) => (ws.linter(), None),
        Err(errors) => {
            let text = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            (
                Workspace::default().linter(),
                Some(format!("configuration ignored: {text}")),
            )
        }
    }
}

/// What a file gives the inventory: its objects and its documents that did not parse.
pub type Contribution = (Vec<Object>, Vec<Broken>);

/// Whether two readings of a file give the other documents the same inventory. Byte offsets
/// are left out: the other documents' diagnostics show places by line and column, so an edit
/// that moves no object to another line or column (a new `stepWeight`) changes nothing for
/// them. Any other difference counts, order included.
pub fn same_for_others(a: &Contribution, b: &Contribution) -> bool {
    a.0.len() == b.0.len()
        && a.1.len() == b.1.len()
        && a.0
            .iter()
            .zip(&b.0)
            .all(|(x, y)| without_offsets(x) == without_offsets(y))
        && a.1.iter().zip(&b.1).all(|(x, y)| {
            let (mut x, mut y) = (x.clone(), y.clone());
            x.problem.span = Span::default();
            y.problem.span = Span::default();
            x == y
        })
}

/// An object with every byte span it carries zeroed (lines and columns kept).
fn without_offsets(o: &Object) -> Object {
    fn strip(l: Option<&mut Location>) {
        if let Some(l) = l {
            l.span = Span::default();
        }
    }
    let mut o = o.clone();
    strip(o.origin.as_mut());
    match &mut o.data {
        ObjectData::IstioGateway(g) => g
            .servers
            .iter_mut()
            .for_each(|s| strip(s.hosts_location.as_deref_mut())),
        ObjectData::GatewayApiGateway(g) => strip(g.listeners_location.as_deref_mut()),
        ObjectData::Workload(w) => {
            strip(w.selector_location.as_deref_mut());
            strip(w.ports_location.as_deref_mut());
        }
        // A location added to another kind's data is compared whole: more documents are
        // linted again than needed, none fewer.
        _ => {}
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contribution(text: &str) -> Contribution {
        let parsed = canarylint::read(
            Arc::new(canarylint::SourceFile::new("a.yaml", text)),
            &canarylint::Budget::GENEROUS,
        );
        (
            Inventory::objects_of(&parsed, "default", true),
            Inventory::broken_of(&parsed, "default", true),
        )
    }

    #[test]
    fn only_what_others_could_see_counts_as_a_change() {
        let canary = "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: podinfo\nspec:\n  service:\n    gateways: [gw]\n  analysis:\n    stepWeight: 10\n";
        let gateway = "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  servers:\n    - hosts: ['*.example.com']\n";
        let base = contribution(&format!("{canary}{gateway}"));
        assert_eq!(base.0.len(), 2);
        // A new stepWeight of another length moves the gateway's bytes, not its lines.
        let step = contribution(&format!("{}{gateway}", canary.replace("10", "5")));
        assert!(same_for_others(&base, &step));
        // A new line moves the gateway: the others' related locations would move.
        let moved = contribution(&format!(
            "{}{gateway}",
            canary.replace("spec:", "# note\nspec:")
        ));
        assert!(!same_for_others(&base, &moved));
        // What the gateway serves, what the canary names, a document that no longer parses.
        let hosts = contribution(&format!(
            "{canary}{}",
            gateway.replace("example.com", "example.org")
        ));
        assert!(!same_for_others(&base, &hosts));
        let refs = contribution(&format!("{}{gateway}", canary.replace("[gw]", "[gw2]")));
        assert!(!same_for_others(&base, &refs));
        let broken = contribution(&format!(
            "{canary}{}",
            gateway.replace("hosts: [", "hosts: [[")
        ));
        assert!(!same_for_others(&base, &broken));
    }

    #[test]
    fn index_reads_manifests_and_skips_hidden_and_ignored_folders() {
        let dir = tempfile::tempdir().unwrap();
        let gw = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  namespace: istio-system\nspec:\n  servers:\n    - hosts: ['*.example.com']\n";
        std::fs::create_dir_all(dir.path().join("istio")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::create_dir_all(dir.path().join("target")).unwrap();
        std::fs::write(dir.path().join("istio/gateway.yaml"), gw).unwrap();
        std::fs::write(dir.path().join(".git/gateway.yaml"), gw).unwrap();
        std::fs::write(dir.path().join("target/gateway.yaml"), gw).unwrap();
        std::fs::write(dir.path().join("notes.yaml"), "a: 1\n").unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/\n").unwrap();
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
