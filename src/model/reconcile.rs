//! The reconcile tree: which files each Flux Kustomization applies. It follows `spec.path`
//! through kustomization files (`resources`, `bases`, `components`), and where a directory has
//! none it mirrors the kustomization kustomize-controller generates (fluxcd/pkg
//! `kustomize_generator.go`): every `.yaml`/`.yml` file below it, recursively, except that a
//! subdirectory with its own kustomization file is included as a whole and not descended.

use std::collections::{HashMap, HashSet};

use crate::diag::FileId;
use crate::flux_api::FluxKind;
use crate::model::derived::Derived;
use crate::model::index::{Object, Repository, SourceKey, kustomization_file_in, parent_dir};
use crate::model::kustomization::{PatchSource, is_kustomize_config, is_remote};
use crate::model::rendered::{Node, RenderedObject};
use crate::yaml::NodeRef;

/// How a file reaches the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inclusion {
    /// Named by a kustomization file's `resources`/`bases`.
    Listed,
    /// Picked up by the kustomization Flux generates for a directory without one.
    Generated,
}

/// The applier index of the bootstrap Kustomization when only its directory is in the files.
pub const BOOTSTRAP: usize = usize::MAX;

/// The cluster index of what a root applied by hand reaches (it is no named cluster).
pub const ROOT_BY_HAND: u16 = u16::MAX;

#[derive(Default)]
pub struct ReconcileTree {
    /// File → the Flux Kustomizations (indices into `Repository::objects`) that apply it.
    applied: HashMap<FileId, Vec<(usize, Inclusion)>>,
    /// Flux Kustomizations whose path was followed.
    walked: HashSet<usize>,
    /// Files some kustomization file loads as resources, whether or not Flux applies them.
    kustomize_resources: HashSet<FileId>,
    /// Where the repository has clusters: file → the clusters (indices into
    /// `Repository::clusters`) whose build reaches it.
    file_clusters: HashMap<FileId, Vec<u16>>,
    /// Files a reached kustomization reads other than as objects: patches, generator inputs,
    /// CRD schemas, replacement sources.
    referenced: HashSet<FileId>,
    /// Flux Kustomizations a cluster reaches whose source is not the cluster's own: what they
    /// apply comes from elsewhere and cannot be built offline.
    foreign: Vec<usize>,
    /// Files some kustomization uses as a `patches` entry with a `target`: kustomize gives
    /// such a patch its target's apiVersion and kind, whatever the file says.
    targeted_patches: HashSet<FileId>,
    /// Files some kustomization uses as a patch (`patches`, `patchesStrategicMerge`,
    /// `patchesJson6902`): fragments, not objects.
    patch_files: HashSet<FileId>,
    /// What each cluster builds: (cluster index, applier, path), in walk order.
    builds: Vec<(u16, usize, String)>,
}

/// Default exclusions of source-controller (fluxcd/pkg `sourceignore`): files Flux never sees
/// even when they sit in a reconciled directory. Hidden files and `.sourceignore` are already
/// left out by discovery.
pub(crate) const FLUX_IGNORED_NAMES: &[&str] = &[
    "appveyor.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
];

/// Whether a file lies below a directory whose kustomization file a cluster's build reads
/// (`apps/kustomization.yaml` listing `./a/ks.yaml` but not `./b/ks.yaml`): a Flux
/// Kustomization there that no cluster applies was left out of a tree the clusters reconcile
/// (commented out, disabled), not applied by hand.
fn left_out_by_clusters<'r>(
    repo: &'r Repository,
    file_clusters: &HashMap<FileId, Vec<u16>>,
) -> impl Fn(&str) -> bool + 'r {
    let owned: HashSet<&'r str> = file_clusters
        .keys()
        .map(|&f| repo.path(f))
        .filter(|p| crate::discover::is_kustomization_file(p))
        .map(parent_dir)
        .collect();
    move |path: &str| {
        let mut dir = parent_dir(path);
        loop {
            if owned.contains(dir) {
                return true;
            }
            if dir.is_empty() {
                return false;
            }
            dir = parent_dir(dir);
        }
    }
}

/// Whether `path` lies in a Helm chart (a directory holding `Chart.yaml`, or below one): Helm
/// renders it from a HelmRelease; Flux never applies its files as manifests.
pub fn in_helm_chart(repo: &Repository, path: &str) -> bool {
    let mut dir = parent_dir(path);
    loop {
        let chart = if dir.is_empty() {
            "Chart.yaml".to_string()
        } else {
            format!("{dir}/Chart.yaml")
        };
        if repo.tree.is_file(&chart) {
            return true;
        }
        if dir.is_empty() {
            return false;
        }
        dir = parent_dir(dir);
    }
}

impl ReconcileTree {
    fn build(repo: &Repository) -> ReconcileTree {
        // Every kustomize config, reconciled or not, loads its listed files as objects and
        // its patch files as fragments: read first, so the walks know a patch from an object.
        let refs = ReconcileTree::kustomize_refs(repo);
        let mut tree = if repo.clusters().is_empty() {
            ReconcileTree::from_own_sources(repo, &refs)
        } else {
            ReconcileTree::from_clusters(repo, &refs)
        };
        tree.kustomize_resources = refs.kustomize_resources;
        tree.targeted_patches = refs.targeted_patches;
        tree.patch_files = refs.patch_files;
        tree
    }

