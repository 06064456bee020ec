//! The driver: runs the rules over files and applies the severity policy.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{Config, RuleLevel};
use crate::context::{Cx, DocShared, FileCx, Provider, Settings, SuppressionCx, Unused};
use crate::document::{Kind, ParsedFile, ResourceRef, read};
use crate::finding::{Finding, sort_findings};
use crate::inventory::{Bundle, Inventory};
use crate::model::CanaryView;
use crate::rule::{FixAvailability, Rule, RuleMeta, Severity};
use crate::source::SourceFile;
use crate::suppress::{IGNORE_ANNOTATION, RuleSelector};
use crate::tree::Span;
use crate::yaml::Budget;

/// Reported when a rule panics: a bug in canarylint, never in the user's file.
pub static INTERNAL_ERROR: RuleMeta = RuleMeta {
    code: "CL999",
    slug: "internal-error",
    severity: Severity::Error,
    summary: "a rule failed on this object (a bug in canarylint; please report it)",
    docs: "### What it does\nReports a rule that failed while checking an object.\n",
    since: "0.1.0",
    fix: FixAvailability::None,
    inputs: &[],
    kinds: &[],
    providers: &[],
    provider_specific: false,
    suppressible: false,
    about_suppressions: false,
    type_name: "InternalError",
    file: file!(),
    line: line!(),
};

/// What a [`LintRun`] keeps of each file once its findings are made. Findings carry their
/// own positions; keeping less lets a large run hold only what its output still reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retain {
    /// The trees of Flagger objects (for `plan` and other readers of the documents).
    pub trees: bool,
    /// The source texts (for outputs that quote source, such as snippets).
    pub sources: bool,
}

impl Retain {
    pub const ALL: Retain = Retain {
        trees: true,
        sources: true,
    };
    pub const NOTHING: Retain = Retain {
        trees: false,
        sources: false,
    };
}

impl Default for Retain {
    fn default() -> Self {
        Retain::ALL
    }
}

/// Where a run gets back the texts it lets go between its passes. The library reads no
/// files: the caller that read the inputs knows where each came from.
pub trait Reread: Send + Sync {
    /// Whether the source shown as `name` can be read again (standard input cannot).
    fn can_reread(&self, name: &str) -> bool;
    /// The text of the source shown as `name` as it is now; `None` when it cannot be read.
    fn reread(&self, name: &str) -> Option<String>;
}

/// Runs a set of rules with a configuration.
pub struct Linter {
    rules: Vec<&'static dyn Rule>,
    pub settings: Settings,
    pub config: Config,
    /// What runs of [`Linter::lint_sources`] keep after linting.
    pub retain: Retain,
    /// With a reader, the texts of the files that can be read again are let go once their
    /// objects are indexed, and read again (and checked to be the same) when the file is
    /// linted: a run then never holds every text at once. Inputs handed over already released
    /// ([`SourceFile::release`]) are read when the run gets to them.
    pub reread: Option<Arc<dyn Reread>>,
    /// Which config `ignore` entries silenced something (a run lints files in parallel).
    ignore_used: Vec<std::sync::atomic::AtomicBool>,
}

/// Which suppressions of one file silenced something.
struct Usage {
    /// Per comment, per listed code.
    inline: Vec<Vec<bool>>,
    annotation: Vec<bool>,
}

impl Linter {
    pub fn new(rules: &[&'static dyn Rule]) -> Self {
        Linter {
            rules: rules.to_vec(),
            settings: Settings::default(),
            config: Config::default(),
            retain: Retain::ALL,
            reread: None,
            ignore_used: Vec::new(),
        }
    }

    /// Applies a configuration (its Flagger settings and rule levels).
    pub fn with_config(mut self, config: Config) -> Self {
        if let Some(p) = &config.default_provider {
            self.settings.default_provider = p.clone();
            self.settings.provider_configured = true;
        }
        if let Some(l) = &config.selector_labels {
            self.settings.selector_labels = l.clone();
        }
        if let Some(ns) = &config.namespace {
            self.settings.default_namespace = ns.clone();
            self.settings.namespace_assumed = false;
        }
        self.ignore_used = config
            .ignore
            .iter()
            .map(|_| std::sync::atomic::AtomicBool::new(false))
            .collect();
        self.config = config;
        self
    }

    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    pub fn rules(&self) -> &[&'static dyn Rule] {
        &self.rules
    }

    fn enabled(&self) -> impl Iterator<Item = &&'static dyn Rule> {
        self.rules.iter().filter(|r| {
            !r.meta().suppressible || self.config.level(r.meta().code) != Some(RuleLevel::Off)
        })
    }

