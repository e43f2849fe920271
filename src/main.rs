use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use fluxvet::cli::{CheckArgs, Cli, ColorChoice, Command, RulesFormat};
use fluxvet::diag::Severity;
use fluxvet::engine::{self, CheckOptions};
use fluxvet::{emit, rules};

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
        Command::Rules { format } => {
            let mut out = std::io::stdout().lock();
            let text = match format {
                RulesFormat::Text => rules::catalogue::text(),
                RulesFormat::Markdown => rules::catalogue::markdown(),
                RulesFormat::Json => rules::catalogue::json(),
            };
            write_out(&mut out, text.as_bytes())?;
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
    }
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
    let outcome = engine::check(&CheckOptions {
        paths: args.paths.clone(),
        config: args.config.clone(),
        exclude: args.exclude.clone(),
    })
    .map_err(|e| e.0)?;
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
    if !outcome.io_problems.is_empty() {
        return Ok(2);
    }
    let worst = outcome.diagnostics.iter().map(|d| d.severity).max();
    Ok(match worst {
        Some(Severity::Error) => 1,
        Some(Severity::Warning) if args.deny_warnings => 1,
        _ => 0,
    })
}
