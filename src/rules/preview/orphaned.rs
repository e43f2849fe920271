use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by `fluxvet diff` (src/diff), never by `check`.
pub struct Orphaned;

pub static META: RuleMeta = RuleMeta {
    code: "FV808",
    name: "orphaned",
    severity: Severity::Info,
    summary: "(diff) An object leaves Git under a Kustomization with `prune: false`: it stays in the cluster with nothing managing it.",
    docs: r#"## What it does
`fluxvet diff` reports an object that exists in base and not in head when the Flux Kustomization
that applied it has `prune: false` (or no `prune`).

## Why is this bad?
Flux does not delete it: it keeps running in the cluster, unmanaged and forgotten, and drifts
from anything in Git.

## Example
```text
- ConfigMap apps/legacy-settings   (removed; Kustomization flux-system/apps has prune: false)
```

## Use instead
Delete the object from the cluster by hand after the change, or enable `prune: true` on the
Kustomization.
"#,
};

impl Rule for Orphaned {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
