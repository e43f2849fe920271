//! `validate(schema, node)`: one YAML node against one schema node, as the API server would judge
//! the JSON that Flux sends it. Scalars are typed as go-yaml v3 (what kyaml, so Flux, decodes
//! with) types them. Over the YAML tree only, so it serves a parsed file and a rendered object
//! alike.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Additional, SchemaId, SchemaSet, ty};
use crate::source::Span;
use crate::yaml::{Kind, NodeRef, Style};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    Type,
    Enum,
    Pattern,
    Format,
    Bounds,
    Required,
    Unknown,
    Cel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// One problem, at the value (or the key, for an unknown field; the parent's key, for a missing
/// required field).
#[derive(Debug)]
pub struct Violation<'a> {
    pub span: Span,
    pub kind: ViolationKind,
    /// Where the problem is: for a missing field, the field's own path.
    pub path: Vec<Seg<'a>>,
    pub message: String,
    /// The field's description in its schema, shortened.
    pub description: Option<&'a str>,
}

impl Violation<'_> {
    /// `spec.values[1].name`.
    pub fn dotted(&self) -> String {
        dotted(&self.path)
    }
    /// The path's keys only, dot-joined (`spec.values.name`), as patches are indexed.
    pub fn keys(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            if let Seg::Key(k) = seg {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
        }
        s
    }
    /// Whether the path is `pattern`, with `[]` for any item.
    pub fn at(&self, pattern: &[&str]) -> bool {
        self.path.len() == pattern.len()
            && self.path.iter().zip(pattern).all(|(s, p)| match s {
                Seg::Key(k) => k == p,
                Seg::Index(_) => *p == "[]",
            })
    }
}

pub fn dotted(path: &[Seg<'_>]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

/// A scalar as go-yaml v3 resolves it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    /// Not a scalar, or a tag fluxvet does not resolve: not judged.
    Other,
}

pub fn scalar_of<'a>(n: NodeRef<'a>) -> Scalar<'a> {
    let Some((v, style)) = n.scalar() else {
        return Scalar::Other;
    };
    match n.tag() {
        None => {}
        Some("!!str" | "tag:yaml.org,2002:str") => return Scalar::Str(v),
        Some(_) => return Scalar::Other,
    }
    if style != Style::Plain {
        return Scalar::Str(v);
    }
    resolve_plain(v)
}

/// go-yaml v3's `resolve` for an untagged plain scalar.
pub fn resolve_plain(v: &str) -> Scalar<'_> {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    let first = v.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Scalar::Str(v);
    }
    let plain: String = v.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int(&plain) {
        return Scalar::Int(i);
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Scalar::Float(f);
    }
    Scalar::Str(v)
}

/// Go's `strconv.ParseInt(s, 0, 64)`: go-yaml v3's reading, in i64's range.
fn go_parse_int(s: &str) -> Option<i64> {
    crate::yaml::scalar::go_parse_int(s).and_then(|n| i64::try_from(n).ok())
}

/// go-yaml v3's float pattern.
fn is_yaml_float(s: &str) -> bool {
    crate::yaml::scalar::is_go_float(s)
}

/// A value Flux fills in later, or that SOPS encrypted: not judged.
pub fn is_opaque(s: &str) -> bool {
    s.contains("${") || s.starts_with("ENC[")
}

/// Nesting beyond this is not judged.
const MAX_DEPTH: usize = 128;

/// Every violation of `node` against the schema `id` of `set`. `key_span` is where a missing
/// required field of the top node is reported (for a document, its `kind` key).
pub fn validate<'a>(
    set: &'a SchemaSet,
    id: SchemaId,
    node: NodeRef<'a>,
    key_span: Span,
) -> Vec<Violation<'a>> {
    validate_with(set, id, node, key_span, &|_, _| false)
}

/// [`validate`], not evaluating the CEL rules `skip_rule(path, rule)` says (whose finding the
/// caller would drop: evaluating a rule copies the value).
pub fn validate_with<'a>(
    set: &'a SchemaSet,
    id: SchemaId,
    node: NodeRef<'a>,
    key_span: Span,
    skip_rule: &dyn Fn(&[Seg<'_>], &str) -> bool,
) -> Vec<Violation<'a>> {
    let mut w = Walker {
        set,
        out: Vec::new(),
        path: Vec::new(),
        skip_rule,
        budget: MAX_VISITS,
    };
    w.walk(id, node, key_span, 0);
    w.out
}

