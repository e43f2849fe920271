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
UTF-8 (nor UTF-16 after a byte order mark, which go-yaml reads too) and documents whose aliases
expand explosively ("billion laughs") are reported too.

The question is whether Flux can read the file, and kustomize-controller reads YAML with
go-yaml v3 (through kyaml), which is more lenient than the YAML 1.2 specification in places.
Where fluxvet's parser and go-yaml v3 disagree, go-yaml's answer wins:
- A quoted scalar (`'…'` or `"…"`) whose continuation lines sit at or left of the key's
  indentation, as controller-gen used to write CRD descriptions
  (`description: 'first line` / `second line'` at the key's column): go-yaml v3 does not check
  indentation inside quoted scalars, so this is not a finding, and the value is go-yaml's
  (continuation lines folded into one string).
- A flow collection (`[…]`, `{…}`) whose items or closing bracket sit at or left of the key's
  indentation (`args: [` … `]` with `]` under `args`; yaml-test-suite VJP3): go-yaml v3, like
  libyaml, checks no indentation inside a flow collection, so this is not a finding either.
  Left an error where joining its lines would change a value or hide text: a comment, a blank
  line, or a scalar continued across a line inside it.
- Still reported, as go-yaml v3 rejects them as well: an unclosed quoted scalar, an unknown
  escape (`"\q"`), a document marker (`---`) at the start of a line inside a quoted scalar, a
  flow collection never closed.
- Known remaining difference: a tab that indents a quoted scalar's continuation line left of
  the key's indentation is still reported; go-yaml v3 accepts it.

## Why is this bad?
Flux applies a path as a whole: one unparsable file stops the whole Kustomization from
reconciling, and the cluster drifts from Git until someone notices.

## Example
```yaml
spec:
  values:
    tolerations: [{key: a, operator: Exists}
```
Not a finding (go-yaml v3 reads `description` as one string):
```yaml
data:
  description: 'first line
  second line'
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
