//! `# fluxvet-ignore: CODE reason` and `# fluxvet-ignore-file: CODE reason` comments.

use crate::diag::{Diagnostic, FileId};
use crate::rules::{self, RuleMeta};
use crate::source::{SourceFile, Span};

#[derive(Clone, Debug)]
pub struct Directive {
    /// 1-based line the directive applies to; `None` for the whole file.
    pub target_line: Option<usize>,
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub rule: Option<&'static RuleMeta>,
    pub written: String,
    pub span: Span,
    pub used: bool,
}

/// Where a `#` is scalar text, not a comment: inside a quoted scalar, or on the content lines
/// of a block scalar (`|`, `>`; its header line may still end with a comment).
#[derive(Clone, Copy, Debug)]
pub struct TextSpan {
    /// The first byte that is text.
    pub from: usize,
    /// One past the last.
    pub to: usize,
}

/// The text spans of `docs`' quoted and block scalars, sorted by start.
pub fn text_spans(file: &SourceFile, docs: &[crate::yaml::Document]) -> Vec<TextSpan> {
    use crate::yaml::Style;
    let mut out = Vec::new();
    for doc in docs {
        for node in doc.nodes.iter() {
            if node.kind() != crate::yaml::tree::RawKind::Scalar {
                continue;
            }
            let (start, end) = (node.span.start as usize, node.span.end as usize);
            match node.style() {
                Style::Plain => {}
                Style::SingleQuoted | Style::DoubleQuoted => out.push(TextSpan {
                    from: start + 1,
                    to: end.saturating_sub(1),
                }),
                Style::Literal | Style::Folded => {
                    // The parser's span starts at the first content line; should it start at
                    // the `|`/`>` header, the content starts on the next line (the header
                    // line may end with a real comment).
                    let line = file.line_col(start).line;
                    let line_start = file.line_starts()[line - 1] as usize;
                    let from = if file.text[line_start..start].trim().is_empty() {
                        Some(start)
                    } else {
                        file.line_starts().get(line).map(|&n| n as usize)
                    };
                    if let Some(from) = from {
                        out.push(TextSpan { from, to: end });
                    }
                }
            }
        }
    }
    out.sort_by_key(|t| t.from);
    out
}

