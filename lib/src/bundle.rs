//! Which inputs are applied together, which are kustomize patches, and the namespace a
//! kustomization gives its objects. Pure functions over paths and parsed kustomizations:
//! callers walk the disk and read the files.
//!
//! The unit of completeness, a *bundle*, is by default one stream (a file, or standard
//! input), or the files one kustomization lists as resources. A bundle vouches that a namespace
//! holds no other object of a kind only when it was read whole: a kustomization is whole when
//! every resource it lists is a file of the run, and it has no bases, components, remote
//! resources or generators. [`Grouping`] widens the unit for users who apply a directory, or
//! everything, at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::inventory::Bundle;
use crate::kustomize::Kustomization;
use crate::linter::Unit;

/// How inputs outside a kustomization are grouped into bundles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Grouping {
    /// Each file, and standard input, is applied on its own (`kubectl apply -f FILE`).
    #[default]
    File,
    /// The files of one directory are applied together (`kubectl apply -f DIR`).
    Directory,
    /// Everything given is applied at once.
    All,
}

impl Grouping {
    /// The name used on the command line and in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::File => "file",
            Grouping::Directory => "directory",
            Grouping::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Grouping> {
        match s {
            "file" => Some(Grouping::File),
            "directory" => Some(Grouping::Directory),
            "all" => Some(Grouping::All),
            _ => None,
        }
    }
}

/// Resolves `.` and `..` in a `/`-separated path, without touching the disk.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// The directory of a path (`.` for a bare name).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

/// `rel` resolved against the directory `dir`.
pub fn join(dir: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        normalize(rel)
    } else {
        normalize(&format!("{dir}/{rel}"))
    }
}

/// The kustomizations around the inputs, by directory.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    kustomizations: BTreeMap<String, Kustomization>,
    /// Patch file → the kustomization directory that lists it.
    patches: HashMap<String, String>,
    /// Resource file → the kustomization directory that lists it (the nearest, when several).
    members: HashMap<String, String>,
}

impl Layout {
    pub fn new() -> Self {
        Layout::default()
    }

    /// Adds the kustomization of directory `dir` (a normalized path).
    pub fn add(&mut self, dir: &str, k: Kustomization) {
        let dir = normalize(dir);
        for p in &k.patches {
            self.patches.insert(join(&dir, p), dir.clone());
        }
        for r in &k.resources {
            let file = join(&dir, r);
            let nearer = self.members.get(&file).is_none_or(|d| dir.len() > d.len());
            if nearer {
                self.members.insert(file, dir.clone());
            }
        }
        self.kustomizations.insert(dir, k);
    }

    pub fn is_empty(&self) -> bool {
        self.kustomizations.is_empty()
    }

    pub fn kustomization(&self, dir: &str) -> Option<&Kustomization> {
        self.kustomizations.get(dir)
    }

    /// The kustomization directory that lists `file` as a patch.
    pub fn patch_of(&self, file: &str) -> Option<&str> {
        self.patches.get(&normalize(file)).map(String::as_str)
    }

    /// The kustomization directory that lists `file` as a resource.
    pub fn unit_of(&self, file: &str) -> Option<&str> {
        self.members.get(&normalize(file)).map(String::as_str)
    }

    /// The namespace the kustomization of `file` gives its objects.
    pub fn namespace_of(&self, file: &str) -> Option<&str> {
        let dir = self.unit_of(file)?;
        self.kustomizations.get(dir)?.namespace.as_deref()
    }

    /// Whether the objects of the kustomization in `dir` are all among `files`: it lists only
    /// local files, all of them given.
    pub fn is_whole(&self, dir: &str, files: &HashSet<String>) -> bool {
        self.kustomizations.get(dir).is_some_and(|k| {
            !k.external
                && k.components.is_empty()
                && k.resources.iter().all(|r| files.contains(&join(dir, r)))
        })
    }
}

/// Finds the kustomizations that may list `files` (normalized paths): those of their
/// directories and of every parent, up to a directory where `is_root` holds (a repository's
/// root) or the top. Only there can a kustomization list a file, as kustomize loads no file
/// from outside its own directory. `kustomization_of(dir)` reads the kustomization file of a
/// directory, if it has one (the caller does the reading).
pub fn discover<'a>(
    files: impl IntoIterator<Item = &'a str>,
    mut kustomization_of: impl FnMut(&str) -> Option<String>,
    mut is_root: impl FnMut(&str) -> bool,
) -> Layout {
    let mut layout = Layout::new();
    let mut visited: HashSet<String> = HashSet::new();
    for file in files {
        let mut dir = normalize(parent(&normalize(file)));
        loop {
            if !visited.insert(dir.clone()) {
                break;
            }
            if let Some(k) = kustomization_of(&dir).and_then(|t| crate::kustomize::parse(&t).ok()) {
                layout.add(&dir, k);
            }
            if is_root(&dir) || dir == "/" || dir == "." {
                break;
            }
            let up = parent(&dir);
            if up == dir {
                break;
            }
            dir = up.to_string();
        }
    }
    layout
}