struct Walker<'a, 'f> {
    set: &'a SchemaSet,
    out: Vec<Violation<'a>>,
    path: Vec<Seg<'a>>,
    skip_rule: &'f dyn Fn(&[Seg<'_>], &str) -> bool,
    /// Nodes left to visit: aliases make a tree a graph, and a "billion laughs" document would
    /// otherwise be walked exponentially.
    budget: usize,
}

/// More nodes than any real manifest has.
const MAX_VISITS: usize = 200_000;

fn type_names(mask: u8) -> String {
    let mut names = Vec::new();
    if mask & ty::STRING != 0 && mask & ty::INTEGER != 0 {
        names.push("an integer or a string");
    } else {
        if mask & ty::STRING != 0 {
            names.push("a string");
        }
        if mask & ty::INTEGER != 0 && mask & ty::NUMBER == 0 {
            names.push("an integer");
        }
    }
    if mask & ty::NUMBER != 0 {
        names.push("a number");
    }
    if mask & ty::BOOLEAN != 0 {
        names.push("a boolean (true or false)");
    }
    if mask & ty::OBJECT != 0 {
        names.push("a mapping");
    }
    if mask & ty::ARRAY != 0 {
        names.push("a list");
    }
    names.join(" or ")
}

fn shown(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t.replace('\n', "\\n")
}

fn json_shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

pub fn allowed_list(values: &[Value]) -> String {
    let mut s: Vec<String> = values.iter().take(12).map(json_shown).collect();
    if values.len() > 12 {
        s.push(format!("… ({} values)", values.len()));
    }
    s.join(", ")
}

