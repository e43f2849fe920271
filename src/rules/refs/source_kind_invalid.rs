use crate::diag::{Diagnostic, Severity};
use crate::flux_api::FluxKind;
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};

use super::{is_templated, source_refs};

pub struct SourceKindInvalid;

pub static META: RuleMeta = RuleMeta {
    code: "FV402",
    name: "source-kind-invalid",
    severity: Severity::Error,
    summary: "A `sourceRef`/`chartRef` uses a kind the field does not allow.",
    docs: r#"## What it does
Checks the `kind` of every source reference against what the Flux API accepts:
Kustomization `spec.sourceRef`: GitRepository, OCIRepository, Bucket, ExternalArtifact;
HelmRelease `spec.chart.spec.sourceRef` and HelmChart `spec.sourceRef`: HelmRepository,
GitRepository, Bucket; HelmRelease `spec.chartRef`: OCIRepository, HelmChart, ExternalArtifact;
ImageUpdateAutomation `spec.sourceRef`: GitRepository.

## Why is this bad?
The API server rejects the object (the CRD's enum), so nothing in it is applied. The common
mistakes are a HelmRelease pointing `chart.spec.sourceRef` at an OCIRepository (that needs
`chartRef`) and a Kustomization pointing at a HelmRepository.

## Example
```yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
spec:
  chart:
    spec:
      chart: podinfo
      sourceRef:
        kind: OCIRepository
        name: podinfo
```

## Use instead
```yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
spec:
  chartRef:
    kind: OCIRepository
    name: podinfo
```
"#,
};

impl Rule for SourceKindInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            flux_kinds: super::referring_kinds(),
            ..crate::rules::Reads::NOTHING
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        for r in source_refs(repo) {
            let Some(kind_node) = r.node.get("kind") else {
                continue;
            };
            let Some(kind) = kind_node.as_str() else {
                continue;
            };
            if is_templated(kind) || r.allows(kind) {
                continue;
            }
            let help = match (r.field, FluxKind::from_name(kind)) {
                ("spec.chart.spec.sourceRef", Some(FluxKind::OCIRepository)) => {
                    "an OCIRepository chart is referenced with `spec.chartRef: {kind: OCIRepository, name: …}` instead of `spec.chart`".to_string()
                }
                ("spec.chartRef", Some(FluxKind::HelmRepository)) => {
                    "a HelmRepository is used through `spec.chart.spec` (chart, version, sourceRef), not `chartRef`".to_string()
                }
                _ => format!("use one of: {}", r.allowed_names()),
            };
            out.push(
                Diagnostic::new(
                    &META,
                    r.referrer.file,
                    kind_node.span(),
                    format!(
                        "{} `{}` has `{}.kind: {kind}`, which the API server rejects: allowed kinds are {}",
                        r.referrer.kind,
                        r.referrer.name,
                        r.field,
                        r.allowed_names()
                    ),
                )
                .primary_label("kind not allowed here")
                .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    #[test]
    fn fires_on_oci_repository_in_chart_spec() {
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      sourceRef:
        kind: OCIRepository
        name: podinfo
";
        assert_eq!(
            findings_of("FV402", &[("hr.yaml", hr)]),
            vec![("hr.yaml".to_string(), 12, 15)]
        );
    }

    #[test]
    fn fires_on_helm_repository_for_kustomization() {
        let ks = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  sourceRef:
    kind: HelmRepository
    name: x
";
        assert_eq!(
            findings_of("FV402", &[("ks.yaml", ks)]),
            vec![("ks.yaml".to_string(), 7, 11)]
        );
    }

    #[test]
    fn quiet_on_allowed_kinds() {
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chartRef:
    kind: OCIRepository
    name: podinfo
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  sourceRef:
    kind: ${SOURCE_KIND}
    name: x
";
        assert!(findings_of("FV402", &[("hr.yaml", hr)]).is_empty());
    }
}
