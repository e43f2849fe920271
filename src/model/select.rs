//! Which objects a patch `target`, a replacement's `select` or `reject` picks, as kustomize's
//! `ResMap.Select` decides: group, version and kind exactly; name and namespace as anchored
//! regular expressions against the original or the current id; label and annotation selectors
//! in Kubernetes' syntax.

use super::fieldspec::{group_of, is_cluster_scoped};
use super::kustomization::Selector;
use super::rendered::Node;
use super::rendered::RenderedObject;

/// The namespace kustomize compares ids by: `default` when none is set, a marker for
/// cluster-scoped kinds.
pub fn effective_namespace<'a>(api_version: &str, kind: &str, ns: Option<&'a str>) -> &'a str {
    if is_cluster_scoped(api_version, kind) {
        return "~cluster";
    }
    match ns {
        None | Some("") => "default",
        Some(n) => n,
    }
}

/// Whether `text` matches `pattern` whole (kustomize anchors target regexes). Compiled
/// patterns are kept per thread: a targeted patch is matched against every object.
fn regex_matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains(|c: char| "\\.*+?()[]{}|^$".contains(c)) {
        return pattern == text;
    }
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Option<regex_lite::Regex>>> =
            Default::default();
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let r = c
            .entry(pattern.to_string())
            .or_insert_with(|| regex_lite::Regex::new(&format!("^(?:{pattern})$")).ok());
        match r {
            Some(r) => r.is_match(text),
            None => pattern == text,
        }
    })
}

pub fn matches(s: &Selector, o: &RenderedObject) -> bool {
    let api = o.api_version.as_str();
    let (group, version) = match api.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api),
    };
    if s.group.as_deref().is_some_and(|g| g != group)
        || s.version.as_deref().is_some_and(|v| v != version)
        || s.kind.as_deref().is_some_and(|k| k != o.kind)
    {
        return false;
    }
    let original = o.original();
    if let Some(ns) = &s.namespace {
        let cur = effective_namespace(api, &o.kind, o.namespace.as_deref());
        let org = effective_namespace(api, &o.kind, original.0.as_deref());
        if !regex_matches(ns, org) && !regex_matches(ns, cur) {
            return false;
        }
    }
    if let Some(name) = &s.name
        && !regex_matches(name, &original.1)
        && !regex_matches(name, &o.name)
    {
        return false;
    }
    if let Some(l) = &s.label_selector
        && !label_selector_matches(l, o.root.path(&["metadata", "labels"]))
    {
        return false;
    }
    if let Some(a) = &s.annotation_selector
        && !label_selector_matches(a, o.root.path(&["metadata", "annotations"]))
    {
        return false;
    }
    let _ = group_of;
    true
}

/// A Kubernetes label selector string (`a=b,c!=d,e in (x,y),!f,g`) against a labels mapping.
pub fn label_selector_matches(selector: &str, labels: Option<&Node>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::as_str);
    split_requirements(selector).iter().all(|req| {
        let req = req.trim();
        if req.is_empty() {
            return true;
        }
        if let Some(k) = req.strip_prefix('!') {
            return get(k.trim()).is_none();
        }
        if let Some((k, v)) = req.split_once("!=") {
            return get(k.trim()) != Some(v.trim());
        }
        if let Some((k, v)) = req.split_once("==").or_else(|| req.split_once('=')) {
            return get(k.trim()) == Some(v.trim());
        }
        for (op, negate) in [(" notin ", true), (" in ", false)] {
            if let Some((k, set)) = req.split_once(op) {
                let set: Vec<&str> = set
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(str::trim)
                    .collect();
                let v = get(k.trim());
                let inside = v.is_some_and(|v| set.contains(&v));
                return if negate { !inside } else { inside };
            }
        }
        get(req).is_some()
    })
}

fn split_requirements(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_by_anchored_regex_and_original_name() {
        let p = crate::yaml::parse_stream(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {tier: a}\n",
        );
        let mut o = RenderedObject::new(Node::from_yaml(p.documents[0].root().unwrap(), 0));
        let sel = |name: &str| Selector {
            name: Some(name.into()),
            ..Selector::default()
        };
        assert!(matches(&sel("w.*"), &o));
        assert!(!matches(&sel("we"), &o), "anchored");
        o.remember_id();
        o.name = "p-web".into();
        assert!(matches(&sel("web"), &o), "the original name still matches");
        let s = Selector {
            group: Some("apps".into()),
            kind: Some("Deployment".into()),
            label_selector: Some("tier=a".into()),
            namespace: Some("default".into()),
            ..Selector::default()
        };
        assert!(matches(&s, &o), "no namespace is `default`");
        let s = Selector {
            version: Some("v2".into()),
            ..Selector::default()
        };
        assert!(!matches(&s, &o));
    }

    #[test]
    fn label_selectors() {
        let p = crate::yaml::parse_stream("app: web\ntier: front\n");
        let l = Node::from_yaml(p.documents[0].root().unwrap(), 0);
        assert!(label_selector_matches("app=web", Some(&l)));
        assert!(label_selector_matches("app in (web, api),tier", Some(&l)));
        assert!(!label_selector_matches("app notin (web)", Some(&l)));
        assert!(label_selector_matches("!missing,tier!=back", Some(&l)));
        assert!(!label_selector_matches("app==api", Some(&l)));
    }
}