impl<'a> Walker<'a, '_> {
    fn push(&mut self, span: Span, kind: ViolationKind, id: SchemaId, message: String) {
        self.out.push(Violation {
            span,
            kind,
            path: self.path.clone(),
            message,
            description: self.set.node(id).description.as_deref(),
        });
    }

    fn here(&self) -> String {
        let d = dotted(&self.path);
        if d.is_empty() {
            "the object".to_string()
        } else {
            format!("`{d}`")
        }
    }

    fn walk(&mut self, id: SchemaId, node: NodeRef<'a>, key_span: Span, depth: usize) {
        if depth > MAX_DEPTH || self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let s = self.set.node(id);
        match node.kind() {
            Kind::Mapping(_) => {
                if s.types != 0 && s.types & ty::OBJECT == 0 {
                    let m = format!("{} is a mapping, not {}", self.here(), type_names(s.types));
                    self.push(node.span(), ViolationKind::Type, id, m);
                    return;
                }
                self.mapping(id, node, key_span, depth);
            }
            Kind::Sequence(items) => {
                if s.types != 0 && s.types & ty::ARRAY == 0 {
                    let m = format!("{} is a list, not {}", self.here(), type_names(s.types));
                    self.push(node.span(), ViolationKind::Type, id, m);
                    return;
                }
                let n = items.len() as u64;
                if let Some(min) = s.min_items.filter(|&m| n < m) {
                    let m = format!(
                        "{} has {n} items, fewer than the minimum {min}",
                        self.here()
                    );
                    self.push(node.span(), ViolationKind::Bounds, id, m);
                }
                if let Some(max) = s.max_items.filter(|&m| n > m) {
                    let m = format!("{} has {n} items, more than the maximum {max}", self.here());
                    self.push(node.span(), ViolationKind::Bounds, id, m);
                }
                if let Some(item) = s.items {
                    for (i, it) in node.items().into_iter().enumerate() {
                        self.path.push(Seg::Index(i));
                        self.walk(item, it, it.span(), depth + 1);
                        self.path.pop();
                    }
                }
                self.cel(id, node);
            }
            Kind::Scalar { value, style } => {
                if is_opaque(value) {
                    return;
                }
                let sc = scalar_of(node);
                self.scalar(id, node, sc, value, style);
            }
            Kind::Alias(_) => {}
        }
    }

    fn scalar(&mut self, id: SchemaId, node: NodeRef<'a>, sc: Scalar<'a>, raw: &str, style: Style) {
        let s = self.set.node(id);
        let span = node.span();
        let (is_type, what) = match sc {
            Scalar::Null | Scalar::Other => return,
            Scalar::Str(_) => (s.types & ty::STRING != 0, "the string"),
            Scalar::Int(_) => (s.types & (ty::INTEGER | ty::NUMBER) != 0, "the integer"),
            Scalar::Float(f) => (
                s.types & ty::NUMBER != 0
                    || (s.types & ty::INTEGER != 0 && f.is_finite() && f.fract() == 0.0),
                "the number",
            ),
            Scalar::Bool(_) => (s.types & ty::BOOLEAN != 0, "the boolean"),
        };
        if s.types != 0 && !is_type {
            // Kubernetes' Quantity is a string in the catalog, yet the API server takes a JSON
            // number for it too (`cpu: 1`, `storage: 10`).
            if matches!(sc, Scalar::Int(_) | Scalar::Float(_)) && self.quantity_field() {
                return;
            }
            let hint = match sc {
                Scalar::Int(_) | Scalar::Float(_) | Scalar::Bool(_)
                    if s.types & ty::STRING != 0 =>
                {
                    " (quote it to make it a string)"
                }
                _ => "",
            };
            let m = format!(
                "{} is {what} `{}`, not {}{hint}",
                self.here(),
                shown(raw),
                type_names(s.types)
            );
            self.push(span, ViolationKind::Type, id, m);
            return;
        }
        if let Some(values) = &s.enumeration {
            let ok = values.iter().any(|v| match (v, sc) {
                (Value::String(a), Scalar::Str(b)) => a == b,
                (Value::Bool(a), Scalar::Bool(b)) => *a == b,
                (Value::Number(a), Scalar::Int(b)) => a.as_f64() == Some(b as f64),
                (Value::Number(a), Scalar::Float(b)) => a.as_f64() == Some(b),
                (Value::Null, _) => false,
                _ => false,
            });
            if !ok {
                let m = format!(
                    "{} is `{}`, not one of {}",
                    self.here(),
                    shown(raw),
                    allowed_list(values)
                );
                self.push(span, ViolationKind::Enum, id, m);
                return;
            }
        }
        match sc {
            Scalar::Str(text) => {
                let n = text.chars().count() as u64;
                if let Some(max) = s.max_length.filter(|&m| n > m) {
                    let m = format!(
                        "{} is {n} characters long, over the maximum {max}",
                        self.here()
                    );
                    self.push(span, ViolationKind::Bounds, id, m);
                }
                if let Some(min) = s.min_length.filter(|&m| n < m) {
                    let m = if n == 0 {
                        format!("{} is empty; the minimum length is {min}", self.here())
                    } else {
                        format!(
                            "{} is {n} characters long, under the minimum {min}",
                            self.here()
                        )
                    };
                    self.push(span, ViolationKind::Bounds, id, m);
                }
                if let Some(re) = self.set.pattern(id)
                    && !re.is_match(text)
                {
                    let m = format!(
                        "{} is `{}`, which does not match the pattern `{}`",
                        self.here(),
                        shown(text),
                        s.pattern.as_deref().unwrap_or("")
                    );
                    self.push(span, ViolationKind::Pattern, id, m);
                }
                match s.format.as_deref() {
                    Some("byte") if !is_base64(text) => {
                        let m = format!("{} is not valid base64 (format `byte`)", self.here());
                        self.push(span, ViolationKind::Format, id, m);
                    }
                    Some("date-time") if style != Style::Plain && !is_rfc3339(text) => {
                        let m = format!(
                            "{} is `{}`, not an RFC 3339 date-time (`2006-01-02T15:04:05Z`)",
                            self.here(),
                            shown(text)
                        );
                        self.push(span, ViolationKind::Format, id, m);
                    }
                    _ => {}
                }
            }
            Scalar::Int(i) => {
                self.number(id, span, i as f64, raw);
                let range = match s.format.as_deref() {
                    Some("int32") => Some((i64::from(i32::MIN), i64::from(i32::MAX), "int32")),
                    _ => None,
                };
                if let Some((lo, hi, f)) = range
                    && (i < lo || i > hi)
                {
                    let m = format!("{} is {i}, outside the range of {f}", self.here());
                    self.push(span, ViolationKind::Format, id, m);
                }
            }
            Scalar::Float(f) => self.number(id, span, f, raw),
            _ => {}
        }
    }

    /// Whether the value sits where Kubernetes takes a `resource.Quantity`.
    fn quantity_field(&self) -> bool {
        const MAPS: &[&str] = &[
            "limits",
            "requests",
            "hard",
            "used",
            "capacity",
            "allocatable",
            "allocatedResources",
            "overhead",
            "podFixed",
            "min",
            "max",
            "default",
            "defaultRequest",
            "maxLimitRequestRatio",
        ];
        const FIELDS: &[&str] = &["sizeLimit", "averageValue", "maximumVolumeSize", "storage"];
        let keys: Vec<&str> = self
            .path
            .iter()
            .rev()
            .take(2)
            .map(|s| match s {
                Seg::Key(k) => *k,
                Seg::Index(_) => "",
            })
            .collect();
        match keys.as_slice() {
            [own, parent] => {
                FIELDS.contains(own)
                    || MAPS.contains(parent)
                    || (*own == "value" && matches!(*parent, "target" | "current"))
            }
            [own] => FIELDS.contains(own),
            _ => false,
        }
    }

    fn number(&mut self, id: SchemaId, span: Span, x: f64, raw: &str) {
        let s = self.set.node(id);
        if let Some(min) = s.minimum {
            let bad = if s.exclusive_minimum {
                x <= min
            } else {
                x < min
            };
            if bad {
                let m = format!(
                    "{} is {}, below the {}minimum {min}",
                    self.here(),
                    shown(raw),
                    if s.exclusive_minimum {
                        "exclusive "
                    } else {
                        ""
                    }
                );
                self.push(span, ViolationKind::Bounds, id, m);
            }
        }
        if let Some(max) = s.maximum {
            let bad = if s.exclusive_maximum {
                x >= max
            } else {
                x > max
            };
            if bad {
                let m = format!(
                    "{} is {}, above the {}maximum {max}",
                    self.here(),
                    shown(raw),
                    if s.exclusive_maximum {
                        "exclusive "
                    } else {
                        ""
                    }
                );
                self.push(span, ViolationKind::Bounds, id, m);
            }
        }
    }

    fn mapping(&mut self, id: SchemaId, node: NodeRef<'a>, key_span: Span, depth: usize) {
        let set = self.set;
        let s = set.node(id);
        let entries = entries(node);
        let unknown_is_error = !s.preserve_unknown
            && (matches!(s.additional, Additional::Forbid)
                || ((s.structural || depth == 0)
                    && !s.properties.is_empty()
                    && matches!(s.additional, Additional::Any)));
        for &(k, v) in &entries {
            let Some(key) = k.as_str() else { continue };
            if is_opaque(key) {
                continue;
            }
            self.path.push(Seg::Key(key));
            if let Some(p) = s.property(key) {
                if !v.is_null() {
                    self.walk(p, v, k.span(), depth + 1);
                }
            } else if let Additional::Schema(a) = s.additional {
                if !v.is_null() {
                    self.walk(a, v, k.span(), depth + 1);
                }
            } else if unknown_is_error
                && !(depth == 0 && matches!(key, "sops" | "apiVersion" | "kind" | "metadata"))
                && !(s.embedded_resource && matches!(key, "apiVersion" | "kind" | "metadata"))
            {
                let m = format!(
                    "{} is not a field of {}{}",
                    self.here(),
                    match dotted(&self.path[..self.path.len() - 1]).as_str() {
                        "" => "the object".to_string(),
                        p => format!("`{p}`"),
                    },
                    suggestion(key, &s.properties)
                );
                self.out.push(Violation {
                    span: k.span(),
                    kind: ViolationKind::Unknown,
                    path: self.path.clone(),
                    message: m,
                    description: None,
                });
            }
            self.path.pop();
        }
        for r in &s.required {
            if entries.iter().any(|(k, _)| k.as_str() == Some(r)) {
                continue;
            }
            self.path.push(Seg::Key(r));
            let desc = s
                .property(r)
                .and_then(|p| set.node(p).description.as_deref());
            let parent = dotted(&self.path[..self.path.len() - 1]);
            let m = if parent.is_empty() {
                format!("the object lacks the required field `{r}`")
            } else {
                format!("`{parent}` lacks the required field `{r}`")
            };
            self.out.push(Violation {
                span: key_span,
                kind: ViolationKind::Required,
                path: self.path.clone(),
                message: m,
                description: desc,
            });
            self.path.pop();
        }
        if let Some(max) = s.max_properties.filter(|&m| entries.len() as u64 > m) {
            let m = format!(
                "{} has {} entries, more than the maximum {max}",
                self.here(),
                entries.len()
            );
            self.push(node.span(), ViolationKind::Bounds, id, m);
        }
        self.cel(id, node);
    }

    fn cel(&mut self, id: SchemaId, node: NodeRef<'a>) {
        let s = self.set.node(id);
        if s.rules.is_empty() {
            return;
        }
        // The API server fills defaults in before it evaluates the rules: with a defaulted
        // field absent, a rule may see what fluxvet cannot.
        if s.properties
            .iter()
            .any(|(k, p)| self.set.node(*p).has_default && node.get(k).is_none_or(|v| v.is_null()))
        {
            return;
        }
        let mut value = None;
        for (rule, message) in &s.rules {
            if (self.skip_rule)(&self.path, rule) {
                continue;
            }
            if super::cel::holds(rule, node, &mut value) == Some(false) {
                let msg = if message.is_empty() {
                    format!("{} fails the validation rule `{rule}`", self.here())
                } else {
                    format!("{}: {message} (rule `{rule}`)", self.here())
                };
                self.push(node.span(), ViolationKind::Cel, id, msg);
            }
        }
    }
}

