//! Printing a build: YAML as `kubectl kustomize` prints it (documents separated by `---`,
//! two-space indentation, list items at their key's indentation), optionally a `# file:line:col`
//! comment on every value; or JSON with the origins as JSON pointers.

use serde_json::{Map, Value as Json, json};

use super::build::Build;
use super::rendered::RenderedObject;
use super::rendered::{Node, Origin, ScalarType, Text, Value, resolve_plain, to_json};

/// Says where an origin is (`path:line:col`), `None` for a made-up value.
pub type Locate<'a> = &'a (dyn Fn(Origin) -> Option<String> + Sync);

pub fn yaml(objects: &[RenderedObject], locate: Option<Locate<'_>>) -> String {
    let mut out = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        object(&mut out, i, o, locate);
    }
    String::from_utf8(out).unwrap_or_default()
}

/// [`yaml`], written to `w` as it is formatted: the text of a large build is never held whole
/// (a fresh half-megabyte string is pages the kernel zeroes first). Runs of objects are
/// formatted in parallel, a few at a time, and written in order.
pub fn write_yaml(
    w: &mut dyn std::io::Write,
    objects: &[RenderedObject],
    locate: Option<Locate<'_>>,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    /// Objects per task: enough to pay for the task, few enough to share between threads.
    const RUN: usize = 16;
    /// Tasks formatted before their text is written.
    const BATCH: usize = 16;
    for (b, batch) in objects.chunks(RUN * BATCH).enumerate() {
        let texts: Vec<Vec<u8>> = batch
            .par_chunks(RUN)
            .enumerate()
            .map(|(r, run)| {
                let mut out = Vec::with_capacity(16 << 10);
                for (j, o) in run.iter().enumerate() {
                    object(&mut out, b * RUN * BATCH + r * RUN + j, o, locate);
                }
                out
            })
            .collect();
        for t in &texts {
            w.write_all(t)?;
        }
    }
    Ok(())
}

/// Object `i` of the output: a `---` line before all but the first.
fn object(out: &mut Vec<u8>, i: usize, o: &RenderedObject, locate: Option<Locate<'_>>) {
    if i > 0 {
        out.extend_from_slice(b"---\n");
    }
    match &o.root.value {
        Value::Map(m) => map(out, m, 0, false, locate),
        _ => {
            scalar_text(out, &o.root, 0);
            out.push(b'\n');
        }
    }
}

/// `n` spaces.
fn indent_to(out: &mut Vec<u8>, n: usize) {
    const SPACES: &[u8; 64] = &[b' '; 64];
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        out.extend_from_slice(&SPACES[..k]);
        left -= k;
    }
}

fn comment(out: &mut Vec<u8>, n: &Node, locate: Option<Locate<'_>>) {
    if let Some(at) = locate.and_then(|l| l(n.origin)) {
        out.extend_from_slice(b"  # ");
        out.extend_from_slice(at.as_bytes());
    }
}

fn map(
    out: &mut Vec<u8>,
    m: &[(Text, Node)],
    indent: usize,
    inline_first: bool,
    locate: Option<Locate<'_>>,
) {
    for (i, (k, v)) in m.iter().enumerate() {
        if !(inline_first && i == 0) {
            indent_to(out, indent);
        }
        key_text(out, k);
        out.push(b':');
        value_after_key(out, v, indent, locate);
    }
}

fn value_after_key(out: &mut Vec<u8>, v: &Node, indent: usize, locate: Option<Locate<'_>>) {
    match &v.value {
        Value::Map(m) if m.is_empty() => {
            out.extend_from_slice(b" {}");
            comment(out, v, locate);
            out.push(b'\n');
        }
        Value::Seq(s) if s.is_empty() => {
            out.extend_from_slice(b" []");
            comment(out, v, locate);
            out.push(b'\n');
        }
        Value::Map(m) => {
            comment(out, v, locate);
            out.push(b'\n');
            map(out, m, indent + 2, false, locate);
        }
        Value::Seq(s) => {
            comment(out, v, locate);
            out.push(b'\n');
            seq(out, s, indent, locate);
        }
        Value::Scalar(..) => {
            out.push(b' ');
            scalar(out, v, indent + 2, locate);
        }
    }
}

fn seq(out: &mut Vec<u8>, s: &[Node], indent: usize, locate: Option<Locate<'_>>) {
    for item in s {
        indent_to(out, indent);
        out.push(b'-');
        match &item.value {
            Value::Map(m) if !m.is_empty() => {
                out.push(b' ');
                map(out, m, indent + 2, true, locate);
            }
            Value::Seq(inner) if !inner.is_empty() => {
                comment(out, item, locate);
                out.push(b'\n');
                seq(out, inner, indent + 2, locate);
            }
            Value::Map(_) => {
                out.extend_from_slice(b" {}");
                comment(out, item, locate);
                out.push(b'\n');
            }
            Value::Seq(_) => {
                out.extend_from_slice(b" []");
                comment(out, item, locate);
                out.push(b'\n');
            }
            Value::Scalar(..) => {
                out.push(b' ');
                scalar(out, item, indent + 2, locate);
            }
        }
    }
}

/// A scalar, its comment and the line end (a block scalar's lines follow the comment).
fn scalar(out: &mut Vec<u8>, n: &Node, indent: usize, locate: Option<Locate<'_>>) {
    let start = out.len();
    scalar_text(out, n, indent);
    match out[start..].iter().position(|&b| b == b'\n') {
        Some(at) => {
            let at = start + at;
            let unterminated = !out[at + 1..].ends_with(b"\n");
            if locate.is_some() {
                // The comment goes on the header line (`|-  # file:line:col`), before the body.
                let body = out.split_off(at);
                comment(out, n, locate);
                out.extend_from_slice(&body);
            }
            if unterminated {
                out.push(b'\n');
            }
        }
        None => {
            comment(out, n, locate);
            out.push(b'\n');
        }
    }
}

