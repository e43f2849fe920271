//! The rendered value tree: what a kustomize build produces, every node carrying the place in the
//! repository that set it (a patched value points at the patch line, a generated name at the
//! generator entry), so a finding on a rendered object can be shown where a person edits it;
//! and `RenderedObject`, one object of the build: its identity and its tree.

use serde_json::{Map, Value as Json, json};

use crate::source::Span;
use crate::yaml::{Kind, NodeRef, Style};

/// Where a rendered value came from: a file of the repository and the span of the source node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    pub file: u32,
    pub span: Span,
}

impl Origin {
    /// No place in the repository (a value fluxvet made up, e.g. in a test).
    pub const NONE: Origin = Origin {
        file: u32::MAX,
        span: Span { start: 0, end: 0 },
    };
    pub fn new(file: usize, span: Span) -> Origin {
        Origin {
            file: file as u32,
            span,
        }
    }
    pub fn is_none(&self) -> bool {
        self.file == u32::MAX
    }
}

/// A scalar's type as go-yaml v3 (kyaml, what kustomize and Flux decode with) resolves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarType {
    Str,
    Int,
    Float,
    Bool,
    Null,
}

/// The text of a key or scalar: up to 23 bytes inline, longer ones shared. Most keys and values
/// of Kubernetes objects are short, and a build clones and converts hundreds of thousands of
/// them: inline, neither costs an allocation.
pub type Text = smol_str::SmolStr;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Keys in order; a key appears once.
    Map(Vec<(Text, Node)>),
    Seq(Vec<Node>),
    Scalar(Text, ScalarType),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub origin: Origin,
}

