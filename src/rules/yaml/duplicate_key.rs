use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by the parser while it builds each mapping.
pub struct DuplicateKey;

pub static META: RuleMeta = RuleMeta {
    code: "FV102",
    name: "duplicate-key",
    severity: Severity::Error,
    summary: "A mapping repeats a key; both places are labelled.",
    docs: r#"## What it does
Reports every key that appears twice in the same mapping, labelling both places.

## Why is this bad?
Kubernetes either rejects the object or silently keeps one of the values
(kustomize-controller#243): what you reviewed is not what runs.

## Example
```yaml
spec:
  interval: 10m
  timeout: 5m
  interval: 1h
```

## Use instead
```yaml
spec:
  interval: 1h
  timeout: 5m
```
"#,
};

impl Rule for DuplicateKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
