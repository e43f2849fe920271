//! The object index: every Kubernetes object in the scanned tree by kind, namespace and name, with
//! the place it is defined. Repository-wide rules read it; per-document rules never need it.
//! What the modules above work out from the whole repository (the clusters, the reconcile tree,
//! ...) the [`Repository`] keeps in its [`Store`], without naming their types.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::config::Config;
use crate::diag::FileId;
use crate::discover::KUSTOMIZATION_FILES;
use crate::flux_api::{FluxKind, KindName};
use crate::fs::TreeView;
use crate::model::derived::Store;
use crate::model::kustomization::is_remote;
use crate::source::{SourceFile, Span};
use crate::yaml::{Document, NodeId, NodeRef};

/// A document that declares a Kubernetes object.
#[derive(Clone, Debug)]
pub struct Object {
    pub file: FileId,
    /// Index into [`Repository::docs`].
    pub doc: usize,
    pub api_version: String,
    pub kind: String,
    /// The Flux kind, when both `kind` and the API group are Flux's (read once, here).
    pub flux: Option<FluxKind>,
    pub name: String,
    /// `metadata.namespace` as written; `None` when the file leaves it to kustomize or Flux.
    pub namespace: Option<String>,
    pub name_span: Span,
}

impl Object {
    /// The objects of a file's documents, in document order (a document without an identity
    /// is no object).
    pub fn all_of(file: FileId, docs: &[Document]) -> Vec<Object> {
        docs.iter()
            .enumerate()
            .filter_map(|(slot, doc)| Object::from_document(file, slot, doc))
            .collect()
    }

    /// Reads the identity of a document: `apiVersion`, `kind` and `metadata.name`, all strings.
    pub fn from_document(file: FileId, doc_slot: usize, doc: &Document) -> Option<Object> {
        let root = doc.root()?;
        let api_version = root.get("apiVersion")?.as_str()?.to_string();
        let kind = root.get("kind")?.as_str()?.to_string();
        let name_node = root.path(&["metadata", "name"])?;
        let name = name_node.as_str()?.to_string();
        let namespace = root
            .str_at(&["metadata", "namespace"])
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        let flux = FluxKind::of(group, &kind);
        Some(Object {
            file,
            doc: doc_slot,
            api_version,
            kind,
            flux,
            name,
            namespace,
            name_span: name_node.span(),
        })
    }

    /// The API group (`helm.toolkit.fluxcd.io`), empty for the core group.
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    pub fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(_, v)| v)
            .unwrap_or(&self.api_version)
    }

    /// True for `kind` in any of Flux's toolkit groups (`*.toolkit.fluxcd.io`), not only its
    /// own; [`Object::flux`] is the exact test.
    pub fn is_flux(&self, kind: FluxKind) -> bool {
        self.kind == kind.name() && self.group().ends_with(".toolkit.fluxcd.io")
    }

    /// Whether `kind:` names `kind`, whatever the group.
    pub fn is_named(&self, kind: impl KindName) -> bool {
        self.kind == kind.kind_name()
    }
}

#[derive(Clone)]
pub struct DocEntry {
    pub file: FileId,
    pub doc: Document,
    /// SOPS metadata at the top (`sops:` with `mac`). This and the flag below are read while
    /// the document is parsed and in cache, in parallel: the repository rules that ask them
    /// then skip the other documents unread.
    pub sops: bool,
    /// Bit `i`: rule `i` of the registry will read this document after the document rules
    /// (`Rule::marks` of the rules, asked while the document is parsed).
    pub marks: u64,
}

