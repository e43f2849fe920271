//! The promotion matrix: which chart version each HelmRelease pins in each configured
//! environment. FV701 and `fluxvet versions` both read it.
//!
//! Scope, on purpose small and static:
//! - A HelmRelease belongs to an environment by a directory segment of its file's path equal to
//!   the environment's name (`environment_match: path`, the default), by its namespace
//!   (`namespace`: equal to the environment or ending in `-<environment>`), or by the path
//!   first and then the namespace (`both`).
//! - A kustomize overlay in an environment (`apps/staging/kustomization.yaml`) brings in the
//!   HelmReleases of its `resources` (recursively, so `apps/base` counts), and its `patches`,
//!   `patchesStrategicMerge` and `patchesJson6902` that set `spec.chart.spec.version` override
//!   the base's version, outer overlays over inner ones. A patch's `target` matches on `kind`
//!   and on `name` (exact, or a `.*` style regex that matches everything).
//! - Flux Kustomization `spec.patches` and post-build substitution are not evaluated.
//! - Releases match across environments by `metadata.name`.

use std::collections::{BTreeMap, HashSet};

use crate::config::EnvironmentMatch;
use crate::diag::FileId;
use crate::discover::KUSTOMIZATION_FILES;
use crate::flux_api::FluxKind;
use crate::fs::join_normalized;
use crate::model::index::{Repository, parent_dir};
use crate::source::Span;
use crate::yaml::{NodeRef, parse_stream};

/// Where an environment's version of a release is written.
#[derive(Clone, Debug)]
pub struct Pin {
    pub env: usize,
    /// The version as written; `None` when nothing sets one.
    pub version: Option<String>,
    pub file: FileId,
    /// The version node, or the HelmRelease's name when there is no version.
    pub span: Span,
}

impl Pin {
    /// The exact semver version, when the pin is one (`1.2.3`, `v1.2.3`, `1.2.3-rc.1`).
    pub fn exact(&self) -> Option<semver::Version> {
        let v = self.version.as_deref()?.trim();
        let v = v.strip_prefix('v').unwrap_or(v);
        semver::Version::parse(v).ok()
    }
}

#[derive(Clone, Debug)]
pub struct Release {
    pub name: String,
    /// At most one pin per environment, in environment order.
    pub pins: Vec<Pin>,
}

impl Release {
    pub fn pin(&self, env: usize) -> Option<&Pin> {
        self.pins.iter().find(|p| p.env == env)
    }