fn key_text(out: &mut Vec<u8>, k: &str) {
    if plain_safe(k) {
        out.extend_from_slice(k.as_bytes());
    } else {
        double_quoted(out, k);
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
    let Some(&first) = s.as_bytes().first() else {
        return false;
    };
    if first.is_ascii_alphabetic() {
        // Asked of every key and string of the output, most of them words: one that starts
        // with a letter is never a number (nor `.inf`, `~`), so only the null and boolean
        // words read as something else, the longest five letters.
        if s.len() <= 5 && (is_yaml11_bool(s) || matches!(s, "null" | "Null" | "NULL")) {
            return false;
        }
    } else {
        if resolve_plain(s) != ScalarType::Str
            || is_yaml11_bool(s)
            || crate::yaml::scalar::is_number(s)
        {
            return false;
        }
        let first = s.chars().next().unwrap_or(' ');
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
            return false;
        }
    }
    if s.ends_with(char::is_whitespace) || s.ends_with(':') {
        return false;
    }
    // One pass for `: `, ` #` and control characters (C0, DEL and C1, whose UTF-8 is
    // 0xC2 0x80..=0x9F), after a pass without a branch per byte (it vectorizes) that finds
    // none of their bytes in most strings.
    let b = s.as_bytes();
    let may_need_quotes = b.iter().fold(false, |seen, &c| {
        seen | (c < 0x20) | (c == 0x7F) | (c == b':') | (c == b'#') | (c == 0xC2)
    });
    if !may_need_quotes {
        return true;
    }
    !b.iter().enumerate().any(|(i, &c)| match c {
        b':' => b.get(i + 1) == Some(&b' '),
        b' ' => b.get(i + 1) == Some(&b'#'),
        0xC2 => b.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n)),
        _ => c < 0x20 || c == 0x7F,
    })
}

/// A JSON string, which YAML reads as the same double-quoted scalar.
fn double_quoted(out: &mut Vec<u8>, s: &str) {
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

fn scalar_text(out: &mut Vec<u8>, n: &Node, indent: usize) {
    let Value::Scalar(text, ty) = &n.value else {
        return;
    };
    match ty {
        ScalarType::Null => out.extend_from_slice(b"null"),
        ScalarType::Str => {
            if plain_safe(text) {
                out.extend_from_slice(text.as_bytes());
            } else if text.contains('\n')
                && !text.starts_with([' ', '\n'])
                && !text.chars().any(|c| c.is_control() && c != '\n')
                && !text.lines().any(|l| l.ends_with([' ', '\t']))
            {
                let trailing = text.len() - text.trim_end_matches('\n').len();
                let chomp: &[u8] = match trailing {
                    0 => b"|-",
                    1 => b"|",
                    _ => b"|+",
                };
                out.extend_from_slice(chomp);
                out.push(b'\n');
                for l in text.trim_end_matches('\n').split('\n') {
                    if !l.is_empty() {
                        indent_to(out, indent);
                        out.extend_from_slice(l.as_bytes());
                    }
                    out.push(b'\n');
                }
                for _ in 1..trailing {
                    out.push(b'\n');
                }
            } else {
                double_quoted(out, text);
            }
        }
        _ => out.extend_from_slice(text.as_bytes()),
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

    /// [`plain_safe`] as it was first written, check by check.
    fn plain_safe_reference(s: &str) -> bool {
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

    #[test]
    fn plain_safe_agrees_with_its_reference() {
        let words = [
            "",
            "a",
            "y",
            "Y",
            "yes",
            "No",
            "on",
            "OFF",
            "true",
            "False",
            "null",
            "NULL",
            "Nullx",
            "nan",
            ".nan",
            ".inf",
            "-.Inf",
            "~",
            "1",
            "0x1F",
            "1_000",
            "1e3",
            "0.5",
            "-",
            "- a",
            "a: b",
            "a:b",
            "a:",
            "a #b",
            "a#b",
            "#a",
            "a ",
            " a",
            "a\tb",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{a0}",
            "é",
            "a\u{2028}b",
            "ab\u{9f}",
            "key.with/slash",
            "@x",
            "`x",
            "x\n",
            "é ",
            "onx",
            "yess",
            "Z",
            "k8s.io/name",
            "0",
            "00",
            "+1",
            "+a",
            ".a",
            "_a",
            "1a",
        ];
        for w in words {
            assert_eq!(plain_safe(w), plain_safe_reference(w), "{w:?}");
        }
    }

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

    #[test]
    fn written_in_pieces_is_the_same_text_with_origins_on_block_headers() {
        let src = "kind: ConfigMap\ndata:\n  script: |\n    echo a\n\n    echo b\n  plain: x\n";
        let p = crate::yaml::parse_stream(src);
        let n = Node::from_yaml(p.documents[0].root().unwrap(), 0);
        let objects = vec![RenderedObject::new(n.clone()); 3];
        let locate = |_: Origin| Some("f.yaml:1:1".to_string());
        let whole = yaml(&objects, Some(&locate));
        let mut written = Vec::new();
        write_yaml(&mut written, &objects, Some(&locate)).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), whole);
        let one = yaml(&objects[..1], Some(&locate));
        assert_eq!(
            one,
            "kind: ConfigMap  # f.yaml:1:1\ndata:  # f.yaml:1:1\n  script: |  # f.yaml:1:1\n    \
             echo a\n\n    echo b\n  plain: x  # f.yaml:1:1\n"
        );
        assert_eq!(whole.matches("---\n").count(), 2);
    }
}
