//! What each cluster applies: for every Flux Kustomization a cluster reaches (the reconcile
//! tree's builds), what kustomize-controller builds and applies. Its generator writes the
//! Flux Kustomization's `targetNamespace`, `namePrefix`, `nameSuffix`, `patches`, `components`
//! and `images` into the kustomization at the path (fluxcd/pkg `kustomize_generator.go`), so
//! kustomize runs them in its own order with the file's own steps ([`additions`]); post-build
//! substitution, then `commonMetadata`, follow on the result ([`flux_steps`]). A Flux
//! Kustomization is applied as its parent's build renders it (a parent's patches that add
//! `patches`, `postBuild` or `decryption` to every child count). Every value keeps the origin
//! the build gave it; a patched value points at the patch.

use crate::flux_api::FluxKind;
use crate::model::build::{Build, BuildError, FluxAdditions, Gap, build, build_with};
use crate::model::derived::Derived;
use crate::model::index::{Object, Repository};
use crate::model::kustomization::{
    self, LabelSet, PatchSource, PathRef, is_kustomize_config, patch,
};
use std::collections::HashMap;

use crate::model::reconcile::{BOOTSTRAP, ROOT_BY_HAND};
use crate::model::rendered::{Node, RenderedObject, Value, to_json};
use crate::model::substitution;
use crate::model::transform;
use crate::yaml::NodeRef;

/// One object a cluster applies.
pub struct Applied {
    /// The cluster's name; empty for a root applied by hand.
    pub cluster: String,
    /// Index into `Repository::objects` of the Flux Kustomization that applies it; `None` for
    /// a bootstrap directory whose Kustomization is not in the files.
    pub kustomization: Option<usize>,
    pub object: RenderedObject,
}

/// One build of the reconcile tree, as Flux applies it ([`cluster_builds`]).
pub struct ClusterBuild {
    /// Index into the repository's clusters; [`ROOT_BY_HAND`] for a root applied by hand.
    pub cluster: u16,
    /// Index into `Repository::objects` of the Flux Kustomization; [`BOOTSTRAP`] for a
    /// bootstrap directory whose Kustomization is not in the files.
    pub applier: usize,
    /// The directory built, relative to the repository root.
    pub path: String,
    /// The Flux Kustomization as applied: as its parent's build renders it, else as its own
    /// build or its bootstrap directory's renders it, else as written.
    pub applied_as: Option<Node>,
    /// `applied_as` is a root (no parent renders it) as its own build, or the build of the
    /// directory bootstrap applied it from, renders it: not as written.
    pub self_rendered: bool,
    pub build: Build,
}

/// Every cluster's builds at once: the objects, and what went wrong or could not be known.
#[derive(Default)]
pub struct AppliedSet {
    pub objects: Vec<Applied>,
    pub errors: Vec<BuildError>,
    pub gaps: Vec<Gap>,
    /// (file, offset) of the document root of every object a `$patch: delete` took out of
    /// some build ([`Build::deleted`]).
    pub deleted: std::collections::HashSet<(u32, u32)>,
    /// (cluster name, Flux Kustomization) → a root as its own or its bootstrap directory's
    /// build renders it ([`ClusterBuild::self_rendered`]).
    applied_as: HashMap<(String, usize), Node>,
    /// Without clusters, [`library`], built on first use.
    library: std::sync::OnceLock<Vec<Applied>>,
}

impl Derived for AppliedSet {}

impl Repository {
    /// What every cluster applies ([`applied`]), built once per run.
    pub fn applied(&self) -> &[Applied] {
        &self.applied_set().objects
    }

    /// The builds' errors and gaps, each as often as a build met it.
    pub fn applied_set(&self) -> &AppliedSet {
        self.derived.get_or_init(|| applied_set(self))
    }

    /// What the rules judge: with clusters, what they apply ([`Repository::applied`]); without,
    /// the builds of the repository's own Flux Kustomizations and root kustomizations
    /// ([`library`]).
    pub fn judged(&self) -> &[Applied] {
        if self.clusters().is_empty() {
            self.applied_set().library.get_or_init(|| library(self))
        } else {
            self.applied()
        }
    }

