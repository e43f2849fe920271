//! Builds [`Document`]s from saphyr-parser events, or the fast path's (`super::fast`), which are
//! the same for the texts it reads.
//!
//! Problems are collected rather than returned: a syntax error in the third document still
//! leaves the first two, and parsing resumes at the next `---` so later documents are checked.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

use super::fast;
use super::tree::{Document, Node, NodeId, RawKind, Style};
use crate::source::{CharIndex, Span};

/// A document whose aliases expand to more nodes than this is rejected, as Go's YAML decoder
/// rejects "excessive aliasing".
pub const ALIAS_EXPANSION_LIMIT: u64 = 1_000_000;

/// A document with more nodes than this is not built: the API server refuses objects over
/// about 1.5 MB, far below it, and the bound keeps a hostile file's memory in proportion.
pub const NODE_LIMIT: usize = 1_000_000;

/// saphyr-parser counts flow nesting in a `u8` and stops past this depth.
pub const FLOW_DEPTH_LIMIT: usize = 255;

/// Collections nested deeper than this end the document with a finding: the builder's stack
/// would otherwise grow with a file of `- - - - …`, and code that walks the tree recursively
/// (on rayon's 2 MiB worker stacks) stays safe.
pub const NESTING_LIMIT: usize = 5_000;

/// Above this many entries a mapping finds duplicate keys through a hash set, so a mapping
/// of 200,000 keys stays linear.
const DUPLICATE_SCAN_LIMIT: usize = 16;

#[derive(Debug)]
pub enum YamlProblem {
    Syntax {
        /// Where the cause is (an unclosed bracket), else where the parser stopped.
        span: Span,
        message: String,
        /// Where the parser stopped, when the cause is elsewhere.
        stopped: Option<Span>,
        cause_label: Option<String>,
    },
    DuplicateKey {
        key: String,
        first: Span,
        second: Span,
    },
    AliasBomb {
        span: Span,
        expanded: u64,
    },
    /// The document has more than [`NODE_LIMIT`] nodes and was not built.
    TooLarge {
        span: Span,
    },
    NotText {
        reason: String,
    },
}

#[derive(Debug, Default)]
pub struct ParsedStream {
    pub documents: Vec<Document>,
    pub problems: Vec<YamlProblem>,
}

enum Frame {
    Map {
        start: usize,
        flow: bool,
        anchor: usize,
        tag: Option<Box<str>>,
        /// Where this mapping's entries start in [`Builder::pairs`].
        first: usize,
        key: Option<NodeId>,
        size: u64,
        /// Scalar keys seen so far, once the mapping is too big for a linear scan.
        seen: Option<HashMap<Box<str>, NodeId>>,
    },
    Seq {
        start: usize,
        flow: bool,
        anchor: usize,
        tag: Option<Box<str>>,
        /// Where this sequence's items start in [`Builder::items`].
        first: usize,
        size: u64,
    },
}

/// Working storage of the builder, kept per thread and reused from document to document and
/// file to file: the trees keep exact-size copies, so they carry no growth slack, and the
/// growth itself (a reallocation series on fresh, kernel-zeroed pages) happens once per thread.
#[derive(Default)]
struct Scratch {
    /// The open document's nodes.
    nodes: Vec<Node>,
    sizes: Vec<u64>,
    /// Entries and items of the open collections, innermost last (a collection only gains
    /// children while no child collection is open); moved out when one closes.
    pairs: Vec<(NodeId, NodeId)>,
    items: Vec<NodeId>,
    /// The open document's closed collections' children, scalar texts and tags, which the
    /// nodes index into.
    doc_pairs: Vec<(NodeId, NodeId)>,
    doc_items: Vec<NodeId>,
    strings: String,
    tags: Vec<(NodeId, Box<str>)>,
}

impl Scratch {
    fn clear(&mut self) {
        self.nodes.clear();
        self.sizes.clear();
        self.pairs.clear();
        self.items.clear();
        self.doc_pairs.clear();
        self.doc_items.clear();
        self.strings.clear();
        self.tags.clear();
    }

    /// A scalar node; its text is read in place from `source` when the bytes are the same
    /// (plain scalars and quoted ones without escapes, most of a manifest).
    fn scalar_node(&mut self, source: &str, value: &str, style: Style, span: Span) -> Node {
        let (s, e) = (span.start as usize, span.end as usize);
        let (from, written) = match style {
            Style::Plain => (s, source.get(s..e)),
            Style::SingleQuoted | Style::DoubleQuoted if e >= s + 2 => {
                (s + 1, source.get(s + 1..e - 1))
            }
            _ => (s, None),
        };
        if written == Some(value) {
            return Node::new(span, RawKind::Scalar, style, from as u32, value.len(), true);
        }
        let start = self.strings.len() as u32;
        self.strings.push_str(value);
        Node::new(span, RawKind::Scalar, style, start, value.len(), false)
    }

    fn scalar_text<'s>(&'s self, source: &'s str, id: NodeId) -> Option<&'s str> {
        let n = self.nodes.get(id as usize)?;
        (n.kind() == RawKind::Scalar).then(|| n.text(source, &self.strings))
    }

