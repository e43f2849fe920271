//! Printing a build: YAML as `kubectl kustomize` prints it (documents separated by `---`,
//! two-space indentation, list items at their key's indentation), optionally a `# file:line:col`
//! comment on every value; or JSON with the origins as JSON pointers.

use serde_json::{Map, Value as Json, json};

use super::build::Build;
use super::rendered::RenderedObject;
use super::rendered::{Node, Origin, ScalarType, Value, resolve_plain, to_json};

/// Says where an origin is (`path:line:col`), `None` for a made-up value.
pub type Locate<'a> = &'a dyn Fn(Origin) -> Option<String>;

pub fn yaml(objects: &[RenderedObject], locate: Option<Locate<'_>>) -> String {
    let mut out = String::new();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        match &o.root.value {
            Value::Map(m) => map(&mut out, m, 0, false, locate),
            _ => {
                out.push_str(&scalar_text(&o.root, 0));
                out.push('\n');
            }
        }
    }
    out
}

fn comment(out: &mut String, n: &Node, locate: Option<Locate<'_>>) {
    if let Some(at) = locate.and_then(|l| l(n.origin)) {
        out.push_str("  # ");
        out.push_str(&at);
    }
}

fn map(
    out: &mut String,
    m: &[(Box<str>, Node)],
    indent: usize,
    inline_first: bool,
    locate: Option<Locate<'_>>,
) {
    for (i, (k, v)) in m.iter().enumerate() {
        if !(inline_first && i == 0) {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&key_text(k));
        out.push(':');
        value_after_key(out, v, indent, locate);
    }
}

fn value_after_key(out: &mut String, v: &Node, indent: usize, locate: Option<Locate<'_>>) {
    match &v.value {
        Value::Map(m) if m.is_empty() => {
            out.push_str(" {}");
            comment(out, v, locate);
            out.push('\n');
        }
        Value::Seq(s) if s.is_empty() => {
            out.push_str(" []");
            comment(out, v, locate);
            out.push('\n');
        }
        Value::Map(m) => {
            comment(out, v, locate);
            out.push('\n');
            map(out, m, indent + 2, false, locate);
        }
        Value::Seq(s) => {
            comment(out, v, locate);
            out.push('\n');
            seq(out, s, indent, locate);
        }
        Value::Scalar(..) => {
            out.push(' ');
            scalar(out, v, indent + 2, locate);
        }
    }
}

fn seq(out: &mut String, s: &[Node], indent: usize, locate: Option<Locate<'_>>) {
    for item in s {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match &item.value {
            Value::Map(m) if !m.is_empty() => {
                out.push(' ');
                map(out, m, indent + 2, true, locate);
            }
            Value::Seq(inner) if !inner.is_empty() => {
                comment(out, item, locate);
                out.push('\n');
                seq(out, inner, indent + 2, locate);
            }
            Value::Map(_) => {
                out.push_str(" {}");
                comment(out, item, locate);
                out.push('\n');
            }
            Value::Seq(_) => {
                out.push_str(" []");
                comment(out, item, locate);
                out.push('\n');
            }
            Value::Scalar(..) => {
                out.push(' ');
                scalar(out, item, indent + 2, locate);
            }
        }
    }
}

/// A scalar, its comment and the line end (a block scalar's lines follow the comment).
fn scalar(out: &mut String, n: &Node, indent: usize, locate: Option<Locate<'_>>) {
    let text = scalar_text(n, indent);
    match text.split_once('\n') {
        Some((head, body)) => {
            out.push_str(head);
            comment(out, n, locate);
            out.push('\n');
            out.push_str(body);
            if !body.ends_with('\n') {
                out.push('\n');
            }
        }
        None => {
            out.push_str(&text);
            comment(out, n, locate);
            out.push('\n');
        }
    }
}

fn key_text(k: &str) -> String {
    if plain_safe(k) {
        k.to_string()
    } else {
        double_quoted(k)
    }
}

