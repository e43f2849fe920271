//! A folded block scalar (`>`) as go-yaml v3 reads it, which Flux and kustomize do: where a
//! normal line is followed by a more-indented one, go-yaml keeps one line break more than YAML
//! 1.2 (and saphyr) does (`x` then `  y` is `"x\n\n  y"`, not `"x\n  y"`). kustomize's output
//! carries that extra blank line, so the rendered value must too.

/// The value go-yaml v3 gives the folded scalar whose content starts at `start` and ends at
/// `end` in `source`, or `None` when it reads it as YAML 1.2 does (no more-indented line after
/// a normal one) or the block is beyond this reading (an explicit indentation indicator).
pub fn go_yaml_folded(source: &str, start: usize, end: usize) -> Option<String> {
    let start = start.min(source.len());
    let end = end.min(source.len());
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let header = source[..line_start.saturating_sub(1)]
        .rsplit('\n')
        .next()
        .unwrap_or("");
    let indicator = header.trim_end().rsplit(['>', ' ']).next().unwrap_or("");
    if indicator.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let keep = indicator.contains('+');
    let strip = indicator.contains('-');
    let indent = start - line_start;
    #[derive(PartialEq, Clone, Copy)]
    enum Line {
        Normal,
        More,
    }
    let mut out = String::new();
    let mut prev: Option<Line> = None;
    let mut pending = 0usize;
    let mut quirk = false;
    for raw in source[line_start..end].split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() && raw.len() <= indent {
            pending += 1;
            continue;
        }
        if raw.len() < indent || !raw[..indent].bytes().all(|b| b == b' ') {
            // Less indented: the block ended (a span running into the next key).
            break;
        }
        let text = &raw[indent..];
        let kind = if text.starts_with([' ', '\t']) {
            Line::More
        } else {
            Line::Normal
        };
        match prev {
            None => out.push_str(&"\n".repeat(pending)),
            Some(Line::Normal) if kind == Line::Normal => {
                if pending == 0 {
                    out.push(' ');
                } else {
                    out.push_str(&"\n".repeat(pending));
                }
            }
            Some(p) => {
                out.push('\n');
                out.push_str(&"\n".repeat(pending));
                if p == Line::Normal && kind == Line::More {
                    out.push('\n');
                    quirk = true;
                }
            }
        }
        out.push_str(text);
        pending = 0;
        prev = Some(kind);
    }
    if !quirk {
        return None;
    }
    if !strip {
        out.push('\n');
        if keep {
            // The final line break counted among the empty lines is already pushed.
            out.push_str(&"\n".repeat(pending.saturating_sub(1)));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(doc: &str) -> Option<String> {
        let p = crate::yaml::parse_stream(doc);
        let n = p.documents[0].root().unwrap().get("a").unwrap();
        let s = n.span();
        go_yaml_folded(doc, s.start as usize, s.end as usize)
    }

    #[test]
    fn as_kustomize_prints_it() {
        // Each expected value is what `kubectl kustomize` (go-yaml v3) printed.
        assert_eq!(
            fold("a: >-\n  x\n    y\n  z\nb: 1\n").as_deref(),
            Some("x\n\n  y\nz")
        );
        assert_eq!(
            fold("a: >-\n  x\n\n    y\n  z\n").as_deref(),
            Some("x\n\n\n  y\nz")
        );
        assert_eq!(
            fold("a: >-\n  x\n    y\n    w\n\n  z\n  q\n").as_deref(),
            Some("x\n\n  y\n  w\n\nz q")
        );
        assert_eq!(
            fold("a: >-\n  x\n  \ty\n  z\n").as_deref(),
            Some("x\n\n\ty\nz")
        );
        assert_eq!(fold("a: >\n  x\n    y\n").as_deref(), Some("x\n\n  y\n"));
        assert_eq!(
            fold("a: >-\n  x\n  y\n").as_deref(),
            None,
            "plain folding agrees"
        );
    }
}