    /// The judged copies of the document whose root starts at `start` in `file`, or of an
    /// object generated from the kustomization entry there (a generator's Secret): one per
    /// build that holds it.
    pub fn judged_copies_at(&self, file: usize, start: u32) -> impl Iterator<Item = &Applied> {
        self.judged().iter().filter(move |a| {
            a.object.root.origin.file as usize == file && a.object.root.origin.span.start == start
        })
    }

    /// The Flux Kustomization that applies `a` as its parent's build renders it (with the
    /// parent's patches, substitution and the rest), in the same cluster: every rendered copy;
    /// for a cluster's root, which no build here holds, the one its bootstrap directory's
    /// build renders ([`cluster_builds`]); empty when none does.
    pub fn rendered_applier(&self, a: &Applied) -> Vec<&Node> {
        let Some(idx) = a.kustomization else {
            return Vec::new();
        };
        let Some(ks) = self.objects.get(idx) else {
            return Vec::new();
        };
        let copies: Vec<&Node> = self
            .judged_copies(ks)
            .into_iter()
            .filter(|c| c.cluster == a.cluster && c.object.kind == FluxKind::Kustomization.name())
            .map(|c| &c.object.root)
            .collect();
        if !copies.is_empty() {
            return copies;
        }
        self.applied_as_root(idx)
            .filter(|(c, _)| *c == a.cluster)
            .map(|(_, n)| n)
            .collect()
    }

    /// The Flux Kustomization `idx`, a root no parent renders, as the clusters starting at it
    /// apply it when that is not as written ([`ClusterBuild::self_rendered`]: the patches of
    /// its own or its bootstrap directory's kustomization), with the cluster's name. For a
    /// Kustomization a build renders, ask its judged copies.
    pub fn applied_as_root(&self, idx: usize) -> impl Iterator<Item = (&str, &Node)> {
        self.applied_set()
            .applied_as
            .iter()
            .filter(move |((_, i), _)| *i == idx)
            .map(|((c, _), n)| (c.as_str(), n))
    }

    /// `namespace/name` of the Flux Kustomization `ks` as its clusters apply it, for messages:
    /// a parent's substitution fills a `${VAR}` written in its name or namespace. As written
    /// ([`crate::model::reconcile::display_name`]) when nothing is substituted there, or when
    /// the copies disagree or keep a `${`. Only once the model is built (rules, not builds).
    pub fn applied_display_name(&self, ks: &Object) -> String {
        let written = crate::model::reconcile::display_name(self, ks);
        if !written.contains("${") {
            return written;
        }
        let mut named = self.judged_copies(ks).into_iter().map(|a| {
            let name = a
                .object
                .root
                .str_at(&["metadata", "name"])
                .unwrap_or(&ks.name);
            match a.object.root.str_at(&["metadata", "namespace"]) {
                Some(ns) => format!("{ns}/{name}"),
                None => name.to_string(),
            }
        });
        match named.next() {
            Some(first) if !first.contains("${") && named.all(|n| n == first) => first,
            _ => written,
        }
    }

    /// The judged copies of a source object ([`Repository::judged_copies_at`] its document),
    /// one per build that holds it (a base two overlays use has two).
    pub fn judged_copies(&self, o: &Object) -> Vec<&Applied> {
        match self.document(o).root() {
            Some(root) => self.judged_copies_at(o.file, root.span().start).collect(),
            None => Vec::new(),
        }
    }
}

/// Every object every cluster applies, cluster by cluster in walk order. Empty in a repository
/// without clusters.
pub fn applied(repo: &Repository) -> Vec<Applied> {
    applied_set(repo).objects
}

fn applied_set(repo: &Repository) -> AppliedSet {
    let clusters = repo.clusters();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut gaps = Vec::new();
    let mut deleted = std::collections::HashSet::new();
    let mut applied_as_by = HashMap::new();
    for ClusterBuild {
        cluster,
        applier,
        applied_as,
        self_rendered,
        build: mut b,
        ..
    } in cluster_builds(repo, &|_| true)
    {
        deleted.extend(b.deleted.iter().map(|o| (o.file, o.span.start)));
        let name = match cluster {
            ROOT_BY_HAND => String::new(),
            i => clusters
                .get(i as usize)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
        };
        if let Some(node) = applied_as.filter(|_| self_rendered) {
            applied_as_by.entry((name.clone(), applier)).or_insert(node);
        }
        errors.append(&mut b.errors);
        gaps.append(&mut b.gaps);
        out.extend(b.objects.into_iter().map(|object| Applied {
            cluster: name.clone(),
            kustomization: (applier != BOOTSTRAP).then_some(applier),
            object,
        }));
    }
    AppliedSet {
        objects: out,
        errors,
        gaps,
        deleted,
        applied_as: applied_as_by,
        library: std::sync::OnceLock::new(),
    }
}

