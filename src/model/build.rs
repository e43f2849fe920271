//! The kustomize build of one directory, in process, as kustomize v5.8 does it: resources
//! (files, nested kustomizations), components, generators, then the transformers in kustomize's
//! order (patchesStrategicMerge, patches, namespace, prefix/suffix, labels, annotations,
//! patchesJson6902, replicas, images, replacements); at the end name hashes and the name
//! references they change. Where there is no kustomization file, Flux's generated one (every
//! manifest below, a sub-directory with its own kustomization taken whole).
//!
//! Errors point at their cause in the repository; what cannot be known offline is a gap.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::model::derived::Derived;
use crate::model::index::{Repository, kustomization_file_in, parent_dir};
use crate::source::Span;

use super::generate::{self, name_hash};
use super::json6902::apply_json6902;
use super::kustomization::{
    Behavior, Kustomization, Patch, PatchSource, ReplacementEntry, is_kustomize_config, is_remote,
};
use super::rendered::{Node, Origin, RenderedObject, ScalarType, Value};
use super::smp::{SmpOutcome, apply_strategic_merge};
use super::{nameref, replacements, select, transform};

/// Every kustomization file of the repository, each parsed on first use and kept for the run
/// ([`Repository::kustomization`]).
struct Kustomizations(HashMap<usize, OnceLock<Option<Arc<Kustomization>>>>);

impl Derived for Kustomizations {}

impl Repository {
    /// The kustomize model of kustomization file `fid` (its kustomize document), parsed once per
    /// run: every build, and every rule that reads a kustomization, share it.
    pub fn kustomization(&self, fid: usize) -> Option<Arc<Kustomization>> {
        let all = self.derived.get_or_init(|| {
            Kustomizations(
                self.kustomization_files()
                    .iter()
                    .map(|&f| (f, OnceLock::new()))
                    .collect(),
            )
        });
        match all.0.get(&fid) {
            Some(cell) => cell.get_or_init(|| parse_kustomization(self, fid)).clone(),
            None => parse_kustomization(self, fid),
        }
    }
}

fn parse_kustomization(repo: &Repository, fid: usize) -> Option<Arc<Kustomization>> {
    let root = repo
        .docs_of(fid)
        .filter_map(|d| d.doc.root())
        .find(is_kustomize_config)?;
    let path = repo.path(fid);
    Some(Arc::new(Kustomization::parse(
        root,
        fid,
        parent_dir(path),
        &repo.files[fid].text,
    )))
}

impl RenderedObject {
    /// The same kustomize id: group, version, kind, name and effective namespace. kustomize's
    /// `Gvk.Equals` compares the version too: one Gateway as `networking.istio.io/v1beta1`
    /// and another of the same name as `v1alpha3` are two resources to it.
    fn same_id(&self, other: &RenderedObject) -> bool {
        // The name first: it tells most pairs apart, and a build compares each new object
        // with every one before it.
        self.name == other.name
            && self.kind == other.kind
            && self.api_version == other.api_version
            && select::effective_namespace(&self.api_version, &self.kind, self.namespace.as_deref())
                == select::effective_namespace(
                    &other.api_version,
                    &other.kind,
                    other.namespace.as_deref(),
                )
    }
}

/// A problem that makes kustomize fail, at its cause.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildError {
    pub message: String,
    pub file: usize,
    pub span: Span,
    /// False for what kustomize accepts silently but is almost surely a mistake (a targeted
    /// patch that matches nothing).
    pub fatal: bool,
}

