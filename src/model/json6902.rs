//! JSON patches (RFC 6902) as kustomize applies them: add, remove, replace, move, copy and test,
//! JSON pointers with `~1` and `~0`, `-` for the end of a list. Added and replaced values keep the
//! origin of the patch's `value:`; a moved or copied value keeps its own.

use super::rendered::{Node, ScalarType, Value};

/// Applies the operations of `ops` (a list of `{op, path, value?, from?}`) in order. An error
/// names the failing operation's index and why; `target` may be partly patched then.
pub fn apply_json6902(target: &mut Node, ops: &Node) -> Result<(), Json6902Error> {
    let Value::Seq(list) = &ops.value else {
        return Err(Json6902Error {
            index: None,
            message: "a JSON 6902 patch must be a list of operations".into(),
        });
    };
    for (i, op) in list.iter().enumerate() {
        apply_one(target, op).map_err(|message| Json6902Error {
            index: Some(i),
            message,
        })?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Json6902Error {
    /// The operation at fault, when one is.
    pub index: Option<usize>,
    pub message: String,
}

fn pointer(p: &str) -> Result<Vec<String>, String> {
    if p.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = p.strip_prefix('/') else {
        return Err(format!(
            "path `{p}` is not a JSON pointer (starts without `/`)"
        ));
    };
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn apply_one(target: &mut Node, op: &Node) -> Result<(), String> {
    let name = op.str_at(&["op"]).ok_or("an operation has no `op`")?;
    let path = op.str_at(&["path"]).ok_or("an operation has no `path`")?;
    let segs = pointer(path)?;
    match name {
        "add" => {
            let v = op.get("value").ok_or("`add` needs a `value`")?.clone();
            add(target, &segs, v, path)
        }
        "remove" => remove(target, &segs, path).map(|_| ()),
        "replace" => {
            let v = op.get("value").ok_or("`replace` needs a `value`")?.clone();
            match get_mut(target, &segs) {
                Some(slot) => {
                    *slot = v;
                    Ok(())
                }
                // kustomize's json-patch sets a missing key of an existing mapping.
                None => {
                    let (last, parent) = segs.split_last().ok_or_else(|| missing(path))?;
                    match get_mut(target, parent) {
                        Some(
                            p @ Node {
                                value: Value::Map(_),
                                ..
                            },
                        ) => {
                            p.set(last, v);
                            Ok(())
                        }
                        _ => Err(missing(path)),
                    }
                }
            }
        }
        "move" => {
            let from = pointer(op.str_at(&["from"]).ok_or("`move` needs `from`")?)?;
            let v = remove(target, &from, op.str_at(&["from"]).unwrap_or(""))?;
            add(target, &segs, v, path)
        }
        "copy" => {
            let from_s = op.str_at(&["from"]).ok_or("`copy` needs `from`")?;
            let from = pointer(from_s)?;
            let v = get(target, &from).ok_or_else(|| missing(from_s))?.clone();
            add(target, &segs, v, path)
        }
        "test" => {
            let want = op.get("value").ok_or("`test` needs a `value`")?;
            let have = get(target, &segs).ok_or_else(|| missing(path))?;
            if same(have, want) {
                Ok(())
            } else {
                Err(format!("test failed: the value at `{path}` differs"))
            }
        }
        other => Err(format!(
            "unknown operation `{other}` (add, remove, replace, move, copy, test)"
        )),
    }
}

fn missing(path: &str) -> String {
    format!("no value at `{path}`")
}

/// Equal values, origins and key order aside; scalars by their resolved value.
pub fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar(x, tx), Value::Scalar(y, ty)) => {
            tx == ty && (x == y || (*tx == ScalarType::Null))
        }
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => false,
    }
}

fn index(seg: &str, len: usize, allow_end: bool) -> Option<usize> {
    if seg == "-" {
        return allow_end.then_some(len);
    }
    if seg.len() > 1 && seg.starts_with('0') {
        return None;
    }
    let i: usize = seg.parse().ok()?;
    (i < len || (allow_end && i == len)).then_some(i)
}

fn get<'a>(n: &'a Node, segs: &[String]) -> Option<&'a Node> {
    let mut cur = n;
    for s in segs {
        cur = match &cur.value {
            Value::Map(_) => cur.get(s)?,
            Value::Seq(items) => items.get(index(s, items.len(), false)?)?,
            Value::Scalar(..) => return None,
        };
    }
    Some(cur)
}

