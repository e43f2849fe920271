use std::collections::{BTreeMap, HashSet};

use crate::diag::{Diagnostic, Severity};
use crate::flux_api::FluxKind;
use crate::model::index::{Object, Repository};
use crate::model::rendered::{Node, Origin};
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

The Kustomization is read as it is applied: as its parent's build renders it, so a
`postBuild` (or a variable) that a parent's patch adds counts, in each cluster that applies it.
It judges only what it can know: a Kustomization whose `substituteFrom` names a ConfigMap or
Secret that is not defined in Git (an ExternalSecret, a generator, an operator, something
created by hand), or a Secret that an ExternalSecret in Git writes (its keys come from the
store, whatever a Secret of that name in Git holds), `optional: true` or not, is not judged,
and neither is any Kustomization
where an admission webhook adds variables (a MutatingWebhookConfiguration on Flux
Kustomizations, or the `kustomize-mutating-webhook` chart that installs one). A Kustomization
that ends up with no variable at all substitutes nothing, and is not judged either.

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

fn disabled(root: &NodeRef<'_>) -> bool {
    ["labels", "annotations"].iter().any(|field| {
        root.path(&["metadata", field, DISABLE_KEY])
            .and_then(|v| v.as_str())
            == Some("disabled")
    })
}

/// Every scalar of a tree (keys included, marked `true`), depth first.
fn scalars<'a>(node: NodeRef<'a>, key: bool, out: &mut Vec<(NodeRef<'a>, bool)>) {
    match node.kind() {
        Kind::Mapping(_) => {
            for (k, v) in node.entries() {
                scalars(k, true, out);
                scalars(v, false, out);
            }
        }
        Kind::Sequence(_) => {
            for item in node.items() {
                scalars(item, false, out);
            }
        }
        _ => {
            if node.as_str().is_some() {
                out.push((node, key));
            }
        }
    }
}

/// Whether two spans share a byte (an empty span counts as its first byte): a block scalar's
/// rendered origin may start at its header, the source tree's at its text.
fn overlaps(a: Span, b: Span) -> bool {
    a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1)
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
        let tree = repo.reconcile_tree();
        let mut reported = HashSet::new();
        for (idx, ks) in repo
            .of_kinds(&[FluxKind::Kustomization])
            .filter(|(_, ks)| ks.flux == Some(FluxKind::Kustomization))
        {
            // The Kustomization as applied: each copy a parent's build renders (a parent's
            // patches may add `postBuild`), or as written when no build renders it.
            let written;
            let mut applied: Vec<(&Node, Option<u16>)> = repo
                .judged_copies(ks)
                .into_iter()
                .map(|a| (&a.object.root, repo.cluster_index(&a.cluster)))
                .collect();
            if applied.is_empty() {
                // A cluster's root no build holds, as its bootstrap directory's build applied
                // it; its `substituteFrom` may be defined anywhere, as for one read as written.
                applied.extend(repo.applied_as_root(idx).map(|(_, n)| (n, None)));
            }
            if applied.is_empty() {
                // A cluster's build reaches its file but renders no copy: that build failed
                // there (a YAML error, a broken kustomization), so Flux applies nothing of it
                // and the finding at the cause says so.
                if !tree.clusters_of(ks.file).is_empty() {
                    continue;
                }
                written = Node::from_yaml(repo.node(ks), ks.file);
                applied.push((&written, None));
            }
            let mut files: Option<Vec<usize>> = None;
            for (node, cluster) in applied {
                let Some(post) = node.path(&["spec", "postBuild"]) else {
                    continue;
                };
                // The `substituteFrom` definitions of the cluster applying this copy, when
                // several clusters each define one of that name.
                let defined_here = |o: &Object| cluster.is_none_or(|c| tree.applies(c, o.file));
                let Some(vars) = substitution::variables_of(repo, ks, node, &defined_here) else {
                    continue;
                };
                let files = files.get_or_insert_with(|| {
                    (0..repo.files.len())
                        .filter(|&f| tree.appliers(f).iter().any(|(k, _)| *k == idx))
                        .collect()
                });
                // Which cluster's variables these are, when clusters differ in them.
                let cluster_name = cluster
                    .filter(|_| repo.clusters().len() > 1)
                    .and_then(|c| repo.clusters().get(c as usize))
                    .map(|c| c.name.as_str());
                for &file in files.iter() {
                    judge_file(
                        repo,
                        (idx, ks, cluster_name),
                        file,
                        &vars,
                        post.origin,
                        &mut reported,
                        out,
                    );
                }
            }
        }
    }
}