impl Node {
    pub fn map(origin: Origin) -> Node {
        Node {
            value: Value::Map(Vec::new()),
            origin,
        }
    }
    pub fn string(text: impl Into<Text>, origin: Origin) -> Node {
        Node {
            value: Value::Scalar(text.into(), ScalarType::Str),
            origin,
        }
    }
    pub fn int(n: i64, origin: Origin) -> Node {
        Node {
            value: Value::Scalar(n.to_string().into(), ScalarType::Int),
            origin,
        }
    }
    pub fn null(origin: Origin) -> Node {
        Node {
            value: Value::Scalar("null".into(), ScalarType::Null),
            origin,
        }
    }
    /// Converts a parsed YAML node (aliases and merge keys followed) of file `file`.
    pub fn from_yaml(n: NodeRef<'_>, file: usize) -> Node {
        Node::from_yaml_mapped(n, &|s| Origin::new(file, s))
    }
    /// As [`Node::from_yaml`], with each span mapped to its origin by `origin` (an inline patch
    /// parsed from a block scalar maps its spans back into the kustomization file).
    pub fn from_yaml_mapped(n: NodeRef<'_>, origin: &dyn Fn(Span) -> Origin) -> Node {
        Node::convert(n, origin, 0)
    }
    fn convert(n: NodeRef<'_>, origin: &dyn Fn(Span) -> Origin, depth: usize) -> Node {
        let o = origin(n.span());
        if depth > 200 {
            return Node::null(o);
        }
        let value = match n.kind() {
            Kind::Scalar { value, style } => {
                let ty = resolve(value, style, n.tag());
                let span = n.span();
                let folded = (style == Style::Folded)
                    .then(|| {
                        super::folded::go_yaml_folded(
                            &n.doc.source,
                            span.start as usize,
                            span.end as usize,
                        )
                    })
                    .flatten();
                match folded {
                    Some(text) => Value::Scalar(text.into(), ty),
                    None => Value::Scalar(value.into(), ty),
                }
            }
            Kind::Mapping(_) => {
                let entries = n.entries();
                let mut out: Vec<(Text, Node)> = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = Text::new(k.as_str().unwrap_or(""));
                    let v = Node::convert(v, origin, depth + 1);
                    // `entries` keeps one entry per string key: only the keys that are no
                    // string (read as "") can meet a key already converted.
                    let slot = if key.is_empty() {
                        out.iter_mut().find(|(x, _)| x.is_empty())
                    } else {
                        None
                    };
                    match slot {
                        Some(slot) => slot.1 = v,
                        None => out.push((key, v)),
                    }
                }
                Value::Map(out)
            }
            Kind::Sequence(_) => Value::Seq(
                n.items()
                    .into_iter()
                    .map(|i| Node::convert(i, origin, depth + 1))
                    .collect(),
            ),
            Kind::Alias(_) => Value::Scalar("null".into(), ScalarType::Null),
        };
        Node { value, origin: o }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.value {
            Value::Map(m) => m.iter_mut().find(|(k, _)| &**k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }
    pub fn path_mut(&mut self, keys: &[&str]) -> Option<&mut Node> {
        let mut cur = self;
        for k in keys {
            cur = cur.get_mut(k)?;
        }
        Some(cur)
    }
    /// The text of a scalar, whatever its type.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }
    pub fn str_at(&self, keys: &[&str]) -> Option<&str> {
        self.path(keys).and_then(Node::as_str)
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Scalar(_, ScalarType::Null))
    }
    pub fn entries(&self) -> &[(Text, Node)] {
        match &self.value {
            Value::Map(m) => m,
            _ => &[],
        }
    }
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }
    pub fn items_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }
    pub fn entries_mut(&mut self) -> Option<&mut Vec<(Text, Node)>> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    /// Sets `key` (appended when new) and returns the value now there.
    pub fn set(&mut self, key: &str, value: Node) -> &mut Node {
        if !matches!(self.value, Value::Map(_)) {
            self.value = Value::Map(Vec::new());
        }
        let Value::Map(m) = &mut self.value else {
            unreachable!()
        };
        match m.iter().position(|(k, _)| &**k == key) {
            Some(i) => {
                m[i].1 = value;
                &mut m[i].1
            }
            None => {
                m.push((key.into(), value));
                &mut m.last_mut().expect("just pushed").1
            }
        }
    }
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let m = self.entries_mut()?;
        let i = m.iter().position(|(k, _)| &**k == key)?;
        Some(m.remove(i).1)
    }
    /// The mapping at `key`, created (with `origin`) when missing or not a mapping.
    pub fn ensure_map(&mut self, key: &str, origin: Origin) -> &mut Node {
        let is_map = matches!(
            self.get(key),
            Some(Node {
                value: Value::Map(_),
                ..
            })
        );
        if !is_map {
            self.set(key, Node::map(origin));
        }
        self.get_mut(key).expect("set above")
    }
    /// Every origin in the tree, with a JSON pointer to its node (for `--format json`).
    pub fn walk_origins(&self, pointer: &mut String, f: &mut dyn FnMut(&str, Origin)) {
        f(pointer, self.origin);
        let len = pointer.len();
        match &self.value {
            Value::Map(m) => {
                for (k, v) in m {
                    pointer.push('/');
                    pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    v.walk_origins(pointer, f);
                    pointer.truncate(len);
                }
            }
            Value::Seq(s) => {
                for (i, v) in s.iter().enumerate() {
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    v.walk_origins(pointer, f);
                    pointer.truncate(len);
                }
            }
            Value::Scalar(..) => {}
        }
    }
    /// Points every node of the tree at `origin` (a value copied by a replacement or made by a
    /// generator is set there, not where its text was first written).
    pub fn set_origin_deep(&mut self, origin: Origin) {
        self.origin = origin;
        match &mut self.value {
            Value::Map(m) => m.iter_mut().for_each(|(_, v)| v.set_origin_deep(origin)),
            Value::Seq(s) => s.iter_mut().for_each(|v| v.set_origin_deep(origin)),
            Value::Scalar(..) => {}
        }
    }
}

