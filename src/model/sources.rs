//! Which Flux Kustomizations read this repository. A Kustomization reads it when its
//! `sourceRef` is the cluster's own sync source, or an `ExternalArtifact` that an
//! `ArtifactGenerator` (source.extensions.fluxcd.io) copies out of that source: Flux's own
//! example splits its monorepo into `apps` and `infrastructure` artifacts that way, and a
//! Kustomization's `path: ./production` then means `apps/production` here.

use crate::flux_api::FluxKind;
use crate::model::index::{Object, Repository, SourceKey};

/// Where a Flux Kustomization's `spec.path` is in this checkout when its source is one the
/// config maps to a directory here (`sources: [{kind: OCIRepository, name: x, path: ./deploy}]`,
/// an artifact pushed with `flux push artifact --path=./deploy`): the path below that
/// directory. `None` when the config maps no such source.
pub fn configured_path(repo: &Repository, ks: &Object) -> Option<String> {
    let node = repo.node(ks);
    let sref = node.path(&["spec", "sourceRef"])?;
    let (kind, name) = (sref.str_at(&["kind"])?, sref.str_at(&["name"])?);
    let ns = sref
        .str_at(&["namespace"])
        .or_else(|| repo.effective_namespace(ks));
    let source = repo.config.sources.iter().find(|s| {
        s.kind == kind
            && s.name == name
            && (s.namespace.is_none() || ns.is_none() || s.namespace.as_deref() == ns)
    });
    let dir = match source {
        Some(source) => crate::fs::join_normalized("", &source.path)?,
        None if kind == FluxKind::OCIRepository.name() => pushed_from(repo, name, ns)?,
        None => return None,
    };
    crate::fs::join_normalized(&dir, node.str_at(&["spec", "path"]).unwrap_or("./"))
}

