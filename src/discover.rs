//! Which files to check: the `ignore` crate's walk (`.gitignore`, Flux's `.sourceignore`,
//! `exclude` globs), never `.git/`, never outside the root through a symlink.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;

/// kustomize's three accepted file names.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub fn is_kustomization_file(rel: &str) -> bool {
    // Asked of every document of a run: a suffix test, not a search for the last `/`.
    KUSTOMIZATION_FILES.iter().any(|name| {
        rel.strip_suffix(name)
            .is_some_and(|dir| dir.is_empty() || dir.ends_with('/'))
    })
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
    /// Things skipped on purpose that a user may not expect (a symlink out of the root).
    pub notices: Vec<String>,
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
    let mut notices = Vec::new();
    // Filled from inside the walk's entry filter, which must be `'static`.
    let skipped: Arc<Mutex<Skipped>> = Arc::default();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("{}: {}", path.display(), io_cause(&e)))?;
        if meta.is_file() {
            // A file named on the command line is checked whatever its name.
            files.push((path.clone(), display_path(&canonical_root, root, path)));
            continue;
        }
        let (filter_root, filter_root_given) = (canonical_root.clone(), root.to_path_buf());
        let filter_skipped = Arc::clone(&skipped);
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
                if !e.path_is_symlink() {
                    return true;
                }
                // A symlink that leads outside the root is not part of the repository Flux
                // would fetch; checking at the link also keeps the walk from descending there.
                let Some(verdict) = judge_link(&filter_root, &filter_root_given, e.path()) else {
                    return true;
                };
                if let Ok(mut s) = filter_skipped.lock() {
                    s.push(verdict);
                }
                false
            })
            .threads(rayon::current_num_threads())
            .build_parallel();
        // Reading directories and looking for ignore files in each is most of discovery's
        // time; the walk runs on as many threads as the checks, and its entries are judged
        // here in one place (the files are sorted below, so the walk's order does not matter).
        let found: Mutex<Vec<WalkItem>> = Mutex::default();
        walk.run(|| {
            let mut batch = Batch {
                local: Vec::new(),
                shared: &found,
            };
            Box::new(move |entry| {
                batch.local.push(entry);
                ignore::WalkState::Continue
            })
        });
        let found = found.into_inner().unwrap_or_else(|p| p.into_inner());
        for entry in found {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    if is_loop(&err) {
                        // A symlink loop is harmless: each real directory is walked once.
                        continue;
                    }
                    let link = error_path(&err).filter(|p| {
                        p.symlink_metadata()
                            .is_ok_and(|m| m.file_type().is_symlink())
                    });
                    match link.and_then(|p| judge_link(&canonical_root, root, p)) {
                        Some(Skip::Notice(n)) => notices.push(n),
                        Some(Skip::Problem(p)) => problems.push(p),
                        None => problems.push(describe_walk_error(&canonical_root, root, &err)),
                    }
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy();
            let Some(kind) = entry.file_type() else {
                continue;
            };
            if !kind.is_file() {
                if !kind.is_dir() && is_manifest_name(&name) {
                    // Opening a FIFO would block forever, and a device is not a manifest.
                    problems.push(format!(
                        "{}: not a regular file (a FIFO, socket or device); not read",
                        display_path(&canonical_root, root, entry.path())
                    ));
                }
                continue;
            }
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
    let skipped = std::mem::take(&mut *skipped.lock().unwrap_or_else(|p| p.into_inner()));
    for s in skipped {
        match s {
            Skip::Notice(n) => notices.push(n),
            Skip::Problem(p) => problems.push(p),
        }
    }
    notices.sort();
    notices.dedup();
    problems.sort();
    problems.dedup();
    Ok(Discovered {
        files,
        problems,
        notices,
    })
}

type WalkItem = Result<ignore::DirEntry, ignore::Error>;

/// One walker thread's entries, handed over in one lock when the thread is done.
struct Batch<'a> {
    local: Vec<WalkItem>,
    shared: &'a Mutex<Vec<WalkItem>>,
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        shared.append(&mut self.local);
    }
}

enum Skip {
    Notice(String),
    Problem(String),
}

type Skipped = Vec<Skip>;

/// What to say about a symlink the walk will not follow; `None` when it is fine to follow.
fn judge_link(canonical_root: &Path, root: &Path, link: &Path) -> Option<Skip> {
    let rel = display_path(canonical_root, root, link);
    match link.canonicalize() {
        Ok(real) if real.starts_with(canonical_root) => None,
        Ok(real) => Some(Skip::Notice(format!(
            "{rel}: not followed: the symlink leads outside the checked root, to {}",
            real.display()
        ))),
        Err(err) => {
            let cause = broken_link_cause(&err);
            let name = link.file_name().unwrap_or_default().to_string_lossy();
            Some(if is_manifest_name(&name) {
                Skip::Problem(format!(
                    "{rel}: cannot read: {cause}; fix or remove the link"
                ))
            } else {
                Skip::Notice(format!("{rel}: not followed: {cause}"))
            })
        }
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

fn broken_link_cause(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "broken symlink: its target does not exist".into(),
        _ if err.raw_os_error() == Some(40) => "symlink loop: the link leads back to itself".into(),
        _ => format!("symlink cannot be followed: {}", io_cause(err)),
    }
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

fn describe_walk_error(canonical_root: &Path, root: &Path, err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { path, err } => format!(
            "{}: {}",
            display_path(canonical_root, root, path),
            describe_walk_error(canonical_root, root, err)
        ),
        ignore::Error::WithDepth { err, .. } => describe_walk_error(canonical_root, root, err),
        ignore::Error::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            "permission denied, so nothing below it was checked; fix its permissions or skip it \
             with --exclude"
                .into()
        }
        ignore::Error::Io(e) => io_cause(e),
        other => other.to_string(),
    }
}

pub fn io_cause(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotADirectory => {
            "not a directory (a component of the path is a file)".into()
        }
        _ if e.raw_os_error() == Some(40) => "too many levels of symbolic links (a loop)".into(),
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
            // `x.yaml`'s parent is the empty path: the working directory.
            let parent = match path.parent()? {
                p if p.as_os_str().is_empty() => Path::new("."),
                p => p,
            };
            let parent = parent.canonicalize().ok()?;
            let rel_parent = parent.strip_prefix(canonical_root).ok()?.to_path_buf();
            Some(rel_parent.join(path.file_name()?))
        })
        .unwrap_or_else(|| path.to_path_buf());
    let s: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| match c {
            // Joined with `/` below, so the root itself adds nothing (not `//tmp/x.yaml`).
            std::path::Component::RootDir => String::new(),
            c => c.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    s.join("/")
}