/// The type go-yaml v3 gives a scalar: quoted and block scalars are strings; a plain scalar is
/// null, a bool (`true`/`false` only: `yes` and `on` stay strings) or a number as its resolver
/// reads it (Go's `ParseInt(s, 0, 64)` after removing `_`, so `0755` is an octal int and `0x1F`
/// an int, then the float pattern); an explicit core tag wins.
pub fn resolve(text: &str, style: Style, tag: Option<&str>) -> ScalarType {
    match tag {
        Some("!!str") | Some("tag:yaml.org,2002:str") => return ScalarType::Str,
        Some("!!int") => return ScalarType::Int,
        Some("!!float") => return ScalarType::Float,
        Some("!!bool") => return ScalarType::Bool,
        Some("!!null") => return ScalarType::Null,
        _ => {}
    }
    if style != Style::Plain {
        return ScalarType::Str;
    }
    resolve_plain(text)
}

/// [`resolve`] for a plain scalar.
pub fn resolve_plain(text: &str) -> ScalarType {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarType::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return ScalarType::Bool,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return ScalarType::Float,
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return ScalarType::Str;
    }
    let plain: std::borrow::Cow<'_, str> = if text.contains('_') {
        text.chars()
            .filter(|&c| c != '_')
            .collect::<String>()
            .into()
    } else {
        text.into()
    };
    if go_parse_int(&plain) {
        return ScalarType::Int;
    }
    if is_yaml_float(&plain) {
        return ScalarType::Float;
    }
    ScalarType::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)` (or ParseUint) succeeding: sign, then `0x`/`0o`/`0b`, a
/// leading-`0` octal, or decimal digits.
fn go_parse_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (digits, radix) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (r, 16)
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (r, 8)
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (r, 2)
        } else if body.len() > 1 && body.starts_with('0') {
            (&body[1..], 8)
        } else {
            (body, 10)
        };
    !digits.is_empty()
        && digits.chars().all(|c| c.is_digit(radix))
        && u64::from_str_radix(digits, radix).is_ok()
}

/// go-yaml v3's float pattern `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match b.find(['e', 'E']) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
    match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && digits(frac),
        Some((int, frac)) => !int.is_empty() && digits(int) && digits(frac),
        None => !mantissa.is_empty() && digits(mantissa),
    }
}

