//! One module per output format; each turns an [`Outcome`] into text on a writer.

pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod short;
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
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: inline annotations on the pull request.
    Github,
    /// One line per finding, `file:line:col: severity code name: message`, for editors and grep.
    Short,
    /// A Markdown table, for a GitHub job summary or a pull-request comment.
    Markdown,
    /// A GitLab Code Quality report (`artifacts: reports: codequality:`).
    Gitlab,
    /// JUnit XML, for CI test reports (GitLab `reports: junit:`, Jenkins, Azure Pipelines).
    Junit,
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
        Format::Sarif => sarif::emit(outcome, w),
        Format::Github => github::emit(outcome, w),
        Format::Short => short::emit(outcome, w),
        Format::Markdown => markdown::emit(outcome, w),
        Format::Gitlab => gitlab::emit(outcome, w),
        Format::Junit => junit::emit(outcome, w),
    }
}

/// `--quiet`: the findings without the summary line the text and github formats end with.
pub fn emit_findings(
    format: Format,
    outcome: &Outcome,
    color: bool,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Text => text::diagnostics(outcome, color, w),
        Format::Github => github::annotations(outcome, w),
        other => emit(other, outcome, color, w),
    }
}

/// A file's path as the user can open it from where fluxvet ran (the rule in [`crate::paths`]):
/// editors, GitHub and SARIF viewers resolve paths against the working directory (the
/// repository root in CI), not against the directory given on the command line.
pub fn invocation_path(outcome: &Outcome, file: crate::diag::FileId) -> String {
    outcome.paths.show(&outcome.repo.files[file].path)
}

/// [`invocation_path`] for the line-based formats (`text`, `short`, `markdown`): a control
/// character in a file name (a newline would split one finding into two lines) is written as
/// an escape (`\n`, `\r`, `\t`, `\u{1b}`), as is a backslash, so the line stays one line and
/// the name can be recovered.
pub fn line_path(outcome: &Outcome, file: crate::diag::FileId) -> String {
    escape_path(&invocation_path(outcome, file))
}

pub fn escape_path(path: &str) -> String {
    if !path.chars().any(|c| c.is_control() || c == '\\') {
        return path.to_string();
    }
    path.chars()
        .map(|c| match c {
            '\\' => "\\\\".to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// How many `apiVersion/kind`s of applied objects FV505 found no schema for.
pub fn unvalidated_kinds(outcome: &Outcome) -> usize {
    outcome.repo.unvalidated_kinds.get().map_or(0, Vec::len)
}
