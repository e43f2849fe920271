//! Between fluxvet's byte offsets and paths and the protocol's positions and URIs. A position
//! is a 0-based line and a column counted in the negotiated encoding's code units: UTF-16 by
//! default, UTF-8 bytes when the client offers it (`general.positionEncodings`). Lines break at
//! `\n`, `\r\n` and a lone `\r`, as in the protocol and in [`crate::source::SourceFile`].

use std::path::{Path, PathBuf};

use lsp_types::{Position, Range, Uri};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// The units `c` takes.
    fn units(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        }
    }

    /// The units of `text`.
    pub fn len(self, text: &str) -> usize {
        match self {
            Encoding::Utf8 => text.len(),
            Encoding::Utf16 if text.is_ascii() => text.len(),
            Encoding::Utf16 => text.chars().map(char::len_utf16).sum(),
        }
    }
}

/// Byte offsets of the starts of `text`'s lines.
pub fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

/// The end of the line starting at `start`, before its line break.
fn line_end(text: &str, start: usize, next: Option<usize>) -> usize {
    let end = next.unwrap_or(text.len());
    let line = &text[start..end];
    start + line.trim_end_matches(['\n', '\r']).len()
}

/// Text with its line index, for converting many offsets or positions.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    encoding: Encoding,
    /// Units before the first character of line 0 that `text` does not hold: a byte order mark
    /// the client counts and the checked text has dropped.
    shift: u32,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str, encoding: Encoding) -> LineIndex<'a> {
        LineIndex {
            starts: line_starts(text),
            text,
            encoding,
            shift: 0,
        }
    }

    /// The index of a checked text whose client document starts with a byte order mark that
    /// the check dropped: positions on line 0 move right by the mark.
    pub fn with_bom(mut self, bom: bool) -> LineIndex<'a> {
        self.shift = if bom {
            self.encoding.units('\u{feff}') as u32
        } else {
            0
        };
        self
    }

    /// The position of byte `offset` (clamped into the text, and down to a character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let mut character = self.encoding.len(&self.text[start..offset]) as u32;
        if line == 0 {
            character += self.shift;
        }
        Position::new(line as u32, character)
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end.max(start)))
    }

    /// The byte offset of `pos`: a line past the end is the end of the text, a column past the
    /// end of its line (or inside a character) is the end of the line (the character's start).
    pub fn offset(&self, pos: Position) -> usize {
        let line = pos.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return self.text.len();
        };
        let end = line_end(self.text, start, self.starts.get(line + 1).copied());
        let mut want = pos.character as usize;
        if line == 0 {
            want = want.saturating_sub(self.shift as usize);
        }
        let mut units = 0;
        for (i, c) in self.text[start..end].char_indices() {
            let next = units + self.encoding.units(c);
            if next > want {
                return start + i;
            }
            units = next;
        }
        end
    }
}

/// The local path of a `file:` URI (percent-decoded); `None` for another scheme.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///x` has an empty authority; `file://localhost/x` names this machine.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(rest)?;
    // `/C:/x` on Windows.
    let windows_drive = decoded.len() >= 3
        && decoded.as_bytes()[2] == b':'
        && decoded.as_bytes()[1].is_ascii_alphabetic()
        && cfg!(windows);
    Some(PathBuf::from(if windows_drive {
        &decoded[1..]
    } else {
        &decoded[..]
    }))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `file:` URI of an absolute path, with every byte outside RFC 3986's unreserved set and
/// `/` percent-encoded (as VS Code and Neovim write them, but for a drive letter's colon).
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let text = path.to_str()?.replace('\\', "/");
    let mut out = String::from("file://");
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_the_encodings_units() {
        // `é` is 2 UTF-8 bytes and 1 UTF-16 unit; `𝄞` is 4 bytes and 2 units.
        let text = "a: é𝄞x\r\nb: 1\rc: 2\n";
        let x = text.find('x').unwrap();
        let u16 = LineIndex::new(text, Encoding::Utf16);
        assert_eq!(u16.position(x), Position::new(0, 6));
        assert_eq!(u16.offset(Position::new(0, 6)), x);
        let u8 = LineIndex::new(text, Encoding::Utf8);
        assert_eq!(u8.position(x), Position::new(0, 9));
        assert_eq!(u8.offset(Position::new(0, 9)), x);
        // A lone CR breaks a line; a CRLF is one break.
        let c = text.find('c').unwrap();
        assert_eq!(u16.position(c), Position::new(2, 0));
        assert_eq!(u16.offset(Position::new(2, 0)), c);
        // Past the end of a line: its end, before the break. Inside a surrogate pair: its start.
        assert_eq!(u16.offset(Position::new(0, 99)), x + 1);
        assert_eq!(u16.offset(Position::new(0, 5)), text.find('𝄞').unwrap());
        assert_eq!(u16.offset(Position::new(9, 0)), text.len());
        // A byte order mark the checked text dropped counts on line 0 only.
        let bom = LineIndex::new(text, Encoding::Utf16).with_bom(true);
        assert_eq!(bom.position(x), Position::new(0, 7));
        assert_eq!(bom.offset(Position::new(0, 7)), x);
        assert_eq!(bom.position(c), Position::new(2, 0));
    }

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/ä#1.yaml");
        let uri = path_to_uri(p).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%C3%A4%231.yaml");
        assert_eq!(uri_to_path(uri.as_str()).unwrap(), p);
        assert_eq!(
            uri_to_path("file://localhost/x/y.yaml").unwrap(),
            Path::new("/x/y.yaml")
        );
        assert_eq!(uri_to_path("untitled:Untitled-1"), None);
    }
}