/// Something the build could not know offline (a remote base, `helmCharts`, an unsupported
/// field): the objects are then incomplete, never guessed.
#[derive(Clone, Debug, PartialEq)]
pub struct Gap {
    pub message: String,
    pub file: usize,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Build {
    pub objects: Vec<RenderedObject>,
    pub errors: Vec<BuildError>,
    pub gaps: Vec<Gap>,
    /// Where the objects a `$patch: delete` took out of the build start (their root's origin).
    pub deleted: Vec<Origin>,
}

impl Build {
    pub fn failed(&self) -> bool {
        self.errors.iter().any(|e| e.fatal)
    }
}

/// What a Flux Kustomization writes into the kustomization at its path before kustomize runs
/// (fluxcd/pkg `kustomize/kustomize_generator.go`, `GenerateManifest`; kustomize-controller's
/// docs/spec/v1/kustomizations.md): `spec.targetNamespace`, `spec.namePrefix` and
/// `spec.nameSuffix` replace the file's `namespace`, `namePrefix` and `nameSuffix`;
/// `spec.patches` follow the file's `patches`; `spec.components`, relative to the path, follow
/// the file's components; `spec.images` are merged into the file's `images` by name (a new
/// `newName` replaces the old one; a new `newTag` or `digest` replaces both). kustomize then
/// runs them in its own order: a Flux patch runs before the namespace, the prefix and the
/// images are applied.
#[derive(Clone, Debug, Default)]
pub struct FluxAdditions {
    pub components: Vec<super::kustomization::PathRef>,
    /// `spec.ignoreMissingComponents`: a component path that is not there is left out.
    pub ignore_missing_components: bool,
    pub images: Vec<super::kustomization::Image>,
    pub namespace: Option<Node>,
    pub name_prefix: Option<Node>,
    pub name_suffix: Option<Node>,
    /// Inline patches only: the Flux API has no patch files.
    pub patches: Vec<Patch>,
    /// `spec.buildMetadata`, replacing the file's `buildMetadata` when not empty.
    pub build_metadata: Vec<(String, Origin)>,
    /// The Kustomization's `spec.path`, where a note about the whole build is placed.
    pub path_origin: Option<Origin>,
    /// Built by kustomize-controller: a kustomization file without `resources` gets
    /// `buildMetadata: [originAnnotations]` (the generator's guard against kustomize's
    /// "kustomization.yaml is empty" error).
    pub by_flux: bool,
}

impl FluxAdditions {
    fn is_empty(&self) -> bool {
        self.components.is_empty()
            && self.images.is_empty()
            && self.namespace.is_none()
            && self.name_prefix.is_none()
            && self.name_suffix.is_none()
            && self.patches.is_empty()
            && !self.by_flux
    }
}

/// Why go-yaml v3 (so kustomize) rejects a file whose parse found `problems`: the first.
pub fn yaml_rejection(problems: &[crate::yaml::YamlProblem]) -> Option<(String, Span)> {
    problems.first().map(|p| match p {
        crate::yaml::YamlProblem::Syntax { span, message, .. } => (message.clone(), *span),
        crate::yaml::YamlProblem::DuplicateKey { key, second, .. } => {
            (format!("mapping key `{key}` already defined"), *second)
        }
        #[allow(unreachable_patterns)]
        _ => ("invalid YAML".to_string(), Span::empty(0)),
    })
}

/// Builds directory `dir` (relative to the repository root, `""` for the root) as Flux would:
/// its kustomization file, or the one Flux generates when it has none.
pub fn build(repo: &Repository, dir: &str) -> Build {
    build_with(repo, dir, &FluxAdditions::default())
}

/// [`build`], with what a Flux Kustomization adds to the kustomization at `dir`.
pub fn build_with(repo: &Repository, dir: &str, flux: &FluxAdditions) -> Build {
    let dir = dir.trim_matches('/');
    let dir = if dir == "." { "" } else { dir };
    let mut b = Builder {
        repo,
        out: Build::default(),
        stack: Vec::new(),
        parsed: HashMap::new(),
        streams: HashMap::new(),
        flux_patches: flux.patches.iter().map(|p| p.origin).collect(),
        flux_path: flux.path_origin.unwrap_or(Origin::NONE),
        artifact: None,
        incomplete: false,
    };
    let mut fifo = false;
    let mut build_metadata = Vec::new();
    let mut objects = match kustomization_file_in(repo, dir) {
        Some(kfile) => {
            let mut k = b.kustomization(&kfile);
            if let Some(parsed) = k.as_mut().filter(|_| !flux.is_empty()) {
                // This build's copy, with the Flux Kustomization's steps written in.
                b.add_flux(Arc::make_mut(parsed), flux);
                b.parsed.insert(kfile.clone(), k.clone());
            }
            if let Some(k) = &k {
                fifo = k.fifo_order;
                build_metadata.clone_from(&k.build_metadata);
            }
            b.build_kustomization(&kfile, Origin::NONE, true)
        }
        None => {
            let mut objects = b.generated(dir);
            if !flux.is_empty() {
                // Flux's generated kustomization lists the manifests, then its additions.
                let mut k = Kustomization {
                    file: usize::MAX,
                    dir: dir.to_string(),
                    ..Kustomization::default()
                };
                b.add_flux(&mut k, flux);
                build_metadata.clone_from(&k.build_metadata);
                b.accumulate(&k, &mut objects);
            }
            objects
        }
    };
    finish(&mut objects);
    annotations_as_strings(&mut objects);
    b.build_metadata(dir, &build_metadata, &mut objects);
    if !fifo {
        objects.sort_by(legacy_order);
    }
    b.out.objects = objects;
    b.out
}

/// Name hashes, then the references they and the prefixes changed (kustomize does both once,
/// after the whole build).
fn finish(objects: &mut [RenderedObject]) {
    for o in objects.iter_mut() {
        if let Some(origin) = o.hash {
            o.remember_id();
            let name = format!("{}-{}", o.name, name_hash(&o.root));
            o.root
                .ensure_map("metadata", origin)
                .set("name", Node::string(name, origin));
            o.refresh();
        }
    }
    nameref::fix(objects);
}

/// kustomize ends every build by writing each object's own annotations back as a map of
/// strings (removing its build annotations): a plain `3600`, `1.10` or `true` there comes out
/// as the string written. A pod template's annotations, and labels, keep their types.
fn annotations_as_strings(objects: &mut [RenderedObject]) {
    for o in objects.iter_mut() {
        annotation_strings(&mut o.root);
    }
}

/// [`annotations_as_strings`] on one object's tree (one judged as its file is written is
/// built by kustomize all the same when Flux applies it).
pub fn annotation_strings(root: &mut Node) {
    let Some(entries) = root
        .path_mut(&["metadata", "annotations"])
        .and_then(Node::entries_mut)
    else {
        return;
    };
    for (_, v) in entries.iter_mut() {
        if let Value::Scalar(_, ty) = &mut v.value {
            *ty = ScalarType::Str;
        }
    }
}

/// kustomize's legacy output order: kinds in its install order, then group/version/kind, then
/// namespace and name.
pub fn legacy_order(a: &RenderedObject, b: &RenderedObject) -> std::cmp::Ordering {
    const FIRST: &[&str] = &[
        "Namespace",
        "ResourceQuota",
        "StorageClass",
        "CustomResourceDefinition",
        "ServiceAccount",
        "PodSecurityPolicy",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ConfigMap",
        "Secret",
        "Endpoints",
        "Service",
        "LimitRange",
        "PriorityClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Deployment",
        "StatefulSet",
        "CronJob",
        "PodDisruptionBudget",
    ];
    const LAST: &[&str] = &[
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ];
    let rank = |k: &str| -> i64 {
        if let Some(i) = FIRST.iter().position(|x| *x == k) {
            return i as i64 - FIRST.len() as i64;
        }
        if let Some(i) = LAST.iter().position(|x| *x == k) {
            return i as i64 + 1;
        }
        0
    };
    // Most pairs a sort compares share their kind and apiVersion (a build's Kustomizations,
    // its HelmReleases): equal there without ranking or spelling out the group/version/kind.
    let same_type = a.kind == b.kind && a.api_version == b.api_version;
    let by_type = if same_type {
        std::cmp::Ordering::Equal
    } else {
        rank(&a.kind)
            .cmp(&rank(&b.kind))
            .then_with(|| legacy_gvk(a).cmp(legacy_gvk(b)))
    };
    by_type
        // kustomize's ResId.LegacySortString: no namespace is `~X`, after every namespace.
        .then_with(|| legacy_namespace(a).cmp(legacy_namespace(b)))
        .then_with(|| a.name.cmp(&b.name))
}

/// kustomize's Gvk.String(), `group_version_kind` with an empty part as `~G`, `~V`, `~K`, as
/// the bytes of that string without building it (a sort compares often).
fn legacy_gvk(o: &RenderedObject) -> impl Iterator<Item = u8> + '_ {
    let (g, v) = o
        .api_version
        .rsplit_once('/')
        .unwrap_or(("", &o.api_version));
    fn or<'a>(s: &'a str, empty: &'static str) -> &'a str {
        if s.is_empty() { empty } else { s }
    }
    or(g, "~G")
        .bytes()
        .chain(*b"_")
        .chain(or(v, "~V").bytes())
        .chain(*b"_")
        .chain(or(&o.kind, "~K").bytes())
}

