use std::collections::HashMap;

use crate::diag::{Diagnostic, FileId, Severity};
use crate::flux_api::{self, KindSchema, Required};
use crate::model::index::{Repository, parent_dir};
use crate::rules::schema::{FluxDoc, flux_doc, flux_doc_of};
use crate::rules::{Rule, RuleMeta};
use crate::yaml::{Document, NodeRef};

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

What Flux applies is judged: each object as every build that applies it renders it (the
kustomize build of the path, with its patches, and the Flux Kustomization's own `spec.patches`,
as the Kustomization's parent renders it), reported once at the object's document. A field an
overlay's patch sets is set where that overlay is applied, and missing where another overlay
applies the object without it; a patch that removes a field removes it. A document used as a
patch is a fragment, not an object. In a repository without clusters, the builds are those of
its own Flux Kustomizations and root kustomizations, and a file no build includes is judged as
written; there the model cannot tell which parent applies an object (a parent reading an OCI
artifact pushed from a sub-directory), so a field some Flux Kustomization's `spec.patches`
set for the kind is taken as set.

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
        // Nothing to judge (and, without clusters, no build to run) without a Flux object.
        if !repo
            .objects
            .iter()
            .any(|o| flux_api::schema(&o.api_version, &o.kind).is_some())
        {
            return;
        }
        // What Flux applies decides: every rendered copy of a Flux object (after kustomize and
        // the Flux Kustomization's own patches), grouped by the document it was built from, so
        // one source line gives one finding whatever the number of builds.
        // Per document: its problems with the cluster of each copy, and every cluster with one.
        // Without clusters the model cannot always tell which Flux Kustomization applies
        // another (a parent often reads an OCI artifact pushed from a sub-directory), so a
        // field a Flux Kustomization's `spec.patches` set may be set by the parent that applies
        // the object: excused. Kustomize overlays' patches are in the builds already.
        let excuse = repo
            .clusters()
            .is_empty()
            .then(|| crate::rules::schema::patch_heuristic::Patches::collect_flux(repo));
        let patched = |kind: &str, path: &[&str]| {
            excuse
                .as_ref()
                .is_some_and(|p| p.sets(kind, &path.join(".")))
        };
        type Found<'r> = (Vec<(Problem, &'r str)>, Vec<&'r str>);
        let mut judged: HashMap<(FileId, u32), Found<'_>> = HashMap::new();
        let mut order: Vec<(FileId, u32)> = Vec::new();
        for a in repo.judged() {
            let o = &a.object;
            let Some(schema) = flux_api::schema(&o.api_version, &o.kind) else {
                continue;
            };
            let at = (o.root.origin.file as FileId, o.root.origin.span.start);
            let (list, all) = judged.entry(at).or_insert_with(|| {
                order.push(at);
                (Vec::new(), Vec::new())
            });
            all.push(a.cluster.as_str());
            let present = |path: &[&str]| {
                o.root.path(path).is_some_and(|n| !n.is_null()) || patched(&o.kind, path)
            };
            for p in problems(schema, &present) {
                list.push((p, a.cluster.as_str()));
            }
        }
        for at in order {
            let (found, all) = &judged[&at];
            if found.is_empty() {
                continue;
            }
            let Some((doc, fd)) = source_doc(repo, at) else {
                continue;
            };
            let mut seen: Vec<&Problem> = Vec::new();
            for (p, _) in found {
                if seen.contains(&p) {
                    continue;
                }
                seen.push(p);
                let clusters: Vec<&str> = found
                    .iter()
                    .filter(|(q, _)| q == p)
                    .map(|(_, c)| *c)
                    .collect();
                // Named only where the clusters applying the object disagree.
                let everywhere = all.iter().all(|c| clusters.contains(c));
                let phrase = if everywhere {
                    String::new()
                } else {
                    crate::rules::clusters_phrase(&clusters, crate::rules::Phrase::AppliesIt)
                };
                out.push(diagnose(at.0, doc, fd, p, &phrase));
            }
        }
        // Without clusters, what no build holds (a loose file, a base nothing includes) is
        // judged as written: the candidates the parse marked.
        let mark = crate::rules::mark_of(&META);
        if !repo.clusters().is_empty() {
            return;
        }
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
            let start = fd.root.span().start;
            if judged.contains_key(&(entry.file, start)) || tree.is_patch_file(entry.file) {
                continue;
            }
            // Beside a kustomization file that does not list it, a file is never applied: most
            // often a patch whose `path:` has a typo (FV404 reports that), not an object.
            let path = repo.path(entry.file);
            if !tree.loaded_as_objects(entry.file)
                && crate::model::index::kustomization_file_in(repo, parent_dir(path)).is_some()
            {
                continue;
            }
            let lookups = Lookups {
                root: fd.root,
                known: Default::default(),
            };
            let kind = repo.object_of_doc(slot).map_or("", |o| o.kind.as_str());
            let present = |path: &'static [&'static str]| {
                lookups.get(path).is_some_and(|n| !n.is_null()) || patched(kind, path)
            };
            for p in problems_static(fd.schema, &present) {
                out.push(diagnose(entry.file, &entry.doc, fd, &p, ""));
            }
        }
    }
}