/// What an input is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Objects, applied with `unit`.
    Objects(Unit),
    /// A patch listed by the kustomization of this directory: not objects, and not linted.
    Patch { kustomization: String },
}

/// The bundle a file belongs to, by what defines it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UnitKey {
    /// The kustomization of this directory.
    Kustomization(String),
    /// The files of this directory ([`Grouping::Directory`]).
    Directory(String),
    /// This file (or stream) alone.
    File(String),
    /// Everything given ([`Grouping::All`]).
    All,
}

impl Layout {
    /// The bundle of `file`, or `None` when it is a kustomize patch.
    pub fn unit_key(&self, file: &str, grouping: Grouping) -> Option<UnitKey> {
        if self.patch_of(file).is_some() {
            return None;
        }
        Some(match (grouping, self.unit_of(file)) {
            (Grouping::All, _) => UnitKey::All,
            (_, Some(dir)) => UnitKey::Kustomization(dir.to_string()),
            (Grouping::Directory, None) => UnitKey::Directory(parent(&normalize(file)).into()),
            (Grouping::File, None) => UnitKey::File(normalize(file)),
        })
    }

    /// Whether the bundle of `key` can vouch for what it holds, given the files read.
    pub fn is_whole_unit(&self, key: &UnitKey, files: &HashSet<String>) -> bool {
        match key {
            UnitKey::Kustomization(dir) => self.is_whole(dir, files),
            _ => true,
        }
    }
}

/// The placement of every input, and the bundles not read whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    pub placements: Vec<Placement>,
    pub partial: Vec<Bundle>,
}

