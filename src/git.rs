//! Git integration with git2: `--rev` checks the tree of a commit (what is pushed, not what is
//! on disk), `--staged` the index (what is committed), and `install-hook` writes a pre-push
//! hook that checks exactly the commits being pushed (`--changed-since`: see `crate::changes`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use git2::{ObjectType, Oid, Repository, Tree, TreeWalkMode, TreeWalkResult};

use crate::config::{self, Config};
use crate::discover::FileRules;
use crate::engine::{self, CheckOptions, Fatal, Outcome};
use crate::fs::TreeView;
use crate::memo::FileMemo;

/// A commit's tree as the path checks see it: every blob, and every directory holding one.
#[derive(Default)]
pub struct GitTree {
    files: BTreeSet<String>,
    /// Directory → its entries' names (sorted by the set); the root is `""`.
    dirs: BTreeMap<String, BTreeSet<String>>,
}

impl GitTree {
    fn add_file(&mut self, rel: &str) {
        self.files.insert(rel.to_string());
        let mut child = rel;
        while let Some((parent, name)) = child.rsplit_once('/') {
            self.dirs
                .entry(parent.to_string())
                .or_default()
                .insert(name.to_string());
            child = parent;
        }
        self.dirs
            .entry(String::new())
            .or_default()
            .insert(child.to_string());
    }
}

fn key(rel: &str) -> &str {
    let rel = rel.trim_start_matches("./").trim_end_matches('/');
    if rel == "." { "" } else { rel }
}

impl TreeView for GitTree {
    fn is_file(&self, rel: &str) -> bool {
        self.files.contains(key(rel))
    }
    fn is_dir(&self, rel: &str) -> bool {
        self.dirs.contains_key(key(rel))
    }
    fn list_dir(&self, rel: &str) -> Vec<String> {
        self.dirs
            .get(key(rel))
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default()
    }
}

pub(crate) fn git_err(what: &str, e: git2::Error) -> Fatal {
    Fatal(format!("{what}: {}", e.message()))
}

pub(crate) fn open(at: &Path) -> Result<Repository, Fatal> {
    Repository::discover(at).map_err(|e| {
        Fatal(format!(
            "{}: not inside a git repository ({})",
            at.display(),
            e.message()
        ))
    })
}

pub(crate) fn resolve<'r>(
    repo: &'r Repository,
    rev: &str,
    flag: &str,
) -> Result<git2::Commit<'r>, Fatal> {
    repo.revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| unknown_revision(repo, rev, flag, &e))
}

/// What to tell a user whose revision libgit2 cannot find, instead of its raw message
/// ("parent 0 does not exist" in a shallow clone).
fn unknown_revision(repo: &Repository, rev: &str, flag: &str, e: &git2::Error) -> Fatal {
    let raw = e.message();
    let not_found = e.code() == git2::ErrorCode::NotFound
        || raw.contains("does not exist")
        || raw.contains("not found");
    if !not_found {
        return Fatal(format!("{flag} {rev}: {raw}"));
    }
    if repo.is_shallow() {
        return Fatal(format!(
            "{flag} {rev}: not in this shallow clone's history (git: {raw}); fetch the history \
             with `git fetch --unshallow` (in GitHub Actions: `fetch-depth: 0` on \
             actions/checkout), or give {flag} a commit that exists here"
        ));
    }
    Fatal(format!(
        "{flag} {rev}: no such commit, branch or tag in this repository (git: {raw}); check the \
         name, or `git fetch` the branch first"
    ))
}

/// Folds `.` and `..` lexically (the directory may not exist on disk at `--rev`).
fn normalize(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts.join("/")
}

/// The scanned root as a path inside the repository (`""` for its top).
pub(crate) fn prefix_in_repo(repo: &Repository, root: &Path) -> Result<String, Fatal> {
    let Some(workdir) = repo.workdir() else {
        // A bare repository has no working directory: the path is already repository-relative.
        return Ok(normalize(root));
    };
    let workdir = workdir
        .canonicalize()
        .map_err(|e| Fatal(format!("{}: {e}", workdir.display())))?;
    let cwd = std::env::current_dir().map_err(|e| Fatal(format!("current directory: {e}")))?;
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    let abs = if root.is_absolute() {
        root.to_path_buf()
    } else {
        cwd.join(root)
    };
    // Canonicalize when the directory exists (symlinked temp dirs), else fold lexically.
    let abs = abs.canonicalize().unwrap_or(abs);
    let inside = abs.strip_prefix(&workdir).map_err(|_| {
        Fatal(format!(
            "{} is outside the repository at {}",
            root.display(),
            workdir.display()
        ))
    })?;
    Ok(normalize(inside))
}

