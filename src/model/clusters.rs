//! Clusters: the entry points Flux starts from. A cluster is the Flux Kustomization that nothing
//! in the repository applies and whose source is this repository; everything a cluster applies
//! is reached from its path, through the Flux Kustomizations found on the way that read the
//! same source. Found from:
//! - a bootstrap directory, `<path>/flux-system/gotk-sync.yaml` (what `flux bootstrap` writes:
//!   a GitRepository or OCIRepository and a Kustomization, both named `flux-system`), or such
//!   a `gotk-sync.yaml` kept apart from the directory its Kustomization syncs;
//! - a Flux Operator `FluxInstance`'s `spec.sync`, or the same block under a `flux-instance`
//!   chart's `values.instance.sync` (inline, or in the values file its `valuesFrom` ConfigMap
//!   is generated from); the operator names the source and the Kustomization `sync.name`, else
//!   after the instance's namespace, as bootstrap does. A `sync.path` that is one `${VAR}`
//!   names a cluster for each directory the repository's ConfigMaps give the variable. An OCI
//!   artifact's root (`kind: OCIRepository`, `path: ./`) is the directory it was pushed from:
//!   the one holding the instance's `flux-system` when its kustomization lists it, else unknown;
//! - `clusters:` in the config (name → path).
//!
//! A repository with none of these (a library of bases) has no clusters: rules then judge every
//! file, as kustomize builds of its root kustomization files would include them.

use crate::diag::FileId;
use crate::flux_api::FluxKind;
use crate::model::derived::Derived;
use crate::model::index::{Repository, SourceKey, parent_dir};
use crate::source::Span;
use crate::yaml::NodeRef;

/// How a cluster was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `<path>/flux-system/gotk-sync.yaml`.
    Bootstrap,
    /// A `FluxInstance` object, or a HelmRelease of the `flux-instance` chart.
    FluxInstance,
    /// `clusters:` in the config.
    Config,
    /// A source and the Flux Kustomization syncing it, defined in one file whose directory the
    /// Kustomization's own path holds (applied once by hand at install, e.g. `kubectl apply
    /// -k kubernetes/flux/config`, then managing itself), or the source in a file below that
    /// path; found when nothing above is.
    SyncPair,
}

#[derive(Clone, Debug)]
pub struct Cluster {
    /// The directory name of its path (`production`), or the whole path when two clusters
    /// would share a name.
    pub name: String,
    /// Root-relative directory its sync Kustomization builds (`""` for the root).
    pub path: String,
    /// The directory here that is the root of the cluster's source, which the `spec.path` of
    /// its Kustomizations are relative to: `""`, unless the checkout holds that repository in
    /// a sub-directory (a sample of several repositories, `repos/gitops-system/clusters/mgmt`
    /// bootstrapped with `path: ./clusters/mgmt`).
    pub source_root: String,
    /// Other GitRepositories defined here that fetch the same repository at the same ref as
    /// the sync source (a repository syncing through a FluxInstance whose apps still read the
    /// `home-kubernetes` GitRepository of its first bootstrap): they read this repository too.
    pub same_repository: Vec<SourceKey>,
    pub entry: Entry,
    /// Where it is declared (the gotk-sync file, the FluxInstance's `sync`), for labels.
    pub declared_at: Option<(FileId, Span)>,
    /// The source the sync Kustomization reads: Flux Kustomizations of this cluster that read
    /// it read this repository.
    pub source: SourceKey,
    /// Index into `Repository::objects` of the sync Kustomization, when it is in the files.
    pub sync_kustomization: Option<usize>,
    /// The repository (as [`repository_of_url`] writes it) and ref the sync source fetches,
    /// when the files say: a FluxInstance's `sync`, a bootstrap's GitRepository.
    fetches: Option<(String, GitRef)>,
    /// The Flux version the cluster runs, as written: the `# Flux Version:` header of its
    /// `gotk-components.yaml` (`v2.6.4`), or a FluxInstance's `distribution.version` (`2.x`).
    pub flux_version: Option<String>,
}

/// The namespace `flux bootstrap` and the Flux Operator install into by default.
const FLUX_NAMESPACE: &str = "flux-system";

impl Repository {
    /// The clusters of this repository, found on first use.
    pub fn clusters(&self) -> &[Cluster] {
        self.derived.get_or_init(|| find(self))
    }

    /// The index of the cluster named `name` (an [`Applied`](crate::model::applied::Applied)'s
    /// `cluster`); `None` for the empty name of a root applied by hand, or no such cluster.
    pub fn cluster_index(&self, name: &str) -> Option<u16> {
        if name.is_empty() {
            return None;
        }
        let i = self.clusters().iter().position(|c| c.name == name)?;
        u16::try_from(i).ok()
    }
}

impl Derived for Vec<Cluster> {}

