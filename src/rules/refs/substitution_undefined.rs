use std::collections::{BTreeSet, HashSet};

use crate::diag::{Diagnostic, Severity};
use crate::flux_api::FluxKind;
use crate::model::index::{Object, Repository};
use crate::model::substitution::{self, DISABLE_KEY};
use crate::rules::{Rule, RuleMeta};
use crate::source::Span;
use crate::yaml::{Kind, NodeRef, Style};

pub struct SubstitutionUndefined;

pub static META: RuleMeta = RuleMeta {
    code: "FV408",
    name: "substitution-undefined",
    severity: Severity::Error,
    summary: "A `${var}` in what a Kustomization with postBuild substitution applies has no value and no default: Flux writes the empty string.",
    docs: r#"## What it does
For every Flux Kustomization with `spec.postBuild`, reads the variables it defines: the keys of
`substitute`, and the `data` (and `stringData`) keys of each ConfigMap or Secret named in
`substituteFrom` (in the Kustomization's namespace; SOPS-encrypted Secrets keep their keys in
clear). Then it reads every `${name}` in the objects the Kustomization applies, as Flux's
substitution does (`$${name}` is an escaped literal; objects labelled or annotated
`kustomize.toolkit.fluxcd.io/substitute: disabled` are skipped), and reports a name that has no
value and no default (`${name:=default}`, `${name:-default}`, `${name=default}`,
`${name-default}`).

It judges only what it can know: a Kustomization whose `substituteFrom` names a ConfigMap or
Secret that is not defined in Git (an ExternalSecret, a generator, something created by hand),
or a repository where some patch adds `postBuild` to Kustomizations, is not judged. A
Kustomization that ends up with no variable at all substitutes nothing, and is not judged either.

## Why is this bad?
Flux replaces an unknown variable with the empty string, silently: a hostname loses its
subdomain, a storage class or an image tag becomes empty, and the object is applied that way
(or rejected by the API server, failing the whole Kustomization).

## Example
```yaml
# the Kustomization
spec:
  postBuild:
    substitute:
      APP: podinfo
# an object it applies
spec:
  hosts: ["${APP}.${DOMIAN}"]
```

## Use instead
```yaml
spec:
  hosts: ["${APP}.${DOMAIN:=example.com}"]
```
or define the variable in `substitute` or the ConfigMap/Secret in `substituteFrom`; write
`$${NAME}` where the text is meant literally (a shell script in a ConfigMap).
"#,
};

/// What a Kustomization's substitution knows, or `None` when it cannot be known offline.
struct Variables {
    names: BTreeSet<String>,
}

impl Variables {
    fn of(repo: &Repository, ks: &Object) -> Option<Variables> {
        let names = substitution::variables(repo, ks)?.into_keys().collect();
        Some(Variables { names })
    }
}

/// Some patch in the repository may add `postBuild` to Kustomizations (a parent's
/// `spec.patches`, a kustomization's `patches`): what a Kustomization defines is then not what
/// its own file says.
fn postbuild_patched(repo: &Repository) -> bool {
    repo.kustomization_files()
        .iter()
        .any(|&f| repo.files[f].text.contains("postBuild"))
        || repo.flux_kustomizations().any(|ks| {
            repo.node(ks)
                .path(&["spec", "patches"])
                .is_some_and(|p| text_of(repo, ks, p.span()).contains("postBuild"))
        })
}

fn text_of<'a>(repo: &'a Repository, o: &Object, span: Span) -> &'a str {
    repo.files[o.file].text.get(span.range()).unwrap_or("")
}

fn disabled(root: &NodeRef<'_>) -> bool {
    ["labels", "annotations"].iter().any(|field| {
        root.path(&["metadata", field, DISABLE_KEY])
            .and_then(|v| v.as_str())
            == Some("disabled")
    })
}

/// Every scalar of a tree (keys included), depth first.
fn scalars<'a>(node: NodeRef<'a>, out: &mut Vec<NodeRef<'a>>) {
    match node.kind() {
        Kind::Mapping(_) => {
            for (k, v) in node.entries() {
                scalars(k, out);
                scalars(v, out);
            }
        }
        Kind::Sequence(_) => {
            for item in node.items() {
                scalars(item, out);
            }
        }
        _ => {
            if node.as_str().is_some() {
                out.push(node);
            }
        }
    }
}

/// The span of a use inside a scalar: exact where the scalar's text is its source bytes (a
/// plain or quoted scalar on one line), else the whole scalar.
fn use_span(source: &str, node: &NodeRef<'_>, text: &str, at: usize, len: usize) -> Span {
    let span = node.span();
    let quote = matches!(
        node.style(),
        Some(Style::SingleQuoted | Style::DoubleQuoted)
    ) as usize;
    let start = span.start as usize + quote;
    match source.get(start..start + text.len()) {
        Some(raw) if raw == text => Span::new(start + at, start + at + len),
        _ => span,
    }
}

