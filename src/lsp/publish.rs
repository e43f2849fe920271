//! fluxvet's findings as the protocol's diagnostics: severity, code with the rule's docs link,
//! source `fluxvet`, ranges in the client's encoding, and the labels in other files as related
//! information; and [`Server::publish`], which sends each open document what changed.

use std::collections::HashMap;

use lsp_types::notification::PublishDiagnostics;
use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Position, PublishDiagnosticsParams, Range, Uri,
};

use crate::config::{self, ConfigError};
use crate::diag::{Diagnostic, FileId, Severity};
use crate::model::index::Repository;
use crate::source::Span;

use super::convert::{self, Encoding, LineIndex};
use super::state::{Document, Server, Workspace};

/// The files of one check, to place findings in: the client's URI and byte order mark of the
/// open ones.
pub struct Files<'a> {
    pub repo: Option<&'a Repository>,
    diagnostics: &'a [Diagnostic],
    open: HashMap<&'a str, &'a Document>,
    encoding: Encoding,
}

impl<'a> Files<'a> {
    /// The files of workspace `w`'s last check.
    pub fn new(
        w: usize,
        ws: &'a Workspace,
        docs: &'a HashMap<String, Document>,
        encoding: Encoding,
    ) -> Files<'a> {
        let open = docs
            .values()
            .filter_map(|d| match &d.place {
                Some((dw, rel)) if *dw == w => Some((rel.as_str(), d)),
                _ => None,
            })
            .collect();
        Files {
            repo: ws.outcome.as_ref().map(|o| &o.repo),
            diagnostics: ws.outcome.as_ref().map_or(&[], |o| &o.diagnostics),
            open,
            encoding,
        }
    }

    /// The line index of file `id`; `None` when the check has no such file.
    pub fn index(&self, id: FileId) -> Option<LineIndex<'a>> {
        let source = self.repo?.files.get(id)?;
        let bom = self.open.get(&*source.path).is_some_and(|d| d.bom());
        Some(LineIndex::new(&source.text, self.encoding).with_bom(bom))
    }

    pub fn uri(&self, id: FileId) -> Option<Uri> {
        let repo = self.repo?;
        let path = &*repo.files.get(id)?.path;
        if let Some(d) = self.open.get(path) {
            return d.uri.parse().ok();
        }
        convert::path_to_uri(&repo.root.join(path))
    }

    /// The findings in file `rel`, each with its index in the check's findings.
    pub fn findings_of(&self, rel: &str) -> Vec<(usize, &'a Diagnostic)> {
        let Some(id) = self.repo.and_then(|r| r.file_id(rel)) else {
            return Vec::new();
        };
        self.diagnostics
            .iter()
            .enumerate()
            .filter(|(_, d)| d.file == id)
            .collect()
    }

    pub fn diagnostics_of(&self, rel: &str) -> Vec<lsp_types::Diagnostic> {
        let findings = self.findings_of(rel);
        let Some(index) = findings.first().and_then(|(_, d)| self.index(d.file)) else {
            return Vec::new();
        };
        let mut others: HashMap<FileId, Option<LineIndex<'a>>> = HashMap::new();
        findings
            .iter()
            .map(|(_, d)| self.to_lsp(d, &index, &mut others))
            .collect()
    }

    pub fn range(index: &LineIndex<'_>, span: Span) -> Range {
        index.range(span.start as usize, span.end as usize)
    }

    fn to_lsp(
        &self,
        d: &Diagnostic,
        index: &LineIndex<'a>,
        others: &mut HashMap<FileId, Option<LineIndex<'a>>>,
    ) -> lsp_types::Diagnostic {
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let related: Vec<DiagnosticRelatedInformation> = d
            .labels
            .iter()
            .filter_map(|l| {
                let range = if l.file == d.file {
                    Self::range(index, l.span)
                } else {
                    let other = others.entry(l.file).or_insert_with(|| self.index(l.file));
                    Self::range(other.as_ref()?, l.span)
                };
                Some(DiagnosticRelatedInformation {
                    location: Location::new(self.uri(l.file)?, range),
                    message: l.message.clone(),
                })
            })
            .collect();
        lsp_types::Diagnostic {
            range: Self::range(index, d.span),
            severity: Some(severity(d.severity)),
            code: Some(NumberOrString::String(d.rule.code.to_string())),
            code_description: d
                .rule
                .url()
                .parse()
                .ok()
                .map(|href| CodeDescription { href }),
            source: Some("fluxvet".to_string()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data: None,
        }
    }
}

impl Server {
    /// Sends each open document of workspace `w` its findings, when they changed or the
    /// document did.
    pub(super) fn publish(&mut self, w: usize) {
        let mut sends = Vec::new();
        {
            let ws = &self.workspaces[w];
            let files = Files::new(w, ws, &self.docs, self.encoding);
            for doc in self.docs.values() {
                let Some((dw, rel)) = &doc.place else {
                    continue;
                };
                if *dw != w {
                    continue;
                }
                let diagnostics = if rel == config::FILE_NAME {
                    config_diagnostics(ws.config_error.as_ref(), doc, self.encoding)
                } else {
                    files.diagnostics_of(rel)
                };
                if doc.edited || ws.published.get(&doc.uri) != Some(&diagnostics) {
                    sends.push((doc.uri.clone(), doc.version, diagnostics));
                }
            }
        }
        for (uri, version, diagnostics) in sends {
            if let Ok(parsed) = uri.parse() {
                self.notify::<PublishDiagnostics>(PublishDiagnosticsParams {
                    uri: parsed,
                    diagnostics: diagnostics.clone(),
                    version: Some(version),
                });
            }
            if let Some(d) = self.docs.get_mut(&uri) {
                d.edited = false;
            }
            self.workspaces[w].published.insert(uri, diagnostics);
        }
    }
}

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// The config file's error as a diagnostic on the config document.
pub fn config_diagnostics(
    error: Option<&ConfigError>,
    doc: &Document,
    encoding: Encoding,
) -> Vec<lsp_types::Diagnostic> {
    let Some(e) = error else {
        return Vec::new();
    };
    // The error's line and column are 1-based and count characters (0 when it has no place).
    let text = doc.text.strip_prefix('\u{feff}').unwrap_or(&doc.text);
    let source = crate::source::SourceFile::new(crate::config::FILE_NAME, text.to_string());
    let at = if e.line == 0 {
        0
    } else {
        source.offset_of(crate::source::LineCol {
            line: e.line,
            column: e.column.max(1),
        })
    };
    let index = LineIndex::new(text, encoding).with_bom(doc.bom());
    let start = index.position(at);
    let end_of_line = source.text[at..]
        .find(['\n', '\r'])
        .map_or(source.text.len(), |n| at + n);
    let end = if end_of_line > at {
        index.position(end_of_line)
    } else {
        Position::new(start.line, start.character)
    };
    vec![lsp_types::Diagnostic {
        range: Range::new(start, end),
        severity: Some(DiagnosticSeverity::ERROR),
        code: None,
        code_description: None,
        source: Some("fluxvet".to_string()),
        message: format!(
            "{}; the last valid config stays in force until this is fixed",
            e.message
        ),
        related_information: None,
        tags: None,
        data: None,
    }]
}
