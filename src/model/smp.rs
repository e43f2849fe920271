//! Strategic merge patches as kustomize (kyaml's merge2) applies them: mappings merge key by
//! key, `null` deletes, `$patch: delete` / `$patch: replace` directives, lists of mappings merge
//! element by element on their associative key (`name` for containers, env and volumes,
//! `mountPath` for volumeMounts, …), other lists are replaced. Every value the patch sets keeps
//! the patch's origin; what it leaves alone keeps its own.

use super::rendered::{Node, Value};

/// What a patch did to its target.
#[derive(Debug, PartialEq, Eq)]
pub enum SmpOutcome {
    Merged,
    /// `$patch: delete` at the top: the object leaves the build.
    Deleted,
}

/// The keys kyaml tries, in this order, to merge a list of mappings element by element
/// (`yaml.AssociativeSequenceKeys`).
const ASSOCIATIVE_KEYS: &[&str] = &[
    "mountPath",
    "devicePath",
    "ip",
    "type",
    "topologyKey",
    "name",
    "containerPort",
];

/// Applies `patch` to `target` in place.
pub fn apply_strategic_merge(target: &mut Node, patch: &Node) -> SmpOutcome {
    if directive(patch) == Some("delete") {
        return SmpOutcome::Deleted;
    }
    merge_node(target, patch);
    SmpOutcome::Merged
}

fn directive(n: &Node) -> Option<&str> {
    n.get("$patch").and_then(Node::as_str)
}

/// kyaml acts on `$patch` only; other `$` keys (`$setElementOrder/…`) are kept as plain
/// fields, as kustomize's output shows.
fn is_directive_key(k: &str) -> bool {
    k == "$patch"
}

/// The patch value with its directives removed, as set where the target had nothing.
pub fn clean(patch: &Node) -> Node {
    let value = match &patch.value {
        Value::Map(m) => Value::Map(
            m.iter()
                .filter(|(k, v)| !is_directive_key(k) && !v.is_null())
                .map(|(k, v)| (k.clone(), clean(v)))
                .collect(),
        ),
        Value::Seq(s) => Value::Seq(
            s.iter()
                .filter(|e| !matches!(directive(e), Some("delete") | Some("replace")))
                .map(clean)
                .collect(),
        ),
        v => v.clone(),
    };
    Node {
        value,
        origin: patch.origin,
    }
}

fn merge_node(dst: &mut Node, patch: &Node) {
    match (&mut dst.value, &patch.value) {
        (Value::Map(_), Value::Map(_)) => merge_map(dst, patch),
        (Value::Seq(_), Value::Seq(_)) => merge_list(dst, patch),
        _ => *dst = clean(patch),
    }
}

fn merge_map(dst: &mut Node, patch: &Node) {
    if directive(patch) == Some("replace") {
        *dst = clean(patch);
        return;
    }
    for (k, pv) in patch.entries() {
        if is_directive_key(k) {
            continue;
        }
        if pv.is_null() {
            dst.remove(k);
            continue;
        }
        match dst.get_mut(k) {
            Some(existing) => {
                if directive(pv) == Some("delete") {
                    dst.remove(k);
                } else {
                    merge_node(existing, pv);
                }
            }
            None => {
                if directive(pv) != Some("delete") {
                    dst.set(k, clean(pv));
                }
            }
        }
    }
}

/// The key every mapping element of the lists carries, kyaml's way.
fn associative_key(lists: &[&[Node]]) -> Option<&'static str> {
    for list in lists {
        let elements: Vec<&Node> = list
            .iter()
            .filter(|e| matches!(e.value, Value::Map(_)))
            .filter(|e| directive(e) != Some("replace"))
            .collect();
        if elements.is_empty() || elements.len() != list.len() - count_replace(list) {
            continue;
        }
        if let Some(k) = ASSOCIATIVE_KEYS
            .iter()
            .find(|k| elements.iter().all(|e| e.get(k).is_some()))
        {
            return Some(k);
        }
    }
    None
}