    /// For a pin, the nearest earlier environment whose exact version is lower: the pin was
    /// promoted past it.
    pub fn ahead_of(&self, pin: &Pin) -> Option<&Pin> {
        let v = pin.exact()?;
        self.pins
            .iter()
            .filter(|e| e.env < pin.env)
            .rev()
            .find(|e| e.exact().is_some_and(|ev| ev < v))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Matrix {
    pub environments: Vec<String>,
    pub releases: Vec<Release>,
}

/// The matrix from what each cluster applies (the model's build, overlays and Flux patches
/// included): one environment per cluster, in `environments` order when the config names the
/// clusters there, else in the clusters' order. `None` without clusters, or when the config's
/// environments are not all clusters (then environments are matched on paths or namespaces).
pub fn matrix_of_clusters(repo: &Repository) -> Option<Matrix> {
    let clusters = repo.clusters();
    if clusters.is_empty() {
        return None;
    }
    let configured = &repo.config.environments;
    let environments: Vec<String> = if configured.is_empty() {
        clusters.iter().map(|c| c.name.clone()).collect()
    } else if configured
        .iter()
        .all(|e| clusters.iter().any(|c| &c.name == e))
    {
        configured.clone()
    } else {
        return None;
    };
    let mut pins: BTreeMap<String, Vec<Pin>> = BTreeMap::new();
    for a in repo.applied() {
        let o = &a.object;
        if FluxKind::of_api_version(&o.api_version, &o.kind) != Some(FluxKind::HelmRelease) {
            continue;
        }
        let Some(env) = environments.iter().position(|e| *e == a.cluster) else {
            continue;
        };
        let node = o.root.path(&["spec", "chart", "spec", "version"]);
        let origin = node.map_or(o.root.origin, |n| n.origin);
        let version = node
            .filter(|n| {
                !matches!(
                    n.value,
                    crate::model::Value::Scalar(_, crate::model::ScalarType::Null)
                )
            })
            .and_then(crate::model::Node::as_str)
            .map(str::to_string);
        let list = pins.entry(o.name.clone()).or_default();
        if !list.iter().any(|p| p.env == env) {
            list.push(Pin {
                env,
                version,
                file: origin.file as FileId,
                span: origin.span,
            });
        }
    }
    let releases = pins
        .into_iter()
        .map(|(name, mut pins)| {
            pins.sort_by_key(|p| p.env);
            Release { name, pins }
        })
        .collect();
    Some(Matrix {
        environments,
        releases,
    })
}

pub fn matrix(repo: &Repository) -> Matrix {
    if let Some(m) = matrix_of_clusters(repo).filter(|_| !repo.config.environments.is_empty()) {
        return m;
    }
    let envs = &repo.config.environments;
    let mut out = Matrix {
        environments: envs.clone(),
        releases: Vec::new(),
    };
    if envs.is_empty() {
        return out;
    }
    let mode = repo.config.environment_match;
    // (name, env) → pin; direct definitions first, overlays (shallowest last) override them.
    let mut pins: BTreeMap<(String, usize), Pin> = BTreeMap::new();

    for hr in repo
        .of_kind(FluxKind::HelmRelease)
        .filter(|o| o.is_flux(FluxKind::HelmRelease))
    {
        let path_env = env_of_path(envs, repo.path(hr.file));
        let ns_env = || {
            repo.effective_namespace(hr)
                .and_then(|ns| env_of_ns(envs, ns))
        };
        let env = match mode {
            EnvironmentMatch::Path => path_env,
            EnvironmentMatch::Namespace => ns_env(),
            EnvironmentMatch::Both => path_env.or_else(ns_env),
        };
        let Some(env) = env else { continue };
        let node = repo.node(hr);
        let (version, span) = version_of(&node).unwrap_or((None, hr.name_span));
        let pin = Pin {
            env,
            version,
            file: hr.file,
            span,
        };
        // A patch file in the same directory often repeats the name without a version.
        let key = (hr.name.clone(), env);
        if pin.version.is_some() || !pins.contains_key(&key) {
            pins.insert(key, pin);
        }
    }

    let mut overlays: Vec<(usize, usize)> = Vec::new();
    for &i in repo.kustomization_files() {
        let f = &repo.files[i];
        let dir = parent_dir(&f.path);
        let path_env = env_of_path(envs, &format!("{dir}/x"));
        let ns_env = || {
            kustomize_root(repo, i)
                .and_then(|r| r.str_at(&["namespace"]).map(str::to_string))
                .and_then(|ns| env_of_ns(envs, &ns))
        };
        let env = match mode {
            EnvironmentMatch::Path => path_env,
            EnvironmentMatch::Namespace => ns_env(),
            EnvironmentMatch::Both => path_env.or_else(ns_env),
        };
        if let Some(env) = env {
            overlays.push((i, env));
        }
    }
    overlays.sort_by_key(|&(i, _)| std::cmp::Reverse(repo.files[i].path.matches('/').count()));
    for (file, env) in overlays {
        let mut seen = HashSet::new();
        for (name, pin) in build(repo, parent_dir(&repo.files[file].path), 0, &mut seen) {
            let key = (name, env);
            if pin.version.is_none() && pins.get(&key).is_some_and(|p| p.version.is_some()) {
                continue;
            }
            pins.insert(key, Pin { env, ..pin });
        }
    }

    let mut by_name: BTreeMap<String, Vec<Pin>> = BTreeMap::new();
    for ((name, _), pin) in pins {
        by_name.entry(name).or_default().push(pin);
    }
    for (name, mut pins) in by_name {
        pins.sort_by_key(|p| p.env);
        out.releases.push(Release { name, pins });
    }
    out
}

/// The deepest directory segment naming an environment.
fn env_of_path(envs: &[String], path: &str) -> Option<usize> {
    parent_dir(path)
        .split('/')
        .rev()
        .find_map(|seg| envs.iter().position(|e| e == seg))
}

fn env_of_ns(envs: &[String], ns: &str) -> Option<usize> {
    envs.iter()
        .position(|e| ns == e || ns.ends_with(&format!("-{e}")))
}

/// `spec.chart.spec.version` and its span.
fn version_of(node: &NodeRef<'_>) -> Option<(Option<String>, Span)> {
    let v = node.path(&["spec", "chart", "spec", "version"])?;
    Some((v.as_str().map(str::to_string), v.span()))
}

fn kustomize_root(repo: &Repository, file: FileId) -> Option<NodeRef<'_>> {
    repo.docs_of(file).next().and_then(|d| d.doc.root())
}

fn file_id(repo: &Repository, path: &str) -> Option<FileId> {
    repo.files.iter().position(|f| &*f.path == path)
}

/// The HelmReleases a kustomization directory builds, with the version each ends up with.
fn build(
    repo: &Repository,
    dir: &str,
    depth: usize,
    seen: &mut HashSet<String>,
) -> Vec<(String, Pin)> {
    let mut out: Vec<(String, Pin)> = Vec::new();
    if depth > 16 || !seen.insert(dir.to_string()) {
        return out;
    }
    let kfile = KUSTOMIZATION_FILES.iter().find_map(|n| {
        let p = if dir.is_empty() {
            n.to_string()
        } else {
            format!("{dir}/{n}")
        };
        file_id(repo, &p)
    });
    let Some(kfile) = kfile else {
        return out;
    };
    let Some(root) = kustomize_root(repo, kfile) else {
        return out;
    };
    for r in root.get("resources").map(|r| r.items()).unwrap_or_default() {
        let Some(rel) = r.as_str() else { continue };
        if rel.contains("://") {
            continue;
        }
        let Some(target) = join_normalized(dir, rel) else {
            continue;
        };
        if let Some(fid) = file_id(repo, &target) {
            out.extend(releases_in(repo, fid));
        } else if repo.tree.is_dir(&target) {
            out.extend(build(repo, &target, depth + 1, seen));
        }
    }
    for patch in patches(repo, dir, kfile, &root) {
        for (name, pin) in out.iter_mut() {
            if patch.applies_to(name) {
                pin.version = Some(patch.version.clone());
                pin.file = patch.file;
                pin.span = patch.span;
            }
        }
    }
    out
}

fn releases_in(repo: &Repository, file: FileId) -> Vec<(String, Pin)> {
    repo.objects
        .iter()
        .filter(|o| o.file == file && o.is_flux(FluxKind::HelmRelease))
        .map(|o| {
            let (version, span) = version_of(&repo.node(o)).unwrap_or((None, o.name_span));
            (
                o.name.clone(),
                Pin {
                    env: 0,
                    version,
                    file,
                    span,
                },
            )
        })
        .collect()
}

struct VersionPatch {
    /// `None` matches every HelmRelease.
    name: Option<String>,
    version: String,
    file: FileId,
    span: Span,
}

impl VersionPatch {
    fn applies_to(&self, name: &str) -> bool {
        self.name.as_deref().is_none_or(|n| n == name)
    }
}

/// The patches of a kustomization that set a HelmRelease's chart version.
fn patches(repo: &Repository, dir: &str, kfile: FileId, root: &NodeRef<'_>) -> Vec<VersionPatch> {
    let mut out = Vec::new();
    let mut entries: Vec<(Option<NodeRef<'_>>, NodeRef<'_>)> = Vec::new();
    for key in ["patches", "patchesJson6902"] {
        for p in root.get(key).map(|p| p.items()).unwrap_or_default() {
            entries.push((p.get("target"), p));
        }
    }
    for p in root
        .get("patchesStrategicMerge")
        .map(|p| p.items())
        .unwrap_or_default()
    {
        entries.push((None, p));
    }
    for (target, p) in entries {
        let target_kind = target.and_then(|t| t.str_at(&["kind"]));
        if target_kind.is_some_and(|k| k != FluxKind::HelmRelease.name()) {
            continue;
        }
        let target_name = target
            .and_then(|t| t.str_at(&["name"]))
            .filter(|n| !matches!(*n, ".*" | "*" | "^.*$"))
            .map(str::to_string);
        // The patch text: a file (`path:`, or a plain entry of patchesStrategicMerge) or inline.
        let (path, inline) = if p.is_mapping() {
            (p.str_at(&["path"]), p.get("patch"))
        } else if p.as_str().is_some_and(|s| !s.contains('\n')) {
            (p.as_str(), None)
        } else {
            (None, Some(p))
        };
        if let Some(path) = path {
            let Some(fid) = join_normalized(dir, path).and_then(|t| file_id(repo, &t)) else {
                continue;
            };
            for d in repo.docs_of(fid) {
                let Some(r) = d.doc.root() else { continue };
                if let Some((version, span, name)) = patch_version(&r, target.is_some()) {
                    out.push(VersionPatch {
                        name: target_name.clone().or(name),
                        version,
                        file: fid,
                        span,
                    });
                }
            }
        } else if let Some(inline) = inline {
            let Some(text) = inline.as_str() else {
                continue;
            };
            let stream = parse_stream(text);
            for d in &stream.documents {
                let Some(r) = d.root() else { continue };
                if let Some((version, _, name)) = patch_version(&r, target.is_some()) {
                    let span = find_in(repo, kfile, inline.span(), &version)
                        .unwrap_or_else(|| inline.span());
                    out.push(VersionPatch {
                        name: target_name.clone().or(name),
                        version,
                        file: kfile,
                        span,
                    });
                }
            }
        }
    }
    out
}

/// The version a patch document sets, its span, and the release it names (strategic merge
/// patches without a target select by their own kind and name).
fn patch_version(r: &NodeRef<'_>, has_target: bool) -> Option<(String, Span, Option<String>)> {
    if r.is_sequence() {
        // JSON 6902: the last add/replace of the version wins.
        return r
            .items()
            .into_iter()
            .filter(|op| matches!(op.str_at(&["op"]), Some("add" | "replace")))
            .filter(|op| op.str_at(&["path"]) == Some("/spec/chart/spec/version"))
            .filter_map(|op| {
                let v = op.get("value")?;
                Some((v.as_str()?.to_string(), v.span(), None))
            })
            .next_back();
    }
    if !has_target && r.str_at(&["kind"]) != Some(FluxKind::HelmRelease.name()) {
        return None;
    }
    let v = r.path(&["spec", "chart", "spec", "version"])?;
    let name = r.str_at(&["metadata", "name"]).map(str::to_string);
    Some((v.as_str()?.to_string(), v.span(), name))
}

/// The span of `needle` inside `within` of a file, for versions set in inline patch text.
fn find_in(repo: &Repository, file: FileId, within: Span, needle: &str) -> Option<Span> {
    let text = repo.files[file].text.get(within.range())?;
    let at = text.find(needle)? + within.start as usize;
    Some(Span::new(at, at + needle.len()))
}

/// Text for `fluxvet versions`; drift marked `!` (red with colour).
pub fn render_text(m: &Matrix, color: bool) -> String {
    if m.environments.is_empty() {
        return "no `environments` in the config: add e.g. `environments: [dev, staging, production]` to .fluxvet.yaml\n".into();
    }
    let mut rows: Vec<Vec<(String, bool)>> = vec![
        std::iter::once(("RELEASE".to_string(), false))
            .chain(m.environments.iter().map(|e| (e.to_uppercase(), false)))
            .collect(),
    ];
    for r in &m.releases {
        let mut row = vec![(r.name.clone(), false)];
        for (i, _) in m.environments.iter().enumerate() {
            row.push(cell(r, i));
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..=m.environments.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].0.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for row in &rows {
        let mut line = String::new();
        for (c, (text, drift)) in row.iter().enumerate() {
            let pad = widths[c] - text.chars().count();
            if *drift && color {
                line.push_str(&format!("\x1b[31m{text}\x1b[0m"));
            } else {
                line.push_str(text);
            }
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    if m.releases
        .iter()
        .any(|r| r.pins.iter().any(|p| r.ahead_of(p).is_some()))
    {
        s.push_str("\n! pins a higher chart version than an earlier environment (FV701)\n");
    }
    s
}

fn cell(r: &Release, env: usize) -> (String, bool) {
    match r.pin(env) {
        None => ("-".into(), false),
        Some(p) => {
            let v = p.version.clone().unwrap_or_else(|| "(none)".into());
            if r.ahead_of(p).is_some() {
                (format!("{v} !"), true)
            } else {
                (v, false)
            }
        }
    }
}

pub fn render_markdown(m: &Matrix) -> String {
    let mut s = String::from("| release |");
    for e in &m.environments {
        s.push_str(&format!(" {e} |"));
    }
    s.push_str("\n|---|");
    s.push_str(&"---|".repeat(m.environments.len()));
    s.push('\n');
    for r in &m.releases {
        s.push_str(&format!("| {} |", r.name));
        for i in 0..m.environments.len() {
            let (text, drift) = cell(r, i);
            let text = text.trim_end_matches(" !");
            if drift {
                s.push_str(&format!(" **{text}** ! |"));
            } else {
                s.push_str(&format!(" {text} |"));
            }
        }
        s.push('\n');
    }
    s
}

pub fn render_json(repo: &Repository, m: &Matrix) -> String {
    use serde_json::json;
    let releases: Vec<serde_json::Value> = m
        .releases
        .iter()
        .map(|r| {
            let mut versions = serde_json::Map::new();
            for p in &r.pins {
                let f = &repo.files[p.file];
                let lc = f.line_col(p.span.start as usize);
                versions.insert(
                    m.environments[p.env].clone(),
                    json!({"version": p.version, "file": &*f.path, "line": lc.line,
                           "column": lc.column,
                           "ahead_of": r.ahead_of(p).map(|e| m.environments[e.env].clone())}),
                );
            }
            json!({"name": r.name, "versions": versions})
        })
        .collect();
    format!(
        "{}\n",
        json!({"environments": m.environments, "releases": releases})
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::check_memory;

    fn hr(name: &str, version: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\nspec:\n  chart:\n    spec:\n      chart: {name}\n      version: \"{version}\"\n"
        )
    }

    #[test]
    fn overlays_and_patches() {
        let config = Config {
            environments: vec!["staging".into(), "production".into()],
            ..Config::default()
        };
        let base = hr("podinfo", "6.0.0");
        let out = check_memory(
            &[
                (
                    "apps/base/kustomization.yaml",
                    "resources: [release.yaml]\n",
                ),
                ("apps/base/release.yaml", &base),
                (
                    "apps/staging/kustomization.yaml",
                    "resources: [../base]\npatches:\n  - target: {kind: HelmRelease, name: podinfo}\n    patch: |\n      - op: replace\n        path: /spec/chart/spec/version\n        value: 6.1.0\n",
                ),
                (
                    "apps/production/kustomization.yaml",
                    "resources: [../base]\n",
                ),
            ],
            config,
        );
        let m = matrix(&out.repo);
        assert_eq!(m.releases.len(), 1);
        let r = &m.releases[0];
        assert_eq!(r.pin(0).and_then(|p| p.version.as_deref()), Some("6.1.0"));
        assert_eq!(r.pin(1).and_then(|p| p.version.as_deref()), Some("6.0.0"));
        assert!(r.pins.iter().all(|p| r.ahead_of(p).is_none()));
        let text = render_text(&m, false);
        assert!(text.contains("podinfo  6.1.0    6.0.0"), "{text}");
    }
}
