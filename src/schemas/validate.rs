//! `validate(schema, node)`: one rendered node (the model's value tree, every node knowing the
//! file and span that set it) against one schema node, as the API server would judge the JSON
//! that Flux sends it. Scalars are typed as go-yaml v3 (what kyaml, so Flux, decodes with) types
//! them. A parsed file is judged through the same tree ([`Node::from_yaml`]), so a document and
//! a rendered object are judged alike.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::{Additional, SchemaId, SchemaSet, is_opaque, ty};
use crate::model::rendered::{Node, Origin, ScalarType, Value as NodeValue};
use crate::source::{SourceFile, Span};
use crate::yaml::scalar::{Scalar, resolve_plain};
use crate::yaml::{NodeRef, Style};

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
    /// `oneOf`/`anyOf`/`not`: no alternative, or more than one, matches.
    Alternatives,
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
    /// The file and span: where the value was written, in the object's file or in the patch
    /// or Kustomization that set it.
    pub at: Origin,
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

/// Nesting beyond this is not judged.
const MAX_DEPTH: usize = 128;

/// What the walk needs to know besides the schema and the tree.
pub struct Context<'f> {
    /// The repository's files: a key's place and a scalar's quoting are read from the text at
    /// the node's origin.
    pub files: &'f [SourceFile],
    /// The post-build variables of the Flux Kustomization that applied the object, when it
    /// substituted: a value that used a variable without a value is FV408's, not judged here.
    pub vars: Option<&'f BTreeMap<String, String>>,
    /// CEL rules `skip_rule(path, rule)` says are not evaluated (whose finding the caller would
    /// drop: evaluating a rule copies the value).
    pub skip_rule: &'f dyn Fn(&[Seg<'_>], &str) -> bool,
}

/// Every violation of `node` against the schema `id` of `set`. `key_at` is where a missing
/// required field of the top node is reported (for an object, its `kind` key).
pub fn validate<'a>(
    set: &'a SchemaSet,
    id: SchemaId,
    node: &'a Node,
    key_at: Origin,
    cx: &Context<'_>,
) -> Vec<Violation<'a>> {
    let mut w = Walker {
        set,
        out: Vec::new(),
        path: Vec::new(),
        cx,
        budget: MAX_VISITS,
        branch: false,
    };
    w.walk(id, node, key_at, 0);
    w.out
}

/// The place of the key whose value is `value`: the text before the value's origin, back over
/// blanks, comments and the colon. Keys carry no origin of their own in the rendered tree; a
/// value always sits right after its key in the text that wrote it (a patch, a file).
pub fn key_place(files: &[SourceFile], value: Origin, key: &str) -> Option<Origin> {
    let text = &files.get(value.file as usize)?.text;
    let mut end = value.span.start as usize;
    // A block value starts on a later line; the lines between may be blank or comments.
    for _ in 0..8 {
        let before = text.get(..end)?.trim_end();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = &before[line_start..];
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            end = line_start;
            continue;
        }
        // `key: # comment` before a block value.
        let code = match line.find(" #") {
            Some(i) if !line[..i].contains(['"', '\'']) => line[..i].trim_end(),
            _ => line,
        };
        let code_end = line_start + code.len();
        let head = text[..code_end]
            .strip_suffix(':')?
            .trim_end_matches([' ', '\t']);
        for quoted in [key.to_string(), format!("\"{key}\""), format!("'{key}'")] {
            if head.ends_with(quoted.as_str()) {
                let start = head.len() - quoted.len();
                let ok =
                    start == 0 || head[..start].ends_with([' ', '\t', '\n', '{', ',', '-', '?']);
                if ok {
                    return Some(Origin::new(
                        value.file as usize,
                        Span::new(start, head.len()),
                    ));
                }
            }
        }
        return None;
    }
    None
}

struct Walker<'a, 'c, 'f> {
    set: &'a SchemaSet,
    out: Vec<Violation<'a>>,
    path: Vec<Seg<'a>>,
    cx: &'c Context<'f>,
    /// Nodes left to visit.
    budget: usize,
    /// Walking an alternative of a `oneOf`/`anyOf`/`allOf`/`not`: it constrains values only,
    /// so a key it does not name is not unknown.
    branch: bool,
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

