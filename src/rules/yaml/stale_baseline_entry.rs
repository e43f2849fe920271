use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by `crate::baseline` after every other rule has run and the baseline is applied.
pub struct StaleBaselineEntry;

pub static META: RuleMeta = RuleMeta {
    code: "FV002",
    name: "stale-baseline-entry",
    severity: Severity::Warning,
    summary: "An entry of the `--baseline` file matches no finding (or names an unwaivable rule).",
    docs: r#"## What it does
Reports an entry of the baseline file given to `fluxvet check --baseline FILE` that matches no
finding of the checked tree any more, or that names a rule the config lists as `unwaivable` (whose
findings a baseline never hides).

## Why is this bad?
A baseline records the findings a repository had when it adopted fluxvet, so that only new ones
are reported. An entry whose finding was fixed would hide the same problem if it came back, and
the file no longer says what is left to fix.

## Example
```yaml
findings:
  - fingerprint: "9b2f0c6d41e7a853"
    rule: "FV202 chart-version-unpinned"
    file: "apps/podinfo/release.yaml"
    reason: "existing when fluxvet was adopted"
```
after `version: "*"` was pinned to `version: "6.5.4"`.

## Use instead
Delete the entry, or write the baseline again: `fluxvet baseline -o .fluxvet-baseline.yaml`.
"#,
};

impl Rule for StaleBaselineEntry {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