    /// The finished document, in exact-size storage of its own.
    fn take_document(
        &mut self,
        source: &Arc<str>,
        index: usize,
        span: Span,
        root: Option<NodeId>,
    ) -> Document {
        Document {
            index,
            span,
            nodes: self.nodes.as_slice().into(),
            pairs: self.doc_pairs.as_slice().into(),
            items: self.doc_items.as_slice().into(),
            strings: self.strings.as_str().into(),
            source: Arc::clone(source),
            tags: std::mem::take(&mut self.tags).into(),
            root,
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

struct Builder<'t> {
    text: &'t str,
    s: &'t mut Scratch,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    root: Option<NodeId>,
    doc_start: usize,
    /// Set once the document passes [`NODE_LIMIT`]; its remaining events are skipped.
    too_large: bool,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, s: &'t mut Scratch, doc_start: usize) -> Builder<'t> {
        Builder {
            text,
            s,
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            doc_start,
            too_large: false,
        }
    }

    fn push_node(
        &mut self,
        node: Node,
        size: u64,
        anchor: usize,
        tag: Option<Box<str>>,
        problems: &mut Vec<YamlProblem>,
    ) {
        if self.s.nodes.len() >= NODE_LIMIT {
            self.too_large = true;
            return;
        }
        let id = self.s.nodes.len() as NodeId;
        if let Some(t) = tag {
            self.s.tags.push((id, t));
        }
        self.s.nodes.push(node);
        self.s.sizes.push(size);
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        self.attach(id, size, problems);
    }

    fn attach(&mut self, id: NodeId, size: u64, problems: &mut Vec<YamlProblem>) {
        match self.stack.last_mut() {
            None => self.root = Some(id),
            Some(Frame::Seq { size: s, .. }) => {
                self.s.items.push(id);
                *s = s.saturating_add(size);
            }
            Some(Frame::Map {
                first,
                key,
                size: s,
                seen,
                ..
            }) => {
                *s = s.saturating_add(size);
                match key.take() {
                    None => *key = Some(id),
                    Some(k) => {
                        let entries = &self.s.pairs[(*first).min(self.s.pairs.len())..];
                        let dup = duplicate_of(self.s, self.text, entries, seen, k);
                        self.s.pairs.push((k, id));
                        if let Some((first, name)) = dup {
                            problems.push(YamlProblem::DuplicateKey {
                                key: name,
                                first,
                                second: self.s.nodes[k as usize].span,
                            });
                        }
                    }
                }
            }
        }
    }

    fn close(&mut self, end_byte: usize, problems: &mut Vec<YamlProblem>) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (kind, (at, len, last), start, flow, anchor, tag, size) = match frame {
            Frame::Map {
                start,
                flow,
                anchor,
                tag,
                first,
                key,
                size,
                ..
            } => {
                if let Some(k) = key {
                    // A key without a value: YAML gives it null.
                    let at = self.s.nodes[k as usize].span.end as usize;
                    let null = self.s.nodes.len() as NodeId;
                    let node = self
                        .s
                        .scalar_node(self.text, "", Style::Plain, Span::empty(at));
                    self.s.nodes.push(node);
                    self.s.sizes.push(1);
                    self.s.pairs.push((k, null));
                }
                let children =
                    close_children(&mut self.s.pairs, &mut self.s.doc_pairs, first, |&(_, v)| v);
                (RawKind::Mapping, children, start, flow, anchor, tag, size)
            }
            Frame::Seq {
                start,
                flow,
                anchor,
                tag,
                first,
                size,
            } => {
                let children =
                    close_children(&mut self.s.items, &mut self.s.doc_items, first, |&i| i);
                (RawKind::Sequence, children, start, flow, anchor, tag, size)
            }
        };
        // A block collection's end event sits on the next token, which may be lines away; its
        // last child is where it really ends.
        let end = if flow {
            end_byte
        } else {
            last.and_then(|l| self.s.nodes.get(l as usize))
                .map_or(end_byte, |n| n.span.end as usize)
                .max(start)
        };
        let size = size.saturating_add(1);
        self.push_node(
            Node::new(
                Span::new(start, end),
                kind,
                Style::Plain,
                at,
                len as usize,
                false,
            ),
            size,
            anchor,
            tag,
            problems,
        );
    }

    /// The block mapping's last key when its value is a block scalar whose header is alone on
    /// the next line at the key's own column (`conf:` then `|` under `c`), which go-yaml v3 (as
    /// libyaml) reads as the key's value: the key's start, and the bytes from its `:` to the
    /// header (white space and the line break). `text` is the text saphyr reads.
    fn key_before_block_header(&self, text: &str) -> Option<(usize, (usize, usize))> {
        let Some(Frame::Map {
            flow: false,
            key: Some(k),
            ..
        }) = self.stack.last()
        else {
            return None;
        };
        let span = self.s.nodes.get(*k as usize)?.span;
        let (start, end) = (span.start as usize, span.end as usize);
        let bytes = text.as_bytes();
        let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
        // The key's column: after the line's indentation and any `- ` of sequence items.
        if !bytes[line_start..start]
            .iter()
            .all(|&c| c == b' ' || c == b'-')
        {
            return None;
        }
        let column = start - line_start;
        let blank = |from: usize| {
            from + bytes.get(from..).map_or(0, |r| {
                r.iter().take_while(|&&c| c == b' ' || c == b'\t').count()
            })
        };
        let colon = blank(end);
        if bytes.get(colon) != Some(&b':') {
            return None;
        }
        let mut at = blank(colon + 1);
        if bytes.get(at) == Some(&b'\r') {
            at += 1;
        }
        if bytes.get(at) != Some(&b'\n') {
            return None;
        }
        let header = at + 1 + column;
        if bytes.get(at + 1..header)?.iter().any(|&c| c != b' ')
            || !matches!(bytes.get(header), Some(b'|' | b'>'))
        {
            return None;
        }
        let indicators = bytes[header + 1..]
            .iter()
            .take_while(|c| matches!(c, b'1'..=b'9' | b'+' | b'-'))
            .count();
        let after = blank(header + 1 + indicators);
        let comment = after > header + 1 + indicators && bytes.get(after) == Some(&b'#');
        if indicators > 2 || !(comment || matches!(bytes.get(after), None | Some(b'\r' | b'\n'))) {
            return None;
        }
        Some((start, (colon + 1, header)))
    }

    /// The outermost flow collection still open: the one embedded in block context.
    fn outer_flow_collection(&self) -> Option<usize> {
        self.stack.iter().find_map(|f| match f {
            Frame::Map {
                start, flow: true, ..
            }
            | Frame::Seq {
                start, flow: true, ..
            } => Some(*start),
            _ => None,
        })
    }

    fn open_flow_collection(&self) -> Option<(usize, char)> {
        self.stack.iter().rev().find_map(|f| match f {
            Frame::Map {
                start, flow: true, ..
            } => Some((*start, '{')),
            Frame::Seq {
                start, flow: true, ..
            } => Some((*start, '[')),
            _ => None,
        })
    }
}

/// Moves a closing collection's children (`open[from..]`) to the document's array: where they
/// start there, how many they are and the node of the last one.
fn close_children<T: Copy>(
    open: &mut Vec<T>,
    done: &mut Vec<T>,
    from: usize,
    node: impl Fn(&T) -> NodeId,
) -> (u32, u32, Option<NodeId>) {
    let from = from.min(open.len());
    let at = done.len() as u32;
    let last = open[from..].last().map(node);
    done.extend(open.drain(from..));
    (at, done.len() as u32 - at, last)
}

fn duplicate_of(
    s: &Scratch,
    source: &str,
    entries: &[(NodeId, NodeId)],
    seen: &mut Option<HashMap<Box<str>, NodeId>>,
    key: NodeId,
) -> Option<(Span, String)> {
    let value = s.scalar_text(source, key)?;
    let span_of = |id: NodeId| s.nodes[id as usize].span;
    if seen.is_none() && entries.len() >= DUPLICATE_SCAN_LIMIT {
        let mut map = HashMap::with_capacity(entries.len() * 2);
        for &(k, _) in entries {
            if let Some(v) = s.scalar_text(source, k) {
                map.entry(v.into()).or_insert(k);
            }
        }
        *seen = Some(map);
    }
    if let Some(map) = seen {
        return match map.get(value) {
            Some(&first) => Some((span_of(first), value.to_string())),
            None => {
                map.insert(value.into(), key);
                None
            }
        };
    }
    entries
        .iter()
        // Lengths first: most keys differ in length, and the length is in the node.
        .filter(|&&(k, _)| {
            s.nodes
                .get(k as usize)
                .is_some_and(|n| n.len() as usize == value.len())
        })
        .find_map(|&(k, _)| match s.scalar_text(source, k) {
            Some(v) if v == value => Some((span_of(k), value.to_string())),
            _ => None,
        })
}

fn style(s: ScalarStyle) -> Style {
    match s {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

fn tag_text(tag: Option<std::borrow::Cow<'_, saphyr_parser::Tag>>) -> Option<Box<str>> {
    tag.map(|t| {
        if t.handle == "tag:yaml.org,2002:" {
            format!("!!{}", t.suffix).into()
        } else {
            format!("{}{}", t.handle, t.suffix).into()
        }
    })
}

/// Parses every document of `text`; never panics, whatever the input.
pub fn parse_stream(text: &str) -> ParsedStream {
    parse_source(&Arc::from(text))
}

/// [`parse_stream`] for a file's shared text, which the documents then read their scalars from.
pub fn parse_source(source: &Arc<str>) -> ParsedStream {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let out = parse_with(source, &mut scratch);
            // One huge file should not pin its working storage for the rest of the run.
            if scratch.nodes.capacity() > SCRATCH_KEPT_NODES {
                *scratch = Scratch::default();
            }
            out
        }
        Err(_) => parse_with(source, &mut Scratch::default()),
    })
}

/// Nodes of working storage a thread keeps between files (about 3 MiB).
const SCRATCH_KEPT_NODES: usize = 1 << 16;

