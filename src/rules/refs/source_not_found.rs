use std::collections::HashMap;

use crate::diag::{Diagnostic, Severity};
use crate::flux_api::FluxKind;
use crate::model::index::{Object, Repository};
use crate::rules::{Rule, RuleMeta};

use super::{Namespaces, is_templated, may_meet, source_refs};
use crate::rules::templates::{declares_kind, names};

pub struct SourceNotFound;

pub static META: RuleMeta = RuleMeta {
    code: "FV401",
    name: "source-not-found",
    severity: Severity::Error,
    summary: "A `sourceRef`/`chartRef` names no source defined in the repository.",
    docs: r#"## What it does
Resolves every Kustomization and ImageUpdateAutomation `spec.sourceRef`, HelmRelease
`spec.chart.spec.sourceRef` and `spec.chartRef`, and HelmChart `spec.sourceRef` against the
sources defined in the repository. The namespace defaults to the referring object's. Sources
that live outside Git are declared in `.fluxvet.yaml`:

```yaml
external_sources:
  - {kind: GitRepository, name: platform, namespace: flux-system}
```

In a repository with clusters, a source defined in a file that no cluster's build includes
(its kustomization entry commented out, say) is not in any cluster: a reference to it is
reported too, with the place it is defined. A source defined in a YAML template beside the
checked files (a template repository's `{% if gpu %}nvidia.yaml{% endif %}`, a
`sources.yaml.j2`) exists once the template is rendered: not reported.

The bootstrap source `flux-system/flux-system`, sources a FluxInstance syncs from, and
ExternalArtifacts (always created by a controller) count as present. So does, in a repository
with no cluster in its files, a source that Flux Kustomizations read paths of this repository
from: whatever sets up the sync outside the files creates it, under any name (`az
k8s-configuration flux create --name gitops-repo` makes the GitRepository `gitops-repo`), unless
a source of that kind and name is defined in another namespace. So does a source that a Helm
chart here declares in its `templates/` under that name, when a HelmRelease installs the chart
by path (`chart: ./charts/tenant`): the release creates it. A source counts as
the builds apply it: with the name post-build substitution gives it and the namespace its
kustomization or Flux Kustomization sets; a reference that such a source may meet while its
name is still a `${VAR}` (the values are not in Git) is not judged. Names with `${VAR}` are
skipped.

HelmRelease `valuesFrom` and Kustomization `postBuild.substituteFrom` entries (ConfigMaps and
Secrets that are not `optional`) are checked too, where the target is clearly meant to be in Git:
the name exists as the other kind (and no reference asks for it as that kind too), or is a typo
(at most two edits) of exactly one ConfigMap or Secret the repository defines or generates (an
ObjectBucketClaim defines a ConfigMap and a Secret of its name). A name with nothing close in Git
may be created outside Git (external-secrets, another controller) and is not reported.

## Why is this bad?
The referring object never becomes ready: Flux reports `source '…' not found` and nothing it
manages is applied or upgraded.

## Example
```yaml
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  chartRef:
    kind: OCIRepository
    name: podinfo   # defined as `podinfo-chart`
```

## Use instead
```yaml
spec:
  chartRef:
    kind: OCIRepository
    name: podinfo-chart
```
"#,
};