    /// The files every kustomize config loads as objects (`resources`, `bases`) and uses as
    /// patches, reconciled or not.
    fn kustomize_refs(repo: &Repository) -> ReconcileTree {
        let mut tree = ReconcileTree::default();
        for &fid in repo.kustomization_files() {
            let dir = parent_dir(repo.path(fid));
            for root in repo.docs_of(fid).filter_map(|d| d.doc.root()) {
                if !is_kustomize_config(&root) {
                    continue;
                }
                for key in ["patches", "patchesStrategicMerge", "patchesJson6902"] {
                    for patch in root.get(key).map(|n| n.items()).unwrap_or_default() {
                        let Some(path) = patch.str_at(&["path"]).or_else(|| patch.as_str()) else {
                            continue;
                        };
                        if path.contains('\n') {
                            continue;
                        }
                        let Some(id) = crate::fs::join_normalized(dir, path.trim())
                            .and_then(|t| repo.file_id(&t))
                        else {
                            continue;
                        };
                        tree.patch_files.insert(id);
                        if key == "patches" && patch.get("target").is_some() {
                            tree.targeted_patches.insert(id);
                        }
                    }
                }
                for key in ["resources", "bases"] {
                    for item in root.get(key).map(|n| n.items()).unwrap_or_default() {
                        let Some(r) = item.as_str() else { continue };
                        if is_remote(r) || r.contains("${") {
                            continue;
                        }
                        if let Some(target) = crate::fs::join_normalized(dir, r)
                            && let Some(id) = repo.file_id(&target)
                        {
                            tree.kustomize_resources.insert(id);
                        }
                    }
                }
            }
        }
        tree
    }

    /// What each cluster applies: its path, then the path of every Flux Kustomization found on
    /// the way that reads the cluster's own source, until nothing new is reached. A
    /// Kustomization reading another source is recorded as foreign and not followed: its path
    /// is in another repository or artifact.
    fn from_clusters(repo: &Repository, refs: &ReconcileTree) -> ReconcileTree {
        let mut tree = ReconcileTree::default();
        let mut foreign = HashSet::new();
        // File → its Flux Kustomizations, once: every file a walk reaches is asked.
        let mut flux_ks: Vec<(usize, &Object)> = repo
            .of_kinds(&[FluxKind::Kustomization])
            .filter(|(_, o)| o.flux == Some(FluxKind::Kustomization))
            .collect();
        let mut by_file: HashMap<FileId, Vec<usize>> = HashMap::new();
        for (idx, o) in &flux_ks {
            by_file.entry(o.file).or_default().push(*idx);
        }
        for (ci, cluster) in repo.clusters().iter().enumerate() {
            // A path that is not here (a bootstrap whose files moved) applies nothing.
            if !(cluster.path.is_empty() || repo.tree.is_dir(&cluster.path)) {
                continue;
            }
            let root = (
                cluster.sync_kustomization.unwrap_or(BOOTSTRAP),
                cluster.path.clone(),
            );
            let own: Vec<SourceKey> = std::iter::once(cluster.source.clone())
                .chain(cluster.same_repository.iter().cloned())
                .collect();
            let own = (own.as_slice(), cluster.source_root.as_str());
            tree.walk_root(repo, &by_file, ci as u16, root, own, &mut foreign);
        }
        // A Flux Kustomization nothing applies, reading a source defined here at a path that
        // exists here, is a root applied by hand (the `flux/config/cluster.yaml` of many
        // home-ops templates), even beside clusters found otherwise (a monorepo of test
        // clusters): what it applies is applied. Not one below a kustomization file a cluster
        // reads: left out of it (an app retired by commenting out its `ks.yaml`), it is
        // applied by nothing.
        flux_ks.sort_by(|a, b| repo.path(a.1.file).cmp(repo.path(b.1.file)));
        let left_out = left_out_by_clusters(repo, &tree.file_clusters);
        for (idx, ks) in flux_ks {
            if tree.file_clusters.contains_key(&ks.file)
                || left_out(repo.path(ks.file))
                || refs.is_patch_body(ks.file)
            {
                continue;
            }
            let node = repo.node(ks);
            let Some(source) = node.path(&["spec", "sourceRef"]).and_then(|r| {
                crate::model::clusters::source_key(&r, repo.effective_namespace(ks).unwrap_or(""))
            }) else {
                continue;
            };
            let defined = repo.of_kind(&source.kind).any(|o| {
                o.group() == "source.toolkit.fluxcd.io"
                    && o.name == source.name
                    && repo.effective_namespace(o).is_none_or(|n| {
                        source
                            .namespace
                            .as_deref()
                            .is_none_or(|s| s.is_empty() || s == n)
                    })
            });
            let raw = node.str_at(&["spec", "path"]).unwrap_or("");
            // Relative to where a cluster reading the same source has that source's root.
            let source_root = repo
                .clusters()
                .iter()
                .find(|c| c.source == source)
                .map_or("", |c| c.source_root.as_str());
            let Some(path) = repo.kustomization_path_in(ks, source_root) else {
                continue;
            };
            if !defined
                || path.is_empty()
                || raw.contains("${")
                || raw.contains('\\')
                || !repo.tree.is_dir(&path)
            {
                continue;
            }
            // A path a cluster's Flux Kustomization already builds is that one's: the other,
            // applied by nothing, is a stale copy (an `archive/` of old `ks.yaml`s), and
            // judging the path again with its settings would find what the cluster never does.
            if tree
                .builds
                .iter()
                .any(|(c, _, p)| *c != ROOT_BY_HAND && *p == path)
            {
                continue;
            }
            tree.walk_root(
                repo,
                &by_file,
                ROOT_BY_HAND,
                (idx, path),
                (std::slice::from_ref(&source), source_root),
                &mut foreign,
            );
        }
        tree.foreign = foreign.into_iter().collect();
        tree.foreign.sort_unstable();
        tree
    }