/// The builds of the reconcile tree ([`crate::model::reconcile::ReconcileTree::builds`]) of the
/// clusters `wanted` accepts, in walk order, each as Flux applies it ([`build_applied`]): a
/// Flux Kustomization a parent's build rendered is applied as rendered there.
pub fn cluster_builds(repo: &Repository, wanted: &dyn Fn(u16) -> bool) -> Vec<ClusterBuild> {
    use rayon::prelude::*;
    crate::timing::timing(|| "builds: start".into());
    let tree = repo.reconcile_tree();
    crate::timing::timing(|| "builds: reconcile tree".into());
    let builds: Vec<&(u16, usize, String)> = tree
        .builds()
        .iter()
        .filter(|(c, _, _)| wanted(*c))
        .collect();
    // A build waits for the builds (earlier in the walk, same cluster) of the Flux
    // Kustomizations that reach its Kustomization's file: one of them renders it. Builds of
    // one depth run in parallel.
    let mut depth = vec![0usize; builds.len()];
    for (i, (cluster, applier, _)) in builds.iter().enumerate() {
        let Some(ks) = (*applier != BOOTSTRAP)
            .then(|| repo.objects.get(*applier))
            .flatten()
        else {
            continue;
        };
        let parents = tree.appliers(ks.file);
        depth[i] = (0..i)
            .filter(|&j| {
                let (c, a, _) = builds[j];
                c == cluster && a != applier && parents.iter().any(|(p, _)| p == a)
            })
            .map(|j| depth[j] + 1)
            .max()
            .unwrap_or(0);
    }
    let flux_ks = flux_kustomizations_by_origin(repo);
    let mut rendered: HashMap<(u16, usize), Node> = HashMap::new();
    let mut out: Vec<Option<ClusterBuild>> = (0..builds.len()).map(|_| None).collect();
    for level in 0..=depth.iter().copied().max().unwrap_or(0) {
        let now: Vec<usize> = (0..builds.len()).filter(|&i| depth[i] == level).collect();
        let one = |&i: &usize| {
            let (cluster, applier, path) = builds[i];
            let ks = (*applier != BOOTSTRAP)
                .then(|| repo.objects.get(*applier))
                .flatten();
            let mut applied_as =
                ks.map(|ks| as_applied(repo, ks, rendered.get(&(*cluster, *applier))));
            // Several clusters may each define the `substituteFrom` ConfigMap of a name: this
            // build reads the one its cluster applies.
            let defined_here = |o: &Object| tree.applies(*cluster, o.file);
            let mut b = build_applied(repo, path, ks.zip(applied_as.as_ref()), &defined_here);
            // A Kustomization no parent renders that applies itself (the bootstrap
            // `flux-system`) runs as its own build writes it: a patch in its kustomization.yaml
            // may give it the `spec.patches`, `postBuild` or `decryption` its children are
            // applied with. One its own build does not hold runs as bootstrap applied it.
            let own = match (ks, applied_as.as_ref()) {
                (Some(k), Some(written)) if !rendered.contains_key(&(*cluster, *applier)) => {
                    rendered_self(&flux_ks, *applier, &b)
                        .or_else(|| bootstrapped(repo, k, path, &flux_ks, *applier))
                        .filter(|own| {
                            own.get("spec").map(to_json) != written.get("spec").map(to_json)
                        })
                }
                _ => None,
            };
            let self_rendered = own.is_some();
            if let (Some(ks), Some(own)) = (ks, own) {
                b = build_applied(repo, path, Some((ks, &own)), &defined_here);
                applied_as = Some(own);
            }
            (i, (applied_as, self_rendered, b))
        };
        // In parallel only from outside the pool (the engine builds the set before the rules
        // run): a worker that asks, inside the set's `OnceLock`, would run other queued tasks
        // while it waits for its builds, and a rule among them asking for the set again would
        // wait on that lock forever.
        let done: Vec<_> = if rayon::current_thread_index().is_none() {
            now.par_iter().with_max_len(1).map(one).collect()
        } else {
            now.iter().map(one).collect()
        };
        for (i, (applied_as, self_rendered, b)) in done {
            remember_rendered(&flux_ks, builds[i].0, &b, &mut rendered);
            out[i] = Some(ClusterBuild {
                cluster: builds[i].0,
                applier: builds[i].1,
                path: builds[i].2.clone(),
                applied_as,
                self_rendered,
                build: b,
            });
        }
        crate::timing::timing(|| format!("builds: level {level}, {} builds", now.len()));
    }
    out.into_iter().flatten().collect()
}

