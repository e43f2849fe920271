//! The promotion matrix: which chart version each HelmRelease pins in each configured
//! environment. FV701 and `fluxvet versions` both read it.
//!
//! Scope, on purpose small and static:
//! - A HelmRelease belongs to an environment by a directory segment of its file's path equal to
//!   the environment's name (`environment_match: path`, the default), by its namespace
//!   (`namespace`: equal to the environment or ending in `-<environment>`), or by the path
//!   first and then the namespace (`both`).
//! - A kustomize overlay in an environment (`apps/staging/kustomization.yaml`) counts as the
//!   model builds it (`crate::model::build`, kustomize's semantics): its HelmReleases with the
//!   version its patches leave, outer overlays over inner ones; an overlay whose build fails
//!   counts for nothing (Flux applies nothing of it).
//! - With clusters named as the environments, what each cluster applies decides instead
//!   ([`matrix_of_clusters`]: Flux's own patches and substitution included).
//! - Releases match across environments by the name they are written with.

use std::collections::BTreeMap;

use crate::config::EnvironmentMatch;
use crate::diag::FileId;
use crate::flux_api::FluxKind;
use crate::model::index::{Repository, parent_dir};
use crate::model::{Node, RenderedObject, ScalarType, Value};
use crate::source::Span;
use crate::yaml::NodeRef;

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
        let list = pins.entry(o.name.clone()).or_default();
        if !list.iter().any(|p| p.env == env) {
            list.push(rendered_pin(o, env));
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
        for (name, pin) in built_releases(repo, parent_dir(&repo.files[file].path)) {
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

/// A rendered HelmRelease's pin in environment `env`: its chart version and where that is
/// written (the patch line that set it), or the document when it has none.
fn rendered_pin(o: &RenderedObject, env: usize) -> Pin {
    let node = o.root.path(&["spec", "chart", "spec", "version"]);
    let origin = node.map_or(o.root.origin, |n| n.origin);
    let version = node
        .filter(|n| !matches!(n.value, Value::Scalar(_, ScalarType::Null)))
        .and_then(Node::as_str)
        .map(str::to_string);
    Pin {
        env,
        version,
        file: origin.file as FileId,
        span: origin.span,
    }
}

/// The HelmReleases the kustomization directory `dir` builds (the model's kustomize build),
/// by the name they were written with, each with the version it ends up with. None when the
/// build fails: Flux applies nothing of it.
fn built_releases(repo: &Repository, dir: &str) -> Vec<(String, Pin)> {
    let b = crate::model::build(repo, dir);
    if b.failed() {
        return Vec::new();
    }
    b.objects
        .iter()
        .filter(|o| {
            FluxKind::of_api_version(&o.api_version, &o.kind) == Some(FluxKind::HelmRelease)
        })
        .map(|o| (o.original().1, rendered_pin(o, 0)))
        .collect()
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