fn count_replace(list: &[Node]) -> usize {
    list.iter()
        .filter(|e| directive(e) == Some("replace"))
        .count()
}

fn merge_list(dst: &mut Node, patch: &Node) {
    let p = patch.items();
    if p.iter().any(|e| directive(e) == Some("replace")) {
        *dst = clean(patch);
        return;
    }
    let Some(key) = associative_key(&[p, dst.items()]) else {
        *dst = clean(patch);
        return;
    };
    // kyaml's order: the patch's elements first, in its order, then the target's others.
    let mut rest = std::mem::take(dst.items_mut().expect("a list"));
    let mut merged = Vec::with_capacity(rest.len() + p.len());
    for pe in p {
        let Some(kv) = pe.get(key).and_then(Node::as_str) else {
            continue;
        };
        let at = rest
            .iter()
            .position(|e| e.get(key).and_then(Node::as_str) == Some(kv));
        match (at, directive(pe)) {
            (Some(i), Some("delete")) => {
                rest.remove(i);
            }
            (None, Some("delete")) => {}
            (Some(i), _) => {
                let mut e = rest.remove(i);
                merge_map(&mut e, pe);
                merged.push(e);
            }
            (None, _) => merged.push(clean(pe)),
        }
    }
    merged.extend(rest);
    *dst.items_mut().expect("a list") = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rendered::Origin;

    fn node(text: &str, file: usize) -> Node {
        let p = crate::yaml::parse_stream(text);
        Node::from_yaml(p.documents[0].root().unwrap(), file)
    }

    const DEPLOY: &str = "spec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: app\n        image: a:1\n        env:\n        - name: A\n          value: x\n      - name: side\n        image: s:1\n";

    #[test]
    fn merges_containers_by_name_and_keeps_origins() {
        let mut t = node(DEPLOY, 0);
        let p = node(
            "spec:\n  template:\n    spec:\n      containers:\n      - name: app\n        env:\n        - name: B\n          value: y\n",
            1,
        );
        assert_eq!(apply_strategic_merge(&mut t, &p), SmpOutcome::Merged);
        let c = &t
            .path(&["spec", "template", "spec", "containers"])
            .unwrap()
            .items();
        assert_eq!(c.len(), 2, "sidecar stays");
        let env = c[0].get("env").unwrap().items();
        assert_eq!(env.len(), 2);
        // kyaml puts the patch's elements first, then the target's others.
        assert_eq!(env[0].str_at(&["name"]), Some("B"));
        assert_eq!(env[0].get("value").unwrap().origin.file, 1, "patched value");
        assert_eq!(env[1].get("value").unwrap().origin.file, 0, "kept value");
        assert_eq!(c[0].str_at(&["image"]), Some("a:1"));
    }

    #[test]
    fn directives_and_null() {
        let mut t = node(DEPLOY, 0);
        let p = node(
            "spec:\n  replicas: null\n  template:\n    spec:\n      containers:\n      - name: side\n        $patch: delete\n",
            1,
        );
        apply_strategic_merge(&mut t, &p);
        assert!(t.path(&["spec", "replicas"]).is_none());
        assert_eq!(
            t.path(&["spec", "template", "spec", "containers"])
                .unwrap()
                .items()
                .len(),
            1
        );
        let mut t = node(DEPLOY, 0);
        let p = node("spec:\n  template:\n    $patch: replace\n    x: 1\n", 1);
        apply_strategic_merge(&mut t, &p);
        assert_eq!(t.path(&["spec", "template"]).unwrap().entries().len(), 1);
        let p = node("$patch: delete\nkind: X\n", 1);
        assert_eq!(apply_strategic_merge(&mut t, &p), SmpOutcome::Deleted);
    }

    #[test]
    fn scalar_lists_are_replaced() {
        let mut t = node("args: [a, b]\n", 0);
        apply_strategic_merge(&mut t, &node("args: [c]\n", 1));
        assert_eq!(t.get("args").unwrap().items().len(), 1);
        assert_eq!(
            t.get("args").unwrap().origin,
            Origin::new(1, crate::source::Span::new(6, 9))
        );
    }
}
