use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by `fluxvet diff` (src/diff), never by `check`.
pub struct PruneDeletes;

pub static META: RuleMeta = RuleMeta {
    code: "FV803",
    name: "prune-deletes",
    severity: Severity::Warning,
    summary: "(diff) An object leaves Git under a Kustomization with prune: true: Flux deletes it (error for Namespaces, CRDs, PVCs, StatefulSets).",
    docs: r#"## What it does
`fluxvet diff` reports an object that exists in base but not in head when the Flux Kustomization that
applied it has `prune: true`: Flux garbage-collects it from the cluster. Deleting a Namespace,
CustomResourceDefinition, PersistentVolumeClaim or StatefulSet is an error, because data goes with it.

## Why is this bad?
Moving a file out of a Kustomization's path, or deleting it, deletes the live object.

## Example
```text
- PersistentVolumeClaim media/library   (removed; Kustomization flux-system/apps has prune: true)
```

## Use instead
Keep the object, move it to another Kustomization in the same commit, or annotate the live object
with `kustomize.toolkit.fluxcd.io/prune: disabled` before removing it from Git.
"#,
};

impl Rule for PruneDeletes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
