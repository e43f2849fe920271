//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning. Every rule is listed with its help
//! and URL so viewers can explain a result; columns count Unicode code points, as ours do.

use std::io::Write;

use serde_json::{Value, json};

use crate::diag::Severity;
use crate::engine::Outcome;
use crate::rules::{self, RuleMeta};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Percent-encodes a path for a URI reference, keeping `/` as the separator.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Relative paths are resolved against `%SRCROOT%` (where fluxvet ran: the checkout root in CI,
/// which is what code scanning expects); absolute ones become `file://` URIs.
fn artifact_location(path: &str) -> Value {
    if path.starts_with('/') {
        json!({"uri": format!("file://{}", uri_path(path))})
    } else {
        json!({"uri": uri_path(path), "uriBaseId": "%SRCROOT%"})
    }
}

fn rule_descriptor(m: &RuleMeta) -> Value {
    json!({
        "id": m.code,
        "name": m.name,
        "shortDescription": {"text": m.summary},
        "fullDescription": {"text": m.summary},
        "help": {"text": m.docs, "markdown": m.docs},
        "helpUri": m.url(),
        "defaultConfiguration": {"level": level(m.severity)},
        "properties": {"tags": ["flux", "gitops"]},
    })
}

fn region(outcome: &Outcome, file: usize, span: crate::source::Span) -> Value {
    let f = &outcome.repo.files[file];
    let s = f.line_col(span.start as usize);
    let e = f.line_col(span.end as usize);
    json!({"startLine": s.line, "startColumn": s.column, "endLine": e.line, "endColumn": e.column})
}

pub fn emit(outcome: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    let metas: Vec<&RuleMeta> = rules::all().collect();
    let results: Vec<Value> = outcome
        .diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let related: Vec<Value> = d
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    json!({
                        "id": i,
                        "message": {"text": l.message},
                        "physicalLocation": {
                            "artifactLocation": artifact_location(&super::invocation_path(outcome, l.file)),
                            "region": region(outcome, l.file, l.span),
                        },
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": d.rule.code,
                "level": level(d.severity),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact_location(&super::invocation_path(outcome, d.file)),
                        "region": region(outcome, d.file, d.span),
                    },
                }],
            });
            if let Some(i) = metas.iter().position(|m| m.code == d.rule.code) {
                result["ruleIndex"] = json!(i);
            }
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = outcome
        .io_problems
        .iter()
        .map(|p| json!({"level": "error", "message": {"text": p}}))
        .collect();
    let cwd = std::env::current_dir()
        .ok()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let mut run = json!({
        "tool": {"driver": {
            "name": "fluxvet",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/fluxvet/fluxvet",
            "rules": metas.iter().map(|m| rule_descriptor(m)).collect::<Vec<_>>(),
        }},
        "invocations": [{
            "executionSuccessful": outcome.io_problems.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if cwd.starts_with('/') {
        run["originalUriBaseIds"] = json!({"%SRCROOT%": {"uri": format!("file://{}/", uri_path(cwd.trim_end_matches('/')))}});
    }
    let log = json!({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]});
    serde_json::to_writer_pretty(&mut *w, &log)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded_and_based() {
        assert_eq!(uri_path("a b/c%.yaml"), "a%20b/c%25.yaml");
        assert_eq!(artifact_location("x.yaml")["uriBaseId"], "%SRCROOT%");
        assert_eq!(artifact_location("/x y")["uri"], "file:///x%20y");
    }
}
