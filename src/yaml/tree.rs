//! The spanned YAML tree the rules read. Nodes live in one arena per document, so an alias is a
//! reference to its anchor's node rather than a copy: a "billion laughs" file costs its own size.

use std::collections::HashSet;

use crate::source::Span;

pub type NodeId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// What a node is, borrowed from its document.
#[derive(Clone, Copy, Debug)]
pub enum Kind<'a> {
    Scalar {
        value: &'a str,
        style: Style,
    },
    Mapping(&'a [(NodeId, NodeId)]),
    Sequence(&'a [NodeId]),
    /// Points at the anchored node.
    Alias(NodeId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawKind {
    Scalar,
    Mapping,
    Sequence,
    Alias,
}

/// One node in 16 bytes: its children, tag and (when it differs from the source) its scalar
/// text live in per-document arrays, so a document is a handful of allocations however many
/// nodes it has. Every fresh page the trees take costs the kernel a zeroing, which made the
/// trees' size a visible share of a run.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    pub span: Span,
    /// Scalar: byte offset of its text in the source or in the document's strings; mapping:
    /// first entry in the pairs; sequence: first item; alias: the target.
    pub(crate) start: u32,
    /// The length in the low [`LEN_BITS`], then the kind, the style and whether the scalar's
    /// text is the source's own bytes.
    bits: u32,
}

const LEN_BITS: u32 = 26;
const LEN_MASK: u32 = (1 << LEN_BITS) - 1;
const IN_SOURCE: u32 = 1 << 31;

impl Node {
    pub(crate) fn new(
        span: Span,
        kind: RawKind,
        style: Style,
        start: u32,
        len: usize,
        in_source: bool,
    ) -> Node {
        // Files over 32 MiB are never parsed, so no length reaches the mask.
        let len = (len as u32).min(LEN_MASK);
        let bits = len
            | (kind as u32) << LEN_BITS
            | (style as u32) << (LEN_BITS + 2)
            | if in_source { IN_SOURCE } else { 0 };
        Node { span, start, bits }
    }
    #[inline]
    pub(crate) fn kind(&self) -> RawKind {
        match (self.bits >> LEN_BITS) & 3 {
            0 => RawKind::Scalar,
            1 => RawKind::Mapping,
            2 => RawKind::Sequence,
            _ => RawKind::Alias,
        }
    }
    #[inline]
    pub(crate) fn style(&self) -> Style {
        match (self.bits >> (LEN_BITS + 2)) & 7 {
            0 => Style::Plain,
            1 => Style::SingleQuoted,
            2 => Style::DoubleQuoted,
            3 => Style::Literal,
            _ => Style::Folded,
        }
    }
    #[inline]
    pub(crate) fn len(&self) -> u32 {
        self.bits & LEN_MASK
    }
    /// A scalar's text: its bytes in the file's `source`, or its cooked copy in `strings`.
    #[inline]
    pub(crate) fn text<'s>(&self, source: &'s str, strings: &'s str) -> &'s str {
        let range = self.start as usize..self.start as usize + self.len() as usize;
        let within = if self.bits & IN_SOURCE != 0 {
            source
        } else {
            strings
        };
        within.get(range).unwrap_or("")
    }
}

#[derive(Clone, Debug, Default)]
pub struct Document {
    /// 0-based position of the document in its file's stream.
    pub index: usize,
    pub span: Span,
    pub nodes: Box<[Node]>,
    pub(crate) pairs: Box<[(NodeId, NodeId)]>,
    pub(crate) items: Box<[NodeId]>,
    /// Scalar texts that differ from their source bytes (escapes, folding, block scalars).
    pub(crate) strings: Box<str>,
    /// The file's text, which most scalars are read from in place.
    pub(crate) source: std::sync::Arc<str>,
    /// (node, tag as written), by node.
    pub(crate) tags: Box<[(NodeId, Box<str>)]>,
    pub root: Option<NodeId>,
}

/// Merge keys (`<<`) nest at most this deep; deeper chains are ignored rather than followed.
const MERGE_DEPTH: usize = 16;

impl Document {
    /// Whether the document's text holds `${`: Flux's post-build substitution may change it,
    /// so FV408 reads it after the document rules.
    pub fn uses_substitution(&self) -> bool {
        self.source
            .get(self.span.range())
            .is_some_and(|t| t.contains("${"))
    }

    pub fn root(&self) -> Option<NodeRef<'_>> {
        self.root.map(|id| NodeRef { doc: self, id }.resolve())
    }
    #[inline]
    pub fn node(&self, id: NodeId) -> NodeRef<'_> {
        NodeRef { doc: self, id }.resolve()
    }
    /// The node's own kind, an alias not followed.
    pub fn kind_of(&self, id: NodeId) -> Kind<'_> {
        match self.nodes.get(id as usize) {
            Some(n) => self.kind_of_node(n),
            None => Kind::Scalar {
                value: "",
                style: Style::Plain,
            },
        }
    }
    #[inline]
    pub(crate) fn kind_of_node(&self, n: &Node) -> Kind<'_> {
        let range = n.start as usize..(n.start as usize + n.len() as usize);
        match n.kind() {
            RawKind::Scalar => Kind::Scalar {
                value: n.text(&self.source, &self.strings),
                style: n.style(),
            },
            RawKind::Mapping => Kind::Mapping(self.pairs.get(range).unwrap_or(&[])),
            RawKind::Sequence => Kind::Sequence(self.items.get(range).unwrap_or(&[])),
            RawKind::Alias => Kind::Alias(n.start),
        }
    }
    /// The node's own tag as written, an alias not followed.
    pub fn tag_of(&self, id: NodeId) -> Option<&str> {
        let i = self.tags.binary_search_by_key(&id, |(n, _)| *n).ok()?;
        Some(&self.tags[i].1)
    }
    /// Frees the tree and keeps the document's place and span: for a document nothing after
    /// the document rules reads, so a run does not hold every tree to its end.
    pub fn release_tree(&mut self) {
        *self = Document {
            index: self.index,
            span: self.span,
            ..Document::default()
        };
    }
    /// True when the document holds nothing but comments or an empty/null scalar.
    pub fn is_empty(&self) -> bool {
        match self.root() {
            None => true,
            Some(r) => r.is_null(),
        }
    }
}

