//! `--format markdown`: a heading with the counts and a table of findings, for a GitHub job
//! summary (`>> "$GITHUB_STEP_SUMMARY"`) or a pull-request comment.

use std::io::Write;

use crate::diag::Severity;
use crate::engine::Outcome;

/// GitHub refuses a job summary over 1 MiB; a table this long is not read anyway.
const MAX_ROWS: usize = 500;

/// Table cells: `|` ends a cell, a newline ends the row, `<`/`>`/`&` would be read as HTML.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => {}
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// A code span that stays one even when the text holds backticks.
fn code(s: &str) -> String {
    let s = s.replace('|', "\\|");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

pub fn emit(outcome: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    let c = super::counts(outcome);
    let files = outcome.repo.files.len();
    let withheld = match outcome.withheld.note(outcome.diagnostics.len()) {
        Some(note) => format!(" {note}."),
        None => String::new(),
    };
    if outcome.diagnostics.is_empty() {
        return writeln!(
            w,
            "### fluxvet: no findings\n\n✅ {files} file(s), {} document(s) checked.{withheld}",
            outcome.documents
        );
    }
    writeln!(
        w,
        "### fluxvet: {} error(s), {} warning(s), {} info(s)\n",
        c.errors, c.warnings, c.infos
    )?;
    writeln!(w, "| Severity | Rule | Location | Message |")?;
    writeln!(w, "|---|---|---|---|")?;
    for d in outcome.diagnostics.iter().take(MAX_ROWS) {
        let pos = outcome.repo.files[d.file].line_col(d.span.start as usize);
        let icon = match d.severity {
            Severity::Error => "❌",
            Severity::Warning => "⚠️",
            Severity::Info => "ℹ️",
        };
        let mut message = cell(&d.message);
        if let Some(help) = &d.help {
            message.push_str("<br>help: ");
            message.push_str(&cell(help));
        }
        writeln!(
            w,
            "| {icon} {} | [{} {}]({}) | {} | {message} |",
            d.severity.as_str(),
            d.rule.code,
            d.rule.name,
            d.rule.url(),
            code(&format!(
                "{}:{}:{}",
                super::line_path(outcome, d.file),
                pos.line,
                pos.column
            )),
        )?;
    }
    if outcome.diagnostics.len() > MAX_ROWS {
        writeln!(
            w,
            "\n…and {} more; run `fluxvet check` locally for all of them.",
            outcome.diagnostics.len() - MAX_ROWS
        )?;
    }
    writeln!(
        w,
        "\n{files} file(s), {} document(s) checked.{withheld}",
        outcome.documents
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc<d>&"), "a\\|b<br>c&lt;d&gt;&amp;");
        assert_eq!(code("x`y"), "`` x`y ``");
    }
}
