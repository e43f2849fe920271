use crate::diag::{Diagnostic, FileId, Severity};
use crate::model::index::Repository;
use crate::model::kustomization::keyed_file;
use crate::model::substitution;
use crate::rules::{Rule, RuleMeta};
use crate::yaml::YamlProblem;

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
- A file read only as a `configMapGenerator` or `secretGenerator` input, in a build of a Flux
  Kustomization with `postBuild`: kustomize copies its text as is, Flux substitutes the
  variables, and its reader (Helm's `valuesFrom`, the application) parses the result. It is
  judged with every `${VAR}` replaced by a word: `[vault.${DOMAIN}:8200]` is no finding there.
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

    /// A file only a generator reads reaches its reader through a ConfigMap or Secret, and,
    /// for a Flux Kustomization that substitutes variables, substituted: judged as such.
    fn refine(&self, repo: &Repository, finding: &mut Diagnostic) -> bool {
        let file = finding.file;
        let readers = generator_readers(repo, file);
        if readers.is_empty() {
            return true;
        }
        finding.help = Some(
            "fix the syntax: kustomize copies this file as is into the ConfigMap or Secret it \
             generates, and what reads it there (Helm's `valuesFrom`, the application) cannot \
             parse it"
                .into(),
        );
        let text = &repo.files[file].text;
        if !text.contains("${") || !substituted(repo, &readers) {
            return true;
        }
        let vars = substitution::uses(text)
            .into_iter()
            .map(|u| (u.name, "fluxvet".to_string()))
            .collect();
        let substituted = substitution::substitute(text, &vars);
        // Kept when the substituted text is still no YAML.
        crate::yaml::parse::parse_stream(&substituted)
            .problems
            .iter()
            .any(|p| matches!(p, YamlProblem::Syntax { .. }))
    }
}

/// The kustomization files whose `configMapGenerator` or `secretGenerator` reads `file`, when
/// nothing else does (no build loads it as objects or as a patch).
pub(super) fn generator_readers(repo: &Repository, file: FileId) -> Vec<FileId> {
    let tree = repo.reconcile_tree();
    if tree.loaded_as_objects(file) || tree.is_patch_file(file) {
        return Vec::new();
    }
    let path = repo.path(file);
    repo.kustomization_files()
        .iter()
        .copied()
        .filter(|&k| {
            repo.kustomization(k).is_some_and(|k| {
                k.generators
                    .iter()
                    .flat_map(|g| g.files.iter().chain(&g.envs))
                    .any(|f| {
                        let (_, p) = keyed_file(&f.path);
                        crate::fs::join_normalized(&k.dir, p).as_deref() == Some(path)
                    })
            })
        })
        .collect()
}

/// Whether a Flux Kustomization with `postBuild` applies one of the kustomization files
/// `readers`: kustomize copies the text as is, then Flux substitutes the result.
fn substituted(repo: &Repository, readers: &[FileId]) -> bool {
    let tree = repo.reconcile_tree();
    readers.iter().any(|&k| {
        tree.appliers(k).iter().any(|&(ks, _)| {
            repo.objects.get(ks).is_some_and(|ks| {
                repo.node(ks).path(&["spec", "postBuild"]).is_some()
                    || repo
                        .judged_copies(ks)
                        .iter()
                        .any(|a| a.object.root.path(&["spec", "postBuild"]).is_some())
            })
        })
    })
}