/// Places inputs, given in order by their paths (`None` for standard input and other streams
/// without a file), into bundles numbered from 0.
pub fn assign(files: &[Option<&str>], layout: &Layout, grouping: Grouping) -> Assignment {
    let given: HashSet<String> = files.iter().flatten().map(|f| normalize(f)).collect();
    let mut bundles: HashMap<UnitKey, Bundle> = HashMap::new();
    let mut partial = Vec::new();
    let mut placements = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let key = match file {
            Some(f) => layout.unit_key(f, grouping),
            None if grouping == Grouping::All => Some(UnitKey::All),
            // A stream without a file name: a key no file can have.
            None => Some(UnitKey::File(format!("\0{i}"))),
        };
        let Some(key) = key else {
            placements.push(Placement::Patch {
                kustomization: file
                    .and_then(|f| layout.patch_of(f))
                    .unwrap_or_default()
                    .to_string(),
            });
            continue;
        };
        let next = Bundle::Input(bundles.len() as u32);
        let bundle = *bundles.entry(key.clone()).or_insert_with(|| {
            if !layout.is_whole_unit(&key, &given) {
                partial.push(next);
            }
            next
        });
        placements.push(Placement::Objects(Unit {
            bundle,
            namespace: file.and_then(|f| layout.namespace_of(f)).map(Arc::from),
        }));
    }
    Assignment {
        placements,
        partial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kustomize::parse;

    #[test]
    fn paths() {
        assert_eq!(normalize("a/./b/../c"), "a/c");
        assert_eq!(normalize("/r/a/../../../b"), "/b");
        assert_eq!(normalize("../x"), "../x");
        assert_eq!(normalize("a/.."), ".");
        assert_eq!(join("/r/overlays/prod", "../../base"), "/r/base");
        assert_eq!(join("/r/app", "/abs/x.yaml"), "/abs/x.yaml");
        assert_eq!(parent("/r/app/x.yaml"), "/r/app");
        assert_eq!(parent("/x.yaml"), "/");
        assert_eq!(parent("x.yaml"), ".");
    }

    fn layout(entries: &[(&str, &str)]) -> Layout {
        let mut l = Layout::new();
        for (dir, text) in entries {
            l.add(dir, parse(text).unwrap());
        }
        l
    }

    fn objects(p: &Placement) -> &Unit {
        match p {
            Placement::Objects(u) => u,
            Placement::Patch { .. } => panic!("a patch: {p:?}"),
        }
    }

    #[test]
    fn a_kustomization_is_one_bundle_and_its_patches_are_not_objects() {
        let l = layout(&[
            (
                "/r/base",
                "namespace: test\nresources: [deployment.yaml, canary.yaml]\n",
            ),
            (
                "/r/overlays/prod",
                "resources: [../../base, hpa.yaml]\npatches:\n  - path: canary-patch.yaml\npatchesStrategicMerge: [./deployment-patch.yaml]\n",
            ),
        ]);
        let files = [
            Some("/r/base/deployment.yaml"),
            Some("/r/base/canary.yaml"),
            Some("/r/overlays/prod/canary-patch.yaml"),
            Some("/r/overlays/prod/deployment-patch.yaml"),
            Some("/r/overlays/prod/hpa.yaml"),
            Some("/r/loose.yaml"),
            None,
        ];
        let a = assign(&files, &l, Grouping::File);
        let base = objects(&a.placements[0]);
        assert_eq!(base, objects(&a.placements[1]));
        assert_eq!(base.namespace.as_deref(), Some("test"));
        for p in &a.placements[2..4] {
            assert_eq!(
                p,
                &Placement::Patch {
                    kustomization: "/r/overlays/prod".into()
                }
            );
        }
        let overlay = objects(&a.placements[4]);
        assert_ne!(overlay.bundle, base.bundle);
        assert_eq!(overlay.namespace, None);
        let loose = objects(&a.placements[5]);
        let stdin = objects(&a.placements[6]);
        assert!(loose.bundle != stdin.bundle && loose.bundle != base.bundle);
        // The overlay builds on a base: its own files are not all of its objects.
        assert_eq!(a.partial, vec![overlay.bundle]);
    }

    #[test]
    fn a_kustomization_with_files_missing_from_the_run_is_partial() {
        let l = layout(&[("/r/app", "resources: [a.yaml, b.yaml]\n")]);
        let a = assign(&[Some("/r/app/a.yaml")], &l, Grouping::File);
        assert_eq!(a.partial, vec![objects(&a.placements[0]).bundle]);
        let a = assign(
            &[Some("/r/app/a.yaml"), Some("/r/app/b.yaml")],
            &l,
            Grouping::File,
        );
        assert!(a.partial.is_empty());
        let remote = layout(&[("/r/app", "resources: [a.yaml, github.com/org/repo//x]\n")]);
        let a = assign(&[Some("/r/app/a.yaml")], &remote, Grouping::File);
        assert_eq!(a.partial.len(), 1);
    }

    #[test]
    fn groupings() {
        let l = layout(&[("/r/k", "resources: [a.yaml]\n")]);
        let files = [
            Some("/r/d/one.yaml"),
            Some("/r/d/two.yaml"),
            Some("/r/e/three.yaml"),
            Some("/r/k/a.yaml"),
        ];
        let bundles = |g| -> Vec<Bundle> {
            assign(&files, &l, g)
                .placements
                .iter()
                .map(|p| objects(p).bundle)
                .collect()
        };
        let b = bundles(Grouping::File);
        assert_eq!(b.iter().collect::<HashSet<_>>().len(), 4);
        let b = bundles(Grouping::Directory);
        assert!(b[0] == b[1] && b[1] != b[2] && b[2] != b[3]);
        let b = bundles(Grouping::All);
        assert!(b.iter().all(|x| *x == b[0]));
        assert_eq!(Grouping::parse("directory"), Some(Grouping::Directory));
        assert_eq!(Grouping::parse("dir"), None);
    }

    #[test]
    fn discovery_climbs_to_the_root_and_reads_each_directory_once() {
        let mut asked = Vec::new();
        let l = discover(
            ["/r/apps/x/a.yaml", "/r/apps/x/b.yaml", "/r/apps/y/c.yaml"],
            |dir| {
                asked.push(dir.to_string());
                (dir == "/r/apps/x").then(|| "namespace: x\nresources: [a.yaml]\n".to_string())
            },
            |dir| dir == "/r",
        );
        assert_eq!(asked, ["/r/apps/x", "/r/apps", "/r", "/r/apps/y"]);
        assert_eq!(l.namespace_of("/r/apps/x/a.yaml"), Some("x"));
        assert_eq!(l.unit_of("/r/apps/x/b.yaml"), None);
    }

    #[test]
    fn the_nearest_kustomization_owns_a_file() {
        let l = layout(&[
            ("/r", "resources: [app/x.yaml]\n"),
            ("/r/app", "namespace: app\nresources: [x.yaml]\n"),
        ]);
        assert_eq!(l.unit_of("/r/app/x.yaml"), Some("/r/app"));
        assert_eq!(l.namespace_of("/r/app/./x.yaml"), Some("app"));
        assert_eq!(l.unit_of("/r/other.yaml"), None);
    }
}