impl Rule for SourceNotFound {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            // The references (and config_refs' valuesFrom/substituteFrom), the sources they
            // name by kind, and what creates sources: FluxInstances and ResourceSets.
            flux_kinds: &[
                FluxKind::Kustomization,
                FluxKind::HelmRelease,
                FluxKind::HelmChart,
                FluxKind::ImageUpdateAutomation,
                FluxKind::GitRepository,
                FluxKind::OCIRepository,
                FluxKind::HelmRepository,
                FluxKind::Bucket,
                FluxKind::ExternalArtifact,
                FluxKind::FluxInstance,
                FluxKind::ResourceSet,
            ],
            core_kinds: &[
                crate::flux_api::CoreKind::ConfigMap,
                crate::flux_api::CoreKind::Secret,
            ],
            ..crate::rules::Reads::NOTHING
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        super::config_refs::check(repo, &META, out);
        let ns = Namespaces::new(repo);
        let templated_kinds = templated_source_kinds(repo);
        let templates = std::sync::OnceLock::new();
        // (kind, name) → Flux objects in definition order, built once: a scan of every object
        // of the kind for each reference is quadratic on a large tree.
        let mut by_name: HashMap<(&str, &str), Vec<&Object>> = HashMap::new();
        // In a repository with clusters, a source in a file no cluster applies is not in any
        // cluster: a reference to it fails as if it were not in Git at all.
        let tree = repo.reconcile_tree();
        let mut unapplied: HashMap<(&str, &str), Vec<&Object>> = HashMap::new();
        for o in &repo.objects {
            if o.group().ends_with("toolkit.fluxcd.io") {
                let map = if tree.reaches(repo, o.file) {
                    &mut by_name
                } else {
                    &mut unapplied
                };
                map.entry((&o.kind, &o.name)).or_default().push(o);
            }
        }
        // The sources the builds apply, as applied: a name or namespace that post-build
        // substitution, a kustomization's `namespace:` or a `targetNamespace` sets is read
        // there (`name: ${CHART_NAME:=app-template}` in a component many apps include).
        // A name still templated there (the substitution's values are not in Git) could be
        // the one referenced: such a reference is not judged.
        let mut rendered: HashMap<(&str, &str), Vec<Option<&str>>> = HashMap::new();
        let mut templated: HashMap<&str, Vec<Option<&str>>> = HashMap::new();
        for a in repo.judged() {
            let o = &a.object;
            if !o.api_version.starts_with("source.toolkit.fluxcd.io/") {
                continue;
            }
            let at = o.namespace.as_deref();
            if is_templated(&o.name) {
                templated.entry(&o.kind).or_default().push(at);
            } else {
                rendered.entry((&o.kind, &o.name)).or_default().push(at);
            }
        }
        let met = |at: Option<&Vec<Option<&str>>>, wanted: &Option<Vec<&str>>| {
            at.is_some_and(|at| at.iter().any(|n| may_meet(wanted, &n.map(|n| vec![n]))))
        };
        let chart_templates = std::sync::OnceLock::new();
        for r in source_refs(repo) {
            let Some(kind) = r.kind() else { continue };
            let Some(name_node) = r.node.get("name") else {
                continue;
            };
            let Some(name) = name_node.as_str() else {
                continue;
            };
            if is_templated(kind)
                || is_templated(name)
                || name.is_empty()
                || !r.allows(kind)
                || kind == FluxKind::ExternalArtifact.name()
                || templated_kinds.iter().any(|k| k == kind)
            {
                continue;
            }
            let explicit_ns = r
                .node
                .str_at(&["namespace"])
                .filter(|_| r.cross_namespace)
                .filter(|s| !s.is_empty());
            if explicit_ns.is_some_and(is_templated) {
                continue;
            }
            // A namespace a parent's patch sets on the reference where it is applied (every
            // child Kustomization's `sourceRef.namespace: flux-system`) is the one Flux reads.
            let wanted: Option<Vec<&str>> = match patched_namespace(repo, &r, explicit_ns) {
                Some(n) => Some(vec![n]),
                None => match explicit_ns {
                    Some(n) => Some(vec![n]),
                    None => ns.of(r.referrer),
                },
            };
            if is_bootstrap(kind, name, &wanted)
                || is_external(repo, kind, name, &wanted)
                || is_sync_made_outside(repo, kind, name, &wanted)
            {
                continue;
            }
            if kind == FluxKind::HelmChart.name() && is_generated_chart(repo, name) {
                continue;
            }
            if replaced_where_applied(repo, &r, kind, name) {
                continue;
            }
            let candidates: &[&Object] = by_name.get(&(kind, name)).map_or(&[], Vec::as_slice);
            if candidates
                .iter()
                .any(|c| may_meet(&wanted, &ns.of_source(c)))
                || met(rendered.get(&(kind, name)), &wanted)
                || met(templated.get(kind), &wanted)
            {
                continue;
            }
            // Defined in a YAML template beside the checked files (a template repository's
            // `{% if gpu %}nvidia.yaml{% endif %}`, a script's `sources.yaml.tmpl`). Asked only
            // for a source not defined here: finding the templates lists every directory.
            if templates
                .get_or_init(|| crate::rules::templates::yaml_templates(repo))
                .iter()
                .any(|t| declares_kind(t, kind) && names(t, name))
            {
                continue;
            }
            // Created by a chart here that a HelmRelease installs, in a namespace its values
            // choose.
            if chart_templates
                .get_or_init(|| local_chart_templates(repo))
                .iter()
                .any(|doc| declares_kind(doc, kind) && names(doc, name))
            {
                continue;
            }
            let where_ = match &wanted {
                Some(w) if w.len() == 1 => format!(" in namespace `{}`", w[0]),
                _ => String::new(),
            };
            let mut d = Diagnostic::new(
                &META,
                r.referrer.file,
                name_node.span(),
                format!(
                    "{} `{}` references {kind} `{name}`{where_}, which is not defined in the repository: Flux reports the source as not found and never reconciles it",
                    r.referrer.kind, r.referrer.name
                ),
            )
            .primary_label(format!("no {kind} with this name"));
            let not_applied = unapplied
                .get(&(kind, name))
                .and_then(|v| v.iter().find(|c| may_meet(&wanted, &ns.of_source(c))));
            if let Some(c) = not_applied {
                // A referrer that only a root applied by hand reaches is in no cluster
                // either: whatever applies that root by hand may apply the source too (a
                // cluster's own Kustomization reaching both through a `${VAR}` path).
                let clusters = tree.clusters_of(r.referrer.file);
                if !clusters.is_empty()
                    && clusters
                        .iter()
                        .all(|&k| k == crate::model::reconcile::ROOT_BY_HAND)
                {
                    continue;
                }
                d = Diagnostic::new(
                    &META,
                    r.referrer.file,
                    name_node.span(),
                    format!(
                        "{} `{}` references {kind} `{name}`{where_}, which is defined in `{}` but applied by no cluster: Flux reports the source as not found and never reconciles it",
                        r.referrer.kind,
                        r.referrer.name,
                        repo.path(c.file)
                    ),
                )
                .primary_label(format!("no cluster applies this {kind}"))
                .label(c.file, c.name_span, "defined here, in a file no cluster's build includes")
                .help(format!(
                    "include `{}` in the kustomization that should apply it (is its entry commented out?)",
                    repo.path(c.file)
                ));
            } else if let Some(c) = candidates.first() {
                let other = ns
                    .of_source(c)
                    .and_then(|v| v.first().map(|s| s.to_string()));
                d = d.label(c.file, c.name_span, "defined here, in another namespace");
                d = d.help(match other {
                    Some(o) => format!("set `{}.namespace: {o}`", r.field),
                    None => format!("set `{}.namespace` to the source's namespace", r.field),
                });
            } else {
                let similar = repo.objects.iter().find(|o| {
                    o.name == name
                        && o.kind != kind
                        && o.group() == "source.toolkit.fluxcd.io"
                        && r.allows(&o.kind)
                });
                d = d.help(match similar {
                    Some(o) => format!("`{name}` is defined as a {}: set `{}.kind: {}`", o.kind, r.field, o.kind),
                    None => format!(
                        "define the {kind}, fix the name, or declare it under `external_sources` in .fluxvet.yaml if it lives outside Git"
                    ),
                });
            }
            out.push(d);
        }
    }
}

