use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by `fluxvet diff` (src/diff), never by `check`.
pub struct ImmutableChange;

pub static META: RuleMeta = RuleMeta {
    code: "FV806",
    name: "immutable-change",
    severity: Severity::Error,
    summary: "(diff) A change updates a field the API server treats as immutable: the apply fails unless the Kustomization sets `force: true`.",
    docs: r#"## What it does
`fluxvet diff` reports a change, in what a cluster applies, to a field the API server refuses to
update in place: a Deployment's, StatefulSet's, DaemonSet's or ReplicaSet's `spec.selector`, a
StatefulSet's `spec.volumeClaimTemplates` (and `serviceName`, `podManagementPolicy`), a Job's
`spec.template` and `spec.selector`, a RoleBinding's or ClusterRoleBinding's `roleRef`, a
Service's `spec.clusterIP`, a PersistentVolumeClaim's `spec.storageClassName` and
`spec.accessModes`. Where the Flux Kustomization that applies the object sets `force: true`,
Flux recreates the object instead, and the finding says so at warning severity.

## Why is this bad?
The server-side apply fails with `field is immutable`: the whole Kustomization stops
reconciling until someone deletes the object by hand.

## Example
```yaml
spec:
  selector:
    matchLabels:
      app: web   # base: app: frontend
```

## Use instead
Keep the selector, or rename the object (a new object is created, the old one pruned), or set
`force: true` on the Kustomization for this change and accept the recreation.
"#,
};

impl Rule for ImmutableChange {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}

/// Whether `path` (a flattened field path of a `kind` object) is immutable once created.
pub fn is_immutable(kind: &str, path: &str) -> bool {
    let under = |prefix: &str| {
        path == prefix
            || path.starts_with(&format!("{prefix}."))
            || path.starts_with(&format!("{prefix}["))
    };
    match kind {
        "Deployment" | "DaemonSet" | "ReplicaSet" => under("spec.selector"),
        "StatefulSet" => {
            under("spec.selector")
                || under("spec.volumeClaimTemplates")
                || under("spec.serviceName")
                || under("spec.podManagementPolicy")
        }
        "Job" => under("spec.selector") || under("spec.template"),
        "RoleBinding" | "ClusterRoleBinding" => under("roleRef"),
        "Service" => under("spec.clusterIP"),
        "PersistentVolumeClaim" => under("spec.storageClassName") || under("spec.accessModes"),
        _ => false,
    }
}