/// One object the build produces: its identity and its tree.
#[derive(Clone, Debug)]
pub struct RenderedObject {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub root: Node,
    /// Earlier (namespace, name) ids, the original first: patches and references find an
    /// object by any of them, as kustomize does.
    pub history: Vec<(Option<String>, String)>,
    /// A generated ConfigMap or Secret whose name gets kustomize's hash suffix at the end.
    pub(crate) hash: Option<Origin>,
    /// A generated object: the generator's entry and kind (`ConfigMapGenerator`), for its
    /// origin annotation.
    pub(crate) generator: Option<(Origin, &'static str)>,
    /// A `transformers:` plugin fluxvet does not run may have renamed or moved it (such as a
    /// builtin NamespaceTransformer that names each copy of a shared Namespace): its id as
    /// read is not the one kustomize sees, so two such ids alike are no duplicate.
    pub(crate) id_unsure: bool,
}

impl RenderedObject {
    pub fn new(root: Node) -> RenderedObject {
        let mut o = RenderedObject {
            api_version: String::new(),
            kind: String::new(),
            namespace: None,
            name: String::new(),
            root,
            history: Vec::new(),
            hash: None,
            generator: None,
            id_unsure: false,
        };
        o.refresh();
        o
    }
    /// Re-reads the identity from the tree (after a transformer or a patch).
    pub fn refresh(&mut self) {
        let s = |p: &[&str]| self.root.str_at(p).unwrap_or("").to_string();
        self.api_version = s(&["apiVersion"]);
        self.kind = s(&["kind"]);
        self.name = s(&["metadata", "name"]);
        self.namespace = self
            .root
            .str_at(&["metadata", "namespace"])
            .filter(|n| !n.is_empty())
            .map(str::to_string);
    }
    /// Keeps the current id before a transformer renames or moves the object.
    pub(crate) fn remember_id(&mut self) {
        self.history
            .push((self.namespace.clone(), self.name.clone()));
    }
    /// The (namespace, name) the object was first written with.
    pub fn original(&self) -> (Option<String>, String) {
        self.history
            .first()
            .cloned()
            .unwrap_or_else(|| (self.namespace.clone(), self.name.clone()))
    }
    pub fn any_name(&self, name: &str) -> bool {
        self.name == name || self.history.iter().any(|(_, n)| n == name)
    }
    /// Every id the object has had, the current one last.
    pub fn ids(&self) -> impl Iterator<Item = (Option<&str>, &str)> {
        self.history
            .iter()
            .map(|(ns, n)| (ns.as_deref(), n.as_str()))
            .chain(std::iter::once((
                self.namespace.as_deref(),
                self.name.as_str(),
            )))
    }
    /// `Kind/namespace/name` (or `Kind/name`), for messages.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// A scalar as JSON: numbers, booleans and null by their resolved value.
pub fn scalar_json(text: &str, ty: ScalarType) -> Json {
    match ty {
        ScalarType::Str => Json::String(text.to_string()),
        ScalarType::Null => Json::Null,
        ScalarType::Bool => Json::Bool(text.eq_ignore_ascii_case("true")),
        ScalarType::Int => match go_int(text) {
            Some(i) => json!(i),
            None => Json::String(text.to_string()),
        },
        ScalarType::Float => match text.replace('_', "").parse::<f64>() {
            Ok(f) if f.is_finite() => json!(f),
            _ => Json::String(text.to_string()),
        },
    }
}

/// An int as go-yaml v3 reads it (`0x`, `0o`, `0b`, a leading-zero octal, `_` ignored).
pub fn go_int(text: &str) -> Option<i128> {
    let t: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let lower = body.to_ascii_lowercase();
    let v = if let Some(h) = lower.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()?
    } else if let Some(o) = lower.strip_prefix("0o") {
        i128::from_str_radix(o, 8).ok()?
    } else if let Some(b) = lower.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()?
    } else if lower.len() > 1 && lower.starts_with('0') {
        i128::from_str_radix(&lower[1..], 8).ok()?
    } else {
        lower.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

pub fn to_json(n: &Node) -> Json {
    match &n.value {
        Value::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.to_string(), to_json(v));
            }
            Json::Object(out)
        }
        Value::Seq(s) => Json::Array(s.iter().map(to_json).collect()),
        Value::Scalar(t, ty) => scalar_json(t, *ty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_yaml_v3_resolution() {
        for (t, ty) in [
            ("yes", ScalarType::Str),
            ("on", ScalarType::Str),
            ("true", ScalarType::Bool),
            ("0755", ScalarType::Int),
            ("089", ScalarType::Float),
            ("1.10", ScalarType::Float),
            ("1_000", ScalarType::Int),
            ("0x1F", ScalarType::Int),
            ("1.2.3", ScalarType::Str),
            ("~", ScalarType::Null),
            ("", ScalarType::Null),
            (".5", ScalarType::Float),
            ("1e3", ScalarType::Float),
            ("-", ScalarType::Str),
            ("1:20", ScalarType::Str),
            ("v1", ScalarType::Str),
        ] {
            assert_eq!(resolve_plain(t), ty, "{t}");
        }
        assert_eq!(
            resolve("3", Style::DoubleQuoted, None),
            ScalarType::Str,
            "quoted"
        );
        assert_eq!(resolve("3", Style::Plain, Some("!!str")), ScalarType::Str);
        assert_eq!(go_int("0755"), Some(493));
    }

    #[test]
    fn converts_with_origins() {
        let p = crate::yaml::parse_stream("a:\n  b: 1\n  c: [x, 'y']\n");
        let n = Node::from_yaml(p.documents[0].root().unwrap(), 7);
        let b = n.path(&["a", "b"]).unwrap();
        assert_eq!(b.value, Value::Scalar("1".into(), ScalarType::Int));
        assert_eq!(b.origin, Origin::new(7, Span::new(8, 9)));
        assert_eq!(n.path(&["a", "c"]).unwrap().items().len(), 2);
    }
}
