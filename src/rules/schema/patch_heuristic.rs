//! The patch heuristic that excuses a field some patch of the repository may set: the files
//! used as patches and the field paths patches set, per target kind. FV505 uses it, and FV502
//! in a repository without clusters (where the model cannot tell which parent applies an
//! object); with clusters FV502 judges the rendered objects ([`crate::model`]).

use std::collections::{HashMap, HashSet};

use crate::model::index::{Repository, parent_dir};
use crate::yaml::{Kind, NodeRef, parse_stream};

/// What kustomize and Flux patches in the repository contribute: the files used as patches (not
/// objects of their own) and the field paths patches set, per target kind (`*` when any kind).
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
        for (slot, entry) in repo.docs.iter().enumerate() {
            let path = repo.path(entry.file);
            let Some(root) = entry.doc.root() else {
                continue;
            };
            let api_version = match repo.object_of_doc(slot) {
                Some(o) => Some(o.api_version.as_str()),
                None => root.str_at(&["apiVersion"]),
            };
            if repo.is_kustomization_file(entry.file) {
                if kustomize_files {
                    p.kustomize_file(parent_dir(path), root);
                }
            } else if api_version.is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/")) {
                p.flux_patches(root, 0);
            }
        }
        for (fid, f) in repo.files.iter().enumerate() {
            if !p.files.contains(&*f.path) {
                continue;
            }
            for root in repo.docs_of(fid).filter_map(|d| d.doc.root()) {
                p.patch_doc(root, None, 0);
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

    fn kustomize_file(&mut self, dir: &str, root: NodeRef<'_>) {
        for item in root.get("patches").map(|n| n.items()).unwrap_or_default() {
            let target = item.str_at(&["target", "kind"]);
            if let Some(f) = item.str_at(&["path"]) {
                self.add_file(dir, f);
            }
            if let Some(text) = item.str_at(&["patch"]) {
                self.inline(text, target, 0);
            }
        }
        for item in root
            .get("patchesStrategicMerge")
            .map(|n| n.items())
            .unwrap_or_default()
        {
            if let Some(s) = item.as_str() {
                if s.contains('\n') {
                    self.inline(s, None, 0);
                } else {
                    self.add_file(dir, s);
                }
            }
        }
        for item in root
            .get("patchesJson6902")
            .map(|n| n.items())
            .unwrap_or_default()
        {
            if let Some(f) = item.str_at(&["path"]) {
                self.add_file(dir, f);
            }
        }
    }

    fn add_file(&mut self, dir: &str, reference: &str) {
        if let Some(p) = crate::fs::join_normalized(dir, reference.trim()) {
            self.files.insert(p);
        }
    }

    fn flux_patches(&mut self, root: NodeRef<'_>, depth: usize) {
        for item in root
            .path(&["spec", "patches"])
            .map(|n| n.items())
            .unwrap_or_default()
        {
            if let Some(text) = item.str_at(&["patch"]) {
                self.inline(text, item.str_at(&["target", "kind"]), depth);
            }
        }
    }

    fn inline(&mut self, text: &str, target: Option<&str>, depth: usize) {
        if depth >= PATCH_DEPTH {
            return;
        }
        let stream = parse_stream(text);
        for doc in &stream.documents {
            if let Some(root) = doc.root() {
                self.patch_doc(root, target, depth);
            }
        }
    }

    /// One patch document: a strategic-merge fragment or a list of JSON 6902 operations.
    fn patch_doc(&mut self, root: NodeRef<'_>, target: Option<&str>, depth: usize) {
        let kind = target
            .or_else(|| root.str_at(&["kind"]))
            .unwrap_or("*")
            .to_string();
        let mut paths = Vec::new();
        if root.is_sequence() {
            for op in root.items() {
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
                self.flux_patches(root, depth + 1);
            }
        }
        self.fields.entry(kind).or_default().extend(paths);
    }
}

fn collect_paths(node: NodeRef<'_>, prefix: String, out: &mut Vec<String>, depth: usize) {
    if depth > 8 || !matches!(node.kind(), Kind::Mapping(_)) {
        return;
    }
    for (k, v) in node.entries() {
        let Some(k) = k.as_str() else { continue };
        let p = if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        };
        out.push(p.clone());
        collect_paths(v, p, out, depth + 1);
    }
}