impl Rule for SubstitutionUndefined {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            flux_kinds: &[FluxKind::Kustomization],
            ..crate::rules::Reads::NOTHING
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let with_post: Vec<(usize, &Object)> = repo
            .of_kinds(&[FluxKind::Kustomization])
            .filter(|(_, ks)| ks.flux == Some(FluxKind::Kustomization))
            .filter(|(_, ks)| repo.node(ks).path(&["spec", "postBuild"]).is_some())
            .collect();
        if with_post.is_empty() || postbuild_patched(repo) {
            return;
        }
        let tree = repo.reconcile_tree();
        let mut reported = HashSet::new();
        for (idx, ks) in with_post {
            let Some(vars) = Variables::of(repo, ks) else {
                continue;
            };
            let files =
                (0..repo.files.len()).filter(|&f| tree.appliers(f).iter().any(|(k, _)| *k == idx));
            for file in files {
                let source = &repo.files[file].text;
                for entry in repo.docs_of(file) {
                    if !entry.doc.uses_substitution() {
                        continue;
                    }
                    let Some(root) = entry.doc.root() else {
                        continue;
                    };
                    if disabled(&root) {
                        continue;
                    }
                    let mut nodes = Vec::new();
                    scalars(root, &mut nodes);
                    for node in nodes {
                        let Some(text) = node.as_str() else { continue };
                        for u in substitution::uses(text) {
                            if u.has_default || vars.names.contains(&u.name) {
                                continue;
                            }
                            let len = 3 + u.name.len();
                            let span = use_span(source, &node, text, u.at, len);
                            if !reported.insert((file, span.start, u.name.clone())) {
                                continue;
                            }
                            let defined: Vec<&str> =
                                vars.names.iter().take(6).map(String::as_str).collect();
                            let more = if vars.names.len() > 6 { ", …" } else { "" };
                            let post = repo
                                .node(ks)
                                .path(&["spec", "postBuild"])
                                .map(|p| p.span())
                                .unwrap_or(ks.name_span);
                            out.push(
                                Diagnostic::new(
                                    &META,
                                    file,
                                    span,
                                    format!(
                                        "`${{{}}}` has no value in Kustomization `{}` (it defines {}{more}): Flux substitutes the empty string",
                                        u.name,
                                        crate::model::reconcile::display_name(repo, ks),
                                        defined.join(", ")
                                    ),
                                )
                                .primary_label("no value, no default")
                                .label(ks.file, Span::new(post.start as usize, post.start as usize + "postBuild".len().min(post.len())), "the variables it substitutes")
                                .help(format!(
                                    "define `{name}` in `postBuild.substitute` or the ConfigMap/Secret in `substituteFrom`, give it a default (`${{{name}:=value}}`), or write `$${{{name}}}` if the text is meant literally",
                                    name = u.name
                                )),
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    use crate::rules::testing::BOOTSTRAP_KUSTOMIZATION as SYNC;

    fn apps(post_build: &str) -> String {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
{post_build}"
        )
    }

    const CONFIGMAP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: web
  namespace: apps
data:
  host: \"${APP}.${DOMIAN}\"
  port: \"${PORT:=8080}\"
  script: \"echo $${HOME}\"
";

    #[test]
    fn fires_on_a_variable_with_no_value_and_no_default() {
        let ks =
            apps("  postBuild:\n    substitute:\n      APP: podinfo\n      DOMAIN: example.com\n");
        assert_eq!(
            findings_of(
                "FV408",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/apps.yaml", &ks),
                    ("apps/web.yaml", CONFIGMAP),
                ]
            ),
            vec![("apps/web.yaml".to_string(), 7, 17)]
        );
    }

    #[test]
    fn variables_from_a_configmap_in_git_count() {
        let ks = apps(
            "  postBuild:\n    substitute:\n      APP: podinfo\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-settings\n",
        );
        let settings = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: flux-system\ndata:\n  DOMIAN: example.com\n";
        assert!(
            findings_of(
                "FV408",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/apps.yaml", &ks),
                    ("clusters/production/settings.yaml", settings),
                    ("apps/web.yaml", CONFIGMAP),
                ]
            )
            .is_empty()
        );
    }

    #[test]
    fn quiet_where_the_variables_cannot_be_known_or_substitution_is_off() {
        let files = |ks: &str, cm: &str| -> Vec<(String, usize, usize)> {
            findings_of(
                "FV408",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/apps.yaml", ks),
                    ("apps/web.yaml", cm),
                ],
            )
        };
        // A Secret created outside Git (an ExternalSecret): its keys are unknown.
        let external = apps(
            "  postBuild:\n    substitute:\n      APP: podinfo\n    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n",
        );
        assert!(files(&external, CONFIGMAP).is_empty());
        // Annotated off.
        let ks = apps("  postBuild:\n    substitute:\n      APP: podinfo\n");
        let off = CONFIGMAP.replace(
            "  namespace: apps\n",
            "  namespace: apps\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
        );
        assert!(files(&ks, &off).is_empty());
        // No postBuild: Flux substitutes nothing, `${DOMIAN}` stays as written.
        assert!(files(&apps(""), CONFIGMAP).is_empty());
    }
}
