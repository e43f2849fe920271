use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by `fluxvet diff` (src/diff), never by `check`.
pub struct BringUpReordered;

pub static META: RuleMeta = RuleMeta {
    code: "FV804",
    name: "bring-up-reordered",
    severity: Severity::Info,
    summary: "(diff) A dependsOn list changes: Flux brings the platform up in a new order.",
    docs: r#"## What it does
`fluxvet diff` reports a changed `spec.dependsOn` of a HelmRelease or Kustomization.

## Why is this bad?
dependsOn decides what waits for what; a change re-orders the bring-up and the recovery after an
outage.

## Example
```yaml
dependsOn:
  - name: cert-manager   # base
  - name: kyverno        # head
```

## Use instead
Check the new order against the canonical order (`fluxvet graph`).
"#,
};

impl Rule for BringUpReordered {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