fn legacy_namespace(o: &RenderedObject) -> &str {
    o.namespace.as_deref().unwrap_or("~X")
}

struct Builder<'r> {
    repo: &'r Repository,
    out: Build,
    /// Kustomization files being built, to report a cycle instead of recursing forever.
    stack: Vec<String>,
    parsed: HashMap<String, Option<Arc<Kustomization>>>,
    /// Per file, its documents parsed again from the text, when the run released the trees no
    /// document rule needs (a Deployment's) and a build needs every object.
    streams: HashMap<usize, std::rc::Rc<crate::yaml::ParsedStream>>,
    /// Where the Flux Kustomization's own patches are written: one that matches nothing in
    /// this build is no mistake (a parent often gives every child the same patches).
    flux_patches: Vec<Origin>,
    /// [`FluxAdditions::path_origin`].
    flux_path: Origin,
    /// What the repository's artifact leaves out, read when a hidden entry needs it.
    artifact: Option<crate::model::artifact::Artifact>,
    /// The objects being accumulated may lack some fluxvet cannot read (a remote resource):
    /// a patch or a merging generator that finds nothing may be meant for one of those.
    incomplete: bool,
}

impl<'r> Builder<'r> {
    fn error(&mut self, message: impl Into<String>, at: Origin) {
        self.push_error(message, at, true);
    }
    fn push_error(&mut self, message: impl Into<String>, at: Origin, fatal: bool) {
        let message = message.into();
        let e = BuildError {
            message,
            file: at.file as usize,
            span: at.span,
            fatal,
        };
        if !self.out.errors.contains(&e) {
            self.out.errors.push(e);
        }
    }
    fn gap(&mut self, message: impl Into<String>, at: Origin) {
        let g = Gap {
            message: message.into(),
            file: at.file as usize,
            span: at.span,
        };
        if !self.out.gaps.contains(&g) {
            self.out.gaps.push(g);
        }
    }
    /// A gap where objects are built that fluxvet does not see.
    fn hidden_objects(&mut self, message: impl Into<String>, at: Origin) {
        self.incomplete = true;
        self.gap(message, at);
    }

    /// Writes a Flux Kustomization's steps into the kustomization at its path, as
    /// kustomize-controller's generator does ([`FluxAdditions`]).
    fn add_flux(&mut self, k: &mut Kustomization, flux: &FluxAdditions) {
        for (field, value) in [
            (&mut k.namespace, &flux.namespace),
            (&mut k.name_prefix, &flux.name_prefix),
            (&mut k.name_suffix, &flux.name_suffix),
        ] {
            if value.is_some() {
                field.clone_from(value);
            }
        }
        k.patches.extend(flux.patches.iter().cloned());
        if flux.by_flux && k.file != usize::MAX && !k.lists_resources {
            let at = Origin::new(k.file, Span::empty(0));
            k.build_metadata = vec![("originAnnotations".to_string(), at)];
        }
        if !flux.build_metadata.is_empty() {
            k.build_metadata.clone_from(&flux.build_metadata);
        }
        for c in &flux.components {
            if is_remote(&c.path) || c.path.starts_with('/') {
                self.error(
                    format!("component path `{}` must be local and relative", c.path),
                    c.origin,
                );
                continue;
            }
            let present = crate::fs::join_normalized(&k.dir, &c.path)
                .is_some_and(|t| self.repo.tree.is_dir(&t) || self.repo.tree.is_file(&t));
            if flux.ignore_missing_components && !present {
                continue;
            }
            k.components.push(c.clone());
        }
        for image in &flux.images {
            match k.images.iter_mut().find(|i| i.name == image.name) {
                None => k.images.push(image.clone()),
                Some(existing) => {
                    if image.new_name.is_some() {
                        existing.new_name.clone_from(&image.new_name);
                    }
                    if image.new_tag.is_some() || image.digest.is_some() {
                        existing.new_tag.clone_from(&image.new_tag);
                        existing.digest.clone_from(&image.digest);
                    }
                    existing.origin = image.origin;
                }
            }
        }
    }