fn parse_with(source: &Arc<str>, scratch: &mut Scratch) -> ParsedStream {
    let text: &str = source;
    if let Some(out) = build_fast(source, scratch) {
        return out;
    }
    let chars = CharIndex::new(text);
    let mut out = ParsedStream::default();
    let mut base = 0usize;
    let mut doc_index = 0usize;
    // go-yaml v3 accepts what saphyr rejects in a few places (see `Stop::Repair`): the text
    // saphyr reads then differs from the file in those places, byte for byte of equal length,
    // and the values go-yaml reads there are kept here by their start.
    let mut lenient = Lenient::default();
    loop {
        scratch.clear();
        let parse_text = lenient.text.as_deref().unwrap_or(text);
        match parse_from(
            source,
            parse_text,
            &chars,
            base,
            &mut doc_index,
            &mut out,
            scratch,
            &lenient,
        ) {
            Stop::End => break,
            Stop::Repair { scalar, restart } => {
                // When go-yaml rejects it too, the next parse reports the error.
                lenient.repair(text, scalar);
                base = restart;
            }
            Stop::RepairFlow { open, restart } => {
                // Tried once: when it cannot be repaired, the next parse reports the error.
                lenient.repair_flow(text, open);
                base = restart;
            }
            Stop::RepairAlias { alias, restart } => {
                // Tried once: when it cannot be repaired, the next parse reports the error.
                lenient.repair_alias(text, alias);
                base = restart;
            }
            Stop::RepairHeader {
                key,
                between,
                restart,
            } => {
                // Tried once: when the header is not the cause, the next parse reports the error.
                lenient.repair_header(text, key, between);
                base = restart;
            }
            Stop::RepairComment { hash, restart } => {
                // Tried once: when it cannot be repaired, the next parse reports the error.
                lenient.repair_comment(text, hash);
                base = restart;
            }
            Stop::Error(stopped_at) => match next_document_marker(text, base, stopped_at) {
                Some(next) if next > base => base = next,
                _ => break,
            },
        }
    }
    out
}

/// The documents of `source` built from the fast path's events, which are saphyr-parser's for
/// the texts it reads (they hold no syntax error); `None` when it declines the text.
fn build_fast(source: &Arc<str>, scratch: &mut Scratch) -> Option<ParsedStream> {
    scratch.clear();
    let mut out = ParsedStream::default();
    let (mut doc_index, mut docs_here) = (0, 0);
    let repaired = HashMap::new();
    let mut b = Builder::new(source, scratch, 0);
    let mut sink = Sink {
        source,
        repaired: &repaired,
        doc_index: &mut doc_index,
        docs_here: &mut docs_here,
        out: &mut out,
    };
    let read = fast::read(source, |event, start, end| {
        b.apply(event, start, end, &mut sink);
    });
    read.then_some(out)
}

/// Where saphyr-parser is stricter than go-yaml v3, the YAML library kustomize-controller
/// reads manifests with, and how the text saphyr reads is changed so that go-yaml's answer wins.
#[derive(Default)]
struct Lenient {
    /// The text saphyr reads, once it differs from the file.
    text: Option<String>,
    /// Repaired quoted scalars: byte offset of the opening quote → the value go-yaml reads.
    values: HashMap<usize, String>,
    /// Quoted scalars go-yaml v3 rejects too, with its reason: their error stands.
    refused: Vec<(usize, &'static str)>,
    /// Flow collections whose lines were joined (or that could not be), by their opening
    /// bracket.
    flows: Vec<usize>,
    /// Aliases whose names were shortened (or that could not be), by their `*`.
    aliases: Vec<usize>,
    /// Keys whose block scalar header on the next line was joined to the key's line (or that
    /// could not be), by the key's start.
    headers: Vec<usize>,
    /// Comments that follow a token with no white space between (`"TCP"# why`), by their
    /// `#`, moved one byte right (or that could not be).
    comments: Vec<usize>,
}

/// Quoted scalars repaired per file at most: each repair parses the document again from its
/// start, so a file of thousands took seconds (3,000 took 2.4 s). Real files have a few; past
/// the limit the error stands.
const REPAIR_LIMIT: usize = 1_000;

/// Flow collections joined, and aliases shortened, per file at most: each one parses the
/// document again (3,000 flow collections took 4 s). Past the limit the error stands.
const FLOW_AND_ALIAS_REPAIR_LIMIT: usize = 256;

/// Comments separated from the token before them per file at most: each one parses the
/// document again from its start. Real files have a few; past the limit the error stands.
const COMMENT_REPAIR_LIMIT: usize = 64;

/// Block scalar headers joined to their key's line per file at most: each one parses the
/// document again from its start, so a file of thousands would take seconds. Real files have
/// a few; past the limit the error stands.
const HEADER_REPAIR_LIMIT: usize = 64;

impl Lenient {
    /// Edits the text saphyr reads (the file's until a first repair) in place: `edit` turns
    /// ASCII bytes into other ASCII bytes only, so every offset stays and the text stays UTF-8.
    fn edit_text(&mut self, text: &str, edit: impl FnOnce(&mut [u8])) {
        let mut bytes = self
            .text
            .take()
            .unwrap_or_else(|| text.to_string())
            .into_bytes();
        edit(&mut bytes);
        self.text = Some(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        );
    }

