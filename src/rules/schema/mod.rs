//! 5xx: the Flux API and its schema. The facts live in [`crate::flux_api`]; these rules only walk
//! documents against them.

pub mod api_version_removed;
pub mod invalid_duration;
pub mod invalid_value;
pub mod required_field_missing;

use crate::flux_api::{self, KindSchema};
use crate::yaml::{Document, NodeRef};

/// A document that declares a toolkit kind fluxvet knows the schema of.
pub struct FluxDoc<'a> {
    pub root: NodeRef<'a>,
    pub schema: &'static KindSchema,
}

pub fn flux_doc(doc: &Document) -> Option<FluxDoc<'_>> {
    let root = doc.root()?;
    let api_version = root.get("apiVersion")?.as_str()?;
    let kind = root.get("kind")?.as_str()?;
    let schema = flux_api::schema(api_version, kind)?;
    Some(FluxDoc { root, schema })
}

/// Every node at `path` (with `[]` for "each item"), with its dotted path (`spec.valuesFrom[1].kind`).
pub fn values_at<'a>(root: NodeRef<'a>, path: &[&str]) -> Vec<(String, NodeRef<'a>)> {
    let mut cur = vec![(String::new(), root)];
    for seg in path {
        let mut next = Vec::new();
        for (p, n) in cur {
            if *seg == "[]" {
                for (i, item) in n.items().into_iter().enumerate() {
                    next.push((format!("{p}[{i}]"), item));
                }
            } else if let Some(v) = n.get(seg) {
                let p = if p.is_empty() {
                    seg.to_string()
                } else {
                    format!("{p}.{seg}")
                };
                next.push((p, v));
            }
        }
        cur = next;
    }
    cur
}

/// The scalar's text when it is a YAML string fluxvet can judge: not a `${VAR}` that post-build
/// substitution fills in later, and not null.
pub fn judgeable_str<'a>(n: NodeRef<'a>) -> Option<&'a str> {
    let s = n.as_str()?;
    if n.is_null() || flux_api::is_substituted(s) {
        return None;
    }
    Some(s)
}