/// How a rendered scalar was written: its go-yaml v3 value, and whether it was a plain scalar.
/// A value post-build substitution filled in is read again as Flux reads it (the substituted
/// text of a plain scalar may be a number); one that used a variable without a value, or whose
/// text would change the YAML around it, is not judged (`Other`).
fn rendered_scalar<'a>(n: &'a Node, cx: &Context<'_>) -> (Scalar<'a>, bool) {
    let NodeValue::Scalar(text, ty) = &n.value else {
        return (Scalar::Other, false);
    };
    let source = cx
        .files
        .get(n.origin.file as usize)
        .and_then(|f| f.text.get(n.origin.span.range()))
        .unwrap_or("");
    let plain = !source.starts_with(['"', '\'', '|', '>']);
    if source.contains("${") && !text.contains("${") {
        let Some(vars) = cx.vars else {
            return (Scalar::Other, plain);
        };
        let undefined = crate::model::substitution::uses(source).iter().any(|u| {
            // A SOPS-encrypted value (a Secret's `ENC[…]`) is known only in the cluster.
            !u.has_default
                && vars
                    .get(&u.name)
                    .is_none_or(|v| v.is_empty() || v.contains("ENC["))
        });
        let structural = text.is_empty()
            || text.starts_with([
                '[', '{', '&', '*', '!', '|', '>', '%', '@', '`', '\'', '"', '#',
            ])
            || text.contains(": ")
            || text.contains(" #")
            || text.starts_with("- ");
        if undefined || (plain && structural) {
            return (Scalar::Other, plain);
        }
        if plain {
            return (resolve_plain(text), true);
        }
        return (Scalar::Str(text), false);
    }
    let sc = match ty {
        ScalarType::Null => Scalar::Null,
        ScalarType::Str => Scalar::Str(text),
        ScalarType::Bool => match resolve_plain(text) {
            b @ Scalar::Bool(_) => b,
            _ => Scalar::Other,
        },
        ScalarType::Int | ScalarType::Float => match resolve_plain(text) {
            x @ (Scalar::Int(_) | Scalar::Float(_)) => x,
            _ => Scalar::Other,
        },
    };
    (sc, plain)
}