/// Finds the directives in a file's comments; a `#` inside `text` (scalar content) is not a
/// comment, whatever follows it.
pub fn directives(file: &SourceFile, text_spans: &[TextSpan]) -> Vec<Directive> {
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
        let at = start as usize + hash;
        // Scalars do not overlap: only the last one starting at or before the `#` can hold it.
        let before = text_spans.partition_point(|t| t.from <= at);
        if before > 0 && at < text_spans[before - 1].to {
            continue;
        }
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::config::Config;
    use crate::rules::testing::{findings, findings_of, findings_of_with, findings_with};

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n";

    /// `CM` followed by `data` lines.
    fn cm(data: &str) -> String {
        format!("{CM}{data}")
    }

    fn owned(v: &[(&str, usize, usize)]) -> Vec<(String, usize, usize)> {
        v.iter().map(|&(f, l, c)| (f.to_string(), l, c)).collect()
    }

    fn all(v: &[(&str, &str, usize, usize)]) -> Vec<(String, String, usize, usize)> {
        v.iter()
            .map(|&(code, f, l, c)| (code.to_string(), f.to_string(), l, c))
            .collect()
    }

    #[test]
    fn fv001_fires_at_each_suppression_that_suppresses_nothing() {
        // The line before a clean line, by code; the end of a clean line, by name.
        let before = cm("  # fluxvet-ignore: FV102 was duplicated once\n  a: \"1\"\n");
        let end_of_line = cm("  a: \"1\" # fluxvet-ignore: duplicate-key\n");
        // A whole-file suppression of a rule that finds nothing in the file.
        let file_level = format!("# fluxvet-ignore-file: FV601 no secrets here\n{CM}  a: \"1\"\n");
        // Not a rule at all.
        let unknown = cm("  a: \"1\" # fluxvet-ignore: FV999\n");
        // Columns count characters: `é` is two bytes.
        let multibyte = cm("  é: \"1\" # fluxvet-ignore: FV102\n");
        let files = [
            ("before.yaml", before.as_str()),
            ("end.yaml", end_of_line.as_str()),
            ("file.yaml", file_level.as_str()),
            ("multibyte.yaml", multibyte.as_str()),
            ("unknown.yaml", unknown.as_str()),
        ];
        assert_eq!(
            findings(&files),
            all(&[
                ("FV001", "before.yaml", 6, 21),
                ("FV001", "end.yaml", 6, 28),
                ("FV001", "file.yaml", 1, 24),
                ("FV001", "multibyte.yaml", 6, 28),
                ("FV001", "unknown.yaml", 6, 28),
            ])
        );
    }

    #[test]
    fn fv001_fires_when_the_suppression_is_on_another_line_and_the_finding_stays() {
        // The suppression sits two lines above the duplicate: it suppresses nothing.
        let text = cm("  # fluxvet-ignore: FV102\n  a: \"1\"\n  a: \"2\"\n");
        assert_eq!(
            findings(&[("a.yaml", &text)]),
            all(&[("FV001", "a.yaml", 6, 21), ("FV102", "a.yaml", 8, 3)])
        );
    }

    #[test]
    fn fv001_stays_quiet_where_the_suppression_is_used() {
        let before = cm("  a: \"1\"\n  # fluxvet-ignore: FV102 kept on purpose\n  a: \"2\"\n");
        let end_of_line = cm("  a: \"1\"\n  a: \"2\" # fluxvet-ignore: duplicate-key\n");
        let file_level = format!("# fluxvet-ignore-file: FV102\n{CM}  a: \"1\"\n  a: \"2\"\n");
        // Comment lines between the suppression and the finding are skipped.
        let through_comments =
            cm("  a: \"1\"\n  # fluxvet-ignore: FV102\n  # another comment\n\n  a: \"2\"\n");
        // A code-like word in the reason is reason text, not a second suppression.
        let reason = cm("  a: \"1\"\n  a: \"2\" # fluxvet-ignore: FV102 see FV601\n");
        let files = [
            ("before.yaml", before.as_str()),
            ("end.yaml", end_of_line.as_str()),
            ("file.yaml", file_level.as_str()),
            ("comments.yaml", through_comments.as_str()),
            ("reason.yaml", reason.as_str()),
        ];
        assert_eq!(findings(&files), all(&[]));
    }

    #[test]
    fn fv001_stays_quiet_when_the_suppressed_rule_or_fv001_is_off() {
        let text = cm("  a: \"1\" # fluxvet-ignore: FV102\n");
        let files = [("a.yaml", text.as_str())];
        assert_eq!(findings_of("FV001", &files), owned(&[("a.yaml", 6, 28)]));
        for off in ["FV102", "FV001"] {
            let config = Config {
                rules: BTreeMap::from([(off, None)]),
                ..Config::default()
            };
            assert_eq!(
                findings_of_with("FV001", &files, config.clone()),
                owned(&[]),
                "{off} off"
            );
            assert_eq!(findings_with(&files, config), all(&[]), "{off} off");
        }
    }
}

#[cfg(test)]
mod block_scalar_tests {
    use crate::config::Config;
    use crate::engine::check_memory;

    fn found(text: &str) -> Vec<(&'static str, usize, usize)> {
        let o = check_memory(&[("a.yaml", text)], Config::default());
        o.diagnostics
            .iter()
            .map(|d| {
                let lc = o.repo.files[d.file].line_col(d.span.start as usize);
                (d.rule.code, lc.line, lc.column)
            })
            .collect()
    }

    /// Issue 20: `# fluxvet-ignore` inside a block scalar is the scalar's text, not a comment.
    #[test]
    fn a_directive_inside_a_block_scalar_is_text() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  script: |\n    # fluxvet-ignore: FV102\n    echo hi\n  a: \"1\"\n  a: \"2\"\n";
        assert_eq!(found(text), vec![("FV102", 10, 3)]);
        let folded = text.replace("script: |", "script: >-");
        assert_eq!(found(&folded), vec![("FV102", 10, 3)]);
        // On its own line after the block, the same comment is a directive.
        let outside = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  script: |\n    echo hi\n  a: \"1\"\n  # fluxvet-ignore: FV102\n  a: \"2\"\n";
        assert_eq!(found(outside), vec![]);
        // A comment on the header line of a block scalar is a comment.
        let header = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \"1\"\n  a: | # fluxvet-ignore: FV102\n    two\n";
        assert_eq!(found(header), vec![]);
    }

    #[test]
    fn a_directive_inside_quotes_is_text() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \"1\"\n  a: \"2 # fluxvet-ignore: FV102\"\n";
        assert_eq!(found(text), vec![("FV102", 7, 3)]);
        let single = text.replace(
            "\"2 # fluxvet-ignore: FV102\"",
            "'2 # fluxvet-ignore: FV102'",
        );
        assert_eq!(found(&single), vec![("FV102", 7, 3)]);
    }
}
