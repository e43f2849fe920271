use std::collections::{HashMap, HashSet};

use crate::diag::{Diagnostic, FileId, Severity};
use crate::flux_api::Required;
use crate::index::{Repository, parent_dir};
use crate::rules::schema::{FluxDoc, flux_doc_of};
use crate::rules::{Rule, RuleMeta};
use crate::yaml::{Document, Kind, NodeRef, parse_stream};

pub struct RequiredFieldMissing;

pub static META: RuleMeta = RuleMeta {
    code: "FV502",
    name: "required-field-missing",
    severity: Severity::Error,
    summary: "A Flux object lacks a field its CRD requires.",
    docs: r#"## What it does
Reports a Flux object without a field its CRD marks as required:
- Kustomization: `spec.interval`, `spec.prune`, `spec.sourceRef` (with `kind` and `name`).
- HelmRelease: `spec.interval`; exactly one of `spec.chart` and `spec.chartRef`; with `chart`,
  `chart.spec.chart` and `chart.spec.sourceRef.name`; with `chartRef`, its `kind` and `name`.
- GitRepository, OCIRepository: `spec.interval`, `spec.url`. HelmRepository: `spec.url`.
- HelmChart: `spec.chart`, `spec.interval`, `spec.sourceRef` (with `kind` and `name`).
- Bucket: `spec.bucketName`, `spec.endpoint`, `spec.interval`.

A document that a `kustomization.yaml` uses as a patch is a fragment, not an object, and is not
checked; a field that some patch in the repository sets on that kind (a patch file, an inline
kustomize patch or a Flux Kustomization's `spec.patches`) is taken as set.

## Why is this bad?
The API server rejects the object ("spec.interval: Required value"), so the Kustomization applying
it fails and nothing else in its path is reconciled.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  interval: 10m
  path: ./apps
  sourceRef:
    kind: GitRepository
    name: flux-system
```

## Use instead
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
```
"#,
};

impl Rule for RequiredFieldMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn marks(&self, cx: &crate::rules::DocContext<'_>) -> bool {
        cx.flux.is_some_and(|fd| candidate(cx.doc, fd))
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        // Patches only excuse: a document without a candidate finding gets none, and a tree
        // with no candidate needs no patch collected.
        let mark = crate::rules::mark_of(&META);
        if !repo.docs.iter().any(|d| d.marks & mark != 0) {
            return;
        }
        let patches = Patches::collect(repo);
        let tree = repo.reconcile_tree();
        for (slot, entry) in repo
            .docs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.marks & mark != 0)
        {
            let Some(fd) = flux_doc_of(repo.object_of_doc(slot), &entry.doc) else {
                continue;
            };
            let path = repo.path(entry.file);
            if patches.files.contains(path) {
                continue;
            }
            // Beside a kustomization file that does not list it, a file is never applied: most
            // often a patch whose `path:` has a typo (FV404 reports that), not an object.
            if !tree.loaded_as_objects(entry.file)
                && crate::reconcile::kustomization_file_in(repo, parent_dir(path)).is_some()
            {
                continue;
            }
            check_doc(entry.file, &entry.doc, fd, &patches, out);
        }
    }
}

/// Whether the document has a finding before patches are considered: a superset of what
/// [`RequiredFieldMissing`] reports, since patches only excuse. Asked once per document while
/// it is parsed, so the repository pass reads only the few documents that answer yes.
pub fn candidate(doc: &Document, fd: FluxDoc<'_>) -> bool {
    let mut out = Vec::new();
    check_doc(0, doc, fd, &Patches::default(), &mut out);
    !out.is_empty()
}

