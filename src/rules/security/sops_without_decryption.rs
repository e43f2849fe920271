use crate::diag::{Diagnostic, FileId, Severity};
use crate::discover::KUSTOMIZATION_FILES;
use crate::flux_api::{FluxKind, KustomizeKind};
use crate::fs::join_normalized;
use crate::index::{Object, Repository, parent_dir};
use crate::rules::security::{file_text, generator_files};
use crate::rules::{Rule, RuleMeta};
use crate::secrets::text_is_sops;
use crate::source::Span;
use crate::yaml::NodeRef;

/// Which Flux Kustomization applies a SOPS file is a static guess: the deepest one whose
/// `spec.path` holds the file and whose kustomize build reaches it.
pub struct SopsWithoutDecryption;

pub static META: RuleMeta = RuleMeta {
    code: "FV602",
    name: "sops-without-decryption",
    severity: Severity::Error,
    summary: "A SOPS-encrypted document or secretGenerator file is applied by a Flux Kustomization without `decryption.provider: sops`.",
    docs: r#"## What it does
Finds SOPS-encrypted documents (a top-level `sops:` block with a `mac`) and kustomize
`secretGenerator` `envs`/`files` whose file is SOPS-encrypted, works out the Flux Kustomization
that applies them (the deepest one whose `spec.path` holds the file and whose kustomize build
reaches it), and reports when that Kustomization does not decrypt.

A Kustomization decrypts when its own `spec.decryption.provider` is `sops` (or a `${VAR}`), or
when a patch adds `decryption` to it: a Flux Kustomization's `spec.patches`, or the `patches`
of a `kustomization.yaml` (or of a kustomize Component it uses) that target `kind:
Kustomization` and whose text sets `decryption`. Such a patch covers every Kustomization
the patching Kustomization applies, wherever its file sits (a cluster's kustomization may list
`../../apps/db/ks.yaml`), and every Kustomization defined below the patching Kustomization's
path or the kustomization file's directory (the
pattern of many home-ops repositories, which add `decryption` to all their app Kustomizations).

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
        let mut inputs: Vec<(FileId, Span, String)> = Vec::new();
        for d in repo.docs.iter().filter(|d| d.sops) {
            let Some(root) = d.doc.root() else { continue };
            let Some((key, _)) = root.entry("sops") else {
                continue;
            };
            let what = match (root.str_at(&["kind"]), root.str_at(&["metadata", "name"])) {
                (Some(k), Some(n)) => format!("{k} \"{n}\""),
                _ => "this document".to_string(),
            };
            inputs.push((d.file, key.span(), format!("{what} is SOPS-encrypted")));
        }
        for g in generator_files(repo) {
            if file_text(repo, &g.path).is_some_and(|t| text_is_sops(&t)) {
                inputs.push((
                    g.kfile,
                    g.node.span(),
                    format!(
                        "secretGenerator \"{}\" reads the SOPS-encrypted `{}`",
                        g.generator.unwrap_or("?"),
                        g.path
                    ),
                ));
            }
        }
        if inputs.is_empty() {
            return;
        }
        let scopes = decryption_scopes(repo);
        let tree = repo.reconcile_tree();
        for (file, span, what) in inputs {
            // The Kustomizations whose build reaches the file (the reconcile tree). The deepest
            // one whose path holds the file decides; when none holds it, those that reach it
            // through kustomize `resources` (an overlay's `../base/app`) do.
            let appliers: Vec<&Object> = tree
                .appliers(file)
                .iter()
                .filter_map(|(i, _)| repo.objects.get(*i))
                .collect();
            let containing = repo.kustomizations_containing(file);
            let reaches = |ks: &Object| appliers.iter().any(|a| std::ptr::eq(*a, ks));
            let ks = match containing.iter().copied().find(|ks| reaches(ks)) {
                Some(ks) => (!decrypts(repo, ks, &scopes)).then_some(ks),
                None => appliers
                    .iter()
                    .copied()
                    .find(|ks| !decrypts(repo, ks, &scopes)),
            };
            let Some(ks) = ks else { continue };
            out.push(
                Diagnostic::new(
                    &META,
                    file,
                    span,
                    format!(
                        "{what}, but the Flux Kustomization \"{}\" that applies it has no `decryption.provider: sops`: kustomize-controller will not decrypt it and the Kustomization fails to reconcile",
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

/// Where patches add `decryption` to Flux Kustomizations: below these directories, and to
/// every Kustomization these Flux Kustomizations (indices into `Repository::objects`) apply,
/// wherever its file sits.
struct Scopes {
    dirs: Vec<String>,
    patching: Vec<usize>,
}

fn decrypts(repo: &Repository, ks: &Object, scopes: &Scopes) -> bool {
    let node = repo.node(ks);
    if let Some(p) = node.str_at(&["spec", "decryption", "provider"])
        && (p == "sops" || p.contains("${"))
    {
        return true;
    }
    let path = repo.path(ks.file);
    scopes
        .dirs
        .iter()
        .any(|s| s.is_empty() || path.starts_with(&format!("{s}/")))
        || repo
            .reconcile_tree()
            .appliers(ks.file)
            .iter()
            .any(|(parent, _)| scopes.patching.contains(parent))
}

/// Directories whose Flux Kustomizations get `decryption` from a patch, and the Flux
/// Kustomizations whose `spec.patches` add it to what they apply.
fn decryption_scopes(repo: &Repository) -> Scopes {
    let mut scopes = Vec::new();
    let mut patching = Vec::new();
    let mut components = Vec::new();
    for ks in repo.flux_kustomizations() {
        let Some(kp) = repo.kustomization_path(ks) else {
            continue;
        };
        let node = repo.node(ks);
        let patched = node
            .path(&["spec", "patches"])
            .map(|p| p.items())
            .unwrap_or_default()
            .iter()
            .any(|p| patch_adds_decryption(repo, "", p));
        let via_component = node
            .path(&["spec", "components"])
            .map(|c| c.items())
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.as_str().and_then(|c| join_normalized(&kp, c)))
            .any(|dir| kustomize_file_patches_decryption(repo, &dir));
        if patched || via_component {
            scopes.push(kp);
            patching.extend(repo.object_index(ks));
        }
    }
    for d in repo.kustomization_docs() {
        let path = repo.path(d.file);
        let dir = parent_dir(path);
        let Some(root) = d.doc.root() else { continue };
        if kustomize_root_patches_decryption(repo, dir, &root) {
            if root.str_at(&["kind"]).and_then(KustomizeKind::from_name)
                == Some(KustomizeKind::Component)
            {
                components.push(dir.to_string());
            } else {
                scopes.push(dir.to_string());
            }
        }
    }
    if !components.is_empty() {
        for d in repo.kustomization_docs() {
            let path = repo.path(d.file);
            let dir = parent_dir(path);
            let Some(root) = d.doc.root() else { continue };
            let uses = root
                .get("components")
                .map(|c| c.items())
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c.as_str().and_then(|c| join_normalized(dir, c)))
                .any(|c| components.contains(&c));
            if uses {
                scopes.push(dir.to_string());
            }
        }
    }
    Scopes {
        dirs: scopes,
        patching,
    }
}

fn kustomize_file_patches_decryption(repo: &Repository, dir: &str) -> bool {
    KUSTOMIZATION_FILES.iter().any(|n| {
        let p = join(dir, n);
        repo.file_id(&p)
            .into_iter()
            .flat_map(|f| repo.docs_of(f))
            .filter_map(|d| d.doc.root())
            .any(|r| kustomize_root_patches_decryption(repo, dir, &r))
    })
}

fn kustomize_root_patches_decryption(repo: &Repository, dir: &str, root: &NodeRef<'_>) -> bool {
    ["patches", "patchesStrategicMerge", "patchesJson6902"]
        .iter()
        .flat_map(|k| root.get(k).map(|p| p.items()).unwrap_or_default())
        .any(|p| patch_adds_decryption(repo, dir, &p))
}

/// A patch entry (inline text or a file) that targets Kustomizations and sets `decryption`.
fn patch_adds_decryption(repo: &Repository, dir: &str, p: &NodeRef<'_>) -> bool {
    let target_kind = p.str_at(&["target", "kind"]);
    if target_kind.is_some_and(|k| k != FluxKind::Kustomization.name()) {
        return false;
    }
    let text: Option<String> = if p.is_mapping() {
        match (p.str_at(&["patch"]), p.str_at(&["path"])) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(path)) => {
                join_normalized(dir, path).and_then(|f| file_text(repo, &f).map(|t| t.into_owned()))
            }
            _ => None,
        }
    } else {
        p.as_str().and_then(|s| {
            if s.contains('\n') {
                Some(s.to_string())
            } else {
                join_normalized(dir, s).and_then(|f| file_text(repo, &f).map(|t| t.into_owned()))
            }
        })
    };
    let Some(text) = text else { return false };
    text.contains("decryption") && (target_kind.is_some() || text.contains("kind: Kustomization"))
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
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
            ("kubernetes/apps/db/ks.yaml", child.as_str()),
            ("kubernetes/apps/db/app/secret.sops.yaml", SOPS_SECRET),
        ];
        assert_eq!(findings_of("FV602", &files), vec![]);
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
                "resources: [apps]\npatches:\n  - path: decrypt.yaml\n    target:\n      kind: Kustomization\n",
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
