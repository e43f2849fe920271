use std::collections::HashSet;

use crate::diag::{Diagnostic, FileId, Severity};
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};

pub struct NotApplied;

pub static META: RuleMeta = RuleMeta {
    code: "FV105",
    name: "not-applied",
    severity: Severity::Info,
    summary: "In a repository with clusters, a manifest no cluster's build includes: Flux never applies it, and its other findings are left out (FV601 excepted).",
    docs: r#"## What it does
In a repository with clusters (a `flux-system/gotk-sync.yaml` bootstrap directory, a Flux
Operator `FluxInstance`, `clusters:` in `.fluxvet.yaml`, or, when none of these is there, a
GitRepository and the Flux Kustomization syncing it defined in one file that the
Kustomization's own path holds, as k8s-at-home's template applies once by hand), reports a
file of Kubernetes manifests that no cluster's build reaches: not under a cluster's path, not
listed by any kustomization a cluster's Flux Kustomizations build, not below a directory Flux
generates a kustomization for. Typical causes: an entry commented out of a
`kustomization.yaml`, an archive tree, a scaffold a script copies from. A Flux Kustomization's
`spec.path` with a `${VAR}` of its applier's post-build substitution is followed as Flux
substitutes it (`./apps/${CLUSTER}/cilium` with `CLUSTER` from the cluster's ConfigMap).

Flux never applies such a file, so what would be wrong with it in the cluster is not wrong
anywhere: fluxvet reports this one info finding for it and leaves out its other findings, except
FV601 (a plaintext secret committed to Git leaks whether or not Flux reads it). A
kustomization file no cluster's build reaches is built by nothing: its findings (a missing
entry, a failing patch) are left out too.

A file holding a cluster's own sync Kustomization (a bootstrap's `gotk-sync.yaml`) that the
cluster's build does not include is reported at that Kustomization, and says so: only the
bootstrap (`flux bootstrap`, or `kubectl apply` by hand) applies it, so a change to it (an
interval, a `decryption`) never reaches the cluster.

Not reported: a command-line tool's own configuration, which is no manifest for a cluster
(k3d's `k3d.io` and kind's `kind.x-k8s.io` cluster configs, eksctl's `eksctl.io` `ClusterConfig`,
`ctlptl.dev`, `k0sctl.k0sproject.io`, `kubeadm.k8s.io`, Skaffold's `skaffold/…`, and the test
definitions of `kuttl.dev` and `chainsaw.kyverno.io`).

## Why is this bad?
A file nothing applies is either dead (and misleads whoever reads the repository) or was meant
to be applied and is not (the change it carries never reaches the cluster).

## Example
```yaml
# apps/kustomization.yaml
resources:
  - podinfo.yaml
  # - redis.yaml     <- apps/redis.yaml is applied by no cluster
```

## Use instead
```yaml
# apps/kustomization.yaml
resources:
  - podinfo.yaml
  - redis.yaml
```
or delete the file, or keep it out of the check with `exclude:` in `.fluxvet.yaml`.
"#,
};

impl Rule for NotApplied {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reported_unapplied(&self) -> bool {
        true
    }

    fn filter_findings(&self, repo: &Repository, findings: &mut Vec<Diagnostic>) {
        keep_only_what_matters_unapplied(repo, findings);
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let clusters = repo.clusters();
        if clusters.is_empty() {
            return;
        }
        let names = match clusters {
            [one] => format!("cluster {}", one.name),
            [a, b] => format!("clusters {} and {}", a.name, b.name),
            [a, b, c] => format!("clusters {}, {} and {}", a.name, b.name, c.name),
            _ => format!("{} clusters", clusters.len()),
        };
        let tree = repo.reconcile_tree();
        let mut reported = HashSet::new();
        let manifests = || repo.objects.iter().filter(|o| !is_tool_config(o.group()));
        for o in manifests() {
            if tree.reaches(repo, o.file) || !reported.insert(o.file) {
                continue;
            }
            if let Some(d) = bootstrapped_only(repo, o.file) {
                out.push(d);
                continue;
            }
            let count = manifests().filter(|x| x.file == o.file).count();
            let what = if count == 1 {
                format!("its {} `{}`", o.kind, o.name)
            } else {
                format!("its {count} objects")
            };
            out.push(
                Diagnostic::new(
                    &META,
                    o.file,
                    o.name_span,
                    format!(
                        "`{}` is applied by no cluster (the repository has {names}): Flux never applies {what}",
                        repo.path(o.file),
                    ),
                )
                .primary_label("no cluster's build includes this file")
                .help(
                    "list it in the kustomization of its directory (or point a Flux Kustomization at its \
                     directory) if Flux should apply it; otherwise delete it, or exclude it in \
                     .fluxvet.yaml. Its other findings are left out until it is applied",
                ),
            );
        }
    }
}