fn check_doc(
    file: FileId,
    doc: &Document,
    fd: FluxDoc<'_>,
    patches: &Patches,
    out: &mut Vec<Diagnostic>,
) {
    let kind = fd.schema.kind;
    let root = fd.root;
    let name = root.str_at(&["metadata", "name"]).unwrap_or("");
    // Only findings need it.
    let what = || {
        if name.is_empty() {
            kind.to_string()
        } else {
            format!("{kind} `{name}`")
        }
    };
    let spec_key = root.entry("spec").map(|(k, _)| k);
    let lookups = Lookups {
        root,
        known: Default::default(),
    };
    let present = |path: &'static [&'static str]| lookups.get(path).is_some_and(|n| !n.is_null());
    let parent_present =
        |path: &'static [&'static str]| path.len() <= 1 || present(&path[..path.len() - 1]);

    if !present(&["spec"]) {
        if patches.sets(kind, "spec") {
            return;
        }
        let missing: Vec<String> = fd
            .schema
            .required
            .iter()
            .filter_map(|r| match r {
                Required::Field(p) if p.len() == 2 => Some(format!("`{}`", p.join("."))),
                Required::ExactlyOne(a, b) if a.len() == 2 => {
                    Some(format!("`{}` or `{}`", a.join("."), b.join(".")))
                }
                _ => None,
            })
            .collect();
        if missing.is_empty() {
            return;
        }
        let span = spec_key
            .or_else(|| root.entry("kind").map(|(k, _)| k))
            .map(|n| n.span())
            .unwrap_or(doc.span);
        out.push(
            Diagnostic::new(
                &META,
                file,
                span,
                format!(
                    "{} has no `spec`: it lacks the required {}; the API server rejects it",
                    what(),
                    missing.join(", ")
                ),
            )
            .primary_label("no spec")
            .help("add a `spec` with the required fields"),
        );
        return;
    }
    let Some(spec_key) = spec_key else { return };

    for r in fd.schema.required {
        match r {
            Required::Field(path) => {
                if !parent_present(path) || present(path) || patches.sets(kind, &path.join(".")) {
                    continue;
                }
                let dotted = path.join(".");
                let mut d = Diagnostic::new(
                    &META,
                    file,
                    spec_key.span(),
                    format!(
                        "{} lacks the required field `{dotted}`: the API server rejects the object",
                        what()
                    ),
                )
                .primary_label(format!("`{dotted}` missing"))
                .help(format!("set `{dotted}`"));
                let parent = &path[..path.len() - 1];
                if parent.len() > 1
                    && let Some(pk) = parent_key(root, parent)
                {
                    d = d.label(
                        file,
                        pk.span(),
                        format!("`{}` is set here without it", path[path.len() - 1]),
                    );
                }
                out.push(d);
            }
            Required::ExactlyOne(a, b) => {
                if !parent_present(a) {
                    continue;
                }
                let (da, db) = (a.join("."), b.join("."));
                let (has_a, has_b) = (present(a), present(b));
                if has_a && has_b {
                    let mut d = Diagnostic::new(
                        &META,
                        file,
                        spec_key.span(),
                        format!(
                            "{} sets both `{da}` and `{db}`; the API accepts exactly one",
                            what()
                        ),
                    )
                    .primary_label("both set")
                    .help(format!("keep either `{da}` or `{db}`"));
                    for p in [a, b] {
                        if let Some(k) = parent_key(root, p) {
                            d = d.label(file, k.span(), format!("`{}` here", p.join(".")));
                        }
                    }
                    out.push(d);
                } else if !has_a && !has_b && !patches.sets(kind, &da) && !patches.sets(kind, &db) {
                    out.push(
                        Diagnostic::new(
                            &META,
                            file,
                            spec_key.span(),
                            format!("{} sets neither `{da}` nor `{db}`: the API server rejects the object", what()),
                        )
                        .primary_label("no chart source")
                        .help(format!("set exactly one of `{da}` and `{db}`")),
                    );
                }
            }
        }
    }
}

/// Path lookups in one document, remembered: the required fields of a kind share prefixes
/// (`spec.chart.spec.sourceRef…`), and each check walked from the root again.
struct Lookups<'a> {
    root: NodeRef<'a>,
    known: std::cell::RefCell<Vec<(&'static [&'static str], Option<NodeRef<'a>>)>>,
}

