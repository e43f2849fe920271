//! The patch heuristic that excuses a field some patch of the repository may set: the files
//! used as patches and the field paths patches set, per target kind. FV505 uses it, and FV502
//! in a repository without clusters (where the model cannot tell which parent applies an
//! object); with clusters FV502 judges the rendered objects ([`crate::model`]).

use std::collections::{HashMap, HashSet};

use crate::flux_api::FluxKind;
use crate::model::index::Repository;
use crate::model::kustomization::{self, Patch, PatchSource};
use crate::model::rendered::{Node, Value};

/// What kustomize and Flux patches in the repository contribute: the files used as patches (not
/// objects of their own) and the field paths patches set, per target kind (`*` when any kind).
/// Read from the kustomize model: each kustomization file as [`Repository::kustomization`]
/// parsed it, each Flux Kustomization's `spec.patches` as the build reads them.
#[derive(Default)]
pub(crate) struct Patches {
    pub(crate) files: HashSet<String>,
    fields: HashMap<String, HashSet<String>>,
}

/// Inline patches nest (a Flux Kustomization patching child Kustomizations' `spec.patches`);
/// deeper nesting is ignored.
const PATCH_DEPTH: usize = 4;

impl Patches {
    pub(crate) fn collect(repo: &Repository) -> Patches {
        Patches::collect_from(repo, true)
    }

    /// The fields the Flux Kustomizations' own `spec.patches` set (not the kustomization
    /// files'): what a parent adds to the objects its build renders.
    pub(crate) fn collect_flux(repo: &Repository) -> Patches {
        Patches::collect_from(repo, false)
    }

    fn collect_from(repo: &Repository, kustomize_files: bool) -> Patches {
        let mut p = Patches::default();
        if kustomize_files {
            for &fid in repo.kustomization_files() {
                let Some(k) = repo.kustomization(fid) else {
                    continue;
                };
                for patch in k
                    .patches
                    .iter()
                    .chain(&k.patches_strategic_merge)
                    .chain(&k.patches_json6902)
                {
                    p.patch(&k.dir, patch, 0);
                }
            }
        }
        for (_, ks) in repo.of_kinds(&[FluxKind::Kustomization]) {
            let text = &repo.files[ks.file].text;
            for item in repo
                .node(ks)
                .path(&["spec", "patches"])
                .map(|n| n.items())
                .unwrap_or_default()
            {
                // The Flux API has inline patches only.
                if let Some(patch) = kustomization::patch(item, ks.file, text)
                    .filter(|x| matches!(x.source, PatchSource::Inline(..)))
                {
                    p.patch("", &patch, 0);
                }
            }
        }
        for (fid, f) in repo.files.iter().enumerate() {
            if !p.files.contains(&*f.path) {
                continue;
            }
            for root in repo.docs_of(fid).filter_map(|d| d.doc.root()) {
                p.patch_doc(&Node::from_yaml(root, fid), None, 0);
            }
        }
        p
    }

    pub(crate) fn sets(&self, kind: &str, dotted: &str) -> bool {
        [kind, "*"]
            .iter()
            .filter_map(|k| self.fields.get(*k))
            .any(|s| s.contains(dotted))
    }

    /// One patch entry: its file is remembered (read once every entry is known), its inline
    /// documents are read now.
    fn patch(&mut self, dir: &str, patch: &Patch, depth: usize) {
        match &patch.source {
            PatchSource::Path(file) => {
                if let Some(p) = crate::fs::join_normalized(dir, file.path.trim()) {
                    self.files.insert(p);
                }
            }
            PatchSource::Inline(docs, _) => {
                if depth >= PATCH_DEPTH {
                    return;
                }
                let target = patch.target.as_ref().and_then(|t| t.kind.as_deref());
                for doc in docs {
                    self.patch_doc(doc, target, depth);
                }
            }
        }
    }