/// A node together with its document, so accessors can follow aliases and merge keys.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    pub doc: &'a Document,
    pub id: NodeId,
}

impl<'a> NodeRef<'a> {
    #[inline]
    fn raw(&self) -> &'a Node {
        // An id outside the arena (a released tree) reads as an empty plain scalar: null.
        const NULL: Node = Node {
            span: Span { start: 0, end: 0 },
            start: 0,
            bits: 0,
        };
        self.doc.nodes.get(self.id as usize).unwrap_or(&NULL)
    }
    #[inline]
    fn resolve(self) -> NodeRef<'a> {
        let mut cur = self;
        // Aliases always point at earlier, completed nodes, so this terminates; the bound is
        // a guard against a malformed arena.
        for _ in 0..64 {
            let n = cur.raw();
            match n.kind() {
                RawKind::Alias => {
                    let t = n.start;
                    cur = NodeRef {
                        doc: cur.doc,
                        id: t,
                    }
                }
                _ => return cur,
            }
        }
        cur
    }
    pub fn node(&self) -> &'a Node {
        self.raw()
    }
    #[inline]
    pub fn kind(&self) -> Kind<'a> {
        self.doc.kind_of_node(self.raw())
    }
    pub fn span(&self) -> Span {
        self.raw().span
    }
    pub fn tag(&self) -> Option<&'a str> {
        self.doc.tag_of(self.id)
    }
    #[inline]
    pub fn scalar(&self) -> Option<(&'a str, Style)> {
        match self.kind() {
            Kind::Scalar { value, style } => Some((value, style)),
            _ => None,
        }
    }
    /// The scalar's text, whatever its YAML type.
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        self.scalar().map(|(v, _)| v)
    }
    #[inline]
    pub fn style(&self) -> Option<Style> {
        self.scalar().map(|(_, s)| s)
    }
    #[inline]
    pub fn is_plain(&self) -> bool {
        self.style() == Some(Style::Plain)
    }
    /// Whether YAML reads the scalar as a string (quoted, block, `!!str`, or a plain scalar
    /// that is not null, a bool or a number under YAML 1.1 or 1.2).
    pub fn is_string(&self) -> bool {
        match self.scalar() {
            Some((v, Style::Plain)) => {
                if self.tag() == Some("!!str") {
                    return true;
                }
                !crate::yaml::scalar::is_non_string_plain(v)
            }
            Some(_) => true,
            None => false,
        }
    }
    pub fn is_null(&self) -> bool {
        match self.scalar() {
            Some((v, Style::Plain)) => matches!(v, "" | "~" | "null" | "Null" | "NULL"),
            _ => false,
        }
    }
    pub fn is_mapping(&self) -> bool {
        matches!(self.kind(), Kind::Mapping(_))
    }
    pub fn is_sequence(&self) -> bool {
        matches!(self.kind(), Kind::Sequence(_))
    }

    /// Every entry of a mapping as written, duplicates included and merge keys not expanded.
    pub fn raw_entries(&self) -> Vec<(NodeRef<'a>, NodeRef<'a>)> {
        match self.kind() {
            Kind::Mapping(entries) => entries
                .iter()
                .map(|&(k, v)| (self.doc.node(k), self.doc.node(v)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Entries of a mapping in source order, merge keys expanded after the explicit entries
    /// (explicit keys win, as in YAML's merge-key spec).
    pub fn entries(&self) -> Vec<(NodeRef<'a>, NodeRef<'a>)> {
        if let Some(out) = self.small_entries() {
            return out;
        }
        let mut out = Vec::new();
        self.collect_entries(&mut out, &mut HashSet::new(), 0);
        out
    }

    /// [`NodeRef::entries`] of a mapping of at most 16 keys and no merge key (most of them):
    /// duplicates found by comparing with the keys kept so far, not by hashing every key (a
    /// build asks this of every mapping it renders). `None` for any other mapping.
    fn small_entries(&self) -> Option<Vec<(NodeRef<'a>, NodeRef<'a>)>> {
        const SMALL: usize = 16;
        let Kind::Mapping(entries) = self.kind() else {
            return None;
        };
        if entries.len() > SMALL {
            return None;
        }
        let mut out = Vec::with_capacity(entries.len());
        let mut seen: [&str; SMALL] = [""; SMALL];
        let mut kept = 0;
        for &(k, v) in entries {
            let k = self.doc.node(k);
            let key = k.as_str();
            if key == Some("<<") && k.is_plain() {
                return None;
            }
            match key {
                Some(s) if seen[..kept].contains(&s) => {}
                Some(s) => {
                    seen[kept] = s;
                    kept += 1;
                    out.push((k, self.doc.node(v)));
                }
                None => out.push((k, self.doc.node(v))),
            }
        }
        Some(out)
    }

    fn collect_entries(
        &self,
        out: &mut Vec<(NodeRef<'a>, NodeRef<'a>)>,
        seen: &mut HashSet<&'a str>,
        depth: usize,
    ) {
        let Kind::Mapping(entries) = self.kind() else {
            return;
        };
        let mut merges = Vec::new();
        for &(k, v) in entries {
            let k = self.doc.node(k);
            let v = self.doc.node(v);
            if k.is_plain() && k.as_str() == Some("<<") {
                merges.push(v);
                continue;
            }
            // A hash set, not a scan of `out`, so a mapping of 200,000 keys stays linear.
            match k.as_str() {
                Some(s) if !seen.insert(s) => {}
                _ => out.push((k, v)),
            }
        }
        if depth >= MERGE_DEPTH {
            return;
        }
        for m in merges {
            match m.kind() {
                Kind::Mapping(_) => m.collect_entries(out, seen, depth + 1),
                Kind::Sequence(items) => {
                    for &i in items {
                        self.doc.node(i).collect_entries(out, seen, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    /// The entry for `key` (key node and value node), following merge keys.
    pub fn entry(&self, key: &str) -> Option<(NodeRef<'a>, NodeRef<'a>)> {
        self.entry_at(key, 0)
    }

    fn entry_at(&self, key: &str, depth: usize) -> Option<(NodeRef<'a>, NodeRef<'a>)> {
        let Kind::Mapping(entries) = self.kind() else {
            return None;
        };
        let doc = self.doc;
        let mut merged = None;
        for &(k, v) in entries {
            let Some(n) = doc.nodes.get(k as usize) else {
                continue;
            };
            // Keys are almost always scalars, read in place; an aliased key is resolved first.
            let (kr, text, plain) = if n.kind() == RawKind::Scalar {
                let text = n.text(&doc.source, &doc.strings);
                (NodeRef { doc, id: k }, text, n.style() == Style::Plain)
            } else {
                let kr = doc.node(k);
                match kr.scalar() {
                    Some((text, style)) => (kr, text, style == Style::Plain),
                    None => continue,
                }
            };
            if text == key {
                return Some((kr, doc.node(v)));
            }
            if text == "<<" && plain && merged.is_none() && depth < MERGE_DEPTH {
                merged = Some(doc.node(v));
            }
        }
        let m = merged?;
        match m.kind() {
            Kind::Mapping(_) => m.entry_at(key, depth + 1),
            Kind::Sequence(items) => items
                .iter()
                .find_map(|&i| self.doc.node(i).entry_at(key, depth + 1)),
            _ => None,
        }
    }

    #[inline]
    pub fn get(&self, key: &str) -> Option<NodeRef<'a>> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<NodeRef<'a>> {
        let mut cur = *self;
        for k in keys {
            cur = cur.get(k)?;
        }
        Some(cur)
    }

    /// The string at a path of keys, when it is a scalar.
    pub fn str_at(&self, keys: &[&str]) -> Option<&'a str> {
        self.path(keys).and_then(|n| n.as_str())
    }

    pub fn items(&self) -> Vec<NodeRef<'a>> {
        match self.kind() {
            Kind::Sequence(items) => items.iter().map(|&i| self.doc.node(i)).collect(),
            _ => Vec::new(),
        }
    }
}
