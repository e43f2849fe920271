//! A file's text with a line index, and conversions between byte offsets, saphyr's character
//! indices and 1-based line/column pairs (columns count characters, as the JSON contract says).

use std::sync::Arc;

/// A half-open byte range into a [`SourceFile`]'s text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
    pub fn empty(at: usize) -> Span {
        Span::new(at, at)
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// One line/column position, both 1-based; the column counts Unicode scalar values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

#[derive(Clone)]
pub struct SourceFile {
    /// Relative to the scanned root, `/`-separated.
    pub path: Arc<str>,
    /// The text without a leading UTF-8 byte order mark, shared with the file's parsed
    /// documents, which read most scalars from it in place.
    pub text: Arc<str>,
    /// Built on first use: most files of a clean run are never rendered.
    line_starts: std::sync::OnceLock<Vec<u32>>,
    /// Why go-yaml v3 (so kustomize) rejects the text, if it does: the first problem of its
    /// parse, kept when it is parsed so the builds do not parse it again
    /// ([`crate::model::build::yaml_rejection`]).
    pub yaml_rejection: std::sync::OnceLock<Option<(String, Span)>>,
}

impl SourceFile {
    pub fn new(path: impl Into<Arc<str>>, mut text: String) -> SourceFile {
        if text.starts_with('\u{feff}') {
            // Editors do not count the BOM as a column; dropping it keeps column 1 on the first
            // visible character.
            text.drain(..3);
        }
        SourceFile {
            path: path.into(),
            text: Arc::from(text),
            line_starts: std::sync::OnceLock::new(),
            yaml_rejection: std::sync::OnceLock::new(),
        }
    }

    pub fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| line_starts(&self.text))
    }

    /// 0-based line index holding `offset`.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts().binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts()[line] as usize;
        let column = self.text[start..offset].chars().count() + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// The text of 1-based `line` without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let starts = self.line_starts();
        if line == 0 || line > starts.len() {
            return "";
        }
        let start = starts[line - 1] as usize;
        let end = starts
            .get(line)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Byte offset of a 1-based line/column, clamped into the file; the exact inverse of
    /// [`SourceFile::line_col`] on every character boundary, line breaks included.
    pub fn offset_of(&self, lc: LineCol) -> usize {
        let starts = self.line_starts();
        if lc.line == 0 || lc.line > starts.len() {
            return self.text.len();
        }
        let start = starts[lc.line - 1] as usize;
        let end = starts.get(lc.line).map_or(self.text.len(), |&e| e as usize);
        let line = &self.text[start..end];
        let within = line
            .char_indices()
            .nth(lc.column.saturating_sub(1))
            .map(|(i, _)| i)
            .unwrap_or(line.len());
        start + within
    }
}

fn line_starts(text: &str) -> Vec<u32> {
    let mut starts = Vec::with_capacity(text.len() / 32 + 1);
    starts.push(0);
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        // A lone CR (old Mac files) breaks a line for YAML and for editors alike.
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            starts.push(i as u32 + 1);
        }
    }
    starts
}

/// Maps saphyr's character indices onto byte offsets of the same text.
pub struct CharIndex {
    /// `None` for ASCII text, where both are the same.
    offsets: Option<Vec<u32>>,
    len: usize,
}

impl CharIndex {
    pub fn new(text: &str) -> CharIndex {
        if text.is_ascii() {
            return CharIndex {
                offsets: None,
                len: text.len(),
            };
        }
        let mut offsets: Vec<u32> = text.char_indices().map(|(i, _)| i as u32).collect();
        offsets.push(text.len() as u32);
        CharIndex {
            offsets: Some(offsets),
            len: text.len(),
        }
    }

    pub fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            None => char_index.min(self.len),
            Some(o) => o.get(char_index).map(|&b| b as usize).unwrap_or(self.len),
        }
    }

    pub fn char_of_byte(&self, byte: usize) -> usize {
        match &self.offsets {
            None => byte,
            Some(o) => match o.binary_search(&(byte as u32)) {
                Ok(i) | Err(i) => i,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_and_crlf_keep_columns() {
        let f = SourceFile::new("a.yaml", "\u{feff}a: 1\r\nbé: 2\r\n".to_string());
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        let b = f.text.find("2").unwrap();
        assert_eq!(f.line_col(b), LineCol { line: 2, column: 5 });
        assert_eq!(f.offset_of(LineCol { line: 2, column: 5 }), b);
        assert_eq!(f.line_text(1), "a: 1");
    }

    #[test]
    fn char_index_maps_multibyte() {
        let ci = CharIndex::new("é: x");
        assert_eq!(ci.byte(0), 0);
        assert_eq!(ci.byte(1), 2);
        assert_eq!(ci.char_of_byte(2), 1);
    }
}