fn tree_at<'r>(
    repo: &'r Repository,
    commit: &git2::Commit<'r>,
    prefix: &str,
) -> Result<Tree<'r>, Fatal> {
    let tree = commit
        .tree()
        .map_err(|e| git_err("cannot read the commit's tree", e))?;
    if prefix.is_empty() {
        return Ok(tree);
    }
    let entry = tree.get_path(Path::new(prefix)).map_err(|_| {
        Fatal(format!(
            "{prefix}: no such directory in commit {}",
            commit.id()
        ))
    })?;
    entry
        .to_object(repo)
        .and_then(|o| o.peel_to_tree())
        .map_err(|_| {
            Fatal(format!(
                "{prefix}: not a directory in commit {}",
                commit.id()
            ))
        })
}

/// Checks the files of commit `rev` (below the scanned root), with the config read from that
/// commit unless `--config` names one on disk.
pub fn check_rev(opts: &CheckOptions, rev: &str) -> Result<Outcome, Fatal> {
    check_rev_with(opts, rev, None)
}

/// [`check_rev`], recording into or replaying from `memo` ([`crate::memo`]).
pub fn check_rev_with(
    opts: &CheckOptions,
    rev: &str,
    memo: Option<&FileMemo>,
) -> Result<Outcome, Fatal> {
    let start = Instant::now();
    let root = match opts.paths.as_slice() {
        [] => PathBuf::from("."),
        [p] => p.clone(),
        _ => {
            return Err(Fatal(
                "--rev checks one directory of the commit: give at most one path".into(),
            ));
        }
    };
    let repo = open(if root.is_dir() { &root } else { Path::new(".") })?;
    let prefix = prefix_in_repo(&repo, &root)?;
    let commit = resolve(&repo, rev, "--rev")?;
    let tree = tree_at(&repo, &commit, &prefix)?;
    let label = commit.id().to_string()[..12].to_string();

    let mut blobs: Vec<(String, Oid)> = Vec::new();
    let mut view = GitTree::default();
    let mut walk_error = None;
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        let Ok(name) = entry.name() else {
            walk_error = Some(format!("{dir}: a file name that is not UTF-8"));
            return TreeWalkResult::Skip;
        };
        let rel = format!("{dir}{name}");
        match entry.kind() {
            Some(ObjectType::Blob) => {
                view.add_file(&rel);
                // A symlink's blob is its target, not a manifest.
                if entry.filemode() != 0o120000 {
                    blobs.push((rel, entry.id()));
                }
            }
            Some(ObjectType::Tree) => {}
            // A submodule's files are not in this repository's tree.
            _ => {}
        }
        TreeWalkResult::Ok
    })
    .map_err(|e| git_err("cannot walk the commit's tree", e))?;
    if let Some(e) = walk_error {
        return Err(Fatal(e));
    }
    check_blobs(opts, &repo, root, (blobs, view), &label, start, memo)
}

/// Checks the blobs of a commit's tree or of the index (`blobs`, root-relative), `view` being
/// every file of that tree; `label` names the tree in the config's error messages. With a
/// sealed `memo`, a blob it recorded is not read.
fn check_blobs(
    opts: &CheckOptions,
    repo: &Repository,
    root: PathBuf,
    (blobs, view): (Vec<(String, Oid)>, GitTree),
    label: &str,
    start: Instant,
    memo: Option<&FileMemo>,
) -> Result<Outcome, Fatal> {
    let read_blob = |oid: Oid| -> Result<Vec<u8>, Fatal> {
        repo.find_blob(oid)
            .map(|b| b.content().to_vec())
            .map_err(|e| git_err("cannot read a blob", e))
    };

    let mut config = match &opts.config {
        Some(p) => engine::load_config(&root, Some(p))?,
        None => match blobs.iter().find(|(p, _)| p == config::FILE_NAME) {
            Some((_, oid)) => {
                let bytes = read_blob(*oid)?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| Fatal(format!("config {}: not UTF-8", config::FILE_NAME)))?;
                let shown = format!("{label}:{}", config::FILE_NAME);
                Config::parse(&shown, &text, crate::rules::lookup)
                    .map_err(|e| Fatal(format!("config {e}")))?
            }
            None => Config::default(),
        },
    };
    engine::configure(opts, &mut config, &root)?;

    // The same rule set as the working tree's discovery ([`crate::discover::FileRules`]).
    let mut sourceignores = Vec::new();
    for (path, oid) in blobs
        .iter()
        .filter(|(p, _)| p == ".sourceignore" || p.ends_with("/.sourceignore"))
    {
        let text = String::from_utf8_lossy(&read_blob(*oid)?).into_owned();
        sourceignores.push((path.clone(), text));
    }
    let rules = FileRules::new(&config.exclude, &sourceignores).map_err(Fatal)?;

    // (blob, its bytes); a blob `memo` already knows is not read.
    let mut inputs: Vec<(String, (Oid, Vec<u8>))> = Vec::new();
    for (rel, oid) in &blobs {
        // `.sourceignore` files are read (never parsed): findings point at their lines.
        if rules.admits(rel) || crate::discover::is_sourceignore(rel) {
            let known = memo.is_some_and(|m| m.knows(rel, *oid));
            let bytes = if known { Vec::new() } else { read_blob(*oid)? };
            inputs.push((rel.clone(), (*oid, bytes)));
        }
    }
    inputs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut outcome = engine::run_with(
        root,
        inputs,
        |(_, b): &(Oid, Vec<u8>)| Ok(b.clone()),
        Box::new(view),
        config,
        opts.trees,
        memo.map(|m| {
            (
                m,
                &(|(oid, _): &(Oid, Vec<u8>)| Some(*oid)) as &crate::memo::BlobOf<_>,
            )
        }),
    );
    outcome.elapsed = Some(start.elapsed());
    Ok(outcome)
}