impl<'a> Walker<'a, '_, '_> {
    fn push(&mut self, at: Origin, kind: ViolationKind, id: SchemaId, message: String) {
        self.out.push(Violation {
            at,
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

    fn walk(&mut self, id: SchemaId, node: &'a Node, key_at: Origin, depth: usize) {
        if depth > MAX_DEPTH || self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let s = self.set.node(id);
        match &node.value {
            NodeValue::Map(_) => {
                if s.types != 0 && s.types & ty::OBJECT == 0 {
                    let m = format!("{} is a mapping, not {}", self.here(), type_names(s.types));
                    self.push(node.origin, ViolationKind::Type, id, m);
                    return;
                }
                self.mapping(id, node, key_at, depth);
            }
            NodeValue::Seq(items) => {
                if s.types != 0 && s.types & ty::ARRAY == 0 {
                    let m = format!("{} is a list, not {}", self.here(), type_names(s.types));
                    self.push(node.origin, ViolationKind::Type, id, m);
                    return;
                }
                let n = items.len() as u64;
                if let Some(min) = s.min_items.filter(|&m| n < m) {
                    let m = format!(
                        "{} has {n} items, fewer than the minimum {min}",
                        self.here()
                    );
                    self.push(node.origin, ViolationKind::Bounds, id, m);
                }
                if let Some(max) = s.max_items.filter(|&m| n > m) {
                    let m = format!("{} has {n} items, more than the maximum {max}", self.here());
                    self.push(node.origin, ViolationKind::Bounds, id, m);
                }
                if let Some(item) = s.items {
                    for (i, it) in items.iter().enumerate() {
                        self.path.push(Seg::Index(i));
                        self.walk(item, it, it.origin, depth + 1);
                        self.path.pop();
                    }
                }
                self.cel(id, node);
            }
            NodeValue::Scalar(value, _) => {
                if is_opaque(value) {
                    return;
                }
                let (sc, plain) = rendered_scalar(node, self.cx);
                if !self.scalar(id, node, sc, value, plain) {
                    return;
                }
            }
        }
        self.alternatives(id, node, key_at, depth);
    }

    /// Judges the scalar; false when it is not judged further (of the wrong type, or unknown).
    fn scalar(
        &mut self,
        id: SchemaId,
        node: &'a Node,
        sc: Scalar<'a>,
        raw: &str,
        plain: bool,
    ) -> bool {
        let s = self.set.node(id);
        let at = node.origin;
        let (is_type, what) = match sc {
            Scalar::Null | Scalar::Other => return false,
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
                return false;
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
            self.push(at, ViolationKind::Type, id, m);
            return false;
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
                self.push(at, ViolationKind::Enum, id, m);
                return true;
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
                    self.push(at, ViolationKind::Bounds, id, m);
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
                    self.push(at, ViolationKind::Bounds, id, m);
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
                    self.push(at, ViolationKind::Pattern, id, m);
                }
                match s.format.as_deref() {
                    Some("byte") if !is_base64(text) => {
                        let m = format!("{} is not valid base64 (format `byte`)", self.here());
                        self.push(at, ViolationKind::Format, id, m);
                    }
                    Some("date-time") if !plain && !is_rfc3339(text) => {
                        let m = format!(
                            "{} is `{}`, not an RFC 3339 date-time (`2006-01-02T15:04:05Z`)",
                            self.here(),
                            shown(text)
                        );
                        self.push(at, ViolationKind::Format, id, m);
                    }
                    Some("ipv4") if text.parse::<std::net::Ipv4Addr>().is_err() => {
                        let m =
                            format!("{} is `{}`, not an IPv4 address", self.here(), shown(text));
                        self.push(at, ViolationKind::Format, id, m);
                    }
                    Some("ipv6") if text.parse::<std::net::Ipv6Addr>().is_err() => {
                        let m =
                            format!("{} is `{}`, not an IPv6 address", self.here(), shown(text));
                        self.push(at, ViolationKind::Format, id, m);
                    }
                    _ => {}
                }
            }
            Scalar::Int(i) => {
                self.number(id, at, i as f64, raw);
                let range = match s.format.as_deref() {
                    Some("int32") => Some((i64::from(i32::MIN), i64::from(i32::MAX), "int32")),
                    _ => None,
                };
                if let Some((lo, hi, f)) = range
                    && (i < lo || i > hi)
                {
                    let m = format!("{} is {i}, outside the range of {f}", self.here());
                    self.push(at, ViolationKind::Format, id, m);
                }
            }
            Scalar::Float(f) => self.number(id, at, f, raw),
            _ => {}
        }
        true
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

    fn number(&mut self, id: SchemaId, at: Origin, x: f64, raw: &str) {
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
                self.push(at, ViolationKind::Bounds, id, m);
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
                self.push(at, ViolationKind::Bounds, id, m);
            }
        }
    }

