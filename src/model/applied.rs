//! What each cluster applies: for every Flux Kustomization a cluster reaches (the reconcile
//! tree's builds), the kustomize build of its path, then Flux's own steps in the order
//! kustomize-controller runs them (fluxcd/kustomize-controller `generator.go`: the Flux
//! Kustomization's `namePrefix`/`nameSuffix`, `targetNamespace`, `commonMetadata` and `patches`
//! go into the kustomization it generates over the path; post-build substitution runs on the
//! result). Every value keeps the origin the build gave it; a patched value points at the patch.

use rayon::prelude::*;

use crate::index::{Object, Repository};
use crate::model::build::{BuildError, Gap, RenderedObject, build};
use crate::model::kustomization::{LabelSet, PatchSource, patch};
use crate::model::rendered::{Node, Value};
use crate::model::substitution;
use crate::model::transform;
use crate::reconcile::{BOOTSTRAP, ROOT_BY_HAND};

/// One object a cluster applies.
pub struct Applied {
    /// The cluster's name; empty for a root applied by hand.
    pub cluster: String,
    /// Index into `Repository::objects` of the Flux Kustomization that applies it; `None` for
    /// a bootstrap directory whose Kustomization is not in the files.
    pub kustomization: Option<usize>,
    pub object: RenderedObject,
}

/// Every cluster's builds at once: the objects, and what went wrong or could not be known.
#[derive(Default)]
pub struct AppliedSet {
    pub objects: Vec<Applied>,
    pub errors: Vec<BuildError>,
    pub gaps: Vec<Gap>,
}

impl Repository {
    /// What every cluster applies ([`applied`]), built once per run.
    pub fn applied(&self) -> &[Applied] {
        &self.applied_set().objects
    }

    /// The builds' errors and gaps, each as often as a build met it.
    pub fn applied_set(&self) -> &AppliedSet {
        self.applied.get_or_init(|| applied_set(self))
    }

    /// The rendered copies of a source object, one per build that applies it (a base two
    /// overlays use has two): matched by the document the copy was built from.
    pub fn rendered_copies(&self, o: &Object) -> Vec<&Applied> {
        let Some(root) = self.document(o).root() else {
            return Vec::new();
        };
        let start = root.span().start;
        self.applied()
            .iter()
            .filter(|a| {
                a.object.root.origin.file as usize == o.file
                    && a.object.root.origin.span.start == start
            })
            .collect()
    }
}

/// Every object every cluster applies, cluster by cluster in walk order. Empty in a repository
/// without clusters.
pub fn applied(repo: &Repository) -> Vec<Applied> {
    applied_set(repo).objects
}

fn applied_set(repo: &Repository) -> AppliedSet {
    let tree = repo.reconcile_tree();
    let clusters = repo.clusters();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut gaps = Vec::new();
    let one = |(cluster, applier, path): &(u16, usize, String)| {
        let mut b = build(repo, path);
        let ks = (*applier != BOOTSTRAP)
            .then(|| repo.objects.get(*applier))
            .flatten();
        if let Some(ks) = ks {
            flux_steps(repo, ks, &mut b.objects);
        }
        (*cluster, ks.and(Some(*applier)), b)
    };
    // Each build reads the repository alone: they run in parallel, and are joined in walk
    // order, so the set is the same whatever the thread count. Only from outside the pool (the
    // engine builds the set before the rules run): a worker that asks, inside the set's
    // `OnceLock`, would run other queued tasks while it waits for its builds, and a rule among
    // them asking for the set again would wait on that lock forever.
    let built: Vec<_> = if rayon::current_thread_index().is_none() {
        tree.builds().par_iter().with_max_len(1).map(one).collect()
    } else {
        tree.builds().iter().map(one).collect()
    };
    for (cluster, kustomization, mut b) in built {
        let name = match cluster {
            ROOT_BY_HAND => String::new(),
            i => clusters
                .get(i as usize)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
        };
        errors.append(&mut b.errors);
        gaps.append(&mut b.gaps);
        out.extend(b.objects.into_iter().map(|object| Applied {
            cluster: name.clone(),
            kustomization,
            object,
        }));
    }
    AppliedSet {
        objects: out,
        errors,
        gaps,
    }
}

/// The Flux Kustomization's own transformations, on the objects its path builds.
pub fn flux_steps(repo: &Repository, ks: &Object, objects: &mut Vec<RenderedObject>) {
    let node = repo.node(ks);
    let Some(spec) = node.get("spec") else { return };
    let file = ks.file;
    let text = &repo.files[file].text;
    let at = |key: &str| spec.get(key).map(|n| Node::from_yaml(n, file));
    let (prefix, suffix) = (at("namePrefix"), at("nameSuffix"));
    transform::prefix_suffix(objects, prefix.as_ref(), suffix.as_ref());
    if let Some(ns) = at("targetNamespace") {
        transform::namespace(objects, &ns);
    }
    if let Some(meta) = spec.get("commonMetadata") {
        let pairs = |field: &str| -> Vec<(String, Node)> {
            meta.get(field)
                .map(|m| m.entries())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), Node::from_yaml(v, file))))
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
    }
    for p in spec.get("patches").map(|p| p.items()).unwrap_or_default() {
        let Some(p) = patch(p, file, text) else {
            continue;
        };
        if let PatchSource::Inline(docs, _) = &p.source {
            let docs = docs.clone();
            let _ = crate::model::build::apply_patch(objects, &p, &docs);
        }
    }
    for o in objects.iter_mut() {
        o.refresh();
    }
    if let Some(vars) = substitution::variables(repo, ks) {
        for o in objects.iter_mut() {
            let disabled = ["labels", "annotations"].iter().any(|f| {
                o.root
                    .path(&["metadata", f, substitution::DISABLE_KEY])
                    .and_then(Node::as_str)
                    == Some("disabled")
            });
            if !disabled {
                substitute_in(&mut o.root, &vars);
                o.refresh();
            }
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

    use crate::rules::testing::BOOTSTRAP_KUSTOMIZATION as SYNC;

    #[test]
    fn flux_steps_follow_the_kustomization() {
        let apps = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  targetNamespace: web
  sourceRef:
    kind: GitRepository
    name: flux-system
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
        let out = check_memory(
            &[
                ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                ("clusters/production/apps.yaml", apps),
                ("apps/release.yaml", release),
            ],
            Config::default(),
        );
        let applied = super::applied(&out.repo);
        let hr = applied
            .iter()
            .find(|a| a.object.kind == "HelmRelease")
            .expect("the HelmRelease is applied");
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
}
