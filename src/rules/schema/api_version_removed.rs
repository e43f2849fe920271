use crate::diag::{Diagnostic, Severity};
use crate::flux_api;
use crate::rules::{DocContext, Rule, RuleMeta};
use crate::yaml::NodeRef;

pub struct ApiVersionRemoved;

/// The consequence while the Flux version of the clusters that apply the file is not known
/// (installed from outside the repository): true of every cluster that upgrades.
const UNTIL_KNOWN: &str = ": from that release on, the API server rejects ";
/// The consequence once every cluster that applies it is known to run such a release.
const REJECTS: &str = ": the API server rejects ";

/// The message before its consequence (of an object's own apiVersion or of a reference), to
/// state the consequence for the Flux version the clusters run instead.
fn head_before_consequence(message: &str) -> Option<String> {
    [UNTIL_KNOWN, ": an API version the cluster no longer"]
        .iter()
        .find_map(|tail| message.split_once(tail))
        .map(|(head, _)| head.to_string())
}

pub static META: RuleMeta = RuleMeta {
    code: "FV501",
    name: "api-version-removed",
    severity: Severity::Error,
    summary: "A Flux apiVersion that current Flux releases no longer serve.",
    docs: r#"## What it does
Reports a toolkit `apiVersion` that Flux has removed: `helm.toolkit.fluxcd.io` v2beta1 (Flux 2.7)
and v2beta2 (2.8); `kustomize.toolkit.fluxcd.io` v1beta1 (2.7) and v1beta2 (2.8);
`source.toolkit.fluxcd.io` v1beta1 (2.7) and v1beta2 (2.8); `notification.toolkit.fluxcd.io`
v1beta1 (2.7) and v1beta2 (2.9); `image.toolkit.fluxcd.io` v1beta1 (2.7) and v1beta2 (2.9).

Object references inside a Flux object are checked too: an `apiVersion` under `spec` (a
Receiver's `spec.resources[].apiVersion`, a `sourceRef.apiVersion`, an Alert's
`eventSources[].apiVersion`, …) that names a removed version. Not checked there: a
HelmRelease's `values` (the chart's business) and patches (`patches`, `postRenderers`, which
take their target's apiVersion).

A kustomize `patches` entry with a `target` takes its target's apiVersion and kind: the patch
document's own apiVersion never reaches the cluster and is not reported. The message states the
consequence for the clusters that apply the file: where each runs a Flux version that still
serves the apiVersion (the `# Flux Version:` header of its `gotk-components.yaml`, or of the
`flux install --export` output its own build applies; without any header, the kind's CRD its
own build applies, when that lists the version as served), it blocks the upgrade instead of
failing today. In a repository with no cluster, the `flux install --export` output it holds
(applied by hand, e.g. `bootstrap/flux.yaml`) tells the version, when every such file agrees.
Where every such cluster runs a release that no longer serves it, the message says
the API server rejects the object; where a cluster's Flux version is written nowhere fluxvet reads
(Flux installed by Terraform or a remote manifest), it says what happens from that release on.

## Why is this bad?
Once the CRD stops serving the version, the API server rejects the object ("no matches for kind …
in version …") and the whole Kustomization that applies it fails, so nothing else in that path is
reconciled either. Upgrading Flux is then blocked on rewriting the manifests.

## Example
```yaml
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
```

## Use instead
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
```
`flux migrate -f .` rewrites every manifest of a directory to the served versions.

## Fix
`fluxvet check --fix` rewrites the apiVersion (and nothing else) of a HelmRelease
(`v2beta1`/`v2beta2` → `v2`), a Kustomization (`v1beta1`/`v1beta2` → `v1`) and the source kinds
(`v1beta1`/`v1beta2` → `v1`), unless the object sets a field the served version dropped
(`valuesFile`, post-renderer `patchesStrategicMerge`/`patchesJson6902`, Kustomization
`validation`/`patchesStrategicMerge`/`patchesJson6902`, `gitImplementation`, `accessFrom`): those
need a person. Notification and image automation objects are left to `flux migrate` and a review.
"#,
};

impl Rule for ApiVersionRemoved {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    /// A `patches` entry with a `target` takes its target's apiVersion: the patch file's own
    /// never reaches the cluster (kustomize ignores it), so it is no finding there. Otherwise
    /// the consequence is stated for the clusters that apply the file, at the Flux version
    /// they run.
    fn refine(&self, repo: &crate::model::index::Repository, finding: &mut Diagnostic) -> bool {
        let tree = repo.reconcile_tree();
        if tree.is_targeted_patch(finding.file) && is_top_level_api_version(repo, finding) {
            return false;
        }
        const CONSEQUENCE: &str = " and the Kustomization applying it fails";
        if tree.appliers(finding.file).is_empty() {
            finding.message = finding.message.replace(CONSEQUENCE, "");
        }
        let Some(release) = finding
            .message
            .split("removed in Flux ")
            .nth(1)
            .and_then(|r| r.split(':').next())
            .and_then(minor_of)
        else {
            return true;
        };
        let clusters = repo.clusters();
        // No cluster: the `flux install --export` output the repository holds (applied by
        // hand) tells what its Flux serves.
        if clusters.is_empty() {
            let Some((version, file)) = crate::model::clusters::unclustered_flux_version(repo)
            else {
                return true;
            };
            match minor_of(&version) {
                Some(v) if v < release => {
                    if let Some(head) = head_before_consequence(&finding.message) {
                        finding.message = format!(
                            "{head}: the Flux install manifest `{}` installs Flux {version}, which still serves it, but it blocks the upgrade to Flux {}.{}",
                            repo.path(file),
                            release.0,
                            release.1
                        );
                    }
                }
                // It installs a release that no longer serves the version.
                Some(_) => finding.message = finding.message.replace(UNTIL_KNOWN, REJECTS),
                None => {}
            }
            return true;
        }
        // A file no cluster applies as objects (a patch, a values file, a tree applied by hand)
        // is judged against every cluster of the repository: the message changes only when
        // each of them is known to run a Flux that still serves the version.
        let applying = tree.clusters_known(finding.file);
        let judged: Vec<u16> = if applying.is_empty() {
            (0..clusters.len())
                .filter_map(|i| u16::try_from(i).ok())
                .collect()
        } else {
            applying
        };
        let applied_versions: Vec<Option<String>> = judged
            .iter()
            .map(|&i| match clusters.get(i as usize) {
                Some(c) if c.flux_version.is_none() => {
                    crate::model::clusters::applied_flux_version(repo, i)
                }
                _ => None,
            })
            .collect();
        // The object's own apiVersion and kind, for a cluster whose Flux version is written
        // nowhere: the CRD its build applies says whether the version is still served.
        let own = own_api_version_and_kind(repo, finding);
        let mut running: Vec<Running<'_>> = Vec::new();
        let mut by_crd: Vec<(&str, crate::diag::FileId)> = Vec::new();
        for (&i, applied) in judged.iter().zip(&applied_versions) {
            let Some(c) = clusters.get(i as usize) else {
                return true;
            };
            match c.flux_version.as_deref().or(applied.as_deref()) {
                Some(v) => running.push((c.name.as_str(), v, minor_of(v))),
                None => match own
                    .as_ref()
                    .and_then(|(a, k)| applied_crd_serving(repo, i, a, k))
                {
                    Some(file) => by_crd.push((c.name.as_str(), file)),
                    // A cluster whose Flux version is unknown may be the one that rejects it.
                    None => return true,
                },
            }
        }
        let serving: Vec<&Running<'_>> = running
            .iter()
            .filter(|(_, _, v)| v.is_some_and(|v| v < release))
            .collect();
        // Every cluster that applies it runs a Flux that no longer serves the version.
        if by_crd.is_empty()
            && serving.is_empty()
            && !running.is_empty()
            && running.iter().all(|(_, _, v)| v.is_some())
        {
            finding.message = finding.message.replace(UNTIL_KNOWN, REJECTS);
            return true;
        }
        if !by_crd.is_empty() && serving.len() == running.len() {
            let parts: Vec<String> = serving
                .iter()
                .map(|(n, v, _)| format!("cluster {n} runs Flux {v}"))
                .chain(by_crd.iter().map(|(n, file)| {
                    format!("cluster {n} applies the CRD of `{}`", repo.path(*file))
                }))
                .collect();
            if let Some((head, _)) = finding.message.split_once(UNTIL_KNOWN) {
                finding.message = format!(
                    "{head}: {}, which still {} it, but it blocks the upgrade to Flux {}.{}",
                    parts.join(" and "),
                    if parts.len() == 1 { "serves" } else { "serve" },
                    release.0,
                    release.1
                );
            }
            return true;
        }
        if !running.is_empty() && serving.len() == running.len() {
            let (names, mut versions): (Vec<&str>, Vec<&str>) =
                serving.iter().map(|(n, v, _)| (*n, *v)).unzip();
            // Clusters on one release name it once: "run Flux v2.2.3", not "v2.2.3, v2.2.3".
            if versions.iter().all(|v| *v == versions[0]) {
                versions.truncate(1);
            }
            if let Some(head) = head_before_consequence(&finding.message) {
                finding.message = format!(
                    "{head}: {} {} Flux {}, which still serves it, but it blocks the upgrade to Flux {}.{}",
                    if names.len() == 1 {
                        "cluster"
                    } else {
                        "clusters"
                    },
                    names.join(", ") + if names.len() == 1 { " runs" } else { " run" },
                    versions.join(", "),
                    release.0,
                    release.1
                );
            }
        }
        true
    }

    fn marks(&self, cx: &DocContext<'_>) -> bool {
        is_toolkit_crd(cx)
    }

    fn check_document(&self, cx: &DocContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(root) = cx.doc.root() else { return };
        let Some(node) = root.get("apiVersion") else {
            return;
        };
        if node
            .as_str()
            .is_some_and(|a| a.contains(".toolkit.fluxcd.io/"))
            && let Some(spec) = root.get("spec")
        {
            check_references(cx, spec, &mut Vec::new(), out);
        }
        let Some(api_version) = node.as_str() else {
            return;
        };
        let Some(removed) = flux_api::removed(api_version) else {
            return;
        };
        let kind = root.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        let replacement = removed.replacement(kind);
        let what = if kind.is_empty() { "this object" } else { kind };
        out.push(
            Diagnostic::new(
                &META,
                cx.file_id,
                node.span(),
                format!(
                    "`{}` was removed in Flux {}{UNTIL_KNOWN}{what} and the Kustomization applying it fails",
                    api_version.trim(),
                    removed.release
                ),
            )
            .primary_label("removed apiVersion")
            .help(format!(
                "use `{replacement}`; `flux migrate -f .` rewrites every manifest in the directory"
            ))
            .with_fix(fix(cx, node, api_version, kind)),
        );
    }
}

/// Subtrees of a Flux object's `spec` that are not object references: chart values and
/// patches (a targeted patch takes its target's apiVersion).
const NOT_REFERENCES: &[&str] = &[
    "values",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "postRenderers",
];

/// FV501 on object references: every `apiVersion` below `spec` that names a removed version.
fn check_references(
    cx: &DocContext<'_>,
    node: NodeRef<'_>,
    path: &mut Vec<String>,
    out: &mut Vec<Diagnostic>,
) {
    if path.len() > 32 {
        return;
    }
    if node.is_sequence() {
        for (i, item) in node.items().into_iter().enumerate() {
            path.push(format!("[{i}]"));
            check_references(cx, item, path, out);
            path.pop();
        }
        return;
    }
    if !node.is_mapping() {
        return;
    }
    for (k, v) in node.entries() {
        let Some(key) = k.as_str() else { continue };
        if NOT_REFERENCES.contains(&key) {
            continue;
        }
        if key == "apiVersion"
            && let Some(api_version) = v.as_str()
            && let Some(removed) = flux_api::removed(api_version)
        {
            let kind = node.get("kind").and_then(|k| k.as_str()).unwrap_or("");
            let field = format!("spec{}", render_path(path));
            out.push(
                Diagnostic::new(
                    &META,
                    cx.file_id,
                    v.span(),
                    format!(
                        "the object reference `{field}`{} names `{}`, removed in Flux {}: an API version the cluster no longer serves",
                        if kind.is_empty() { String::new() } else { format!(" (a {kind})") },
                        api_version.trim(),
                        removed.release,
                    ),
                )
                .primary_label("removed apiVersion")
                .help(format!(
                    "use `{}`; `flux migrate -f .` rewrites every manifest in the directory",
                    removed.replacement(kind)
                )),
            );
            continue;
        }
        path.push(key.to_string());
        check_references(cx, v, path, out);
        path.pop();
    }
}

fn render_path(path: &[String]) -> String {
    path.iter()
        .map(|p| {
            if p.starts_with('[') {
                p.clone()
            } else {
                format!(".{p}")
            }
        })
        .collect()
}

/// Whether the finding sits on a document's own top-level `apiVersion` (not on a reference).
fn is_top_level_api_version(repo: &crate::model::index::Repository, finding: &Diagnostic) -> bool {
    repo.docs_of(finding.file).any(|d| {
        d.doc
            .root()
            .and_then(|r| r.get("apiVersion"))
            .is_some_and(|a| a.span() == finding.span)
    })
}

/// The apiVersion and kind of the object whose own `apiVersion` the finding points at (not an
/// object reference inside it).
fn own_api_version_and_kind(
    repo: &crate::model::index::Repository,
    finding: &Diagnostic,
) -> Option<(String, String)> {
    repo.docs_of(finding.file).find_map(|d| {
        let root = d.doc.root()?;
        let api = root
            .get("apiVersion")
            .filter(|a| a.span() == finding.span)?;
        Some((
            api.as_str()?.trim().to_string(),
            root.str_at(&["kind"])?.to_string(),
        ))
    })
}

/// A CRD of a Flux toolkit group: kept after the document rules for
/// [`applied_crd_serving`].
fn is_toolkit_crd(cx: &DocContext<'_>) -> bool {
    cx.object
        .is_some_and(|o| crate::flux_api::CoreKind::CustomResourceDefinition.is(o.group(), &o.kind))
        && cx
            .doc
            .root()
            .and_then(|r| r.str_at(&["spec", "group"]))
            .is_some_and(|g| g.ends_with(".toolkit.fluxcd.io"))
}

/// The file of a CRD that cluster `cluster`'s own build applies and that serves `kind` at
/// `api_version` (`spec.versions[]` with `served` not false, or the single `spec.version` of
/// `apiextensions.k8s.io/v1beta1`): a `gotk-components.yaml` that `flux install` wrote
/// without its `# Flux Version:` header still tells what the cluster serves.
fn applied_crd_serving(
    repo: &crate::model::index::Repository,
    cluster: u16,
    api_version: &str,
    kind: &str,
) -> Option<crate::diag::FileId> {
    let (group, version) = api_version.rsplit_once('/')?;
    let tree = repo.reconcile_tree();
    repo.docs.iter().find_map(|entry| {
        if !crate::rules::marked(entry, &META) || !tree.applies(cluster, entry.file) {
            return None;
        }
        let root = entry.doc.root()?;
        if root.str_at(&["spec", "group"]) != Some(group)
            || root.str_at(&["spec", "names", "kind"]) != Some(kind)
        {
            return None;
        }
        let listed = root.path(&["spec", "versions"]).map(|n| n.items());
        let serves = match listed {
            Some(versions) if !versions.is_empty() => versions.iter().any(|v| {
                v.str_at(&["name"]) == Some(version) && v.str_at(&["served"]) != Some("false")
            }),
            _ => root.str_at(&["spec", "version"]) == Some(version),
        };
        serves.then_some(entry.file)
    })
}

/// A cluster applying the file: its name, its Flux version as written, and that version's
/// `(major, minor)`.
type Running<'a> = (&'a str, &'a str, Option<(u64, u64)>);

/// `(major, minor)` of a Flux version as written (`v2.6.4`, `2.8`); `None` for a range such as
/// `2.x`, which follows the newest release.
fn minor_of(version: &str) -> Option<(u64, u64)> {
    let v = version.trim().trim_start_matches('v');
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The apiVersion's text with the served version in place of the removed one, quotes kept,
/// where [`crate::fix::api_version::migrate`] finds the move safe.
fn fix(
    cx: &DocContext<'_>,
    node: crate::yaml::NodeRef<'_>,
    api_version: &str,
    kind: &str,
) -> Option<crate::diag::Fix> {
    let root = cx.doc.root()?;
    let to = crate::fix::api_version::migrate(root, api_version, kind)?;
    let span = node.span();
    let raw = cx.file.text.get(span.start as usize..span.end as usize)?;
    let from = api_version.trim();
    if raw.matches(from).count() != 1 {
        return None;
    }
    Some(crate::diag::Fix {
        span,
        replacement: raw.replacen(from, &to, 1),
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    #[test]
    fn fires_on_removed_versions() {
        let f = findings_of(
            "FV501",
            &[(
                "a.yaml",
                "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: GitRepository\nmetadata:\n  name: x\n---\napiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata:\n  name: y\n---\nkind: Alert\napiVersion: \"notification.toolkit.fluxcd.io/v1beta2\"\n",
            )],
        );
        assert_eq!(
            f,
            vec![
                ("a.yaml".into(), 1, 13),
                ("a.yaml".into(), 6, 13),
                ("a.yaml".into(), 12, 13),
            ]
        );
    }

    #[test]
    fn quiet_on_served_and_foreign_versions() {
        let f = findings_of(
            "FV501",
            &[(
                "a.yaml",
                "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: x\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n---\napiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\nmetadata:\n  name: a\n---\napiVersion: example.com/v1beta1\nkind: GitRepository\n",
            )],
        );
        assert!(f.is_empty(), "{f:?}");
    }

    /// The message of the first FV501 finding a run over `files` makes ("" when none).
    fn first_message(files: &[(&str, &str)]) -> String {
        let out = crate::engine::check_memory(files, Default::default());
        out.diagnostics
            .iter()
            .find(|d| d.rule.code == "FV501")
            .map(|d| d.message.clone())
            .unwrap_or_default()
    }

    #[test]
    fn the_message_follows_the_flux_version_the_cluster_runs() {
        let sync = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/dev\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
        let release =
            "apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata:\n  name: x\n";
        let message = |version: &str| {
            let components = format!(
                "# Flux Version: {version}\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n"
            );
            first_message(&[
                ("clusters/dev/flux-system/gotk-sync.yaml", sync),
                ("clusters/dev/flux-system/gotk-components.yaml", &components),
                ("clusters/dev/release.yaml", release),
            ])
        };
        assert!(
            message("v2.6.4").ends_with(
                "cluster dev runs Flux v2.6.4, which still serves it, but it blocks the upgrade to Flux 2.8"
            ),
            "{}",
            message("v2.6.4")
        );
        assert!(
            message("v2.8.0").contains("the API server rejects HelmRelease"),
            "{}",
            message("v2.8.0")
        );
    }

    /// Without a `gotk-components.yaml`, the version is the header of the `flux install --export`
    /// output the cluster's own build applies from elsewhere (clementd64/fleet-infra-legacy's
    /// `manifests/system/flux/manifests.yaml`); two applied headers that disagree say nothing.
    #[test]
    fn the_flux_version_may_come_from_an_applied_install_file() {
        let sync = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/dev\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
        let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./system/flux\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
        let install = |v: &str| {
            format!(
                "---\n# This manifest was generated by flux. DO NOT EDIT.\n# Flux Version: {v}\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n"
            )
        };
        let release =
            "apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata:\n  name: x\n";
        let message = |extra: &[(&str, &str)]| {
            let mut files = vec![
                ("clusters/dev/flux-system/gotk-sync.yaml", sync),
                ("clusters/dev/flux.yaml", flux),
                ("clusters/dev/release.yaml", release),
            ];
            files.extend_from_slice(extra);
            first_message(&files)
        };
        let v2 = install("v2.0.0-rc.5");
        let m = message(&[("system/flux/manifests.yaml", &v2)]);
        assert!(
            m.ends_with("cluster dev runs Flux v2.0.0-rc.5, which still serves it, but it blocks the upgrade to Flux 2.8"),
            "{m}"
        );
        let v8 = install("v2.8.0");
        let m = message(&[
            ("system/flux/manifests.yaml", &v2),
            ("system/flux/other.yaml", &v8),
        ]);
        assert!(m.contains("the API server rejects HelmRelease"), "{m}");
        // A header in a file the cluster does not apply says nothing of it.
        let m = message(&[("archive/flux/manifests.yaml", &v2)]);
        assert!(m.contains("the API server rejects HelmRelease"), "{m}");
    }

    /// Without any version header, the CRD the cluster's own build applies says whether it still
    /// serves the version; a CRD in a file no cluster applies says nothing of it.
    #[test]
    fn a_cluster_without_version_follows_the_crds_it_applies() {
        let sync = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/dev\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: helmreleases.helm.toolkit.fluxcd.io\nspec:\n  group: helm.toolkit.fluxcd.io\n  names:\n    kind: HelmRelease\n    plural: helmreleases\n  scope: Namespaced\n  versions:\n  - name: v2beta1\n    served: true\n    storage: true\n";
        let release =
            "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata:\n  name: x\n";
        let message = |crd_at: &str| {
            first_message(&[
                ("clusters/dev/flux-system/gotk-sync.yaml", sync),
                (crd_at, crd),
                ("clusters/dev/release.yaml", release),
            ])
        };
        let m = message("clusters/dev/flux-system/gotk-components.yaml");
        assert!(
            m.ends_with("cluster dev applies the CRD of `clusters/dev/flux-system/gotk-components.yaml`, which still serves it, but it blocks the upgrade to Flux 2.7"),
            "{m}"
        );
        let m = message("archive/gotk-components.yaml");
        assert!(m.contains("the API server rejects HelmRelease"), "{m}");
    }

    /// A patch file is applied by no build as objects: the one cluster's version counts.
    #[test]
    fn a_patch_file_follows_the_flux_version_of_every_cluster() {
        let sync = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/dev\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
        let components = "# Flux Version: v2.6.4\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n";
        let release = "apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata:\n  name: x\nspec:\n  interval: 1h\n";
        let out = crate::engine::check_memory(
            &[
                ("clusters/dev/flux-system/gotk-sync.yaml", sync),
                ("clusters/dev/flux-system/gotk-components.yaml", components),
                (
                    "clusters/dev/kustomization.yaml",
                    "resources:\n- release.yaml\npatches:\n- path: patches/interval.yaml\n",
                ),
                ("clusters/dev/release.yaml", release),
                (
                    "clusters/dev/patches/interval.yaml",
                    &release.replace("1h", "5m"),
                ),
            ],
            Default::default(),
        );
        let patch = out
            .diagnostics
            .iter()
            .find(|d| d.rule.code == "FV501" && out.repo.path(d.file).contains("patches/"))
            .map(|d| d.message.clone())
            .unwrap_or_default();
        assert!(
            patch.contains("cluster dev runs Flux v2.6.4, which still serves it"),
            "{patch}"
        );
    }

    /// A tree applied by hand (a Kustomization nothing applies, reading this repository) is
    /// judged against every cluster, and so is an object reference: both say "blocks the
    /// upgrade" when each cluster runs a Flux that still serves the version, and "rejects" as
    /// soon as one cluster's version is unknown or newer.
    #[test]
    fn trees_applied_by_hand_and_references_follow_every_cluster() {
        let sync = |c: &str| {
            format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/{c}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: https://example.com/repo\n  ref:\n    branch: main\n"
            )
        };
        let components = |v: &str| {
            format!(
                "# Flux Version: {v}\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n"
            )
        };
        let by_hand = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: extra\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./extra/app\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
        let checked = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  healthChecks:\n    - apiVersion: helm.toolkit.fluxcd.io/v2beta1\n      kind: HelmRelease\n      name: x\n      namespace: default\n";
        let release = "apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata:\n  name: x\n  namespace: default\nspec:\n  interval: 1h\n  chartRef:\n    kind: OCIRepository\n    name: x\n";
        let messages = |prod: &str| {
            let (s_dev, s_prod) = (sync("dev"), sync("prod"));
            let (c_dev, c_prod) = (components("v2.5.1"), components(prod));
            let out = crate::engine::check_memory(
                &[
                    ("clusters/dev/flux-system/gotk-sync.yaml", s_dev.as_str()),
                    ("clusters/dev/flux-system/gotk-components.yaml", &c_dev),
                    ("clusters/dev/apps.yaml", checked),
                    ("clusters/prod/flux-system/gotk-sync.yaml", &s_prod),
                    ("clusters/prod/flux-system/gotk-components.yaml", &c_prod),
                    ("extra/ks.yaml", by_hand),
                    ("extra/app/release.yaml", release),
                ],
                Default::default(),
            );
            let of = |path: &str| {
                out.diagnostics
                    .iter()
                    .find(|d| d.rule.code == "FV501" && out.repo.path(d.file) == path)
                    .map(|d| d.message.clone())
                    .unwrap_or_default()
            };
            (of("extra/app/release.yaml"), of("clusters/dev/apps.yaml"))
        };
        let (by_hand, reference) = messages("v2.6.4");
        assert!(
            by_hand.ends_with("clusters dev, prod run Flux v2.5.1, v2.6.4, which still serves it, but it blocks the upgrade to Flux 2.8"),
            "{by_hand}"
        );
        assert!(
            reference.ends_with(
                "removed in Flux 2.7: cluster dev runs Flux v2.5.1, which still serves it, but it blocks the upgrade to Flux 2.7"
            ),
            "{reference}"
        );
        let (by_hand, _) = messages("v2.5.1");
        assert!(
            by_hand.ends_with("clusters dev, prod run Flux v2.5.1, which still serves it, but it blocks the upgrade to Flux 2.8"),
            "{by_hand}"
        );
        let (by_hand, _) = messages("v2.8.0");
        assert!(
            by_hand.contains("the API server rejects HelmRelease"),
            "{by_hand}"
        );
    }
}
