//! The language server: documents, the workspace inventory, linting and publishing.
//!
//! Handlers only record what changed and schedule work; linting runs on the blocking pool,
//! debounced per document by a generation counter: a lint whose document changed again in the
//! meantime is dropped, never published.
//!
//! The workspace inventory is built once and then patched one file at a time: a handler marks
//! the files whose text changed, and the next lint takes their old objects out and puts their
//! new ones in, so an edit costs the size of the edited document, not of the workspace. The
//! places of files (bundles, kustomize patches, namespaces) and the configurations are kept
//! too; only a change of a kustomization, of the set of files or of a `.canarylint.yaml`
//! rebuilds them, and the inventory with them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use canarylint::bundle::UnitKey;
use canarylint::model::CanaryView;
use canarylint::{Budget, Finding, Inventory, Kind, Linter, ParsedFile, SourceFile, read};
use tower_lsp_server::jsonrpc::Result as RpcResult;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, CodeActionResponse, Diagnostic, DidChangeTextDocumentParams,
    DidChangeWatchedFilesParams, DidChangeWatchedFilesRegistrationOptions,
    DidChangeWorkspaceFoldersParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, FileChangeType, FileSystemWatcher, GlobPattern, Hover,
    HoverContents, HoverParams, HoverProviderCapability, InitializeParams, InitializeResult,
    InitializedParams, MarkupContent, MarkupKind, MessageType, OneOf, Position,
    PositionEncodingKind, Range, Registration, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentContentChangeEvent, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit, Uri, WorkDoneProgressOptions,
    WorkspaceEdit, WorkspaceFoldersServerCapabilities, WorkspaceServerCapabilities,
};
use tower_lsp_server::{Client, LanguageServer};

use super::actions;
use super::convert::{self, Encoding, Files};
use super::workspace::{self, Contribution, DiskFile, DocPlace, Limits, Places};

/// How long a document must stay unchanged before it is linted.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// The files the client is asked to report changes of.
const WATCHED: &[&str] = &["**/*.{yaml,yml,json}", "**/.canarylint.yaml"];

/// A document the client has open.
struct OpenDoc {
    name: Arc<str>,
    path: Option<PathBuf>,
    /// JSON allows no comments: no "ignore on this line".
    json: bool,
    version: i32,
    source: Arc<SourceFile>,
    /// `source`, read and placed in its bundle; filled on first use.
    parsed: Option<(Arc<ParsedFile>, DocPlace)>,
    /// Whether the last text read held inventory objects.
    has_objects: bool,
    /// Whether other open documents must be linted again once this one is: set when its
    /// objects changed in the inventory.
    cascade: bool,
    /// Bumped each time a lint is scheduled; only the latest one publishes.
    generation: u64,
    /// The findings of the last lint, with the text they are for.
    last: Option<Linted>,
}

#[derive(Clone)]
struct Linted {
    source: Arc<SourceFile>,
    /// The inventory revision the findings were computed against.
    revision: u64,
    parsed: Arc<ParsedFile>,
    findings: Arc<Vec<Finding>>,
    /// Whether the document holds Flagger objects (others get no diagnostics).
    shown: bool,
}

#[derive(Default)]
struct State {
    encoding: Option<Encoding>,
    roots: Vec<PathBuf>,
    watch_dynamically: bool,
    open: HashMap<Uri, OpenDoc>,
    disk: HashMap<PathBuf, DiskFile>,
    /// Bumped on every change of a text the inventory is built from.
    revision: u64,
    /// The files (by the name their objects carry) whose objects the inventory must take
    /// again.
    dirty: HashSet<String>,
    /// The places of the files must be found again, and the inventory built again whole.
    stale: bool,
    /// The linter of each configuration folder (see [`workspace::config_dir`]), with the
    /// problem its configuration had.
    linters: HashMap<Option<PathBuf>, (Arc<Linter>, Option<String>)>,
    /// Bumped when a configuration changes: a linter loaded before is not kept.
    config_epoch: u64,
    /// Configuration problems already shown to the user.
    reported: HashSet<String>,
}

impl State {
    fn encoding(&self) -> Encoding {
        self.encoding.unwrap_or(Encoding::Utf16)
    }

    /// The objects of the file `name` changed.
    fn changed(&mut self, name: &str) {
        self.revision += 1;
        self.dirty.insert(name.to_string());
    }

    /// The places of the files changed (a kustomization, the set of files, the workspace
    /// folders).
    fn replaced(&mut self) {
        self.revision += 1;
        self.stale = true;
    }