    fn mapping(&mut self, id: SchemaId, node: &'a Node, key_at: Origin, depth: usize) {
        let set = self.set;
        let s = set.node(id);
        let entries = node.entries();
        let unknown_is_error = !self.branch
            && !s.preserve_unknown
            && (matches!(s.additional, Additional::Forbid)
                || ((s.structural || depth == 0)
                    && !s.properties.is_empty()
                    && matches!(s.additional, Additional::Any)));
        for (k, v) in entries {
            let key: &'a str = k;
            if is_opaque(key) {
                continue;
            }
            self.path.push(Seg::Key(key));
            let here = || key_place(self.cx.files, v.origin, key).unwrap_or(v.origin);
            if let Some(p) = s.property(key) {
                if !v.is_null() {
                    let at = here();
                    self.walk(p, v, at, depth + 1);
                }
            } else if let Additional::Schema(a) = s.additional {
                if !v.is_null() {
                    let at = here();
                    self.walk(a, v, at, depth + 1);
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
                let at = here();
                self.out.push(Violation {
                    at,
                    kind: ViolationKind::Unknown,
                    path: self.path.clone(),
                    message: m,
                    description: None,
                });
            }
            self.path.pop();
        }
        for r in &s.required {
            // The API server fills a property's `default` in before it checks `required`.
            if entries.iter().any(|(k, _)| **k == **r)
                || s.property(r).is_some_and(|p| set.node(p).has_default)
            {
                continue;
            }
            let r: &'a str = r;
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
                at: key_at,
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
            self.push(node.origin, ViolationKind::Bounds, id, m);
        }
        self.cel(id, node);
    }

    /// Whether the API server would fill a default into this mapping before it validates: a
    /// property with a default is absent. Rules and alternatives may then see what fluxvet
    /// cannot.
    fn defaults_missing(&self, id: SchemaId, node: &Node) -> bool {
        matches!(node.value, NodeValue::Map(_))
            && self.set.node(id).properties.iter().any(|(k, p)| {
                self.set.node(*p).has_default && node.get(k).is_none_or(Node::is_null)
            })
    }

    fn cel(&mut self, id: SchemaId, node: &'a Node) {
        let s = self.set.node(id);
        if s.rules.is_empty() || self.branch {
            return;
        }
        if self.defaults_missing(id, node) {
            return;
        }
        let mut value = None;
        for (rule, message) in &s.rules {
            if (self.cx.skip_rule)(&self.path, rule) {
                continue;
            }
            if super::cel::holds(rule, node, &mut value) == Some(false) {
                let msg = if message.is_empty() {
                    format!("{} fails the validation rule `{rule}`", self.here())
                } else {
                    format!("{}: {message} (rule `{rule}`)", self.here())
                };
                self.push(node.origin, ViolationKind::Cel, id, msg);
            }
        }
    }

    /// The violations of `node` against the alternative `id`, as its own walk.
    fn branch_walk(
        &mut self,
        id: SchemaId,
        node: &'a Node,
        key_at: Origin,
        depth: usize,
    ) -> Vec<Violation<'a>> {
        let mut w = Walker {
            set: self.set,
            out: Vec::new(),
            path: self.path.clone(),
            cx: self.cx,
            budget: self.budget,
            branch: true,
        };
        w.walk(id, node, key_at, depth);
        self.budget = w.budget;
        w.out
    }

    /// `allOf`, `oneOf`, `anyOf` and `not`, as kube-openapi judges them: every `allOf`
    /// alternative must hold, exactly one of `oneOf`, at least one of `anyOf`, and `not` must
    /// fail. Where no alternative holds and one clearly fits the object's shape (it names more
    /// of its keys than any other), that alternative's own violations are reported; otherwise
    /// one finding names the alternatives.
    fn alternatives(&mut self, id: SchemaId, node: &'a Node, key_at: Origin, depth: usize) {
        let s = self.set.node(id);
        if s.one_of.is_empty() && s.any_of.is_empty() && s.all_of.is_empty() && s.not.is_none() {
            return;
        }
        // The API server defaults the object first: an absent defaulted field may decide.
        if self.defaults_missing(id, node) {
            return;
        }
        for &b in &s.all_of {
            let found = self.branch_walk(b, node, key_at, depth);
            self.out.extend(found);
        }
        for (list, exactly_one) in [(&s.one_of, true), (&s.any_of, false)] {
            if list.is_empty() {
                continue;
            }
            let results: Vec<Vec<Violation<'a>>> = list
                .iter()
                .map(|&b| self.branch_walk(b, node, key_at, depth))
                .collect();
            let holding: Vec<usize> = (0..list.len()).filter(|&i| results[i].is_empty()).collect();
            if holding.len() == 1 || (!exactly_one && !holding.is_empty()) {
                continue;
            }
            let names: Vec<String> = list
                .iter()
                .enumerate()
                .map(|(i, &b)| self.describe(b, i))
                .collect();
            if holding.is_empty() {
                // The alternative that names the most of the object's keys, if one does alone.
                let scores: Vec<usize> = list.iter().map(|&b| self.fit(b, node)).collect();
                let best = scores.iter().copied().max().unwrap_or(0);
                if best > 0 && scores.iter().filter(|&&x| x == best).count() == 1 {
                    let i = scores.iter().position(|&x| x == best).unwrap_or(0);
                    let mut found = results.into_iter().nth(i).unwrap_or_default();
                    for v in &mut found {
                        v.message.push_str(&format!(
                            " (in the {} alternative the object fits: {})",
                            if exactly_one { "`oneOf`" } else { "`anyOf`" },
                            names[i],
                        ));
                    }
                    self.out.extend(found);
                    continue;
                }
                let m = format!(
                    "{} matches none of the alternatives the schema allows: {}",
                    self.here(),
                    names.join("; ")
                );
                self.push(node.origin, ViolationKind::Alternatives, id, m);
            } else {
                let both: Vec<&str> = holding.iter().map(|&i| names[i].as_str()).collect();
                let m = format!(
                    "{} matches {} alternatives ({}) where the schema allows exactly one",
                    self.here(),
                    holding.len(),
                    both.join("; ")
                );
                self.push(node.origin, ViolationKind::Alternatives, id, m);
            }
        }
        if let Some(b) = s.not
            && self.branch_walk(b, node, key_at, depth).is_empty()
        {
            let m = format!(
                "{} must not be {}",
                self.here(),
                self.describe(b, usize::MAX)
            );
            self.push(node.origin, ViolationKind::Alternatives, id, m);
        }
    }

