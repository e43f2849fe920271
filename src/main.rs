use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use fluxvet::cli::{
    CheckArgs, Cli, ColorChoice, Command, GraphArgs, RulesFormat, VersionsArgs, VersionsFormat,
};
use fluxvet::diag::Severity;
use fluxvet::engine::{self, CheckOptions};
use fluxvet::{changes, emit, git, rules};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("fluxvet: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Versions(args) => versions(args),
        Command::Rules { format } => {
            let mut out = std::io::stdout().lock();
            let text = match format {
                RulesFormat::Text => rules::catalogue::text(),
                RulesFormat::Markdown => rules::catalogue::markdown(),
                RulesFormat::Json => rules::catalogue::json(),
                RulesFormat::Docs => rules::catalogue::docs_page(),
            };
            write_out(&mut out, text.as_bytes())?;
            Ok(0)
        }
        Command::InstallHook(args) => {
            let (path, how) =
                git::install_hook(std::path::Path::new("."), args.force, &args.check_args)?;
            match how {
                git::HookInstall::Written => println!("fluxvet: wrote {}", path.display()),
                git::HookInstall::Updated => println!("fluxvet: updated {}", path.display()),
                git::HookInstall::AlreadyInstalled => println!(
                    "fluxvet: the hook is already installed at {}; nothing to do",
                    path.display()
                ),
            }
            Ok(0)
        }
        Command::Explain { rule } => match rules::lookup(&rule) {
            Some(meta) => {
                let text = rules::catalogue::explain(meta);
                write_out(&mut std::io::stdout().lock(), text.as_bytes())?;
                Ok(0)
            }
            None => Err(format!(
                "`{rule}` is not a fluxvet rule; `fluxvet rules` lists them"
            )),
        },
        Command::Graph(args) => graph(args),
        Command::Baseline(args) => baseline(args),
        Command::Build(args) => build(args),
        Command::Diff(args) => diff(args),
        Command::Lsp(_) => fluxvet::lsp::run(),
    }
}