/// A mapping's entries; merge keys expanded only where there are some (the common case needs no
/// de-duplicating set).
fn entries<'a>(node: NodeRef<'a>) -> Vec<(NodeRef<'a>, NodeRef<'a>)> {
    let raw = node.raw_entries();
    let merges = raw
        .iter()
        .any(|(k, _)| k.is_plain() && k.as_str() == Some("<<"));
    // A repeated key is FV102's: judged once, as `entries` keeps it.
    let repeated = || {
        if raw.len() <= 16 {
            return raw.iter().enumerate().any(|(i, (a, _))| {
                a.as_str()
                    .is_some_and(|a| raw[..i].iter().any(|(b, _)| b.as_str() == Some(a)))
            });
        }
        let mut keys: Vec<&str> = raw.iter().filter_map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.windows(2).any(|w| w[0] == w[1])
    };
    if merges || repeated() {
        return node.entries();
    }
    raw
}

fn suggestion(key: &str, props: &[(Box<str>, SchemaId)]) -> String {
    let close = props
        .iter()
        .map(|(p, _)| p)
        .filter(|p| p.eq_ignore_ascii_case(key) || levenshtein(p, key) <= 2)
        .min_by_key(|p| levenshtein(p, key));
    if let Some(p) = close {
        return format!(" (did you mean `{p}`?)");
    }
    if props.is_empty() || props.len() > 12 {
        return String::new();
    }
    let names: Vec<String> = props.iter().map(|(p, _)| format!("`{p}`")).collect();
    format!(" (its fields: {})", names.join(", "))
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Standard base64 with padding, whitespace-free (what Go's `encoding/base64` StdEncoding reads).
fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if b.len() < 20
        || !(0..4).all(d)
        || b[4] != b'-'
        || !(d(5) && d(6))
        || b[7] != b'-'
        || !(d(8) && d(9))
        || !matches!(b[10], b'T' | b't' | b' ')
        || !(d(11) && d(12))
        || b[13] != b':'
        || !(d(14) && d(15))
        || b[16] != b':'
        || !(d(17) && d(18))
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while d(i) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_yaml_v3_scalars() {
        assert_eq!(resolve_plain("yes"), Scalar::Str("yes"));
        assert_eq!(resolve_plain("1.10"), Scalar::Float(1.1));
        assert_eq!(resolve_plain("0755"), Scalar::Int(0o755));
        assert_eq!(resolve_plain("0x1F"), Scalar::Int(31));
        assert_eq!(resolve_plain("1_000"), Scalar::Int(1000));
        assert_eq!(resolve_plain("1:20"), Scalar::Str("1:20"));
        assert_eq!(resolve_plain("1e3"), Scalar::Float(1000.0));
        assert_eq!(resolve_plain("500m"), Scalar::Str("500m"));
        assert_eq!(resolve_plain("2024-01-01"), Scalar::Str("2024-01-01"));
        assert_eq!(resolve_plain("-3"), Scalar::Int(-3));
        assert_eq!(resolve_plain("1."), Scalar::Float(1.0));
        assert_eq!(resolve_plain("v1"), Scalar::Str("v1"));
        assert_eq!(resolve_plain("True"), Scalar::Bool(true));
        assert_eq!(resolve_plain("08"), Scalar::Float(8.0));
    }

    #[test]
    fn formats() {
        assert!(is_base64("aGVsbG8="));
        assert!(!is_base64("hello!"));
        assert!(is_rfc3339("2024-01-02T03:04:05Z"));
        assert!(is_rfc3339("2024-01-02T03:04:05.123+02:00"));
        assert!(!is_rfc3339("2024-01-02"));
    }
}
