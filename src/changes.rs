//! `--changed-since REV`: the findings a change introduces, wherever they are.
//!
//! A change breaks files it does not touch (rename the HelmRelease another one dependsOn, delete a
//! file a kustomization lists), so keeping the findings located in changed files misses them.
//! Both trees are checked instead, and the findings of the new tree whose
//! [fingerprint](crate::fingerprint) the old tree does not have are reported; the others are
//! counted in the summary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::baseline::Baseline;
use crate::engine::{self, CheckOptions, Fatal, Outcome};
use crate::fingerprint::{fingerprints, new_findings};
use crate::git;
use crate::memo::FileMemo;
use crate::timing::timing;

/// The tree a `check` reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The files on disk.
    WorkTree,
    /// A commit's tree (`--rev`).
    Rev(String),
    /// The index: what `git commit` would commit (`--staged`).
    Staged,
}

pub use crate::engine::Withheld;

/// Checks `target`.
pub fn check_target(opts: &CheckOptions, target: &Target) -> Result<Outcome, Fatal> {
    check_target_with(opts, target, None)
}

fn check_target_with(
    opts: &CheckOptions,
    target: &Target,
    memo: Option<&FileMemo>,
) -> Result<Outcome, Fatal> {
    match target {
        Target::WorkTree => engine::check_with(opts, memo),
        Target::Rev(rev) => git::check_rev_with(opts, rev, memo),
        Target::Staged => git::check_staged_with(opts, memo),
    }
}

/// `fluxvet check`: `target`, less what `baseline` records, less (with `since`) the findings
/// the tree it left `since` already had.
pub fn check(
    opts: &CheckOptions,
    target: &Target,
    since: Option<&str>,
    baseline: Option<&Baseline>,
) -> Result<Outcome, Fatal> {
    match since {
        None => {
            let mut outcome = check_target(opts, target)?;
            if let Some(b) = baseline {
                b.apply(&mut outcome);
            }
            Ok(outcome)
        }
        Some(since) => check_changed_since(opts, since, target, baseline),
    }
}