/// Flux Kustomizations by where their document starts: (file, offset) → object index.
fn flux_kustomizations_by_origin(repo: &Repository) -> HashMap<(usize, u32), usize> {
    repo.of_kinds(&[FluxKind::Kustomization])
        .filter(|(_, o)| o.group() == "kustomize.toolkit.fluxcd.io")
        .filter_map(|(i, o)| Some(((o.file, repo.document(o).root()?.span().start), i)))
        .collect()
}

/// The Flux Kustomization `idx` as the build `b` renders it, when `b` holds it.
fn rendered_self(flux_ks: &HashMap<(usize, u32), usize>, idx: usize, b: &Build) -> Option<Node> {
    b.objects
        .iter()
        .filter(|o| o.kind == FluxKind::Kustomization.name())
        .find(|o| {
            flux_ks.get(&(o.root.origin.file as usize, o.root.origin.span.start)) == Some(&idx)
        })
        .map(|o| o.root.clone())
}

/// A Kustomization no build of its cluster holds (the sync `gotk-sync.yaml` beside a
/// `kustomization.yaml` that the cluster's path does not list) as it was applied by hand:
/// `flux bootstrap` and `kubectl apply -k` apply the build of the directory holding its file,
/// whose patches may give it `decryption` or `postBuild`, and Flux never applies it again.
/// `None` when that directory has no kustomization file listing it, or is the path itself.
fn bootstrapped(
    repo: &Repository,
    ks: &Object,
    path: &str,
    flux_ks: &HashMap<(usize, u32), usize>,
    idx: usize,
) -> Option<Node> {
    let dir = crate::model::index::parent_dir(repo.path(ks.file));
    if dir == path || crate::model::index::kustomization_file_in(repo, dir).is_none() {
        return None;
    }
    rendered_self(flux_ks, idx, &build(repo, dir))
}

/// Records the Flux Kustomizations `b` renders, the first rendering of each winning.
fn remember_rendered(
    flux_ks: &HashMap<(usize, u32), usize>,
    cluster: u16,
    b: &Build,
    rendered: &mut HashMap<(u16, usize), Node>,
) {
    for o in b
        .objects
        .iter()
        .filter(|o| o.kind == FluxKind::Kustomization.name())
    {
        let at = (o.root.origin.file as usize, o.root.origin.span.start);
        if let Some(&idx) = flux_ks.get(&at) {
            rendered
                .entry((cluster, idx))
                .or_insert_with(|| o.root.clone());
        }
    }
}

/// What `fluxvet build --cluster NAME [--kustomization NS/NAME]` prints: the builds of the
/// selected cluster (every cluster without one) and Flux Kustomization, as Flux applies them.
pub fn flux_build(
    repo: &Repository,
    cluster: Option<&str>,
    kustomization: Option<&str>,
) -> Result<Build, String> {
    let clusters = repo.clusters();
    if clusters.is_empty() {
        return Err("this repository has no clusters (no flux-system/gotk-sync.yaml, FluxInstance or `clusters:` in the config): build a directory instead".into());
    }
    let wanted_cluster = match cluster {
        Some(name) => Some(
            clusters
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
                    format!(
                        "--cluster {name}: no such cluster; the repository has {}",
                        known.join(", ")
                    )
                })?,
        ),
        None => None,
    };
    let timings = std::env::var_os("FLUXVET_TIMINGS").is_some();
    let wanted = |ci: u16| wanted_cluster.is_none_or(|w| w == ci as usize);
    let mut out = Build::default();
    let mut matched = false;
    for ClusterBuild {
        applier,
        path,
        build: b,
        ..
    } in cluster_builds(repo, &wanted)
    {
        if let Some(want) = kustomization {
            let Some(ks) = (applier != BOOTSTRAP)
                .then(|| repo.objects.get(applier))
                .flatten()
            else {
                continue;
            };
            let full = crate::model::reconcile::display_name(repo, ks);
            if want != full && want != ks.name {
                continue;
            }
        }
        matched = true;
        if timings {
            eprintln!("timing: build path {path:?}");
        }
        out.objects.extend(b.objects);
        // One Kustomization's mistake shows in every build that reads the same file once.
        for e in b.errors {
            if !out.errors.contains(&e) {
                out.errors.push(e);
            }
        }
        for g in b.gaps {
            if !out.gaps.contains(&g) {
                out.gaps.push(g);
            }
        }
    }
    if !matched {
        return Err(format!(
            "--kustomization {}: no Flux Kustomization of that name is applied{}",
            kustomization.unwrap_or(""),
            cluster
                .map(|c| format!(" in cluster {c}"))
                .unwrap_or_default()
        ));
    }
    Ok(out)
}

