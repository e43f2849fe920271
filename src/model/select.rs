//! Which objects a patch `target`, a replacement's `select` or `reject` picks, as kustomize's
//! `ResMap.Select` decides: group, version and kind exactly; name and namespace as anchored
//! regular expressions against the original or the current id; label and annotation selectors
//! in Kubernetes' syntax.

use super::build::RenderedObject;
use super::fieldspec::{group_of, is_cluster_scoped};
use super::kustomization::Selector;
use super::rendered::Node;

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

fn regex_matches(pattern: &str, text: &str) -> bool {
    match regex_lite::Regex::new(&format!("^(?:{pattern})$")) {
        Ok(r) => r.is_match(text),
        Err(_) => pattern == text,
    }
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