/// Checks `target` and the tree it left `since` (their merge base), in parallel, and keeps the
/// findings of `target` that the old tree did not have. A baseline applies to both trees, so a
/// stale entry is reported when the change made it stale.
pub fn check_changed_since(
    opts: &CheckOptions,
    since: &str,
    target: &Target,
    baseline: Option<&Baseline>,
) -> Result<Outcome, Fatal> {
    let root = match opts.paths.as_slice() {
        [] => PathBuf::from("."),
        [p] => p.clone(),
        _ => {
            return Err(Fatal(
                "--changed-since compares one directory of two trees: give at most one path".into(),
            ));
        }
    };
    let start = std::time::Instant::now();
    // The new tree is checked (recording each file) while git finds the old one; the old tree
    // then parses only the files the change touched and replays the rest (most of a check is
    // reading and parsing): about 1.5 checks, where two checks side by side cost 2.5 on two cores.
    let memo = FileMemo::new();
    let with_baseline = |outcome: Result<Outcome, Fatal>| {
        outcome.map(|mut o| {
            if let Some(b) = baseline {
                b.apply(&mut o);
            }
            o
        })
    };
    let (base, new) = rayon::join(
        || base_of(&root, since, target),
        || with_baseline(check_target_with(opts, target, Some(&memo))),
    );
    timing(|| format!("new tree checked at {:.1} ms", ms(start.elapsed())));
    let Some(base) = base? else {
        // The first commit of a repository: everything it holds is new.
        let mut outcome = new?;
        outcome.withheld.since = Some((format!("{since} (nothing committed yet)"), 0));
        return Ok(outcome);
    };
    let mut new = new?;
    memo.seal();
    let old = with_baseline(git::check_rev_with(opts, &base.commit, Some(&memo)));
    timing(|| format!("old tree checked at {:.1} ms", ms(start.elapsed())));
    // The memo's copies are freed while the findings are compared.
    std::thread::spawn(move || drop(memo));
    let old = old.map_err(|e| Fatal(format!("checking {}: {e}", base.label)))?;
    let old_prints = fingerprints(&old.repo, &old.diagnostics, &|p| {
        base.renames.get(p).cloned()
    });
    let new_prints = fingerprints(&new.repo, &new.diagnostics, &|_| None);
    let is_new = new_findings(&old_prints, &new_prints);
    let before = new.diagnostics.len();
    let mut keep = is_new.into_iter();
    new.diagnostics.retain(|_| keep.next().unwrap_or(true));
    new.withheld.since = Some((base.label, before - new.diagnostics.len()));
    timing(|| format!("findings compared at {:.1} ms", ms(start.elapsed())));
    if new.elapsed.is_some() {
        new.elapsed = Some(start.elapsed());
    }
    // Freeing every file and tree of the old check one by one is work the report need not wait for.
    std::thread::spawn(move || drop(old));
    Ok(new)
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Base {
    /// The commit id of the old tree.
    commit: String,
    /// How the summary names it.
    label: String,
    /// Old path → new path of the files git sees renamed (root-relative).
    renames: HashMap<String, String>,
}

/// The merge base of `since` and the target (for the working tree and the index: `HEAD`), and
/// the files renamed between it and the target; `None` when `since` names the unborn branch of
/// a repository with no commit yet (`--changed-since HEAD` in a pre-commit hook's first commit).
fn base_of(root: &Path, since: &str, target: &Target) -> Result<Option<Base>, Fatal> {
    let repo = git::open(if root.is_dir() { root } else { Path::new(".") })?;
    let prefix = git::prefix_in_repo(&repo, root)?;
    let unborn = matches!(repo.head(), Err(e) if e.code() == git2::ErrorCode::UnbornBranch);
    let since_commit = match git::resolve(&repo, since, "--changed-since") {
        Ok(c) => c,
        // Nothing is committed, so nothing can be named: there is no old tree.
        Err(_) if unborn => return Ok(None),
        Err(e) => return Err(e),
    };
    let target_commit = match target {
        Target::Rev(r) => Some(git::resolve(&repo, r, "--rev")?),
        // An unborn branch has no HEAD yet: compare with `since` itself.
        _ => repo.head().ok().and_then(|h| h.peel_to_commit().ok()),
    };
    // "Changed since main" means since the branch left main, not every change main got since.
    let base_id = target_commit
        .as_ref()
        .and_then(|t| repo.merge_base(since_commit.id(), t.id()).ok())
        .unwrap_or(since_commit.id());
    let label = if base_id == since_commit.id() {
        since.to_string()
    } else {
        format!(
            "{since} (merge base {})",
            &base_id.to_string()[..12.min(base_id.to_string().len())]
        )
    };
    let base_tree = repo
        .find_commit(base_id)
        .and_then(|c| c.tree())
        .map_err(|e| git::git_err("--changed-since", e))?;
    let mut diff = match (target, &target_commit) {
        (Target::Rev(_), Some(t)) => {
            let t_tree = t.tree().map_err(|e| git::git_err("--rev", e))?;
            repo.diff_tree_to_tree(Some(&base_tree), Some(&t_tree), None)
        }
        // For the working tree too: a rename is staged (`git mv`), and comparing every file on
        // disk with the index would cost more than the rest of the comparison.
        _ => repo.diff_tree_to_index(Some(&base_tree), None, None),
    }
    .map_err(|e| git::git_err("cannot compare the two trees", e))?;
    let mut find = git2::DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))
        .map_err(|e| git::git_err("cannot find renamed files", e))?;
    let rel = |p: Option<&Path>| -> Option<String> {
        let p = p?.to_str()?.replace('\\', "/");
        if prefix.is_empty() {
            Some(p)
        } else {
            p.strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .map(str::to_string)
        }
    };
    let mut renames = HashMap::new();
    for delta in diff.deltas() {
        if delta.status() == git2::Delta::Renamed
            && let (Some(old), Some(new)) =
                (rel(delta.old_file().path()), rel(delta.new_file().path()))
        {
            renames.insert(old, new);
        }
    }
    Ok(Some(Base {
        commit: base_id.to_string(),
        label,
        renames,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_counts_both() {
        let w = Withheld {
            since: Some(("HEAD~1".into(), 12)),
            baselined: Some(3),
        };
        assert_eq!(
            w.note(2).as_deref(),
            Some("2 new, 12 existing since HEAD~1; 3 baselined")
        );
        assert_eq!(Withheld::default().note(2), None);
    }
}
