//! A fast path for the block-style YAML that nearly every manifest is written in: block mappings
//! and sequences, one-line plain and quoted scalars, literal and folded block scalars and
//! one-line flow collections, with comments and `---` between documents.
//!
//! saphyr-parser reads about 40 MB/s, which made tokenizing most of a `fluxvet build`. This
//! reader gives the same events at the same byte offsets for the subset it accepts and gives up
//! (returns `None`) on anything else: anchors, tags, multi-line flow or quoted scalars, plain
//! scalars continued on the next line, tabs where YAML reads indentation, `\r`, directives, and
//! every syntax error. saphyr-parser then reads the file from the start, so what the fast path
//! declines costs one wasted pass, never a different answer. `tests` below and
//! `tests/it/yaml_fast.rs` compare the two readers' events on generated and real files.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, ScalarStyle};

/// An event and its byte span, as the builder reads saphyr-parser's.
pub type Spanned<'a> = (Event<'a>, usize, usize);

/// Collections nested deeper than this go to saphyr-parser, which enforces the real limits.
const MAX_DEPTH: usize = 64;

/// YAML allows an implicit key of at most 1024 characters.
const MAX_KEY_LEN: usize = 1024;

/// Hands the events of `text` to `sink` as it reads them: `false` when the text is outside
/// the subset this reader is sure of, and the events handed over so far are to be dropped.
pub fn read<'a>(text: &'a str, sink: impl FnMut(Event<'a>, usize, usize)) -> bool {
    if !only_plain_bytes(text.as_bytes()) {
        return false;
    }
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        sink,
        depth: 0,
        anchors: HashMap::new(),
        next_anchor: 1,
        pending_anchor: None,
        pending_document: None,
        failed: false,
    };
    r.stream().is_some() && !r.failed
}

/// The events of `text`, or `None` when it is outside the subset this reader is sure of.
pub fn events(text: &str) -> Option<Vec<Spanned<'_>>> {
    let mut out = Vec::new();
    read(text, |event, start, end| out.push((event, start, end))).then_some(out)
}

/// False when the text holds a byte this reader leaves to saphyr-parser: control characters
/// other than tab and line feed (`\r` included), DEL, C1 controls, the byte order mark,
/// U+2028/U+2029 and the non-characters U+FFFE/U+FFFF.
fn only_plain_bytes(b: &[u8]) -> bool {
    // Whole blocks of printable ASCII, tabs and line feeds (nearly every manifest) are passed
    // by a test the compiler vectorizes; a block holding anything else is judged byte by byte.
    const BLOCK: usize = 32;
    let mut from = 0;
    for block in b.chunks_exact(BLOCK) {
        let ascii = block.iter().fold(true, |ok, &c| {
            ok & ((0x20..0x7f).contains(&c) | (c == b'\n') | (c == b'\t'))
        });
        if !ascii && !plain_bytes_in(b, from, from + BLOCK) {
            return false;
        }
        from += BLOCK;
    }
    plain_bytes_in(b, from, b.len())
}

/// [`only_plain_bytes`] of the bytes `from..to` of `b`; a multi-byte character starting there
/// is read whole.
fn plain_bytes_in(b: &[u8], from: usize, to: usize) -> bool {
    for i in from..to {
        let c = b[i];
        if c < 0x20 {
            if c != b'\n' && c != b'\t' {
                return false;
            }
        } else if c >= 0x7f {
            let next = b.get(i + 1).copied().unwrap_or(0);
            let after = b.get(i + 2).copied().unwrap_or(0);
            let refused = c == 0x7f
                || (c == 0xc2 && next <= 0x9f)
                || (c == 0xef && next == 0xbb && after == 0xbf)
                || (c == 0xef && next == 0xbf && after >= 0xbe)
                || (c == 0xe2 && next == 0x80 && (after == 0xa8 || after == 0xa9));
            if refused {
                return false;
            }
        }
    }
    true
}

/// The bytes [`Reader::key_colon_or_end`] stops at: a line feed, a colon, a comment's `#` and
/// a tab.
static LINE_SCAN_STOPS: [bool; 256] = {
    let mut stops = [false; 256];
    stops[b'\n' as usize] = true;
    stops[b':' as usize] = true;
    stops[b'#' as usize] = true;
    stops[b'\t' as usize] = true;
    stops
};