/// Whether anything after the document rules may read this document's tree: the repository
/// rules, the reconcile tree or the report (which masks Secret values and secretGenerator
/// literals). Kept: documents that declare no object, kustomize files, Flux's toolkit kinds,
/// core and kustomize kinds, the Flux Operator's, the kinds the model or a rule looks up by
/// name in any group (`read_by_name`, sorted: the rules' declarations), documents a rule
/// marked, SOPS-encrypted documents and anything with a `secretGenerator`. The rest (CRDs such
/// as PrometheusRule or HTTPRoute, apps/v1 workloads) are read by document rules alone, so
/// `check` drops their trees once those are done.
pub fn read_after_document_rules(
    path: &str,
    object: Option<&Object>,
    entry: &DocEntry,
    read_by_name: &[&str],
) -> bool {
    let Some(o) = object else {
        return true;
    };
    let group = o.group();
    entry.sops
        || entry.marks != 0
        || crate::discover::is_kustomization_file(path)
        || group.is_empty()
        || group.contains("fluxcd")
        || group == crate::flux_api::KustomizeKind::GROUP
        || MODEL_READS_BY_NAME.iter().any(|k| o.is_named(*k))
        || MODEL_READS_CORE_BY_NAME.iter().any(|k| o.is_named(*k))
        || read_by_name.binary_search(&o.kind.as_str()).is_ok()
        || entry
            .doc
            .root()
            .is_some_and(|r| r.get("secretGenerator").is_some())
        || entry.doc.uses_substitution()
}

/// The kinds the model (the reconcile tree, clusters, sources, substitution) looks objects up
/// by whatever their group: a `GitRepository` of another API is still asked about. The rules
/// declare theirs (`Rule::reads`).
const MODEL_READS_BY_NAME: &[FluxKind] = &[
    FluxKind::Kustomization,
    FluxKind::GitRepository,
    FluxKind::OCIRepository,
    FluxKind::Bucket,
    FluxKind::ExternalArtifact,
    FluxKind::HelmRelease,
    FluxKind::FluxInstance,
];
const MODEL_READS_CORE_BY_NAME: &[crate::flux_api::CoreKind] = &[
    crate::flux_api::CoreKind::ConfigMap,
    crate::flux_api::CoreKind::Secret,
];

impl DocEntry {
    /// `marks`: see [`DocEntry::marks`].
    pub fn new(file: FileId, doc: Document, marks: u64) -> DocEntry {
        let sops = doc
            .root()
            .is_some_and(|r| crate::secrets::is_sops_document(&r));
        DocEntry {
            file,
            doc,
            sops,
            marks,
        }
    }
}

pub struct Repository {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    pub docs: Vec<DocEntry>,
    pub objects: Vec<Object>,
    pub config: Config,
    pub tree: Box<dyn TreeView>,
    by_kind: HashMap<String, Vec<usize>>,
    /// Directory → `namespace:` of the kustomization file in it.
    kustomize_namespaces: HashMap<String, Vec<String>, foldhash::fast::RandomState>,
    /// File → its range in `docs`, when `docs` is in file order (as the engine builds it), so
    /// "the documents of this file" is not a scan of every document.
    doc_ranges: Option<Vec<std::ops::Range<usize>>>,
    /// The kustomize files (`kustomization.yaml` and its other names), in file order: many
    /// rules read only these, and finding them by name among every document added up.
    kustomization_files: Vec<FileId>,
    /// Document → its object in `objects`, `u32::MAX` when it declares none: lets rules judge
    /// a document by the identity the index already read instead of reading it again.
    object_of_doc: Vec<u32>,
    /// Relative path → file, built on first use.
    file_ids:
        std::sync::OnceLock<HashMap<std::sync::Arc<str>, FileId, foldhash::fast::RandomState>>,
    /// [`Repository::own_sources`], computed on first use: several rules and the reconcile
    /// tree ask for it.
    own_sources: std::sync::OnceLock<Vec<SourceKey>>,
    /// What the modules above the index work out from the whole repository (the clusters,
    /// the reconcile tree, ...), each on first use and through its own accessor.
    pub(crate) derived: Store,
    /// File → the namespaces kustomize may force on its objects ([`Repository::namespace_override`]),
    /// computed on first use.
    namespace_overrides: std::sync::OnceLock<HashMap<FileId, Vec<String>>>,
    /// `apiVersion/kind` of the applied objects FV505 found no schema for (set by FV505).
    pub unvalidated_kinds: std::sync::OnceLock<Vec<String>>,
    /// True when the run released the trees no document rule reads (`check`): the model then
    /// parses a file's text again for its objects (a build needs every object).
    pub partial_trees: bool,
}