/// Without clusters, what a repository builds (DESIGN.md: "a repository with no entry point is
/// built from its root kustomization files"): every Flux Kustomization reading one of its own
/// sources ([`crate::model::reconcile::reconciled_sources`]; the reconcile tree walked them), with its
/// own steps, and every kustomization file that no other kustomization includes and no such
/// Flux Kustomization reaches, as kustomize builds it. Errors and gaps are not reported: only
/// clusters' builds are findings.
fn library(repo: &Repository) -> Vec<Applied> {
    let tree = repo.reconcile_tree();
    let mut out = Vec::new();
    let mut push = |b: Build, kustomization: Option<usize>| {
        out.extend(b.objects.into_iter().map(|object| Applied {
            cluster: String::new(),
            kustomization,
            object,
        }));
    };
    // A Kustomization another one applies is built after it, as that build renders it.
    let flux_ks = flux_kustomizations_by_origin(repo);
    let mut pending: Vec<usize> = repo
        .of_kinds(&[FluxKind::Kustomization])
        .filter(|(i, o)| o.group() == "kustomize.toolkit.fluxcd.io" && tree.was_walked(*i))
        .map(|(i, _)| i)
        .collect();
    let mut rendered: HashMap<(u16, usize), Node> = HashMap::new();
    let mut done: std::collections::HashSet<usize> = std::collections::HashSet::new();
    while !pending.is_empty() {
        let ready: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|i| {
                tree.appliers(repo.objects[*i].file)
                    .iter()
                    .all(|(p, _)| *p == *i || done.contains(p) || !pending.contains(p))
            })
            .collect();
        // A cycle of Kustomizations applying each other: the rest as written.
        let ready = if ready.is_empty() {
            std::mem::take(&mut pending)
        } else {
            ready
        };
        pending.retain(|i| !ready.contains(i));
        for idx in ready {
            done.insert(idx);
            let ks = &repo.objects[idx];
            let path = crate::model::sources::configured_path(repo, ks)
                .or_else(|| repo.kustomization_path(ks));
            let Some(path) = path else {
                continue;
            };
            let node = as_applied(repo, ks, rendered.get(&(0, idx)));
            let b = build_applied(repo, &path, Some((ks, &node)), &|_| true);
            remember_rendered(&flux_ks, 0, &b, &mut rendered);
            push(b, Some(idx));
        }
    }
    // Directories some kustomization includes (as a resource or component) are not roots.
    let mut included = std::collections::HashSet::new();
    let mut roots = Vec::new();
    for &fid in repo.kustomization_files() {
        let dir = crate::model::index::parent_dir(repo.path(fid));
        for root in repo.docs_of(fid).filter_map(|d| d.doc.root()) {
            if !is_kustomize_config(&root) {
                continue;
            }
            for key in ["resources", "bases", "components"] {
                for item in root.get(key).map(|n| n.items()).unwrap_or_default() {
                    if let Some(t) = item
                        .as_str()
                        .and_then(|r| crate::fs::join_normalized(dir, r))
                    {
                        included.insert(t);
                    }
                }
            }
            if root.str_at(&["kind"]) != Some("Component") && tree.appliers(fid).is_empty() {
                roots.push(dir.to_string());
            }
        }
    }
    roots.sort_unstable();
    roots.dedup();
    for dir in roots.into_iter().filter(|d| !included.contains(d)) {
        push(build(repo, &dir), None);
    }
    out
}

