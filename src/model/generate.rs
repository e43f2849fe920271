//! configMapGenerator and secretGenerator: the object each entry makes, and kustomize's name
//! hash (sha256 of the object's kind, name and data as Go's `json.Marshal` writes them, first
//! ten hex digits with `0 1 3 a e` swapped for letters), so generated names match kustomize's
//! and a Deployment's reference to `app-config` resolves to `app-config-7c5f9b2hm4`.

use crate::flux_api::CoreKind;

use super::kustomization::{GeneratedKind, Generator, GeneratorOptions};
use super::rendered::{Node, Origin, ScalarType, Value};

/// One generated object, before its hash suffix.
pub struct Generated {
    pub root: Node,
    /// Whether the name gets the hash suffix at the end of the build.
    pub hash: bool,
}

/// Makes the object of `g`; `read` returns a file's bytes by its path relative to the
/// kustomization's directory. An error names the entry at fault.
pub fn generate(
    g: &Generator,
    global: Option<&GeneratorOptions>,
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Generated, (String, Origin)> {
    let o = g.origin;
    let mut data: Vec<(String, Vec<u8>, Origin)> = Vec::new();
    let mut put =
        |k: String, v: Vec<u8>, at: Origin| match data.iter_mut().find(|(x, _, _)| *x == k) {
            Some(slot) => {
                slot.1 = v;
                slot.2 = at;
            }
            None => data.push((k, v, at)),
        };
    for env in &g.envs {
        let bytes = read(&env.path)
            .ok_or_else(|| (format!("cannot read env file `{}`", env.path), env.origin))?;
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            let line = line.trim_start_matches('\u{feff}');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            match line.split_once('=') {
                Some((k, v)) => put(
                    k.trim_start().to_string(),
                    v.as_bytes().to_vec(),
                    env.origin,
                ),
                None => {
                    return Err((
                        format!(
                            "env file `{}` has a line without `=` (`{}`); kustomize would read \
                             it from the environment",
                            env.path,
                            line.trim()
                        ),
                        env.origin,
                    ));
                }
            }
        }
    }
    for lit in &g.literals {
        let Some((k, v)) = lit.path.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err((
                format!("literal `{}` is not KEY=VALUE", lit.path),
                lit.origin,
            ));
        };
        put(
            k.to_string(),
            remove_quotes(v).as_bytes().to_vec(),
            lit.origin,
        );
    }
    for f in &g.files {
        let (key, path) = match f.path.split_once('=') {
            Some((k, p)) => (k.to_string(), p),
            None => (
                f.path.rsplit('/').next().unwrap_or(&f.path).to_string(),
                f.path.as_str(),
            ),
        };
        let bytes = read(path).ok_or_else(|| (format!("cannot read file `{path}`"), f.origin))?;
        put(key, bytes, f.origin);
    }
    let opt = |f: &dyn Fn(&GeneratorOptions) -> Option<bool>| {
        g.options
            .as_ref()
            .and_then(f)
            .or_else(|| global.and_then(f))
    };
    let hash = !opt(&|x| x.disable_name_suffix_hash).unwrap_or(false);
    let immutable = opt(&|x| x.immutable).unwrap_or(false);

    let mut root = Node::map(o);
    root.set("apiVersion", Node::string("v1", o));
    root.set(
        "kind",
        Node::string(
            match g.kind {
                GeneratedKind::ConfigMap => CoreKind::ConfigMap.name(),
                GeneratedKind::Secret => CoreKind::Secret.name(),
            },
            o,
        ),
    );
    let meta = root.ensure_map("metadata", o);
    meta.set("name", Node::string(g.name.as_str(), o));
    if let Some(ns) = &g.namespace {
        meta.set("namespace", Node::string(ns.as_str(), o));
    }
    fn labels(x: &GeneratorOptions) -> &Vec<(String, Node)> {
        &x.labels
    }
    fn annotations(x: &GeneratorOptions) -> &Vec<(String, Node)> {
        &x.annotations
    }
    type Pick = fn(&GeneratorOptions) -> &Vec<(String, Node)>;
    for (field, pick) in [
        ("labels", labels as Pick),
        ("annotations", annotations as Pick),
    ] {
        let mut pairs: Vec<(String, Node)> = global.map(|x| pick(x).clone()).unwrap_or_default();
        if let Some(own) = &g.options {
            for (k, v) in pick(own) {
                match pairs.iter_mut().find(|(x, _)| x == k) {
                    Some(slot) => slot.1 = v.clone(),
                    None => pairs.push((k.clone(), v.clone())),
                }
            }
        }
        if !pairs.is_empty() {
            let m = meta.ensure_map(field, o);
            for (k, v) in pairs {
                m.set(&k, string_of(v));
            }
        }
    }
    let mut d = Node::map(o);
    let mut binary = Node::map(o);
    for (k, v, at) in data {
        match (g.kind, String::from_utf8(v)) {
            (GeneratedKind::ConfigMap, Ok(s)) => {
                d.set(&k, Node::string(s, at));
            }
            (GeneratedKind::ConfigMap, Err(e)) => {
                binary.set(&k, Node::string(wrapped_base64(e.as_bytes()), at));
            }
            (GeneratedKind::Secret, Ok(s)) => {
                d.set(&k, Node::string(wrapped_base64(s.as_bytes()), at));
            }
            (GeneratedKind::Secret, Err(e)) => {
                d.set(&k, Node::string(wrapped_base64(e.as_bytes()), at));
            }
        }
    }
    if !binary.entries().is_empty() {
        root.set("binaryData", binary);
    }
    if !d.entries().is_empty() {
        root.set("data", d);
    }
    if g.kind == GeneratedKind::Secret {
        root.set(
            "type",
            Node::string(g.secret_type.as_deref().unwrap_or("Opaque"), o),
        );
    }
    if immutable {
        root.set(
            "immutable",
            Node {
                value: Value::Scalar("true".into(), ScalarType::Bool),
                origin: o,
            },
        );
    }
    Ok(Generated { root, hash })
}