    /// Repairs the quoted scalar at `start`: its line breaks become spaces in the text saphyr
    /// reads (so no continuation line can be "under-indented"), and its value is go-yaml's.
    fn repair(&mut self, text: &str, start: usize) -> bool {
        if self.values.contains_key(&start) || self.refused.iter().any(|r| r.0 == start) {
            return false;
        }
        if self.values.len() >= REPAIR_LIMIT {
            self.refused
                .push((start, "invalid indentation in quoted scalar"));
            return false;
        }
        let (value, breaks) = match go_quoted_scalar(text, start) {
            Ok(found) => found,
            Err(why) => {
                self.refused.push((start, why));
                return false;
            }
        };
        self.edit_text(text, |bytes| {
            for b in breaks {
                bytes[b] = b' ';
            }
        });
        self.values.insert(start, value);
        true
    }
}

/// Where a document parses again from after a repair: its first line (from `base` when it is
/// the first one here: directives before it must stay with it).
fn restart_of(b: &Builder<'_>, text: &str, base: usize, docs_here: usize) -> usize {
    if docs_here == 0 {
        base
    } else {
        text[..b.doc_start]
            .rfind('\n')
            .map_or(0, |i| i + 1)
            .max(base)
    }
}

impl Lenient {
    /// Joins the lines of the flow collection opening at `open` (its line breaks become spaces
    /// in the text saphyr reads), so that no line of it can be "under-indented". Only where
    /// that changes no value: no blank line, no quoted or plain scalar across a line break.
    /// A comment inside is blanked with it (it would swallow the joined lines), and a
    /// comment's own line joins like a line break.
    fn repair_flow(&mut self, text: &str, open: usize) -> bool {
        self.flows.push(open);
        let current = self.text.as_deref().unwrap_or(text).as_bytes();
        let mut breaks = Vec::new();
        let mut comments: Vec<(usize, usize)> = Vec::new();
        let mut comment_start: Option<usize> = None;
        let mut depth = 0usize;
        let mut i = open;
        let last_solid = |from: usize| {
            current[..from]
                .iter()
                .rposition(|c| !matches!(c, b' ' | b'\t'))
        };
        loop {
            let Some(&c) = current.get(i) else {
                return false;
            };
            match c {
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b'\'' | b'"' => {
                    // Skip the quoted scalar; one that spans lines folds: not joined here.
                    let mut j = i + 1;
                    loop {
                        match current.get(j) {
                            None | Some(b'\n' | b'\r') => return false,
                            Some(&b'\\') if c == b'"' => j += 1,
                            Some(&q) if q == c => {
                                if c == b'\'' && current.get(j + 1) == Some(&b'\'') {
                                    j += 1;
                                } else {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    i = j;
                }
                b'#' if matches!(current.get(i.wrapping_sub(1)), Some(b' ' | b'\t' | b'\n')) => {
                    let end = current[i..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(current.len(), |j| i + j);
                    comments.push((i, end));
                    let own_line = last_solid(i).is_none_or(|p| current[p] == b'\n');
                    if own_line && end < current.len() {
                        // The whole line reads as white space: its break joins as is.
                        breaks.push(end);
                        i = end + 1;
                    } else {
                        comment_start = Some(i);
                        i = end;
                    }
                    continue;
                }
                b'\r' => return false,
                b'\n' => {
                    let before = last_solid(comment_start.take().unwrap_or(i)).map(|p| current[p]);
                    let after = current[i + 1..]
                        .iter()
                        .find(|c| !matches!(c, b' ' | b'\t'))
                        .copied();
                    // A blank line, or a plain scalar continued on the next line, reads
                    // differently once joined.
                    if before == Some(b'\n') || after == Some(b'\n') {
                        return false;
                    }
                    let ends = |c: Option<u8>| c.is_none_or(|c| b",[{:'\"".contains(&c));
                    if !ends(before) && !after.is_some_and(|c| b",]}".contains(&c)) {
                        return false;
                    }
                    breaks.push(i);
                }
                _ => {}
            }
            i += 1;
        }
        if breaks.is_empty() {
            return false;
        }
        self.edit_text(text, |bytes| {
            for b in breaks {
                bytes[b] = b' ';
            }
            for (from, to) in comments {
                bytes[from..to].fill(b' ');
            }
        });
        true
    }
}

impl Lenient {
    /// Joins the block scalar header under the key at `key` to the key's line: the bytes
    /// `between` (white space and one line break) become spaces in the text saphyr reads, so
    /// the header follows the `:` and the scalar's lines, and value, stay as they are.
    fn repair_header(&mut self, text: &str, key: usize, between: (usize, usize)) -> bool {
        self.headers.push(key);
        if between.0 > between.1 || between.1 > text.len() {
            return false;
        }
        self.edit_text(text, |bytes| bytes[between.0..between.1].fill(b' '));
        true
    }
}

impl Lenient {
    /// Separates the comment whose `#` at `hash` follows a token directly: the `#` becomes a
    /// space and the byte after it a `#` (`"TCP"# why` reads as `"TCP" #why`), so every other
    /// byte, and every value, stays. A comment of nothing (`"TCP"#` at the line's end) loses
    /// its `#`. Refused when the byte after the `#` starts a character of several bytes.
    fn repair_comment(&mut self, text: &str, hash: usize) -> bool {
        self.comments.push(hash);
        self.edit_text(text, |bytes| match bytes.get(hash + 1).copied() {
            None | Some(b'\n' | b'\r') => bytes[hash] = b' ',
            Some(c) if c.is_ascii() => {
                bytes[hash] = b' ';
                bytes[hash + 1] = b'#';
            }
            Some(_) => {}
        });
        true
    }
}

/// Whether go-yaml v3 reads the `#` at `hash`, right after the previous token, as a comment:
/// libyaml's scanner skips a comment between tokens without asking for white space before it,
/// after a quoted scalar (`"TCP"# why`), a flow collection (`[a, b]# why`) or a block scalar
/// header (`|# why`, `>-# why`). After an anchor, alias or tag it is an error there too.
fn go_reads_comment(text: &str, hash: usize) -> bool {
    let bytes = text.as_bytes();
    if bytes.get(hash) != Some(&b'#') {
        return false;
    }
    let before = &bytes[..hash];
    match before.last() {
        Some(b'"' | b'\'' | b']' | b'}' | b'|' | b'>') => true,
        // A block scalar header's indicators: `|-`, `>+2`, `|2-`.
        Some(b'-' | b'+' | b'0'..=b'9') => {
            let header = before
                .iter()
                .rev()
                .take_while(|c| matches!(c, b'-' | b'+' | b'0'..=b'9'))
                .count();
            header <= 2
                && matches!(
                    before.len().checked_sub(header + 1).map(|i| before[i]),
                    Some(b'|' | b'>')
                )
                && before
                    .len()
                    .checked_sub(header + 2)
                    .is_none_or(|i| matches!(before[i], b' ' | b'\t' | b'\n' | b':' | b'-'))
        }
        _ => false,
    }
}

/// A character go-yaml v3 takes into an anchor or alias name (`yaml_parser_scan_anchor`).
fn is_go_anchor_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Whether the `&` or `*` at `at` starts a node's anchor or alias: after a line's indentation,
/// `- `, `: `, `? `, or a flow collection's `[`, `{`, `,` (not inside a plain scalar).
fn starts_a_node(bytes: &[u8], at: usize) -> bool {
    let before = bytes[..at]
        .iter()
        .rev()
        .find(|&&c| c != b' ' && c != b'\t')
        .copied();
    matches!(
        before,
        None | Some(b'\n' | b'\r' | b'-' | b':' | b'?' | b'[' | b'{' | b',')
    )
}

impl Lenient {
    /// Repairs the alias at `alias` whose name go-yaml v3 ends before a `:` (`*app:`): the
    /// anchor and every alias of that name get a name one character shorter, the freed
    /// character a space (`&ap ` and `*ap :`), so the text keeps its length and every span
    /// stays. Refused when the name is one character, or the shorter name is taken.
    fn repair_alias(&mut self, text: &str, alias: usize) -> bool {
        self.aliases.push(alias);
        let bytes = text.as_bytes();
        let name_len = bytes[alias + 1..]
            .iter()
            .take_while(|&&c| is_go_anchor_char(c))
            .count();
        if name_len < 2 || bytes.get(alias + 1 + name_len) != Some(&b':') {
            return false;
        }
        let name = &bytes[alias + 1..alias + 1 + name_len];
        let shorter = &name[..name_len - 1];
        // Every anchor and alias token of this name (not a longer one), where a node starts.
        let tokens = |wanted: &[u8]| -> Vec<usize> {
            (0..bytes.len())
                .filter(|&i| {
                    matches!(bytes[i], b'&' | b'*')
                        && bytes[i + 1..].starts_with(wanted)
                        && !bytes
                            .get(i + 1 + wanted.len())
                            .is_some_and(|&c| is_go_anchor_char(c))
                        && starts_a_node(bytes, i)
                })
                .collect()
        };
        let found = tokens(name);
        let defined = found.iter().any(|&i| bytes[i] == b'&');
        if !defined || !tokens(shorter).is_empty() {
            return false;
        }
        let mut out = self
            .text
            .take()
            .unwrap_or_else(|| text.to_string())
            .into_bytes();
        for i in found {
            out[i + name_len] = b' ';
        }
        // Only an ASCII name character became an ASCII space: still UTF-8.
        self.text = Some(
            String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        );
        true
    }
}

/// Why [`parse_from`] stopped.
enum Stop {
    /// The end of the stream.
    End,
    /// A syntax error at this byte offset, reported.
    Error(usize),
    /// saphyr rejected the quoted scalar opening at `scalar` for the indentation of a
    /// continuation line, which go-yaml v3 never checks ("invalid indentation in quoted
    /// scalar"); parse again from `restart` (the document's first line) once it is repaired.
    Repair { scalar: usize, restart: usize },
    /// saphyr rejected the indentation of a line inside the flow collection opening at
    /// `open`, which go-yaml v3 never checks; parse again from `restart` once repaired.
    RepairFlow { open: usize, restart: usize },
    /// saphyr read the alias at `alias` (`*app:`, a mapping key with no space before its `:`)
    /// with the `:` in its name, where go-yaml v3 ends an alias name at the first character
    /// that is not a letter, digit, `_` or `-`; parse again from `restart` once repaired.
    RepairAlias { alias: usize, restart: usize },
    /// saphyr rejected a block scalar whose header (`|`, `>-`) is alone on the line after its
    /// key, at the key's column, which go-yaml v3 (as libyaml) reads as the key's value; parse
    /// again from `restart` once the bytes `between` the key's `:` and the header are spaces.
    RepairHeader {
        key: usize,
        between: (usize, usize),
        restart: usize,
    },
    /// saphyr rejected a comment that follows a token with no white space between
    /// (`"TCP"# why`), which go-yaml v3 (as libyaml) skips as a comment; parse again from
    /// `restart` once the comment is separated.
    RepairComment { hash: usize, restart: usize },
}

/// saphyr-parser's reason for a comment with no white space before it.
const COMMENT_NOT_SEPARATED: &str = "comments must be separated from other tokens by whitespace";

const NEVER_CLOSED: &str = "the quoted scalar is never closed (go-yaml v3 rejects it too)";
const UNKNOWN_ESCAPE: &str =
    "unknown escape character in a double-quoted scalar (go-yaml v3 rejects it too)";
const BAD_HEX: &str =
    "invalid `\\x`, `\\u` or `\\U` escape in a double-quoted scalar (go-yaml v3 rejects it too)";

/// Reads the quoted scalar opening at `start` as go-yaml v3's scanner does
/// (`yaml_parser_scan_flow_scalar`: no indentation check on continuation lines): its value and
/// the byte offsets of its line breaks; go-yaml's reason when it rejects it too (an unknown
/// escape, a document marker inside, no closing quote).
fn go_quoted_scalar(text: &str, start: usize) -> Result<(String, Vec<usize>), &'static str> {
    let bytes = text.as_bytes();
    let single = match bytes.get(start) {
        Some(b'\'') => true,
        Some(b'"') => false,
        _ => return Err("not a quoted scalar"),
    };
    let is_blank = |b: u8| b == b' ' || b == b'\t';
    let is_break = |b: u8| b == b'\n' || b == b'\r';
    let mut value = String::new();
    let mut breaks = Vec::new();
    let (mut whitespaces, mut leading_break, mut trailing_breaks) =
        (String::new(), String::new(), String::new());
    let mut i = start + 1;
    let mut line_start = false;
    // One line break (`\r\n` counts as one) at `i`: its offsets recorded, `i` moved past it.
    let take_break = |i: &mut usize, breaks: &mut Vec<usize>| {
        if bytes[*i] == b'\r' && bytes.get(*i + 1) == Some(&b'\n') {
            breaks.extend([*i, *i + 1]);
            *i += 2;
        } else {
            breaks.push(*i);
            *i += 1;
        }
    };
    loop {
        let rest = &bytes[i.min(bytes.len())..];
        if line_start
            && (rest.starts_with(b"---") || rest.starts_with(b"..."))
            && rest.get(3).is_none_or(|&b| is_blank(b) || is_break(b))
        {
            return Err(
                "a document marker (`---` or `...`) starts a line inside the quoted scalar",
            );
        }
        if i >= bytes.len() {
            return Err(NEVER_CLOSED);
        }
        let mut leading_blanks = false;
        while i < bytes.len() && !is_blank(bytes[i]) && !is_break(bytes[i]) {
            line_start = false;
            let c = bytes[i];
            if single && c == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                value.push('\'');
                i += 2;
            } else if (single && c == b'\'') || (!single && c == b'"') {
                break;
            } else if !single && c == b'\\' && bytes.get(i + 1).is_some_and(|&b| is_break(b)) {
                i += 1;
                take_break(&mut i, &mut breaks);
                line_start = true;
                leading_blanks = true;
                break;
            } else if !single && c == b'\\' {
                let e = *bytes.get(i + 1).ok_or(NEVER_CLOSED)?;
                i += 2;
                let code = match e {
                    b'0' => Some('\0'),
                    b'a' => Some('\x07'),
                    b'b' => Some('\x08'),
                    b't' | b'\t' => Some('\t'),
                    b'n' => Some('\n'),
                    b'v' => Some('\x0b'),
                    b'f' => Some('\x0c'),
                    b'r' => Some('\r'),
                    b'e' => Some('\x1b'),
                    b' ' => Some(' '),
                    b'"' => Some('"'),
                    b'\'' => Some('\''),
                    b'\\' => Some('\\'),
                    b'N' => Some('\u{85}'),
                    b'_' => Some('\u{a0}'),
                    b'L' => Some('\u{2028}'),
                    b'P' => Some('\u{2029}'),
                    b'x' | b'u' | b'U' => None,
                    _ => return Err(UNKNOWN_ESCAPE),
                };
                match code {
                    Some(ch) => value.push(ch),
                    None => {
                        let n = match e {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex = text
                            .get(i..i + n)
                            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                            .ok_or(BAD_HEX)?;
                        let code = u32::from_str_radix(hex, 16).map_err(|_| BAD_HEX)?;
                        value.push(char::from_u32(code).ok_or(BAD_HEX)?);
                        i += n;
                    }
                }
            } else {
                let ch = text
                    .get(i..)
                    .and_then(|t| t.chars().next())
                    .ok_or(NEVER_CLOSED)?;
                value.push(ch);
                i += ch.len_utf8();
            }
        }
        if i >= bytes.len() {
            return Err(NEVER_CLOSED);
        }
        if (single && bytes[i] == b'\'' && bytes.get(i + 1) != Some(&b'\''))
            || (!single && bytes[i] == b'"')
        {
            break;
        }
        while i < bytes.len() && (is_blank(bytes[i]) || is_break(bytes[i])) {
            if is_blank(bytes[i]) {
                if !leading_blanks {
                    whitespaces.push(bytes[i] as char);
                }
                i += 1;
                line_start = false;
            } else {
                if leading_blanks {
                    trailing_breaks.push('\n');
                } else {
                    whitespaces.clear();
                    leading_break.push('\n');
                    leading_blanks = true;
                }
                take_break(&mut i, &mut breaks);
                line_start = true;
            }
        }
        if leading_blanks {
            if !leading_break.is_empty() {
                if trailing_breaks.is_empty() {
                    value.push(' ');
                } else {
                    value.push_str(&trailing_breaks);
                }
            } else {
                value.push_str(&trailing_breaks);
            }
            trailing_breaks.clear();
            leading_break.clear();
        } else {
            value.push_str(&whitespaces);
            whitespaces.clear();
        }
    }
    Ok((value, breaks))
}

/// Parses `parse_text[base..]` (the file's text, or the same with repairs of equal length);
/// says why it stopped.
#[allow(clippy::too_many_arguments)]
fn parse_from(
    source: &Arc<str>,
    parse_text: &str,
    chars: &CharIndex,
    base: usize,
    doc_index: &mut usize,
    out: &mut ParsedStream,
    scratch: &mut Scratch,
    lenient: &Lenient,
) -> Stop {
    let repaired = &lenient.values;
    let text: &str = source;
    let mut parser = Parser::new_from_str(&parse_text[base..]).keep_tags(true);
    let mut docs_here = 0usize;
    let mut b = Builder::new(text, scratch, base);
    let base_char = chars.char_of_byte(base);
    let byte = |char_index: usize| chars.byte(base_char + char_index);
    loop {
        let (event, span) = match parser.next_event() {
            None => return Stop::End,
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                let at = byte(e.marker().index());
                if e.info() == "invalid indentation in quoted scalar"
                    && !repaired.contains_key(&at)
                    && !lenient.refused.iter().any(|r| r.0 == at)
                    && matches!(text.as_bytes().get(at), Some(b'\'' | b'"'))
                {
                    return Stop::Repair {
                        scalar: at,
                        restart: restart_of(&b, text, base, docs_here),
                    };
                }
                if e.info().contains("unknown anchor")
                    && lenient.aliases.len() < FLOW_AND_ALIAS_REPAIR_LIMIT
                    && let Some(alias) = text[..=at.min(text.len().saturating_sub(1))].rfind('*')
                    && !lenient.aliases.contains(&alias)
                {
                    return Stop::RepairAlias {
                        alias,
                        restart: restart_of(&b, text, base, docs_here),
                    };
                }
                if lenient.headers.len() < HEADER_REPAIR_LIMIT
                    && let Some((key, between)) = b.key_before_block_header(parse_text)
                    && !lenient.headers.contains(&key)
                {
                    return Stop::RepairHeader {
                        key,
                        between,
                        restart: restart_of(&b, text, base, docs_here),
                    };
                }
                if e.info() == COMMENT_NOT_SEPARATED
                    && lenient.comments.len() < COMMENT_REPAIR_LIMIT
                    && !lenient.comments.contains(&at)
                    && go_reads_comment(parse_text, at)
                {
                    return Stop::RepairComment {
                        hash: at,
                        restart: restart_of(&b, text, base, docs_here),
                    };
                }
                // go-yaml v3 (as libyaml) checks no indentation inside a flow collection: a
                // continuation line or the closing bracket under the key is accepted.
                if e.info().contains("indentation")
                    && lenient.flows.len() < FLOW_AND_ALIAS_REPAIR_LIMIT
                    && let Some(open) = b.outer_flow_collection()
                    && !lenient.flows.contains(&open)
                {
                    return Stop::RepairFlow {
                        open,
                        restart: restart_of(&b, text, base, docs_here),
                    };
                }
                // The broken document keeps its number, so later ones keep theirs.
                *doc_index += 1;
                let stopped = syntax_error(&b, at, &e, out);
                // saphyr names the indentation first; go-yaml's own reason is the true one.
                if let Some((_, why)) = lenient.refused.iter().find(|r| r.0 == at)
                    && let Some(YamlProblem::Syntax { message, .. }) = out.problems.last_mut()
                {
                    *message = (*why).to_string();
                }
                return Stop::Error(stopped);
            }
        };
        let (start, end) = (byte(span.start.index()), byte(span.end.index()));
        let mut sink = Sink {
            source,
            repaired,
            doc_index: &mut *doc_index,
            docs_here: &mut docs_here,
            out: &mut *out,
        };
        if let Some(stop) = b.apply(event, start, end, &mut sink) {
            return stop;
        }
    }
}

/// Where [`Builder::apply`] puts what it builds, and what it reads besides the events.
struct Sink<'a> {
    source: &'a Arc<str>,
    /// Repaired quoted scalars' values (see [`Lenient`]), by the opening quote's offset.
    repaired: &'a HashMap<usize, String>,
    doc_index: &'a mut usize,
    /// Documents finished since this parse started.
    docs_here: &'a mut usize,
    out: &'a mut ParsedStream,
}

impl Builder<'_> {
    /// Builds from one event spanning `start..end` (bytes): `Some` when the stream stops.
    fn apply(
        &mut self,
        event: Event<'_>,
        start: usize,
        end: usize,
        k: &mut Sink<'_>,
    ) -> Option<Stop> {
        let b = self;
        let text = b.text;
        if b.too_large && !matches!(event, Event::DocumentEnd | Event::StreamEnd) {
            return None;
        }
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => return Some(Stop::End),
            Event::DocumentStart(_) => {
                b.s.clear();
                b.anchors.clear();
                b.root = None;
                b.stack.clear();
                b.doc_start = start;
                b.too_large = false;
            }
            Event::DocumentEnd => {
                let expanded = b.root.map(|r| b.s.sizes[r as usize]).unwrap_or(0);
                let doc_span = Span::new(b.doc_start, end.max(b.doc_start));
                if b.too_large {
                    k.out
                        .problems
                        .push(YamlProblem::TooLarge { span: doc_span });
                    b.too_large = false;
                    b.root = None;
                    b.stack.clear();
                } else if expanded > ALIAS_EXPANSION_LIMIT {
                    k.out.problems.push(YamlProblem::AliasBomb {
                        span: doc_span,
                        expanded,
                    });
                } else {
                    let root = b.root.take();
                    k.out
                        .documents
                        .push(b.s.take_document(k.source, *k.doc_index, doc_span, root));
                }
                *k.doc_index += 1;
                *k.docs_here += 1;
                b.s.clear();
            }
            Event::Alias(id) => {
                let (target, size) = match b.anchors.get(&id) {
                    Some(&t) => (Some(t), b.s.sizes[t as usize]),
                    None => (None, 1),
                };
                let span = Span::new(start, end);
                let node = match target {
                    Some(t) => Node::new(span, RawKind::Alias, Style::Plain, t, 0, false),
                    None => b.s.scalar_node(text, "", Style::Plain, span),
                };
                b.push_node(node, size, 0, None, &mut k.out.problems);
            }
            Event::Scalar(value, st, anchor, tag) => {
                let end = quoted_end(text, start, end, st);
                // A repaired quoted scalar holds the value go-yaml reads.
                let value = match k.repaired.get(&start) {
                    Some(v) if st != ScalarStyle::Plain => std::borrow::Cow::Borrowed(v.as_str()),
                    _ => value,
                };
                let node =
                    b.s.scalar_node(text, &value, style(st), Span::new(start, end));
                b.push_node(node, 1, anchor, tag_text(tag), &mut k.out.problems);
            }
            Event::SequenceStart(..) | Event::MappingStart(..)
                if b.stack.len() >= NESTING_LIMIT =>
            {
                *k.doc_index += 1;
                k.out.problems.push(YamlProblem::Syntax {
                    span: Span::new(start, next_char_end(text, start)),
                    message: format!(
                        "collections nest more than {NESTING_LIMIT} levels deep; fluxvet stops \
                         reading the document there and no real manifest nests this deep: \
                         flatten the data or exclude the file"
                    ),
                    stopped: None,
                    cause_label: Some(format!("level {} opens here", NESTING_LIMIT + 1)),
                });
                return Some(Stop::Error(start));
            }
            Event::SequenceStart(anchor, tag) => {
                let flow = text.as_bytes().get(start) == Some(&b'[');
                b.stack.push(Frame::Seq {
                    start,
                    flow,
                    anchor,
                    tag: tag_text(tag),
                    first: b.s.items.len(),
                    size: 0,
                });
            }
            Event::MappingStart(anchor, tag) => {
                let flow = text.as_bytes().get(start) == Some(&b'{');
                b.stack.push(Frame::Map {
                    start,
                    flow,
                    anchor,
                    tag: tag_text(tag),
                    first: b.s.pairs.len(),
                    key: None,
                    size: 0,
                    seen: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => b.close(end, &mut k.out.problems),
        }
        None
    }
}

fn syntax_error(b: &Builder<'_>, at: usize, e: &ScanError, out: &mut ParsedStream) -> usize {
    let info = e.info().to_string();
    let stopped = Span::new(at, next_char_end(b.text, at));
    let at_end = b.text[at.min(b.text.len())..].trim().is_empty();
    let problem = if info.contains("recursion limit") {
        // saphyr-parser's own words say nothing about what to change.
        YamlProblem::Syntax {
            span: stopped,
            message: format!(
                "flow collections (`[` and `{{`) nest more than {FLOW_DEPTH_LIMIT} levels deep; \
                 fluxvet's YAML parser stops there and no real manifest nests this deep: \
                 flatten the data or exclude the file"
            ),
            stopped: None,
            cause_label: Some(format!("level {} opens here", FLOW_DEPTH_LIMIT + 1)),
        }
    } else if info.contains("tab") {
        let span = tab_before(b.text, at).map_or(stopped, |tab| Span::new(tab, tab + 1));
        YamlProblem::Syntax {
            span,
            message: format!("{info}: YAML indentation must be spaces"),
            stopped: None,
            cause_label: Some("this tab".into()),
        }
    } else {
        match b.open_flow_collection() {
            // A flow collection still open when the parser fails at the end, or on a later
            // line, is almost always the cause: the user forgot its closing bracket.
            Some((open, bracket))
                if at_end
                    || mentions_flow_end(&info)
                    || b.text[open..at.min(b.text.len())].contains('\n') =>
            {
                YamlProblem::Syntax {
                    span: Span::new(open, open + 1),
                    message: format!("unclosed `{bracket}`: {info}"),
                    stopped: Some(stopped),
                    cause_label: Some(format!("this `{bracket}` is never closed")),
                }
            }
            _ => YamlProblem::Syntax {
                span: stopped,
                message: info,
                stopped: None,
                cause_label: None,
            },
        }
    };
    out.problems.push(problem);
    at
}

/// The tab saphyr complains about. It reports a tab in indentation at the character after
/// it, and a tab that indents the next line at the start of the scalar before it.
fn tab_before(text: &str, at: usize) -> Option<usize> {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at];
    if before.trim_start_matches([' ', '\t']).is_empty()
        && let Some(i) = before.find('\t')
    {
        return Some(line_start + i);
    }
    // The rest of this line and the next one.
    let rest = &text[at..];
    let window = rest
        .match_indices('\n')
        .nth(1)
        .map_or(rest, |(i, _)| &rest[..i]);
    if let Some(i) = window.find('\t') {
        return Some(at + i);
    }
    before.rfind('\t').map(|i| line_start + i)
}

fn mentions_flow_end(info: &str) -> bool {
    info.contains("flow")
        || info.contains("']'")
        || info.contains("'}'")
        || info.contains("end of stream")
        || info.contains("unexpected eof")
}

/// The end of a quoted scalar: just past its closing quote. saphyr's span for a quoted scalar
/// runs on over trailing blanks and a `# comment`, which would underline the comment too.
fn quoted_end(text: &str, start: usize, end: usize, style: ScalarStyle) -> usize {
    let quote = match style {
        ScalarStyle::DoubleQuoted => b'"',
        ScalarStyle::SingleQuoted => b'\'',
        _ => return end,
    };
    let bytes = text.as_bytes();
    let stop = end.min(bytes.len());
    if bytes.get(start) != Some(&quote) {
        return end;
    }
    let mut i = start + 1;
    while i < stop {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    end
}

fn next_char_end(text: &str, at: usize) -> usize {
    match text[at.min(text.len())..].chars().next() {
        Some('\n') | Some('\r') | None => at,
        Some(c) => at + c.len_utf8(),
    }
}

/// The start of the first line at or after the one holding `from`, and after `base`, that
/// opens a new document (`---`).
fn next_document_marker(text: &str, base: usize, from: usize) -> Option<usize> {
    let from = from.min(text.len());
    let mut pos = text[..from].rfind('\n').map(|i| i + 1).unwrap_or(0);
    while pos < text.len() {
        if pos <= base {
            pos += text[pos..].find('\n')? + 1;
            continue;
        }
        let rest = &text[pos..];
        if rest.starts_with("---") {
            let after = rest.as_bytes().get(3);
            if matches!(after, None | Some(b' ' | b'\t' | b'\n' | b'\r')) {
                return Some(pos);
            }
        }
        pos += rest.find('\n')? + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(text: &str, span: Span) -> (usize, usize) {
        let f = crate::source::SourceFile::new("t", text.to_string());
        let p = f.line_col(span.start as usize);
        (p.line, p.column)
    }

    fn value_at(s: &ParsedStream, doc: usize, path: &[&str]) -> String {
        s.documents[doc]
            .root()
            .and_then(|r| r.str_at(path).map(str::to_string))
            .unwrap_or_else(|| panic!("no {path:?} in document {doc}"))
    }

    /// Each text still gives a syntax error: what a repair must not accept.
    fn assert_syntax_errors(texts: &[&str]) {
        for text in texts {
            let s = parse_stream(text);
            assert!(
                s.problems
                    .iter()
                    .any(|p| matches!(p, YamlProblem::Syntax { .. })),
                "{text:?}: {:?}",
                s.problems
            );
        }
    }

    #[test]
    fn quoted_continuation_at_the_key_indentation_reads_as_go_yaml_does() {
        let text = "a: 1\n---\nspec:\n  description: 'first line\n  second  line'\n  plain: x\n  dq: \"a\\\n  b\n\n  c\"\nlast: 'l1\nl2'\n";
        let s = parse_stream(text);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.documents.len(), 2);
        assert_eq!(
            value_at(&s, 1, &["spec", "description"]),
            "first line second  line"
        );
        assert_eq!(value_at(&s, 1, &["spec", "plain"]), "x");
        assert_eq!(value_at(&s, 1, &["spec", "dq"]), "ab\nc");
        assert_eq!(value_at(&s, 1, &["last"]), "l1 l2");
        let spec = s.documents[1]
            .root()
            .unwrap()
            .path(&["spec", "plain"])
            .unwrap();
        assert_eq!(lc(text, spec.span()), (6, 10));
    }

    /// go-yaml v3 checks no indentation inside a flow collection (yaml-test-suite VJP3 is
    /// an error for strict parsers and saphyr, not for libyaml and go-yaml): a closing bracket
    /// or an item under the key reads as go-yaml reads it, with the right positions.
    #[test]
    fn flow_collection_closed_at_the_key_indentation_reads_as_go_yaml_does() {
        let text = "spec:\n  args: [\n    \"--auth\", 'none',\n  \"/config\"\n  ]\n  env: {\n  A: 1 }\n  next: x\n";
        let s = parse_stream(text);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let root = s.documents[0].root().unwrap();
        let args: Vec<String> = root
            .path(&["spec", "args"])
            .unwrap()
            .items()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect();
        assert_eq!(args, ["--auth", "none", "/config"]);
        assert_eq!(value_at(&s, 0, &["spec", "env", "A"]), "1");
        assert_eq!(value_at(&s, 0, &["spec", "next"]), "x");
        let config = root.path(&["spec", "args"]).unwrap().items()[2].span();
        assert_eq!(lc(text, config), (4, 3));
        // A comment inside, on its own line or after an item, is blanked with the lines
        // it would otherwise swallow (Ramblurr/home-ops: `# "--dry-run",` in `args: [`).
        let text = "a:\n  b: [\n  1, # one\n  # \"c\",\n  2\n  ]\n  c: x\n";
        let s = parse_stream(text);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let b = s.documents[0].root().unwrap().path(&["a", "b"]).unwrap();
        let items: Vec<_> = b.items().iter().map(|n| n.as_str().unwrap()).collect();
        assert_eq!(items, ["1", "2"]);
        assert_eq!(lc(text, b.items()[1].span()), (5, 3));
        assert_eq!(value_at(&s, 0, &["a", "c"]), "x");
        // A plain scalar before a comment line is not joined (conservative), and an
        // unclosed bracket stays an error.
        assert_syntax_errors(&["a:\n  b: [\n  1\n  # c\n  ]\n", "a:\n  b: [\n  1,\n"]);
    }

    #[test]
    fn an_alias_key_without_a_space_before_its_colon_reads_as_go_yaml_does() {
        // go-yaml v3 ends an alias name at `:` (rafaribe/home-ops, tyzbit/fleet-infra:
        // bjw-s' app-template `controllers: {*app: ...}`); saphyr took `app:` for the name.
        let text = "metadata:\n  name: &app web\nspec:\n  controllers:\n    *app:\n      replicas: 1\n  other: *app\n";
        let s = parse_stream(text);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let root = s.documents[0].root().unwrap();
        let controllers = root.path(&["spec", "controllers"]).unwrap();
        let (key, value) = controllers.entries()[0];
        assert_eq!(key.as_str(), Some("web"));
        assert_eq!(value.str_at(&["replicas"]), Some("1"));
        // An alias is its anchor's node.
        assert_eq!(lc(text, key.span()), (2, 9));
        assert_eq!(value_at(&s, 0, &["spec", "other"]), "web");
        // An alias of an undefined anchor, a one-letter name, or a shorter name already
        // taken stay errors.
        assert_syntax_errors(&[
            "m:\n  *app:\n    b: 1\n",
            "a: &x 1\nm:\n  *x:\n    b: 1\n",
            "a: &ap 1\nc: &app 2\nm:\n  *app:\n    b: 1\n",
        ]);
    }

    /// go-yaml v3 (as libyaml) reads a block scalar header alone on the line after its key,
    /// at the key's column, as that key's value; saphyr rejects it. The value and the
    /// positions are go-yaml's; a header left of the key stays an error.
    #[test]
    fn a_block_header_under_its_key_reads_as_go_yaml_does() {
        let text = "data:\n  a.conf:\n  |\n    x true\n    y\n  b: >- # folded\n    z\n  list:\n  - k:\n    |2\n       indented\n  c: d\n";
        let s = parse_stream(text);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(value_at(&s, 0, &["data", "a.conf"]), "x true\ny\n");
        assert_eq!(value_at(&s, 0, &["data", "b"]), "z");
        assert_eq!(value_at(&s, 0, &["data", "c"]), "d");
        let root = s.documents[0].root().unwrap();
        let item = root.path(&["data", "list"]).unwrap().items()[0];
        assert_eq!(item.str_at(&["k"]), Some(" indented\n"));
        let conf = root.path(&["data", "a.conf"]).unwrap();
        assert_eq!(lc(text, conf.span()), (4, 5));
        let left = parse_stream("data:\n  a.conf:\n|\n    x\n");
        assert_eq!(left.problems.len(), 1, "{:?}", left.problems);
    }

    /// go-yaml v3 (as libyaml) skips a comment right after a quoted scalar, a flow
    /// collection or a block scalar header with no white space before it (`"TCP"# why`);
    /// saphyr rejects it. Values and positions are go-yaml's; after an anchor, an alias or a
    /// tag go-yaml rejects it too.
    #[test]
    fn a_comment_right_after_a_token_reads_as_go_yaml_does() {
        let text = "ports:\n- port: \"9443\"\n  protocol: \"TCP\"# Rule: é\n  q: 'x'#\n  l: [a, b]#c\n  m: {k: v}# c\n  f: >-# folded\n    z\n  k: |2-# kept\n     y\n  after: \"a#b\"\n";
        let s = parse_stream(text);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let root = s.documents[0].root().unwrap();
        let port = root.get("ports").unwrap().items()[0];
        assert_eq!(port.str_at(&["protocol"]), Some("TCP"));
        assert_eq!(port.str_at(&["q"]), Some("x"));
        assert_eq!(port.path(&["l"]).unwrap().items().len(), 2);
        assert_eq!(port.str_at(&["m", "k"]), Some("v"));
        assert_eq!(port.str_at(&["f"]), Some("z"));
        assert_eq!(port.str_at(&["k"]), Some(" y"));
        assert_eq!(port.str_at(&["after"]), Some("a#b"));
        assert_eq!(lc(text, port.path(&["after"]).unwrap().span()), (11, 10));
        // A plain scalar keeps its `#` (no repair needed), and an anchor, an alias or a tag
        // followed by `#` stay errors as in go-yaml.
        let plain = parse_stream("a: b#c\n");
        assert!(plain.problems.is_empty(), "{:?}", plain.problems);
        assert_eq!(value_at(&plain, 0, &["a"]), "b#c");
        assert_syntax_errors(&["a: &x# c\n  b: 1\n", "a: \"x\"#\u{e9}\n"]);
    }

    /// A `data:` map of `n` entries, entry `i` written by `entry(i)`, parsed.
    fn data_of(n: usize, entry: impl Fn(usize) -> String) -> ParsedStream {
        let mut t = String::from("data:\n");
        for i in 0..n {
            t.push_str(&entry(i));
        }
        parse_stream(&t)
    }

    /// Each header repair parses the document again: past [`HEADER_REPAIR_LIMIT`] the
    /// error stands, so a file of thousands stays fast.
    #[test]
    fn block_header_repairs_are_bounded() {
        let file = |n| data_of(n, |i| format!("  k{i}:\n  |\n    v{i}\n"));
        let within = file(HEADER_REPAIR_LIMIT);
        assert!(within.problems.is_empty(), "{:?}", within.problems);
        assert_eq!(value_at(&within, 0, &["data", "k0"]), "v0\n");
        assert_eq!(file(HEADER_REPAIR_LIMIT + 1).problems.len(), 1);
    }

    /// Each flow collection joined parses the document again: past the limit the error stands,
    /// so a file of thousands stays fast.
    #[test]
    fn flow_repairs_are_bounded() {
        let flows = |n| data_of(n, |i| format!("  k{i}: [a,\n  b]\n"));
        let within = flows(FLOW_AND_ALIAS_REPAIR_LIMIT);
        assert!(within.problems.is_empty(), "{:?}", within.problems);
        assert_eq!(flows(FLOW_AND_ALIAS_REPAIR_LIMIT + 1).problems.len(), 1);
    }

    #[test]
    fn quoted_scalars_go_yaml_rejects_stay_errors() {
        assert_syntax_errors(&[
            "a:\n  b: 'never closed\n  c: d\n",
            "a:\n  b: \"bad \\q escape\n  c\"\n",
            "a: 'x\n---\ny'\n",
        ]);
    }

    #[test]
    fn builds_documents_and_spans() {
        let t = "a: 1\nb:\n  - x\n  - 'y'\n---\nc: é\n";
        let s = parse_stream(t);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.documents.len(), 2);
        let r = s.documents[0].root().unwrap();
        let y = r.get("b").unwrap().items()[1];
        assert_eq!(y.as_str(), Some("y"));
        assert_eq!(lc(t, y.span()), (4, 5));
        assert_eq!(&t[y.span().range()], "'y'");
        let c = s.documents[1].root().unwrap().get("c").unwrap();
        assert_eq!(&t[c.span().range()], "é");
    }

    #[test]
    fn quoted_scalar_span_stops_at_the_closing_quote() {
        let t = "a: \"1.x\"   # note\nb: 'it''s' # c\nc: \"x\\\"y\" #\nd: \"1.0\"\n";
        let s = parse_stream(t);
        let r = s.documents[0].root().unwrap();
        let text = |k: &str| &t[r.get(k).unwrap().span().range()];
        assert_eq!(text("a"), "\"1.x\"");
        assert_eq!(text("b"), "'it''s'");
        assert_eq!(text("c"), "\"x\\\"y\"");
        assert_eq!(text("d"), "\"1.0\"");
    }

    #[test]
    fn duplicate_keys_report_both_places() {
        let t = "a: 1\nb: 2\na: 3\n";
        let s = parse_stream(t);
        match &s.problems[..] {
            [YamlProblem::DuplicateKey { key, first, second }] => {
                assert_eq!(key, "a");
                assert_eq!(lc(t, *first), (1, 1));
                assert_eq!(lc(t, *second), (3, 1));
            }
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn error_keeps_earlier_documents_and_resumes() {
        let t = "a: 1\n---\nb: [1, 2\n---\nc: 3\n---\nd: {\n";
        let s = parse_stream(t);
        let docs: Vec<_> = s.documents.iter().map(|d| d.index).collect();
        assert_eq!(docs, vec![0, 2]);
        assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
        match &s.problems[0] {
            YamlProblem::Syntax { span, .. } => assert_eq!(lc(t, *span), (3, 4)),
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn merge_keys_and_aliases() {
        let t = "base: &b\n  x: 1\nm:\n  <<: *b\n  y: 2\n";
        let s = parse_stream(t);
        let m = s.documents[0].root().unwrap().get("m").unwrap();
        assert_eq!(m.get("x").unwrap().as_str(), Some("1"));
        assert_eq!(m.entries().len(), 2);
    }

    #[test]
    fn tab_error_without_a_tab_nearby_keeps_char_boundaries() {
        // Found by fuzz/run.sh: the span fell inside `ſ`.
        let t = "\n: [1,[1,ſ:1|1\n\n\tc* ";
        for p in parse_stream(t).problems {
            if let YamlProblem::Syntax { span, .. } = p {
                assert!(t.is_char_boundary(span.start as usize));
                assert!(t.is_char_boundary(span.end as usize));
            }
        }
    }

    #[test]
    fn billion_laughs_is_a_problem_not_a_hang() {
        let mut t = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let mut prev = 'a';
        for c in 'b'..='j' {
            t.push_str(&format!("{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = c;
        }
        let s = parse_stream(&t);
        assert!(matches!(s.problems[..], [YamlProblem::AliasBomb { .. }]));
    }
}