    /// The `buildMetadata` of the kustomization built (kustomize ignores a base's):
    /// `originAnnotations` sets `config.kubernetes.io/origin` on every object to the file it
    /// came from, relative to `dir`, or to the generator that made it; the other options are
    /// render gaps.
    fn build_metadata(
        &mut self,
        dir: &str,
        options: &[(String, Origin)],
        objects: &mut [RenderedObject],
    ) {
        for (option, at) in options {
            if option != "originAnnotations" {
                self.gap(
                    format!("`buildMetadata: [{option}]` is not built by fluxvet"),
                    *at,
                );
                continue;
            }
            for o in objects.iter_mut() {
                let text = match o.generator {
                    Some((g, kind)) => format!(
                        "configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n",
                        relative_to(dir, self.repo.path(g.file as usize))
                    ),
                    None if o.root.origin.is_none() => continue,
                    None => format!(
                        "path: {}\n",
                        relative_to(dir, self.repo.path(o.root.origin.file as usize))
                    ),
                };
                o.root
                    .ensure_map("metadata", *at)
                    .ensure_map("annotations", *at)
                    .set(ORIGIN_ANNOTATION, Node::string(text, *at));
            }
        }
    }

    /// The kustomization file: the repository's model of it, or the copy this build changed.
    fn kustomization(&mut self, kfile: &str) -> Option<Arc<Kustomization>> {
        if let Some(k) = self.parsed.get(kfile) {
            return k.clone();
        }
        let k = self
            .repo
            .file_id(kfile)
            .and_then(|fid| self.repo.kustomization(fid));
        self.parsed.insert(kfile.to_string(), k.clone());
        k
    }

    /// A file of nothing but comments, blank lines and `---`.
    fn is_blank(&self, kfile: &str) -> bool {
        self.repo.file_id(kfile).is_some_and(|fid| {
            self.repo.files[fid].text.lines().all(|l| {
                let t = l.trim();
                t.is_empty() || t.starts_with('#') || t == "---"
            })
        })
    }

    /// `top`: the directory asked for, which may be a Component (kustomize builds one on its
    /// own, but refuses it under `resources`).
    fn build_kustomization(&mut self, kfile: &str, at: Origin, top: bool) -> Vec<RenderedObject> {
        let Some(k) = self.kustomization(kfile) else {
            let message = if self.is_blank(kfile) {
                // Every line commented out: kustomize refuses the file as it is.
                format!("`{kfile}` is empty (kustomize: \"kustomization.yaml is empty\")")
            } else {
                format!("`{kfile}` is not a kustomization fluxvet can read")
            };
            self.error(message, at);
            return Vec::new();
        };
        if self.stack.iter().any(|s| s == kfile) {
            self.error(format!("resource cycle: `{kfile}` includes itself"), at);
            return Vec::new();
        }
        if k.is_component && !top {
            self.error(
                format!("`{kfile}` is a Component; list it under `components`, not `resources`"),
                at,
            );
            return Vec::new();
        }
        self.stack.push(kfile.to_string());
        let mut objects = Vec::new();
        // Its objects are complete unless its own build hides some; the includer's are then
        // incomplete too.
        let outer = std::mem::replace(&mut self.incomplete, false);
        self.accumulate(&k, &mut objects);
        self.incomplete |= outer;
        self.stack.pop();
        objects
    }

    /// Flux's generated kustomization for a directory without one.
    fn generated(&mut self, dir: &str) -> Vec<RenderedObject> {
        let mut objects = Vec::new();
        for name in self.repo.tree.list_dir(dir) {
            let p = super::index::child_path(dir, &name);
            if name.starts_with('.') {
                // Flux's generated kustomization takes hidden files too (source-controller's
                // artifact leaves out only `.git/`, `.github/`, `.sops.yaml` and a few more),
                // but fluxvet reads none: what one applies is not known.
                let repo = self.repo;
                let artifact = self
                    .artifact
                    .get_or_insert_with(|| crate::model::artifact::Artifact::of(repo, None));
                if holds_yaml(repo, artifact, &p, 0) {
                    let shown = if dir.is_empty() { "." } else { dir };
                    self.hidden_objects(
                        format!(
                            "Flux's generated kustomization for `{shown}` also applies the hidden \
                             `{p}`, which fluxvet does not read (to keep it out of the cluster, \
                             move it out of the path or list the manifests in a kustomization.yaml)"
                        ),
                        self.flux_path,
                    );
                }
                continue;
            }
            if self.repo.tree.is_dir(&p) {
                let sub = match kustomization_file_in(self.repo, &p) {
                    Some(k) => {
                        // Errors about the directory as a whole point at its kustomization file.
                        let at = self
                            .repo
                            .file_id(&k)
                            .map_or(Origin::NONE, |f| Origin::new(f, Span::empty(0)));
                        self.build_kustomization(&k, at, false)
                    }
                    None => self.generated(&p),
                };
                self.append(&mut objects, sub, Origin::NONE);
            } else if (name.ends_with(".yaml") || name.ends_with(".yml"))
                && !crate::model::reconcile::FLUX_IGNORED_NAMES.contains(&name.as_str())
            {
                let sub = self.load_file(&p, Origin::NONE);
                self.append(&mut objects, sub, Origin::NONE);
            }
        }
        objects
    }