impl<'a> Lookups<'a> {
    /// `root.path(path)`.
    fn get(&self, path: &'static [&'static str]) -> Option<NodeRef<'a>> {
        let Some((last, init)) = path.split_last() else {
            return Some(self.root);
        };
        if let Some(&(_, n)) = self.known.borrow().iter().find(|(p, _)| *p == path) {
            return n;
        }
        let found = self.get(init).and_then(|parent| parent.get(last));
        self.known.borrow_mut().push((path, found));
        found
    }
}

/// The key node of the mapping entry at `path`.
fn parent_key<'a>(root: NodeRef<'a>, path: &[&str]) -> Option<NodeRef<'a>> {
    let (last, init) = path.split_last()?;
    let parent = if init.is_empty() {
        root
    } else {
        root.path(init)?
    };
    parent.entry(last).map(|(k, _)| k)
}

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
                p.kustomize_file(parent_dir(path), root);
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

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    #[test]
    fn fires_on_missing_fields() {
        let src = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  interval: 10m
  sourceRef:
    kind: GitRepository
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: hr
spec:
  interval: 10m
  chart:
    spec:
      sourceRef:
        kind: HelmRepository
        name: repo
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: g
";
        assert_eq!(
            findings_of("FV502", &[("a.yaml", src)]),
            vec![
                ("a.yaml".into(), 5, 1),
                ("a.yaml".into(), 5, 1),
                ("a.yaml".into(), 14, 1),
                ("a.yaml".into(), 23, 1),
            ]
        );
    }

    #[test]
    fn exactly_one_chart_source() {
        let src = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: hr
spec:
  interval: 10m
";
        assert_eq!(
            findings_of("FV502", &[("a.yaml", src)]),
            vec![("a.yaml".into(), 5, 1)]
        );
    }

    #[test]
    fn both_chart_and_chart_ref() {
        let src = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: hr
spec:
  interval: 10m
  chartRef:
    kind: OCIRepository
    name: hr
  chart:
    spec:
      chart: hr
      sourceRef:
        name: repo
";
        assert_eq!(
            findings_of("FV502", &[("a.yaml", src)]),
            vec![("a.yaml".into(), 5, 1)]
        );
    }

    #[test]
    fn patches_are_fragments_and_supply_fields() {
        let base = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chartRef:
    kind: OCIRepository
    name: podinfo
";
        let patch = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  interval: 5m
  values:
    replicas: 2
";
        let kust = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base
patches:
  - path: values.yaml
    target:
      kind: HelmRelease
";
        let f = findings_of(
            "FV502",
            &[
                ("base/hr.yaml", base),
                ("staging/values.yaml", patch),
                ("staging/kustomization.yaml", kust),
            ],
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn a_file_its_kustomization_does_not_list_is_not_applied() {
        let partial = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  values:
    replicas: 2
";
        let kust = |list: &str| {
            format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {list}\npatches:\n  - path: value.yaml\n"
            )
        };
        let quiet = kust("ns.yaml");
        let f = findings_of(
            "FV502",
            &[
                ("staging/values.yaml", partial),
                ("staging/kustomization.yaml", &quiet),
            ],
        );
        assert!(f.is_empty(), "{f:?}");
        let listed = kust("values.yaml");
        assert_eq!(
            findings_of(
                "FV502",
                &[
                    ("staging/values.yaml", partial),
                    ("staging/kustomization.yaml", &listed),
                ],
            ),
            vec![("staging/values.yaml".into(), 5, 1); 2]
        );
        assert_eq!(
            findings_of("FV502", &[("staging/values.yaml", partial)]),
            vec![("staging/values.yaml".into(), 5, 1); 2]
        );
    }

    #[test]
    fn flux_inline_patches_supply_fields() {
        let parent = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  interval: 1h
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  patches:
    - patch: |-
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: _
        spec:
          patches:
            - patch: |-
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata:
                  name: _
                spec:
                  interval: 30m
              target:
                kind: HelmRelease
      target:
        kind: Kustomization
";
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: hr
spec:
  chartRef:
    kind: OCIRepository
    name: hr
";
        let f = findings_of("FV502", &[("ks.yaml", parent), ("app/hr.yaml", hr)]);
        assert!(f.is_empty(), "{f:?}");
    }
}