/// The finding for a file holding a cluster's own sync Kustomization (a bootstrap's
/// `gotk-sync.yaml`, or a sync file applied by hand) that the cluster's build does not
/// include: only the bootstrap applies it, so a change to it never reaches the cluster.
/// `None` for any other file.
fn bootstrapped_only(repo: &Repository, file: FileId) -> Option<Diagnostic> {
    let (cluster, ks) = repo.clusters().iter().find_map(|c| {
        let ks = repo.objects.get(c.sync_kustomization?)?;
        (ks.file == file).then_some((c, ks))
    })?;
    Some(
        Diagnostic::new(
            &META,
            file,
            ks.name_span,
            format!(
                "`{}` holds the sync Kustomization of cluster {}: no cluster's build includes \
                 this file, so Flux never applies it (only the bootstrap does, once) and a change \
                 to it never reaches the cluster",
                repo.path(file),
                cluster.name,
            ),
        )
        .primary_label("no cluster's build includes this file")
        .help(format!(
            "if the cluster is live, list it (or its directory) in the kustomization of the \
             cluster's path (`{}`), as `flux bootstrap` writes it, so that Flux keeps it \
             reconciled; otherwise delete it, or exclude it in .fluxvet.yaml. Its other findings \
             are left out until it is applied",
            if cluster.path.is_empty() {
                "."
            } else {
                &cluster.path
            }
        )),
    )
}

/// The configuration of a command-line tool, read on a workstation and never applied to a
/// cluster: k3d's and kind's cluster configs, eksctl's `ClusterConfig`, ctlptl, k0sctl,
/// kubeadm, Skaffold (`skaffold/v4beta6`), and kuttl's and Chainsaw's test definitions.
fn is_tool_config(group: &str) -> bool {
    matches!(
        group,
        "k3d.io"
            | "kind.x-k8s.io"
            | "eksctl.io"
            | "ctlptl.dev"
            | "k0sctl.k0sproject.io"
            | "kubeadm.k8s.io"
            | "skaffold"
            | "kuttl.dev"
            | "chainsaw.kyverno.io"
    )
}

/// The files whose findings say nothing about a cluster: Kubernetes manifests (files holding
/// an object, or a document FV103 judged to be meant as one) that no cluster's build reaches.
pub fn unapplied_manifests(repo: &Repository, diagnostics: &[Diagnostic]) -> HashSet<FileId> {
    if repo.clusters().is_empty() {
        return HashSet::new();
    }
    let tree = repo.reconcile_tree();
    // A kustomization file no build reaches is built by nothing: its missing entries and
    // failing patches stop no Flux Kustomization.
    repo.objects
        .iter()
        .map(|o| o.file)
        .chain(repo.kustomization_files().iter().copied())
        .chain(
            diagnostics
                .iter()
                .filter(|d| d.rule.code == "FV103")
                .map(|d| d.file),
        )
        .filter(|&f| !tree.reaches(repo, f))
        .collect()
}

/// Leaves only the findings of the rules that report in files no cluster applies
/// ([`Rule::reported_unapplied`]: this one, and FV601 since a committed plaintext secret leaks
/// whether or not Flux reads it); nothing else there reaches a cluster.
pub fn keep_only_what_matters_unapplied(repo: &Repository, diagnostics: &mut Vec<Diagnostic>) {
    leave_out_deleted_objects(repo, diagnostics);
    let unapplied = unapplied_manifests(repo, diagnostics);
    if unapplied.is_empty() {
        return;
    }
    let reported: Vec<&str> = crate::rules::RULES
        .iter()
        .filter(|r| r.reported_unapplied())
        .map(|r| r.meta().code)
        .collect();
    diagnostics.retain(|d| !unapplied.contains(&d.file) || reported.contains(&d.rule.code));
}

