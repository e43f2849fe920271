//! `--format gitlab`: a GitLab Code Quality report (the subset of the Code Climate issue format
//! GitLab reads), for `artifacts: reports: codequality:`. A JSON array of
//! `{description, check_name, fingerprint, severity, location: {path, lines: {begin, end}}}`.
//!
//! GitLab compares the report of a merge request with its target branch's by `fingerprint`, so a
//! fingerprint must not change when unrelated lines move: it hashes the rule, the file and the
//! message (plus, for identical findings in one file, their rank), never the line.

use std::collections::HashMap;
use std::io::Write;

use serde_json::{Value, json};

use crate::diag::Severity;
use crate::engine::Outcome;

/// GitLab's severities are info, minor, major, critical and blocker; fluxvet's three map as
/// ESLint's GitLab formatter maps its two (warn → minor, error → major).
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

/// FNV-1a, 128 bits: fixed by its definition, so fingerprints stay the same across fluxvet
/// builds, platforms and Rust versions (std's hashers promise none of that).
pub fn fnv1a128(parts: &[&str]) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // A separator no path or message holds, so ("ab","c") and ("a","bc") differ.
            h ^= 0xff;
            h = h.wrapping_mul(PRIME);
        }
        for b in part.bytes() {
            h ^= u128::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    format!("{h:032x}")
}

pub fn issues(outcome: &Outcome) -> Vec<Value> {
    let mut seen: HashMap<(&str, String, &str), usize> = HashMap::new();
    outcome
        .diagnostics
        .iter()
        .map(|d| {
            let path = super::invocation_path(outcome, d.file);
            let file = &outcome.repo.files[d.file];
            let begin = file.line_col(d.span.start as usize).line;
            let end = file.line_col(d.span.end as usize).line.max(begin);
            let rank = seen
                .entry((d.rule.code, path.clone(), d.message.as_str()))
                .or_insert(0);
            let fingerprint = fnv1a128(&[d.rule.code, &path, &d.message, &rank.to_string()]);
            *rank += 1;
            let mut description = format!("{} {}: {}", d.rule.code, d.rule.name, d.message);
            if let Some(help) = &d.help {
                description.push_str(" (help: ");
                description.push_str(help);
                description.push(')');
            }
            json!({
                "type": "issue",
                "check_name": format!("{} {}", d.rule.code, d.rule.name),
                "description": description,
                "categories": ["Bug Risk"],
                "severity": severity(d.severity),
                "fingerprint": fingerprint,
                "location": {"path": path, "lines": {"begin": begin, "end": end}},
            })
        })
        .collect()
}

pub fn emit(outcome: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    let report = Value::Array(issues(outcome));
    serde_json::to_writer_pretty(&mut *w, &report)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::fnv1a128;

    #[test]
    fn fingerprint_is_fixed_and_separates_parts() {
        // FNV-1a 128 of the empty input is its offset basis.
        assert_eq!(fnv1a128(&[""]), "6c62272e07bb014262b821756295c58d");
        assert_ne!(fnv1a128(&["ab", "c"]), fnv1a128(&["a", "bc"]));
        assert_eq!(
            fnv1a128(&["FV102", "a.yaml"]),
            fnv1a128(&["FV102", "a.yaml"])
        );
    }
}