/// Whether the document has a finding as written: asked once per document while it is parsed,
/// so a repository without clusters reads only the few documents that answer yes.
pub fn candidate(_doc: &Document, fd: FluxDoc<'_>) -> bool {
    let lookups = Lookups {
        root: fd.root,
        known: Default::default(),
    };
    let present = |path: &'static [&'static str]| lookups.get(path).is_some_and(|n| !n.is_null());
    !problems_static(fd.schema, &present).is_empty()
}

/// What an object lacks (or has twice) against its kind's required fields.
#[derive(Clone, Debug, PartialEq)]
enum Problem {
    /// No `spec` at all: the top-level required fields it lacks.
    NoSpec(Vec<String>),
    Missing(&'static [&'static str]),
    Both(&'static [&'static str], &'static [&'static str]),
    Neither(&'static [&'static str], &'static [&'static str]),
}

fn problems(schema: &KindSchema, present: &dyn Fn(&[&str]) -> bool) -> Vec<Problem> {
    problems_static(schema, &|p: &'static [&'static str]| present(p))
}

fn problems_static(
    schema: &KindSchema,
    present: &dyn Fn(&'static [&'static str]) -> bool,
) -> Vec<Problem> {
    let mut out = Vec::new();
    if !present(&["spec"]) {
        let missing: Vec<String> = schema
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
        if !missing.is_empty() {
            out.push(Problem::NoSpec(missing));
        }
        return out;
    }
    let parent_present =
        |path: &'static [&'static str]| path.len() <= 1 || present(&path[..path.len() - 1]);
    for r in schema.required {
        match *r {
            Required::Field(path) => {
                if parent_present(path) && !present(path) {
                    out.push(Problem::Missing(path));
                }
            }
            Required::ExactlyOne(a, b) => {
                if !parent_present(a) {
                    continue;
                }
                match (present(a), present(b)) {
                    (true, true) => out.push(Problem::Both(a, b)),
                    (false, false) => out.push(Problem::Neither(a, b)),
                    _ => {}
                }
            }
        }
    }
    out
}

/// The source document a rendered object was built from, and its Flux kind.
fn source_doc(repo: &Repository, (file, start): (FileId, u32)) -> Option<(&Document, FluxDoc<'_>)> {
    repo.docs_of(file).find_map(|d| {
        let root = d.doc.root()?;
        if root.span().start != start {
            return None;
        }
        Some((&d.doc, flux_doc(&d.doc)?))
    })
}