/// Where the next node or entry starts: its byte offset and column; column -1 for the end of
/// the text or a document marker at column 0, which end every open collection.
#[derive(Clone, Copy)]
struct Next {
    pos: usize,
    col: isize,
}

/// What may start at a node's position.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    /// The first thing on its line: any block node but a block scalar.
    LineStart,
    /// After `- ` on the same line: any block node.
    AfterDash,
    /// After `key: ` on the same line: a scalar, a block scalar or a flow collection.
    AfterKey,
}

struct Reader<'a, S> {
    text: &'a str,
    b: &'a [u8],
    sink: S,
    depth: usize,
    anchors: HashMap<&'a str, usize>,
    next_anchor: usize,
    /// An anchor read before its node: its id and where it starts, for the node's first event.
    pending_anchor: Option<(usize, usize)>,
    /// An implicit document's start, handed over with its first token, whose span it takes.
    pending_document: Option<usize>,
    /// Set when an event could not be given what it needed.
    failed: bool,
}

impl<'a, S: FnMut(Event<'a>, usize, usize)> Reader<'a, S> {
    fn push(&mut self, mut event: Event<'a>, mut start: usize, end: usize) {
        // saphyr-parser starts an anchored node's span at its anchor.
        if let Some((id, at)) = self.pending_anchor.take() {
            match &mut event {
                Event::Scalar(_, _, a, _)
                | Event::MappingStart(a, _)
                | Event::SequenceStart(a, _) => {
                    *a = id;
                }
                _ => self.failed = true,
            }
            start = at;
        }
        // saphyr-parser spans an implicit document's start over its first token.
        if let Some(document) = self.pending_document.take() {
            (self.sink)(Event::DocumentStart(false), document, end);
        }
        (self.sink)(event, start, end);
    }

    fn scalar(&mut self, value: Cow<'a, str>, style: ScalarStyle, start: usize, end: usize) {
        self.push(Event::Scalar(value, style, 0, None), start, end);
    }

    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(b'\n')
    }

    fn is_end(&self, i: usize) -> bool {
        i >= self.b.len()
    }

    /// A space, a line break or the end of the text follows `i`.
    fn blank_after(&self, i: usize) -> bool {
        self.is_end(i + 1) || matches!(self.b[i + 1], b' ' | b'\n')
    }

    /// Past the spaces from `i`.
    fn spaces(&self, mut i: usize) -> usize {
        while self.at(i) == b' ' && !self.is_end(i) {
            i += 1;
        }
        i
    }

    /// Nothing but a comment follows on the line at `i`.
    fn line_done(&self, i: usize) -> bool {
        self.is_end(i) || matches!(self.b[i], b'\n' | b'#')
    }

    fn line_end(&self, from: usize) -> usize {
        self.b[from.min(self.b.len())..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |i| from + i)
    }

    /// `---` or `...` at column 0 of the line starting at `i`, followed by a space, a line
    /// break or the end of the text.
    fn marker(&self, i: usize, c: u8) -> bool {
        self.b.len() >= i + 3
            && self.b[i..i + 3].iter().all(|&x| x == c)
            && (self.is_end(i + 3) || matches!(self.b[i + 3], b' ' | b'\n'))
    }

    fn dash_item(&self, i: usize) -> bool {
        self.at(i) == b'-' && self.blank_after(i)
    }

    /// Where saphyr-parser ends a quoted scalar's or a flow collection's token that ends at
    /// `i`: past the spaces and the comment that follow on its line.
    fn token_end(&self, i: usize) -> usize {
        let j = self.spaces(i);
        if j > i && self.at(j) == b'#' && !self.is_end(j) {
            return self.line_end(j);
        }
        j
    }

    /// The rest of the line from `from` is blank or a comment: where the next line starts.
    fn rest_blank(&self, from: usize) -> Option<usize> {
        let i = self.spaces(from);
        if self.is_end(i) {
            return Some(self.b.len());
        }
        match self.b[i] {
            b'\n' => Some(i + 1),
            b'#' if i > from || from == 0 || matches!(self.b[from - 1], b' ' | b'\n') => {
                Some((self.line_end(i) + 1).min(self.b.len()))
            }
            _ => None,
        }
    }

    /// The next content from the line starting at `line`, past blank and comment lines.
    fn next(&self, mut line: usize) -> Option<Next> {
        loop {
            if self.is_end(line) {
                return Some(Next {
                    pos: self.b.len(),
                    col: -1,
                });
            }
            let i = self.spaces(line);
            if self.is_end(i) {
                line = i;
                continue;
            }
            match self.b[i] {
                b'\n' => line = i + 1,
                b'#' => line = (self.line_end(i) + 1).min(self.b.len()),
                b'\t' => return None,
                b'%' if i == line => return None,
                b'-' | b'.' if i == line && self.marker(i, self.b[i]) => {
                    return Some(Next { pos: i, col: -1 });
                }
                _ => {
                    return Some(Next {
                        pos: i,
                        col: (i - line) as isize,
                    });
                }
            }
        }
    }

    fn stream(&mut self) -> Option<()> {
        self.push(Event::StreamStart, 0, 0);
        let len = self.b.len();
        let mut nx = self.next(0)?;
        while nx.pos < len {
            if self.marker(nx.pos, b'.') {
                return None;
            }
            if nx.col < 0 {
                // `---`: an explicit document, which may be empty.
                let marker = nx.pos;
                self.push(Event::DocumentStart(true), marker, marker + 3);
                nx = self.next(self.rest_blank(marker + 3)?)?;
                if nx.col < 0 {
                    if self.marker(nx.pos, b'.') {
                        return None;
                    }
                    let end = if nx.pos < len { nx.pos + 3 } else { len };
                    self.scalar(Cow::Borrowed(""), ScalarStyle::Plain, nx.pos, end);
                    self.push(Event::DocumentEnd, nx.pos, end);
                    continue;
                }
            } else {
                self.pending_document = Some(nx.pos);
            }
            nx = self.node(nx, -1, Place::LineStart)?;
            if nx.col >= 0 || self.marker(nx.pos, b'.') {
                return None;
            }
            let end = if nx.pos < len { nx.pos + 3 } else { len };
            self.push(Event::DocumentEnd, nx.pos, end);
        }
        self.push(Event::StreamEnd, len, len);
        Some(())
    }

    /// The node at `at`, inside a collection whose entries sit at column `parent`: what comes
    /// after it.
    fn node(&mut self, at: Next, parent: isize, place: Place) -> Option<Next> {
        let p = at.pos;
        match self.b[p] {
            b'&' if place != Place::LineStart => self.anchored(at, parent, place),
            b'*' if place != Place::LineStart => {
                let end = self.alias(p)?;
                self.next(self.rest_blank(end)?)
            }
            b'-' if self.blank_after(p) => {
                if place == Place::AfterKey {
                    return None;
                }
                self.sequence(at, false)
            }
            b'|' | b'>' if place != Place::LineStart => self.block_scalar(p, parent),
            b'[' | b'{' => {
                let end = self.flow(p)?;
                if self.at(end) == b':' {
                    return None;
                }
                self.next(self.rest_blank(end)?)
            }
            b'"' | b'\'' => {
                let (value, end) = self.quoted(p)?;
                if self.at(end) == b':' && self.blank_after(end) {
                    if place == Place::AfterKey {
                        return None;
                    }
                    return self.mapping(at);
                }
                let style = quote_style(self.b[p]);
                self.scalar(value, style, p, self.token_end(end));
                self.next(self.rest_blank(end)?)
            }
            c if starts_no_plain(c, self.at(p + 1)) => None,
            _ => {
                let (colon, stop) = self.key_colon_or_end(p)?;
                if colon.is_some() {
                    if place == Place::AfterKey {
                        return None;
                    }
                    return self.mapping(at);
                }
                let end = self.plain_end(p, stop);
                self.scalar(
                    Cow::Borrowed(&self.text[p..end]),
                    ScalarStyle::Plain,
                    p,
                    end,
                );
                self.next(self.rest_blank(end)?)
            }
        }
    }

    /// An anchor's name starting at `p` (after `&` or `*`) and where it ends; the reader
    /// takes the names real manifests use and leaves the rest to saphyr-parser.
    fn anchor_name(&self, p: usize) -> Option<(&'a str, usize)> {
        let len = self.b[p..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
            .count();
        (len > 0).then(|| (&self.text[p..p + len], p + len))
    }

    /// `*name` at `p`: pushes the alias, returns where its name ends.
    fn alias(&mut self, p: usize) -> Option<usize> {
        let (name, end) = self.anchor_name(p + 1)?;
        let id = *self.anchors.get(name)?;
        self.push(Event::Alias(id), p, end);
        Some(end)
    }

    /// `&name` at `p`: registers it as saphyr-parser does (ids from 1, in order, for the
    /// whole stream), returns its id and where its name ends.
    fn anchor(&mut self, p: usize) -> Option<(usize, usize)> {
        let (name, end) = self.anchor_name(p + 1)?;
        if !self.blank_after(end - 1) {
            return None;
        }
        let id = self.next_anchor;
        self.next_anchor += 1;
        self.anchors.insert(name, id);
        Some((id, end))
    }

    /// A node after `key: ` or `- ` that starts with an anchor.
    fn anchored(&mut self, at: Next, parent: isize, place: Place) -> Option<Next> {
        let p = at.pos;
        let (id, after) = self.anchor(p)?;
        let q = self.spaces(after);
        let nx = if self.line_done(q) {
            let v = self.next(self.rest_blank(after)?)?;
            if v.col <= parent {
                if place != Place::AfterKey || self.dash_item(v.pos) {
                    return None;
                }
                // `key: &name` and nothing: an empty scalar spanning the anchor.
                self.push(
                    Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, id, None),
                    p,
                    after,
                );
                return Some(v);
            }
            // Only a collection on the lines below: a scalar there is left to saphyr-parser.
            if !self.dash_item(v.pos) && !matches!(self.key_colon(v.pos), Some(Some(_))) {
                return None;
            }
            self.pending_anchor = Some((id, p));
            self.node(v, parent, Place::LineStart)?
        } else {
            if matches!(self.b[q], b'&' | b'*') || matches!(self.key_colon(q), Some(Some(_))) {
                return None;
            }
            let col = at.col + (q - p) as isize;
            self.pending_anchor = Some((id, p));
            self.node(Next { pos: q, col }, parent, Place::AfterKey)?
        };
        (self.pending_anchor.is_none() && !self.failed).then_some(nx)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A plain scalar's key colon on its line: `Some(colon)` when `p` starts `key: `, `None`
    /// when the line is a scalar; the reader gives up on what it cannot tell.
    fn key_colon(&self, p: usize) -> Option<Option<usize>> {
        self.key_colon_or_end(p).map(|(colon, _)| colon)
    }

    /// [`Reader::key_colon`], and where the scan stopped when there is no colon: the line's
    /// end or its comment, which is where the plain scalar at `p` ends (before its trailing
    /// spaces), so a scalar's line is scanned once.
    fn key_colon_or_end(&self, p: usize) -> Option<(Option<usize>, usize)> {
        // One pass to the line's end (asked of every line of a mapping and every plain
        // scalar), stepping over the bytes that decide nothing a table lookup at a time.
        let b = self.b;
        let mut i = p;
        while i < b.len() {
            if !LINE_SCAN_STOPS[usize::from(b[i])] {
                i += 1;
                continue;
            }
            match b[i] {
                b'\n' => return Some((None, i)),
                b':' if self.blank_after(i) => {
                    if b[i - 1] == b' ' || i - p > MAX_KEY_LEN {
                        return None;
                    }
                    return Some((Some(i), i));
                }
                b'#' if b[i - 1] == b' ' => return Some((None, i)),
                b'\t' => return None,
                _ => {}
            }
            i += 1;
        }
        Some((None, b.len()))
    }

    /// Where a plain scalar in block context that starts at `p` and holds no key ends, given
    /// where [`Reader::key_colon_or_end`] stopped: before the spaces ahead of that.
    fn plain_end(&self, p: usize, stop: usize) -> usize {
        let mut i = stop;
        while i > p && self.b[i - 1] == b' ' {
            i -= 1;
        }
        i
    }

    /// A block mapping whose first key starts at `at`.
    fn mapping(&mut self, at: Next) -> Option<Next> {
        self.enter()?;
        let c = at.col;
        self.push(Event::MappingStart(0, None), at.pos, at.pos);
        let mut nx = at;
        loop {
            let colon = self.key(nx.pos)?;
            let after = colon + 1;
            let q = self.spaces(after);
            nx = if self.line_done(q) {
                let v = self.next(self.rest_blank(after)?)?;
                if v.col > c {
                    self.node(v, c, Place::LineStart)?
                } else if v.col == c && self.dash_item(v.pos) {
                    self.sequence(v, true)?
                } else {
                    self.scalar(Cow::Borrowed(""), ScalarStyle::Plain, colon, colon);
                    v
                }
            } else {
                let col = c + (q - nx.pos) as isize;
                self.node(Next { pos: q, col }, c, Place::AfterKey)?
            };
            if nx.col < c {
                break;
            }
            if nx.col > c || self.dash_item(nx.pos) {
                return None;
            }
        }
        self.push(Event::MappingEnd, nx.pos, nx.pos);
        self.depth -= 1;
        Some(nx)
    }

    /// The key at `p` of a block mapping: pushes it, returns its colon.
    fn key(&mut self, p: usize) -> Option<usize> {
        match self.b[p] {
            b'"' | b'\'' => {
                let (value, end) = self.quoted(p)?;
                if self.at(end) != b':' || !self.blank_after(end) || end - p > MAX_KEY_LEN {
                    return None;
                }
                let style = quote_style(self.b[p]);
                self.scalar(value, style, p, end);
                Some(end)
            }
            c if starts_no_plain(c, self.at(p + 1)) || c == b'-' && self.blank_after(p) => None,
            _ => {
                let colon = self.key_colon(p)??;
                self.scalar(
                    Cow::Borrowed(&self.text[p..colon]),
                    ScalarStyle::Plain,
                    p,
                    colon,
                );
                Some(colon)
            }
        }
    }

    /// A block sequence whose first `-` is at `at`; `indentless` when it is a mapping value
    /// at its key's column, where saphyr-parser starts the sequence at its first item's node.
    fn sequence(&mut self, at: Next, indentless: bool) -> Option<Next> {
        self.enter()?;
        let c = at.col;
        if !indentless {
            self.push(Event::SequenceStart(0, None), at.pos, at.pos);
        }
        let mut nx = at;
        let mut first = true;
        loop {
            let dash = nx.pos;
            let after = dash + 1;
            let q = self.spaces(after);
            nx = if self.line_done(q) {
                let v = self.next(self.rest_blank(after)?)?;
                // saphyr-parser places what follows a `-` alone on its line (an indentless
                // sequence's start, an empty item) at that line's break.
                let eol = self.line_end(after);
                if first && indentless {
                    self.push(Event::SequenceStart(0, None), eol, eol);
                }
                if v.col > c {
                    self.node(v, c, Place::LineStart)?
                } else {
                    self.scalar(Cow::Borrowed(""), ScalarStyle::Plain, eol, eol);
                    v
                }
            } else {
                if first && indentless {
                    self.push(Event::SequenceStart(0, None), q, q);
                }
                let col = c + (q - dash) as isize;
                self.node(Next { pos: q, col }, c, Place::AfterDash)?
            };
            first = false;
            if nx.col < c || (nx.col == c && indentless && !self.dash_item(nx.pos)) {
                break;
            }
            if nx.col > c || !self.dash_item(nx.pos) {
                return None;
            }
        }
        self.push(Event::SequenceEnd, nx.pos, nx.pos);
        self.depth -= 1;
        Some(nx)
    }

    /// A literal (`|`) or folded (`>`) scalar whose header is at `p`, in a collection whose
    /// entries sit at column `parent`.
    fn block_scalar(&mut self, p: usize, parent: isize) -> Option<Next> {
        let folded = self.b[p] == b'>';
        let mut i = p + 1;
        let chomp = self.at(i);
        if matches!(chomp, b'-' | b'+') {
            i += 1;
        }
        if self.at(i).is_ascii_digit() || (!self.is_end(i) && !matches!(self.b[i], b' ' | b'\n')) {
            return None;
        }
        let mut line = self.rest_blank(i)?;
        // Empty lines before the first content line, and the most spaces one of them has.
        let (mut leading, mut widest) = (0usize, 0usize);
        let indent = loop {
            let q = self.spaces(line);
            if self.is_end(q) || self.b[q] == b'\t' {
                return None;
            }
            if self.b[q] != b'\n' {
                break q - line;
            }
            leading += 1;
            widest = widest.max(q - line);
            line = q + 1;
        };
        if indent as isize <= parent || widest > indent {
            return None;
        }
        let start = line + indent;
        let mut value = String::new();
        value.extend(std::iter::repeat_n('\n', leading));
        // Empty lines seen since the last content line.
        let mut empty = 0usize;
        let mut any = false;
        let mut last_spaced = false;
        let end = loop {
            if self.is_end(line) {
                break line;
            }
            let mut q = line;
            while self.at(q) == b' ' && !self.is_end(q) && q - line < indent {
                q += 1;
            }
            let eol = self.line_end(q);
            if eol == self.b.len() {
                // A last line without a line break: left to saphyr-parser.
                return None;
            }
            if q == eol {
                empty += 1;
                line = eol + 1;
                continue;
            }
            if q - line < indent {
                break line;
            }
            let content = &self.text[q..eol];
            // Folding joins two lines that both start with text; a more-indented line keeps
            // the line breaks on both sides of it.
            let spaced = matches!(self.at(q), b' ' | b'\t');
            if any {
                if folded && empty == 0 && !spaced && !last_spaced {
                    value.push(' ');
                } else {
                    let kept = !folded || spaced || last_spaced;
                    value.extend(std::iter::repeat_n('\n', empty + usize::from(kept)));
                }
            }
            value.push_str(content);
            any = true;
            last_spaced = spaced;
            empty = 0;
            line = eol + 1;
        };
        match chomp {
            b'-' => {}
            b'+' => value.extend(std::iter::repeat_n('\n', empty + 1)),
            _ => value.push('\n'),
        }
        let style = if folded {
            ScalarStyle::Folded
        } else {
            ScalarStyle::Literal
        };
        // saphyr-parser ends the scalar where the next line's content starts.
        let mut token_end = end;
        while self.at(token_end) == b' ' && !self.is_end(token_end) && token_end - end < indent {
            token_end += 1;
        }
        self.scalar(Cow::Owned(value), style, start, token_end);
        self.next(end)
    }

    /// A quoted scalar starting at `p` and closed on its line: its value and where it ends.
    fn quoted(&self, p: usize) -> Option<(Cow<'a, str>, usize)> {
        let q = self.b[p];
        let mut i = p + 1;
        let mut owned: Option<String> = None;
        let mut from = i;
        loop {
            let c = *self.b.get(i)?;
            match c {
                b'\n' => return None,
                b'\'' if q == b'\'' => {
                    if self.at(i + 1) == b'\'' && !self.is_end(i + 1) {
                        let s = owned.get_or_insert_with(String::new);
                        s.push_str(&self.text[from..=i]);
                        i += 2;
                        from = i;
                        continue;
                    }
                    break;
                }
                b'"' if q == b'"' => break,
                b'\\' if q == b'"' => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.text[from..i]);
                    let (ch, used) = self.escape(i + 1)?;
                    s.push(ch);
                    i += 1 + used;
                    from = i;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        let value = match owned {
            Some(mut s) => {
                s.push_str(&self.text[from..i]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&self.text[p + 1..i]),
        };
        Some((value, i + 1))
    }

    /// The character a double-quoted escape starting at `i` (after the `\`) stands for, and
    /// how many bytes it takes.
    fn escape(&self, i: usize) -> Option<(char, usize)> {
        let simple = match *self.b.get(i)? {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'x' => return self.hex(i + 1, 2),
            b'u' => return self.hex(i + 1, 4),
            b'U' => return self.hex(i + 1, 8),
            _ => return None,
        };
        Some((simple, 1))
    }

    fn hex(&self, i: usize, digits: usize) -> Option<(char, usize)> {
        let s = self.text.get(i..i + digits)?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let ch = char::from_u32(u32::from_str_radix(s, 16).ok()?)?;
        Some((ch, 1 + digits))
    }

    /// A flow collection on one line starting at `p`: where it ends.
    fn flow(&mut self, p: usize) -> Option<usize> {
        self.enter()?;
        let map = self.b[p] == b'{';
        let close = if map { b'}' } else { b']' };
        let mut i = self.flow_space(p + 1)?;
        // saphyr-parser's start token runs to the next token.
        self.push(
            if map {
                Event::MappingStart(0, None)
            } else {
                Event::SequenceStart(0, None)
            },
            p,
            i,
        );
        if self.b[i] != close {
            loop {
                let after = self.flow_node(i)?;
                let mut j = self.flow_space(after)?;
                if map {
                    if self.b[j] != b':' {
                        return None;
                    }
                    j = self.flow_space(j + 1)?;
                    if matches!(self.b[j], b',' | b'}' | b']') {
                        return None;
                    }
                    let value_end = self.flow_node(j)?;
                    j = self.flow_space(value_end)?;
                } else if self.b[j] == b':' {
                    return None;
                }
                match self.b[j] {
                    b',' => {
                        i = self.flow_space(j + 1)?;
                        if matches!(self.b[i], b']' | b'}') {
                            return None;
                        }
                    }
                    c if c == close => {
                        i = j;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.push(
            if map {
                Event::MappingEnd
            } else {
                Event::SequenceEnd
            },
            i,
            self.token_end(i + 1),
        );
        self.depth -= 1;
        Some(i + 1)
    }

    /// Past spaces inside a flow collection, which must go on on the same line.
    fn flow_space(&self, i: usize) -> Option<usize> {
        let i = self.spaces(i);
        (!self.is_end(i) && !matches!(self.b[i], b'\n' | b'\t' | b'#')).then_some(i)
    }

    /// A scalar or nested collection inside a flow collection: where it ends.
    fn flow_node(&mut self, p: usize) -> Option<usize> {
        match self.b[p] {
            b'[' | b'{' => self.flow(p),
            b'*' => {
                let end = self.alias(p)?;
                matches!(self.at(end), b' ' | b',' | b']' | b'}').then_some(end)
            }
            b'&' => {
                let (id, after) = self.anchor(p)?;
                let q = self.flow_space(after)?;
                if matches!(self.b[q], b'&' | b'*' | b',' | b']' | b'}') {
                    return None;
                }
                self.pending_anchor = Some((id, p));
                let end = self.flow_node(q)?;
                (self.pending_anchor.is_none() && !self.failed).then_some(end)
            }
            b'"' | b'\'' => {
                let (value, end) = self.quoted(p)?;
                let style = quote_style(self.b[p]);
                self.scalar(value, style, p, self.token_end(end));
                Some(end)
            }
            c if starts_no_plain(c, self.at(p + 1)) || c == b'-' && self.blank_after(p) => None,
            _ => {
                let mut i = p;
                loop {
                    match self.at(i) {
                        b',' | b'[' | b']' | b'{' | b'}' => break,
                        b':' if matches!(
                            self.at(i + 1),
                            b' ' | b',' | b'[' | b']' | b'{' | b'}' | b'\n'
                        ) =>
                        {
                            break;
                        }
                        b'#' if self.b[i - 1] == b' ' => return None,
                        b'\n' | b'\t' => return None,
                        _ => i += 1,
                    }
                }
                let mut end = i;
                while end > p && self.b[end - 1] == b' ' {
                    end -= 1;
                }
                self.scalar(
                    Cow::Borrowed(&self.text[p..end]),
                    ScalarStyle::Plain,
                    p,
                    end,
                );
                Some(i)
            }
        }
    }
}

fn quote_style(quote: u8) -> ScalarStyle {
    if quote == b'"' {
        ScalarStyle::DoubleQuoted
    } else {
        ScalarStyle::SingleQuoted
    }
}

/// `c` (followed by `next`) cannot start a plain scalar this reader handles: YAML's
/// indicators, and `?` and `:` even where YAML would allow them.
fn starts_no_plain(c: u8, next: u8) -> bool {
    matches!(
        c,
        b'?' | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b'\t'
            | b' '
            | b'\n'
    ) || (c == b'-' && matches!(next, b'\t' | b',' | b'[' | b']' | b'{' | b'}'))
}

/// How the fast path and saphyr-parser compare on `text`: `Ok(true)` when the fast path read
/// it and both give the same events at the same byte spans, `Ok(false)` when the fast path
/// declined it, `Err` with the first difference otherwise. For the tests that hold the fast
/// path to saphyr-parser on real files.
pub fn agrees_with_saphyr(text: &str) -> Result<bool, String> {
    let Some(fast) = events(text) else {
        return Ok(false);
    };
    let chars = crate::source::CharIndex::new(text);
    let mut parser = saphyr_parser::Parser::new_from_str(text).keep_tags(true);
    for (i, (event, start, end)) in fast.iter().enumerate() {
        let (slow, span) = match parser.next_event() {
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                return Err(format!(
                    "event {i}: the fast path read {event:?} at {start}..{end} where \
                     saphyr-parser fails: {e}"
                ));
            }
            None => return Err(format!("event {i}: saphyr-parser ended before {event:?}")),
        };
        let (s, e) = (chars.byte(span.start.index()), chars.byte(span.end.index()));
        if *event != slow || (*start, *end) != (s, e) {
            return Err(format!(
                "event {i}: fast {event:?} at {start}..{end}, saphyr-parser {slow:?} at {s}..{e}"
            ));
        }
    }
    match parser.next_event() {
        None => Ok(true),
        Some(other) => Err(format!(
            "saphyr-parser goes on after the fast path's last event: {other:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines built from the pieces manifests are made of, and the pieces that break them, at
    /// random indentation: the fast path must agree with saphyr-parser or decline.
    fn soup(seed: u64, lines: usize) -> String {
        const PIECES: &[&str] = &[
            "a:",
            "b: 1",
            "- x",
            "-",
            "- ",
            "k: v # c",
            "# c",
            "",
            "---",
            "...",
            "c: |",
            "d: >-",
            "e: |+",
            "f: \"q\\t\"",
            "g: 'it''s'",
            "h: [1, 2]",
            "i: {x: 1}",
            "j: &n 3",
            "k: *n",
            "- &m v",
            "- *m",
            "l: {}",
            "m: []",
            "  text",
            "more text",
            "n: a: b",
            "o:\tp",
            "? q",
            "r: !t s",
            "\"s\": t",
            "u: \"open",
            "v: [a,",
            "- - w",
            "- y: z",
            "%YAML 1.2",
            "x #y",
            "z: -1",
            "- --flag",
            "aa: 'b' # c",
            "bb: [\"c\" , d ]",
            "cc: { e: [f] }",
            "dd:  ",
            "ee: >",
            "ff: |2",
            "gg: \"\\u00e9\\x41\"",
            "hh: a#b",
            "ii: &o",
            "  - jj",
            "kk:#",
        ];
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % n
        };
        let mut text = String::new();
        for _ in 0..lines {
            text.push_str(&" ".repeat([0, 0, 2, 2, 4, 1, 3, 6][next(8)]));
            text.push_str(PIECES[next(PIECES.len())]);
            text.push('\n');
        }
        if next(4) == 0 {
            text.pop();
        }
        text
    }

    #[test]
    fn agrees_with_saphyr_or_declines_on_generated_text() {
        let mut took = 0;
        // FLUXVET_FAST_SEEDS=3000000 with --release searches further (3 s).
        let seeds = std::env::var("FLUXVET_FAST_SEEDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20_000u64);
        for seed in 0..seeds {
            let text = soup(seed, 1 + (seed % 9) as usize);
            match agrees_with_saphyr(&text) {
                Ok(true) => took += 1,
                Ok(false) => {}
                Err(e) => panic!("seed {seed}: {e}\n{text}"),
            }
        }
        // The generator must reach the fast path often enough for the test to mean something.
        assert!(
            took > seeds / 20,
            "the fast path read only {took} of {seeds} texts"
        );
    }
}
