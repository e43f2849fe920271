use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by `fluxvet diff` (src/diff), never by `check`.
pub struct ChartVersionBump;

pub static META: RuleMeta = RuleMeta {
    code: "FV801",
    name: "chart-version-bump",
    severity: Severity::Warning,
    summary: "(diff) A chart version changes: patch and minor bumps are info, a major bump is a warning.",
    docs: r#"## What it does
`fluxvet diff` classifies every chart version change between two revisions (HelmRelease
`spec.chart.spec.version`, HelmChart `spec.version`, OCIRepository `spec.ref.tag`) as patch, minor or
major. Patch and minor bumps are reported at info severity, a major bump as a warning.

## Why is this bad?
A major chart version usually carries breaking changes to values, CRDs or defaults; Flux will
upgrade the release at the next reconcile.

## Example
```yaml
version: "1.16.2"   # base
version: "2.0.0"    # head: a major bump
```

## Use instead
Read the chart's upgrade notes, test the bump in a dev environment first, then promote it.
"#,
};

impl Rule for ChartVersionBump {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