fn find(repo: &Repository) -> Vec<Cluster> {
    let mut out: Vec<Cluster> = Vec::new();
    bootstrap_clusters(repo, &mut out);
    flux_instance_clusters(repo, &mut out);
    for (name, path) in &repo.config.clusters {
        let Some(path) = crate::fs::join_normalized("", path) else {
            continue;
        };
        // A path that is not here names nothing to build: judging every file as applied by
        // no cluster would follow from a typo.
        if out.iter().any(|c| c.path == path) || !(path.is_empty() || repo.tree.is_dir(&path)) {
            continue;
        }
        out.push(Cluster {
            name: name.clone(),
            path,
            entry: Entry::Config,
            declared_at: None,
            source: default_source(FLUX_NAMESPACE),
            sync_kustomization: None,
            flux_version: None,
            source_root: String::new(),
            same_repository: Vec::new(),
            fetches: None,
        });
    }
    // A bootstrap kept apart from its path, for a path no other entry gives (an `archive/`
    // copy of the sync a FluxInstance now makes is not the cluster's entry).
    for (fid, file) in repo.files.iter().enumerate() {
        if let Some(dir) = file.path.strip_suffix("/gotk-sync.yaml")
            && dir != "flux-system"
            && !dir.ends_with("/flux-system")
            && let Some(c) = detached_bootstrap(repo, fid, dir)
            && !out.iter().any(|o| o.path == c.path)
        {
            out.push(c);
        }
    }
    // A sync applied by hand beside the clusters found (a development cluster a Makefile
    // bootstraps, where production runs a FluxInstance): an entry of its own when it lies
    // outside every such cluster's tree.
    let mut pairs = Vec::new();
    sync_pairs(repo, &mut pairs);
    let outside: Vec<Cluster> = pairs
        .into_iter()
        .filter(|p| {
            let file = p.declared_at.map(|(f, _)| repo.path(f)).unwrap_or_default();
            !out.iter().any(|c| {
                c.path == p.path
                    || holds(&c.path, file)
                    || holds(&c.path, &p.path)
                    || holds(&p.path, &c.path)
            }) && (out.is_empty() || !pointed_at(repo, p.sync_kustomization, file))
        })
        .collect();
    out.extend(outside);
    // A FluxInstance's cluster knows them from its `sync` already.
    for cluster in out.iter_mut().filter(|c| c.entry != Entry::FluxInstance) {
        let sync = repo
            .of_kind(&cluster.source.kind)
            .filter(|o| o.flux == Some(FluxKind::GitRepository))
            .find(|o| {
                o.name == cluster.source.name
                    && repo.effective_namespace(o) == cluster.source.namespace.as_deref()
            })
            .and_then(|o| {
                let node = repo.node(o);
                Some((
                    node.str_at(&["spec", "url"])?.to_string(),
                    git_ref_of(&node)?,
                ))
            });
        if let Some((url, git_ref)) = sync {
            cluster.same_repository = same_repository(repo, &url, &git_ref, &cluster.source);
            cluster.fetches = Some((repository_of_url(&url), git_ref));
        }
    }
    // What FluxInstances here sync from this checkout's root.
    let instances: Vec<(String, GitRef)> = out
        .iter()
        .filter(|c| c.entry == Entry::FluxInstance)
        .filter_map(|c| c.fetches.clone())
        .collect();
    // A bootstrap whose directory ends with its synced path was read as a copy of another
    // repository rooted above it; when sources here (or a FluxInstance's `sync`) fetch the
    // same repository at the same ref and read it from this root, it is this repository,
    // whose files have moved (an `archive/` of the old layout): its path is not here, so it
    // applies nothing.
    for cluster in out.iter_mut().filter(|c| {
        c.entry == Entry::Bootstrap
            && !c.source_root.is_empty()
            && (read_from_root(repo, &c.same_repository)
                || c.fetches.as_ref().is_some_and(|f| instances.contains(f)))
    }) {
        if let Some(written) = cluster
            .sync_kustomization
            .and_then(|i| repo.kustomization_path(&repo.objects[i]))
        {
            cluster.path = written;
            cluster.source_root = String::new();
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    disambiguate_names(&mut out);
    out
}

/// Whether a Flux Kustomization reading one of `sources` has a path (not the root) that is a
/// directory from this checkout's root.
fn read_from_root(repo: &Repository, sources: &[SourceKey]) -> bool {
    repo.flux_kustomizations().any(|ks| {
        let ns = repo.effective_namespace(ks).unwrap_or(FLUX_NAMESPACE);
        repo.node(ks)
            .path(&["spec", "sourceRef"])
            .and_then(|r| source_key(&r, ns))
            .is_some_and(|k| sources.contains(&k))
            && repo
                .kustomization_path(ks)
                .is_some_and(|p| !p.is_empty() && !p.contains("${") && repo.tree.is_dir(&p))
    })
}

/// The Flux Kustomization's `spec.path` as a directory here (`""` for the root), unless it
/// is templated or missing.
fn existing_path(repo: &Repository, ks: &crate::model::index::Object) -> Option<String> {
    let raw = repo.node(ks).str_at(&["spec", "path"]).unwrap_or("./");
    let path = crate::fs::join_normalized("", raw)?;
    (!path.contains("${") && (path.is_empty() || repo.tree.is_dir(&path))).then_some(path)
}

fn holds(dir: &str, file: &str) -> bool {
    dir.is_empty() || file.starts_with(&format!("{dir}/"))
}

/// The Flux release a cluster installs from a source below its path: the tag of the
/// `flux-manifests` OCI artifact or of the `fluxcd/flux2` Git repository (what a cluster
/// without `flux bootstrap` reconciles Flux itself from).
fn installed_version(repo: &Repository, path: &str) -> Option<String> {
    repo.of_kind(FluxKind::OCIRepository)
        .chain(repo.of_kind(FluxKind::GitRepository))
        .filter(|o| o.flux.is_some() && holds(path, repo.path(o.file)))
        .find_map(|o| {
            let node = repo.node(o);
            let url = node.str_at(&["spec", "url"])?.trim_end_matches(".git");
            let flux = url.starts_with("oci://ghcr.io/fluxcd/flux-manifests")
                || url.ends_with("github.com/fluxcd/flux2");
            let tag = node.str_at(&["spec", "ref", "tag"])?;
            (flux && !tag.contains("${")).then(|| tag.to_string())
        })
}

/// A Git ref as `(field, value)` of a GitRepository's `spec.ref`.
type GitRef = (&'static str, String);

/// The Flux Operator's `sync.ref` (`refs/heads/main`) as a GitRepository's `spec.ref`.
fn git_ref_named(name: &str) -> GitRef {
    match (
        name.strip_prefix("refs/heads/"),
        name.strip_prefix("refs/tags/"),
    ) {
        (Some(branch), _) => ("branch", branch.to_string()),
        (_, Some(tag)) => ("tag", tag.to_string()),
        _ => ("name", name.to_string()),
    }
}

/// The ref a GitRepository fetches, by source-controller's precedence (commit, name, semver,
/// tag, branch); `None` when it states none.
fn git_ref_of(source: &NodeRef<'_>) -> Option<GitRef> {
    let r = source.path(&["spec", "ref"])?;
    if let Some(name) = r
        .str_at(&["name"])
        .filter(|_| r.str_at(&["commit"]).is_none())
    {
        return Some(git_ref_named(name));
    }
    ["commit", "semver", "tag", "branch"]
        .into_iter()
        .find_map(|field| Some((field, r.str_at(&[field])?.to_string())))
}

/// A Git URL without its scheme, user, port, `.git` and trailing `/`, the scp form's `:` as
/// `/`: `https://github.com/org/repo.git`, `ssh://git@github.com:22/org/repo` and
/// `git@github.com:org/repo` are all `github.com/org/repo` (the port picks the protocol's
/// server, not the repository).
fn repository_of_url(url: &str) -> String {
    let mut u = url.trim().trim_end_matches('/').trim_end_matches(".git");
    let scp = !u.contains("://");
    if let Some((_, rest)) = u.split_once("://") {
        u = rest;
    }
    if let Some((user, rest)) = u.split_once('@')
        && !user.contains('/')
    {
        u = rest;
    }
    let u = u.to_ascii_lowercase();
    if scp {
        return u.replacen(':', "/", 1);
    }
    let (host, path) = u.split_once('/').unwrap_or((u.as_str(), ""));
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{name}/{path}")
        }
        _ => u,
    }
}

/// The GitRepositories defined here, other than `sync`, that fetch `url` at `git_ref`.
fn same_repository(
    repo: &Repository,
    url: &str,
    git_ref: &GitRef,
    sync: &SourceKey,
) -> Vec<SourceKey> {
    let wanted = repository_of_url(url);
    let mut out: Vec<SourceKey> = repo
        .of_kind(FluxKind::GitRepository)
        .filter(|o| o.flux == Some(FluxKind::GitRepository))
        .filter(|o| {
            let node = repo.node(o);
            node.str_at(&["spec", "url"])
                .is_some_and(|u| !u.contains("${") && repository_of_url(u) == wanted)
                && git_ref_of(&node).as_ref() == Some(git_ref)
        })
        .map(|o| SourceKey {
            kind: o.kind.clone(),
            name: o.name.clone(),
            namespace: repo.effective_namespace(o).map(str::to_string),
        })
        .filter(|k| k != sync)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where the source's root is in this checkout when the sync path `written` is not here but
/// `dir` (the directory holding `flux-system`) ends like it: `repos/gitops-system` for
/// `./clusters/mgmt` bootstrapped in `repos/gitops-system/clusters/mgmt`, or in
/// `repos/gitops-system/clusters/template` (a template's copy, its last directory renamed).
fn source_root_above(dir: &str, written: &str) -> Option<String> {
    let above = |dir: &str, written: &str| {
        dir.strip_suffix(written)
            .and_then(|p| p.strip_suffix('/'))
            .map(str::to_string)
    };
    if written.is_empty() {
        return None;
    }
    above(dir, written).or_else(|| {
        let (dir_parent, _) = dir.rsplit_once('/')?;
        let (written_parent, _) = written.rsplit_once('/')?;
        above(dir_parent, written_parent)
    })
}

/// `Entry::SyncPair`: a GitRepository or OCIRepository and a Flux Kustomization reading it,
/// in one file or the source in a file below the Kustomization's path, that path (not the
/// root) holding the Kustomization's file (the sync reapplies itself, as bootstrap's
/// `gotk-sync.yaml` does, or was applied by hand beside what it applies), and no deeper such
/// path holding it.
fn sync_pairs(repo: &Repository, out: &mut Vec<Cluster>) {
    let mut pairs = Vec::new();
    for (idx, ks) in repo.objects.iter().enumerate() {
        if ks.flux != Some(FluxKind::Kustomization) {
            continue;
        }
        let ns = repo.effective_namespace(ks).unwrap_or(FLUX_NAMESPACE);
        let Some(source) = repo
            .node(ks)
            .path(&["spec", "sourceRef"])
            .and_then(|r| source_key(&r, ns))
        else {
            continue;
        };
        if !matches!(
            FluxKind::from_name(&source.kind),
            Some(FluxKind::GitRepository | FluxKind::OCIRepository)
        ) {
            continue;
        }
        let Some(path) = existing_path(repo, ks) else {
            continue;
        };
        // The source beside the Kustomization, or in a file below its path: the sync applies
        // its own source (a GitRepository kept with the cluster's config, the Kustomization
        // applied once by hand).
        let beside = repo.of_kind(&source.kind).any(|o| {
            (o.file == ks.file || (!path.is_empty() && holds(&path, repo.path(o.file))))
                && o.flux.is_some()
                && o.name == source.name
                && repo.effective_namespace(o).unwrap_or(FLUX_NAMESPACE) == ns
        });
        // The root holds every file: a pair reading the root of another repository (the Flux
        // manifests' OCI artifact, an upstream's CRDs, a Kustomization without `path`) says
        // nothing about this one.
        if beside && !path.is_empty() && holds(&path, repo.path(ks.file)) {
            pairs.push((idx, path, source));
        }
    }
    for (idx, path, source) in &pairs {
        let ks = &repo.objects[*idx];
        let file = repo.path(ks.file);
        // Applied by another pair's sync: part of that cluster, not an entry of its own.
        if pairs
            .iter()
            .any(|(other, p, _)| other != idx && p.len() > path.len() && holds(p, file))
        {
            continue;
        }
        out.push(Cluster {
            name: String::new(),
            path: path.clone(),
            entry: Entry::SyncPair,
            declared_at: Some((ks.file, ks.name_span)),
            source: source.clone(),
            sync_kustomization: Some(*idx),
            flux_version: installed_version(repo, path),
            source_root: String::new(),
            same_repository: Vec::new(),
            fetches: None,
        });
    }
}

/// Whether something other than the sync Kustomization `own` leads to `file`: a Flux
/// Kustomization whose path holds it, or a kustomization listing it or a directory above it.
/// A sync pair found that way is part of the cluster that applies it, not a cluster of its own.
fn pointed_at(repo: &Repository, own: Option<usize>, file: &str) -> bool {
    // A path at the root reads another repository's root (the Flux manifests' artifact).
    let leads = |dir: &str| !dir.is_empty() && (dir == file || holds(dir, file));
    let by_kustomization = repo.objects.iter().enumerate().any(|(i, o)| {
        Some(i) != own
            && o.flux == Some(FluxKind::Kustomization)
            && repo.kustomization_path(o).is_some_and(|p| leads(&p))
    });
    by_kustomization
        || repo.kustomization_files().iter().any(|&k| {
            repo.kustomization(k).is_some_and(|k| {
                k.resources
                    .iter()
                    .filter_map(|r| crate::fs::join_normalized(&k.dir, &r.path))
                    .any(|p| leads(&p))
            })
        })
}

fn default_source(namespace: &str) -> SourceKey {
    SourceKey {
        kind: FluxKind::GitRepository.name().into(),
        name: namespace.into(),
        namespace: Some(namespace.into()),
    }
}

/// `<dir>/flux-system/gotk-sync.yaml`: the Kustomization in it names the cluster's path and
/// source; an example repository's placeholder file (no objects) still marks `<dir>`.
fn bootstrap_clusters(repo: &Repository, out: &mut Vec<Cluster>) {
    for (fid, file) in repo.files.iter().enumerate() {
        let path = &*file.path;
        let Some(flux_dir) = path
            .strip_suffix("/gotk-sync.yaml")
            .or_else(|| (path == "flux-system/gotk-sync.yaml").then_some("flux-system"))
        else {
            continue;
        };
        if flux_dir != "flux-system" && !flux_dir.ends_with("/flux-system") {
            continue;
        }
        let dir = parent_dir(flux_dir).to_string();
        let flux_version = repo
            .file_id(&format!("{flux_dir}/gotk-components.yaml"))
            .and_then(|c| components_version(&repo.files[c].text));
        // Bootstrap names its Kustomization `flux-system`; others defined beside it are what
        // the cluster's path applies, not the cluster itself.
        // Renamed (`name: cluster-state` for the pair): the Kustomization whose path is the
        // directory holding `flux-system`, which applies its own file.
        let in_file = || {
            repo.objects
                .iter()
                .enumerate()
                .filter(|(_, o)| o.file == fid && o.flux == Some(FluxKind::Kustomization))
        };
        let ks = in_file()
            .find(|(_, o)| o.name == "flux-system")
            .or_else(|| {
                in_file().find(|(_, o)| {
                    repo.node(o)
                        .str_at(&["spec", "path"])
                        .and_then(|p| crate::fs::join_normalized("", p))
                        .is_some_and(|p| p == dir)
                })
            });
        let (path, source, declared_at, sync_kustomization, source_root) = match ks {
            Some((idx, o)) => {
                let node = repo.node(o);
                let ns = o.namespace.as_deref().unwrap_or(FLUX_NAMESPACE);
                let source = node
                    .path(&["spec", "sourceRef"])
                    .and_then(|r| source_key(&r, ns))
                    .unwrap_or_else(|| default_source(ns));
                // The path is relative to the source's root; a copy of another repository's
                // bootstrap (a test tree, a template) names a path that is not here: the
                // directory holding `flux-system` is then what it applies.
                let written = node
                    .str_at(&["spec", "path"])
                    .and_then(|p| crate::fs::join_normalized("", p));
                let declared = written
                    .clone()
                    .filter(|p| repo.tree.is_dir(p) || p.is_empty());
                let source_root = match (&declared, &written) {
                    (None, Some(w)) => source_root_above(&dir, w),
                    _ => None,
                };
                (
                    declared.unwrap_or_else(|| dir.clone()),
                    source,
                    Some((fid, o.name_span)),
                    Some(idx),
                    source_root.unwrap_or_default(),
                )
            }
            None => (
                dir,
                default_source(FLUX_NAMESPACE),
                None,
                None,
                String::new(),
            ),
        };
        // Without the `flux install` header, the Flux release its `flux-system` directory
        // reconciles from `flux-manifests` (a `gotk-components.yaml` holding that source).
        let flux_version = flux_version.or_else(|| installed_version(repo, flux_dir));
        out.push(Cluster {
            name: String::new(),
            path,
            entry: Entry::Bootstrap,
            declared_at,
            source,
            sync_kustomization,
            flux_version,
            source_root,
            same_repository: Vec::new(),
            fetches: None,
        });
    }
}

/// A `gotk-sync.yaml` kept apart from the directory it syncs (`flux/bootstrap/gotk-sync.yaml`
/// with `path: ./clusters/poc`, applied once by hand): the bootstrap of that directory's
/// cluster, when its `flux-system` Kustomization reads a directory here from the source the
/// same file defines, the source's URL is written out (not a `${VAR}` template a script fills
/// in) and nothing here applies the file (then it is part of what applies it).
fn detached_bootstrap(repo: &Repository, fid: usize, dir: &str) -> Option<Cluster> {
    let (idx, ks) = repo.objects.iter().enumerate().find(|(_, o)| {
        o.file == fid && o.flux == Some(FluxKind::Kustomization) && o.name == "flux-system"
    })?;
    let ns = ks.namespace.as_deref().unwrap_or(FLUX_NAMESPACE);
    let node = repo.node(ks);
    let source = node
        .path(&["spec", "sourceRef"])
        .and_then(|r| source_key(&r, ns))?;
    let path = node
        .str_at(&["spec", "path"])
        .and_then(|p| crate::fs::join_normalized("", p))
        .filter(|p| !p.is_empty() && repo.tree.is_dir(p))?;
    let file = repo.path(ks.file);
    let defined_beside = repo.of_kind(&source.kind).any(|o| {
        o.file == fid
            && matches!(
                o.flux,
                Some(FluxKind::GitRepository | FluxKind::OCIRepository)
            )
            && o.name == source.name
            && repo.effective_namespace(o).unwrap_or(FLUX_NAMESPACE) == ns
            && repo
                .node(o)
                .str_at(&["spec", "url"])
                .is_some_and(|u| !u.contains("${"))
    });
    if !defined_beside || holds(&path, file) || pointed_at(repo, Some(idx), file) {
        return None;
    }
    let flux_version = repo
        .file_id(&format!("{dir}/gotk-components.yaml"))
        .and_then(|c| components_version(&repo.files[c].text));
    Some(Cluster {
        name: String::new(),
        path,
        entry: Entry::Bootstrap,
        declared_at: Some((fid, ks.name_span)),
        source,
        sync_kustomization: Some(idx),
        flux_version,
        source_root: String::new(),
        same_repository: Vec::new(),
        fetches: None,
    })
}

/// A `FluxInstance`'s `spec.sync`, or a `flux-instance` HelmRelease's `values.instance.sync`,
/// inline or in the values file a kustomization beside it generates the `valuesFrom`
/// ConfigMap from (`values.yaml=./helm-values.yaml`, the layout of onedr0p's cluster-template).
fn flux_instance_clusters(repo: &Repository, out: &mut Vec<Cluster>) {
    for o in repo.of_kind(FluxKind::FluxInstance) {
        if o.flux == Some(FluxKind::FluxInstance)
            && let Some(sync) = repo.node(o).path(&["spec", "sync"])
        {
            let version = repo.node(o).str_at(&["spec", "distribution", "version"]);
            push_instance(repo, o, o.file, &sync, version, out);
        }
    }
    for o in repo.of_kind(FluxKind::HelmRelease) {
        if o.flux != Some(FluxKind::HelmRelease) {
            continue;
        }
        let node = repo.node(o);
        if let Some(sync) = node.path(&["spec", "values", "instance", "sync"]) {
            let version = node.str_at(&["spec", "values", "instance", "distribution", "version"]);
            push_instance(repo, o, o.file, &sync, version, out);
        } else {
            for file in generated_values(repo, o)
                .into_iter()
                .chain(overlay_values(repo, o))
            {
                // The run's own tree of the file when it kept it; parsed again only when not.
                let parsed;
                let kept = repo.docs_of(file).next().filter(|_| !repo.partial_trees);
                let root = match kept {
                    Some(d) => d.doc.root(),
                    None => {
                        parsed = crate::yaml::parse_stream(&repo.files[file].text);
                        parsed.documents.first().and_then(|d| d.root())
                    }
                };
                if let Some(root) = root
                    && let Some(sync) = root.path(&["instance", "sync"])
                {
                    let version = root.str_at(&["instance", "distribution", "version"]);
                    push_instance(repo, o, file, &sync, version, out);
                }
            }
        }
    }
}

/// The values file of a HelmRelease's `valuesFrom` ConfigMap (whole values, no `targetPath`)
/// that the kustomization of the release's directory generates from a file.
fn generated_values(repo: &Repository, release: &crate::model::index::Object) -> Option<FileId> {
    let dir = parent_dir(repo.path(release.file));
    let kfile = crate::model::index::kustomization_file_in(repo, dir)?;
    let k = repo.kustomization(repo.file_id(&kfile)?)?;
    for from in repo
        .node(release)
        .path(&["spec", "valuesFrom"])
        .map(|v| v.items())
        .unwrap_or_default()
    {
        if from.str_at(&["kind"]) != Some("ConfigMap") || from.get("targetPath").is_some() {
            continue;
        }
        let Some(name) = from.str_at(&["name"]) else {
            continue;
        };
        let key = from.str_at(&["valuesKey"]).unwrap_or("values.yaml");
        if let Some((_, fid)) = config_map_files(repo, &k, &[name])
            .into_iter()
            .find(|(k, _)| *k == key)
        {
            return Some(fid);
        }
    }
    None
}

/// The files kustomization `k` generates into a ConfigMap named in `names`, each with the key
/// it lands under, in order.
fn config_map_files<'k>(
    repo: &Repository,
    k: &'k crate::model::kustomization::Kustomization,
    names: &[&str],
) -> Vec<(&'k str, FileId)> {
    k.generators
        .iter()
        .filter(|g| {
            g.kind == crate::model::kustomization::GeneratedKind::ConfigMap
                && names.contains(&g.name.as_str())
        })
        .flat_map(|g| &g.files)
        .filter_map(|f| {
            let (key, path) = crate::model::kustomization::keyed_file(&f.path);
            let fid = crate::fs::join_normalized(&k.dir, path).and_then(|p| repo.file_id(&p))?;
            Some((key, fid))
        })
        .collect()
}

/// The values files that overlays of a HelmRelease's directory add to its `valuesFrom`
/// ConfigMap: a kustomization listing the release's directory as a resource that generates
/// (or merges into) a ConfigMap of that name, under a key the release's `valuesFrom` or one of
/// the overlay's own patches names (ricsanfre/pi-cluster: `behavior: merge` of
/// `overlay-values.yaml`, and a patch adding it to `valuesFrom`). One per overlay: each is a
/// cluster's instance.
fn overlay_values(repo: &Repository, release: &crate::model::index::Object) -> Vec<FileId> {
    let dir = parent_dir(repo.path(release.file));
    let value_froms = repo
        .node(release)
        .path(&["spec", "valuesFrom"])
        .map(|v| v.items())
        .unwrap_or_default();
    let names: Vec<&str> = value_froms
        .iter()
        .filter(|f| f.str_at(&["kind"]) == Some("ConfigMap") && f.get("targetPath").is_none())
        .filter_map(|f| f.str_at(&["name"]))
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for &kf in repo.kustomization_files() {
        let Some(k) = repo.kustomization(kf) else {
            continue;
        };
        // Asked for every HelmRelease with `valuesFrom`: the generated files first, the
        // resources (each a path to normalize) only then.
        let files = config_map_files(repo, &k, &names);
        if files.is_empty() || k.dir == dir {
            continue;
        }
        let lists_release = k
            .resources
            .iter()
            .any(|r| crate::fs::join_normalized(&k.dir, &r.path).as_deref() == Some(dir));
        if !lists_release {
            continue;
        }
        // What the overlay's patches say, to find the key one of them adds to `valuesFrom`.
        let patched: String = k
            .patches
            .iter()
            .map(|p| match &p.source {
                crate::model::kustomization::PatchSource::Path(r) => {
                    crate::fs::join_normalized(&k.dir, &r.path)
                        .and_then(|p| repo.file_id(&p))
                        .map(|f| repo.files[f].text.to_string())
                        .unwrap_or_default()
                }
                crate::model::kustomization::PatchSource::Inline(nodes, _) => nodes
                    .iter()
                    .map(|n| crate::model::rendered::to_json(n).to_string())
                    .collect(),
            })
            .collect();
        let named = |key: &str| {
            value_froms
                .iter()
                .any(|f| f.str_at(&["valuesKey"]).unwrap_or("values.yaml") == key)
                || patched.contains(key)
        };
        out.extend(
            files
                .into_iter()
                .filter(|(key, _)| named(key))
                .map(|(_, fid)| fid),
        );
    }
    out
}

/// A cluster from a FluxInstance's `sync` block, read in `file`.
fn push_instance(
    repo: &Repository,
    o: &crate::model::index::Object,
    file: FileId,
    sync: &NodeRef<'_>,
    version: Option<&str>,
    out: &mut Vec<Cluster>,
) {
    let Some(written) = sync.str_at(&["path"]) else {
        return;
    };
    let artifact = sync
        .str_at(&["kind"])
        .is_some_and(|k| k != FluxKind::GitRepository.name());
    for path in sync_paths(repo, written) {
        // The root of an OCI artifact (or a bucket) is whatever directory was pushed, not
        // this repository's root: the cluster's own directory when it applies the instance's
        // `flux-system` (as bootstrap's does); else unknown, and no cluster is guessed.
        let path = match (artifact && path.is_empty(), pushed_directory(repo, file)) {
            (false, _) => path,
            (true, Some(dir)) => dir,
            (true, None) => continue,
        };
        push_instance_at(repo, o, file, sync, version, path, out);
    }
}

/// For an instance declared in `<dir>/flux-system/…`, `<dir>` when its kustomization file lists
/// that `flux-system` directory or a file in it: the directory an artifact synced from its
/// root was pushed from. `""` for a `flux-system` at the repository's root.
fn pushed_directory(repo: &Repository, file: FileId) -> Option<String> {
    let path = repo.path(file);
    let flux_dir = match path.rfind("/flux-system/") {
        Some(at) => &path[..at + "/flux-system".len()],
        None if path.starts_with("flux-system/") => "flux-system",
        None => return None,
    };
    let dir = parent_dir(flux_dir);
    if dir.is_empty() {
        return Some(String::new());
    }
    let kfile = crate::model::index::kustomization_file_in(repo, dir)?;
    let k = repo.kustomization(repo.file_id(&kfile)?)?;
    k.resources
        .iter()
        .filter_map(|r| crate::fs::join_normalized(dir, &r.path))
        .any(|r| holds(flux_dir, &r) || r == flux_dir)
        .then(|| dir.to_string())
}

/// The directories a FluxInstance's `sync.path` names: the path, or when it is one `${VAR}`
/// that a Flux Kustomization substitutes (`path: "${FLUX_PATH}"` in an instance several
/// clusters share), each value the repository gives that variable that is a directory here.
fn sync_paths(repo: &Repository, written: &str) -> Vec<String> {
    let uses = crate::model::substitution::uses(written);
    let candidates = match uses.as_slice() {
        [] => vec![written.to_string()],
        [one] => variable_values(repo, &one.name)
            .into_iter()
            .map(|v| {
                let vars = std::collections::BTreeMap::from([(one.name.clone(), v)]);
                crate::model::substitution::substitute(written, &vars)
            })
            .collect(),
        _ => Vec::new(),
    };
    candidates
        .iter()
        .filter_map(|p| crate::fs::join_normalized("", p))
        .filter(|p| !p.contains("${") && (p.is_empty() || repo.tree.is_dir(p)))
        .collect()
}

/// Every value the repository gives variable `name` for post-build substitution: in a
/// ConfigMap's `data` or a Secret's `stringData`, or in a ConfigMap that a kustomization
/// generates (literals, env files).
fn variable_values(repo: &Repository, name: &str) -> std::collections::BTreeSet<String> {
    use crate::flux_api::CoreKind;
    let mut out = std::collections::BTreeSet::new();
    for (kind, field) in [
        (CoreKind::ConfigMap, "data"),
        (CoreKind::Secret, "stringData"),
    ] {
        for o in repo.of_kind(kind).filter(|o| o.group().is_empty()) {
            if let Some(v) = repo.node(o).str_at(&[field, name]) {
                out.insert(v.to_string());
            }
        }
    }
    for data in crate::model::substitution::generated_config_maps(repo, &|_| true) {
        out.extend(data.get(name).cloned());
    }
    out
}

/// [`push_instance`] for one directory its `sync.path` names.
fn push_instance_at(
    repo: &Repository,
    o: &crate::model::index::Object,
    file: FileId,
    sync: &NodeRef<'_>,
    version: Option<&str>,
    path: String,
    out: &mut Vec<Cluster>,
) {
    // The operator creates the source and Kustomization in the instance's namespace, named
    // `sync.name` or after the namespace.
    let ns = repo
        .node(o)
        .str_at(&["spec", "targetNamespace"])
        .or_else(|| repo.effective_namespace(o))
        .unwrap_or(FLUX_NAMESPACE)
        .to_string();
    let name = sync
        .str_at(&["name"])
        .filter(|n| !n.is_empty())
        .map_or_else(|| ns.clone(), str::to_string);
    let kind = sync
        .str_at(&["kind"])
        .unwrap_or(FluxKind::GitRepository.name())
        .to_string();
    let source = SourceKey {
        kind,
        name,
        namespace: Some(ns),
    };
    let fetched = match (sync.str_at(&["url"]), sync.str_at(&["ref"])) {
        (Some(url), Some(r)) if !url.contains("${") => Some((url, git_ref_named(r))),
        _ => None,
    };
    let same = fetched
        .as_ref()
        .map(|(url, r)| same_repository(repo, url, r, &source))
        .unwrap_or_default();
    let fetches = fetched
        .filter(|_| source.kind == FluxKind::GitRepository.name())
        .map(|(url, r)| (repository_of_url(url), r));
    out.push(Cluster {
        name: String::new(),
        path,
        source_root: String::new(),
        same_repository: same,
        fetches,
        entry: Entry::FluxInstance,
        declared_at: Some((file, sync.span())),
        source,
        sync_kustomization: None,
        flux_version: version.map(str::to_string),
    });
}

/// The Flux version cluster `cluster` installs through its own build, for a cluster whose
/// bootstrap directory names none: the `# Flux Version:` header of the `flux install --export`
/// output it applies from elsewhere (`manifests/system/flux/manifests.yaml`). `None` when no
/// applied file has one, or two disagree.
pub fn applied_flux_version(repo: &Repository, cluster: u16) -> Option<String> {
    let versions: &AppliedFluxVersions = repo.derived.get_or_init(|| applied_flux_versions(repo));
    versions.0.get(cluster as usize).cloned().flatten()
}

/// The Flux version of a repository where no cluster is found that holds `flux install
/// --export` output (`bootstrap/flux.yaml`, applied by hand before the first sync), and that
/// file: the version every such file names. `None` when the repository has a cluster, holds no
/// such file, or two disagree.
pub fn unclustered_flux_version(repo: &Repository) -> Option<(String, FileId)> {
    if !repo.clusters().is_empty() {
        return None;
    }
    let versions: &AppliedFluxVersions = repo.derived.get_or_init(|| applied_flux_versions(repo));
    versions.1.clone().flatten()
}

/// [`applied_flux_version`] of every cluster, by index, and [`unclustered_flux_version`]: one
/// pass over the files, once per run (FV501 asks for each of its findings).
struct AppliedFluxVersions(Vec<Option<String>>, Option<Option<(String, FileId)>>);

impl Derived for AppliedFluxVersions {}

fn applied_flux_versions(repo: &Repository) -> AppliedFluxVersions {
    let tree = repo.reconcile_tree();
    // Per cluster, and over the whole repository: nothing seen, one version (`Some(Some(v))`),
    // or two that disagree (`Some(None)`).
    let mut found: Vec<Option<Option<String>>> = vec![None; repo.clusters().len()];
    let mut anywhere: Option<Option<(String, FileId)>> = None;
    for (fid, file) in repo.files.iter().enumerate() {
        let head = file.text.get(..file.text.len().min(2048)).unwrap_or("");
        if !head.contains("# Flux Version:") {
            continue;
        }
        let Some(version) = components_version(&file.text) else {
            continue;
        };
        match &anywhere {
            None => anywhere = Some(Some((version.clone(), fid))),
            Some(Some((v, _))) if *v != version => anywhere = Some(None),
            _ => {}
        }
        for &c in tree.clusters_of(fid) {
            let Some(slot) = found.get_mut(c as usize) else {
                continue;
            };
            match slot {
                None => *slot = Some(Some(version.clone())),
                Some(Some(v)) if *v != version => *slot = Some(None),
                _ => {}
            }
        }
    }
    AppliedFluxVersions(found.into_iter().map(Option::flatten).collect(), anywhere)
}

/// The version `flux install` wrote into the header of `gotk-components.yaml`, else into the
/// labels of its first object.
fn components_version(text: &str) -> Option<String> {
    let head = || text.lines().take(20);
    let header = head()
        .find_map(|l| l.strip_prefix("# Flux Version:"))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    // `flux install` before it wrote the header (v0.12) labels its objects, the
    // `flux-system` Namespace first, with the release.
    let label = |name: &str| {
        head()
            .skip_while(|l| l.trim() == "---")
            .take_while(|l| l.trim() != "---")
            .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
            .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
    };
    header.or_else(|| {
        (label("app.kubernetes.io/part-of").as_deref() == Some("flux"))
            .then(|| label("app.kubernetes.io/version"))
            .flatten()
            .filter(|v| {
                v.trim_start_matches('v')
                    .starts_with(|c: char| c.is_ascii_digit())
            })
    })
}

/// A `sourceRef`'s key, its namespace defaulting to the referrer's.
pub fn source_key(reference: &NodeRef<'_>, referrer_namespace: &str) -> Option<SourceKey> {
    Some(SourceKey {
        kind: reference.str_at(&["kind"])?.to_string(),
        name: reference.str_at(&["name"])?.to_string(),
        namespace: Some(
            reference
                .str_at(&["namespace"])
                .unwrap_or(referrer_namespace)
                .to_string(),
        ),
    })
}

/// Names are the last segment of the path (`clusters/production` → `production`); where two
/// clusters would share one, both take their whole path.
fn disambiguate_names(clusters: &mut [Cluster]) {
    let short = |c: &Cluster| -> String {
        match c.path.rsplit('/').next() {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => "root".to_string(),
        }
    };
    let shorts: Vec<String> = clusters.iter().map(short).collect();
    for (i, c) in clusters.iter_mut().enumerate() {
        if !c.name.is_empty() {
            continue;
        }
        let taken = shorts.iter().filter(|s| **s == shorts[i]).count() > 1;
        c.name = if taken && !c.path.is_empty() {
            c.path.clone()
        } else {
            shorts[i].clone()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::source_root_above;
    use crate::config::Config;

    #[test]
    fn one_repository_has_one_name_whatever_the_url_form() {
        use super::repository_of_url as name;
        let want = "github.com/org/home-ops";
        for url in [
            "https://github.com/org/home-ops",
            "https://github.com/org/home-ops.git",
            "https://github.com/Org/home-ops/",
            "ssh://git@github.com/org/home-ops",
            "ssh://git@github.com:22/org/home-ops.git",
            "https://github.com:443/org/home-ops",
            "git@github.com:org/home-ops.git",
        ] {
            assert_eq!(name(url), want, "{url}");
        }
        assert_ne!(name("https://github.com/org/home-ops-archive"), want);
        assert_ne!(name("https://gitlab.com/org/home-ops"), want);
    }

    #[test]
    fn the_source_root_is_above_where_the_sync_path_ends() {
        let root = |dir, written| source_root_above(dir, written);
        assert_eq!(
            root("repos/gitops-system/clusters/mgmt", "clusters/mgmt").as_deref(),
            Some("repos/gitops-system")
        );
        // A template's copy, its last directory renamed.
        assert_eq!(
            root(
                "repos/gitops-system/clusters/template",
                "clusters/cluster-name"
            )
            .as_deref(),
            Some("repos/gitops-system")
        );
        // At the root already, or a path that ends otherwise: no directory above.
        assert_eq!(root("clusters/template", "clusters/cluster-name"), None);
        assert_eq!(root("tests/clusters/mgmt", "clusters/other/mgmt"), None);
        assert_eq!(root("a/production", "production-eu"), None);
        assert_eq!(root("a/production", ""), None);
    }

    use crate::engine::check_memory;

    use crate::rules::testing::BOOTSTRAP_SYNC as SYNC;

    fn clusters(files: &[(&str, &str)]) -> Vec<(String, String, super::Entry)> {
        let out = check_memory(files, Config::default());
        out.repo
            .clusters()
            .iter()
            .map(|c| (c.name.clone(), c.path.clone(), c.entry.clone()))
            .collect()
    }

    const KS: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: NAME
  namespace: flux-system
spec:
  interval: 10m
  path: PATH
  sourceRef:
    kind: KIND
    name: SOURCE
";
    fn ks(name: &str, path: &str, kind: &str, source: &str) -> String {
        KS.replace("NAME", name)
            .replace("PATH", path)
            .replace("KIND", kind)
            .replace("SOURCE", source)
    }
    fn source(kind: &str, name: &str) -> String {
        format!(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  url: https://example.com/x\n---\n"
        )
    }
    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";

    /// A source and the Kustomization syncing it, in one file its own path holds, are the
    /// entry (the Flux manifests' pair at `./` of another artifact is not; nor is a pair that
    /// a deeper pair's path holds).
    #[test]
    fn sync_pairs_are_entries_when_nothing_else_is() {
        let cluster = source("GitRepository", "home")
            + &ks("cluster", "./kubernetes/flux", "GitRepository", "home");
        let flux = source("OCIRepository", "flux-manifests")
            + &ks("flux", "./", "OCIRepository", "flux-manifests");
        let found = clusters(&[
            ("kubernetes/flux/config/cluster.yaml", &cluster),
            ("kubernetes/flux/config/flux.yaml", &flux),
            ("kubernetes/apps/a.yaml", CM),
        ]);
        assert_eq!(
            found,
            vec![(
                "flux".into(),
                "kubernetes/flux".into(),
                super::Entry::SyncPair
            )]
        );
        let tagged = flux.replace(
            "url: https://example.com/x",
            "url: oci://ghcr.io/fluxcd/flux-manifests\n  ref:\n    tag: v2.5.1",
        );
        let out = check_memory(
            &[
                ("kubernetes/flux/config/cluster.yaml", &cluster),
                ("kubernetes/flux/config/flux.yaml", &tagged),
            ],
            Config::default(),
        );
        assert_eq!(
            out.repo.clusters()[0].flux_version.as_deref(),
            Some("v2.5.1")
        );
        // A pair a bootstrap cluster's Kustomization leads to is part of that cluster.
        let apps = ks("pair", "./kubernetes/flux", "GitRepository", "flux-system");
        let with_bootstrap = clusters(&[
            ("kubernetes/flux/config/cluster.yaml", &cluster),
            ("clusters/prod/flux-system/gotk-sync.yaml", SYNC),
            ("clusters/prod/pair.yaml", &apps),
        ]);
        assert!(
            with_bootstrap
                .iter()
                .all(|c| c.2 == super::Entry::Bootstrap),
            "{with_bootstrap:?}"
        );
        // One nothing leads to, beside a bootstrap cluster (a development cluster a Makefile
        // applies), is a cluster of its own.
        let beside = clusters(&[
            ("kubernetes/flux/config/cluster.yaml", &cluster),
            ("clusters/prod/flux-system/gotk-sync.yaml", SYNC),
        ]);
        assert_eq!(
            beside.iter().map(|c| c.2.clone()).collect::<Vec<_>>(),
            vec![super::Entry::Bootstrap, super::Entry::SyncPair],
            "{beside:?}"
        );
    }

    #[test]
    fn bootstrap_pairs_name_their_clusters_after_their_directories() {
        let found = clusters(&[
            ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
            (
                "clusters/staging/flux-system/gotk-sync.yaml",
                &SYNC.replace("clusters/production", "clusters/staging"),
            ),
            ("clusters/production/apps.yaml", "# placeholder\n"),
            ("clusters/staging/apps.yaml", "# placeholder\n"),
        ]);
        assert_eq!(
            found,
            vec![
                (
                    "production".into(),
                    "clusters/production".into(),
                    super::Entry::Bootstrap
                ),
                (
                    "staging".into(),
                    "clusters/staging".into(),
                    super::Entry::Bootstrap
                ),
            ]
        );
    }

    #[test]
    fn a_placeholder_gotk_sync_still_marks_its_directory() {
        let found = clusters(&[
            (
                "clusters/production/flux-system/gotk-sync.yaml",
                "# This file will be generated automatically by flux bootstrap.\n",
            ),
            ("clusters/production/apps.yaml", "# placeholder\n"),
        ]);
        assert_eq!(
            found,
            vec![(
                "production".into(),
                "clusters/production".into(),
                super::Entry::Bootstrap
            )]
        );
    }

    #[test]
    fn a_flux_instance_release_names_the_synced_path() {
        let release = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: flux-instance
  namespace: flux-system
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: flux-instance
  values:
    instance:
      sync:
        kind: GitRepository
        url: https://github.com/example/home-ops
        ref: refs/heads/main
        path: kubernetes/flux/cluster
";
        let found = clusters(&[
            (
                "kubernetes/apps/flux-system/flux-instance/helmrelease.yaml",
                release,
            ),
            ("kubernetes/flux/cluster/ks.yaml", "# placeholder\n"),
        ]);
        assert_eq!(
            found,
            vec![(
                "cluster".into(),
                "kubernetes/flux/cluster".into(),
                super::Entry::FluxInstance
            )]
        );
    }

    #[test]
    fn the_flux_version_comes_from_the_components_header_or_the_instance() {
        let components = "---\n# This manifest was generated by flux. DO NOT EDIT.\n# Flux Version: v2.6.4\n# Components: source-controller\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n";
        let out = check_memory(
            &[
                ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                (
                    "clusters/production/flux-system/gotk-components.yaml",
                    components,
                ),
            ],
            Config::default(),
        );
        let versions: Vec<Option<String>> = out
            .repo
            .clusters()
            .iter()
            .map(|c| c.flux_version.clone())
            .collect();
        assert_eq!(versions, vec![Some("v2.6.4".to_string())]);
        // Before the header (v0.12), the labels of the first object; another object's or
        // another project's version label is no Flux version.
        let labelled = |labels: &str| {
            super::components_version(&format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  labels:\n{labels}  name: flux-system\n---\nmetadata:\n  labels:\n    app.kubernetes.io/version: v9.9.9\n"
            ))
        };
        assert_eq!(
            labelled(
                "    app.kubernetes.io/part-of: flux\n    app.kubernetes.io/version: v0.12.3\n"
            ),
            Some("v0.12.3".to_string())
        );
        assert_eq!(labelled("    app.kubernetes.io/part-of: flux\n"), None);
        assert_eq!(
            labelled(
                "    app.kubernetes.io/part-of: istio\n    app.kubernetes.io/version: v1.2.0\n"
            ),
            None
        );

        let instance = "apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: \"2.x\"
    registry: ghcr.io/fluxcd
  sync:
    kind: GitRepository
    url: https://github.com/example/fleet
    ref: refs/heads/main
    path: clusters/home
";
        let out = check_memory(
            &[
                ("flux/instance.yaml", instance),
                ("clusters/home/apps.yaml", "# placeholder\n"),
            ],
            Config::default(),
        );
        let found: Vec<(String, Option<String>)> = out
            .repo
            .clusters()
            .iter()
            .map(|c| (c.name.clone(), c.flux_version.clone()))
            .collect();
        assert_eq!(found, vec![("home".to_string(), Some("2.x".to_string()))]);
    }

    #[test]
    fn configured_clusters_count_where_their_path_exists() {
        let config = |path: &str| {
            let mut c = Config::default();
            c.clusters.insert("edge".to_string(), path.to_string());
            c
        };
        let files = [("deploy/edge/app.yaml", "# placeholder\n")];
        let found = |path: &str| -> Vec<(String, String, super::Entry)> {
            check_memory(&files, config(path))
                .repo
                .clusters()
                .iter()
                .map(|c| (c.name.clone(), c.path.clone(), c.entry.clone()))
                .collect()
        };
        assert_eq!(
            found("./deploy/edge"),
            vec![("edge".into(), "deploy/edge".into(), super::Entry::Config)]
        );
        assert!(found("deploy/egde").is_empty());
    }

    #[test]
    fn a_library_of_bases_has_no_cluster() {
        let found = clusters(&[(
            "base/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
        )]);
        assert!(found.is_empty(), "{found:?}");
    }
}