impl Repository {
    pub fn new(
        root: PathBuf,
        files: Vec<SourceFile>,
        docs: Vec<DocEntry>,
        objects: Vec<Object>,
        config: Config,
        tree: Box<dyn TreeView>,
    ) -> Repository {
        let mut by_kind: HashMap<String, Vec<usize>> = HashMap::new();
        let mut object_of_doc = vec![u32::MAX; docs.len()];
        for (i, o) in objects.iter().enumerate() {
            by_kind.entry(o.kind.clone()).or_default().push(i);
            if let (Some(slot), Ok(i)) = (object_of_doc.get_mut(o.doc), u32::try_from(i)) {
                *slot = i;
            }
        }
        let kustomization_files: Vec<FileId> = files
            .iter()
            .enumerate()
            .filter(|(_, f)| crate::discover::is_kustomization_file(&f.path))
            .map(|(i, _)| i)
            .collect();
        let doc_ranges = docs.is_sorted_by_key(|d| d.file).then(|| {
            let n = files.len().max(docs.last().map_or(0, |d| d.file + 1));
            (0..n)
                .map(|f| {
                    docs.partition_point(|d| d.file < f)..docs.partition_point(|d| d.file <= f)
                })
                .collect()
        });
        let mut repo = Repository {
            partial_trees: false,
            kustomize_namespaces: HashMap::default(),
            doc_ranges,
            kustomization_files,
            object_of_doc,
            file_ids: std::sync::OnceLock::new(),
            own_sources: std::sync::OnceLock::new(),
            derived: Store::default(),
            namespace_overrides: std::sync::OnceLock::new(),
            unvalidated_kinds: std::sync::OnceLock::new(),
            root,
            files,
            docs,
            objects,
            config,
            tree,
            by_kind,
        };
        // Every effective-namespace question walks up the directories, one lookup each.
        let mut namespaces: HashMap<String, Vec<String>, foldhash::fast::RandomState> =
            HashMap::default();
        for d in repo.kustomization_docs() {
            if let Some(ns) = d.doc.root().and_then(|r| r.str_at(&["namespace"])) {
                namespaces
                    .entry(parent_dir(repo.path(d.file)).to_string())
                    .or_default()
                    .push(ns.to_string());
            }
        }
        repo.kustomize_namespaces = namespaces;
        repo
    }