fn get_mut<'a>(n: &'a mut Node, segs: &[String]) -> Option<&'a mut Node> {
    let Some((first, rest)) = segs.split_first() else {
        return Some(n);
    };
    let next = match &mut n.value {
        Value::Map(m) => m.iter_mut().find(|(k, _)| **k == **first).map(|(_, v)| v)?,
        Value::Seq(items) => {
            let i = index(first, items.len(), false)?;
            items.get_mut(i)?
        }
        Value::Scalar(..) => return None,
    };
    get_mut(next, rest)
}

/// The node at `segs`, with missing mapping keys created on the way.
fn ensure_path<'a>(
    n: &'a mut Node,
    segs: &[String],
    origin: super::rendered::Origin,
) -> Option<&'a mut Node> {
    let Some((first, rest)) = segs.split_first() else {
        return Some(n);
    };
    if matches!(n.value, Value::Map(_)) {
        if n.get(first).is_none_or(Node::is_null) {
            n.set(first, Node::map(origin));
        }
        return ensure_path(n.get_mut(first)?, rest, origin);
    }
    let Value::Seq(items) = &mut n.value else {
        return None;
    };
    let i = index(first, items.len(), false)?;
    ensure_path(items.get_mut(i)?, rest, origin)
}

fn add(target: &mut Node, segs: &[String], v: Node, path: &str) -> Result<(), String> {
    let Some((last, parent)) = segs.split_last() else {
        *target = v;
        return Ok(());
    };
    // kustomize applies JSON patches with `EnsurePathExistsOnAdd`: missing parents appear.
    let origin = v.origin;
    let parent = ensure_path(target, parent, origin).ok_or_else(|| missing(path))?;
    match &mut parent.value {
        Value::Map(_) => {
            parent.set(last, v);
            Ok(())
        }
        Value::Seq(items) => {
            let i = index(last, items.len(), true)
                .ok_or_else(|| format!("index `{last}` is out of range at `{path}`"))?;
            items.insert(i, v);
            Ok(())
        }
        Value::Scalar(..) => Err(format!("`{path}` lies under a scalar")),
    }
}

fn remove(target: &mut Node, segs: &[String], path: &str) -> Result<Node, String> {
    let Some((last, parent)) = segs.split_last() else {
        return Err("cannot remove the whole object".into());
    };
    let parent = get_mut(target, parent).ok_or_else(|| missing(path))?;
    match &mut parent.value {
        Value::Map(_) => parent.remove(last).ok_or_else(|| missing(path)),
        Value::Seq(items) => {
            let i = index(last, items.len(), false).ok_or_else(|| missing(path))?;
            Ok(items.remove(i))
        }
        Value::Scalar(..) => Err(missing(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str, file: usize) -> Node {
        let p = crate::yaml::parse_stream(text);
        Node::from_yaml(p.documents[0].root().unwrap(), file)
    }

    #[test]
    fn operations() {
        let mut t = node("a:\n  b: 1\n  c: [x, y]\n\"d/e\": 2\n\"f~g\": 3\n", 0);
        let ops = node(
            "- op: add\n  path: /a/c/-\n  value: z\n- op: replace\n  path: /d~1e\n  value: 5\n- op: remove\n  path: /f~0g\n- op: move\n  from: /a/b\n  path: /b\n- op: copy\n  from: /b\n  path: /a/c/0\n- op: test\n  path: /b\n  value: 1\n",
            1,
        );
        apply_json6902(&mut t, &ops).unwrap();
        let c: Vec<&str> = t
            .path(&["a", "c"])
            .unwrap()
            .items()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(c, ["1", "x", "y", "z"]);
        assert_eq!(t.str_at(&["d/e"]), Some("5"));
        assert_eq!(
            t.get("d/e").unwrap().origin.file,
            1,
            "replaced value points at the patch"
        );
        assert_eq!(
            t.get("b").unwrap().origin.file,
            0,
            "moved value keeps its origin"
        );
        assert!(t.get("f~g").is_none());
    }

    #[test]
    fn failures_name_the_operation() {
        let mut t = node("a: 1\n", 0);
        let e = apply_json6902(
            &mut t,
            &node("- op: replace\n  path: /zz/y\n  value: 1\n", 1),
        )
        .unwrap_err();
        assert_eq!(e.index, Some(0));
        let e = apply_json6902(&mut t, &node("- op: frob\n  path: /a\n", 1)).unwrap_err();
        assert!(e.message.contains("unknown operation"));
        let e =
            apply_json6902(&mut t, &node("- op: test\n  path: /a\n  value: 2\n", 1)).unwrap_err();
        assert!(e.message.contains("test failed"));
    }
}