/// The booleans of YAML 1.1 (`yes`, `on`, `n`, …): strings to go-yaml v3, but kustomize quotes
/// them on output for YAML 1.1 readers.
fn is_yaml11_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
    )
}

/// Whether a string can be written plain and still read back as the same string, by go-yaml
/// v3 and by YAML 1.1 readers (kustomize quotes `yes`, `on` and friends too).
fn plain_safe(s: &str) -> bool {
    if s.is_empty() || resolve_plain(s) != ScalarType::Str {
        return false;
    }
    if is_yaml11_bool(s) || crate::yaml::scalar::is_number(s) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
        return false;
    }
    if s.ends_with(char::is_whitespace) || s.ends_with(':') {
        return false;
    }
    !(s.contains(": ") || s.contains(" #") || s.chars().any(|c| c.is_control()))
}

fn double_quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn scalar_text(n: &Node, indent: usize) -> String {
    let Value::Scalar(text, ty) = &n.value else {
        return String::new();
    };
    match ty {
        ScalarType::Null => "null".into(),
        ScalarType::Str => {
            if plain_safe(text) {
                text.to_string()
            } else if text.contains('\n')
                && !text.starts_with([' ', '\n'])
                && !text.chars().any(|c| c.is_control() && c != '\n')
                && !text.lines().any(|l| l.ends_with([' ', '\t']))
            {
                let trailing = text.len() - text.trim_end_matches('\n').len();
                let chomp = match trailing {
                    0 => "|-",
                    1 => "|",
                    _ => "|+",
                };
                let pad = " ".repeat(indent);
                let mut out = chomp.to_string();
                out.push('\n');
                for l in text.trim_end_matches('\n').split('\n') {
                    if !l.is_empty() {
                        out.push_str(&pad);
                        out.push_str(l);
                    }
                    out.push('\n');
                }
                for _ in 1..trailing {
                    out.push('\n');
                }
                out
            } else {
                double_quoted(text)
            }
        }
        _ => text.to_string(),
    }
}

/// The build as one JSON document: objects with their origins by JSON pointer, errors, gaps.
pub fn json(b: &Build, locate: Locate<'_>, place: &dyn Fn(usize, u32) -> Json) -> String {
    let objects: Vec<Json> = b
        .objects
        .iter()
        .map(|o| {
            let mut origins = Map::new();
            o.root.walk_origins(&mut String::new(), &mut |p, origin| {
                if let Some(at) = locate(origin) {
                    origins.insert(p.to_string(), Json::String(at));
                }
            });
            json!({
                "apiVersion": o.api_version,
                "kind": o.kind,
                "namespace": o.namespace,
                "name": o.name,
                "object": to_json(&o.root),
                "origins": origins,
            })
        })
        .collect();
    let errors: Vec<Json> = b
        .errors
        .iter()
        .map(|e| {
            let mut v = place(e.file, e.span.start);
            v["message"] = json!(e.message);
            v["fatal"] = json!(e.fatal);
            v
        })
        .collect();
    let gaps: Vec<Json> = b
        .gaps
        .iter()
        .map(|g| {
            let mut v = place(g.file, g.span.start);
            v["message"] = json!(g.message);
            v
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&json!({
        "objects": objects,
        "errors": errors,
        "gaps": gaps,
    }))
    .unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_round_trips() {
        let src = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {}\ndata:\n  a: \"yes\"\n  b: |\n    line1\n    line2\n  c: \"1.10\"\n  d: plain\nlist:\n- a: 1\n  b: [x]\n- - nested\n- 3\n";
        let p = crate::yaml::parse_stream(src);
        let n = Node::from_yaml(p.documents[0].root().unwrap(), 0);
        let o = RenderedObject::new(n.clone());
        let out = yaml(&[o], None);
        let back = crate::yaml::parse_stream(&out);
        assert!(back.problems.is_empty(), "{out}");
        let m = Node::from_yaml(back.documents[0].root().unwrap(), 0);
        assert!(super::super::json6902::same(&n, &m), "{out}");
        assert!(out.contains("a: \"yes\""));
    }
}
