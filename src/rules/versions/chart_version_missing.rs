use crate::diag::{Diagnostic, Severity};
use crate::flux_api::FluxKind;
use crate::model::index::Repository;
use crate::rules::schema::patch_heuristic::Patches;
use crate::rules::versions::{chart_sites, qualified, version_set_by_same_named};
use crate::rules::{Rule, RuleMeta};

pub struct ChartVersionMissing;

pub static META: RuleMeta = RuleMeta {
    code: "FV201",
    name: "chart-version-missing",
    severity: Severity::Error,
    summary: "A HelmRelease or HelmChart from a HelmRepository has no chart version: Flux installs the newest.",
    docs: r#"## What it does
Reports a `HelmRelease` whose `spec.chart.spec`, or a `HelmChart` whose `spec`, takes its chart
from a `HelmRepository` and sets no `version` (or an empty one). What is applied decides: each
cluster's build (kustomize with the Flux Kustomization's own steps), so a version an overlay or a
Flux patch sets counts, and a version one overlay sets and another does not is missing in the
cluster of the other, which the message names. A repository without clusters is judged on the
builds of its root kustomizations and Flux Kustomizations; a document no build holds counts as
set when a same-named document (a patch file) or, without clusters, some Flux Kustomization's
`spec.patches` sets the version (what applies it may be elsewhere).

## Why is this bad?
Flux defaults the version to `*`: it installs the newest chart in the repository and upgrades
to every new release at the next reconcile, untested. Charts from a `GitRepository` or `Bucket`
are not reported: Flux ignores their version and builds what the source holds.

## Example
```yaml
spec:
  chart:
    spec:
      chart: cert-manager
      sourceRef:
        kind: HelmRepository
        name: jetstack
```

## Use instead
```yaml
spec:
  chart:
    spec:
      chart: cert-manager
      version: "1.15.3"
      sourceRef:
        kind: HelmRepository
        name: jetstack
```
"#,
};

impl Rule for ChartVersionMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            flux_kinds: super::CHART_KINDS,
            ..crate::rules::Reads::NOTHING
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        // Without clusters the model cannot always tell which Flux Kustomization applies
        // another (a parent may read an OCI artifact pushed from a sub-directory), so a version
        // a Flux Kustomization's `spec.patches` set may be set by the parent: excused, as
        // FV502 does.
        let mut parents: Option<Patches> = None;
        for site in chart_sites(repo) {
            if !site.from_repository() || site.version_text().is_some() {
                continue;
            }
            // What is applied decides (every cluster's builds, or without clusters the builds
            // of the repository's roots): a version an overlay or a Flux patch sets is set.
            let copies = repo.judged_copies(site.object);
            let unset_in: Vec<&str> = copies
                .iter()
                .filter(|a| rendered_version(&a.object.root, site.kind).is_none())
                .map(|a| a.cluster.as_str())
                .collect();
            if copies.is_empty() {
                // In no build: judged as written, unless a same-named document (a patch file
                // whose kustomization is elsewhere) sets the version.
                if version_set_by_same_named(repo, site.object) {
                    continue;
                }
                let path = if site.kind == FluxKind::HelmRelease {
                    "spec.chart.spec.version"
                } else {
                    "spec.version"
                };
                if repo.clusters().is_empty()
                    && parents
                        .get_or_insert_with(|| Patches::collect_flux(repo))
                        .sets(site.kind.name(), path)
                {
                    continue;
                }
            } else if unset_in.is_empty() {
                continue;
            }
            let span = match site.version {
                Some((_, v)) if !v.span().is_empty() => v.span(),
                Some((k, _)) => k.span(),
                None => site.spec_key.span(),
            };
            let written = if site.version.is_some() {
                "an empty version"
            } else {
                "no version"
            };
            let cmd = if site.kind == FluxKind::HelmRelease {
                "flux get helmreleases -A"
            } else {
                "flux get sources chart -A"
            };
            out.push(
                Diagnostic::new(
                    &META,
                    site.object.file,
                    span,
                    format!(
                        "{} of {} `{}` has {written}{}: Flux defaults it to `*` and installs the newest chart, upgrading at every reconcile",
                        site.what(),
                        site.kind,
                        qualified(repo, site.object),
                        crate::rules::clusters_phrase(&unset_in, crate::rules::Phrase::AppliesIt),
                    ),
                )
                .primary_label("no `version` here")
                .help(format!(
                    "pin the exact version you tested, e.g. `version: \"1.2.3\"` (`{cmd}` shows the version running now)"
                )),
            );
        }
    }
}

