use crate::diag::{Diagnostic, Severity};
use crate::model::artifact::{Artifact, Exclusion};
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};

pub struct KustomizationPathMissing;

pub static META: RuleMeta = RuleMeta {
    code: "FV403",
    name: "kustomization-path-missing",
    severity: Severity::Error,
    summary: "A Flux Kustomization's `spec.path` on this repository's source does not exist, is left out of the artifact by `.sourceignore`/`spec.ignore`, or uses backslashes.",
    docs: r#"## What it does
For every Flux Kustomization whose `sourceRef` is this repository (the bootstrap
`flux-system` source or another source the repository syncs itself from), checks that
`spec.path`, taken from the repository root, is a directory in the tree, and that
source-controller puts it in the artifact it makes of the repository: a `.sourceignore`
file (in any directory, governing the paths below it), the source's `spec.ignore` (read
after the `.sourceignore` files, so its `!pattern` re-includes), or, when neither has a
pattern, source-controller's defaults (`*.png`, `*.zip`, `.github/`, `cloudbuild.yaml`, …)
may leave it out. The message names the file and line of the pattern, labelled there.
Paths with backslashes are reported too: Flux joins paths with `/` only (flux2#2245).
Paths with `${VAR}` are skipped.

## Why is this bad?
kustomize-controller fails with `kustomization path not found` and applies nothing from that
Kustomization; everything that depends on it waits.

## Example
```yaml
spec:
  path: ./apps/prodction
  sourceRef:
    kind: GitRepository
    name: flux-system
```

The same when the directory exists but is ignored:
```text
# .sourceignore
apps/
```

## Use instead
```yaml
spec:
  path: ./apps/production
```
and a `.sourceignore` that leaves the reconciled directories in.

A Kustomization in a file that Terraform commits into another repository (the `content` of a
`github_repository_file`/`gitlab_repository_file` in a `.tf` file above it) is not judged: its
path is in that repository.
"#,
};

impl Rule for KustomizationPathMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let own = crate::model::reconcile::reconciled_sources(repo);
        let mut checked = Vec::new();
        let mut missing = Vec::new();
        for ks in repo.flux_kustomizations() {
            if !crate::model::reconcile::source_is_own(repo, ks, own)
                || committed_elsewhere(repo, repo.path(ks.file))
            {
                continue;
            }
            let Some(node) = repo.node(ks).path(&["spec", "path"]) else {
                continue;
            };
            let Some(raw) = node.as_str() else { continue };
            if super::is_templated(raw) {
                continue;
            }
            if raw.contains('\\') {
                out.push(
                    Diagnostic::new(
                        &META,
                        ks.file,
                        node.span(),
                        format!(
                            "Kustomization `{}` has a backslash in `spec.path`: Flux treats it as part of a file name, so the path is not found",
                            ks.name
                        ),
                    )
                    .primary_label("backslash")
                    .help(format!("use forward slashes: `{}`", raw.replace('\\', "/"))),
                );
                continue;
            }
            // Relative to the root of the source the applying clusters read (a repository
            // kept in a sub-directory of this checkout), when they agree.
            let roots: Vec<&str> = repo
                .reconcile_tree()
                .clusters_of(ks.file)
                .iter()
                .filter_map(|&c| repo.clusters().get(c as usize))
                .map(|c| c.source_root.as_str())
                .collect();
            let root = roots
                .first()
                .copied()
                .filter(|r| roots.iter().all(|x| x == r))
                .unwrap_or("");
            let problem = match crate::fs::join_normalized(root, raw) {
                None => Some("climbs above the repository root".to_string()),
                Some(p) if repo.tree.is_dir(&p) => {
                    checked.push(true);
                    if let Some(why) = Artifact::excluded_for(repo, ks, &p, true) {
                        excluded(ks, node.span(), &p, why, out);
                    }
                    continue;
                }
                Some(p) if repo.tree.is_file(&p) => {
                    Some(format!("`{p}` is a file; Flux needs a directory"))
                }
                Some(p) => Some(format!("`{p}` does not exist in the repository")),
            };
            checked.push(problem.is_none());
            if let Some(problem) = problem {
                missing.push((ks, node.span(), raw, problem));
            }
        }
        // When several paths are checked and none exists, the scan root is not the repository
        // root (a subdirectory was checked): every path would be reported, wrongly.
        if checked.len() >= 2 && checked.iter().all(|ok| !ok) {
            return;
        }
        if missing.is_empty() {
            return;
        }
        let dirs = directories(repo);
        for (ks, span, raw, problem) in missing {
            let help = suggestion(&dirs, raw)
                .map(|s| {
                    format!("did you mean `./{s}`? (paths are relative to the repository root)")
                })
                .unwrap_or_else(|| {
                    "point `spec.path` at a directory, relative to the repository root".into()
                });
            out.push(
                Diagnostic::new(
                    &META,
                    ks.file,
                    span,
                    format!(
                        "Kustomization `{}`: `spec.path` {problem}: kustomize-controller fails with \"kustomization path not found\" and applies nothing",
                        ks.name
                    ),
                )
                .primary_label("not a directory in this repository")
                .help(help),
            );
        }
    }
}

