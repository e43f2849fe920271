//! `fluxvet check`: every finding, in the chosen format, and the exit code they make.

use super::{use_color, write_out};
use crate::changes;
use crate::cli::CheckArgs;
use crate::diag::Severity;
use crate::emit;
use crate::engine::{self, CheckOptions};

/// Starts the worker pool for `-j`, lowered to a sane multiple of the cores with a note.
fn start_threads(requested: u32, quiet: bool) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (threads, note) = crate::cli::thread_count(requested, cores);
    if let Some(note) = note
        && !quiet
    {
        eprintln!("fluxvet: note: {note}");
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| format!("cannot start {threads} threads: {e}"))
}

/// The engine's options for `check`: `-` in the paths is the document on stdin, named by
/// `--stdin-filename`.
fn check_options(args: &CheckArgs) -> Result<CheckOptions, String> {
    let dash = std::path::Path::new("-");
    let mut paths = args.paths.clone();
    let stdin = match (paths.iter().position(|p| p == dash), &args.stdin_filename) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(
                "`-` reads a document from stdin: name the file it stands for with \
                 --stdin-filename PATH (e.g. `fluxvet check - --stdin-filename apps/x.yaml`)"
                    .into(),
            );
        }
        (None, Some(_)) => {
            return Err(
                "--stdin-filename names the document read from stdin: add `-` to the \
                 paths (e.g. `fluxvet check - --stdin-filename apps/x.yaml`)"
                    .into(),
            );
        }
        (Some(_), Some(_)) if args.rev.is_some() => {
            return Err("--rev checks a commit's files: it cannot take a document on stdin".into());
        }
        (Some(_), Some(_)) if args.staged => {
            return Err("--staged checks the index: it cannot take a document on stdin".into());
        }
        (Some(at), Some(name)) => {
            use std::io::Read;
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            paths.retain(|p| p != dash);
            paths.insert(at.min(paths.len()), name.clone());
            Some(engine::StdinFile {
                path: name.clone(),
                bytes,
            })
        }
    };
    Ok(CheckOptions {
        paths,
        config: args.config.clone(),
        exclude: args.exclude.clone(),
        trees: engine::Trees::RulesNeed,
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        max_file_size: args.max_file_size,
        stdin,
        model_only: false,
    })
}

pub fn run(args: CheckArgs) -> Result<u8, String> {
    if let Some(jobs) = args.jobs {
        start_threads(jobs, args.quiet)?;
    }
    let opts = check_options(&args)?;
    let target = match (&args.rev, args.staged) {
        (Some(rev), _) => changes::Target::Rev(rev.clone()),
        (None, true) => changes::Target::Staged,
        (None, false) => changes::Target::WorkTree,
    };
    let baseline = match &args.baseline {
        Some(path) => Some(crate::baseline::Baseline::load(path).map_err(|e| e.0)?),
        None => None,
    };
    let run_check = || -> Result<engine::Outcome, String> {
        changes::check(
            &opts,
            &target,
            args.changed_since.as_deref(),
            baseline.as_ref(),
        )
        .map_err(|e| e.0)
    };
    let mut outcome = run_check()?;
    if args.fix {
        outcome.paths = crate::paths::PathDisplay::new(&outcome.repo.root);
        match super::fix::run(&outcome, args.diff)? {
            super::fix::Done::Diff(code) => return Ok(code),
            super::fix::Done::Written => outcome = run_check()?,
        }
    }
    if args.no_timing {
        outcome.elapsed = None;
    }
    outcome.paths = crate::paths::PathDisplay::new(&outcome.repo.root);
    let mut buf = Vec::with_capacity(4096);
    let emitted = if args.quiet {
        emit::emit_findings(args.format, &outcome, use_color(args.color), &mut buf)
    } else {
        emit::emit(args.format, &outcome, use_color(args.color), &mut buf)
    };
    emitted.map_err(|e| e.to_string())?;
    write_out(&mut std::io::stdout().lock(), &buf)?;
    if !args.quiet {
        for n in &outcome.notices {
            eprintln!("fluxvet: warning: {n}");
        }
    }
    for p in &outcome.io_problems {
        eprintln!("fluxvet: error: {p}");
    }
    let no_files = outcome.repo.files.is_empty();
    if no_files && (args.require_files || !args.quiet) {
        let level = if args.require_files { "error" } else { "note" };
        eprintln!(
            "fluxvet: {level}: {}",
            no_manifests_message(&outcome.repo.root, args.rev.as_deref())
        );
    }
    let worst = outcome.diagnostics.iter().map(|d| d.severity).max();
    let code = match worst {
        _ if !outcome.io_problems.is_empty() => 2,
        _ if no_files && args.require_files => 2,
        _ if args.exit_zero => 0,
        Some(Severity::Error) => 1,
        Some(Severity::Warning) if args.deny_warnings => 1,
        _ => 0,
    };
    // The process exits next: freeing every file and tree one by one is wasted work.
    std::mem::forget(outcome);
    Ok(code)
}

/// What a run that found nothing to check says, so a mistyped path does not pass silently.
fn no_manifests_message(root: &std::path::Path, rev: Option<&str>) -> String {
    let at = rev.map(|r| format!(" in commit {r}")).unwrap_or_default();
    format!(
        "no manifests found under {}{at} (fluxvet reads *.yaml, *.yml and Kustomization files \
         not hidden by .gitignore, .sourceignore or exclude globs); nothing was checked",
        root.display()
    )
}