    /// Walks a cluster's root path, then the path of every Flux Kustomization found on the way
    /// that reads `own` (its source, and the directory here that is the source's root), until
    /// nothing new is reached; records the others as foreign.
    fn walk_root(
        &mut self,
        repo: &Repository,
        flux_ks_by_file: &HashMap<FileId, Vec<usize>>,
        cluster: u16,
        root: (usize, String),
        (own, source_root): (&[SourceKey], &str),
        foreign: &mut HashSet<usize>,
    ) {
        let mut followed: HashSet<usize> = (root.0 != BOOTSTRAP)
            .then_some(root.0)
            .into_iter()
            .collect();
        // Each applier travels with itself as applied: its parent's `spec.patches` may have
        // set the `sourceRef`, `path` or `patches` that decide what it reaches.
        let as_written = |idx: usize| {
            repo.objects
                .get(idx)
                .map(|o| Node::from_yaml(repo.node(o), o.file))
        };
        let mut queue = vec![(root.0, root.1, as_written(root.0))];
        // Children whose path holds a `${VAR}`: resolved once the rest of the cluster is
        // walked, so the ConfigMaps it applies are known whatever the walk's order.
        let mut deferred: Vec<(usize, Option<Node>, usize, Node, String)> = Vec::new();
        // Children whose `sourceRef` holds a `${VAR}` (`name: ${GIT_REPOSITORY}`): routed once
        // the applier's substitution fills it, the same way.
        let mut deferred_refs: Vec<(usize, Option<Node>, usize, Node)> = Vec::new();
        while let Some((applier, path, applied_as)) = queue.pop().or_else(|| {
            while let Some((applier, applied_as, idx, mut child)) = deferred_refs.pop() {
                if !self.substitute_source_ref(
                    repo,
                    cluster,
                    (applier, applied_as.as_ref()),
                    &mut child,
                ) {
                    continue;
                }
                match route(repo, &repo.objects[idx], &child, own, source_root) {
                    Route::Walk(path) => return Some((idx, path, Some(child))),
                    Route::Defer(path) => deferred.push((applier, applied_as, idx, child, path)),
                    Route::Foreign => {
                        foreign.insert(idx);
                    }
                    Route::Skip => {}
                }
            }
            while let Some((applier, applied_as, idx, child, path)) = deferred.pop() {
                let path = self.substituted_path(
                    repo,
                    cluster,
                    (applier, applied_as.as_ref()),
                    &child,
                    path,
                    source_root,
                );
                if let Some(path) = path {
                    return Some((idx, path, Some(child)));
                }
            }
            None
        }) {
            if applier != BOOTSTRAP {
                self.walked.insert(applier);
            }
            self.builds.push((cluster, applier, path.clone()));
            let mut w = Walker {
                repo,
                ks: applier,
                seen: HashSet::new(),
                out: &mut self.applied,
                marked: Vec::new(),
                referenced: &mut self.referenced,
            };
            w.dir(&path);
            if applier != BOOTSTRAP
                && let Some(ks) = repo.objects.get(applier)
            {
                for c in flux_components(repo, ks) {
                    if let Some(target) =
                        crate::fs::join_normalized(&path, c.as_str().unwrap_or(""))
                        && let Some(k) = kustomization_file_in(repo, &target)
                    {
                        w.kustomization(&k);
                    }
                }
            }
            let marked = std::mem::take(&mut w.marked);
            // The kustomize build of this path, made when a child needs it (below).
            let mut kustomized: Option<crate::model::build::Build> = None;
            // The applier's `spec.patches`, which kustomize-controller applies to every
            // Flux Kustomization its build holds (a parent often sets each child's
            // `sourceRef` there).
            let patches = match (repo.objects.get(applier), &applied_as) {
                (Some(a), Some(node)) => crate::model::applied::additions(repo, a, node).patches,
                _ => Vec::new(),
            };
            for fid in marked {
                let list = self.file_clusters.entry(fid).or_default();
                if !list.contains(&cluster) {
                    list.push(cluster);
                }
                for &idx in flux_ks_by_file.get(&fid).map(Vec::as_slice).unwrap_or(&[]) {
                    let ks = &repo.objects[idx];
                    if !followed.insert(idx) {
                        continue;
                    }
                    // A child without a `sourceRef` (required by Flux) gets it from the
                    // kustomize build of this path: a patch of its kustomization file, or of a
                    // component (`sourceRef` set once for every child).
                    let written = repo.node(ks);
                    let mut base = || {
                        if written.path(&["spec", "sourceRef"]).is_none() {
                            let b = kustomized
                                .get_or_insert_with(|| crate::model::build::build(repo, &path));
                            if let Some(rendered) = rendered_in(repo, ks, b) {
                                return rendered;
                            }
                        }
                        Node::from_yaml(written, ks.file)
                    };
                    // A child the patches delete is walked as it was before them.
                    let child = patched(base(), &patches).unwrap_or_else(&mut base);
                    let routed = route(repo, ks, &child, own, source_root);
                    // A `${VAR}` source name that matches no source as written is routed once
                    // substituted. One that does (the source is written with the same
                    // `${VAR}`s, in the same substituted build) is that source.
                    if source_ref_has_var(&child) && matches!(routed, Route::Foreign | Route::Skip)
                    {
                        deferred_refs.push((applier, applied_as.clone(), idx, child));
                        continue;
                    }
                    match routed {
                        Route::Walk(path) => queue.push((idx, path, Some(child))),
                        Route::Defer(path) => {
                            deferred.push((applier, applied_as.clone(), idx, child, path));
                        }
                        Route::Foreign => {
                            foreign.insert(idx);
                        }
                        Route::Skip => {}
                    }
                }
            }
        }
    }

