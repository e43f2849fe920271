use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by the suppression pass (`crate::suppress`) after every other rule has run.
pub struct UnusedSuppression;

pub static META: RuleMeta = RuleMeta {
    code: "FV001",
    name: "unused-suppression",
    severity: Severity::Warning,
    summary: "A `# fluxvet-ignore` comment suppresses nothing (or names no rule).",
    docs: r#"## What it does
Reports a `# fluxvet-ignore: CODE` or `# fluxvet-ignore-file: CODE` comment that suppresses no
finding, or that names something that is not a fluxvet rule.

## Why is this bad?
A stale suppression hides the next real problem on that line and tells reviewers something that is
no longer true.

## Example
```yaml
# fluxvet-ignore: FV202 upstream only publishes ranges
version: "1.2.3"
```

## Use instead
```yaml
version: "1.2.3"
```

Suppressions are written `# fluxvet-ignore: FV202 reason` on the line before the finding or at the
end of its line, or `# fluxvet-ignore-file: FV601 reason` (usually at the top of the file) for the
whole file. Rules are named by code or name, several separated by commas.
"#,
};

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
