//! `--format json`: the contract in DESIGN.md. Field names and order are stable.

use std::io::Write;

use serde_json::{Value, json};

use crate::diag::Diagnostic;
use crate::engine::Outcome;
use crate::model::index::Repository;

pub fn diagnostic_value(outcome: &Outcome, d: &Diagnostic) -> Value {
    let repo = &outcome.repo;
    let file = &repo.files[d.file];
    let start = file.line_col(d.span.start as usize);
    let end = file.line_col(d.span.end as usize);
    let labels: Vec<Value> = d
        .labels
        .iter()
        .map(|l| {
            let f = &repo.files[l.file];
            let s = f.line_col(l.span.start as usize);
            let e = f.line_col(l.span.end as usize);
            json!({"file": outcome.paths.show(&f.path), "line": s.line, "column": s.column,
                   "end_line": e.line, "end_column": e.column, "message": l.message})
        })
        .collect();
    json!({
        "code": d.rule.code,
        "rule": d.rule.name,
        "severity": d.severity.as_str(),
        "message": d.message,
        "help": d.help,
        "file": outcome.paths.show(&file.path),
        "line": start.line,
        "column": start.column,
        "end_line": end.line,
        "end_column": end.column,
        "labels": labels,
        "url": d.rule.url(),
        "applied_by": crate::model::reconcile::applied_by_name(repo, d.file),
        "clusters": cluster_names(repo, d.file),
    })
}

/// The clusters whose build applies `file`, by name (empty without clusters).
fn cluster_names(repo: &Repository, file: crate::diag::FileId) -> Vec<&str> {
    let clusters = repo.clusters();
    let mut names: Vec<&str> = repo
        .reconcile_tree()
        .clusters_of(file)
        .iter()
        .filter_map(|&i| clusters.get(i as usize).map(|c| c.name.as_str()))
        .collect();
    names.sort_unstable();
    names
}

fn clusters_value(repo: &Repository) -> Vec<Value> {
    repo.clusters()
        .iter()
        .map(|c| {
            json!({"name": c.name, "path": c.path, "flux_version": c.flux_version,
            "entry": match c.entry {
                crate::model::clusters::Entry::Bootstrap => "bootstrap",
                crate::model::clusters::Entry::FluxInstance => "flux-instance",
                crate::model::clusters::Entry::Config => "config",
                crate::model::clusters::Entry::SyncPair => "sync-pair",
            }})
        })
        .collect()
}

pub fn emit(outcome: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    let c = super::counts(outcome);
    let diagnostics: Vec<Value> = outcome
        .diagnostics
        .iter()
        .map(|d| diagnostic_value(outcome, d))
        .collect();
    let mut summary = json!({"files": outcome.repo.files.len(), "documents": outcome.documents,
                    "errors": c.errors, "warnings": c.warnings, "infos": c.infos});
    // Only when a run compared (`--changed-since`) or used a baseline: the plain report's
    // summary stays as the contract shows it.
    if let Some((since, existing)) = &outcome.withheld.since {
        summary["new"] = json!(outcome.diagnostics.len());
        summary["existing"] = json!(existing);
        summary["since"] = json!(since);
    }
    if let Some(n) = outcome.withheld.baselined {
        summary["baselined"] = json!(n);
    }
    summary["unvalidated_kinds"] = json!(super::unvalidated_kinds(outcome));
    let doc = json!({
        "version": 1,
        "tool": {"name": "fluxvet", "version": env!("CARGO_PKG_VERSION")},
        "summary": summary,
        "diagnostics": diagnostics,
        "clusters": clusters_value(&outcome.repo),
    });
    serde_json::to_writer(&mut *w, &doc)?;
    writeln!(w)
}