/// Whether every copy the clusters apply of the referrer names another source than the file:
/// its parent's `spec.patches` replaced the reference (sob/home-ops' apps name
/// `home-kubernetes`, and `cluster-apps` gives every child `sourceRef: flux-system`). What is
/// written there is never read by Flux.
fn replaced_where_applied(
    repo: &Repository,
    r: &super::SourceRef<'_>,
    kind: &str,
    name: &str,
) -> bool {
    let path: Vec<&str> = r.field.split('.').collect();
    let copies = repo.judged_copies(r.referrer);
    !copies.is_empty()
        && copies.iter().all(|c| {
            let rendered = c.object.root.path(&path);
            let rendered_kind = rendered
                .and_then(|n| n.str_at(&["kind"]))
                .or(r.default_kind.map(FluxKind::name));
            let rendered_name = rendered.and_then(|n| n.str_at(&["name"]));
            (rendered_kind, rendered_name) != (Some(kind), Some(name))
        })
}

/// The namespace every copy the clusters apply of the referrer gives the reference, when its
/// parent's `spec.patches` set one the file does not write (imerkle/home-ops' `cluster-apps`
/// gives every child `sourceRef.namespace: flux-system`).
fn patched_namespace<'r>(
    repo: &'r Repository,
    r: &super::SourceRef<'_>,
    written: Option<&str>,
) -> Option<&'r str> {
    if !r.cross_namespace {
        return None;
    }
    let path: Vec<&str> = r.field.split('.').collect();
    let mut found: Option<&'r str> = None;
    for c in repo.judged_copies(r.referrer) {
        let n = c.object.root.path(&path)?.str_at(&["namespace"])?;
        if Some(n) == written || found.is_some_and(|f| f != n) || is_templated(n) {
            return None;
        }
        found = Some(n);
    }
    found
}

