//! Requests about an open document's findings: hover shows the rule's documentation (what
//! `fluxvet explain CODE` prints), code actions apply the safe fixes `check --fix` applies.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Hover, HoverContents,
    HoverParams, MarkupContent, MarkupKind, Position, Range, TextEdit, WorkspaceEdit,
};

use crate::diag::Diagnostic;

use super::publish::Files;
use super::state::Server;

/// Whether `pos` lies in `range`, both ends included (a cursor just after a word is on it).
fn contains(range: Range, pos: Position) -> bool {
    range.start <= pos && pos <= range.end
}

fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// The check's files and findings of the document `uri`, when it is a checked file.
fn with_findings<T>(
    server: &Server,
    uri: &str,
    f: impl FnOnce(&Files<'_>, &str) -> T,
) -> Option<T> {
    let (w, rel) = server.docs.get(uri)?.place.clone()?;
    let ws = server.workspaces.get(w)?;
    let files = Files::new(w, ws, &server.docs, server.encoding);
    Some(f(&files, &rel))
}

pub fn hover(server: &Server, params: HoverParams) -> Option<Hover> {
    let uri = params.text_document_position_params.text_document.uri;
    let pos = params.text_document_position_params.position;
    with_findings(server, uri.as_str(), |files, rel| {
        let findings = files.findings_of(rel);
        let index = files.index(findings.first()?.1.file)?;
        let mut shown: Vec<&str> = Vec::new();
        let mut sections = Vec::new();
        let mut first_range = None;
        for (_, d) in findings {
            let range = Files::range(&index, d.span);
            if !contains(range, pos) || shown.contains(&d.rule.code) {
                continue;
            }
            shown.push(d.rule.code);
            first_range.get_or_insert(range);
            sections.push(
                crate::rules::catalogue::explain(d.rule)
                    .trim_end()
                    .to_string(),
            );
        }
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: sections.join("\n\n---\n\n"),
            }),
            range: first_range,
        })
        .filter(|_| !sections.is_empty())
    })
    .flatten()
}

/// A fix's title: the rule and the edit, e.g. `FV203: write "1.10" for 1.10`.
fn title(d: &Diagnostic, before: &str, after: &str) -> String {
    format!("{}: write {after} for {before}", d.rule.code)
}

pub fn code_actions(server: &Server, params: CodeActionParams) -> Vec<CodeActionOrCommand> {
    let uri = params.text_document.uri;
    let wanted = |kind: &CodeActionKind| {
        params.context.only.as_ref().is_none_or(|only| {
            only.iter().any(|o| {
                kind.as_str() == o.as_str()
                    || kind.as_str().starts_with(&format!("{}.", o.as_str()))
            })
        })
    };
    with_findings(server, uri.as_str(), |files, rel| {
        let mut actions = Vec::new();
        let findings = files.findings_of(rel);
        let Some(index) = findings.first().and_then(|(_, d)| files.index(d.file)) else {
            return actions;
        };
        let Some(repo) = files.repo else {
            return actions;
        };
        let published = files.diagnostics_of(rel);
        let text = &repo.files[findings[0].1.file].text;
        let edit = |fixes: &[&crate::diag::Fix]| WorkspaceEdit {
            changes: Some(HashMap::from([(
                uri.clone(),
                fixes
                    .iter()
                    .map(|f| TextEdit::new(Files::range(&index, f.span), f.replacement.clone()))
                    .collect(),
            )])),
            ..WorkspaceEdit::default()
        };
        let fixable: Vec<(usize, &Diagnostic)> = findings
            .iter()
            .enumerate()
            .filter(|(_, (_, d))| d.fix.is_some())
            .map(|(i, (_, d))| (i, *d))
            .collect();
        if wanted(&CodeActionKind::QUICKFIX) {
            for &(i, d) in &fixable {
                let Some(fix) = &d.fix else { continue };
                if !overlaps(Files::range(&index, d.span), params.range) {
                    continue;
                }
                let before = text.get(fix.span.range()).unwrap_or_default();
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: title(d, before, &fix.replacement),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: published.get(i).cloned().map(|p| vec![p]),
                    edit: Some(edit(&[fix])),
                    command: None,
                    is_preferred: Some(true),
                    disabled: None,
                    data: None,
                }));
            }
        }
        // Every safe fix of the file at once, as `check --fix` applies them.
        let all = crate::fix::applicable(
            fixable.iter().filter_map(|(_, d)| d.fix.as_ref()).collect(),
            text,
        );
        if !all.is_empty() && wanted(&CodeActionKind::SOURCE_FIX_ALL) {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!(
                    "fluxvet: apply the {} safe fix{} of this file (as check --fix)",
                    all.len(),
                    if all.len() == 1 { "" } else { "es" }
                ),
                kind: Some(CodeActionKind::SOURCE_FIX_ALL),
                diagnostics: None,
                edit: Some(edit(&all)),
                command: None,
                is_preferred: None,
                disabled: None,
                data: None,
            }));
        }
        actions
    })
    .unwrap_or_default()
}
