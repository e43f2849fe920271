use std::process::ExitCode;

use clap::Parser;

use fluxvet::cli::{Cli, Command};
use fluxvet::commands;

fn main() -> ExitCode {
    fluxvet::timing::mark_start();
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
        Command::Check(args) => commands::check::run(args),
        Command::Versions(args) => commands::versions::run(args),
        Command::Rules { format } => commands::rules::run(format),
        Command::InstallHook(args) => commands::install_hook::run(args),
        Command::Explain { rule } => commands::explain::run(&rule),
        Command::Graph(args) => commands::graph::run(args),
        Command::Baseline(args) => commands::baseline::run(args),
        Command::Build(args) => commands::build::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Lsp(_) => fluxvet::lsp::run(),
    }
}

// glibc malloc spent about a tenth of the run on arena locks, consolidation and mprotect
// with two threads building thousands of small trees; mimalloc keeps per-thread pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