/// What the Flux Kustomization `ks` applies from `path` (what kustomize-controller builds):
/// the kustomize build of the path with the Kustomization's steps written into its
/// kustomization ([`additions`]), then post-build substitution and `commonMetadata`
/// ([`flux_steps`]). `ks` comes with the Kustomization as applied ([`as_applied`]). Without
/// `ks` (a bootstrap directory whose Kustomization is not in the files), the plain build.
/// `defined_here` tells which definitions of a `substituteFrom` ConfigMap or Secret are the
/// applying cluster's, when several clusters each define one of that name.
pub fn build_applied(
    repo: &Repository,
    path: &str,
    ks: Option<(&Object, &Node)>,
    defined_here: &dyn Fn(&Object) -> bool,
) -> Build {
    let Some((ks, node)) = ks else {
        return build(repo, path);
    };
    let mut b = build_with(repo, path, &additions(repo, ks, node));
    flux_steps(repo, ks, node, &mut b.objects, defined_here);
    b
}

/// The Flux Kustomization `ks` as applied: `rendered`, as its parent's build renders it (a
/// parent's patches add `patches`, `postBuild`, `decryption` to every child), when a parent
/// here renders it; else as written.
fn as_applied(repo: &Repository, ks: &Object, rendered: Option<&Node>) -> Node {
    match rendered {
        Some(r) => r.clone(),
        None => Node::from_yaml(repo.node(ks), ks.file),
    }
}

/// What the Flux Kustomization `ks`, as applied (`node`, [`build_applied`]), writes into the
/// kustomization at its path ([`FluxAdditions`]), with the places that set each value.
pub fn additions(repo: &Repository, ks: &Object, node: &Node) -> FluxAdditions {
    let Some(spec) = node.get("spec") else {
        return FluxAdditions {
            by_flux: true,
            ..FluxAdditions::default()
        };
    };
    let string = |field: &str| spec.get(field).filter(|n| n.as_str().is_some()).cloned();
    FluxAdditions {
        components: spec
            .get("components")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| {
                Some(PathRef {
                    path: c.as_str().filter(|s| !s.is_empty())?.to_string(),
                    origin: c.origin,
                })
            })
            .collect(),
        ignore_missing_components: spec.str_at(&["ignoreMissingComponents"]) == Some("true"),
        images: spec
            .get("images")
            .map(kustomization::images_of_node)
            .unwrap_or_default(),
        namespace: string("targetNamespace"),
        name_prefix: string("namePrefix"),
        name_suffix: string("nameSuffix"),
        patches: flux_patches(repo, ks, spec),
        build_metadata: spec
            .get("buildMetadata")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|o| Some((o.as_str()?.to_string(), o.origin)))
            .collect(),
        path_origin: spec.get("path").map(|p| p.origin),
        by_flux: true,
    }
}

/// `spec.patches` of the Flux Kustomization `ks` as applied. A patch written in the
/// Kustomization's own file is read from the file, so its values point at their lines; one a
/// parent's patch added is read from the rendered tree.
fn flux_patches(repo: &Repository, ks: &Object, spec: &Node) -> Vec<kustomization::Patch> {
    let written: Vec<NodeRef<'_>> = repo
        .node(ks)
        .path(&["spec", "patches"])
        .map(|p| p.items())
        .unwrap_or_default();
    let text = &repo.files[ks.file].text;
    spec.get("patches")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let own = written
                .iter()
                .find(|w| p.origin.file as usize == ks.file && w.span() == p.origin.span);
            match own {
                Some(w) => patch(*w, ks.file, text),
                None => kustomization::patch_of_node(p),
            }
        })
        .filter(|p| matches!(p.source, PatchSource::Inline(..)))
        .collect()
}