/// The directory here an OCIRepository defined in the repository (and mapped by no config) is
/// pushed from, when the Flux Kustomizations reading it name at least two different
/// directories below the artifact's root and exactly one directory here holds them all
/// (`./configs/cert-manager` and `./controllers/caching`, both below `kubernetes/infra`, of an
/// artifact pushed with `flux push artifact --path=kubernetes/infra`). One path, or several
/// that more than one directory (or none) holds, say nothing: the source stays unread.
fn pushed_from(repo: &Repository, name: &str, ns: Option<&str>) -> Option<String> {
    let kind = FluxKind::OCIRepository.name();
    let defined = repo.of_kind(FluxKind::OCIRepository).any(|o| {
        o.flux == Some(FluxKind::OCIRepository)
            && o.name == name
            && (ns.is_none() || repo.effective_namespace(o) == ns)
    });
    if !defined {
        return None;
    }
    let mut paths: Vec<String> = Vec::new();
    for ks in repo.flux_kustomizations() {
        let node = repo.node(ks);
        let Some(sref) = node.path(&["spec", "sourceRef"]) else {
            continue;
        };
        let ref_ns = sref
            .str_at(&["namespace"])
            .or_else(|| repo.effective_namespace(ks));
        if sref.str_at(&["kind"]) != Some(kind)
            || sref.str_at(&["name"]) != Some(name)
            || (ns.is_some() && ref_ns.is_some() && ref_ns != ns)
        {
            continue;
        }
        let raw = node.str_at(&["spec", "path"]).unwrap_or("./");
        if raw.contains("${") {
            return None;
        }
        let path = crate::fs::join_normalized("", raw)?;
        if !path.is_empty() && !paths.contains(&path) {
            paths.push(path);
        }
    }
    let first = paths.first().filter(|_| paths.len() >= 2)?;
    let suffix = format!("/{first}");
    let mut candidates: Vec<String> = Vec::new();
    for file in &repo.files {
        let mut dir = crate::model::index::parent_dir(&file.path);
        while !dir.is_empty() {
            let base = if dir == first.as_str() {
                Some("")
            } else {
                dir.strip_suffix(suffix.as_str())
            };
            if let Some(base) = base
                && !candidates.iter().any(|c| c == base)
            {
                candidates.push(base.to_string());
            }
            dir = crate::model::index::parent_dir(dir);
        }
    }
    candidates.retain(|base| {
        paths
            .iter()
            .all(|p| crate::fs::join_normalized(base, p).is_some_and(|d| repo.tree.is_dir(&d)))
    });
    match candidates.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// Where a Flux Kustomization's `spec.path` is in this checkout, when it reads `own` through
/// an ArtifactGenerator: `None` when it does not, or when the copy rules cannot be followed
/// exactly (anything but whole-directory copies, or exclusions), which makes it a render gap.
pub fn path_through_artifact(repo: &Repository, ks: &Object, own: &SourceKey) -> Option<String> {
    let node = repo.node(ks);
    let sref = node.path(&["spec", "sourceRef"])?;
    if sref.str_at(&["kind"]) != Some(FluxKind::ExternalArtifact.name()) {
        return None;
    }
    let name = sref.str_at(&["name"])?;
    let ks_ns = repo.effective_namespace(ks);
    let ns = sref.str_at(&["namespace"]).or(ks_ns);
    let path = crate::fs::join_normalized("", node.str_at(&["spec", "path"]).unwrap_or("./"))?;
    for generator in repo
        .of_kind(FluxKind::ArtifactGenerator)
        .filter(|g| g.flux == Some(FluxKind::ArtifactGenerator))
    {
        let gen_ns = repo.effective_namespace(generator);
        if ns.is_some() && gen_ns.is_some() && ns != gen_ns {
            continue;
        }
        let g = repo.node(generator);
        let own_aliases: Vec<&str> = g
            .path(&["spec", "sources"])
            .map(|s| s.items())
            .unwrap_or_default()
            .into_iter()
            .filter(|s| {
                let src_ns = s.str_at(&["namespace"]).or(gen_ns);
                s.str_at(&["kind"]) == Some(own.kind.as_str())
                    && s.str_at(&["name"]) == Some(own.name.as_str())
                    && (src_ns.is_none()
                        || own.namespace.is_none()
                        || src_ns == own.namespace.as_deref())
            })
            .filter_map(|s| s.str_at(&["alias"]))
            .collect();
        if own_aliases.is_empty() {
            continue;
        }
        let Some(artifact) = g
            .path(&["spec", "artifacts"])
            .map(|a| a.items())
            .unwrap_or_default()
            .into_iter()
            .find(|a| a.str_at(&["name"]) == Some(name))
        else {
            continue;
        };
        let mut found = None;
        for copy in artifact.get("copy").map(|c| c.items()).unwrap_or_default() {
            if copy.get("exclude").is_some() {
                return None;
            }
            let (Some(from), Some(to)) = (copy.str_at(&["from"]), copy.str_at(&["to"])) else {
                return None;
            };
            // `@alias/dir/**` → `@artifact/prefix/`: a whole directory, layout kept.
            let from_dir = from.strip_suffix("/**")?;
            let (alias, repo_dir) = from_dir
                .strip_prefix('@')
                .map(|f| f.split_once('/').unwrap_or((f, "")))?;
            if !own_aliases.contains(&alias) {
                return None;
            }
            let artifact_dir = to
                .strip_prefix("@artifact/")
                .or_else(|| (to == "@artifact").then_some(""))?;
            let artifact_dir = artifact_dir.trim_end_matches('/');
            let rest = if artifact_dir.is_empty() {
                Some(path.as_str())
            } else if path == artifact_dir {
                Some("")
            } else {
                path.strip_prefix(&format!("{artifact_dir}/"))
            };
            if let Some(rest) = rest
                && found.is_none()
            {
                let mapped = match (repo_dir.is_empty(), rest.is_empty()) {
                    (true, _) => rest.to_string(),
                    (false, true) => repo_dir.to_string(),
                    (false, false) => format!("{repo_dir}/{rest}"),
                };
                found = Some(mapped);
            }
        }
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::engine::check_memory;
    use crate::model::index::SourceKey;

    const GENERATOR: &str = "apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: flux-system
  namespace: flux-system
spec:
  sources:
    - alias: monorepo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: infrastructure
      copy:
        - from: \"@monorepo/infrastructure/**\"
          to: \"@artifact/\"
    - name: apps
      copy:
        - from: \"@monorepo/apps/base/**\"
          to: \"@artifact/base/\"
        - from: \"@monorepo/apps/production/**\"
          to: \"@artifact/production/\"
";

    fn ks(artifact: &str, path: &str) -> String {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: k
  namespace: flux-system
spec:
  interval: 1h
  prune: true
  path: {path}
  sourceRef:
    kind: ExternalArtifact
    name: {artifact}
"
        )
    }

    fn mapped(artifact: &str, path: &str) -> Option<String> {
        let k = ks(artifact, path);
        let out = check_memory(
            &[("gen.yaml", GENERATOR), ("ks.yaml", &k)],
            Config::default(),
        );
        let repo = &out.repo;
        let o = repo
            .flux_kustomizations()
            .next()
            .expect("the Kustomization");
        let own = SourceKey {
            kind: "GitRepository".into(),
            name: "flux-system".into(),
            namespace: Some("flux-system".into()),
        };
        super::path_through_artifact(repo, o, &own)
    }

    #[test]
    fn artifact_paths_map_back_to_the_monorepo() {
        assert_eq!(
            mapped("apps", "./production"),
            Some("apps/production".into())
        );
        assert_eq!(
            mapped("infrastructure", "./controllers"),
            Some("infrastructure/controllers".into())
        );
        assert_eq!(
            mapped("infrastructure", "./"),
            Some("infrastructure".into())
        );
    }

    #[test]
    fn unknown_artifacts_and_unmapped_paths_are_not_this_repository() {
        assert_eq!(mapped("tenants", "./production"), None);
        assert_eq!(mapped("apps", "./staging"), None);
    }
}
