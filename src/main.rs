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
        Command::Baseline(args) => baseline(args),
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
    let target = match (&args.rev, args.staged) {
        (Some(rev), _) => changes::Target::Rev(rev.clone()),
        (None, true) => changes::Target::Staged,
        (None, false) => changes::Target::WorkTree,
    };
    let baseline = match &args.baseline {
        Some(path) => Some(fluxvet::baseline::Baseline::load(path).map_err(|e| e.0)?),
        None => None,
    };
    let mut outcome = changes::check(
        &opts,
        &target,
        args.changed_since.as_deref(),
        baseline.as_ref(),
    )
    .map_err(|e| e.0)?;
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

fn baseline(args: fluxvet::cli::BaselineArgs) -> Result<u8, String> {
    let outcome = engine::check(&CheckOptions {
        paths: args.path.into_iter().collect(),
        config: args.config,
        exclude: args.exclude,
        trees: engine::Trees::RulesNeed,
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
