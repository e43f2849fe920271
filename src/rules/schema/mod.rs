//! 5xx: the Flux API and its schema. The facts live in [`crate::flux_api`]; these rules only walk
//! documents against them.

pub mod api_version_removed;
pub mod invalid_duration;
pub mod invalid_value;
pub mod patch_heuristic;
pub mod required_field_missing;
pub mod schema_violation;

use crate::flux_api::{self, KindSchema};
use crate::model::index::Object;
use crate::yaml::{Document, NodeRef};

/// A document that declares a toolkit kind fluxvet knows the schema of.
#[derive(Clone, Copy)]
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

/// A dotted path to one node (`spec.valuesFrom[1].kind`), written out only when a finding
/// quotes it: formatting it for every node visited cost more than the checks.
pub struct Dotted<'p> {
    path: &'p [&'p str],
    /// The item index for each `[]` of the path, in order.
    items: Vec<usize>,
}

impl std::fmt::Display for Dotted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut items = self.items.iter();
        for (i, seg) in self.path.iter().enumerate() {
            if *seg == "[]" {
                write!(f, "[{}]", items.next().copied().unwrap_or(0))?;
            } else if i == 0 {
                f.write_str(seg)?;
            } else {
                write!(f, ".{seg}")?;
            }
        }
        Ok(())
    }
}

/// [`flux_doc`] from the identity the index already read, when the document declares an
/// object: the two keys are not looked up again.
pub fn flux_doc_of<'a>(object: Option<&Object>, doc: &'a Document) -> Option<FluxDoc<'a>> {
    match object {
        Some(o) => Some(FluxDoc {
            schema: flux_api::schema(&o.api_version, &o.kind)?,
            root: doc.root()?,
        }),
        None => flux_doc(doc),
    }
}

/// Every node at `path` (with `[]` for "each item"), with its dotted path (`spec.valuesFrom[1].kind`).
pub fn values_at<'a, 'p>(root: NodeRef<'a>, path: &'p [&'p str]) -> Vec<(Dotted<'p>, NodeRef<'a>)> {
    let mut cur: Vec<(Vec<usize>, NodeRef<'a>)> = vec![(Vec::new(), root)];
    for seg in path {
        let mut next = Vec::new();
        for (items, n) in cur {
            if *seg == "[]" {
                for (i, item) in n.items().into_iter().enumerate() {
                    let mut at = items.clone();
                    at.push(i);
                    next.push((at, item));
                }
            } else if let Some(v) = n.get(seg) {
                next.push((items, v));
            }
        }
        cur = next;
        if cur.is_empty() {
            break;
        }
    }
    cur.into_iter()
        .map(|(items, n)| (Dotted { path, items }, n))
        .collect()
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