/// What kustomize-controller does to the objects of the build, after kustomize: post-build
/// substitution (`build`), then `commonMetadata` (`apply`, `ssautil.SetCommonMetadata`: the
/// objects' own labels and annotations, after substitution, so a `${VAR}` there stays as
/// written). `node` is the Kustomization `ks` as applied ([`build_applied`]); `defined_here`
/// picks the applying cluster's `substituteFrom` definitions ([`substitution::variables_in`]).
pub fn flux_steps(
    repo: &Repository,
    ks: &Object,
    node: &Node,
    objects: &mut [RenderedObject],
    defined_here: &dyn Fn(&Object) -> bool,
) {
    let Some(spec) = node.get("spec") else { return };
    if let Some(vars) = substitution::variables_of(repo, ks, node, defined_here) {
        for o in objects.iter_mut() {
            if !substitution::disabled_in(&o.root) {
                substitute_in(&mut o.root, &vars);
                o.refresh();
            }
        }
    }
    if let Some(meta) = spec.get("commonMetadata") {
        let pairs = |field: &str| -> Vec<(String, Node)> {
            meta.get(field)
                .map(Node::entries)
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        };
        transform::labels(
            objects,
            &LabelSet {
                pairs: pairs("labels"),
                include_selectors: false,
                include_templates: false,
            },
        );
        transform::annotations(objects, &pairs("annotations"));
        for o in objects.iter_mut() {
            o.refresh();
        }
    }
}

/// Substitutes every string scalar of a tree in place (a substituted value keeps its origin:
/// the use of the variable).
fn substitute_in(node: &mut Node, vars: &std::collections::BTreeMap<String, String>) {
    match &mut node.value {
        Value::Map(entries) => {
            for (_, v) in entries.iter_mut() {
                substitute_in(v, vars);
            }
        }
        Value::Seq(items) => {
            for v in items.iter_mut() {
                substitute_in(v, vars);
            }
        }
        Value::Scalar(text, _) => {
            if text.contains("${") || text.contains("$$") {
                let new = substitution::substitute(text, vars);
                *text = new.into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::check_memory;

    use crate::rules::testing::{APPS_KUSTOMIZATION, BOOTSTRAP_KUSTOMIZATION as SYNC};

    /// The object of `kind` that the cluster `production` applies, with the Flux
    /// Kustomization `apps` (the shared one, plus `spec`) and its manifest `apps/<file>`.
    fn applied_one(
        spec: &str,
        file: (&str, &str),
        kind: &str,
    ) -> (super::Applied, crate::engine::Outcome) {
        let apps = format!("{APPS_KUSTOMIZATION}{spec}");
        let out = check_memory(
            &[
                ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                ("clusters/production/apps.yaml", &apps),
                (&format!("apps/{}", file.0), file.1),
            ],
            Config::default(),
        );
        let mut applied = super::applied(&out.repo);
        let at = applied
            .iter()
            .position(|a| a.object.kind == kind)
            .unwrap_or_else(|| panic!("the {kind} is applied"));
        (applied.swap_remove(at), out)
    }

    #[test]
    fn flux_steps_follow_the_kustomization() {
        let spec = "  targetNamespace: web
  patches:
    - patch: |
        - op: replace
          path: /spec/chart/spec/version
          value: 6.8.0
      target:
        kind: HelmRelease
  postBuild:
    substitute:
      APP: podinfo
";
        let release = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ${APP}
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: 6.7.1
";
        let (hr, out) = applied_one(spec, ("release.yaml", release), "HelmRelease");
        assert_eq!(hr.cluster, "production");
        assert_eq!(hr.object.name, "podinfo");
        assert_eq!(hr.object.namespace.as_deref(), Some("web"));
        let version = hr
            .object
            .root
            .path(&["spec", "chart", "spec", "version"])
            .expect("a version");
        assert_eq!(version.as_str(), Some("6.8.0"));
        // The patched value points at the patch, in the Flux Kustomization's file.
        let f = &out.repo.files[version.origin.file as usize];
        assert_eq!(&*f.path, "clusters/production/apps.yaml");
        assert_eq!(f.line_col(version.origin.span.start as usize).line, 18);
    }

    /// kustomize-controller sets `commonMetadata` when it applies, after post-build
    /// substitution (`kustomization_controller.go`, `apply`): a `${VAR}` there is applied as
    /// written, while the same variable in a manifest is substituted.
    #[test]
    fn common_metadata_follows_substitution() {
        let spec = "  commonMetadata:
    labels:
      team: ${TEAM}
  postBuild:
    substitute:
      TEAM: web
";
        let config = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  team: ${TEAM}
";
        let (cm, _) = applied_one(spec, ("settings.yaml", config), "ConfigMap");
        let root = &cm.object.root;
        assert_eq!(root.str_at(&["data", "team"]), Some("web"));
        assert_eq!(
            root.str_at(&["metadata", "labels", "team"]),
            Some("${TEAM}")
        );
    }
}