    /// One patch document: a strategic-merge fragment or a list of JSON 6902 operations.
    fn patch_doc(&mut self, root: &Node, target: Option<&str>, depth: usize) {
        let kind = target
            .or_else(|| root.str_at(&["kind"]))
            .unwrap_or("*")
            .to_string();
        let mut paths = Vec::new();
        if let Value::Seq(ops) = &root.value {
            for op in ops {
                if let Some(p) = op.str_at(&["path"]) {
                    let dotted: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
                    for i in 1..=dotted.len() {
                        paths.push(dotted[..i].join("."));
                    }
                }
            }
        } else {
            collect_paths(root, String::new(), &mut paths, 0);
            if root
                .str_at(&["apiVersion"])
                .is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/"))
            {
                // A patch that gives child Kustomizations patches of their own.
                for item in root
                    .path(&["spec", "patches"])
                    .map(Node::items)
                    .unwrap_or_default()
                {
                    if let Some(nested) = kustomization::patch_of_node(item)
                        .filter(|x| matches!(x.source, PatchSource::Inline(..)))
                    {
                        self.patch("", &nested, depth + 1);
                    }
                }
            }
        }
        self.fields.entry(kind).or_default().extend(paths);
    }
}

fn collect_paths(node: &Node, prefix: String, out: &mut Vec<String>, depth: usize) {
    if depth > 8 {
        return;
    }
    for (k, v) in node.entries() {
        let p = if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        };
        out.push(p.clone());
        collect_paths(v, p, out, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::Patches;
    use crate::config::Config;
    use crate::engine::check_memory;
    use crate::rules::testing::flux_kustomization;

    /// Every patch form the model reads: a kustomization's patch file, inline patch with a
    /// target, JSON 6902 file; a Flux Kustomization's `spec.patches`, and the patches one of
    /// them gives child Kustomizations.
    #[test]
    fn patches_are_read_from_the_kustomize_model() {
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - app.yaml
patches:
  - path: replicas.yaml
  - target:
      kind: Deployment
    patch: |
      - op: add
        path: /spec/template/spec/priorityClassName
        value: high
patchesJson6902:
  - target:
      kind: Service
      name: web
    path: service-patch.yaml
";
        let parent = flux_kustomization(
            "apps",
            "./apps",
            "GitRepository",
            "  patches:
    - target:
        kind: Kustomization
      patch: |
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: any
        spec:
          patches:
            - target:
                kind: HelmRelease
              patch: |
                - op: add
                  path: /spec/install/remediation
                  value: {retries: 3}
",
        );
        let out = check_memory(
            &[
                ("apps/kustomization.yaml", kustomization),
                (
                    "apps/app.yaml",
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
                ),
                (
                    "apps/replicas.yaml",
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
                ),
                (
                    "apps/service-patch.yaml",
                    "- op: replace\n  path: /spec/type\n  value: NodePort\n",
                ),
                ("clusters/apps.yaml", &parent),
            ],
            Config::default(),
        );
        let p = Patches::collect(&out.repo);
        let mut files: Vec<&str> = p.files.iter().map(String::as_str).collect();
        files.sort_unstable();
        assert_eq!(files, ["apps/replicas.yaml", "apps/service-patch.yaml"]);
        assert!(p.sets("Deployment", "spec.replicas"));
        assert!(p.sets("Deployment", "spec.template.spec.priorityClassName"));
        assert!(!p.sets("StatefulSet", "spec.template.spec.priorityClassName"));
        // A JSON 6902 file's operations name no kind: any kind.
        assert!(p.sets("Service", "spec.type"));
        assert!(p.sets("Kustomization", "spec.patches"));
        assert!(p.sets("HelmRelease", "spec.install.remediation"));
        let flux = Patches::collect_flux(&out.repo);
        assert!(flux.files.is_empty());
        assert!(!flux.sets("Deployment", "spec.replicas"));
        assert!(flux.sets("HelmRelease", "spec.install.remediation"));
    }
}