    /// The objects whose `kind:` is `kind`, whatever their group.
    pub fn of_kind<'a>(&'a self, kind: impl KindName) -> impl Iterator<Item = &'a Object> + 'a {
        self.by_kind
            .get(kind.kind_name())
            .into_iter()
            .flatten()
            .map(|&i| &self.objects[i])
    }

    /// The objects of any of `kinds` (by name, whatever their group) with their index, in
    /// object order: reading every object's kind to find a few kinds costs a cache miss per
    /// object.
    pub fn of_kinds<'a>(&'a self, kinds: &[FluxKind]) -> impl Iterator<Item = (usize, &'a Object)> {
        let mut found: Vec<usize> = kinds
            .iter()
            .flat_map(|k| self.by_kind.get(k.name()).into_iter().flatten().copied())
            .collect();
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(move |i| (i, &self.objects[i]))
    }

    /// The object's root node.
    pub fn node<'a>(&'a self, object: &Object) -> NodeRef<'a> {
        // A released tree reads as a null node: a rule that asks a document `check` dropped
        // finds nothing there rather than stopping the run.
        let doc = &self.docs[object.doc].doc;
        doc.root().unwrap_or(NodeRef {
            doc,
            id: NodeId::MAX,
        })
    }

    /// The documents of `file`, in stream order.
    pub fn docs_of(&self, file: FileId) -> impl Iterator<Item = &DocEntry> {
        let (slice, filter) = match self.doc_ranges.as_ref().and_then(|r| r.get(file)) {
            Some(r) => (&self.docs[r.clone()], false),
            None if self.doc_ranges.is_some() => (&self.docs[..0], false),
            None => (&self.docs[..], true),
        };
        slice.iter().filter(move |d| !filter || d.file == file)
    }

    pub fn document(&self, object: &Object) -> &Document {
        &self.docs[object.doc].doc
    }

    pub fn path(&self, file: FileId) -> &str {
        &self.files[file].path
    }

    /// The object `docs[doc]` declares, when it declares one.
    pub fn object_of_doc(&self, doc: usize) -> Option<&Object> {
        let i = *self.object_of_doc.get(doc)?;
        self.objects.get(i as usize)
    }

    /// The file at a root-relative path, when it was read.
    pub fn file_id(&self, path: &str) -> Option<FileId> {
        let ids = self.file_ids.get_or_init(|| {
            let mut ids = HashMap::with_capacity_and_hasher(self.files.len(), Default::default());
            for (i, f) in self.files.iter().enumerate() {
                ids.entry(f.path.clone()).or_insert(i);
            }
            ids
        });
        ids.get(path).copied()
    }

    /// Whether `file` is a kustomize file (by its name).
    pub fn is_kustomization_file(&self, file: FileId) -> bool {
        self.kustomization_files.binary_search(&file).is_ok()
    }

    /// The kustomize files, in file order.
    pub fn kustomization_files(&self) -> &[FileId] {
        &self.kustomization_files
    }

    /// The documents of the kustomize files with their file, in the order of `docs`.
    pub fn kustomization_docs(&self) -> impl Iterator<Item = &DocEntry> {
        self.kustomization_files
            .iter()
            .flat_map(move |&f| self.docs_of(f))
    }

    /// The namespace the object will live in, as far as the files tell: the `namespace:` of
    /// the outermost kustomization file that includes its file (directly, through nested
    /// directories or components), which overrides an explicit `metadata.namespace` as
    /// kustomize's namespace transformer does; else its own `metadata.namespace`; else the
    /// `namespace:` of the nearest kustomization file in its directory or above.
    pub fn effective_namespace<'a>(&'a self, object: &'a Object) -> Option<&'a str> {
        if let Some(Some(ns)) = self.namespace_override(object.file) {
            return Some(ns);
        }
        if let Some(ns) = &object.namespace {
            return Some(ns);
        }
        let path = self.path(object.file);
        let mut dir = parent_dir(path);
        loop {
            if let Some(ns) = self.kustomization_namespace(dir) {
                return Some(ns);
            }
            if dir.is_empty() {
                return None;
            }
            dir = parent_dir(dir);
        }
    }

    /// The namespace kustomize sets on every object of `file`: `Some(Some(ns))` when the
    /// outermost kustomization files that include it (and set `namespace:`) agree on `ns`,
    /// `Some(None)` when they disagree (the file lands in several namespaces), `None` when no
    /// kustomization file with a `namespace:` includes it.
    pub fn namespace_override(&self, file: FileId) -> Option<Option<&str>> {
        self.namespace_overrides
            .get_or_init(|| self.find_namespace_overrides())
            .get(&file)
            .map(|outer| match outer.as_slice() {
                [one] => Some(one.as_str()),
                _ => None,
            })
    }

    /// Every namespace kustomize may set on the objects of `file`: the `namespace:` of each
    /// outermost kustomization file that includes it (a component several namespaces'
    /// kustomizations include lands in each). Empty when none sets one.
    pub fn namespaces_set_on(&self, file: FileId) -> &[String] {
        self.namespace_overrides
            .get_or_init(|| self.find_namespace_overrides())
            .get(&file)
            .map_or(&[], Vec::as_slice)
    }

    fn find_namespace_overrides(&self) -> HashMap<FileId, Vec<String>> {
        // Each kustomization file that sets a namespace, with every file it includes.
        let mut closures: Vec<(FileId, &str, std::collections::HashSet<FileId>)> = Vec::new();
        for &kfile in &self.kustomization_files {
            let Some(ns) = self
                .docs_of(kfile)
                .filter_map(|d| d.doc.root())
                .find_map(|r| r.str_at(&["namespace"]))
                .filter(|ns| !ns.is_empty())
            else {
                continue;
            };
            let mut seen = std::collections::HashSet::new();
            self.include_closure(kfile, &mut seen, 0);
            seen.remove(&kfile);
            closures.push((kfile, ns, seen));
        }
        let mut out: HashMap<FileId, Vec<String>> = HashMap::new();
        if closures.is_empty() {
            return out;
        }
        // Each file with the kustomizations that include it, from one pass over the closures.
        let mut including_of: HashMap<FileId, Vec<usize>> = HashMap::new();
        for (i, (_, _, c)) in closures.iter().enumerate() {
            for &f in c {
                if !self.is_kustomization_file(f) {
                    including_of.entry(f).or_default().push(i);
                }
            }
        }
        for (f, including) in including_of {
            let including: Vec<&(FileId, &str, std::collections::HashSet<FileId>)> =
                including.iter().map(|&i| &closures[i]).collect();
            // The outermost: those no other including kustomization includes in turn.
            let mut outer: Vec<&str> = including
                .iter()
                .filter(|(k, _, _)| !including.iter().any(|(_, _, c)| c.contains(k)))
                .map(|(_, ns, _)| *ns)
                .collect();
            outer.sort_unstable();
            outer.dedup();
            out.insert(f, outer.into_iter().map(str::to_string).collect());
        }
        out
    }

    /// Adds to `seen` every file the kustomization file `kfile` includes as resources, bases
    /// or components, following nested kustomization directories.
    fn include_closure(
        &self,
        kfile: FileId,
        seen: &mut std::collections::HashSet<FileId>,
        depth: usize,
    ) {
        if depth > 64 || !seen.insert(kfile) {
            return;
        }
        let dir = parent_dir(self.path(kfile)).to_string();
        let mut entries: Vec<String> = Vec::new();
        for root in self.docs_of(kfile).filter_map(|d| d.doc.root()) {
            for key in ["resources", "bases", "components"] {
                for item in root.get(key).map(|n| n.items()).unwrap_or_default() {
                    if let Some(r) = item.as_str()
                        && !is_remote(r)
                        && !r.contains("${")
                    {
                        entries.push(r.to_string());
                    }
                }
            }
        }
        for r in entries {
            let Some(target) = crate::fs::join_normalized(&dir, &r) else {
                continue;
            };
            if let Some(id) = self.file_id(&target)
                && !self.is_kustomization_file(id)
            {
                seen.insert(id);
            } else if self.tree.is_dir(&target)
                && let Some(k) = kustomization_file_in(self, &target)
                && let Some(kid) = self.file_id(&k)
            {
                self.include_closure(kid, seen, depth + 1);
            }
        }
    }

    fn kustomization_namespace(&self, dir: &str) -> Option<&str> {
        self.kustomize_namespaces_in(dir).last().map(String::as_str)
    }

    /// The `namespace:` of every kustomization file directly in `dir` (kustomize rejects two
    /// in one directory, which FV404 reports; both are kept so rules can stay lenient).
    pub fn kustomize_namespaces_in(&self, dir: &str) -> &[String] {
        self.kustomize_namespaces
            .get(dir)
            .map_or(&[], Vec::as_slice)
    }
}

