use crate::diag::Severity;
use crate::rules::{Rule, RuleMeta};

/// Reported by the parser itself; see `rules::yaml::problems_to_diagnostics`.
pub struct YamlSyntax;

pub static META: RuleMeta = RuleMeta {
    code: "FV101",
    name: "yaml-syntax",
    severity: Severity::Error,
    summary: "The file does not parse as a YAML stream (reported at the cause).",
    docs: r#"## What it does
Reports every file that does not parse as a YAML stream, at the position of the cause (the
unclosed `[`, the bad indentation) with a second label where the parser gave up. Documents before
the error are still checked, and parsing resumes at the next `---`. Binary files, text that is not
UTF-8 and documents whose aliases expand explosively ("billion laughs") are reported too.

## Why is this bad?
Flux applies a path as a whole: one unparsable file stops the whole Kustomization from
reconciling, and the cluster drifts from Git until someone notices.

## Example
```yaml
spec:
  values:
    tolerations: [{key: a, operator: Exists}
```

## Use instead
```yaml
spec:
  values:
    tolerations: [{key: a, operator: Exists}]
```
"#,
};

impl Rule for YamlSyntax {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