    /// Lints one parsed file against an inventory.
    pub fn lint_file(&self, file: &ParsedFile, inventory: &Inventory) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut used = Usage {
            inline: file
                .suppressions
                .ignores
                .iter()
                .map(|i| vec![false; i.selector.items.len()])
                .collect(),
            annotation: Vec::new(),
        };
        for rule in self.enabled() {
            let mut raw = Vec::new();
            let mut cx = FileCx {
                file,
                settings: &self.settings,
                rule: rule.meta(),
                out: &mut raw,
            };
            if std::panic::catch_unwind(AssertUnwindSafe(|| rule.check_file(&mut cx))).is_err() {
                raw.push(self.internal(file, rule.meta(), None));
            }
            for f in raw {
                self.finish(f, file, None, None, &mut used, &mut out);
            }
        }
        for doc in file.documents.iter().filter(|d| d.kind.is_flagger()) {
            let provider = CanaryView::new(doc).map(|c| Provider::resolve(&c, &self.settings));
            let shared = DocShared {
                provider,
                schema: Default::default(),
            };
            let ignore = doc
                .annotation(IGNORE_ANNOTATION)
                .and_then(|n| n.as_str())
                .map(RuleSelector::parse);
            used.annotation = vec![false; ignore.as_ref().map_or(0, |s| s.items.len())];
            for rule in self.enabled() {
                let mut raw = Vec::new();
                let assumed = (self.settings.namespace_assumed && doc.namespace.is_none())
                    .then_some(self.settings.default_namespace.as_str());
                let mut cx = Cx {
                    file,
                    doc,
                    inventory: inventory.view_from(file.bundle, assumed),
                    settings: &self.settings,
                    shared: &shared,
                    rule: rule.meta(),
                    out: &mut raw,
                };
                if !rule.should_run(&cx) {
                    continue;
                }
                if std::panic::catch_unwind(AssertUnwindSafe(|| rule.check(&mut cx))).is_err() {
                    raw.push(self.internal(file, rule.meta(), Some(doc)));
                }
                for f in raw {
                    self.finish(
                        f,
                        file,
                        shared.provider.as_ref(),
                        ignore.as_ref(),
                        &mut used,
                        &mut out,
                    );
                }
            }
            if self.reports_suppressions()
                && let (Some(sel), Some(node)) = (&ignore, doc.annotation(IGNORE_ANNOTATION))
            {
                let codes: Vec<&str> = sel
                    .items
                    .iter()
                    .zip(&used.annotation)
                    .filter(|(_, u)| !**u)
                    .map(|(i, _)| i.as_str())
                    .collect();
                if !codes.is_empty() {
                    self.report_unused(
                        &file.source,
                        node.span,
                        Some(doc.resource(&self.settings.default_namespace)),
                        &Unused::Annotation { codes: &codes },
                        &mut out,
                    );
                }
            }
        }
        if self.reports_suppressions() {
            for (ig, u) in file.suppressions.ignores.iter().zip(&used.inline) {
                let codes: Vec<&str> = ig
                    .selector
                    .items
                    .iter()
                    .zip(u)
                    .filter(|(_, used)| !**used)
                    .map(|(i, _)| i.as_str())
                    .collect();
                if !codes.is_empty() {
                    self.report_unused(
                        &file.source,
                        ig.span,
                        None,
                        &Unused::Comment {
                            codes: &codes,
                            line: ig.line,
                        },
                        &mut out,
                    );
                }
            }
        }
        sort_findings(&mut out);
        out
    }

    /// Whether a rule of the set reports suppressions that silence nothing.
    fn reports_suppressions(&self) -> bool {
        self.enabled().any(|r| r.meta().about_suppressions)
    }

    /// Hands an unused suppression to the rules that report them. Their findings take the
    /// configured level, and no suppression silences them: they are about suppressions.
    fn report_unused(
        &self,
        source: &SourceFile,
        span: Span,
        resource: Option<ResourceRef>,
        unused: &Unused<'_>,
        out: &mut Vec<Finding>,
    ) {
        for rule in self.enabled().filter(|r| r.meta().about_suppressions) {
            let mut raw = Vec::new();
            let mut cx = SuppressionCx {
                source,
                span,
                resource: resource.clone(),
                rule: rule.meta(),
                out: &mut raw,
            };
            let run = || rule.check_suppression(&mut cx, unused);
            if std::panic::catch_unwind(AssertUnwindSafe(run)).is_err() {
                raw.push(internal_error(rule.meta(), source, span, resource.clone()));
            }
            for mut f in raw {
                if let Some(RuleLevel::Severity(s)) = self.config.level(f.rule.code) {
                    f.severity = s;
                }
                out.push(f);
            }
        }
    }

    /// Config `ignore` entries that silenced nothing in a whole run.
    pub fn unused_config_ignores(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let Some(source) = self.config.source.as_ref() else {
            return out;
        };
        if !self.reports_suppressions() {
            return out;
        }
        for (entry, used) in self.config.ignore.iter().zip(&self.ignore_used) {
            if !used.load(std::sync::atomic::Ordering::Relaxed) {
                let unused = Unused::ConfigEntry {
                    resource: &entry.resource,
                    rules: &entry.rules.items,
                };
                self.report_unused(source, entry.span, None, &unused, &mut out);
            }
        }
        out
    }

    /// Applies the severity policy and suppressions, then keeps the finding if it survives.
    fn finish(
        &self,
        mut f: Finding,
        file: &ParsedFile,
        provider: Option<&Provider>,
        annotation: Option<&RuleSelector>,
        used: &mut Usage,
        out: &mut Vec<Finding>,
    ) {
        let meta = f.rule;
        if meta.provider_specific
            && f.severity == Severity::Error
            && provider.is_some_and(Provider::is_guess)
        {
            f.severity = Severity::Warning;
        }
        if meta.suppressible {
            match self.config.level(meta.code) {
                Some(RuleLevel::Off) => return,
                Some(RuleLevel::Severity(s)) => f.severity = s,
                None => {}
            }
        }
        if !meta.suppressible {
            out.push(f);
            return;
        }
        let mut silenced = false;
        if let Some(a) = annotation {
            for (item, u) in a.items.iter().zip(used.annotation.iter_mut()) {
                if RuleSelector::one(item).matches(meta.code, meta.slug) {
                    *u = true;
                    silenced = true;
                }
            }
        }
        for (ig, u) in file.suppressions.ignores.iter().zip(used.inline.iter_mut()) {
            if ig.line != f.start.line {
                continue;
            }
            for (item, u) in ig.selector.items.iter().zip(u.iter_mut()) {
                if RuleSelector::one(item).matches(meta.code, meta.slug) {
                    *u = true;
                    silenced = true;
                }
            }
        }
        if let Some(r) = &f.resource {
            let key = format!(
                "{}/{}/{}",
                r.kind,
                r.namespace.as_deref().unwrap_or(""),
                r.name.as_deref().unwrap_or("")
            );
            for (i, entry) in self.config.ignore.iter().enumerate() {
                if entry.rules.matches(meta.code, meta.slug) && entry.matcher.is_match(&key) {
                    if let Some(flag) = self.ignore_used.get(i) {
                        flag.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    silenced = true;
                }
            }
        }
        if !silenced {
            out.push(f);
        }
    }

    /// Reads, indexes and lints a set of sources, each its own bundle (a stream is applied as
    /// one unit); `context` sources feed the inventory only.
    pub fn lint_sources(
        &self,
        sources: Vec<Arc<SourceFile>>,
        context: Vec<Arc<SourceFile>>,
        budget: &Budget,
    ) -> LintRun {
        self.lint_sources_with(Inventory::new(), sources, context, budget)
    }

    /// As [`Linter::lint_sources`], on top of an inventory that already holds objects (a
    /// cluster's): the files' objects are added to it, and win over it.
    pub fn lint_sources_with(
        &self,
        base: Inventory,
        sources: Vec<Arc<SourceFile>>,
        context: Vec<Arc<SourceFile>>,
        budget: &Budget,
    ) -> LintRun {
        let inputs = sources
            .into_iter()
            .enumerate()
            .map(|(i, source)| Input {
                source,
                unit: Unit {
                    bundle: Bundle::Input(i as u32),
                    namespace: None,
                },
            })
            .collect();
        let context = context.into_iter().map(Input::context).collect();
        self.lint_inputs(base, inputs, context, &[], budget)
    }

    /// Reads, indexes and lints inputs placed in their bundles; `context` inputs feed the
    /// inventory only. `partial` bundles were not read whole: they vouch for no namespace.
    pub fn lint_inputs(
        &self,
        base: Inventory,
        inputs: Vec<Input>,
        context: Vec<Input>,
        partial: &[Bundle],
        budget: &Budget,
    ) -> LintRun {
        let ns = self.settings.default_namespace.as_str();
        let assumed = self.settings.namespace_assumed;
        let retain = self.retain;
        let reread = self.reread.as_deref();
        // Kept to read a changed file anew in the second pass.
        let namespaces: Vec<Option<Arc<str>>> =
            inputs.iter().map(|i| i.unit.namespace.clone()).collect();
        // Each file is indexed as soon as it is read, and what no rule looks at is dropped
        // then: the trees of other objects, and the whole text of a file with nothing to lint.
        // Memory then holds Flagger objects and the inventory, not every manifest.
        let changed = std::sync::Mutex::new(Vec::new());
        let index = |input: Input| {
            // A text let go before the run (see [`Reread`]) is read now, as it is now: nothing
            // has been taken from it yet.
            let source = match reread {
                Some(r) if input.source.is_released() => match r.reread(&input.source.name) {
                    Some(text) => Arc::new(SourceFile::new(input.source.name.clone(), text)),
                    None => {
                        lock(&changed).push(input.source.name.clone());
                        Arc::new(SourceFile::new(input.source.name.clone(), ""))
                    }
                },
                _ => input.source,
            };
            let mut file = read(source, budget);
            file.bundle = input.unit.bundle;
            if let Some(n) = &input.unit.namespace {
                file.set_namespace(n);
            }
            let objects = Inventory::objects_of(&file, ns, assumed);
            let broken = Inventory::broken_of(&file, ns, assumed);
            let count = file.documents.len();
            if retain.trees {
                for doc in file.documents.iter_mut().filter(|d| !d.kind.is_flagger()) {
                    doc.root = crate::tree::Node::default();
                }
            } else {
                file.documents.retain(|d| d.kind.is_flagger());
                file.documents.shrink_to_fit();
            }
            if !retain.sources && !needs_lint(&file) {
                release_source(&mut file);
            } else if reread.is_some_and(|r| r.can_reread(&file.source.name)) {
                file.source = Arc::new(file.source.release());
            }
            (file, (objects, broken, count))
        };
        type Indexed = (
            Vec<crate::model::Object>,
            Vec<crate::inventory::Broken>,
            usize,
        );
        let (mut files, objects): (Vec<ParsedFile>, Vec<Indexed>) =
            inputs.into_par_iter().map(index).unzip();
        let documents = objects.iter().map(|(_, _, n)| n).sum();
        let context_objects: Vec<Indexed> = context.into_par_iter().map(|s| index(s).1).collect();
        let mut inventory = base;
        for b in partial {
            inventory.set_partial(*b);
        }
        for (objects, broken, _) in context_objects.into_iter().chain(objects) {
            for o in objects {
                inventory.add(o);
            }
            for b in broken {
                inventory.add_broken(b);
            }
        }
        let mut findings: Vec<Finding> = files
            .par_iter_mut()
            .zip(namespaces)
            .flat_map_iter(|(f, namespace)| {
                let found = if !needs_lint(f) {
                    Vec::new()
                } else if f.source.is_released() {
                    match self.restore(f, namespace.as_deref(), budget) {
                        Restored::Same => self.lint_file(f, &inventory),
                        Restored::Changed => {
                            lock(&changed).push(f.source.name.clone());
                            self.lint_file(f, &inventory)
                        }
                        Restored::Unreadable => {
                            lock(&changed).push(f.source.name.clone());
                            Vec::new()
                        }
                    }
                } else {
                    self.lint_file(f, &inventory)
                };
                if !retain.trees {
                    for doc in &mut f.documents {
                        doc.root = crate::tree::Node::default();
                    }
                }
                // A text read again is let go again: an output that quotes it reads it once more.
                if !retain.sources || f.source.fingerprint().is_some() {
                    release_source(f);
                }
                found
            })
            .collect();
        findings.extend(self.unused_config_ignores());
        sort_findings(&mut findings);
        let mut changed = changed.into_inner().unwrap_or_else(|e| e.into_inner());
        changed.sort_unstable();
        changed.dedup();
        LintRun {
            files,
            documents,
            inventory,
            findings,
            changed,
        }
    }

    /// Reads a released file's text again for its second pass. The same text takes its place
    /// under the trees read before; a changed text is read anew (its objects stay in the
    /// inventory as first read), so that every position found is one of the text linted.
    fn restore(&self, file: &mut ParsedFile, namespace: Option<&str>, budget: &Budget) -> Restored {
        let Some(text) = self
            .reread
            .as_deref()
            .and_then(|r| r.reread(&file.source.name))
        else {
            return Restored::Unreadable;
        };
        let text = match file.source.restore(text) {
            Ok(same) => {
                file.source = Arc::new(same);
                return Restored::Same;
            }
            Err(text) => text,
        };
        let mut again = read(
            Arc::new(SourceFile::new(file.source.name.clone(), text)),
            budget,
        );
        again.bundle = file.bundle;
        if let Some(n) = namespace {
            again.set_namespace(n);
        }
        if !self.retain.trees {
            again.documents.retain(|d| d.kind.is_flagger());
        }
        *file = again;
        Restored::Changed
    }
}

