use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by `fluxvet diff` (src/diff), never by `check`.
pub struct OwnershipMove;

pub static META: RuleMeta = RuleMeta {
    code: "FV807",
    name: "ownership-move",
    severity: Severity::Warning,
    summary: "(diff) An object moves from one Flux Kustomization to another: if the old owner prunes after the new one applied, it is deleted until the next reconcile.",
    docs: r#"## What it does
`fluxvet diff` reports an object that, in the same cluster, is applied by one Flux Kustomization
in base and by another in head (a file moved between their paths).

## Why is this bad?
The two Kustomizations reconcile independently. If the old owner (with `prune: true`) runs after
the new one applied the object, it garbage-collects it: the object is deleted until the new owner
reconciles again, with downtime for a workload and data loss for a volume.

## Example
```text
~ Deployment web/frontend: Kustomization flux-system/apps -> flux-system/frontend
```

## Use instead
Annotate the live object with `kustomize.toolkit.fluxcd.io/prune: disabled` before the move and
remove the annotation after both Kustomizations reconciled, or move it in two steps.
"#,
};

impl Rule for OwnershipMove {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
