//! One module per output format; each turns an [`Outcome`] into text on a writer.

pub mod json;
pub mod text;

use std::io::Write;

use crate::diag::Severity;
use crate::engine::Outcome;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rich diagnostics with source snippets (the default).
    Text,
    /// The stable JSON contract for editors and scripts.
    Json,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

pub fn counts(outcome: &Outcome) -> Counts {
    let mut c = Counts::default();
    for d in &outcome.diagnostics {
        match d.severity {
            Severity::Error => c.errors += 1,
            Severity::Warning => c.warnings += 1,
            Severity::Info => c.infos += 1,
        }
    }
    c
}

pub fn emit(
    format: Format,
    outcome: &Outcome,
    color: bool,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Text => text::emit(outcome, color, w),
        Format::Json => json::emit(outcome, w),
    }
}
