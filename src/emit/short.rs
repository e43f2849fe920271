//! `--format short`: `file:line:col: severity code name: message`, one finding per line, the
//! form that editors' problem matchers, `grep` and `:cfile` understand.

use std::io::Write;

use crate::engine::Outcome;

pub fn emit(outcome: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    for d in &outcome.diagnostics {
        let pos = outcome.repo.files[d.file].line_col(d.span.start as usize);
        writeln!(
            w,
            "{}:{}:{}: {} {} {}: {}",
            super::line_path(outcome, d.file),
            pos.line,
            pos.column,
            d.severity.as_str(),
            d.rule.code,
            d.rule.name,
            one_line(&d.message)
        )?;
    }
    Ok(())
}

/// Messages are one line by convention; a stray newline would split a finding in two for every
/// line-based consumer.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}