/// What reading a released text again found.
enum Restored {
    Same,
    /// Not the text first read: linted as it is now.
    Changed,
    /// Gone or unreadable: not linted.
    Unreadable,
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A source to lint and the unit it is applied with.
#[derive(Clone, Debug)]
pub struct Input {
    pub source: Arc<SourceFile>,
    pub unit: Unit,
}

impl Input {
    /// A source of objects that exist whatever is linted (`--context`).
    pub fn context(source: Arc<SourceFile>) -> Input {
        Input {
            source,
            unit: Unit::default(),
        }
    }
}

/// Where the objects of a source land.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unit {
    pub bundle: Bundle,
    /// The namespace its kustomization gives every object, replacing the one written.
    pub namespace: Option<Arc<str>>,
}

/// Whether linting a file can find anything: Flagger objects, problems to report, or
/// suppression comments that may turn out stale.
fn needs_lint(file: &ParsedFile) -> bool {
    file.has_flagger_objects() || !file.problems.is_empty() || !file.suppressions.ignores.is_empty()
}

/// Keeps a file's name and drops its text (the findings already hold their positions). A text
/// read again keeps its fingerprint: an output that quotes it can read it once more.
fn release_source(file: &mut ParsedFile) {
    if !file.source.text.is_empty() {
        file.source = Arc::new(match file.source.fingerprint() {
            Some(_) => file.source.release(),
            None => SourceFile::new(file.source.name.clone(), ""),
        });
    }
}

