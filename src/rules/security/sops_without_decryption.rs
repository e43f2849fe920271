use crate::diag::{Diagnostic, FileId, Severity};
use crate::model::Node;
use crate::model::applied::Applied;
use crate::model::index::{Object, Repository};
use crate::rules::security::{file_text, generator_files};
use crate::rules::{Rule, RuleMeta};
use crate::secrets::text_is_sops;
use crate::source::Span;

/// Judged on the model: every build that applies a SOPS file, with the Flux Kustomization that
/// applies it as Flux applies it.
pub struct SopsWithoutDecryption;

pub static META: RuleMeta = RuleMeta {
    code: "FV602",
    name: "sops-without-decryption",
    severity: Severity::Error,
    summary: "A SOPS-encrypted document or secretGenerator file is applied by a Flux Kustomization without `decryption.provider: sops`.",
    docs: r#"## What it does
Finds SOPS-encrypted documents (a top-level `sops:` block with a `mac`) and kustomize
`secretGenerator` `envs`/`files` whose file is SOPS-encrypted, and, for every build that
applies them, the Flux Kustomization that does, as Flux applies it: rendered by the build of
its parent, so the parent's `spec.patches`, a kustomize `patches` entry of the parent's
kustomization (or a Component it uses) and post-build substitution all count, whichever
directory the child's file sits in. Reports when that Kustomization has no
`decryption.provider: sops` (a `${VAR}` counts as set). A file no build applies is not
judged; in a repository without clusters, the builds are those of its own Flux Kustomizations
and root kustomizations.

## Why is this bad?
kustomize-controller refuses to apply a SOPS-encrypted Secret without decryption
("configuring decryption is required"), and other encrypted documents fail the dry-run with
`.sops: field not declared in schema`: the whole Kustomization stops reconciling. Generator
files are turned into Secrets holding the ciphertext.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  path: ./apps   # holds secret.sops.yaml
  prune: true
```

## Use instead
```yaml
spec:
  path: ./apps
  prune: true
  decryption:
    provider: sops
    secretRef:
      name: sops-age
```
"#,
};

impl Rule for SopsWithoutDecryption {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        // (file, span, what, the judged copies that carry it).
        let mut inputs: Vec<(FileId, Span, String, Vec<&Applied>)> = Vec::new();
        for d in repo.docs.iter().filter(|d| d.sops) {
            let Some(root) = d.doc.root() else { continue };
            let Some((key, _)) = root.entry("sops") else {
                continue;
            };
            let what = match (root.str_at(&["kind"]), root.str_at(&["metadata", "name"])) {
                (Some(k), Some(n)) => format!("{k} \"{n}\""),
                _ => "this document".to_string(),
            };
            let copies = repo.judged_copies_at(d.file, root.span().start).collect();
            inputs.push((
                d.file,
                key.span(),
                format!("{what} is SOPS-encrypted"),
                copies,
            ));
        }
        for g in generator_files(repo) {
            if !file_text(repo, &g.path).is_some_and(|t| text_is_sops(&t)) {
                continue;
            }
            // The Secret the generator entry makes, in every build that reads the file.
            let at = g.node.span().start;
            let copies = repo
                .judged()
                .iter()
                .filter(|a| {
                    let o = a.object.root.origin;
                    o.file as usize == g.kfile
                        && a.object.kind == "Secret"
                        && o.span.start <= at
                        && at < o.span.end
                })
                .collect();
            inputs.push((
                g.kfile,
                g.node.span(),
                format!(
                    "secretGenerator \"{}\" reads the SOPS-encrypted `{}`",
                    g.generator.unwrap_or("?"),
                    g.path
                ),
                copies,
            ));
        }
        for (file, span, what, copies) in inputs {
            // The Flux Kustomizations applying a copy without decrypting, with their clusters.
            let mut without: Vec<(&Object, &str)> = Vec::new();
            let mut with = false;
            for a in &copies {
                let Some(ks) = a.kustomization.and_then(|i| repo.objects.get(i)) else {
                    continue;
                };
                let rendered = repo.rendered_applier(a);
                let decrypts = if rendered.is_empty() {
                    decrypts(&Node::from_yaml(repo.node(ks), ks.file))
                } else {
                    rendered.iter().any(|r| decrypts(r))
                };
                if decrypts {
                    with = true;
                } else if !without
                    .iter()
                    .any(|(k, c)| std::ptr::eq(*k, ks) && *c == a.cluster)
                {
                    without.push((ks, a.cluster.as_str()));
                }
            }
            let Some(&(ks, _)) = without.first() else {
                continue;
            };
            let clusters: Vec<&str> = without.iter().map(|(_, c)| *c).collect();
            // Named only where some build decrypts it and another does not.
            let phrase = if with {
                crate::rules::clusters_phrase(&clusters, crate::rules::Phrase::In)
            } else {
                String::new()
            };
            out.push(
                Diagnostic::new(
                    &META,
                    file,
                    span,
                    format!(
                        "{what}, but the Flux Kustomization \"{}\" that applies it{phrase} has no `decryption.provider: sops`: kustomize-controller will not decrypt it and the Kustomization fails to reconcile",
                        ks.name
                    ),
                )
                .primary_label("encrypted with SOPS")
                .label(ks.file, ks.name_span, "applies the file without decryption")
                .help(format!(
                    "add to Kustomization \"{}\": `spec.decryption: {{provider: sops, secretRef: {{name: sops-age}}}}` (the Secret holding the age or GPG key)",
                    ks.name
                )),
            );
        }
    }
}

/// Whether a Flux Kustomization, as applied, decrypts with SOPS (a `${VAR}` counts as set).
fn decrypts(ks: &Node) -> bool {
    ks.str_at(&["spec", "decryption", "provider"])
        .is_some_and(|p| p == "sops" || p.contains("${"))
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    const SOPS_SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:m]\n  version: 3.9.0\n";

    fn ks(name: &str, path: &str, extra: &str) -> String {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{extra}"
        )
    }

    #[test]
    fn fires_when_the_applying_kustomization_does_not_decrypt() {
        let k = ks("apps", "./apps", "");
        let f = findings_of(
            "FV602",
            &[
                ("clusters/prod/apps.yaml", &k),
                ("apps/kustomization.yaml", "resources: [secret.sops.yaml]\n"),
                ("apps/secret.sops.yaml", SOPS_SECRET),
            ],
        );
        assert_eq!(f, vec![("apps/secret.sops.yaml".into(), 7, 1)]);
    }

    #[test]
    fn fires_on_a_base_that_an_overlay_without_decryption_pulls_in() {
        let with = "  decryption:\n    provider: sops\n";
        let files = |staging: &str| {
            vec![
                (
                    "clusters/staging/apps.yaml",
                    ks("apps", "./apps/staging", staging),
                ),
                (
                    "clusters/production/apps.yaml",
                    ks("apps", "./apps/production", with),
                ),
                (
                    "apps/staging/kustomization.yaml",
                    "resources: [../base/db]\n".to_string(),
                ),
                (
                    "apps/production/kustomization.yaml",
                    "resources: [../base/db]\n".to_string(),
                ),
                (
                    "apps/base/db/kustomization.yaml",
                    "resources: [secret.sops.yaml]\n".to_string(),
                ),
                ("apps/base/db/secret.sops.yaml", SOPS_SECRET.to_string()),
            ]
        };
        let run = |staging: &str| {
            let f = files(staging);
            let f: Vec<(&str, &str)> = f.iter().map(|(p, t)| (*p, t.as_str())).collect();
            findings_of("FV602", &f)
        };
        assert_eq!(
            run(""),
            vec![("apps/base/db/secret.sops.yaml".into(), 7, 1)]
        );
        assert_eq!(run(with), vec![]);
    }

    #[test]
    fn quiet_with_decryption_or_a_decryption_patch() {
        let own = ks("apps", "./apps", "  decryption:\n    provider: sops\n");
        let files = [
            ("clusters/prod/apps.yaml", own.as_str()),
            ("apps/secret.sops.yaml", SOPS_SECRET),
        ];
        assert_eq!(findings_of("FV602", &files), vec![]);

        // The home-ops pattern: the parent patches decryption into every child Kustomization.
        let parent = ks(
            "cluster-apps",
            "./kubernetes/apps",
            "  patches:\n    - patch: |-\n        apiVersion: kustomize.toolkit.fluxcd.io/v1\n        kind: Kustomization\n        metadata:\n          name: not-used\n        spec:\n          decryption:\n            provider: sops\n      target:\n        group: kustomize.toolkit.fluxcd.io\n        kind: Kustomization\n",
        );
        let child = ks("db", "./kubernetes/apps/db/app", "");
        let files = [
            ("kubernetes/flux/cluster/ks.yaml", parent.as_str()),
            (
                "kubernetes/apps/kustomization.yaml",
                "resources: [db/ks.yaml]\n",
            ),
            ("kubernetes/apps/db/ks.yaml", child.as_str()),
            ("kubernetes/apps/db/app/secret.sops.yaml", SOPS_SECRET),
        ];
        assert_eq!(findings_of("FV602", &files), vec![]);
        // Without a kustomization there, Flux's generated one for the parent's path takes
        // every manifest below it: the parent, which does not decrypt, applies the Secret too.
        assert_eq!(
            findings_of("FV602", &[files[0], files[2], files[3]]),
            vec![("kubernetes/apps/db/app/secret.sops.yaml".into(), 7, 1)]
        );
    }

    #[test]
    fn quiet_when_no_kustomization_build_reaches_the_file() {
        let k = ks("apps", "./apps", "");
        let files = [
            ("clusters/prod/apps.yaml", k.as_str()),
            ("apps/kustomization.yaml", "resources: [deploy.yaml]\n"),
            ("apps/secret.sops.yaml", SOPS_SECRET),
            ("talos/secret.sops.yaml", SOPS_SECRET),
        ];
        assert_eq!(findings_of("FV602", &files), vec![]);
    }

    #[test]
    fn kustomize_patch_in_parent_directory_counts() {
        let child = ks("db", "./apps/db", "");
        let files = [
            (
                "flux/kustomization.yaml",
                "resources: [apps/db.yaml]\npatches:\n  - path: decrypt.yaml\n    target:\n      kind: Kustomization\n",
            ),
            (
                "flux/decrypt.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: x\nspec:\n  decryption:\n    provider: sops\n",
            ),
            ("flux/apps/db.yaml", child.as_str()),
            ("apps/db/secret.sops.yaml", SOPS_SECRET),
        ];
        assert_eq!(findings_of("FV602", &files), vec![]);
    }

    #[test]
    fn a_parent_patch_covers_children_whose_files_sit_outside_its_path() {
        // `apps` (path ./clusters/production/apps) lists ../../../apps/db/ks.yaml: the child
        // Kustomization `db` is applied by `apps`, whose spec.patches add decryption to every
        // Kustomization it applies, wherever the child's file sits.
        let parent = ks(
            "apps",
            "./clusters/production/apps",
            "  patches:\n    - patch: |\n        - op: add\n          path: /spec/decryption\n          value: {provider: sops, secretRef: {name: sops-age}}\n      target:\n        kind: Kustomization\n",
        );
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../../apps/db/ks.yaml\n";
        let child = ks("db", "./apps/db/app", "");
        let files = |parent: &str| {
            findings_of(
                "FV602",
                &[
                    (
                        "clusters/production/flux-system/gotk-sync.yaml",
                        &ks("flux-system", "./clusters/production", ""),
                    ),
                    ("clusters/production/apps.yaml", parent),
                    ("clusters/production/apps/kustomization.yaml", kustomization),
                    ("apps/db/ks.yaml", &child),
                    ("apps/db/app/secret.sops.yaml", SOPS_SECRET),
                ],
            )
        };
        assert!(files(&parent).is_empty(), "{:?}", files(&parent));
        // Without the parent's patch, the child does not decrypt.
        assert_eq!(
            files(&ks("apps", "./clusters/production/apps", "")),
            vec![("apps/db/app/secret.sops.yaml".to_string(), 7, 1)]
        );
    }
}