/// A path that exists in Git but that the source's ignore rules leave out of the artifact.
fn excluded(
    ks: &crate::model::index::Object,
    span: crate::source::Span,
    path: &str,
    why: Exclusion,
    out: &mut Vec<Diagnostic>,
) {
    let mut d = Diagnostic::new(
        &META,
        ks.file,
        span,
        format!(
            "Kustomization `{}`: `spec.path` `{path}` is left out of the source's artifact by {}: kustomize-controller fails with \"kustomization path not found\" and applies nothing",
            ks.name, why.described
        ),
    )
    .primary_label("not in the artifact Flux fetches")
    .help("remove the pattern that excludes the path (or re-include it with `!pattern`), or point `spec.path` at a directory Flux receives");
    if let Some((file, at)) = why.at {
        d = d.label(file, at, format!("excludes `{path}`"));
    }
    out.push(d);
}

/// Every directory that holds a scanned file, once.
fn directories(repo: &Repository) -> Vec<&str> {
    let mut dirs: Vec<&str> = repo
        .files
        .iter()
        .map(|f| crate::model::index::parent_dir(&f.path))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    dirs
}

/// A directory whose path ends like the missing one (a typo in a leading segment, or a path
/// written relative to the Kustomization's file).
fn suggestion(dirs: &[&str], raw: &str) -> Option<String> {
    let p = crate::fs::join_normalized("", raw)?;
    let last = p.rsplit('/').next()?;
    if last.is_empty() {
        return None;
    }
    let suffix = format!("/{last}");
    let mut found = dirs.iter().filter(|d| **d == last || d.ends_with(&suffix));
    let first = found.next()?;
    found.next().is_none().then(|| first.to_string())
}

/// Whether `file` is the content Terraform commits into a repository
/// (`resource "github_repository_file"` with `content = file("${path.module}/resources/x.yaml")`
/// in a `.tf` file of a directory above it): its `spec.path` is a directory of that
/// repository, not of this one.
fn committed_elsewhere(repo: &Repository, file: &str) -> bool {
    let mut dir = crate::model::index::parent_dir(file);
    loop {
        let rel = if dir.is_empty() {
            file
        } else {
            &file[dir.len() + 1..]
        };
        let used = format!("${{path.module}}/{rel}\"");
        let found = crate::model::kustomization::terraform_files(repo, dir)
            .iter()
            .any(|text| {
                // The block of a `resource "<provider>_repository_file" "<name>"`.
                text.split("resource \"").skip(1).any(|block| {
                    block
                        .split('"')
                        .next()
                        .is_some_and(|t| t.ends_with("_repository_file"))
                        && block.contains(&used)
                })
            });
        if found {
            return true;
        }
        if dir.is_empty() {
            return false;
        }
        dir = crate::model::index::parent_dir(dir);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn ks(path: &str) -> String {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        )
    }
    const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n";

    #[test]
    fn fires_on_missing_path() {
        let k = ks("./apps/prodction");
        assert_eq!(
            findings_of(
                "FV403",
                &[("clusters/apps.yaml", &k), ("apps/production/ns.yaml", NS)]
            ),
            vec![("clusters/apps.yaml".to_string(), 8, 9)]
        );
    }

    #[test]
    fn fires_on_backslash() {
        let k = ks("'.\\apps\\production'");
        assert_eq!(
            findings_of(
                "FV403",
                &[("clusters/apps.yaml", &k), ("apps/production/ns.yaml", NS)]
            ),
            vec![("clusters/apps.yaml".to_string(), 8, 9)]
        );
    }

    #[test]
    fn quiet_on_existing_variable_or_foreign_source() {
        let ok = ks("./apps/production");
        let var = ks("./apps/${CLUSTER}");
        let foreign = ks("./elsewhere").replace("name: flux-system\n", "name: other-repo\n");
        for k in [ok, var, foreign] {
            assert!(
                findings_of(
                    "FV403",
                    &[("clusters/apps.yaml", &k), ("apps/production/ns.yaml", NS)]
                )
                .is_empty(),
                "{k}"
            );
        }
    }
}