/// The chart version a rendered HelmRelease or HelmChart ends up with, if any.
pub(super) fn rendered_version(root: &crate::model::Node, kind: FluxKind) -> Option<&str> {
    let path: &[&str] = if kind == FluxKind::HelmRelease {
        &["spec", "chart", "spec", "version"]
    } else {
        &["spec", "version"]
    };
    match &root.path(path)?.value {
        crate::model::Value::Scalar(text, t)
            if *t != crate::model::ScalarType::Null && !text.trim().is_empty() =>
        {
            Some(text)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{findings_of, flux_kustomization};

    const REPO: &str = "apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: jetstack
  namespace: flux-system
spec:
  interval: 1h
  url: https://charts.jetstack.io
";

    fn release(api: &str, source_kind: &str, version: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/{api}
kind: HelmRelease
metadata:
  name: cert-manager
  namespace: cert-manager
spec:
  interval: 1h
  chart:
    spec:
      chart: cert-manager
{version}      sourceRef:
        kind: {source_kind}
        name: jetstack
        namespace: flux-system
"
        )
    }

    #[test]
    fn fires_without_version_on_every_api_version() {
        for api in ["v2", "v2beta2", "v2beta1"] {
            let hr = release(api, "HelmRepository", "");
            assert_eq!(
                findings_of("FV201", &[("repo.yaml", REPO), ("hr.yaml", &hr)]),
                vec![("hr.yaml".to_string(), 9, 5)],
                "{api}"
            );
        }
    }

    #[test]
    fn fires_on_empty_or_null_version() {
        let hr = release("v2", "HelmRepository", "      version: \"\"\n");
        assert_eq!(
            findings_of("FV201", &[("hr.yaml", &hr)]),
            vec![("hr.yaml".to_string(), 11, 16)]
        );
        let hr = release("v2", "HelmRepository", "      version:\n");
        assert_eq!(
            findings_of("FV201", &[("hr.yaml", &hr)]),
            vec![("hr.yaml".to_string(), 11, 7)]
        );
    }

    #[test]
    fn fires_on_helmchart() {
        let hc = "apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 5m
  chart: podinfo
  sourceRef:
    kind: HelmRepository
    name: podinfo
";
        assert_eq!(
            findings_of("FV201", &[("hc.yaml", hc)]),
            vec![("hc.yaml".to_string(), 6, 1)]
        );
    }

    #[test]
    fn quiet_when_pinned_or_from_git_or_bucket() {
        let pinned = release("v2", "HelmRepository", "      version: \"1.15.3\"\n");
        let git = release("v2", "GitRepository", "");
        let bucket = release("v2", "Bucket", "");
        let no_kind = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: x
spec:
  chart:
    spec:
      chart: x
      sourceRef:
        name: y
";
        for f in [pinned.as_str(), git.as_str(), bucket.as_str(), no_kind] {
            assert!(findings_of("FV201", &[("hr.yaml", f)]).is_empty(), "{f}");
        }
    }

    #[test]
    fn quiet_when_an_overlay_patch_sets_the_version() {
        let base = release("v2", "HelmRepository", "");
        let patch = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cert-manager
  namespace: cert-manager
spec:
  chart:
    spec:
      version: \"1.15.3\"
";
        assert!(
            findings_of(
                "FV201",
                &[("base/hr.yaml", &base), ("prod/patch.yaml", patch)]
            )
            .is_empty()
        );
        let inline = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../base]
patches:
  - target:
      kind: HelmRelease
      name: cert-manager
    patch: |
      - op: add
        path: /spec/chart/spec/version
        value: 1.15.3
";
        // The build of the overlay (the repository's root kustomization) decides.
        let base_k = "resources: [hr.yaml]\n";
        assert!(
            findings_of(
                "FV201",
                &[
                    ("base/hr.yaml", &base),
                    ("base/kustomization.yaml", base_k),
                    ("prod/kustomization.yaml", inline)
                ]
            )
            .is_empty()
        );
        let elsewhere = inline.replace("name: cert-manager", "name: other");
        let found = findings_of(
            "FV201",
            &[
                ("base/hr.yaml", &base),
                ("base/kustomization.yaml", base_k),
                ("prod/kustomization.yaml", &elsewhere),
            ],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "base/hr.yaml");
    }

    /// Without clusters, a release no build holds is excused when a Flux Kustomization's
    /// `spec.patches` sets the version: the parent that applies it may read an artifact
    /// pushed from elsewhere.
    #[test]
    fn without_clusters_a_flux_patch_may_set_the_version() {
        let base = release("v2", "HelmRepository", "");
        let parent = |path: &str| {
            flux_kustomization(
                "apps",
                "./apps",
                "OCIRepository",
                &format!(
                    "  patches:
    - target:
        kind: HelmRelease
      patch: |
        - op: add
          path: {path}
          value: 1.15.3
"
                ),
            )
        };
        let sets = parent("/spec/chart/spec/version");
        assert!(
            findings_of(
                "FV201",
                &[("apps/hr.yaml", &base), ("flux/apps.yaml", &sets)]
            )
            .is_empty()
        );
        let other = parent("/spec/interval");
        let found = findings_of(
            "FV201",
            &[("apps/hr.yaml", &base), ("flux/apps.yaml", &other)],
        );
        assert_eq!(found.len(), 1, "{found:?}");
    }

    /// Issue 15: what each cluster applies decides. A base without a version that one overlay
    /// patches and the other does not is missing its version in the other cluster only.
    #[test]
    fn the_clusters_builds_decide() {
        let sync = |c: &str| {
            format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/{c}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
            )
        };
        let overlay = |patch: &str| {
            format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\n{patch}"
            )
        };
        let pinned = overlay(
            "patches:\n  - target:\n      kind: HelmRelease\n    patch: |\n      - op: add\n        path: /spec/chart/spec/version\n        value: \"1.15.3\"\n",
        );
        let base = release("v2", "HelmRepository", "");
        let files = |staging: &str| {
            findings_of(
                "FV201",
                &[
                    (
                        "clusters/production/flux-system/gotk-sync.yaml",
                        &sync("production"),
                    ),
                    (
                        "clusters/staging/flux-system/gotk-sync.yaml",
                        &sync("staging"),
                    ),
                    (
                        "apps/base/kustomization.yaml",
                        "resources:\n  - repo.yaml\n  - hr.yaml\n",
                    ),
                    ("apps/base/repo.yaml", REPO),
                    ("apps/base/hr.yaml", &base),
                    ("apps/production/kustomization.yaml", &pinned),
                    ("apps/staging/kustomization.yaml", staging),
                ],
            )
        };
        // Staging's overlay sets no version: staging installs the newest chart.
        assert_eq!(
            files(&overlay("")),
            vec![("apps/base/hr.yaml".to_string(), 9, 5)]
        );
        // Both overlays pin it: nothing to report.
        assert!(files(&pinned).is_empty());
    }
}