fn graph(args: GraphArgs) -> Result<u8, String> {
    let outcome = engine::check(&CheckOptions {
        paths: args.path.into_iter().collect(),
        config: args.config,
        exclude: args.exclude,
        trees: engine::Trees::All,
        ..CheckOptions::default()
    })
    .map_err(|e| e.0)?;
    let repo = &outcome.repo;
    let data;
    let g = match &args.cluster {
        None => fluxvet::graph::Graph::build(repo),
        Some(name) => {
            let Some(index) = repo.clusters().iter().position(|c| &c.name == name) else {
                let known: Vec<&str> = repo.clusters().iter().map(|c| c.name.as_str()).collect();
                return Err(if known.is_empty() {
                    format!(
                        "--cluster {name}: this repository has no clusters (no flux-system/gotk-sync.yaml, FluxInstance or `clusters:` in the config)"
                    )
                } else {
                    format!(
                        "--cluster {name}: no such cluster; the repository has {}",
                        known.join(", ")
                    )
                });
            };
            data = fluxvet::graph::GraphData::of_cluster(repo, index);
            fluxvet::graph::Graph::view(repo, &data)
        }
    };
    let text = match &args.roots_of {
        Some(name) => fluxvet::graph_render::roots_of(&g, name, args.format)?,
        None => fluxvet::graph_render::render(&g, args.format),
    };
    write_out(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(0)
}

/// The directory a build may reach: the given root, the enclosing git work tree, the current
/// directory when the path is below it, else the path itself.
fn build_root(
    path: &std::path::Path,
    root: Option<&std::path::Path>,
) -> Result<std::path::PathBuf, String> {
    if let Some(r) = root {
        return r
            .canonicalize()
            .map_err(|e| format!("{}: {e}", r.display()));
    }
    let abs = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(git) = abs.ancestors().find(|a| a.join(".git").exists()) {
        return Ok(git.to_path_buf());
    }
    match std::env::current_dir().and_then(|c| c.canonicalize()) {
        Ok(cwd) if abs.starts_with(&cwd) => Ok(cwd),
        _ => Ok(abs),
    }
}

fn build(args: fluxvet::cli::BuildArgs) -> Result<u8, String> {
    use fluxvet::cli::BuildFormat;
    use fluxvet::model::{self, Origin, output};
    let path = args
        .path
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    if !path.is_dir() {
        return Err(format!(
            "{}: no such directory; give `fluxvet build` a directory",
            path.display()
        ));
    }
    // With a cluster or Kustomization to select, PATH is the repository itself.
    let selecting = args.cluster.is_some() || args.kustomization.is_some();
    let root = if selecting && args.root.is_none() {
        path.canonicalize()
            .map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        build_root(&path, args.root.as_deref())?
    };
    let abs = path.canonicalize().map_err(|e| e.to_string())?;
    let rel = abs
        .strip_prefix(&root)
        .map_err(|_| {
            format!(
                "{} is not below the root {}",
                path.display(),
                root.display()
            )
        })?
        .to_string_lossy()
        .replace('\\', "/");
    let mut outcome = engine::check(&CheckOptions {
        paths: vec![root.clone()],
        config: None,
        exclude: Vec::new(),
        trees: engine::Trees::All,
        ..CheckOptions::default()
    })
    .map_err(|e| e.0)?;
    let started = std::time::Instant::now();
    let b = if args.cluster.is_some() || args.kustomization.is_some() {
        flux_build(
            &outcome.repo,
            args.cluster.as_deref(),
            args.kustomization.as_deref(),
        )?
    } else {
        model::build(&outcome.repo, &rel)
    };
    if std::env::var_os("FLUXVET_TIMINGS").is_some() {
        eprintln!(
            "timing: build of {rel:?} {:.2} ms, {} objects",
            started.elapsed().as_secs_f64() * 1e3,
            b.objects.len()
        );
    }
    let repo = &outcome.repo;
    let locate = |o: Origin| -> Option<String> {
        let f = repo.files.get(o.file as usize)?;
        let lc = f.line_col(o.span.start as usize);
        Some(format!("{}:{}:{}", f.path, lc.line, lc.column))
    };
    let place = |file: usize, at: u32| -> serde_json::Value {
        match repo.files.get(file) {
            Some(f) => {
                let lc = f.line_col(at as usize);
                serde_json::json!({"file": &*f.path, "line": lc.line, "column": lc.column})
            }
            None => serde_json::json!({}),
        }
    };
    let failed = b.failed();
    let (diagnostics, unplaced) = model::findings::diagnostics(&b, repo.files.len());
    let text = match args.format {
        BuildFormat::Json => output::json(&b, &locate, &place),
        BuildFormat::Yaml if failed => String::new(),
        BuildFormat::Yaml => output::yaml(&b.objects, args.show_origin.then_some(&locate as _)),
    };
    write_out(&mut std::io::stdout().lock(), text.as_bytes())?;
    for m in &unplaced {
        eprintln!("fluxvet: error: {m}");
    }
    if args.format == BuildFormat::Yaml && !diagnostics.is_empty() {
        outcome.diagnostics = diagnostics;
        outcome.elapsed = None;
        let mut buf = Vec::new();
        emit::emit(
            emit::Format::Text,
            &outcome,
            use_color(args.color),
            &mut buf,
        )
        .map_err(|e| e.to_string())?;
        if failed {
            write_out(&mut std::io::stdout().lock(), &buf)?;
        } else {
            write_out(&mut std::io::stderr().lock(), &buf)?;
        }
    }
    Ok(if failed { 1 } else { 0 })
}

/// What Flux applies for the selected cluster and/or Flux Kustomization: each selected build
/// of the reconcile tree, with the Flux Kustomization's own steps.
fn flux_build(
    repo: &fluxvet::index::Repository,
    cluster: Option<&str>,
    kustomization: Option<&str>,
) -> Result<fluxvet::model::Build, String> {
    use fluxvet::reconcile::{BOOTSTRAP, display_name};
    let clusters = repo.clusters();
    if clusters.is_empty() {
        return Err("this repository has no clusters (no flux-system/gotk-sync.yaml, FluxInstance or `clusters:` in the config): build a directory instead".into());
    }
    let wanted_cluster = match cluster {
        Some(name) => Some(
            clusters
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
                    format!(
                        "--cluster {name}: no such cluster; the repository has {}",
                        known.join(", ")
                    )
                })?,
        ),
        None => None,
    };
    let mut out = fluxvet::model::Build::default();
    let mut matched = false;
    for (ci, applier, path) in repo.reconcile_tree().builds() {
        if wanted_cluster.is_some_and(|w| w != *ci as usize) {
            continue;
        }
        let ks = (*applier != BOOTSTRAP)
            .then(|| repo.objects.get(*applier))
            .flatten();
        if let Some(want) = kustomization {
            let Some(ks) = ks else { continue };
            let full = display_name(repo, ks);
            if want != full && want != ks.name {
                continue;
            }
        }
        matched = true;
        if std::env::var_os("FLUXVET_TIMINGS").is_some() {
            eprintln!("timing: build path {path:?}");
        }
        let mut b = fluxvet::model::build(repo, path);
        if let Some(ks) = ks {
            fluxvet::model::applied::flux_steps(repo, ks, &mut b.objects);
        }
        out.objects.extend(b.objects);
        out.errors.extend(b.errors);
        out.gaps.extend(b.gaps);
    }
    if !matched {
        return Err(format!(
            "--kustomization {}: no Flux Kustomization of that name is applied{}",
            kustomization.unwrap_or(""),
            cluster
                .map(|c| format!(" in cluster {c}"))
                .unwrap_or_default()
        ));
    }
    Ok(out)
}