    /// A `.canarylint.yaml` changed: every linter, and the places (they follow the
    /// configuration's bundles and namespace).
    fn reconfigured(&mut self) {
        self.linters.clear();
        self.config_epoch += 1;
        self.reported.clear();
        self.replaced();
    }

    /// Whether the places know this path: a file on disk (with objects, or a kustomization)
    /// or an open document.
    fn is_placed(&self, path: &Path) -> bool {
        self.disk.contains_key(path) || self.open.values().any(|d| d.path.as_deref() == Some(path))
    }

    fn is_open(&self, path: &Path) -> bool {
        self.open.values().any(|d| d.path.as_deref() == Some(path))
    }

    /// Records a file read from disk (`None`: gone, or nothing rules look up); says whether the
    /// open documents may lint differently for it.
    fn update_disk(&mut self, path: PathBuf, read: Option<DiskFile>) -> bool {
        let placed_before = self.is_placed(&path);
        let kustomization = read.as_ref().is_some_and(|f| f.kustomization.is_some());
        let text = read.as_ref().map(|f| f.source.text.clone());
        let old = match read {
            Some(f) => self.disk.insert(path.clone(), f),
            None => self.disk.remove(&path),
        };
        if old.as_ref().map(|o| &o.source.text) == text.as_ref() {
            return false;
        }
        if kustomization
            || old.is_some_and(|o| o.kustomization.is_some())
            || placed_before != self.is_placed(&path)
        {
            self.replaced();
            return true;
        }
        // An open document stands for its file.
        if self.is_open(&path) {
            return false;
        }
        self.changed(&workspace::name_of(&path));
        true
    }
}

/// The inventory as last built, patched file by file.
#[derive(Default)]
struct Built {
    /// The inventory and the revision of the texts it holds.
    inventory: Option<(u64, Arc<Inventory>)>,
    places: Option<Places>,
    /// The numbers of the bundles, kept from one inventory to the next.
    bundle_ids: HashMap<UnitKey, u32>,
}

/// A file whose objects the inventory takes again.
enum Patch {
    Open {
        uri: Uri,
        path: Option<PathBuf>,
        source: Arc<SourceFile>,
        parsed: Option<(Arc<ParsedFile>, DocPlace)>,
    },
    Disk {
        path: PathBuf,
        objects: Arc<Vec<canarylint::model::Object>>,
        broken: Arc<Vec<canarylint::Broken>>,
    },
    /// Neither open nor on disk any more.
    Gone,
}

struct Inner {
    client: Client,
    state: Mutex<State>,
    /// Taken before `state` (never the other way round): one lint at a time patches the
    /// inventory.
    built: Mutex<Built>,
    stopping: Arc<AtomicBool>,
    limits: Limits,
}

/// The `canarylint lsp` server.
pub struct Backend {
    inner: Arc<Inner>,
}

impl Backend {
    pub fn new(client: Client, stopping: Arc<AtomicBool>) -> Self {
        Backend {
            inner: Arc::new(Inner {
                client,
                state: Mutex::new(State::default()),
                built: Mutex::new(Built::default()),
                stopping,
                limits: Limits::default(),
            }),
        }
    }
}