    /// Adds `new` to `objects`; an id already there is an error at `at` (unless a transformer
    /// fluxvet does not run may have changed either id).
    fn append(&mut self, objects: &mut Vec<RenderedObject>, new: Vec<RenderedObject>, at: Origin) {
        for o in new {
            let dup = objects
                .iter()
                .find(|x| x.same_id(&o) && !x.id_unsure && !o.id_unsure);
            if let Some(prev) = dup {
                let here = if at.is_none() { o.root.origin } else { at };
                let msg = format!(
                    "{} is defined twice (first from {}); kustomize refuses two resources with one id",
                    o.display(),
                    self.place(prev.root.origin)
                );
                self.error(msg, here);
                continue;
            }
            objects.push(o);
        }
    }

    fn place(&self, o: Origin) -> String {
        match self.repo.files.get(o.file as usize) {
            Some(f) => {
                let lc = f.line_col(o.span.start as usize);
                format!("{}:{}", f.path, lc.line)
            }
            None => "?".into(),
        }
    }

    /// The objects of one manifest file (every document; a `List` gives its items).
    fn load_file(&mut self, path: &str, at: Origin) -> Vec<RenderedObject> {
        let repo = self.repo;
        let Some(fid) = repo.file_id(path) else {
            let name = path.rsplit('/').next().unwrap_or(path);
            if !crate::discover::is_manifest_name(name) && repo.tree.is_file(path) {
                // kustomize reads a resource whatever its name (JSON is YAML); fluxvet reads
                // files by manifest names only, so what this one holds is not known.
                self.hidden_objects(
                    format!(
                        "`{path}` is a resource kustomize reads (JSON is YAML) and fluxvet does not (it reads `.yaml` and `.yml` files): what it holds is not checked"
                    ),
                    at,
                );
                return Vec::new();
            }
            self.error(format!("`{path}` cannot be read as YAML"), at);
            return Vec::new();
        };
        if let Some((why, span)) = self.invalid_yaml(fid) {
            self.error(
                format!("`{path}` is not valid YAML for kustomize: {why}"),
                Origin::new(fid, span),
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        for node in self.file_nodes(fid) {
            if !matches!(node.value, Value::Map(_)) {
                self.error(
                    format!("a document of `{path}` is not a Kubernetes object"),
                    node.origin,
                );
                continue;
            }
            let kind = node.str_at(&["kind"]).unwrap_or("");
            if kind.ends_with("List") && node.get("items").is_some() {
                for item in node.get("items").map(Node::items).unwrap_or_default() {
                    out.push(RenderedObject::new(item.clone()));
                }
                continue;
            }
            // kustomize takes an object without apiVersion (the apply fails on it, FV103's
            // finding), and refuses one without kind.
            if kind.is_empty() {
                self.error(format!("a document of `{path}` has no kind"), node.origin);
                continue;
            }
            out.push(RenderedObject::new(node));
        }
        out
    }

    /// Why go-yaml v3 rejects the file (a syntax error, a duplicate key), if it does.
    fn invalid_yaml(&mut self, fid: usize) -> Option<(String, Span)> {
        let f = &self.repo.files[fid];
        f.yaml_rejection
            .get_or_init(|| yaml_rejection(&crate::yaml::parse_source(&f.text).problems))
            .clone()
    }

    /// The file's non-null documents as rendered nodes: the run's own trees when it kept them
    /// all, else parsed once per build from the text.
    fn file_nodes(&mut self, fid: usize) -> Vec<Node> {
        let repo = self.repo;
        if !repo.partial_trees {
            return repo
                .docs_of(fid)
                .filter_map(|d| d.doc.root())
                .filter(|r| !r.is_null())
                .map(|r| Node::from_yaml(r, fid))
                .collect();
        }
        let text = &repo.files[fid].text;
        let stream = self
            .streams
            .entry(fid)
            .or_insert_with(|| std::rc::Rc::new(crate::yaml::parse_source(text)))
            .clone();
        stream
            .documents
            .iter()
            .filter_map(|d| d.root())
            .filter(|r| !r.is_null())
            .map(|r| Node::from_yaml(r, fid))
            .collect()
    }

    /// Resources, components, generators and transformers of `k`, onto `objects` (a
    /// component works on the objects of the kustomization that lists it).
    fn accumulate(&mut self, k: &Kustomization, objects: &mut Vec<RenderedObject>) {
        for e in &k.errors {
            self.error(e.message.clone(), e.origin);
        }
        for g in &k.gaps {
            self.gap(g.message.clone(), g.origin);
        }
        for r in &k.resources {
            let sub = self.resource(&k.dir, &r.path, r.origin);
            self.append(objects, sub, r.origin);
        }
        for c in &k.components {
            if is_remote(&c.path) {
                self.hidden_objects(
                    format!("remote component `{}` is not fetched", c.path),
                    c.origin,
                );
                continue;
            }
            let Some(target) = crate::fs::join_normalized(&k.dir, &c.path) else {
                self.error(
                    format!("component `{}` is outside the repository", c.path),
                    c.origin,
                );
                continue;
            };
            let Some(kfile) = kustomization_file_in(self.repo, &target) else {
                self.error(
                    format!("component `{}` has no kustomization file", c.path),
                    c.origin,
                );
                continue;
            };
            let Some(ck) = self.kustomization(&kfile) else {
                self.error(
                    format!("`{kfile}` is not a kustomization fluxvet can read"),
                    c.origin,
                );
                continue;
            };
            if !ck.is_component {
                self.error(
                    format!(
                        "`{}` is listed as a component but its kind is not Component",
                        c.path
                    ),
                    c.origin,
                );
                continue;
            }
            if self.stack.contains(&kfile) {
                self.error(
                    format!("resource cycle: `{kfile}` includes itself"),
                    c.origin,
                );
                continue;
            }
            self.stack.push(kfile);
            self.accumulate(&ck, objects);
            self.stack.pop();
        }
        self.generators(k, objects);
        self.transformers(k, objects);
        if k.unbuilt_transformers {
            for o in objects.iter_mut() {
                o.id_unsure = true;
            }
        }
    }

    fn resource(&mut self, dir: &str, path: &str, at: Origin) -> Vec<RenderedObject> {
        if is_remote(path) {
            self.hidden_objects(format!("remote resource `{path}` is not fetched"), at);
            return Vec::new();
        }
        let Some(target) = crate::fs::join_normalized(dir, path) else {
            self.error(format!("resource `{path}` is outside the repository"), at);
            return Vec::new();
        };
        let tree = &self.repo.tree;
        if tree.is_dir(&target) {
            match kustomization_file_in(self.repo, &target) {
                Some(kfile) => self.build_kustomization(&kfile, at, false),
                None => {
                    self.error(
                        format!(
                            "resource `{path}` is a directory without a kustomization file \
                             (kustomize needs one; Flux generates one only for its own path)"
                        ),
                        at,
                    );
                    Vec::new()
                }
            }
        } else if tree.is_file(&target) || self.repo.file_id(&target).is_some() {
            self.load_file(&target, at)
        } else {
            self.error(format!("resource `{path}` does not exist"), at);
            Vec::new()
        }
    }

    fn read(&self, dir: &str, path: &str) -> Option<Vec<u8>> {
        let p = crate::fs::join_normalized(dir, path)?;
        if let Some(fid) = self.repo.file_id(&p) {
            return Some(self.repo.files[fid].text.as_bytes().to_vec());
        }
        self.repo.tree.read(&p)
    }

    fn generators(&mut self, k: &Kustomization, objects: &mut Vec<RenderedObject>) {
        for g in &k.generators {
            // kustomize fetches a `files` entry given as a URL: not read offline.
            let remote = g.files.iter().chain(&g.envs).find(|f| {
                let path = f.path.split_once('=').map_or(f.path.as_str(), |(_, p)| p);
                path.starts_with("https://") || path.starts_with("http://")
            });
            if let Some(f) = remote {
                self.hidden_objects(
                    format!("generator `{}` reads `{}` over the network", g.name, f.path),
                    f.origin,
                );
                continue;
            }
            let made =
                generate::generate(g, k.generator_options.as_ref(), &|p| self.read(&k.dir, p));
            let made = match made {
                Ok(m) => m,
                Err((msg, at)) => {
                    self.error(msg, at);
                    continue;
                }
            };
            let mut obj = RenderedObject::new(made.root);
            obj.hash = made.hash.then_some(g.origin);
            obj.generator = Some((
                g.origin,
                match g.kind {
                    super::kustomization::GeneratedKind::ConfigMap => "ConfigMapGenerator",
                    super::kustomization::GeneratedKind::Secret => "SecretGenerator",
                },
            ));
            match g.behavior {
                Behavior::Create => self.append(objects, vec![obj], g.origin),
                Behavior::Merge | Behavior::Replace => {
                    let existing = objects.iter_mut().find(|o| {
                        o.kind == obj.kind
                            && o.any_name(&obj.name)
                            && (obj.namespace.is_none() || o.namespace == obj.namespace)
                    });
                    let Some(e) = existing else {
                        if self.incomplete {
                            // The object may be among those fluxvet does not see.
                            continue;
                        }
                        self.error(
                            format!(
                                "{} `{}` has behavior {:?} but no such object exists to change",
                                obj.kind, obj.name, g.behavior
                            ),
                            g.origin,
                        );
                        continue;
                    };
                    merge_generated(e, obj, g.behavior == Behavior::Replace);
                }
            }
        }
    }

    fn patch_documents(&mut self, dir: &str, source: &PatchSource) -> Option<Vec<Node>> {
        match source {
            PatchSource::Inline(docs, _) => Some(docs.clone()),
            PatchSource::Path(p) => {
                let Some(path) = crate::fs::join_normalized(dir, &p.path) else {
                    self.error(
                        format!("patch `{}` is outside the repository", p.path),
                        p.origin,
                    );
                    return None;
                };
                let Some(fid) = self.repo.file_id(&path) else {
                    match self.read(dir, &p.path) {
                        Some(bytes) => {
                            // A JSON patch file (`.json`) is not among the scanned manifests.
                            let text = String::from_utf8_lossy(&bytes).into_owned();
                            let parsed = crate::yaml::parse_stream(&text);
                            return Some(
                                parsed
                                    .documents
                                    .iter()
                                    .filter_map(|d| d.root())
                                    .filter(|r| !r.is_null())
                                    .map(|r| Node::from_yaml_mapped(r, &|_| p.origin))
                                    .collect(),
                            );
                        }
                        None => {
                            self.error(format!("patch file `{}` does not exist", p.path), p.origin);
                            return None;
                        }
                    }
                };
                Some(self.file_nodes(fid))
            }
        }
    }

    fn transformers(&mut self, k: &Kustomization, objects: &mut Vec<RenderedObject>) {
        for p in &k.patches_strategic_merge {
            self.patch(k, p, objects);
        }
        for p in &k.patches {
            self.patch(k, p, objects);
        }
        if let Some(ns) = &k.namespace {
            transform::namespace(objects, ns);
        }
        transform::prefix_suffix(objects, k.name_prefix.as_ref(), k.name_suffix.as_ref());
        for l in k.labels.iter().chain(k.common_labels.iter()) {
            transform::labels(objects, l);
        }
        transform::annotations(objects, &k.common_annotations);
        for p in &k.patches_json6902 {
            self.patch(k, p, objects);
        }
        for r in &k.replicas {
            // With objects fluxvet does not read (a remote base), the workload may be there.
            if let Err(e) = transform::replicas(objects, r)
                && !self.incomplete
            {
                self.error(e, r.count.origin);
            }
        }
        transform::images(objects, &k.images);
        for r in &k.replacements {
            let list: Vec<Node> = match r {
                ReplacementEntry::Inline(n) => vec![n.clone()],
                ReplacementEntry::Path(p) => {
                    let src = PatchSource::Path(p.clone());
                    let Some(docs) = self.patch_documents(&k.dir, &src) else {
                        continue;
                    };
                    docs.into_iter()
                        .flat_map(|d| match d.value {
                            Value::Seq(items) => items,
                            _ => vec![d],
                        })
                        .collect()
                }
            };
            for rep in &list {
                match replacements::apply(objects, rep) {
                    // The source may be among the objects fluxvet does not read.
                    Err(e) if self.incomplete && e == replacements::NO_SOURCE => {}
                    Err(e) => self.error(format!("replacement: {e}"), rep.origin),
                    Ok(()) => {}
                }
            }
        }
    }

    /// One entry of `patches`, `patchesStrategicMerge` or `patchesJson6902`.
    fn patch(&mut self, k: &Kustomization, p: &Patch, objects: &mut Vec<RenderedObject>) {
        let Some(docs) = self.patch_documents(&k.dir, &p.source) else {
            return;
        };
        let errors = apply_patch_to(objects, p, &docs, !self.incomplete, &mut self.out.deleted);
        for e in errors {
            if !e.fatal && self.flux_patches.contains(&p.origin) {
                continue;
            }
            if !self.out.errors.contains(&e) {
                self.out.errors.push(e);
            }
        }
    }
}

/// Whether `p` is, or holds, a YAML file that the repository's artifact keeps.
fn holds_yaml(
    repo: &Repository,
    artifact: &crate::model::artifact::Artifact,
    p: &str,
    depth: usize,
) -> bool {
    let is_dir = repo.tree.is_dir(p);
    if artifact.excludes(repo, p, is_dir).is_some() {
        return false;
    }
    if !is_dir {
        return p.ends_with(".yaml") || p.ends_with(".yml");
    }
    depth < 8
        && repo
            .tree
            .list_dir(p)
            .iter()
            .any(|n| holds_yaml(repo, artifact, &format!("{p}/{n}"), depth + 1))
}

/// kustomize's build metadata annotation: where an object came from.
const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";

/// `path` (relative to the repository root) as seen from directory `dir`.
fn relative_to(dir: &str, path: &str) -> String {
    let from: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = path.split('/').collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = vec![".."; from.len() - common];
    out.extend(&to[common..]);
    out.join("/")
}

fn push(errors: &mut Vec<BuildError>, message: impl Into<String>, at: Origin, fatal: bool) {
    errors.push(BuildError {
        message: message.into(),
        file: at.file as usize,
        span: at.span,
        fatal,
    });
}

fn push_fatal(errors: &mut Vec<BuildError>, message: impl Into<String>, at: Origin) {
    push(errors, message, at, true);
}

/// Applies one patch (its documents already read: one list is a JSON 6902 patch, mappings
/// are strategic merge patches) to `objects` as kustomize's PatchTransformer does: with a
/// `target`, to every object it selects, taking the object's apiVersion, kind, name and
/// namespace; without, to the one object the patch's own id names. Also what Flux's
/// `spec.patches` need.
pub fn apply_patch(objects: &mut Vec<RenderedObject>, p: &Patch, docs: &[Node]) -> Vec<BuildError> {
    apply_patch_to(objects, p, docs, true, &mut Vec::new())
}

/// [`apply_patch`]; when `all_known` is false, `objects` may lack some fluxvet cannot read (a
/// remote resource), and a patch that matches none of them is no error: its target may be
/// one of those.
fn apply_patch_to(
    objects: &mut Vec<RenderedObject>,
    p: &Patch,
    docs: &[Node],
    all_known: bool,
    deleted_at: &mut Vec<Origin>,
) -> Vec<BuildError> {
    let mut errors = Vec::new();
    let is_json = docs.len() == 1 && matches!(docs[0].value, Value::Seq(_));
    if is_json {
        let Some(target) = &p.target else {
            push_fatal(&mut errors, "a JSON 6902 patch needs a `target`", p.origin);
            return errors;
        };
        let mut hit = false;
        for o in objects.iter_mut().filter(|o| select::matches(target, o)) {
            hit = true;
            if let Err(e) = apply_json6902(&mut o.root, &docs[0]) {
                let at = e
                    .index
                    .and_then(|i| docs[0].items().get(i))
                    .map_or(p.origin, |n| n.origin);
                let msg = format!("JSON 6902 patch on {}: {}", o.display(), e.message);
                errors.push(BuildError {
                    message: msg,
                    file: at.file as usize,
                    span: at.span,
                    fatal: true,
                });
            }
            o.refresh();
        }
        if !hit && all_known {
            push(
                &mut errors,
                "the patch's target matches no object",
                p.target_origin,
                false,
            );
        }
        return errors;
    }
    for doc in docs {
        if !matches!(doc.value, Value::Map(_)) {
            push_fatal(
                &mut errors,
                "a strategic merge patch must be a mapping",
                doc.origin,
            );
            continue;
        }
        let chosen: Vec<usize> = match &p.target {
            Some(t) => objects
                .iter()
                .enumerate()
                .filter(|(_, o)| select::matches(t, o))
                .map(|(i, _)| i)
                .collect(),
            None => {
                let found = by_patch_id(objects, doc);
                if found.is_empty() && !all_known {
                    continue;
                }
                if found.len() != 1 {
                    let id = format!(
                        "{} {}{}",
                        doc.str_at(&["kind"]).unwrap_or("?"),
                        doc.str_at(&["metadata", "namespace"])
                            .map(|n| format!("{n}/"))
                            .unwrap_or_default(),
                        doc.str_at(&["metadata", "name"]).unwrap_or("?")
                    );
                    let what = if found.is_empty() {
                        "no"
                    } else {
                        "more than one"
                    };
                    push_fatal(
                        &mut errors,
                        format!(
                            "the patch's target {id} matches {what} object; kustomize needs exactly one"
                        ),
                        p.origin,
                    );
                    continue;
                }
                found
            }
        };
        if chosen.is_empty() && all_known {
            push(
                &mut errors,
                "the patch's target matches no object",
                p.target_origin,
                false,
            );
        }
        let mut deleted = Vec::new();
        for i in chosen {
            let o = &mut objects[i];
            let keep = |o: &RenderedObject, p: &[&str]| o.root.path(p).cloned();
            let api = keep(o, &["apiVersion"]);
            let kind = keep(o, &["kind"]);
            let name = keep(o, &["metadata", "name"]);
            let ns = keep(o, &["metadata", "namespace"]);
            if apply_strategic_merge(&mut o.root, doc) == SmpOutcome::Deleted {
                deleted.push(i);
                continue;
            }
            // The object keeps its own apiVersion, kind, name and namespace: a targeted
            // patch takes its target's, and only the options let a patch rename.
            if !p.allow_kind_change {
                restore(&mut o.root, &["apiVersion"], api);
                restore(&mut o.root, &["kind"], kind);
            }
            if p.allow_name_change {
                o.remember_id();
            } else {
                restore(&mut o.root, &["metadata", "name"], name);
            }
            restore(&mut o.root, &["metadata", "namespace"], ns);
            o.refresh();
        }
        for i in deleted.into_iter().rev() {
            deleted_at.push(objects.remove(i).root.origin);
        }
    }
    errors
}

/// Puts `value` back at `path` (removes the field when it was absent).
fn restore(root: &mut Node, path: &[&str], value: Option<Node>) {
    let (last, parents) = path.split_last().expect("a path");
    let mut cur = root;
    for p in parents {
        if cur.get(p).is_none() && value.is_none() {
            return;
        }
        let origin = cur.origin;
        cur = cur.ensure_map(p, origin);
    }
    match value {
        Some(v) => {
            cur.set(last, v);
        }
        None => {
            cur.remove(last);
        }
    }
}

/// Objects a patch without `target` names by its own id: the group/version/kind it declares
/// and its name and namespace, against any id the object has had.
fn by_patch_id(objects: &[RenderedObject], doc: &Node) -> Vec<usize> {
    let api = doc.str_at(&["apiVersion"]).unwrap_or("");
    let kind = doc.str_at(&["kind"]).unwrap_or("");
    let name = doc.str_at(&["metadata", "name"]).unwrap_or("");
    let ns = doc.str_at(&["metadata", "namespace"]);
    let pns = select::effective_namespace(api, kind, ns);
    objects
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.api_version == api
                && o.kind == kind
                && o.ids().any(|(ons, on)| {
                    on == name && select::effective_namespace(api, kind, ons) == pns
                })
        })
        .map(|(i, _)| i)
        .collect()
}

/// A generator with `behavior: merge` or `replace` changing an object already built.
fn merge_generated(existing: &mut RenderedObject, new: RenderedObject, replace: bool) {
    for field in ["data", "binaryData"] {
        match (replace, new.root.get(field)) {
            (true, v) => {
                existing.root.remove(field);
                if let Some(v) = v {
                    existing.root.set(field, v.clone());
                }
            }
            (false, Some(v)) => {
                let d = existing.root.ensure_map(field, v.origin);
                for (k, x) in v.entries() {
                    d.set(k, x.clone());
                }
            }
            (false, None) => {}
        }
    }
    for field in ["labels", "annotations"] {
        if let Some(v) = new.root.path(&["metadata", field]) {
            let d = existing
                .root
                .ensure_map("metadata", v.origin)
                .ensure_map(field, v.origin);
            for (k, x) in v.entries() {
                d.set(k, x.clone());
            }
        }
    }
    if existing.hash.is_none() {
        existing.hash = new.hash;
    }
    existing.refresh();
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
