//! Findings, independent of how they are printed.

use crate::source::Span;

pub type FileId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// A text edit that resolves a finding without changing anything else: `fluxvet check --fix`
/// replaces the bytes of `span` (in the finding's file) with `replacement`. Rules set one only
/// where no human choice is involved (see `src/fix/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub file: FileId,
    pub span: Span,
    /// Text under the primary span in the snippet.
    pub label: Option<String>,
    pub labels: Vec<Label>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn new(
        rule: &'static RuleMeta,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            rule,
            severity: rule.severity,
            message: message.into(),
            help: None,
            file,
            span,
            label: None,
            labels: Vec::new(),
            fix: None,
        }
    }
    /// A safe edit that resolves this finding (see [`Fix`]).
    pub fn with_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn primary_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    pub fn label(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            file,
            span,
            message: message.into(),
        });
        self
    }
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

/// What a finding says about the rule behind it: code, name, default severity and docs. Each
/// rule defines one (in `src/rules/`); findings point at it.
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line, for `fluxvet rules` and the README.
    pub summary: &'static str,
    /// Markdown with the headings: What it does / Why is this bad? / Example / Use instead, and
    /// Fix for a rule whose findings `check --fix` can resolve.
    pub docs: &'static str,
}

impl RuleMeta {
    /// Whether `check --fix` resolves some of this rule's findings: its docs say how under a
    /// `## Fix` heading.
    pub fn fixable(&self) -> bool {
        self.docs.contains("\n## Fix\n")
    }
    pub fn url(&self) -> String {
        format!(
            "https://github.com/fluxvet/fluxvet/blob/main/docs/rules.md#{}",
            self.code.to_ascii_lowercase()
        )
    }
}

/// The report's order: by file, then position, then rule code and message.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.file, a.span.start, a.rule.code, &a.message).cmp(&(
            b.file,
            b.span.start,
            b.rule.code,
            &b.message,
        ))
    });
}
