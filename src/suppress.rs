//! `# fluxvet-ignore: CODE reason` and `# fluxvet-ignore-file: CODE reason` comments.

use crate::diag::{Diagnostic, FileId};
use crate::rules::{self, RuleMeta};
use crate::source::{SourceFile, Span};

#[derive(Debug)]
pub struct Directive {
    /// 1-based line the directive applies to; `None` for the whole file.
    pub target_line: Option<usize>,
    pub entries: Vec<Entry>,
}

#[derive(Debug)]
pub struct Entry {
    pub rule: Option<&'static RuleMeta>,
    pub written: String,
    pub span: Span,
    pub used: bool,
}

/// Finds the directives in a file's comments.
pub fn directives(file: &SourceFile) -> Vec<Directive> {
    let text = &file.text;
    if !text.contains("fluxvet-ignore") {
        return Vec::new();
    }
    let mut out = Vec::new();
    let starts = file.line_starts();
    for (i, &start) in starts.iter().enumerate() {
        let line = file.line_text(i + 1);
        let Some(hash) = comment_start(line) else {
            continue;
        };
        let comment = line[hash + 1..].trim_start();
        let (file_level, rest) = if let Some(r) = comment.strip_prefix("fluxvet-ignore-file:") {
            (true, r)
        } else if let Some(r) = comment.strip_prefix("fluxvet-ignore:") {
            (false, r)
        } else {
            continue;
        };
        let rest_offset = start as usize + line.len() - rest.len();
        let entries = parse_entries(rest, rest_offset);
        if entries.is_empty() {
            continue;
        }
        let comment_only = line[..hash].trim().is_empty();
        let target_line = if file_level {
            None
        } else if comment_only {
            Some(next_code_line(file, i + 2))
        } else {
            Some(i + 1)
        };
        out.push(Directive {
            target_line,
            entries,
        });
    }
    out
}

fn next_code_line(file: &SourceFile, mut line: usize) -> usize {
    let total = file.line_starts().len();
    while line <= total {
        let t = file.line_text(line).trim_start();
        if !t.is_empty() && !t.starts_with('#') {
            return line;
        }
        line += 1;
    }
    line
}

/// The `#` that starts a comment: at the start of the line or after white space.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(i) = line[from..].find('#') {
        let at = from + i;
        if at == 0 || matches!(bytes[at - 1], b' ' | b'\t') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn parse_entries(rest: &str, base: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut pos = 0;
    let bytes = rest.as_bytes();
    loop {
        while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b',') {
            pos += 1;
        }
        let start = pos;
        while pos < bytes.len() && !matches!(bytes[pos], b' ' | b'\t' | b',') {
            pos += 1;
        }
        if start == pos {
            break;
        }
        let word = &rest[start..pos];
        let rule = rules::lookup(word);
        // `get`, not indexing: the word may start with a multibyte character (found by fuzzing).
        let looks_like_code = word.len() >= 3
            && word.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("FV"))
            && word
                .get(2..)
                .is_some_and(|r| r.chars().all(|c| c.is_ascii_digit()));
        if rule.is_none() && !looks_like_code {
            // The reason text starts here.
            break;
        }
        out.push(Entry {
            rule,
            written: word.to_string(),
            span: Span::new(base + start, base + pos),
            used: false,
        });
    }
    out
}

/// Drops suppressed findings and reports suppressions that suppressed nothing, and those
/// naming an `unwaivable` rule (whose findings stay).
pub fn apply(
    diagnostics: &mut Vec<Diagnostic>,
    files: &[SourceFile],
    mut per_file: Vec<(FileId, Vec<Directive>)>,
    enabled: impl Fn(&'static RuleMeta) -> bool,
    unwaivable: impl Fn(&'static RuleMeta) -> bool,
) {
    per_file.retain(|(_, d)| !d.is_empty());
    if per_file.is_empty() {
        return;
    }
    diagnostics.retain(|d| {
        let Some((_, dirs)) = per_file.iter_mut().find(|(f, _)| *f == d.file) else {
            return true;
        };
        let line = files[d.file].line_col(d.span.start as usize).line;
        let mut suppressed = false;
        for dir in dirs.iter_mut() {
            if dir.target_line.is_some_and(|t| t != line) {
                continue;
            }
            for e in dir.entries.iter_mut() {
                if e.rule.is_some_and(|r| std::ptr::eq(r, d.rule)) && !unwaivable(d.rule) {
                    e.used = true;
                    suppressed = true;
                }
            }
        }
        !suppressed
    });
    let unused = &rules::yaml::unused_suppression::META;
    if !enabled(unused) {
        return;
    }
    for (file, dirs) in per_file {
        for dir in dirs {
            for e in dir.entries {
                let message = match e.rule {
                    None => format!("`{}` is not a fluxvet rule", e.written),
                    Some(r) if !enabled(r) => continue,
                    Some(r) if unwaivable(r) => format!(
                        "{} {} is unwaivable (`unwaivable` in the config): this comment does not suppress it",
                        r.code, r.name
                    ),
                    Some(r) if e.used => {
                        let _ = r;
                        continue;
                    }
                    Some(r) => format!("suppression of {} {} matches no finding", r.code, r.name),
                };
                diagnostics.push(
                    Diagnostic::new(unused, file, e.span, message)
                        .primary_label("suppresses nothing")
                        .help(
                            "remove it, or move it to the line of the finding (or the line before)",
                        ),
                );
            }
        }
    }
}