/// The `${name}` uses of `file` that the variables `vars` of `ks` leave without a value.
fn judge_file(
    repo: &Repository,
    (idx, ks, cluster): (usize, &Object, Option<&str>),
    file: usize,
    vars: &BTreeMap<String, String>,
    post: Origin,
    reported: &mut HashSet<(usize, u32, String)>,
    out: &mut Vec<Diagnostic>,
) {
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
        // Where the builds of `ks` that hold this document keep its text: a value a kustomize
        // transformer replaced (the kustomization's `namespace:` over `namespace: ${NAMESPACE}`)
        // is not there, and post-build substitution never sees it.
        let copies: Vec<_> = repo
            .judged_copies_at(file, root.span().start)
            .filter(|a| a.kustomization == Some(idx))
            .collect();
        // Turned off in every copy (a kustomize patch may add the annotation).
        if !copies.is_empty()
            && copies
                .iter()
                .all(|a| substitution::disabled_in(&a.object.root))
        {
            continue;
        }
        // `namespace: ${NAMESPACE}` that every copy takes from elsewhere (the kustomization's
        // `namespace:`, a Flux `targetNamespace`): the variable never reaches substitution.
        let namespace = root.path(&["metadata", "namespace"]).map(|n| n.span());
        let namespace_replaced = namespace.is_some_and(|ns| {
            !copies.is_empty()
                && copies.iter().all(|a| {
                    a.object
                        .root
                        .path(&["metadata", "namespace"])
                        .is_none_or(|n| {
                            n.origin.file as usize != file || !overlaps(n.origin.span, ns)
                        })
                })
        });
        let mut nodes = Vec::new();
        scalars(root, false, &mut nodes);
        for (node, is_key) in nodes {
            let Some(text) = node.as_str() else { continue };
            if namespace_replaced && !is_key && namespace == Some(node.span()) {
                continue;
            }
            for u in substitution::uses(text) {
                if u.has_default || vars.contains_key(&u.name) {
                    continue;
                }
                let len = 3 + u.name.len();
                let span = use_span(source, &node, text, u.at, len);
                if !reported.insert((file, span.start, u.name.clone())) {
                    continue;
                }
                let defined: Vec<&str> = vars.keys().take(6).map(String::as_str).collect();
                let more = if vars.len() > 6 { ", …" } else { "" };
                let at = post.span.start as usize;
                out.push(
                    Diagnostic::new(
                        &META,
                        file,
                        span,
                        format!(
                            "`${{{}}}` has no value in Kustomization `{}`{} (it defines {}{more}): Flux substitutes the empty string",
                            u.name,
                            repo.applied_display_name(ks),
                            crate::rules::clusters_phrase(
                                cluster.as_slice(),
                                crate::rules::Phrase::AppliesIt
                            ),
                            defined.join(", ")
                        ),
                    )
                    .primary_label("no value, no default")
                    .label(
                        post.file as usize,
                        Span::new(at, at + "postBuild".len().min(post.span.len())),
                        "the variables it substitutes",
                    )
                    .help(format!(
                        "define `{name}` in `postBuild.substitute` or the ConfigMap/Secret in `substituteFrom`, give it a default (`${{{name}:=value}}`), or write `$${{{name}}}` if the text is meant literally",
                        name = u.name
                    )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{findings_of, flux_kustomization};

    use crate::rules::testing::BOOTSTRAP_KUSTOMIZATION as SYNC;

    fn apps(post_build: &str) -> String {
        flux_kustomization("apps", "./apps", "GitRepository", post_build)
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

    /// Issue 15: the Kustomization as its parent's build renders it. A parent's patch gives
    /// every child `postBuild`; the child's file has none.
    #[test]
    fn a_postbuild_a_parent_patch_adds_counts() {
        let parent = flux_kustomization(
            "apps-parent",
            "./kubernetes/flux",
            "GitRepository",
            "  patches:
    - target:
        kind: Kustomization
      patch: |
        - op: add
          path: /spec/postBuild
          value:
            substitute:
              APP: podinfo
",
        );
        let found = findings_of(
            "FV408",
            &[
                ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                ("clusters/production/parent.yaml", &parent),
                ("kubernetes/flux/apps.yaml", &apps("")),
                ("apps/web.yaml", CONFIGMAP),
            ],
        );
        // `${APP}` has the parent's value; `${DOMIAN}` has none.
        assert_eq!(found, vec![("apps/web.yaml".to_string(), 7, 17)]);
    }
    /// shamubernetes/home-k8s: a child's `namespace: ${KS_NAMESPACE}` that its parent's
    /// substitution fills; the message names the Kustomization as applied.
    #[test]
    fn the_message_names_the_kustomization_as_its_parent_substitutes_it() {
        let parent = flux_kustomization(
            "apps-parent",
            "./kubernetes/flux",
            "GitRepository",
            "  postBuild:\n    substitute:\n      KS_NAMESPACE: flux-system\n",
        );
        let child = apps("  postBuild:\n    substitute:\n      APP: podinfo\n").replace(
            "  namespace: flux-system\n",
            "  namespace: ${KS_NAMESPACE}\n",
        );
        let files = [
            ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
            ("clusters/production/parent.yaml", parent.as_str()),
            ("kubernetes/flux/apps.yaml", child.as_str()),
            ("apps/web.yaml", CONFIGMAP),
        ];
        let out = crate::engine::check_memory(&files, crate::config::Config::default());
        let messages: Vec<&str> = out
            .diagnostics
            .iter()
            .filter(|d| d.rule.code == "FV408")
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("in Kustomization `flux-system/apps`"),
            "{}",
            messages[0]
        );
    }
}
