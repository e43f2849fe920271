//! The subcommands, one module each, callable from the binary, the tests and an editor's
//! language server. Each takes its parsed arguments and returns the exit code (or the message
//! of a usage, config or I/O problem, which `main` prints with exit code 2).

pub mod baseline;
pub mod build;
pub mod check;
pub mod diff;
pub mod explain;
pub mod fix;
pub mod graph;
pub mod install_hook;
pub mod rules;
pub mod versions;

use std::io::{IsTerminal, Write};

use crate::cli::ColorChoice;

pub(crate) fn write_out(w: &mut dyn Write, bytes: &[u8]) -> Result<(), String> {
    match w.write_all(bytes).and_then(|_| w.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`fluxvet rules | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write output: {e}")),
    }
}

pub(crate) fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}