/// The finding for `p`, at the source document (its `spec` key, else its `kind`).
fn diagnose(
    file: FileId,
    doc: &Document,
    fd: FluxDoc<'_>,
    p: &Problem,
    applied: &str,
) -> Diagnostic {
    let kind = fd.schema.kind;
    let root = fd.root;
    let name = root.str_at(&["metadata", "name"]).unwrap_or("");
    let what = if name.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} `{name}`")
    };
    let span = root
        .entry("spec")
        .or_else(|| root.entry("kind"))
        .map(|(k, _)| k.span())
        .unwrap_or(doc.span);
    match p {
        Problem::NoSpec(missing) => Diagnostic::new(
            &META,
            file,
            span,
            format!(
                "{what} has no `spec`{applied}: it lacks the required {}; the API server rejects it",
                missing.join(", ")
            ),
        )
        .primary_label("no spec")
        .help("add a `spec` with the required fields"),
        Problem::Missing(path) => {
            let dotted = path.join(".");
            let mut d = Diagnostic::new(
                &META,
                file,
                span,
                format!(
                    "{what} lacks the required field `{dotted}`{applied}: the API server rejects the object"
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
            d
        }
        Problem::Both(a, b) => {
            let (da, db) = (a.join("."), b.join("."));
            let mut d = Diagnostic::new(
                &META,
                file,
                span,
                format!("{what} sets both `{da}` and `{db}`{applied}; the API accepts exactly one"),
            )
            .primary_label("both set")
            .help(format!("keep either `{da}` or `{db}`"));
            for p in [a, b] {
                if let Some(k) = parent_key(root, p) {
                    d = d.label(file, k.span(), format!("`{}` here", p.join(".")));
                }
            }
            d
        }
        Problem::Neither(a, b) => {
            let (da, db) = (a.join("."), b.join("."));
            Diagnostic::new(
                &META,
                file,
                span,
                format!(
                    "{what} sets neither `{da}` nor `{db}`{applied}: the API server rejects the object"
                ),
            )
            .primary_label("no chart source")
            .help(format!("set exactly one of `{da}` and `{db}`"))
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
        let base_kust = "resources: [hr.yaml]\n";
        let f = findings_of(
            "FV502",
            &[
                ("base/hr.yaml", base),
                ("base/kustomization.yaml", base_kust),
                ("staging/values.yaml", patch),
                ("staging/kustomization.yaml", kust),
            ],
        );
        assert!(f.is_empty(), "{f:?}");
        // What each build holds decides, not a patch somewhere: an overlay without the patch
        // applies the HelmRelease without an interval (the patch heuristic excused it).
        let f = findings_of(
            "FV502",
            &[
                ("base/hr.yaml", base),
                ("base/kustomization.yaml", base_kust),
                ("staging/values.yaml", patch),
                ("staging/kustomization.yaml", kust),
                ("dev/kustomization.yaml", "resources: [../base]\n"),
            ],
        );
        assert_eq!(f, vec![("base/hr.yaml".into(), 5, 1)]);
    }

    #[test]
    fn a_patch_that_removes_a_field_is_judged() {
        // The HelmRelease as written is complete; the overlay's JSON patch removes its
        // interval, so what the cluster applies lacks it (the heuristic never looked).
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  interval: 5m
  chartRef:
    kind: OCIRepository
    name: podinfo
";
        let kust = "resources: [hr.yaml]
patches:
  - target:
      kind: HelmRelease
    patch: |
      - op: remove
        path: /spec/interval
";
        let apps = crate::rules::testing::APPS_KUSTOMIZATION;
        let f = findings_of(
            "FV502",
            &[
                (
                    "clusters/production/flux-system/gotk-sync.yaml",
                    crate::rules::testing::BOOTSTRAP_SYNC,
                ),
                ("clusters/production/apps.yaml", apps),
                ("apps/kustomization.yaml", kust),
                ("apps/hr.yaml", hr),
            ],
        );
        assert_eq!(f, vec![("apps/hr.yaml".into(), 5, 1)]);
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
    fn a_parents_patches_reach_its_childrens_builds() {
        // The home-ops pattern: the parent's spec.patches add spec.patches to every child
        // Kustomization, and those set the interval of every HelmRelease the child applies.
        let parent = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./apps
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
        let child = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 1h
  path: ./apps/podinfo/app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
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
        let files = |extra: &[(&'static str, &'static str)]| {
            let mut f = vec![
                (
                    "clusters/production/flux-system/gotk-sync.yaml",
                    crate::rules::testing::BOOTSTRAP_SYNC,
                ),
                ("clusters/production/apps.yaml", parent),
                ("apps/kustomization.yaml", "resources: [podinfo/ks.yaml]\n"),
                ("apps/podinfo/ks.yaml", child),
                ("apps/podinfo/app/hr.yaml", hr),
            ];
            f.extend_from_slice(extra);
            findings_of("FV502", &f)
        };
        assert_eq!(files(&[]), vec![]);
        // A HelmRelease the cluster applies directly, not through a patched child, lacks it.
        assert_eq!(
            files(&[("clusters/production/hr.yaml", hr)]),
            vec![("clusters/production/hr.yaml".into(), 5, 1)]
        );
    }
}
