//! Which files to check: the `ignore` crate's walk (`.gitignore`, Flux's `.sourceignore`,
//! `exclude` globs), never `.git/`, never outside the root through a symlink.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;

/// kustomize's three accepted file names.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub fn is_kustomization_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    KUSTOMIZATION_FILES.contains(&name)
}

pub fn is_manifest_name(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml") || name == "Kustomization"
}

#[derive(Debug)]
pub struct Discovered {
    /// (absolute path, path relative to the root with `/`), sorted by the relative path.
    pub files: Vec<(PathBuf, String)>,
    /// Problems that do not stop the run but must not be silent (unreadable directories).
    pub problems: Vec<String>,
}

/// Walks `paths` (files or directories) below `root`.
pub fn discover(root: &Path, paths: &[PathBuf], exclude: &[String]) -> Result<Discovered, String> {
    let canonical_root = root
        .canonicalize()
        .map_err(|e| format!("{}: {}", root.display(), io_cause(&e)))?;
    let mut overrides = OverrideBuilder::new(root);
    for glob in exclude {
        overrides
            .add(&format!("!{glob}"))
            .map_err(|e| format!("exclude glob `{glob}`: {e}"))?;
    }
    let overrides = overrides
        .build()
        .map_err(|e| format!("exclude globs: {e}"))?;

    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("{}: {}", path.display(), io_cause(&e)))?;
        if meta.is_file() {
            // A file named on the command line is checked whatever its name.
            files.push((path.clone(), display_path(&canonical_root, root, path)));
            continue;
        }
        let walk_root = canonical_root.clone();
        let walk = WalkBuilder::new(path)
            .standard_filters(true)
            .hidden(true)
            .require_git(false)
            .follow_links(true)
            .add_custom_ignore_filename(".sourceignore")
            .overrides(overrides.clone())
            .filter_entry(move |e| {
                if e.file_name() == ".git" {
                    return false;
                }
                // A symlink that leads outside the root is not part of the repository Flux
                // would fetch; checking at the link also keeps the walk from descending there.
                !e.path_is_symlink()
                    || e.path()
                        .canonicalize()
                        .is_ok_and(|real| real.starts_with(&walk_root))
            })
            .build();
        for entry in walk {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    if is_loop(&err) {
                        // A symlink loop is harmless: each real directory is walked once.
                        continue;
                    }
                    problems.push(describe_walk_error(&err));
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            if !is_manifest_name(&name) {
                continue;
            }
            files.push((
                entry.path().to_path_buf(),
                display_path(&canonical_root, root, entry.path()),
            ));
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    files.dedup_by(|a, b| a.1 == b.1);
    Ok(Discovered { files, problems })
}

fn is_loop(err: &ignore::Error) -> bool {
    match err {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

fn describe_walk_error(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { path, err } => {
            format!("{}: {}", path.display(), describe_walk_error(err))
        }
        ignore::Error::WithDepth { err, .. } => describe_walk_error(err),
        ignore::Error::Io(e) => io_cause(e),
        other => other.to_string(),
    }
}

pub fn io_cause(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The path relative to the root with `/` separators; the path as given when it lies elsewhere.
pub fn display_path(canonical_root: &Path, root: &Path, path: &Path) -> String {
    let rel = path
        .strip_prefix(root)
        .ok()
        .map(Path::to_path_buf)
        .or_else(|| {
            let parent = path.parent()?.canonicalize().ok()?;
            let rel_parent = parent.strip_prefix(canonical_root).ok()?.to_path_buf();
            Some(rel_parent.join(path.file_name()?))
        })
        .unwrap_or_else(|| path.to_path_buf());
    let s: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    s.join("/")
}