    /// The path of `child`, applied by `applier` (as `applied_as`), once the applier's
    /// post-build substitution fills its `${VAR}`s; `None` when one stays or the directory is
    /// not here.
    fn substituted_path(
        &self,
        repo: &Repository,
        cluster: u16,
        (applier, applied_as): (usize, Option<&Node>),
        child: &Node,
        mut path: String,
        source_root: &str,
    ) -> Option<String> {
        let raw = child.str_at(&["spec", "path"]).unwrap_or("").to_string();
        // A `${VAR}` in the path is the applier's post-build substitution: Flux
        // substitutes the child Kustomization object before applying it.
        if raw.contains("${")
            && let Some(vars) =
                self.applier_variables(repo, cluster, (applier, applied_as), &[raw.as_str()])
            && let Some(p) = crate::fs::join_normalized(
                source_root,
                &crate::model::substitution::substitute(&raw, &vars),
            )
        {
            path = p;
        }
        (!path.contains("${") && !raw.contains('\\') && repo.tree.is_dir(&path)).then_some(path)
    }

    /// The variables post-build substitution of `applier` (as `applied_as`) gives the objects
    /// of its build, reading the ConfigMaps and Secrets this cluster applies; without the
    /// `substituteFrom` values, those of `substitute` when they decide every variable `texts`
    /// use.
    fn applier_variables(
        &self,
        repo: &Repository,
        cluster: u16,
        (applier, applied_as): (usize, Option<&Node>),
        texts: &[&str],
    ) -> Option<std::collections::BTreeMap<String, String>> {
        let (a, node) = repo.objects.get(applier).zip(applied_as)?;
        // The ConfigMaps this cluster applies, when several clusters define one of that name.
        let here = |o: &Object| self.applies(cluster, o.file);
        crate::model::substitution::variables_of(repo, a, node, &here).or_else(|| {
            let known = crate::model::substitution::substitute_values(node);
            texts
                .iter()
                .flat_map(|t| crate::model::substitution::uses(t))
                .all(|u| known.contains_key(&u.name))
                .then_some(known)
        })
    }

    /// Fills the `${VAR}`s of `child`'s `sourceRef` and namespace from its applier's post-build
    /// substitution (Flux substitutes the child Kustomization object before applying it);
    /// whether none is left in what decides its source. A child that disables substitution
    /// keeps them.
    fn substitute_source_ref(
        &self,
        repo: &Repository,
        cluster: u16,
        applier: (usize, Option<&Node>),
        child: &mut Node,
    ) -> bool {
        if crate::model::substitution::disabled_in(child) {
            return false;
        }
        let fields = SOURCE_REF_FIELDS
            .map(|f| vec!["spec", "sourceRef", f])
            .into_iter()
            .chain(std::iter::once(vec!["metadata", "namespace"]));
        let fields: Vec<Vec<&str>> = fields.collect();
        let texts: Vec<String> = fields
            .iter()
            .filter_map(|f| child.str_at(f).map(str::to_string))
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let Some(vars) = self.applier_variables(repo, cluster, applier, &texts) else {
            return false;
        };
        for f in &fields {
            if let Some(v) = child.path_mut(f)
                && let Some(text) = v.as_str()
                && text.contains("${")
            {
                let new = crate::model::substitution::substitute(text, &vars);
                *v = Node::string(new, v.origin);
            }
        }
        !source_ref_has_var(child)
    }

    /// Without clusters: every Flux Kustomization whose source is one of this repository's
    /// own sources, as a kustomize build of the root would include them.
    fn from_own_sources(repo: &Repository, refs: &ReconcileTree) -> ReconcileTree {
        let mut tree = ReconcileTree::default();
        let own = reconciled_sources(repo);
        for (idx, ks) in repo.of_kinds(&[FluxKind::Kustomization]) {
            // A Kustomization in a file some kustomization uses as a patch is a fragment
            // merged into others (defaults for every Kustomization of a cluster), not one
            // Flux reconciles: its missing `spec.path` is no path to the repository's root.
            if ks.flux != Some(FluxKind::Kustomization) || refs.is_patch_body(ks.file) {
                continue;
            }
            let path = if source_is_own(repo, ks, own) {
                repo.kustomization_path(ks)
            } else {
                crate::model::sources::configured_path(repo, ks)
            };
            let Some(path) = path else {
                continue;
            };
            let raw = repo.node(ks).str_at(&["spec", "path"]).unwrap_or("");
            if raw.contains("${") || raw.contains('\\') || !repo.tree.is_dir(&path) {
                continue;
            }
            tree.walked.insert(idx);
            let mut w = Walker {
                repo,
                ks: idx,
                seen: HashSet::new(),
                out: &mut tree.applied,
                marked: Vec::new(),
                referenced: &mut tree.referenced,
            };
            w.dir(&path);
            // `spec.components` are relative to `spec.path` and applied with it.
            for c in flux_components(repo, ks) {
                if let Some(target) = crate::fs::join_normalized(&path, c.as_str().unwrap_or(""))
                    && let Some(k) = kustomization_file_in(repo, &target)
                {
                    w.kustomization(&k);
                }
            }
        }
        // `flux bootstrap` writes `<path>/flux-system/gotk-sync.yaml`; when the Kustomization it
        // defines is not in the files (the example repositories keep a placeholder), its path is
        // still known from where the directory sits.
        let has_bootstrap_ks = repo.flux_kustomizations().any(|k| k.name == "flux-system");
        if !has_bootstrap_ks {
            let mut roots: Vec<&str> = repo
                .files
                .iter()
                .map(|f| &*f.path)
                .filter(|p| {
                    p.ends_with("flux-system/gotk-sync.yaml")
                        || p.ends_with("flux-system/gotk-components.yaml")
                })
                .filter_map(|p| {
                    let d = parent_dir(p);
                    (d == "flux-system" || d.ends_with("/flux-system")).then(|| parent_dir(d))
                })
                .collect();
            roots.sort_unstable();
            roots.dedup();
            for root in roots {
                let mut w = Walker {
                    repo,
                    ks: BOOTSTRAP,
                    seen: HashSet::new(),
                    out: &mut tree.applied,
                    marked: Vec::new(),
                    referenced: &mut tree.referenced,
                };
                w.dir(root);
            }
        }
        tree
    }

