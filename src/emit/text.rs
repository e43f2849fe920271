//! Rich text output through miette, with a source wrapper that finds lines with the file's
//! line index instead of rescanning from byte 0 for every label.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;

use miette::{
    Diagnostic as MietteDiagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan,
    MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use crate::diag::{Diagnostic, Severity};
use crate::engine::Outcome;
use crate::source::SourceFile;

/// A file's text as shown in snippets: secret values masked (see [`crate::secrets`]).
struct Source<'a> {
    /// The file's path as printed (relative to the working directory, escaped).
    name: String,
    file: &'a SourceFile,
    text: &'a str,
}

/// The file's text safe to print: control characters (an ESC from a hostile file would be a
/// terminal escape sequence) become `?`, byte for byte, so every offset still holds.
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if bad(c) {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

impl SourceCode for Source<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let f = self.file;
        let text = self.text.as_bytes();
        let start = span.offset();
        let end = start + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let starts = f.line_starts();
        let first = f.line_index(start).saturating_sub(before);
        let last_line = f.line_index(end.saturating_sub(1).max(start));
        let last = (last_line + after).min(starts.len() - 1);
        let from = starts[first] as usize;
        let to = starts
            .get(last + 1)
            .map(|&s| s as usize)
            .unwrap_or(text.len());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &text[from..to],
            (from, to - from).into(),
            first,
            0,
            last - first + 1,
        )))
    }
}

struct Report<'a> {
    message: String,
    severity: Severity,
    help: Option<&'a str>,
    source: Source<'a>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Report<'_> {}

impl MietteDiagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        // The header line printed before the report already names the rule.
        None
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.snippet().then_some(&self.source as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if !self.snippet() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn MietteDiagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn MietteDiagnostic),
            ))
        }
    }
}

/// Lines longer than this are not echoed: a minified 10 MB line would flood the terminal, and
/// the `path:line:col` header already says where.
const SNIPPET_LINE_LIMIT: usize = 1000;

impl Report<'_> {
    fn snippet(&self) -> bool {
        let f = self.source.file;
        self.labels.iter().all(|l| {
            let start = l.offset().min(f.text.len());
            let end = (l.offset() + l.len()).min(f.text.len());
            let (first, last) = (f.line_index(start), f.line_index(end));
            let starts = f.line_starts();
            // Context lines included, as miette prints one on each side.
            (first.saturating_sub(1)..=(last + 1).min(starts.len() - 1)).all(|i| {
                let s = starts[i] as usize;
                let e = starts.get(i + 1).map_or(f.text.len(), |&e| e as usize);
                e - s <= SNIPPET_LINE_LIMIT
            })
        })
    }
}

fn source<'a>(
    paths: &crate::paths::PathDisplay,
    files: &'a [SourceFile],
    masked: &'a HashMap<usize, String>,
    id: usize,
) -> Source<'a> {
    let file = &files[id];
    let text = masked.get(&id).map(String::as_str).unwrap_or(&file.text);
    Source {
        name: super::escape_path(&paths.show(&file.path)),
        file,
        text,
    }
}

fn report<'a>(
    paths: &crate::paths::PathDisplay,
    files: &'a [SourceFile],
    masked: &'a HashMap<usize, String>,
    d: &'a Diagnostic,
) -> Report<'a> {
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        d.label.as_deref().map(|l| printable(l).into_owned()),
        SourceSpan::from((d.span.start as usize, d.span.len())),
    )];
    let mut related = Vec::new();
    for l in &d.labels {
        let span = SourceSpan::from((l.span.start as usize, l.span.len()));
        if l.file == d.file {
            labels.push(LabeledSpan::new_with_span(
                Some(printable(&l.message).into_owned()),
                span,
            ));
        } else {
            related.push(Report {
                message: printable(&format!(
                    "{}: {}",
                    super::escape_path(&paths.show(&files[l.file].path)),
                    l.message
                ))
                .into_owned(),
                severity: Severity::Info,
                help: None,
                source: source(paths, files, masked, l.file),
                labels: vec![LabeledSpan::new_primary_with_span(
                    Some(printable(&l.message).into_owned()),
                    span,
                )],
                related: Vec::new(),
            });
        }
    }
    Report {
        message: printable(&d.message).into_owned(),
        severity: d.severity,
        help: d.help.as_deref(),
        source: source(paths, files, masked, d.file),
        labels,
        related,
    }
}

pub fn handler(color: bool) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_urls(false)
        .with_width(120)
        .with_wrap_lines(false)
        .with_context_lines(1)
}

pub fn emit(outcome: &Outcome, color: bool, w: &mut dyn Write) -> std::io::Result<()> {
    diagnostics(outcome, color, w)?;
    summary(outcome, w)
}

