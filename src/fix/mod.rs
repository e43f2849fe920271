//! `fluxvet check --fix`: the only way fluxvet writes to a repository. A rule attaches a
//! [`Fix`] to a finding only where the edit cannot change anything beyond what the finding is
//! about, and no human choice is involved (quoting a scalar whose meaning is known, moving a
//! removed Flux apiVersion to the served one where every field is still valid there). This
//! module makes those edits; the `check --fix` command applies them, replacing exactly the bytes
//! of each fix's span: comments, order and formatting elsewhere stay byte for byte.

pub mod api_version;
pub mod strings;

use crate::diag::Fix;
use crate::source::{SourceFile, Span};

/// A fix that writes the plain scalar at `span` in double quotes, exactly as written: `1.10`
/// becomes `"1.10"`, never `"1.1"`. `None` when the text at `span` is not `value` (a value
/// that came from a substitution or a patch elsewhere) or could need escaping.
pub fn quote(file: &SourceFile, span: Span, value: &str) -> Option<Fix> {
    let text = file.text.get(span.start as usize..span.end as usize)?;
    if text != value
        || text.is_empty()
        || text
            .chars()
            .any(|c| matches!(c, '"' | '\\' | '\n' | '\r' | '#' | ':') || c.is_control())
    {
        return None;
    }
    Some(Fix {
        span,
        replacement: format!("\"{text}\""),
    })
}

/// The fixes of one file's findings that apply together to its checked text `body`: in order,
/// duplicates dropped (one scalar quoted for two reasons), and any edit that overlaps an earlier
/// one or does not fit the text left out (the next run picks it up).
pub fn applicable<'a>(mut fixes: Vec<&'a Fix>, body: &str) -> Vec<&'a Fix> {
    fixes.sort_by_key(|f| (f.span.start, f.span.end));
    fixes.dedup();
    let mut at = 0usize;
    fixes.retain(|f| {
        let (s, e) = (f.span.start as usize, f.span.end as usize);
        let fits =
            s >= at && e <= body.len() && body.is_char_boundary(s) && body.is_char_boundary(e);
        if fits {
            at = e;
        }
        fits
    });
    fixes
}
