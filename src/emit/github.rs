//! `--format github`: GitHub Actions workflow commands, so findings appear inline on the pull
//! request: `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=FV202 name::message`.

use std::io::Write;

use crate::diag::Severity;
use crate::engine::Outcome;

/// Escaping of a command's message, as the Actions runner decodes it.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a property value: `:` and `,` would end the value early.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn emit(outcome: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    annotations(outcome, w)?;
    let c = super::counts(outcome);
    writeln!(
        w,
        "fluxvet: {} error(s), {} warning(s), {} info(s) in {} file(s)",
        c.errors,
        c.warnings,
        c.infos,
        outcome.repo.files.len()
    )?;
    match outcome.withheld.note(outcome.diagnostics.len()) {
        Some(note) => writeln!(w, "fluxvet: {note}"),
        None => Ok(()),
    }
}

/// One workflow command per finding.
pub fn annotations(outcome: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    for d in &outcome.diagnostics {
        let file = &outcome.repo.files[d.file];
        let start = file.line_col(d.span.start as usize);
        let end = file.line_col(d.span.end as usize);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = format!(
            "file={},line={}",
            escape_property(&super::invocation_path(outcome, d.file)),
            start.line
        );
        // GitHub only places columns on single-line annotations; its endColumn is the last
        // character, ours is one past it.
        if end.line == start.line {
            let last = end.column.saturating_sub(1).max(start.column);
            props.push_str(&format!(
                ",col={},endLine={},endColumn={last}",
                start.column, end.line
            ));
        } else {
            props.push_str(&format!(",endLine={}", end.line));
        }
        let title = format!("{} {}", d.rule.code, d.rule.name);
        props.push_str(&format!(",title={}", escape_property(&title)));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        writeln!(w, "::{command} {props}::{}", escape_data(&message))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_runner_decodes() {
        assert_eq!(escape_data("100%\r\nnext"), "100%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn annotation_line() {
        let outcome = crate::engine::check_memory(
            &[("a, b:c.yaml", "a: 1\na: 2\n")],
            crate::config::Config::default(),
        );
        let mut out = Vec::new();
        emit(&outcome, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("::error file=a%2C b%3Ac.yaml,line=2,col=1,endLine=2,endColumn=1,title=FV102 duplicate-key::"),
            "{first}"
        );
    }
}