/// The result of linting a set of sources.
pub struct LintRun {
    /// The files linted. Without [`Retain::trees`], only their Flagger documents are kept,
    /// and those without their trees.
    pub files: Vec<ParsedFile>,
    /// Objects read from the files (not the context), `List` items counted.
    pub documents: usize,
    pub inventory: Inventory,
    pub findings: Vec<Finding>,
    /// Files let go (see [`Reread`]) that could not be read again, or, read again between the
    /// passes, were not the same (sorted). A changed file is linted as it is now; one that
    /// cannot be read is not linted.
    pub changed: Vec<Arc<str>>,
}

impl Linter {
    /// The finding that replaces a rule's findings on an object when the rule panics.
    fn internal(
        &self,
        file: &ParsedFile,
        rule: &'static RuleMeta,
        doc: Option<&crate::document::Document>,
    ) -> Finding {
        let span = doc.map_or_else(Default::default, |d| {
            d.root.entry("kind").map_or(d.span, |e| e.value.span)
        });
        let resource = doc.map(|d| d.resource(&self.settings.default_namespace));
        internal_error(rule, &file.source, span, resource)
    }
}

fn internal_error(
    rule: &'static RuleMeta,
    source: &SourceFile,
    span: Span,
    resource: Option<ResourceRef>,
) -> Finding {
    let message = format!("rule {} ({}) failed on this object", rule.code, rule.slug);
    Finding::new(&INTERNAL_ERROR, source, span, message)
        .with_help("this is a bug in canarylint; please report it with the file that triggers it")
        .with_resource(resource)
}

/// Whether a kind is one a rule can declare as input.
pub fn is_inventory_kind(kind: Kind) -> bool {
    kind != Kind::Other
}