/// Every finding, rendered with its snippet, labels and help, without the summary line.
pub fn diagnostics(outcome: &Outcome, color: bool, w: &mut dyn Write) -> std::io::Result<()> {
    let handler = handler(color);
    let files = &outcome.repo.files;
    // Snippets show context lines around every finding, so secret values are masked in
    // every file a snippet comes from, whichever rule reported it.
    let mut masked = HashMap::new();
    let mut secret_ranges: HashMap<usize, Vec<crate::source::Span>> = HashMap::new();
    let mut looked = std::collections::HashSet::new();
    for d in &outcome.diagnostics {
        for id in std::iter::once(d.file).chain(d.labels.iter().map(|l| l.file)) {
            if !looked.insert(id) {
                continue;
            }
            let redacted = crate::secrets::redacted_text(
                &files[id].text,
                outcome.repo.docs_of(id).map(|d| &d.doc),
            );
            let text = redacted
                .as_ref()
                .map_or(&*files[id].text, |r| r.text.as_str());
            match printable(text) {
                std::borrow::Cow::Owned(clean) => {
                    masked.insert(id, clean);
                }
                std::borrow::Cow::Borrowed(_) => {
                    if let Some(r) = &redacted {
                        masked.insert(id, r.text.clone());
                    }
                }
            }
            if let Some(r) = redacted {
                secret_ranges.insert(id, r.ranges);
            }
        }
    }
    let mut buf = String::new();
    for d in &outcome.diagnostics {
        buf.clear();
        let d = &clamp_to_masks(d, &secret_ranges);
        let r = report(&outcome.paths, files, &masked, d);
        let _ = handler.render_report(&mut buf, &r);
        if d.labels
            .iter()
            .map(|l| l.file)
            .chain([d.file])
            .any(|f| secret_ranges.contains_key(&f))
        {
            // The mask pads a value with spaces to keep offsets; trimmed, its length is gone.
            buf = buf
                .lines()
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n");
            buf.push('\n');
        }
        let pos = files[d.file].line_col(d.span.start as usize);
        // The location line first, so grep and terminals that link `path:line:col` find it.
        writeln!(
            w,
            "{}:{}:{}: {} {} {}",
            printable(&super::line_path(outcome, d.file)),
            pos.line,
            pos.column,
            d.severity.as_str(),
            d.rule.code,
            d.rule.name
        )?;
        w.write_all(buf.as_bytes())?;
        writeln!(w)?;
    }
    Ok(())
}

/// The finding with every span that falls inside a masked secret value shrunk to the mask's
/// three stars: an underline as long as the value would show its length.
fn clamp_to_masks(d: &Diagnostic, ranges: &HashMap<usize, Vec<crate::source::Span>>) -> Diagnostic {
    let clamp = |file: usize, span: crate::source::Span| {
        let Some(rs) = ranges.get(&file) else {
            return span;
        };
        match rs.iter().find(|r| span.end > r.start && span.start < r.end) {
            Some(r) => {
                // Never past the mask's stars: the rest of the line is padding.
                let stars_end = (r.start as usize + 3).min(r.end as usize);
                let start = span.start as usize;
                let end = if start >= stars_end {
                    start + 1
                } else {
                    (span.end as usize).min(stars_end)
                };
                crate::source::Span::new(start, end.max(start))
            }
            None => span,
        }
    };
    let mut d = d.clone();
    d.span = clamp(d.file, d.span);
    for l in &mut d.labels {
        l.span = clamp(l.file, l.span);
    }
    d
}

fn summary(outcome: &Outcome, w: &mut dyn Write) -> std::io::Result<()> {
    let c = super::counts(outcome);
    let clusters = outcome.repo.clusters();
    let clusters = match clusters.len() {
        0 => String::new(),
        n => format!(
            "; {n} {}: {}",
            plural(n, "cluster", "clusters"),
            clusters
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let unvalidated = match super::unvalidated_kinds(outcome) {
        0 => String::new(),
        n => format!(
            "; {n} {} without a schema, not validated",
            plural(n, "kind", "kinds")
        ),
    };
    let timing = match outcome.elapsed {
        Some(t) => format!(" in {:.0} ms", t.as_secs_f64() * 1000.0),
        None => String::new(),
    };
    let withheld = match outcome.withheld.note(outcome.diagnostics.len()) {
        Some(note) => format!("; {note}"),
        None => String::new(),
    };
    writeln!(
        w,
        "{} {}, {} {}, {} {} in {} {} ({} {}){}{}{}{}",
        c.errors,
        plural(c.errors, "error", "errors"),
        c.warnings,
        plural(c.warnings, "warning", "warnings"),
        c.infos,
        plural(c.infos, "info", "infos"),
        outcome.repo.files.len(),
        plural(outcome.repo.files.len(), "file", "files"),
        outcome.documents,
        plural(outcome.documents, "document", "documents"),
        clusters,
        withheld,
        unvalidated,
        timing
    )
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