    /// The Flux Kustomizations that apply `file` and how, in definition order.
    pub fn appliers(&self, file: FileId) -> &[(usize, Inclusion)] {
        self.applied.get(&file).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether the Flux Kustomization (index into `Repository::objects`) was followed.
    pub fn was_walked(&self, object: usize) -> bool {
        self.walked.contains(&object)
    }

    /// Whether kustomize (through a kustomization file or Flux's generated one) decodes `file`
    /// as Kubernetes objects.
    pub fn loaded_as_objects(&self, file: FileId) -> bool {
        self.kustomize_resources.contains(&file) || self.applied.contains_key(&file)
    }

    /// In a repository with clusters, whether some cluster's build reaches `file` (as objects,
    /// as its kustomization file, or as a patch or generator input). Always true without
    /// clusters: then nothing says what is applied, and every file is judged.
    pub fn reaches(&self, repo: &Repository, file: FileId) -> bool {
        repo.clusters().is_empty()
            || self.file_clusters.contains_key(&file)
            || self.referenced.contains(&file)
            || in_helm_chart(repo, repo.path(file))
    }

    /// The clusters (indices into `Repository::clusters`) whose build applies `file`.
    pub fn clusters_of(&self, file: FileId) -> &[u16] {
        self.file_clusters
            .get(&file)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// [`ReconcileTree::clusters_of`] without [`ROOT_BY_HAND`]: the clusters known to apply
    /// `file`.
    pub fn clusters_known(&self, file: FileId) -> Vec<u16> {
        self.clusters_of(file)
            .iter()
            .copied()
            .filter(|&c| c != ROOT_BY_HAND)
            .collect()
    }

    /// Whether cluster `cluster` (or [`ROOT_BY_HAND`]) applies `file`: which of several
    /// clusters' definitions of one `substituteFrom` ConfigMap a build of it reads.
    pub fn applies(&self, cluster: u16, file: FileId) -> bool {
        self.clusters_of(file).contains(&cluster)
    }

    /// What each cluster builds, as (cluster index or [`ROOT_BY_HAND`], the Flux Kustomization
    /// applying it or [`BOOTSTRAP`], its path), in walk order. Empty without clusters.
    pub fn builds(&self) -> &[(u16, usize, String)] {
        &self.builds
    }

    /// Whether some kustomization uses `file` as a patch with a `target`.
    pub fn is_targeted_patch(&self, file: FileId) -> bool {
        self.targeted_patches.contains(&file)
    }

    /// Whether some kustomization uses `file` as a patch.
    pub fn is_patch_file(&self, file: FileId) -> bool {
        self.patch_files.contains(&file)
    }

    /// Whether `file` is only ever read as a patch (never decoded as objects): what its
    /// documents leave out is their targets' own.
    pub fn is_patch_body(&self, file: FileId) -> bool {
        self.is_patch_file(file) && !self.loaded_as_objects(file)
    }

    /// Flux Kustomizations a cluster reaches whose source is not the cluster's own.
    pub fn foreign(&self) -> &[usize] {
        &self.foreign
    }

    /// Whether `file` is applied through a generated kustomization (no kustomization file).
    pub fn is_generated(&self, file: FileId) -> bool {
        self.appliers(file)
            .iter()
            .any(|(_, how)| *how == Inclusion::Generated)
    }
}

struct Walker<'a, 'r> {
    repo: &'r Repository,
    ks: usize,
    seen: HashSet<String>,
    out: &'a mut HashMap<FileId, Vec<(usize, Inclusion)>>,
    /// Every file marked by this walk, in order (with repeats).
    marked: Vec<FileId>,
    referenced: &'a mut HashSet<FileId>,
}

/// The files of kustomization `kfile` and of what it lists, recursively: a plugin entry
/// (`transformers: [./transformers]`) reads them as configurations, not objects.
fn plugin_configs(repo: &Repository, kfile: &str, out: &mut HashSet<FileId>, depth: usize) {
    let Some(fid) = repo.file_id(kfile) else {
        return;
    };
    if depth > 16 || !out.insert(fid) {
        return;
    }
    let dir = parent_dir(kfile).to_string();
    for root in repo
        .docs_of(fid)
        .filter_map(|d| d.doc.root())
        .filter(is_kustomize_config)
    {
        for key in ["resources", "bases"] {
            let entries = crate::model::kustomization::field(&root, key);
            for item in entries.map(|n| n.items()).unwrap_or_default() {
                let Some(target) = item
                    .as_str()
                    .and_then(|r| crate::fs::join_normalized(&dir, r))
                else {
                    continue;
                };
                if let Some(id) = repo.file_id(&target) {
                    out.insert(id);
                } else if let Some(k) = kustomization_file_in(repo, &target) {
                    plugin_configs(repo, &k, out, depth + 1);
                }
            }
        }
    }
}

/// Entries of a kustomization that name files read as something other than objects.
fn referenced_files<'a>(root: &NodeRef<'a>) -> Vec<NodeRef<'a>> {
    let mut out = Vec::new();
    for key in ["patchesStrategicMerge", "crds"] {
        out.extend(root.get(key).map(|n| n.items()).unwrap_or_default());
    }
    for key in ["patches", "patchesJson6902", "replacements"] {
        for item in root.get(key).map(|n| n.items()).unwrap_or_default() {
            out.extend(item.get("path"));
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for item in root.get(key).map(|n| n.items()).unwrap_or_default() {
            for list in ["files", "envs"] {
                out.extend(item.get(list).map(|n| n.items()).unwrap_or_default());
            }
            out.extend(item.get("env"));
        }
    }
    for key in ["generators", "transformers", "validators"] {
        out.extend(root.get(key).map(|n| n.items()).unwrap_or_default());
    }
    out
}

impl Walker<'_, '_> {
    fn mark(&mut self, path: &str, how: Inclusion) {
        if let Some(id) = self.repo.file_id(path) {
            self.marked.push(id);
            let list = self.out.entry(id).or_default();
            if !list.iter().any(|(k, _)| *k == self.ks) {
                list.push((self.ks, how));
            }
        }
    }

