use crate::diag::{Diagnostic, Severity};
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};

pub struct RenderGap;

pub static META: RuleMeta = RuleMeta {
    code: "FV406",
    name: "render-gap",
    severity: Severity::Info,
    summary: "Part of what a cluster applies cannot be known offline (a Kustomization reading a source other than this repository): nothing behind it is judged.",
    docs: r#"## What it does
In a repository with clusters, reports a Flux Kustomization that a cluster applies whose
`sourceRef` is a source defined in the repository but other than the cluster's own sync source:
another Git repository or branch, an OCI artifact, a Bucket. What it applies lives there, not in
this checkout, so fluxvet cannot build it offline. It says so once, here, and judges nothing
behind it: in particular the directory its `spec.path` names in this checkout is not taken to
be what it applies.

Sources declared in `external_sources` of `.fluxvet.yaml` are known to live elsewhere and are
not reported. A source that is not defined at all is FV401's finding, not this one.

## Why is this bad?
Likewise, what a cluster's in-process kustomize build cannot render offline (a remote base or
component, `helmCharts`, a kustomize feature the build does not implement) is reported once, at
the entry, and nothing is guessed in its place.

It is not a defect: it marks the edge of what fluxvet checked, so a clean report is not read
as covering manifests it never saw.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: tenant-a
spec:
  path: ./deploy
  sourceRef:
    kind: GitRepository
    name: tenant-a   # https://github.com/org/tenant-a
```

## Use instead
Lint the other repository with fluxvet in its own CI; declare the source in
`external_sources` to acknowledge the gap. When the artifact is pushed from a directory of
this repository (`flux push artifact --path=./deploy`), map the source to it in `sources:`
(`[{kind: OCIRepository, name: apps, path: ./deploy}]`): fluxvet then follows the
Kustomizations reading it into that directory. Without that, an OCIRepository defined here
whose Kustomizations read two or more different paths that exactly one directory here holds
(`./controllers` and `./configs`, both below `kubernetes/infra`) is taken as pushed from that
directory; one read only at its root (`path: ./`) stays a gap.
"#,
};

impl Rule for RenderGap {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            flux_kinds: crate::flux_api::KUSTOMIZATION_SOURCES,
            ..crate::rules::Reads::NOTHING
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        // What a cluster's build could not render offline (a remote base, `helmCharts`).
        if !repo.clusters().is_empty() {
            let mut seen = std::collections::HashSet::new();
            for g in &repo.applied_set().gaps {
                if g.file < repo.files.len()
                    && seen.insert((g.file, g.span.start, g.message.clone()))
                {
                    out.push(
                        Diagnostic::new(&META, g.file, g.span, g.message.clone())
                            .primary_label("not built")
                            .help("nothing this part renders is checked; to have it judged, put it where fluxvet reads it (a remote part vendored into the repository)"),
                    );
                }
            }
        }
        for &idx in repo.reconcile_tree().foreign() {
            let Some(ks) = repo.objects.get(idx) else {
                continue;
            };
            let node = repo.node(ks);
            let Some(sref) = node.path(&["spec", "sourceRef"]) else {
                continue;
            };
            let (Some(kind), Some(name)) = (sref.str_at(&["kind"]), sref.str_at(&["name"])) else {
                continue;
            };
            if name.contains("${") {
                continue;
            }
            let namespace = sref
                .str_at(&["namespace"])
                .or_else(|| repo.effective_namespace(ks));
            let declared_external = repo.config.external_sources.iter().any(|e| {
                e.kind == kind
                    && e.name == name
                    && (e.namespace.is_none() || e.namespace.as_deref() == namespace)
            });
            if declared_external {
                continue;
            }
            let Some(source) = repo.of_kind(kind).find(|o| {
                o.group() == "source.toolkit.fluxcd.io"
                    && o.name == name
                    && (namespace.is_none()
                        || repo
                            .effective_namespace(o)
                            .is_none_or(|n| Some(n) == namespace))
            }) else {
                continue;
            };
            let from = repo
                .node(source)
                .str_at(&["spec", "url"])
                .map(|u| format!(" ({u})"))
                .unwrap_or_default();
            let Some(name_node) = sref.get("name") else {
                continue;
            };
            out.push(
                Diagnostic::new(
                    &META,
                    ks.file,
                    name_node.span(),
                    format!(
                        "Kustomization `{}` applies {kind} `{name}`{from}, not this repository: what it applies cannot be built offline and is not checked",
                        repo.applied_display_name(ks)
                    ),
                )
                .primary_label("another source")
                .label(source.file, source.name_span, "defined here")
                .help(format!(
                    "lint that source where it lives; to acknowledge the gap, declare it in .fluxvet.yaml: `external_sources: [{{kind: {kind}, name: {name}}}]`"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    use crate::rules::testing::BOOTSTRAP_SYNC as SYNC;
    const TENANT: &str = "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: tenant-a
  namespace: flux-system
spec:
  interval: 1m
  url: https://github.com/example/tenant-a
  ref:
    tag: v1.0.0
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: tenant-a
  namespace: flux-system
spec:
  interval: 10m
  path: ./deploy
  prune: true
  sourceRef:
    kind: GitRepository
    name: tenant-a
";

    #[test]
    fn a_kustomization_reading_another_repository_is_a_gap() {
        assert_eq!(
            findings_of(
                "FV406",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/tenants.yaml", TENANT),
                ]
            ),
            vec![("clusters/production/tenants.yaml".to_string(), 23, 11)]
        );
    }

    #[test]
    fn quiet_on_own_sources_undefined_sources_and_without_clusters() {
        // Own source: not a gap.
        let own = TENANT.replace("name: tenant-a\n\"", "");
        let own = own.replace("    name: tenant-a\n", "    name: flux-system\n");
        assert!(
            findings_of(
                "FV406",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/tenants.yaml", &own),
                ]
            )
            .is_empty()
        );
        // The source is defined nowhere: FV401's finding, not a gap.
        let ks_only = TENANT.split("---\n").nth(1).unwrap();
        assert!(
            findings_of(
                "FV406",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/tenants.yaml", ks_only),
                ]
            )
            .is_empty()
        );
        // No cluster: nothing says what is applied.
        assert!(findings_of("FV406", &[("tenants.yaml", TENANT)]).is_empty());
    }
}
