use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by `fluxvet diff` (src/diff), never by `check`.
pub struct ReleaseReinstall;

pub static META: RuleMeta = RuleMeta {
    code: "FV805",
    name: "release-reinstall",
    severity: Severity::Warning,
    summary: "(diff) A HelmRelease changes releaseName, targetNamespace or storageNamespace: the release is reinstalled.",
    docs: r#"## What it does
`fluxvet diff` reports a HelmRelease whose `spec.releaseName`, `spec.targetNamespace` or
`spec.storageNamespace` changes.

## Why is this bad?
helm-controller cannot upgrade a release into a new name or namespace: it uninstalls the old release
and installs a new one, with downtime and possibly lost state.

## Example
```yaml
targetNamespace: monitoring   # base
targetNamespace: observability   # head
```

## Use instead
Plan the move: install the new release alongside, migrate, then remove the old one.
"#,
};

impl Rule for ReleaseReinstall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