    /// A Flux Kustomization's path: its kustomization file, or the generated one.
    fn dir(&mut self, dir: &str) {
        match kustomization_file_in(self.repo, dir) {
            Some(k) => self.kustomization(&k),
            None => self.generated(dir),
        }
    }

    fn generated(&mut self, dir: &str) {
        if !self.seen.insert(format!("gen:{dir}")) {
            return;
        }
        for name in self.repo.tree.list_dir(dir) {
            let p = super::index::child_path(dir, &name);
            if name == ".git" {
                continue;
            }
            if self.repo.tree.is_dir(&p) {
                match kustomization_file_in(self.repo, &p) {
                    Some(k) => self.kustomization(&k),
                    None => self.generated(&p),
                }
            } else if (name.ends_with(".yaml") || name.ends_with(".yml"))
                && !FLUX_IGNORED_NAMES.contains(&name.as_str())
            {
                self.mark(&p, Inclusion::Generated);
            }
        }
    }

    fn kustomization(&mut self, kfile: &str) {
        if !self.seen.insert(kfile.to_string()) {
            return;
        }
        self.mark(kfile, Inclusion::Listed);
        let Some(fid) = self.repo.file_id(kfile) else {
            return;
        };
        let dir = parent_dir(kfile).to_string();
        let repo = self.repo;
        let roots: Vec<NodeRef<'_>> = repo
            .docs_of(fid)
            .filter_map(|d| d.doc.root())
            .filter(is_kustomize_config)
            .collect();
        for root in roots {
            for item in referenced_files(&root) {
                let Some(r) = item.as_str() else { continue };
                // `files:` entries may be `key=path`; inline patches are not paths.
                let r = r.rsplit_once('=').map_or(r, |(_, p)| p);
                if r.contains('\n') || is_remote(r) || r.contains("${") {
                    continue;
                }
                let Some(target) = crate::fs::join_normalized(&dir, r) else {
                    continue;
                };
                if let Some(id) = repo.file_id(&target) {
                    self.referenced.insert(id);
                } else if let Some(k) = kustomization_file_in(repo, &target) {
                    // A `transformers`/`generators`/`validators` entry naming a kustomization:
                    // kustomize builds it and reads its objects as plugin configurations.
                    plugin_configs(repo, &k, self.referenced, 0);
                }
            }
            for key in ["resources", "bases", "components"] {
                let entries = crate::model::kustomization::field(&root, key);
                for item in entries.map(|n| n.items()).unwrap_or_default() {
                    let Some(r) = item.as_str() else { continue };
                    if is_remote(r) || r.contains("${") {
                        continue;
                    }
                    let Some(target) = crate::fs::join_normalized(&dir, r) else {
                        continue;
                    };
                    if repo.tree.is_dir(&target) {
                        if let Some(k) = kustomization_file_in(repo, &target) {
                            self.kustomization(&k);
                        }
                    } else if repo.tree.is_file(&target) {
                        self.mark(&target, Inclusion::Listed);
                    }
                }
            }
        }
    }
}

/// The literal, local entries of a Flux Kustomization's `spec.components`.
pub fn flux_components<'a>(repo: &'a Repository, ks: &Object) -> Vec<NodeRef<'a>> {
    repo.node(ks)
        .path(&["spec", "components"])
        .map(|n| n.items())
        .unwrap_or_default()
        .into_iter()
        .filter(|c| {
            c.as_str()
                .is_some_and(|s| !s.is_empty() && !s.contains("${") && !is_remote(s))
        })
        .collect()
}

/// The sources whose content is this tree: a stricter [`Repository::own_sources`]. A
/// Kustomization's path only counts as evidence when it is written out and is not the root (a
/// missing `spec.path` defaults to `./`, which exists in every tree), and a GitRepository that
/// differs in URL or ref from the bootstrap `flux-system` one is another repository or branch
/// (flux2-multi-tenancy's tenants use the same URL on another branch).
pub fn reconciled_sources(repo: &Repository) -> &[SourceKey] {
    &repo
        .derived
        .get_or_init(|| ReconciledSources(find_reconciled_sources(repo)))
        .0
}

/// [`reconciled_sources`], as the repository keeps it.
struct ReconciledSources(Vec<SourceKey>);
impl Derived for ReconciledSources {}

