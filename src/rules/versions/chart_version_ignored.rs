use crate::diag::{Diagnostic, Severity};
use crate::flux_api::FluxKind;
use crate::model::index::Repository;
use crate::rules::versions::chart_sites;
use crate::rules::{Rule, RuleMeta};

pub struct ChartVersionIgnored;

pub static META: RuleMeta = RuleMeta {
    code: "FV204",
    name: "chart-version-ignored",
    severity: Severity::Warning,
    summary: "A chart version is set while the chart comes from a GitRepository or Bucket: Flux ignores it.",
    docs: r#"## What it does
Reports a chart `version` on a `HelmRelease` (`spec.chart.spec`) or `HelmChart` whose
`sourceRef.kind` is `GitRepository` or `Bucket`.

## Why is this bad?
Flux builds such a chart from the path in the source as it is at the source's revision and uses
the version in its `Chart.yaml`; the `version` field is ignored. It reads like a pin but pins
nothing: what is installed changes whenever the source's revision does.

## Example
```yaml
spec:
  chart:
    spec:
      chart: ./charts/podinfo
      version: "6.7.1"
      sourceRef:
        kind: GitRepository
        name: podinfo
```

## Use instead
```yaml
spec:
  chart:
    spec:
      chart: ./charts/podinfo
      sourceRef:
        kind: GitRepository
        name: podinfo   # pin the GitRepository's ref to a tag or commit
```
"#,
};

impl Rule for ChartVersionIgnored {
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
        for site in chart_sites(repo) {
            if !site.version_ignored() {
                continue;
            }
            let (Some(text), Some((_, node))) = (site.version_text(), site.version) else {
                continue;
            };
            // `*` is the default Flux fills in anyway; writing it out misleads no one.
            if text.trim() == "*" {
                continue;
            }
            let source = site.source_kind.unwrap_or(FluxKind::GitRepository.name());
            out.push(
                Diagnostic::new(
                    &META,
                    site.object.file,
                    node.span(),
                    format!(
                        "Flux ignores `version: {text}` for a chart from a {source}: it builds the chart as the source holds it and uses the version in its Chart.yaml"
                    ),
                )
                .primary_label("ignored")
                .help(if source == FluxKind::Bucket.name() {
                    "remove `version`: the chart is whatever the bucket holds at that path, so version the path (e.g. `./charts/podinfo-6.7.1`) instead"
                } else {
                    "remove `version` and pin the GitRepository's `ref` to a `tag` or `commit` instead"
                }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn release(version_line: &str, kind: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chart:
    spec:
      chart: ./charts/podinfo
{version_line}      sourceRef:
        kind: {kind}
        name: podinfo
"
        )
    }

    #[test]
    fn fires_for_git_and_bucket_sources() {
        for kind in ["GitRepository", "Bucket"] {
            let hr = release("      version: \"6.7.1\"\n", kind);
            assert_eq!(
                findings_of("FV204", &[("hr.yaml", &hr)]),
                vec![("hr.yaml".to_string(), 9, 16)],
                "{kind}"
            );
        }
        let hc = "apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: podinfo
spec:
  chart: ./charts/podinfo
  version: 6.7.1
  sourceRef:
    kind: GitRepository
    name: podinfo
";
        assert_eq!(
            findings_of("FV204", &[("hc.yaml", hc)]),
            vec![("hc.yaml".to_string(), 7, 12)]
        );
    }

    #[test]
    fn quiet_otherwise() {
        for (line, kind) in [
            ("", "GitRepository"),
            ("      version: \"*\"\n", "GitRepository"),
            ("      version: \"6.7.1\"\n", "HelmRepository"),
        ] {
            let hr = release(line, kind);
            assert!(
                findings_of("FV204", &[("hr.yaml", &hr)]).is_empty(),
                "{line}{kind}"
            );
        }
    }
}