/// What a lint produced for publishing.
struct Published {
    diagnostics: Vec<Diagnostic>,
    version: i32,
    notices: Vec<String>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // A handler that panicked while holding the lock left consistent data behind: every
        // update is a single assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lints a document after `delay`, unless it is scheduled again before then.
    fn schedule(self: &Arc<Self>, uri: Uri, delay: Duration) {
        let generation = {
            let mut st = self.state();
            let Some(doc) = st.open.get_mut(&uri) else {
                return;
            };
            doc.generation += 1;
            doc.generation
        };
        let inner = self.clone();
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if !inner.is_current(&uri, generation) {
                return;
            }
            let worker = inner.clone();
            let target = uri.clone();
            let done = tokio::task::spawn_blocking(move || worker.lint(&target, generation)).await;
            let published = match done {
                Ok(Some(p)) => p,
                Ok(None) => return,
                Err(e) => {
                    eprintln!("canarylint lsp: linting {} failed: {e}", uri.as_str());
                    return;
                }
            };
            let cascade = {
                let mut st = inner.state();
                match st.open.get_mut(&uri) {
                    Some(doc) if doc.generation == generation => std::mem::take(&mut doc.cascade),
                    _ => return,
                }
            };
            inner.notify(published.notices).await;
            inner
                .client
                .publish_diagnostics(uri.clone(), published.diagnostics, Some(published.version))
                .await;
            if cascade {
                inner.relint_open(Some(&uri));
            }
        });
    }

    fn is_current(&self, uri: &Uri, generation: u64) -> bool {
        self.state()
            .open
            .get(uri)
            .is_some_and(|d| d.generation == generation)
    }

    /// Lints every open document again (but `except`), as soon as possible.
    fn relint_open(self: &Arc<Self>, except: Option<&Uri>) {
        let uris: Vec<Uri> = self
            .state()
            .open
            .keys()
            .filter(|u| Some(*u) != except)
            .cloned()
            .collect();
        for uri in uris {
            self.schedule(uri, Duration::ZERO);
        }
    }

    /// Shows configuration problems once each.
    async fn notify(&self, notices: Vec<String>) {
        for n in notices {
            let new = self.state().reported.insert(n.clone());
            if new {
                eprintln!("canarylint lsp: {n}");
                self.client.show_message(MessageType::WARNING, n).await;
            }
        }
    }

    /// Lints the current text of a document (blocking). `None` when the document was closed or
    /// scheduled again in the meantime.
    fn lint(&self, uri: &Uri, generation: u64) -> Option<Published> {
        if !self.is_current(uri, generation) {
            return None;
        }
        let (linted, version, notices) = self.analyze(uri)?;
        if !self.is_current(uri, generation) {
            return None;
        }
        let diagnostics = if linted.shown {
            let files = self.files_for(&linted.findings);
            let enc = self.state().encoding();
            linted
                .findings
                .iter()
                .map(|f| convert::diagnostic(f, uri, &linted.source, enc, &files))
                .collect()
        } else {
            Vec::new()
        };
        Some(Published {
            diagnostics,
            version,
            notices,
        })
    }

    /// The findings for the current text of a document, linted now unless already known.
    fn analyze(&self, uri: &Uri) -> Option<(Linted, i32, Vec<String>)> {
        let (source, path, version, last) = {
            let st = self.state();
            let doc = st.open.get(uri)?;
            (
                doc.source.clone(),
                doc.path.clone(),
                doc.version,
                doc.last.clone(),
            )
        };
        if let Some(l) = last.filter(|l| Arc::ptr_eq(&l.source, &source))
            && l.revision == self.state().revision
        {
            return Some((l, version, Vec::new()));
        }
        // The inventory reads and places every open document, this one included.
        let (revision, inventory) = self.inventory();
        let parsed = {
            let st = self.state();
            let doc = st.open.get(uri)?;
            match &doc.parsed {
                Some((p, _)) if Arc::ptr_eq(&doc.source, &source) => p.clone(),
                _ => return None,
            }
        };
        let (linter, notice) = self.linter(path.as_deref());
        let findings = linter.lint_file(&parsed, &inventory);
        let shown = parsed.has_flagger_objects()
            || (!parsed.problems.is_empty() && source.text.contains("flagger.app/"));
        let linted = Linted {
            source: source.clone(),
            revision,
            parsed,
            findings: Arc::new(findings),
            shown,
        };
        if let Some(doc) = self.state().open.get_mut(uri)
            && Arc::ptr_eq(&doc.source, &source)
        {
            doc.last = Some(linted.clone());
        }
        Some((linted, version, notice.into_iter().collect()))
    }

    /// Keeps the reading of a text, if the document still has that text.
    fn store_parse(
        &self,
        uri: &Uri,
        source: &Arc<SourceFile>,
        parsed: Arc<ParsedFile>,
        place: DocPlace,
    ) {
        let mut st = self.state();
        if let Some(doc) = st.open.get_mut(uri)
            && Arc::ptr_eq(&doc.source, source)
        {
            doc.has_objects = workspace::has_objects(&parsed);
            doc.parsed = Some((parsed, place));
        }
    }

    /// Reads a text in its place: a patch keeps its problems but no objects.
    fn read_placed(source: &Arc<SourceFile>, place: &DocPlace) -> ParsedFile {
        let mut parsed = read(source.clone(), &Budget::GENEROUS);
        match place {
            DocPlace::Patch => parsed.documents.clear(),
            DocPlace::Objects(unit) => {
                parsed.bundle = unit.bundle;
                if let Some(ns) = &unit.namespace {
                    parsed.set_namespace(ns);
                }
            }
        }
        parsed
    }

    /// The linter of a document's configuration, loaded once per configuration folder.
    fn linter(&self, path: Option<&Path>) -> (Arc<Linter>, Option<String>) {
        let (dir, epoch) = {
            let st = self.state();
            let dir = workspace::config_dir(path, &st.roots);
            if let Some(known) = st.linters.get(&dir) {
                return known.clone();
            }
            (dir, st.config_epoch)
        };
        let (linter, notice) = workspace::linter_in(dir.as_deref());
        let loaded = (Arc::new(linter), notice);
        let mut st = self.state();
        // A configuration that changed while it was read is read again next time.
        if st.config_epoch == epoch {
            st.linters.insert(dir, loaded.clone());
        }
        loaded
    }

    /// The inventory of the workspace: files on disk, overridden by the open documents, each
    /// in its bundle. Patched with the files changed since the last call; built whole the
    /// first time and when the places changed.
    fn inventory(&self) -> (u64, Arc<Inventory>) {
        let mut guard = self.built.lock().unwrap_or_else(|e| e.into_inner());
        let built = &mut *guard;
        let whole = {
            let st = self.state();
            match &mut built.inventory {
                Some((rev, inv)) if !st.stale && st.dirty.is_empty() => {
                    *rev = st.revision;
                    return (*rev, inv.clone());
                }
                Some(_) if !st.stale && built.places.is_some() => false,
                _ => true,
            }
        };
        if whole {
            self.build_whole(built)
        } else {
            self.patch(built)
        }
    }

    /// Takes the files changed since the last call out of the inventory and puts them in
    /// again as they are now. The open documents whose objects changed lint the others again
    /// once linted themselves.
    fn patch(&self, built: &mut Built) -> (u64, Arc<Inventory>) {
        let (revision, patches) = {
            let mut st = self.state();
            if st.stale {
                // The places changed since the caller looked.
                drop(st);
                return self.build_whole(built);
            }
            let names = std::mem::take(&mut st.dirty);
            let patches: Vec<(String, Patch)> = names
                .into_iter()
                .map(|name| {
                    let open = st.open.iter().find(|(_, d)| *d.name == *name);
                    let patch = match open {
                        Some((uri, d)) => Patch::Open {
                            uri: uri.clone(),
                            path: d.path.clone(),
                            source: d.source.clone(),
                            parsed: d.parsed.clone(),
                        },
                        None => match st.disk.get_key_value(Path::new(&name)) {
                            Some((path, f)) => Patch::Disk {
                                path: path.clone(),
                                objects: f.objects.clone(),
                                broken: f.broken.clone(),
                            },
                            None => Patch::Gone,
                        },
                    };
                    (name, patch)
                })
                .collect();
            (st.revision, patches)
        };
        let Built {
            inventory: Some((rev, shared)),
            places: Some(places),
            bundle_ids: ids,
        } = built
        else {
            unreachable!("patched only once built");
        };
        // A lint still running on the previous inventory keeps it: then this copies it.
        let inv = Arc::make_mut(shared);
        let mut cascade = Vec::new();
        for (name, patch) in patches {
            let old = inv.remove_file(&name);
            let new: Contribution = match patch {
                Patch::Gone => Contribution::default(),
                Patch::Disk {
                    path,
                    objects,
                    broken,
                } => {
                    let (place, whole) = places.place(Some(&path), "", ids);
                    match place {
                        DocPlace::Objects(unit) => {
                            if !whole {
                                inv.set_partial(unit.bundle);
                            }
                            (
                                objects.iter().map(|o| places.object(o, &unit)).collect(),
                                broken.iter().map(|b| places.broken(b, &unit)).collect(),
                            )
                        }
                        DocPlace::Patch => Contribution::default(),
                    }
                }
                Patch::Open {
                    uri,
                    path,
                    source,
                    parsed,
                } => {
                    let parsed =
                        self.placed(&uri, path.as_deref(), &source, parsed, places, ids, inv);
                    (
                        Inventory::objects_of(&parsed, &places.namespace, places.assumed),
                        Inventory::broken_of(&parsed, &places.namespace, places.assumed),
                    )
                }
            };
            if !workspace::same_for_others(&old, &new) {
                cascade.push(name);
            }
            let (objects, broken) = new;
            objects.into_iter().for_each(|o| inv.add(o));
            broken.into_iter().for_each(|b| inv.add_broken(b));
        }
        *rev = revision;
        let shared = shared.clone();
        let mut st = self.state();
        for doc in st.open.values_mut() {
            if cascade.iter().any(|n| *n == *doc.name) {
                doc.cascade = true;
            }
        }
        (revision, shared)
    }

    /// An open document read in its place (the reading kept when the place is the same), its
    /// bundle marked partial when not read whole.
    #[allow(clippy::too_many_arguments)]
    fn placed(
        &self,
        uri: &Uri,
        path: Option<&Path>,
        source: &Arc<SourceFile>,
        parsed: Option<(Arc<ParsedFile>, DocPlace)>,
        places: &Places,
        ids: &mut HashMap<UnitKey, u32>,
        inv: &mut Inventory,
    ) -> Arc<ParsedFile> {
        let (place, whole) = places.place(path, uri.as_str(), ids);
        if let (DocPlace::Objects(unit), false) = (&place, whole) {
            inv.set_partial(unit.bundle);
        }
        match parsed {
            Some((p, was)) if was == place => p,
            _ => {
                let p = Arc::new(Self::read_placed(source, &place));
                self.store_parse(uri, source, p.clone(), place);
                p
            }
        }
    }

    /// Finds the places of the workspace's files and builds the inventory from every file.
    fn build_whole(&self, built: &mut Built) -> (u64, Arc<Inventory>) {
        type Open = (
            Uri,
            Option<PathBuf>,
            Arc<SourceFile>,
            Option<(Arc<ParsedFile>, DocPlace)>,
        );
        let (linter, revision, disk, kustomizations, open) = loop {
            let epoch = self.state().config_epoch;
            let (linter, _) = self.linter(None);
            let mut st = self.state();
            if st.config_epoch != epoch {
                // Reconfigured meanwhile: the places follow the new configuration.
                continue;
            }
            st.stale = false;
            let changed = std::mem::take(&mut st.dirty);
            // What changed is not known file by file: the documents among them lint the
            // others again.
            for doc in st.open.values_mut() {
                if changed.contains(&*doc.name) {
                    doc.cascade = true;
                }
            }
            let open_paths: HashSet<&PathBuf> =
                st.open.values().filter_map(|d| d.path.as_ref()).collect();
            let disk: Vec<_> = st
                .disk
                .iter()
                .filter(|(p, _)| !open_paths.contains(p))
                .map(|(p, f)| (p.clone(), f.objects.clone(), f.broken.clone()))
                .collect();
            let kustomizations: Vec<_> = st
                .disk
                .iter()
                .filter_map(|(p, f)| f.kustomization.clone().map(|k| (p.clone(), k)))
                .collect();
            let open: Vec<Open> = st
                .open
                .iter()
                .map(|(u, d)| {
                    (
                        u.clone(),
                        d.path.clone(),
                        d.source.clone(),
                        d.parsed.clone(),
                    )
                })
                .collect();
            break (linter, st.revision, disk, kustomizations, open);
        };
        let places = Places::new(
            kustomizations.iter().map(|(p, k)| (p.as_path(), &**k)),
            disk.iter()
                .map(|(p, _, _)| p.as_path())
                .chain(open.iter().filter_map(|(_, p, _, _)| p.as_deref())),
            &linter,
        );
        let mut inv = Inventory::by_file();
        let ids = &mut built.bundle_ids;
        for (path, objects, broken) in &disk {
            let (place, whole) = places.place(Some(path), "", ids);
            let DocPlace::Objects(unit) = place else {
                continue;
            };
            if !whole {
                inv.set_partial(unit.bundle);
            }
            for o in objects.iter() {
                inv.add(places.object(o, &unit));
            }
            for b in broken.iter() {
                inv.add_broken(places.broken(b, &unit));
            }
        }
        for (uri, path, source, parsed) in open {
            let parsed = self.placed(
                &uri,
                path.as_deref(),
                &source,
                parsed,
                &places,
                ids,
                &mut inv,
            );
            inv.add_file(&parsed, &places.namespace, places.assumed);
        }
        let inv = Arc::new(inv);
        built.places = Some(places);
        built.inventory = Some((revision, inv.clone()));
        (revision, inv)
    }

    /// The URIs and texts of the other files the findings point into.
    fn files_for(&self, findings: &[Finding]) -> FileMap {
        let names: HashSet<&str> = findings
            .iter()
            .flat_map(|f| f.related.iter())
            .filter_map(|r| r.location.as_ref().map(|l| &*l.file))
            .collect();
        let st = self.state();
        let mut map = HashMap::new();
        for name in names {
            let open = st.open.iter().find(|(_, d)| &*d.name == name);
            let found = match open {
                Some((uri, d)) => Some((uri.clone(), Some(d.source.clone()))),
                None => {
                    let text = st.disk.get(&PathBuf::from(name)).map(|f| f.source.clone());
                    convert::uri_of_name(name).map(|u| (u, text))
                }
            };
            if let Some(found) = found {
                map.insert(name.to_string(), found);
            }
        }
        FileMap(map)
    }

    /// The quick fixes for a range of a document.
    /// The plan summary of the Canary whose `spec.analysis` key is under the cursor.
    fn hover(&self, params: &HoverParams) -> Option<Hover> {
        let at = &params.text_document_position_params;
        let (linted, _, _) = self.analyze(&at.text_document.uri)?;
        let (enc, path) = {
            let st = self.state();
            let path = st
                .open
                .get(&at.text_document.uri)
                .and_then(|d| d.path.clone());
            (st.encoding(), path)
        };
        let utf16 = matches!(enc, Encoding::Utf16);
        let offset = linted
            .source
            .offset_of_lsp(at.position.line, at.position.character, utf16);
        let (_, inventory) = self.inventory();
        let (linter, _) = self.linter(path.as_deref());
        for doc in linted
            .parsed
            .documents
            .iter()
            .filter(|d| d.kind == Kind::Canary)
        {
            let Some(entry) = doc.root.get("spec").and_then(|s| s.entry("analysis")) else {
                continue;
            };
            if offset < entry.key_span.start || offset > entry.key_span.end {
                continue;
            }
            let canary = CanaryView::new(doc)?;
            let assumed = (linter.settings.namespace_assumed && doc.namespace.is_none())
                .then_some(linter.settings.default_namespace.as_str());
            let view = inventory.view_from(linted.parsed.bundle, assumed);
            let plan = canarylint_plan::plan(&canary, &linter.settings, Some(view));
            let (sl, sc) = linted.source.lsp_position(entry.key_span.start, utf16);
            let (el, ec) = linted.source.lsp_position(entry.key_span.end, utf16);
            let text = format!(
                "**What Flagger will do** (`canarylint plan`)\n\n{}",
                crate::output::plan::summary(&plan)
            );
            return Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: text,
                }),
                range: Some(Range::new(Position::new(sl, sc), Position::new(el, ec))),
            });
        }
        None
    }

    fn code_actions(&self, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        let uri = &params.text_document.uri;
        let Some((linted, _, _)) = self.analyze(uri) else {
            return Vec::new();
        };
        if !linted.shown {
            return Vec::new();
        }
        let (enc, json) = {
            let st = self.state();
            (st.encoding(), st.open.get(uri).is_some_and(|d| d.json))
        };
        let files = self.files_for(&linted.findings);
        let mut out = Vec::new();
        for f in linted.findings.iter() {
            let diagnostic = convert::diagnostic(f, uri, &linted.source, enc, &files);
            if !convert::overlaps(&diagnostic.range, &params.range) {
                continue;
            }
            for a in actions::for_finding(f, &linted.parsed, json) {
                let edits: Vec<TextEdit> = a
                    .edits
                    .iter()
                    .map(|e| convert::text_edit(&linted.source, e, enc))
                    .collect();
                out.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: a.title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(WorkspaceEdit {
                        changes: Some(HashMap::from([(uri.clone(), edits)])),
                        ..WorkspaceEdit::default()
                    }),
                    is_preferred: a.preferred.then_some(true),
                    ..CodeAction::default()
                }));
            }
        }
        out
    }

    /// Reads workspace folders, then lints the open documents again.
    fn start_indexing(self: &Arc<Self>, roots: Vec<PathBuf>) {
        if roots.is_empty() {
            return;
        }
        let inner = self.clone();
        tokio::spawn(async move {
            let worker = inner.clone();
            let done = tokio::task::spawn_blocking(move || {
                workspace::index(&roots, worker.limits, &worker.stopping)
            })
            .await;
            let Ok(index) = done else { return };
            let message = format!(
                "read {} manifest files of the workspace, {} with objects rules look up{}",
                index.read,
                index.files.len(),
                if index.truncated {
                    " (stopped at the limit of files or bytes)"
                } else {
                    ""
                }
            );
            eprintln!("canarylint lsp: {message}");
            {
                let mut st = inner.state();
                // Files reported changed while reading keep what the watcher read; folders
                // removed meanwhile are left out.
                let roots = st.roots.clone();
                for (path, file) in index.files {
                    if roots.iter().any(|r| path.starts_with(r)) {
                        st.disk.entry(path).or_insert(file);
                    }
                }
                st.replaced();
            }
            inner.client.log_message(MessageType::INFO, message).await;
            inner.relint_open(None);
        });
    }

    async fn register_watchers(&self) {
        let watchers = WATCHED
            .iter()
            .map(|g| FileSystemWatcher {
                glob_pattern: GlobPattern::String((*g).to_string()),
                kind: None,
            })
            .collect();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = Registration {
            id: "canarylint-watched-files".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(e) = self.client.register_capability(vec![registration]).await {
            eprintln!("canarylint lsp: the client refused to watch files: {e}");
        }
    }
}