/// `flux bootstrap` and the Flux Operator create the sync source `flux-system/flux-system`.
fn is_bootstrap(kind: &str, name: &str, wanted: &Option<Vec<&str>>) -> bool {
    name == "flux-system"
        && matches!(
            FluxKind::from_name(kind),
            Some(FluxKind::GitRepository | FluxKind::OCIRepository | FluxKind::Bucket)
        )
        && wanted.as_ref().is_none_or(|w| w.contains(&"flux-system"))
}

/// Without a cluster in the files, the source Flux Kustomizations read this repository's own
/// paths from ([`Repository::own_sources`]) is created where the sync is set up, outside them,
/// under any name: `az k8s-configuration flux create --name gitops-repo` (AKS's Flux
/// extension) makes the GitRepository `gitops-repo`, as `flux bootstrap` makes `flux-system`.
fn is_sync_made_outside(
    repo: &Repository,
    kind: &str,
    name: &str,
    wanted: &Option<Vec<&str>>,
) -> bool {
    // A source of that kind and name defined in another namespace: the reference's namespace
    // is the mistake (MGTheTrain/gitops-poc), not a source made outside.
    let defined_elsewhere = || {
        repo.of_kind(kind)
            .any(|o| o.flux.is_some() && o.name == name)
    };
    repo.clusters().is_empty()
        && !defined_elsewhere()
        && repo.own_sources().iter().any(|k| {
            k.kind == kind
                && k.name == name
                && match (&k.namespace, wanted) {
                    (Some(n), Some(w)) => w.contains(&n.as_str()),
                    _ => true,
                }
        })
}

fn is_external(repo: &Repository, kind: &str, name: &str, wanted: &Option<Vec<&str>>) -> bool {
    let declared = repo.config.external_sources.iter().any(|s| {
        s.kind == kind
            && s.name == name
            && match (&s.namespace, wanted) {
                (Some(n), Some(w)) => w.contains(&n.as_str()),
                _ => true,
            }
    });
    // A FluxInstance creates the source it syncs from (`spec.sync`, named `flux-system` unless
    // `spec.sync.name` says otherwise).
    let instance = repo.of_kind(FluxKind::FluxInstance).any(|fi| {
        let node = repo.node(fi);
        let Some(sync) = node.path(&["spec", "sync"]) else {
            return false;
        };
        let sync_kind = sync
            .str_at(&["kind"])
            .unwrap_or(FluxKind::GitRepository.name());
        let sync_name = sync.str_at(&["name"]).unwrap_or("flux-system");
        sync_kind == kind && sync_name == name
    });
    // So does a `flux-instance` chart's release (clusters found from its values).
    let cluster = repo.clusters().iter().any(|c| {
        c.entry == crate::model::clusters::Entry::FluxInstance
            && c.source.kind == kind
            && c.source.name == name
            && match (&c.source.namespace, wanted) {
                (Some(n), Some(w)) => w.contains(&n.as_str()),
                _ => true,
            }
    });
    declared || instance || cluster
}