fn write_out(w: &mut dyn Write, bytes: &[u8]) -> Result<(), String> {
    match w.write_all(bytes).and_then(|_| w.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`fluxvet rules | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write output: {e}")),
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Starts the worker pool for `-j`, lowered to a sane multiple of the cores with a note.
fn start_threads(requested: u32, quiet: bool) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (threads, note) = fluxvet::cli::thread_count(requested, cores);
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
    })
}

fn check(args: CheckArgs) -> Result<u8, String> {
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
        Some(path) => Some(fluxvet::baseline::Baseline::load(path).map_err(|e| e.0)?),
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
        outcome.paths = fluxvet::paths::PathDisplay::new(&outcome.repo.root);
        match fluxvet::fix::run(&outcome, args.diff)? {
            fluxvet::fix::Done::Diff(code) => return Ok(code),
            fluxvet::fix::Done::Written => outcome = run_check()?,
        }
    }
    if args.no_timing {
        outcome.elapsed = None;
    }
    outcome.paths = fluxvet::paths::PathDisplay::new(&outcome.repo.root);
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

fn baseline(args: fluxvet::cli::BaselineArgs) -> Result<u8, String> {
    let outcome = engine::check(&CheckOptions {
        paths: args.path.into_iter().collect(),
        config: args.config,
        exclude: args.exclude,
        trees: engine::Trees::RulesNeed,
        ..CheckOptions::default()
    })
    .map_err(|e| e.0)?;
    let (text, unwaivable) = fluxvet::baseline::write(&outcome, &args.reason);
    let recorded = outcome.diagnostics.len() - unwaivable;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "fluxvet: wrote {} ({recorded} finding{})",
                path.display(),
                if recorded == 1 { "" } else { "s" }
            );
        }
        None => write_out(&mut std::io::stdout().lock(), text.as_bytes())?,
    }
    if unwaivable > 0 {
        eprintln!(
            "fluxvet: warning: {unwaivable} finding(s) of rules the config lists as `unwaivable` \
             are not recorded: fix them"
        );
    }
    for p in &outcome.io_problems {
        eprintln!("fluxvet: error: {p}");
    }
    Ok(if outcome.io_problems.is_empty() { 0 } else { 2 })
}

fn versions(args: VersionsArgs) -> Result<u8, String> {
    let outcome = engine::check(&CheckOptions {
        paths: args.path.into_iter().collect(),
        config: args.config,
        exclude: Vec::new(),
        trees: engine::Trees::All,
        ..CheckOptions::default()
    })
    .map_err(|e| e.0)?;
    let m = if outcome.repo.config.environments.is_empty() {
        // Without a promotion order, the clusters are the environments (as they are found).
        fluxvet::promotion::matrix_of_clusters(&outcome.repo).ok_or_else(|| {
            "versions needs the environments: add e.g. `environments: [dev, staging, production]` \
             to .fluxvet.yaml (or the file --config names), or bootstrap the clusters \
             (clusters/<name>/flux-system/gotk-sync.yaml) so they can be found"
                .to_string()
        })?
    } else {
        fluxvet::promotion::matrix(&outcome.repo)
    };
    let text = match args.format {
        VersionsFormat::Text => fluxvet::promotion::render_text(&m, use_color(args.color)),
        VersionsFormat::Json => fluxvet::promotion::render_json(&outcome.repo, &m),
        VersionsFormat::Markdown => fluxvet::promotion::render_markdown(&m),
    };
    write_out(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(0)
}

fn diff(args: fluxvet::cli::DiffArgs) -> Result<u8, String> {
    use fluxvet::cli::DiffFormat;
    use fluxvet::diff::{compare, render};
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let opts = CheckOptions {
        paths: args.path.iter().cloned().collect(),
        config: args.config.clone(),
        exclude: Vec::new(),
        trees: engine::Trees::All,
        ..CheckOptions::default()
    };
    let (base_rev, how) = match &args.base {
        Some(b) => (b.clone(), b.clone()),
        None => fluxvet::git::default_diff_base(&dir).map_err(|e| e.0)?,
    };
    let base = fluxvet::git::check_rev(&opts, &base_rev).map_err(|e| e.0)?;
    let (head, head_name) = if args.head == "worktree" {
        (
            engine::check(&opts).map_err(|e| e.0)?,
            "the working tree".to_string(),
        )
    } else {
        (
            fluxvet::git::check_rev(&opts, &args.head).map_err(|e| e.0)?,
            args.head.clone(),
        )
    };
    let report = compare(&base.repo, &head.repo);
    let short = |r: &str| {
        if r.len() == 40 {
            r[..12].to_string()
        } else {
            r.to_string()
        }
    };
    let title = format!("{} ({how}) → {head_name}", short(&base_rev));
    let text = match args.format {
        DiffFormat::Text => render::text(
            &report,
            &format!("fluxvet diff: {title}"),
            use_color(args.color),
        ),
        DiffFormat::Json => render::json(&report, &base_rev, &args.head),
        DiffFormat::Markdown => render::markdown(&report, &title),
    };
    write_out(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(match report.worst() {
        Some(Severity::Error) => 1,
        Some(Severity::Warning) if args.deny_warnings => 1,
        _ => 0,
    })
}

// glibc malloc spent about a tenth of the run on arena locks, consolidation and mprotect
// with two threads building thousands of small trees; mimalloc keeps per-thread pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