/// Leaves out the findings on an object that every build holding it deletes with a
/// `$patch: delete` (an overlay that drops one app of a shared bundle): Flux never applies it,
/// though its file is applied. Only the findings that judge the object as applied go: its file's
/// YAML, the builds' own errors, a committed secret and change previews stand.
fn leave_out_deleted_objects(repo: &Repository, diagnostics: &mut Vec<Diagnostic>) {
    if repo.clusters().is_empty() {
        return;
    }
    let deleted = &repo.applied_set().deleted;
    if deleted.is_empty() {
        return;
    }
    let span_of = |o: &crate::model::index::Object| {
        let span = repo.document(o).root()?.span();
        Some((o.file, span.start..span.end.max(span.start + 1)))
    };
    let mut gone: Vec<(FileId, std::ops::Range<u32>)> = Vec::new();
    let mut gone_ids: HashSet<(&str, &str)> = HashSet::new();
    for o in &repo.objects {
        let Some((file, range)) = span_of(o) else {
            continue;
        };
        if deleted.contains(&(file as u32, range.start)) && repo.judged_copies(o).is_empty() {
            gone.push((file, range));
            gone_ids.insert((&o.kind, &o.name));
        }
    }
    // A patch aimed at such an object (a bundle's patch file setting its version or source)
    // patches nothing Flux applies, when no build renders an object of that kind and name.
    if !gone_ids.is_empty() {
        let tree = repo.reconcile_tree();
        let rendered: HashSet<(&str, &str)> = repo
            .judged()
            .iter()
            .map(|a| (a.object.kind.as_str(), a.object.name.as_str()))
            .collect();
        for o in &repo.objects {
            let id = (o.kind.as_str(), o.name.as_str());
            if tree.is_patch_file(o.file) && gone_ids.contains(&id) && !rendered.contains(&id) {
                gone.extend(span_of(o));
            }
        }
    }
    if gone.is_empty() {
        return;
    }
    diagnostics.retain(|d| {
        !judges_an_applied_object(d.rule.code)
            || !gone
                .iter()
                .any(|(f, r)| *f == d.file && r.contains(&d.span.start))
    });
}

/// Rules whose findings are about an object as Flux applies it (versions, dependencies,
/// sources, schema, decryption, promotion), as opposed to its file's YAML (FV1xx), the builds'
/// own errors (FV404–FV408), a committed secret (FV601) or a change preview (FV8xx).
fn judges_an_applied_object(code: &str) -> bool {
    matches!(code.get(..3), Some("FV2" | "FV3" | "FV5" | "FV7"))
        || matches!(code, "FV401" | "FV402" | "FV403" | "FV602")
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings;

    use crate::rules::testing::APPS_KUSTOMIZATION as APPS;
    use crate::rules::testing::BOOTSTRAP_KUSTOMIZATION as SYNC;
    const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - podinfo.yaml
  # - redis.yaml
";
    /// A HelmRelease with an unpinned chart: FV202 wherever Flux applies it.
    fn release(name: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: {name}
      version: \"*\"
      sourceRef:
        kind: HelmRepository
        name: charts
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: apps
spec:
  interval: 1h
  url: https://charts.example.com
"
        )
    }

    #[test]
    fn a_file_commented_out_of_its_kustomization_gets_one_info_and_nothing_else() {
        let podinfo = release("podinfo");
        let redis = release("redis");
        let got = findings(&[
            ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
            ("clusters/production/apps.yaml", APPS),
            ("apps/kustomization.yaml", KUSTOMIZATION),
            ("apps/podinfo.yaml", &podinfo),
            ("apps/redis.yaml", &redis),
        ]);
        assert_eq!(
            got,
            vec![
                ("FV202".to_string(), "apps/podinfo.yaml".to_string(), 11, 16),
                ("FV105".to_string(), "apps/redis.yaml".to_string(), 4, 9),
            ]
        );
    }

    #[test]
    fn a_plaintext_secret_in_a_file_nothing_applies_is_still_reported() {
        let secret = "apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: apps
stringData:
  password: hunter2-but-longer
";
        let got = findings(&[
            ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
            ("archive/creds.yaml", secret),
        ]);
        assert_eq!(
            got.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
            vec!["FV105", "FV601"],
            "{got:?}"
        );
    }

    #[test]
    fn quiet_without_clusters_and_on_applied_files() {
        let podinfo = release("podinfo");
        // No cluster: every file is judged, none is "not applied".
        let got = findings(&[
            ("apps/kustomization.yaml", KUSTOMIZATION),
            ("apps/podinfo.yaml", &podinfo),
            ("apps/redis.yaml", &podinfo.replace("podinfo", "redis")),
        ]);
        assert!(got.iter().all(|f| f.0 != "FV105"), "{got:?}");
        // A cluster that applies everything: no FV105.
        let got = findings(&[
            ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
            ("clusters/production/apps.yaml", APPS),
            ("apps/podinfo.yaml", &podinfo),
        ]);
        assert!(got.iter().all(|f| f.0 != "FV105"), "{got:?}");
    }
}
