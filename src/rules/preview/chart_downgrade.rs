use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by `fluxvet diff` (src/diff), never by `check`.
pub struct ChartDowngrade;

pub static META: RuleMeta = RuleMeta {
    code: "FV802",
    name: "chart-downgrade",
    severity: Severity::Warning,
    summary: "(diff) A chart version goes down: Helm rolls the release back to an older chart.",
    docs: r#"## What it does
`fluxvet diff` reports a chart version that is lower in head than in base.

## Why is this bad?
A downgrade runs the older chart against state (CRDs, migrations) written by the newer one.

## Example
```yaml
version: "1.16.2"   # base
version: "1.15.0"   # head
```

## Use instead
Roll forward with a fix, or downgrade deliberately after checking the chart supports it.
"#,
};

impl Rule for ChartDowngrade {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