/// The other files findings point into, by name.
struct FileMap(HashMap<String, (Uri, Option<Arc<SourceFile>>)>);

impl Files for FileMap {
    fn lookup(&self, name: &str) -> Option<(Uri, Option<Arc<SourceFile>>)> {
        self.0.get(name).cloned()
    }
}

/// Applies a change event to a text.
///
/// Public only for the fuzz targets (`fuzz/`), which drive the change path as a client would.
#[doc(hidden)]
pub fn apply_change(text: &str, change: &TextDocumentContentChangeEvent, enc: Encoding) -> String {
    let Some(range) = change.range else {
        return change.text.clone();
    };
    let source = SourceFile::new("", text);
    let span = convert::span(&source, range, enc);
    let mut out = String::with_capacity(text.len() + change.text.len());
    out.push_str(&text[..span.start as usize]);
    out.push_str(&change.text);
    out.push_str(&text[span.end as usize..]);
    out
}

fn negotiate_encoding(params: &InitializeParams) -> Encoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(list) if list.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

#[allow(deprecated)] // `root_uri`: older clients send only that.
fn workspace_roots(params: &InitializeParams) -> Vec<PathBuf> {
    let folders: Vec<&Uri> = match &params.workspace_folders {
        Some(f) if !f.is_empty() => f.iter().map(|f| &f.uri).collect(),
        _ => params.root_uri.iter().collect(),
    };
    folders.into_iter().filter_map(convert::file_path).collect()
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> RpcResult<InitializeResult> {
        let encoding = negotiate_encoding(&params);
        {
            let mut st = self.inner.state();
            st.encoding = Some(encoding);
            st.roots = workspace_roots(&params);
            st.watch_dynamically = params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false);
        }
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(match encoding {
                    Encoding::Utf8 => PositionEncodingKind::UTF8,
                    Encoding::Utf16 => PositionEncodingKind::UTF16,
                }),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                            include_text: Some(false),
                        })),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        work_done_progress_options: WorkDoneProgressOptions::default(),
                        resolve_provider: Some(false),
                    },
                )),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "canarylint".into(),
                version: Some(canarylint::VERSION.into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let (dynamic, roots) = {
            let st = self.inner.state();
            (st.watch_dynamically, st.roots.clone())
        };
        self.inner.start_indexing(roots);
        if dynamic {
            self.inner.register_watchers().await;
        }
    }

    async fn shutdown(&self) -> RpcResult<()> {
        self.inner.stopping.store(true, Ordering::Relaxed);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let path = convert::file_path(&doc.uri);
        let name: Arc<str> = convert::file_name(&doc.uri).into();
        let json = doc.language_id.starts_with("json") || name.ends_with(".json");
        {
            let mut st = self.inner.state();
            if path.as_deref().is_some_and(|p| !st.is_placed(p)) {
                st.replaced();
            }
            st.changed(&name);
            st.open.insert(
                doc.uri.clone(),
                OpenDoc {
                    source: Arc::new(SourceFile::new(name.clone(), doc.text)),
                    name,
                    path,
                    json,
                    version: doc.version,
                    parsed: None,
                    has_objects: false,
                    // Set once its objects are found to change the inventory.
                    cascade: false,
                    generation: 0,
                    last: None,
                },
            );
        }
        self.inner.schedule(doc.uri, Duration::ZERO);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        {
            let mut st = self.inner.state();
            let enc = st.encoding();
            let Some(doc) = st.open.get_mut(&uri) else {
                return;
            };
            let mut text = doc.source.text.to_string();
            for change in &params.content_changes {
                text = apply_change(&text, change, enc);
            }
            doc.source = Arc::new(SourceFile::new(doc.name.clone(), text));
            doc.version = params.text_document.version;
            doc.parsed = None;
            doc.last = None;
            let name = doc.name.clone();
            st.changed(&name);
        }
        self.inner.schedule(uri, DEBOUNCE);
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let uri = params.text_document.uri;
        let config = convert::file_path(&uri).is_some_and(|p| workspace::is_config(&p));
        if config {
            self.inner.state().reconfigured();
            self.inner.relint_open(None);
        } else {
            self.inner.schedule(uri, Duration::ZERO);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let closed = {
            let mut st = self.inner.state();
            let closed = st.open.remove(&uri);
            if let Some(doc) = &closed {
                // The file on disk, if any, stands for it again.
                if doc.path.as_deref().is_some_and(|p| !st.is_placed(p)) {
                    st.replaced();
                }
                st.changed(&doc.name);
            }
            closed
        };
        self.inner
            .client
            .publish_diagnostics(uri.clone(), Vec::new(), None)
            .await;
        let Some(closed) = closed else { return };
        let mut relint = closed.has_objects;
        // The file on disk counts again; it may differ from the buffer that was open.
        if let Some(path) = closed.path {
            let limits = self.inner.limits;
            let read = tokio::task::spawn_blocking({
                let path = path.clone();
                move || workspace::read_file(&path, limits)
            })
            .await
            .ok()
            .flatten();
            let mut st = self.inner.state();
            let differs = st.update_disk(path.clone(), read);
            // The buffer's objects leave, the file's come back.
            relint |= differs || st.disk.contains_key(&path);
        }
        if relint {
            self.inner.relint_open(None);
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut relint = false;
        for change in params.changes {
            let Some(path) = convert::file_path(&change.uri) else {
                continue;
            };
            if workspace::is_config(&path) {
                self.inner.state().reconfigured();
                relint = true;
                continue;
            }
            if !workspace::is_workspace_file(&path) {
                continue;
            }
            let read = if change.typ == FileChangeType::DELETED {
                None
            } else {
                let limits = self.inner.limits;
                let p = path.clone();
                tokio::task::spawn_blocking(move || workspace::read_file(&p, limits))
                    .await
                    .ok()
                    .flatten()
            };
            relint |= self.inner.state().update_disk(path, read);
        }
        if relint {
            self.inner.relint_open(None);
        }
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let removed: Vec<PathBuf> = params
            .event
            .removed
            .iter()
            .filter_map(|f| convert::file_path(&f.uri))
            .collect();
        let added: Vec<PathBuf> = params
            .event
            .added
            .iter()
            .filter_map(|f| convert::file_path(&f.uri))
            .collect();
        {
            let mut st = self.inner.state();
            st.roots.retain(|r| !removed.contains(r));
            for r in &added {
                if !st.roots.contains(r) {
                    st.roots.push(r.clone());
                }
            }
            let roots = st.roots.clone();
            st.disk
                .retain(|p, _| roots.iter().any(|r| p.starts_with(r)));
            st.replaced();
        }
        self.inner.start_indexing(added);
        self.inner.relint_open(None);
    }

    async fn hover(&self, params: HoverParams) -> RpcResult<Option<Hover>> {
        let inner = self.inner.clone();
        Ok(tokio::task::spawn_blocking(move || inner.hover(&params))
            .await
            .unwrap_or_default())
    }

    async fn code_action(&self, params: CodeActionParams) -> RpcResult<Option<CodeActionResponse>> {
        if let Some(only) = &params.context.only
            && !only.iter().any(|k| {
                CodeActionKind::QUICKFIX.as_str() == k.as_str()
                    || CodeActionKind::QUICKFIX
                        .as_str()
                        .starts_with(&format!("{}.", k.as_str()))
            })
        {
            return Ok(None);
        }
        let inner = self.inner.clone();
        let actions = tokio::task::spawn_blocking(move || inner.code_actions(&params))
            .await
            .unwrap_or_default();
        Ok(Some(actions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::{Position, Range};

    #[test]
    fn changes_apply_in_the_negotiated_encoding() {
        let text = "a: é😀x\nb: 1\n";
        let change = |l1, c1, l2, c2, t: &str| TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: t.into(),
        };
        // After "a: é😀": 3 + 1 + 2 UTF-16 units, 3 + 2 + 4 bytes.
        assert_eq!(
            apply_change(text, &change(0, 6, 0, 7, "y"), Encoding::Utf16),
            "a: é😀y\nb: 1\n"
        );
        assert_eq!(
            apply_change(text, &change(0, 9, 0, 10, "y"), Encoding::Utf8),
            "a: é😀y\nb: 1\n"
        );
        assert_eq!(
            apply_change(text, &change(1, 3, 1, 4, "22"), Encoding::Utf16),
            "a: é😀x\nb: 22\n"
        );
    }
}
