use std::collections::HashSet;

use crate::diag::{Diagnostic, Severity};
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};

pub struct BuildFailed;

pub static META: RuleMeta = RuleMeta {
    code: "FV405",
    name: "build-failed",
    severity: Severity::Error,
    summary: "The kustomize build of a path a cluster applies fails, reported at the cause.",
    docs: r#"## What it does
In a repository with clusters, builds every path each cluster applies in process, as kustomize
v5 (and so kustomize-controller) does, and reports why a build fails, at the cause: a bare
string under `patches:` (kustomize v5 rejects it), a patch whose file is missing, two resources
with one identity, an invalid JSON 6902 operation, a resource cycle, YAML kustomize cannot
decode. The build is checked against `kubectl kustomize` on every kustomization directory of the
corpus and fixtures. What kustomize accepts silently (a targeted patch that matches nothing) is
not reported here, and what cannot be built offline (remote bases, `helmCharts`) is a render gap
(FV406), never a failure.

## Why is this bad?
Flux applies nothing from a path whose build fails: the Kustomization stops reconciling and
everything under it drifts from Git.

## Example
```yaml
# apps/kustomization.yaml
resources:
  - ../base
patches:
  - podinfo-values.yaml
```

## Use instead
```yaml
patches:
  - path: podinfo-values.yaml
```
"#,
};

impl Rule for BuildFailed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    /// A build that fails on a missing file, invalid YAML or a non-object is said better by
    /// the rule about that.
    fn yields_to(&self) -> &'static [&'static RuleMeta] {
        use crate::rules::{refs, yaml};
        static OVER: &[&RuleMeta] = &[
            &yaml::yaml_syntax::META,
            &yaml::duplicate_key::META,
            &yaml::not_a_k8s_object::META,
            &refs::kustomize_resource_missing::META,
        ];
        OVER
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        if repo.clusters().is_empty() {
            return;
        }
        let mut seen = HashSet::new();
        for e in &repo.applied_set().errors {
            if !e.fatal || e.file >= repo.files.len() {
                continue;
            }
            if !seen.insert((e.file, e.span.start, e.message.clone())) {
                continue;
            }
            out.push(
                Diagnostic::new(&META, e.file, e.span, e.message.clone())
                    .primary_label("the build fails here")
                    .help("kustomize-controller fails the same way: fix this entry and the Kustomization applies again"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{BOOTSTRAP_KUSTOMIZATION as SYNC, findings_of};

    use crate::rules::testing::APPS_KUSTOMIZATION as APPS;
    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata:\n  a: \"1\"\n";

    #[test]
    fn a_bare_string_patch_fails_the_build() {
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\npatches:\n  - values.yaml\n";
        let got = findings_of(
            "FV405",
            &[
                ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                ("clusters/production/apps.yaml", APPS),
                ("apps/kustomization.yaml", kustomization),
                ("apps/cm.yaml", CM),
                ("apps/values.yaml", CM),
            ],
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "apps/kustomization.yaml");
        assert_eq!(got[0].1, 6);
    }

    #[test]
    fn quiet_on_a_good_build_and_without_clusters() {
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\npatches:\n  - path: values.yaml\n";
        let files = [
            ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
            ("clusters/production/apps.yaml", APPS),
            ("apps/kustomization.yaml", kustomization),
            ("apps/cm.yaml", CM),
            ("apps/values.yaml", CM),
        ];
        assert!(findings_of("FV405", &files).is_empty());
        assert!(findings_of("FV405", &files[2..]).is_empty());
    }
}