    /// How many of the mapping's keys the alternative names (its required and declared fields).
    fn fit(&self, id: SchemaId, node: &Node) -> usize {
        let s = self.set.node(id);
        node.entries()
            .iter()
            .filter(|(k, _)| s.required.iter().any(|r| **r == **k) || s.property(k).is_some())
            .count()
    }

    /// An alternative in words: `with \`exact\``, `` `type` one of `IPAddress` ``.
    fn describe(&self, id: SchemaId, index: usize) -> String {
        let s = self.set.node(id);
        let quote = |xs: &[Box<str>]| {
            xs.iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let mut parts = Vec::new();
        if !s.required.is_empty() {
            parts.push(format!("with {}", quote(&s.required)));
        }
        if let Some(values) = &s.enumeration {
            parts.push(format!("one of {}", allowed_list(values)));
        }
        if let Some(f) = &s.format {
            parts.push(format!("of format `{f}`"));
        }
        if s.types != 0 {
            parts.push(type_names(s.types));
        }
        for (k, p) in &s.properties {
            let inner = self.describe(*p, usize::MAX);
            if !inner.starts_with("alternative") {
                parts.push(format!("`{k}` {inner}"));
            }
        }
        if !s.any_of.is_empty() || !s.one_of.is_empty() {
            let list = if s.any_of.is_empty() {
                &s.one_of
            } else {
                &s.any_of
            };
            let inner: Vec<String> = list.iter().map(|&b| self.describe(b, usize::MAX)).collect();
            parts.push(format!("any of ({})", inner.join(", ")));
        }
        if let Some(n) = s.not {
            parts.push(format!("not {}", self.describe(n, usize::MAX)));
        }
        if parts.is_empty() {
            return if index == usize::MAX {
                "alternative".to_string()
            } else {
                format!("alternative {}", index + 1)
            };
        }
        parts.join(", ")
    }
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

/// What the API server decodes as `format: byte`: Go's `encoding/base64` StdEncoding, which
/// skips line breaks (a block scalar wrapped at 76 columns is valid) and requires padding.
fn is_base64(s: &str) -> bool {
    crate::secrets::decode_base64(s).is_some()
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
        // Wrapped, as `base64` writes it and a `|` block scalar keeps it.
        assert!(is_base64("aGVs\nbG8=\n"));
        assert!(!is_base64("aGVsbG8"));
        assert!(is_rfc3339("2024-01-02T03:04:05Z"));
        assert!(is_rfc3339("2024-01-02T03:04:05.123+02:00"));
        assert!(!is_rfc3339("2024-01-02"));
    }
}
