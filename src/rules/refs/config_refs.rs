//! `valuesFrom` (HelmRelease) and `postBuild.substituteFrom` (Kustomization) name ConfigMaps and
//! Secrets. Many of those are created outside Git (external-secrets, other controllers, `flux
//! create secret`), so a missing one is reported only when the repository clearly holds the
//! intended target: the same name as the other kind, or a close name (a typo). An
//! ObjectBucketClaim (Rook, NooBaa) makes a ConfigMap and a Secret of its own name, and a name
//! referenced as both kinds is meant as both: neither is a wrong kind.

use std::collections::BTreeSet;

use crate::diag::{Diagnostic, RuleMeta};
use crate::flux_api::{CoreKind, FluxKind};
use crate::model::index::Repository;
use crate::yaml::NodeRef;

use super::is_templated;

/// Edits a name may be away from an existing one to count as a typo of it.
const TYPO_DISTANCE: usize = 2;

struct Target<'a> {
    referrer: &'a crate::model::index::Object,
    field: &'static str,
    file: usize,
    kind: &'a str,
    name: NodeRef<'a>,
}

/// The API group of an ObjectBucketClaim, whose provisioner writes a ConfigMap (the bucket's
/// name and host) and a Secret (its access keys), both named as the claim.
const OBJECT_BUCKET_GROUP: &str = "objectbucket.io";

/// ConfigMaps and Secrets the repository defines: objects, kustomize generators (which
/// create `name` plus a hash suffix that kustomize rewrites in references it knows), and the
/// pair an ObjectBucketClaim's provisioner writes.
fn defined(repo: &Repository) -> BTreeSet<(&str, &str)> {
    let mut out = BTreeSet::new();
    for o in &repo.objects {
        if o.kind == "ObjectBucketClaim" && o.group() == OBJECT_BUCKET_GROUP {
            out.insert((CoreKind::ConfigMap.name(), o.name.as_str()));
            out.insert((CoreKind::Secret.name(), o.name.as_str()));
        } else if o.group().is_empty()
            && matches!(
                CoreKind::from_name(&o.kind),
                Some(CoreKind::ConfigMap | CoreKind::Secret)
            )
        {
            out.insert((o.kind.as_str(), o.name.as_str()));
        }
    }
    for d in repo.kustomization_docs() {
        let Some(root) = d.doc.root() else { continue };
        for (field, kind) in [
            ("configMapGenerator", CoreKind::ConfigMap.name()),
            ("secretGenerator", CoreKind::Secret.name()),
        ] {
            for g in root.get(field).map(|n| n.items()).unwrap_or_default() {
                if let Some(name) = g.str_at(&["name"]) {
                    out.insert((kind, name));
                }
            }
        }
    }
    out
}

fn targets<'r>(repo: &'r Repository) -> Vec<Target<'r>> {
    let mut out = Vec::new();
    let mut collect = |o: &'r crate::model::index::Object, path: &[&str], field: &'static str| {
        let node = repo.node(o);
        for item in node.path(path).map(|n| n.items()).unwrap_or_default() {
            let optional = item.str_at(&["optional"]) == Some("true");
            let (Some(kind), Some(name)) = (item.str_at(&["kind"]), item.get("name")) else {
                continue;
            };
            if optional
                || !matches!(
                    CoreKind::from_name(kind),
                    Some(CoreKind::ConfigMap | CoreKind::Secret)
                )
                || name.as_str().is_none()
            {
                continue;
            }
            out.push(Target {
                referrer: o,
                field,
                file: o.file,
                kind,
                name,
            });
        }
    };
    for o in repo
        .of_kind(FluxKind::HelmRelease)
        .filter(|o| o.is_flux(FluxKind::HelmRelease))
    {
        collect(o, &["spec", "valuesFrom"], "valuesFrom");
    }
    for o in repo.flux_kustomizations() {
        collect(
            o,
            &["spec", "postBuild", "substituteFrom"],
            "substituteFrom",
        );
    }
    out
}