fn string_of(mut v: Node) -> Node {
    if let Value::Scalar(_, ty) = &mut v.value {
        *ty = ScalarType::Str;
    }
    v
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// kustomize's name hash of a ConfigMap or Secret as it stands (after every transformer).
/// kustomize's hasher looks the name up as `Lookup("metadata/name")`, one key that never
/// exists, so the name it hashes is always `""`; an absent `data` is `""` too.
pub fn name_hash(root: &Node) -> String {
    let kind = root.str_at(&["kind"]).unwrap_or("");
    let map_json = |n: Option<&Node>| -> Option<String> {
        let d = n.filter(|d| matches!(d.value, Value::Map(_)))?;
        let mut pairs: Vec<(&str, String)> = d
            .entries()
            .iter()
            .map(|(k, v)| {
                let value = match &v.value {
                    Value::Scalar(t, ScalarType::Str) => go_json_string(t),
                    Value::Scalar(t, ty) => super::rendered::scalar_json(t, *ty).to_string(),
                    _ => super::rendered::to_json(v).to_string(),
                };
                (&**k, value)
            })
            .collect();
        pairs.sort();
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}:{v}", go_json_string(k)))
            .collect();
        Some(format!("{{{}}}", body.join(",")))
    };
    let data = map_json(root.get("data")).unwrap_or_else(|| "\"\"".into());
    // json.Marshal of a map sorts its keys.
    let json = if kind == CoreKind::Secret.name() {
        let t = root.str_at(&["type"]).unwrap_or("");
        let string_data = map_json(root.get("stringData"))
            .map(|s| format!(",\"stringData\":{s}"))
            .unwrap_or_default();
        format!(
            "{{\"data\":{data},\"kind\":\"Secret\",\"name\":\"\"{string_data},\"type\":{}}}",
            go_json_string(t)
        )
    } else {
        let binary = map_json(root.get("binaryData"))
            .map(|s| format!("\"binaryData\":{s},"))
            .unwrap_or_default();
        format!("{{{binary}\"data\":{data},\"kind\":\"ConfigMap\",\"name\":\"\"}}")
    };
    let hex = sha256_hex(json.as_bytes());
    hex[..10]
        .chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// A JSON string as Go's `json.Marshal` writes it: HTML-safe (`<`, `>`, `&` escaped), U+2028
/// and U+2029 escaped, `\b` `\f` `\n` `\r` `\t` short, other controls as `\u00XX`.
pub fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// base64 as kyaml writes generated data: past 70 characters, every 70-character line ends
/// with a newline (the last one too).
pub fn wrapped_base64(bytes: &[u8]) -> String {
    let b = base64(bytes);
    if b.len() < 70 {
        return b;
    }
    let mut out = String::with_capacity(b.len() + b.len() / 70 + 1);
    for chunk in b.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out
}

pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SHA-256 (FIPS 180-4), hex: the only hash the build needs, too small to take a crate for.
pub fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                block[4 * i],
                block[4 * i + 1],
                block[4 * i + 2],
                block[4 * i + 3],
            ]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"hi!"), "aGkh");
        let long = wrapped_base64(&[b'x'; 60]);
        assert_eq!(long.lines().map(str::len).collect::<Vec<_>>(), [70, 10]);
        assert!(long.ends_with('\n'));
        assert_eq!(go_json_string("a<b\n"), "\"a\\u003cb\\n\"");
        // `kubectl kustomize` names a ConfigMap of `a=b` called x `x-4h2mbtbbt6`.
        let p = crate::yaml::parse_stream("kind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n");
        let n = Node::from_yaml(p.documents[0].root().unwrap(), 0);
        assert_eq!(name_hash(&n), "4h2mbtbbt6");
    }
}