fn find_reconciled_sources(repo: &Repository) -> Vec<SourceKey> {
    let bootstrap = repo
        .of_kind(FluxKind::GitRepository)
        .find(|o| o.name == "flux-system" && o.flux == Some(FluxKind::GitRepository));
    let identity = |o: &Object| {
        let n = repo.node(o);
        let url = n
            .str_at(&["spec", "url"])
            .map(|u| u.trim_end_matches(".git").to_string());
        let r = n.path(&["spec", "ref"]).map(|r| {
            r.entries()
                .iter()
                .map(|(k, v)| format!("{}={}", k.as_str().unwrap_or(""), v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        });
        (url, r)
    };
    let boot_id = bootstrap.map(identity);
    repo.own_sources()
        .iter()
        .filter(|key| {
            if key.name == "flux-system" && key.kind == FluxKind::GitRepository.name() {
                return true;
            }
            let evidence = repo.flux_kustomizations().any(|ks| {
                let node = repo.node(ks);
                let Some(raw) = node.str_at(&["spec", "path"]) else {
                    return false;
                };
                let Some(path) = crate::fs::join_normalized("", raw) else {
                    return false;
                };
                !path.is_empty()
                    && !raw.contains("${")
                    && repo.tree.is_dir(&path)
                    && source_is_own(repo, ks, std::slice::from_ref(key))
            });
            if !evidence {
                return false;
            }
            if key.kind != FluxKind::GitRepository.name() {
                return true;
            }
            let defined = repo.of_kind(FluxKind::GitRepository).find(|o| {
                o.name == key.name
                    && (key.namespace.is_none()
                        || o.namespace.is_none()
                        || o.namespace == key.namespace)
            });
            match (defined, &boot_id) {
                (Some(d), Some(b)) => identity(d) == *b,
                _ => true,
            }
        })
        .cloned()
        .collect()
}

/// The fields of a `sourceRef` post-build substitution may fill.
const SOURCE_REF_FIELDS: [&str; 3] = ["kind", "name", "namespace"];

/// Whether a `${VAR}` stands in the `sourceRef` of the Flux Kustomization `node`, or in the
/// namespace a `sourceRef` without one defaults to.
fn source_ref_has_var(node: &Node) -> bool {
    SOURCE_REF_FIELDS.iter().any(|f| {
        node.str_at(&["spec", "sourceRef", f])
            .is_some_and(|v| v.contains("${"))
    }) || (node.str_at(&["spec", "sourceRef", "namespace"]).is_none()
        && node
            .str_at(&["metadata", "namespace"])
            .is_some_and(|v| v.contains("${")))
}

/// Where a child Flux Kustomization found in a cluster's walk goes.
enum Route {
    /// Its path, to walk now.
    Walk(String),
    /// Its path holds a `${VAR}`: resolved once the rest of the cluster is walked.
    Defer(String),
    /// It reads another source.
    Foreign,
    /// Its path is not here (or cannot be known).
    Skip,
}

/// [`Route`] of `child`, the Flux Kustomization `ks` as applied, in a walk of sources `own`
/// whose root here is `source_root`.
fn route(
    repo: &Repository,
    ks: &Object,
    child: &Node,
    own: &[SourceKey],
    source_root: &str,
) -> Route {
    let path = if node_source_is_own(repo, ks, child, own) {
        crate::fs::join_normalized(source_root, child.str_at(&["spec", "path"]).unwrap_or("./"))
    } else if let Some(p) = own
        .iter()
        .find_map(|o| crate::model::sources::path_through_artifact(repo, ks, o))
        .or_else(|| crate::model::sources::configured_path(repo, ks))
    {
        Some(p)
    } else {
        return Route::Foreign;
    };
    let Some(path) = path else {
        return Route::Skip;
    };
    let raw = child.str_at(&["spec", "path"]).unwrap_or("");
    if raw.contains("${") {
        return Route::Defer(path);
    }
    if path.contains("${") || raw.contains('\\') || !repo.tree.is_dir(&path) {
        return Route::Skip;
    }
    Route::Walk(path)
}

pub fn source_is_own(repo: &Repository, ks: &Object, own: &[SourceKey]) -> bool {
    repo.node(ks)
        .path(&["spec", "sourceRef"])
        .is_some_and(|sref| ref_is_own(repo, ks, |k| sref.str_at(&[k]), own))
}

/// [`source_is_own`] of `node`, the Flux Kustomization `ks` as applied.
/// A `${VAR}` namespace of `ks` (`namespace: ${FLUX_NAMESPACE}`) is read as `node` has it
/// substituted.
fn node_source_is_own(repo: &Repository, ks: &Object, node: &Node, own: &[SourceKey]) -> bool {
    let substituted_ns = repo
        .effective_namespace(ks)
        .is_some_and(|n| n.contains("${"))
        .then(|| node.str_at(&["metadata", "namespace"]))
        .flatten();
    node.path(&["spec", "sourceRef"]).is_some_and(|sref| {
        ref_is_own(
            repo,
            ks,
            |k| match k {
                "namespace" => sref.str_at(&[k]).or(substituted_ns),
                _ => sref.str_at(&[k]),
            },
            own,
        )
    })
}

/// `node`, a Flux Kustomization as written (or as its directory's kustomize build renders it),
/// with the `spec.patches` of the Flux Kustomization that applies it (as kustomize-controller
/// applies them to every object of its build) that select it; `None` when a patch deletes it.
fn patched(node: Node, patches: &[crate::model::kustomization::Patch]) -> Option<Node> {
    if patches.is_empty() {
        return Some(node);
    }
    let mut objects = vec![RenderedObject::new(node)];
    for p in patches {
        if let PatchSource::Inline(docs, _) = &p.source {
            // A patch that selects nothing here is an error of the parent's build, not of
            // this walk.
            let _ = crate::model::build::apply_patch(&mut objects, p, docs);
        }
    }
    objects.pop().map(|o| o.root)
}

/// The Flux Kustomization `ks` as the kustomize build `b` renders it, when `b` holds it.
fn rendered_in(repo: &Repository, ks: &Object, b: &crate::model::build::Build) -> Option<Node> {
    let start = repo.document(ks).root()?.span().start;
    b.objects
        .iter()
        .find(|o| {
            o.kind == FluxKind::Kustomization.name()
                && o.root.origin.file as usize == ks.file
                && o.root.origin.span.start == start
        })
        .map(|o| o.root.clone())
}

/// Whether the `sourceRef` whose fields `field` reads names one of `own` (its namespace
/// defaulting to the referrer `ks`'s).
fn ref_is_own<'r>(
    repo: &'r Repository,
    ks: &Object,
    field: impl Fn(&str) -> Option<&'r str>,
    own: &[SourceKey],
) -> bool {
    let (Some(kind), Some(name)) = (field("kind"), field("name")) else {
        return false;
    };
    let ns = field("namespace").or_else(|| repo.effective_namespace(ks));
    own.iter().any(|s| {
        s.kind == kind
            && s.name == name
            && (s.namespace.is_none() || ns.is_none() || s.namespace.as_deref() == ns)
    })
}

impl Derived for ReconcileTree {}

impl Repository {
    /// The reconcile tree, built on first use.
    pub fn reconcile_tree(&self) -> &ReconcileTree {
        self.derived.get_or_init(|| ReconcileTree::build(self))
    }

    /// Index of an object in [`Repository::objects`].
    pub fn object_index(&self, object: &Object) -> Option<usize> {
        self.objects
            .iter()
            .position(|o| o.file == object.file && o.doc == object.doc)
    }
}

/// The Flux Kustomization that applies `file`: from the reconcile tree, else (for paths the tree
/// could not follow, such as `${VAR}` paths) the deepest Kustomization whose path holds it.
pub fn applied_by(repo: &Repository, file: FileId) -> Option<&Object> {
    let tree = repo.reconcile_tree();
    if let Some(ks) = tree
        .appliers(file)
        .iter()
        .find_map(|(idx, _)| repo.objects.get(*idx))
    {
        return Some(ks);
    }
    if !tree.appliers(file).is_empty() {
        return None;
    }
    repo.kustomizations_containing(file)
        .into_iter()
        .find(|ks| repo.object_index(ks).is_none_or(|i| !tree.was_walked(i)))
}

/// `namespace/name` of the Flux Kustomization that applies `file`, for reports: as
/// [`applied_by`], plus the bootstrap `flux-system/flux-system` when only its directory is known.
pub fn applied_by_name(repo: &Repository, file: FileId) -> Option<String> {
    if let Some(ks) = applied_by(repo, file) {
        return Some(display_name(repo, ks));
    }
    repo.reconcile_tree()
        .appliers(file)
        .iter()
        .any(|(i, _)| *i == BOOTSTRAP)
        .then(|| "flux-system/flux-system".to_string())
}

/// `namespace/name` of a Flux Kustomization, `name` alone when its namespace is unknown.
pub fn display_name(repo: &Repository, ks: &Object) -> String {
    match repo.effective_namespace(ks) {
        Some(ns) => format!("{ns}/{}", ks.name),
        None => ks.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::check_memory;

    use crate::rules::testing::APPS_KUSTOMIZATION as KS;
    fn applier(files: &[(&str, &str)], path: &str) -> Option<String> {
        let out = check_memory(files, Config::default());
        let repo = &out.repo;
        let id = repo.files.iter().position(|f| &*f.path == path)?;
        applied_by(repo, id).map(|ks| display_name(repo, ks))
    }

    #[test]
    fn generated_kustomization_includes_everything_below() {
        let files = [
            ("clusters/prod/apps.yaml", KS),
            (
                "apps/a.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
            ),
            (
                "apps/sub/b.yml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
            ),
        ];
        assert_eq!(
            applier(&files, "apps/a.yaml").as_deref(),
            Some("flux-system/apps")
        );
        assert_eq!(
            applier(&files, "apps/sub/b.yml").as_deref(),
            Some("flux-system/apps")
        );
        let out = check_memory(&files, Config::default());
        assert!(out.repo.reconcile_tree().is_generated(1));
    }

    #[test]
    fn bootstrap_directory_stands_in_for_a_missing_flux_system_kustomization() {
        let files = [
            (
                "clusters/staging/flux-system/gotk-sync.yaml",
                "# generated by flux bootstrap\n",
            ),
            (
                "clusters/staging/apps.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
            ),
        ];
        let out = check_memory(&files, Config::default());
        let repo = &out.repo;
        let id = repo
            .files
            .iter()
            .position(|f| &*f.path == "clusters/staging/apps.yaml");
        assert_eq!(
            id.and_then(|i| applied_by_name(repo, i)).as_deref(),
            Some("flux-system/flux-system")
        );
    }

    #[test]
    fn kustomization_file_limits_what_is_applied() {
        let files = [
            ("clusters/prod/apps.yaml", KS),
            (
                "apps/kustomization.yaml",
                "resources:\n  - a.yaml\n  - ../base\n",
            ),
            (
                "apps/a.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
            ),
            (
                "apps/unused.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: u\n",
            ),
            ("base/kustomization.yaml", "resources: [c.yaml]\n"),
            (
                "base/c.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: c\n",
            ),
        ];
        assert_eq!(
            applier(&files, "apps/a.yaml").as_deref(),
            Some("flux-system/apps")
        );
        assert_eq!(
            applier(&files, "base/c.yaml").as_deref(),
            Some("flux-system/apps")
        );
        assert_eq!(applier(&files, "apps/unused.yaml"), None);
        assert_eq!(applier(&files, "clusters/prod/apps.yaml"), None);
    }
}