/// The directory part of a `/`-separated relative path (`""` at the root).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// The relative path of `name` in the directory `dir` (`""` is the root).
pub fn child_path(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The kustomization file of a directory, as kustomize looks it up (first recognised name).
pub fn kustomization_file_in(repo: &Repository, dir: &str) -> Option<String> {
    KUSTOMIZATION_FILES.iter().find_map(|name| {
        let p = child_path(dir, name);
        repo.tree.is_file(&p).then_some(p)
    })
}

/// A `sourceRef`-style reference: kind, name and namespace (defaulted to the referrer's).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl Repository {
    /// Flux Kustomizations (kustomize.toolkit.fluxcd.io) in file order.
    pub fn flux_kustomizations(&self) -> impl Iterator<Item = &Object> {
        self.of_kind(FluxKind::Kustomization)
            .filter(|o| o.flux == Some(FluxKind::Kustomization))
    }

    /// The `spec.path` of a Flux Kustomization, normalised to a root-relative path without a
    /// leading `./` (`""` for the root). `None` when it has no path or climbs out of the root.
    pub fn kustomization_path(&self, ks: &Object) -> Option<String> {
        self.kustomization_path_in(ks, "")
    }

    /// [`Repository::kustomization_path`] for a source whose root is the directory
    /// `source_root` here ([`crate::model::clusters::Cluster::source_root`]).
    pub fn kustomization_path_in(&self, ks: &Object, source_root: &str) -> Option<String> {
        let raw = self.node(ks).str_at(&["spec", "path"]).unwrap_or("./");
        crate::fs::join_normalized(source_root, raw)
    }

    /// The sources this repository syncs itself from: those that a Flux Kustomization whose
    /// `spec.path` exists in this tree points at (for an OCIRepository, an artifact pushed from
    /// a sub-directory: the path may exist below a directory above the Kustomization's file),
    /// plus `flux-system` (what `flux bootstrap` creates). Such a source follows a branch or a
    /// tag by design.
    pub fn own_sources(&self) -> &[SourceKey] {
        self.own_sources.get_or_init(|| self.find_own_sources())
    }

    fn find_own_sources(&self) -> Vec<SourceKey> {
        let mut out = vec![SourceKey {
            kind: FluxKind::GitRepository.name().into(),
            name: "flux-system".into(),
            namespace: Some("flux-system".into()),
        }];
        for ks in self.flux_kustomizations() {
            let Some(path) = self.kustomization_path(ks) else {
                continue;
            };
            if path.contains("${") {
                continue;
            }
            let node = self.node(ks);
            let Some(sref) = node.path(&["spec", "sourceRef"]) else {
                continue;
            };
            let (Some(kind), Some(name)) = (sref.str_at(&["kind"]), sref.str_at(&["name"])) else {
                continue;
            };
            // An OCI artifact pushed from a sub-directory of this repository ("gitless
            // GitOps") holds paths relative to that directory: one of the Kustomization's
            // own ancestors.
            let here = self.tree.is_dir(&path)
                || (FluxKind::from_name(kind) == Some(FluxKind::OCIRepository)
                    && self.exists_below_an_ancestor(ks.file, &path));
            if !here {
                continue;
            }
            let namespace = sref
                .str_at(&["namespace"])
                .map(str::to_string)
                .or_else(|| self.effective_namespace(ks).map(str::to_string));
            let key = SourceKey {
                kind: kind.to_string(),
                name: name.to_string(),
                namespace,
            };
            if !out.contains(&key) {
                out.push(key);
            }
        }
        out
    }

    /// Whether `path` is a directory relative to one of the directories above `file`.
    fn exists_below_an_ancestor(&self, file: FileId, path: &str) -> bool {
        let mut dir = parent_dir(self.path(file));
        while !dir.is_empty() {
            dir = parent_dir(dir);
            let candidate = if dir.is_empty() {
                path.to_string()
            } else if path.is_empty() {
                dir.to_string()
            } else {
                format!("{dir}/{path}")
            };
            if !path.is_empty() && self.tree.is_dir(&candidate) {
                return true;
            }
        }
        false
    }

    /// The Flux Kustomizations whose `spec.path` holds `file`, deepest path first: the best
    /// static guess at what applies a document when no reconcile tree says otherwise.
    pub fn kustomizations_containing(&self, file: FileId) -> Vec<&Object> {
        let path = self.path(file);
        let mut found: Vec<(usize, &Object)> = self
            .flux_kustomizations()
            .filter_map(|ks| {
                let p = self.kustomization_path(ks)?;
                let inside = p.is_empty() || path.starts_with(&format!("{p}/"));
                inside.then_some((p.len(), ks))
            })
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        found.into_iter().map(|(_, o)| o).collect()
    }
}