/// Checks the files staged in the index, what `git commit` would commit: never an unstaged
/// edit or an untracked file. The config is read from the index too, unless `--config` names
/// one on disk.
pub fn check_staged(opts: &CheckOptions) -> Result<Outcome, Fatal> {
    check_staged_with(opts, None)
}

/// [`check_staged`], recording into or replaying from `memo` ([`crate::memo`]).
pub fn check_staged_with(opts: &CheckOptions, memo: Option<&FileMemo>) -> Result<Outcome, Fatal> {
    let start = Instant::now();
    let root = match opts.paths.as_slice() {
        [] => PathBuf::from("."),
        [p] => p.clone(),
        _ => {
            return Err(Fatal(
                "--staged checks one directory of the index: give at most one path".into(),
            ));
        }
    };
    let repo = open(if root.is_dir() { &root } else { Path::new(".") })?;
    let prefix = prefix_in_repo(&repo, &root)?;
    let index = repo
        .index()
        .map_err(|e| git_err("cannot read the index", e))?;
    if index.has_conflicts() {
        return Err(Fatal(
            "--staged: the index has unresolved conflicts; resolve them (`git add`) first".into(),
        ));
    }
    let mut blobs = Vec::new();
    let mut view = GitTree::default();
    for entry in index.iter() {
        let path = std::str::from_utf8(&entry.path).map_err(|_| {
            Fatal(format!(
                "{}: a staged file name that is not UTF-8",
                String::from_utf8_lossy(&entry.path)
            ))
        })?;
        let rel = if prefix.is_empty() {
            path
        } else {
            match path
                .strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                Some(r) => r,
                None => continue,
            }
        };
        // `git add -N` records that a file will be added, not its content; a submodule's files
        // are not in this repository.
        const INTENT_TO_ADD: u16 = 1 << 13;
        if entry.flags_extended & INTENT_TO_ADD != 0 || entry.mode == 0o160000 {
            continue;
        }
        view.add_file(rel);
        // A symlink's blob is its target, not a manifest.
        if entry.mode != 0o120000 {
            blobs.push((rel.to_string(), entry.id));
        }
    }
    check_blobs(opts, &repo, root, (blobs, view), "index", start, memo)
}

const HOOK_MARKER: &str = "written by `fluxvet install-hook`";

/// Quotes a word for POSIX sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The pre-push hook's text. `exe` is tried first, then `fluxvet` on PATH.
pub fn hook_script(exe: &str, extra_args: &[String]) -> String {
    let extra: String = extra_args
        .iter()
        .map(|a| format!(" {}", sh_quote(a)))
        .collect();
    format!(
        r#"#!/bin/sh
# fluxvet pre-push hook, {HOOK_MARKER}.
# Lints exactly the commits being pushed: for every ref, the tree of the pushed commit, reporting
# the findings it introduces over what the remote already has, in whatever file they land.
# Skip once with --no-verify.
fluxvet={exe}
[ -x "$fluxvet" ] || fluxvet=fluxvet
remote="$1"
status=0

is_zero() {{ case "$1" in *[!0]*) return 1 ;; *) return 0 ;; esac; }}

