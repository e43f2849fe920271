//! Text, JSON and Markdown forms of a [`DiffReport`].

use std::fmt::Write as _;

use serde_json::json;

use super::{ChangeKind, DiffReport, FieldChange};

fn sign(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Modified => "~",
    }
}

fn value(v: &Option<String>) -> String {
    match v {
        None => "(absent)".to_string(),
        Some(s) if s.contains('\n') => format!("{:?}", s),
        Some(s) => s.clone(),
    }
}

fn field_line(f: &FieldChange) -> String {
    format!("{}: {} → {}", f.path, value(&f.old), value(&f.new))
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn text(report: &DiffReport, title: &str, color: bool) -> String {
    let mut s = format!("{title}\n");
    if report.changes.is_empty() {
        s.push_str("no object changes\n");
    }
    let mut owner = None;
    for c in &report.changes {
        if owner != Some(&c.owner) {
            let _ = writeln!(s, "\n{}", paint(color, "1", &c.owner));
            owner = Some(&c.owner);
        }
        let colour = match c.kind {
            ChangeKind::Added => "32",
            ChangeKind::Removed => "31",
            ChangeKind::Modified => "33",
        };
        let _ = writeln!(
            s,
            "  {} {}  ({}:{})",
            paint(color, colour, sign(c.kind)),
            c.identity.display(),
            c.file,
            c.line
        );
        for f in &c.fields {
            let _ = writeln!(s, "      {}", field_line(f));
        }
    }
    if !report.findings.is_empty() {
        s.push_str("\nwhat Flux will do:\n");
        for f in &report.findings {
            let sev = f.severity.as_str();
            let colour = match f.severity {
                crate::diag::Severity::Error => "31",
                crate::diag::Severity::Warning => "33",
                crate::diag::Severity::Info => "36",
            };
            let _ = writeln!(
                s,
                "  {}:{}: {} {} {}: {}",
                f.file,
                f.line,
                paint(color, colour, sev),
                f.rule.code,
                f.rule.name,
                f.message
            );
        }
    }
    let count = |k| report.changes.iter().filter(|c| c.kind == k).count();
    let _ = writeln!(
        s,
        "\n{} added, {} removed, {} modified; {} findings",
        count(ChangeKind::Added),
        count(ChangeKind::Removed),
        count(ChangeKind::Modified),
        report.findings.len()
    );
    s
}

pub fn json(report: &DiffReport, base: &str, head: &str) -> String {
    let changes: Vec<_> = report
        .changes
        .iter()
        .map(|c| {
            json!({
                "change": match c.kind { ChangeKind::Added => "added", ChangeKind::Removed => "removed", ChangeKind::Modified => "modified" },
                "group": c.identity.group, "kind": c.identity.kind,
                "namespace": c.identity.namespace, "name": c.identity.name,
                "file": c.file, "line": c.line, "owner": c.owner, "cluster": c.identity.cluster,
                "fields": c.fields.iter().map(|f| json!({"path": f.path, "old": f.old, "new": f.new})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            json!({"code": f.rule.code, "rule": f.rule.name, "severity": f.severity.as_str(),
                   "message": f.message, "file": f.file, "line": f.line,
                   "object": f.identity.display()})
        })
        .collect();
    let v =
        json!({"version": 1, "base": base, "head": head, "changes": changes, "findings": findings});
    format!("{v}\n")
}

/// For a pull-request comment.
/// Text that Markdown must show as written: its punctuation escaped.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_punctuation() && !matches!(c, '/' | '.' | '-' | ':' | ',' | '(' | ')') {
            out.push('\\');
        }
        if c == '\n' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// A code span that holds any text: fenced with one more backtick than the longest run inside.
fn md_code(s: &str) -> String {
    let s = s.replace('\n', " ");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 || s.starts_with(' ') || s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

pub fn markdown(report: &DiffReport, title: &str) -> String {
    let mut s = format!("### fluxvet diff: {title}\n\n");
    if !report.findings.is_empty() {
        s.push_str("| severity | rule | object | what Flux will do |\n|---|---|---|---|\n");
        for f in &report.findings {
            let _ = writeln!(
                s,
                "| {} | {} {} | `{}` | {} |",
                f.severity.as_str(),
                f.rule.code,
                f.rule.name,
                f.identity.display(),
                f.message.replace('|', "\\|")
            );
        }
        s.push('\n');
    }
    let mut owner = None;
    for c in &report.changes {
        if owner != Some(&c.owner) {
            // A heading of its own, after a blank line: a `**owner**` line right after the
            // previous group's list was a lazy continuation of its last item, so the rendered
            // comment put the next group's title inside the previous group.
            if owner.is_some() {
                s.push('\n');
            }
            let _ = writeln!(s, "#### {}\n", md_text(&c.owner));
            owner = Some(&c.owner);
        }
        let _ = writeln!(
            s,
            "- {} {} ({})",
            md_code(sign(c.kind)),
            md_text(&c.identity.display()),
            md_code(&format!("{}:{}", c.file, c.line))
        );
        for f in &c.fields {
            let _ = writeln!(s, "  - {}", md_code(&field_line(f)));
        }
    }
    if report.changes.is_empty() {
        s.push_str("No object changes.\n");
    }
    s
}
