use crate::diag::{Diagnostic, Severity};
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};
use crate::yaml::YamlProblem;

/// Reported by the parser while it builds each mapping.
pub struct DuplicateKey;

pub static META: RuleMeta = RuleMeta {
    code: "FV102",
    name: "duplicate-key",
    severity: Severity::Error,
    summary: "A mapping repeats a key; both places are labelled.",
    docs: r#"## What it does
Reports every key that appears twice in the same mapping, labelling both places.

A file only a `configMapGenerator` or `secretGenerator` reads is no Kubernetes object:
kustomize copies its text as is, and the application reading it parses it. Its duplicate keys
are reported (Helm's `valuesFrom`, like most YAML readers, keeps only one value or fails),
except in a file that repeats a key three times or more in one mapping: such a file is written
for a reader that takes repeated keys as repeated settings (Fluent Bit's YAML configuration,
with one `rename:` line per field of its `modify` filter), and fluxvet does not know it.

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

    /// A file only a generator reads is parsed by its application, not by Kubernetes: judged
    /// as such, and left alone when it repeats keys on purpose.
    fn refine(&self, repo: &Repository, finding: &mut Diagnostic) -> bool {
        let file = finding.file;
        if super::yaml_syntax::generator_readers(repo, file).is_empty() {
            return true;
        }
        if repeats_keys_on_purpose(&repo.files[file].text) {
            return false;
        }
        finding.help = Some(
            "keep one of the two: kustomize copies this file as is into the ConfigMap or Secret \
             it generates, and what reads it there (Helm's `valuesFrom`, the application) \
             rejects it or keeps only one value"
                .into(),
        );
        true
    }
}

/// Whether some mapping of `text` holds one key three times or more: an accident repeats a
/// key once; a format whose reader takes repeated keys as repeated settings repeats it often.
fn repeats_keys_on_purpose(text: &str) -> bool {
    let mut firsts: Vec<(usize, usize)> = Vec::new();
    for p in crate::yaml::parse::parse_stream(text).problems {
        if let YamlProblem::DuplicateKey { first, .. } = p {
            let start = first.start as usize;
            match firsts.iter_mut().find(|(s, _)| *s == start) {
                Some((_, n)) => *n += 1,
                None => firsts.push((start, 1)),
            }
        }
    }
    firsts.iter().any(|&(_, n)| n >= 2)
}