# git gives one line per ref: <local ref> <local sha> <remote ref> <remote sha>
while read -r local_ref local_sha remote_ref remote_sha; do
  # A deleted ref pushes no files.
  is_zero "$local_sha" && continue
  base=
  if ! is_zero "$remote_sha" && git cat-file -e "$remote_sha^{{commit}}" 2>/dev/null; then
    base=$remote_sha
  else
    # A new branch: compare with where it left the tracked or the remote's default branch.
    upstream=$(git rev-parse --symbolic-full-name "$local_ref@{{upstream}}" 2>/dev/null)
    for candidate in "$upstream" "refs/remotes/$remote/HEAD" "refs/remotes/$remote/main" "refs/remotes/$remote/master"; do
      [ -n "$candidate" ] || continue
      if base=$(git merge-base "$local_sha" "$candidate" 2>/dev/null) && [ -n "$base" ]; then
        break
      fi
      base=
    done
  fi
  if [ -n "$base" ]; then
    "$fluxvet" check --rev "$local_sha" --changed-since "$base"{extra} </dev/null
  else
    # Nothing on the remote to compare with: the whole tree of the commit is new.
    "$fluxvet" check --rev "$local_sha"{extra} </dev/null
  fi
  code=$?
  if [ "$code" -ne 0 ]; then
    echo "fluxvet: not pushing $local_ref to $remote_ref (fix the findings above, or push with --no-verify)" >&2
    status=1
  fi
done
exit $status
"#,
        exe = sh_quote(exe),
    )
}

/// What `install-hook` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookInstall {
    Written,
    /// A hook fluxvet wrote before, with other arguments or another binary path: replaced.
    Updated,
    /// The same hook is there already: nothing written.
    AlreadyInstalled,
}

/// Writes the pre-push hook of the repository around `at`. A hook fluxvet wrote is updated in
/// place (or left alone when it is the same); another hook is kept unless `force`, and then
/// saved next to it as `pre-push.fluxvet-backup`.
pub fn install_hook(
    at: &Path,
    force: bool,
    extra_args: &[String],
) -> Result<(PathBuf, HookInstall), String> {
    let repo = open(at).map_err(|e| e.0)?;
    let hooks = match repo
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok())
    {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or_else(|| repo.commondir()).join(p),
        None => repo.commondir().join("hooks"),
    };
    let path = hooks.join("pre-push");
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fluxvet".into());
    let script = hook_script(&exe, extra_args);
    let mut how = HookInstall::Written;
    if path.exists() || path.symlink_metadata().is_ok() {
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        if old == script {
            return Ok((path, HookInstall::AlreadyInstalled));
        }
        if old.contains(HOOK_MARKER) {
            how = HookInstall::Updated;
        } else if !force {
            return Err(format!(
                "{} already exists; fluxvet leaves it alone (rerun with --force to replace it)",
                path.display()
            ));
        }
        if !old.contains(HOOK_MARKER) {
            let backup = hooks.join("pre-push.fluxvet-backup");
            std::fs::rename(&path, &backup)
                .map_err(|e| format!("cannot move {} aside: {e}", path.display()))?;
        }
    }
    std::fs::create_dir_all(&hooks).map_err(|e| format!("{}: {e}", hooks.display()))?;
    std::fs::write(&path, &script).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", path.display()))?;
    }
    Ok((path, how))
}

/// The default base of `fluxvet diff`: the merge base of `HEAD` with its upstream branch, else
/// `HEAD`. Returns the commit id and how it was chosen.
pub fn default_diff_base(at: &Path) -> Result<(String, String), Fatal> {
    let repo = open(if at.is_dir() { at } else { Path::new(".") })?;
    let head = resolve(&repo, "HEAD", "base")?;
    let upstream = repo
        .head()
        .ok()
        .filter(|h| h.is_branch())
        .and_then(|h| h.shorthand().ok().map(str::to_string))
        .and_then(|name| repo.find_branch(&name, git2::BranchType::Local).ok())
        .and_then(|b| b.upstream().ok())
        .and_then(|u| {
            let name = u.name().ok().flatten()?.to_string();
            Some((u.get().peel_to_commit().ok()?.id(), name))
        });
    match upstream {
        Some((up, name)) => {
            let base = repo
                .merge_base(head.id(), up)
                .map_err(|e| git_err(&format!("merge base of HEAD and {name}"), e))?;
            Ok((base.to_string(), format!("merge base with {name}")))
        }
        None => Ok((head.id().to_string(), "HEAD".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_view_lists_dirs() {
        let mut t = GitTree::default();
        t.add_file("a/b/c.yaml");
        t.add_file("a/d.yaml");
        t.add_file("top.yaml");
        assert!(t.is_dir("a") && t.is_dir("a/b") && t.is_dir("") && t.is_dir("./a/"));
        assert!(t.is_file("a/d.yaml") && !t.is_file("a"));
        assert_eq!(t.list_dir("a"), vec!["b", "d.yaml"]);
        assert_eq!(t.list_dir(""), vec!["a", "top.yaml"]);
        assert!(t.list_dir("nope").is_empty());
    }

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }
}
