//! `--format junit`: JUnit XML, for CI systems that show test reports (GitLab's
//! `artifacts: reports: junit:`, Jenkins, Azure Pipelines, CircleCI). One `<testsuite>` per file
//! with findings, one `<testcase>` per finding holding a `<failure>` whose `type` is the
//! severity; a file fluxvet could not read is an `<error>`. A clean run is one passing testcase,
//! so the CI page shows that fluxvet ran. No timestamps or durations: two runs compare equal.

use std::io::Write;

use crate::engine::Outcome;

/// Text as XML 1.0 character data or an attribute value. XML 1.0 cannot hold most control
/// characters at all, even as references: they are written as `\u{…}` escapes instead.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {
                out.push_str(&c.escape_unicode().to_string())
            }
            c => out.push(c),
        }
    }
    out
}

pub fn emit(outcome: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    // Diagnostics are sorted by file: consecutive runs of one file make one suite.
    let mut suites: Vec<(String, Vec<&crate::diag::Diagnostic>)> = Vec::new();
    for d in &outcome.diagnostics {
        let path = super::invocation_path(outcome, d.file);
        match suites.last_mut() {
            Some((p, ds)) if *p == path => ds.push(d),
            _ => suites.push((path, vec![d])),
        }
    }
    let findings = outcome.diagnostics.len();
    let errors = outcome.io_problems.len();
    let tests = findings + errors + usize::from(findings + errors == 0);
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<testsuites name="fluxvet" tests="{tests}" failures="{findings}" errors="{errors}">"#
    )?;
    for (path, ds) in &suites {
        let p = escape(path);
        writeln!(
            w,
            r#"  <testsuite name="{p}" tests="{n}" failures="{n}" errors="0" skipped="0">"#,
            n = ds.len()
        )?;
        for d in ds {
            let file = &outcome.repo.files[d.file];
            let at = file.line_col(d.span.start as usize);
            let mut body = format!(
                "{path}:{}:{}: {} {} {}: {}",
                at.line,
                at.column,
                d.severity.as_str(),
                d.rule.code,
                d.rule.name,
                d.message
            );
            if let Some(help) = &d.help {
                body.push_str("\nhelp: ");
                body.push_str(help);
            }
            body.push('\n');
            body.push_str(&d.rule.url());
            writeln!(
                w,
                r#"    <testcase name="{code} {name} at line {line}, column {col}" classname="{p}" file="{p}" line="{line}">"#,
                code = d.rule.code,
                name = d.rule.name,
                line = at.line,
                col = at.column,
            )?;
            writeln!(
                w,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                d.severity.as_str(),
                escape(&d.message),
                escape(&body).replace("&#10;", "\n")
            )?;
            writeln!(w, "    </testcase>")?;
        }
        writeln!(w, "  </testsuite>")?;
    }
    if errors > 0 || findings == 0 {
        writeln!(
            w,
            r#"  <testsuite name="fluxvet" tests="{t}" failures="0" errors="{errors}" skipped="0">"#,
            t = errors.max(1)
        )?;
        if errors == 0 {
            writeln!(
                w,
                r#"    <testcase name="fluxvet check: {} file(s), no findings" classname="fluxvet"/>"#,
                outcome.repo.files.len()
            )?;
        }
        for p in &outcome.io_problems {
            writeln!(w, r#"    <testcase name="read files" classname="fluxvet">"#)?;
            writeln!(
                w,
                r#"      <error type="io" message="{m}">{m}</error>"#,
                m = escape(p)
            )?;
            writeln!(w, "    </testcase>")?;
        }
        writeln!(w, "  </testsuite>")?;
    }
    writeln!(w, "</testsuites>")
}