/// The ConfigMap and Secret references (`valuesFrom`, `substituteFrom`) to nothing the
/// repository defines, reported as `meta` (the source-not-found rule, FV401).
pub fn check(repo: &Repository, meta: &'static RuleMeta, out: &mut Vec<Diagnostic>) {
    let targets = targets(repo);
    if targets.is_empty() {
        return;
    }
    let defined = defined(repo);
    // Every (kind, name) some reference asks for: a name asked for as both kinds is meant as
    // both (an ObjectBucketClaim's pair, a Secret made by hand beside a ConfigMap in Git).
    let referenced: BTreeSet<(&str, &str)> = targets
        .iter()
        .filter_map(|t| Some((t.kind, t.name.as_str()?)))
        .collect();
    for t in &targets {
        let name = t.name.as_str().unwrap_or_default();
        if name.is_empty() || is_templated(name) || defined.contains(&(t.kind, name)) {
            continue;
        }
        let other_kind = if t.kind == CoreKind::Secret.name() {
            CoreKind::ConfigMap.name()
        } else {
            CoreKind::Secret.name()
        };
        let help = if defined.contains(&(other_kind, name)) {
            if referenced.contains(&(other_kind, name)) {
                continue;
            }
            format!("`{name}` is defined as a {other_kind}: set `kind: {other_kind}`")
        } else {
            let mut close: Vec<&str> = defined
                .iter()
                .filter(|(k, n)| {
                    *k == t.kind && crate::model::graph::edit_distance(n, name) <= TYPO_DISTANCE
                })
                .map(|(_, n)| *n)
                .collect();
            if close.len() != 1 {
                // Nothing in Git it could have meant: it may well come from outside Git.
                continue;
            }
            format!("did you mean `{}`?", close.remove(0))
        };
        out.push(
            Diagnostic::new(
                meta,
                t.file,
                t.name.span(),
                format!(
                    "{} `{}` takes `{}` from {} `{name}`, which is not in the repository: Flux fails the reconcile until it exists (or set `optional: true`)",
                    t.referrer.kind, t.referrer.name, t.field, t.kind
                ),
            )
            .primary_label(format!("no {} with this name", t.kind))
            .help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn hr(values_from: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: apps\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: podinfo\n      version: \"6.5.0\"\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n  valuesFrom:\n{values_from}"
        )
    }
    const REPO: &str = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: apps\nspec:\n  interval: 1h\n  url: https://charts.example.com\n";
    const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: apps\nresources:\n  - release.yaml\n  - repo.yaml\nconfigMapGenerator:\n  - name: podinfo-values\n    files:\n      - values.yaml=values.yaml\ngeneratorOptions:\n  disableNameSuffixHash: true\n";

    fn run(values_from: &str) -> Vec<(String, usize, usize)> {
        let release = hr(values_from);
        findings_of(
            "FV401",
            &[
                ("apps/kustomization.yaml", KUSTOMIZATION),
                ("apps/release.yaml", &release),
                ("apps/repo.yaml", REPO),
                ("apps/values.yaml", "replicaCount: 2\n"),
            ],
        )
    }

    #[test]
    fn fires_on_a_typo_of_a_generated_config_map() {
        assert_eq!(
            run("    - kind: ConfigMap\n      name: podinfo-valeus\n"),
            vec![("apps/release.yaml".to_string(), 17, 13)]
        );
    }

    #[test]
    fn fires_on_the_wrong_kind() {
        assert_eq!(
            run("    - kind: Secret\n      name: podinfo-values\n"),
            vec![("apps/release.yaml".to_string(), 17, 13)]
        );
    }

    #[test]
    fn quiet_when_defined_optional_templated_or_possibly_external() {
        for ok in [
            "    - kind: ConfigMap\n      name: podinfo-values\n",
            "    - kind: ConfigMap\n      name: podinfo-valeus\n      optional: true\n",
            "    - kind: ConfigMap\n      name: ${VALUES}\n",
            "    - kind: Secret\n      name: podinfo-db-credentials\n",
        ] {
            assert_eq!(run(ok), vec![], "{ok}");
        }
    }
}