/// The documents of the `templates/` of every Helm chart here that a HelmRelease installs by
/// path (`chart: ./charts/flux-tenant`, from a GitRepository or Bucket): the objects the
/// release creates (samuel-form3/flux-tenant-poc's tenant chart makes each tenant's
/// GitRepository `main`). Go templates, so read as text, one document at a time.
fn local_chart_templates(repo: &Repository) -> Vec<String> {
    let mut charts: Vec<String> = repo
        .of_kind(FluxKind::HelmRelease)
        .filter(|o| o.flux == Some(FluxKind::HelmRelease))
        .filter_map(|o| {
            let chart = repo.node(o).str_at(&["spec", "chart", "spec", "chart"])?;
            let dir = crate::fs::join_normalized("", chart)?;
            (chart.contains('/') && repo.tree.is_file(&format!("{dir}/Chart.yaml"))).then_some(dir)
        })
        .collect();
    charts.sort_unstable();
    charts.dedup();
    let mut out = Vec::new();
    let mut dirs: Vec<String> = charts.iter().map(|c| format!("{c}/templates")).collect();
    while let Some(dir) = dirs.pop() {
        for entry in repo.tree.list_dir(&dir) {
            let rel = format!("{dir}/{entry}");
            if repo.tree.is_dir(&rel) {
                dirs.push(rel);
            } else if [".yaml", ".yml"].iter().any(|e| entry.ends_with(e))
                && let Some(bytes) = repo.tree.read(&rel)
            {
                let text = String::from_utf8_lossy(&bytes);
                out.extend(text.split("\n---").map(str::to_string));
            }
        }
    }
    out
}

/// helm-controller names the HelmChart it creates for a `spec.chart` `<namespace>-<name>`.
fn is_generated_chart(repo: &Repository, name: &str) -> bool {
    repo.of_kind(FluxKind::HelmRelease)
        .any(|hr| name.ends_with(&format!("-{}", hr.name)))
}

/// Kinds of sources that a ResourceSet or similar template creates with a templated name: any
/// name of that kind may exist.
fn templated_source_kinds(repo: &Repository) -> Vec<String> {
    let mut out = Vec::new();
    for o in repo.of_kind(FluxKind::ResourceSet) {
        let node = repo.node(o);
        for item in node
            .path(&["spec", "resources"])
            .map(|n| n.items())
            .unwrap_or_default()
        {
            if let Some(k) = item.str_at(&["kind"])
                && !out.iter().any(|x: &String| x == k)
            {
                out.push(k.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ExternalSource};
    use crate::rules::testing::{findings_of, findings_with};

    const HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
  chartRef:
    kind: OCIRepository
    name: podinfo
";

    fn oci(name: &str, ns: &str) -> String {
        format!(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  interval: 1h\n  url: oci://x/y\n"
        )
    }

    #[test]
    fn fires_when_missing() {
        assert_eq!(
            findings_of(
                "FV401",
                &[("hr.yaml", HR), ("oci.yaml", &oci("other", "apps"))]
            ),
            vec![("hr.yaml".to_string(), 10, 11)]
        );
    }

    #[test]
    fn fires_when_in_another_namespace() {
        assert_eq!(
            findings_of(
                "FV401",
                &[("hr.yaml", HR), ("oci.yaml", &oci("podinfo", "infra"))]
            ),
            vec![("hr.yaml".to_string(), 10, 11)]
        );
    }

    #[test]
    fn quiet_when_defined_or_external() {
        assert!(
            findings_of(
                "FV401",
                &[("hr.yaml", HR), ("oci.yaml", &oci("podinfo", "apps"))]
            )
            .is_empty()
        );
        let mut config = Config::default();
        config.external_sources.push(ExternalSource {
            kind: "OCIRepository".into(),
            name: "podinfo".into(),
            namespace: None,
        });
        assert!(findings_with(&[("hr.yaml", HR)], config).is_empty());
    }

    #[test]
    fn quiet_on_bootstrap_and_variables() {
        let ks = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  sourceRef:
    kind: GitRepository
    name: flux-system
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps2
  namespace: flux-system
spec:
  sourceRef:
    kind: GitRepository
    name: ${REPO}
";
        assert!(findings_of("FV401", &[("ks.yaml", ks)]).is_empty());
    }

    #[test]
    fn namespace_from_kustomization_file() {
        let hr = HR.replace("  namespace: apps\n", "");
        let files = [
            ("app/hr.yaml", hr.as_str()),
            (
                "app/kustomization.yaml",
                "namespace: apps\nresources: [hr.yaml, oci.yaml]\n",
            ),
            (
                "app/oci.yaml",
                "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: podinfo\n",
            ),
        ];
        assert!(findings_of("FV401", &files).is_empty());
    }
}
