use std::process::ExitCode;

use clap::Parser;

use fluxvet::cli::{Cli, Command};
use fluxvet::commands;

fn main() -> ExitCode {
    fluxvet::timing::mark_start();
    // Only for the commands that build what every cluster applies: a repository large enough
    // to build gains the most from the head start. On `fixtures/example`, `check` was 0.35 ms
    // slower with it (300 alternating runs): the thread's own heap costs more than it saves.
    let builds = std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "build" || a == "diff");
    if builds {
        fluxvet::discover::warm_up();
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fluxvet: error: {message}");
            2
        }
    };
    exit_now(code)
}

/// Ends the process once what it wrote is flushed, without the allocator's exit-time sweep:
/// mimalloc's `atexit` handler walks every heap page to return memory the exit returns anyway
/// (1.5% of a `fluxvet build`'s CPU time, on the run's last, single-threaded stretch).
fn exit_now(code: u8) -> ExitCode {
    use std::io::Write;
    let flushed = std::io::stdout().flush().is_ok() && std::io::stderr().flush().is_ok();
    if flushed {
        #[cfg(unix)]
        {
            unsafe extern "C" {
                fn _exit(status: i32) -> !;
            }
            // SAFETY: `_exit` only ends the process; output is flushed above, and nothing the
            // process leaves (files, children) waits on a destructor or an `atexit` handler.
            unsafe { _exit(i32::from(code)) }
        }
    }
    ExitCode::from(code)
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
