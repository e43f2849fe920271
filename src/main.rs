use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use fluxvet::cli::{
    CheckArgs, Cli, ColorChoice, Command, GraphArgs, RulesFormat, VersionsArgs, VersionsFormat,
};
use fluxvet::diag::Severity;
use fluxvet::engine::{self, CheckOptions};
use fluxvet::{emit, git, rules};

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
            let path = git::install_hook(std::path::Path::new("."), args.force, &args.check_args)?;
            println!("fluxvet: wrote {}", path.display());
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
        Command::Build(args) => build(args),
        Command::Diff(args) => diff(args),
    }
}

fn graph(args: GraphArgs) -> Result<u8, String> {
    let outcome = engine::check(&CheckOptions {
        paths: args.path.into_iter().collect(),
        config: args.config,
        exclude: args.exclude,
        trees: engine::Trees::All,
    })
    .map_err(|e| e.0)?;
    let g = fluxvet::graph::Graph::build(&outcome.repo);
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
    let root = build_root(&path, args.root.as_deref())?;
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
    })
    .map_err(|e| e.0)?;
    let started = std::time::Instant::now();
    let b = model::build(&outcome.repo, &rel);
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

fn check(args: CheckArgs) -> Result<u8, String> {
    if let Some(jobs) = args.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global()
            .map_err(|e| format!("cannot start {jobs} threads: {e}"))?;
    }
    let opts = CheckOptions {
        paths: args.paths.clone(),
        config: args.config.clone(),
        exclude: args.exclude.clone(),
        trees: engine::Trees::RulesNeed,
    };
    let mut outcome = match &args.rev {
        Some(rev) => git::check_rev(&opts, rev),
        None => engine::check(&opts),
    }
    .map_err(|e| e.0)?;
    if let Some(since) = &args.changed_since {
        let changed =
            git::changed_files(&outcome.repo.root, since, args.rev.as_deref()).map_err(|e| e.0)?;
        git::retain_changed(&mut outcome, &changed);
    }
    if args.no_timing {
        outcome.elapsed = None;
    }
    let mut buf = Vec::with_capacity(4096);
    emit::emit(args.format, &outcome, use_color(args.color), &mut buf)
        .map_err(|e| e.to_string())?;
    write_out(&mut std::io::stdout().lock(), &buf)?;
    for n in &outcome.notices {
        eprintln!("fluxvet: warning: {n}");
    }
    for p in &outcome.io_problems {
        eprintln!("fluxvet: error: {p}");
    }
    let worst = outcome.diagnostics.iter().map(|d| d.severity).max();
    let code = match worst {
        _ if !outcome.io_problems.is_empty() => 2,
        Some(Severity::Error) => 1,
        Some(Severity::Warning) if args.deny_warnings => 1,
        _ => 0,
    };
    // The process exits next: freeing every file and tree one by one is wasted work.
    std::mem::forget(outcome);
    Ok(code)
}

fn versions(args: VersionsArgs) -> Result<u8, String> {
    let outcome = engine::check(&CheckOptions {
        paths: args.path.into_iter().collect(),
        config: args.config,
        exclude: Vec::new(),
        trees: engine::Trees::All,
    })
    .map_err(|e| e.0)?;
    let m = fluxvet::promotion::matrix(&outcome.repo);
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
