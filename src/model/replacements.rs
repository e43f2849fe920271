//! `replacements:` — copy a value from one object's field into fields of others, with
//! kustomize's field paths (`spec.template.spec.containers.[name=app].image`, `[a.b]` for a key
//! with dots) and the `delimiter`/`index`/`create` options. A copied value keeps the origin of
//! the source field it was copied from.

use super::kustomization::Selector;
use super::rendered::RenderedObject;
use super::rendered::{Node, Value};
use super::select;

/// Splits a field path on `.` outside brackets.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn get<'a>(n: &'a Node, segs: &[String]) -> Option<&'a Node> {
    let Some((first, rest)) = segs.split_first() else {
        return Some(n);
    };
    let next = step(n, first)?;
    get(next, rest)
}

fn step<'a>(n: &'a Node, seg: &str) -> Option<&'a Node> {
    match &n.value {
        Value::Seq(items) => {
            if let Some((k, v)) = bracket_match(seg) {
                return items.iter().find(|e| e.str_at(&[k]) == Some(v));
            }
            items.get(seg.parse::<usize>().ok()?)
        }
        Value::Map(_) => n.get(unbracket(seg)),
        Value::Scalar(..) => None,
    }
}

fn bracket_match(seg: &str) -> Option<(&str, &str)> {
    seg.strip_prefix('[')?.strip_suffix(']')?.split_once('=')
}

fn unbracket(seg: &str) -> &str {
    seg.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(seg)
}

/// Sets every node at `segs` (a `*` segment visits every element); creates missing mappings
/// when `create`. Returns how many were set.
fn set_at(n: &mut Node, segs: &[String], create: bool, f: &mut dyn FnMut(&mut Node)) -> usize {
    let Some((first, rest)) = segs.split_first() else {
        f(n);
        return 1;
    };
    match &mut n.value {
        Value::Seq(items) => {
            if first == "*" {
                return items.iter_mut().map(|e| set_at(e, rest, create, f)).sum();
            }
            if let Some((k, v)) = bracket_match(first) {
                return items
                    .iter_mut()
                    .filter(|e| e.str_at(&[k]) == Some(v))
                    .map(|e| set_at(e, rest, create, f))
                    .sum();
            }
            match first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(e) => set_at(e, rest, create, f),
                None => 0,
            }
        }
        Value::Map(_) => {
            let key = unbracket(first);
            if n.get(key).is_none() {
                if !create {
                    return 0;
                }
                let origin = n.origin;
                n.set(key, Node::map(origin));
            }
            set_at(n.get_mut(key).expect("set"), rest, create, f)
        }
        Value::Scalar(..) => 0,
    }
}

fn delimited(value: &str, delimiter: &str, index: i64) -> Option<String> {
    let parts: Vec<&str> = value.split(delimiter).collect();
    usize::try_from(index)
        .ok()
        .and_then(|i| parts.get(i))
        .map(|s| s.to_string())
}

/// The error of a replacement whose source selects no object.
pub const NO_SOURCE: &str = "the source selects no object";

/// Applies one replacement (`source` and `targets`) to `objects`.
pub fn apply(objects: &mut [RenderedObject], rep: &Node) -> Result<(), String> {
    let source = rep.get("source").ok_or("no `source`")?;
    let sel = Selector::of_node(source);
    let found: Vec<&RenderedObject> = objects
        .iter()
        .filter(|o| select::matches(&sel, o))
        .collect();
    let src = match found.as_slice() {
        [one] => *one,
        [] => return Err(NO_SOURCE.into()),
        _ => return Err("the source selects more than one object".into()),
    };
    let field = source.str_at(&["fieldPath"]).unwrap_or("metadata.name");
    let mut value = get(&src.root, &split_path(field))
        .ok_or_else(|| format!("the source has no field `{field}`"))?
        .clone();
    if let Some(d) = source.str_at(&["options", "delimiter"]) {
        let index: i64 = source
            .str_at(&["options", "index"])
            .and_then(|i| i.parse().ok())
            .unwrap_or(0);
        let text = value.as_str().unwrap_or("").to_string();
        let part = delimited(&text, d, index).unwrap_or_default();
        value = Node::string(part, value.origin);
    }
    for t in rep.get("targets").map(Node::items).unwrap_or_default() {
        let sel = t.get("select").map(Selector::of_node).unwrap_or_default();
        let rejects: Vec<Selector> = t
            .get("reject")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(Selector::of_node)
            .collect();
        let create = t.str_at(&["options", "create"]) == Some("true");
        let delimiter = t.str_at(&["options", "delimiter"]).map(str::to_string);
        let index: i64 = t
            .str_at(&["options", "index"])
            .and_then(|i| i.parse().ok())
            .unwrap_or(0);
        for o in objects.iter_mut() {
            if !select::matches(&sel, o) || rejects.iter().any(|r| select::matches(r, o)) {
                continue;
            }
            for fp in t.get("fieldPaths").map(Node::items).unwrap_or_default() {
                let Some(fp) = fp.as_str() else { continue };
                let v = value.clone();
                let n = set_at(
                    &mut o.root,
                    &split_path(fp),
                    create,
                    &mut |slot| match &delimiter {
                        Some(d) => {
                            let cur = slot.as_str().unwrap_or("").to_string();
                            let mut parts: Vec<String> =
                                cur.split(d.as_str()).map(str::to_string).collect();
                            let new = v.as_str().unwrap_or("").to_string();
                            if index < 0 {
                                parts.insert(0, new);
                            } else if (index as usize) < parts.len() {
                                parts[index as usize] = new;
                            } else {
                                parts.push(new);
                            }
                            *slot = Node::string(parts.join(d), v.origin);
                        }
                        None => *slot = v.clone(),
                    },
                );
                if n == 0 && !create {
                    return Err(format!(
                        "{} has no field `{fp}` (set `options.create: true` to add it)",
                        o.display()
                    ));
                }
            }
            o.refresh();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            split_path("spec.containers.[name=a.b].image"),
            ["spec", "containers", "[name=a.b]", "image"]
        );
        assert_eq!(delimited("a:b:c", ":", 1).as_deref(), Some("b"));
    }
}
