//! Where a Kubernetes object's value is a string by its type, so quoting a plain scalar that
//! YAML 1.1 reads as a boolean or an octal number (FV104) only makes the object say what it
//! visibly says: the API server rejects a boolean or a number there. Helm values and custom
//! resources' specs are not on the list: their schema is the chart's, and a boolean may be meant.

use crate::flux_api::CoreKind;
use crate::source::Span;
use crate::yaml::{NodeRef, Style};

/// Workload kinds whose containers' `env[].value` is a string (core API groups only).
const WORKLOADS: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("v1", "ReplicationController"),
    ("v1", "PodTemplate"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "ReplicaSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
];

/// Spans of the plain scalar values in string-typed fields of this object: metadata labels
/// and annotations (every object's, being ObjectMeta; and pod templates'), ConfigMap `data`, Secret `stringData`, and the
/// `value` of container env entries in core workloads.
pub fn string_fields(root: NodeRef<'_>, api_version: &str, kind: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let values_of = |map: Option<NodeRef<'_>>, out: &mut Vec<Span>| {
        if let Some(m) = map {
            for (_, v) in m.entries() {
                if v.style() == Some(Style::Plain) && v.tag().is_none() {
                    out.push(v.span());
                }
            }
        }
    };
    values_of(root.path(&["metadata", "labels"]), &mut out);
    values_of(root.path(&["metadata", "annotations"]), &mut out);
    match (api_version, CoreKind::from_name(kind)) {
        ("v1", Some(CoreKind::ConfigMap)) => values_of(root.get("data"), &mut out),
        ("v1", Some(CoreKind::Secret)) => values_of(root.get("stringData"), &mut out),
        _ => {}
    }
    if WORKLOADS.contains(&(api_version, kind)) {
        walk_workload(root, 0, &mut out);
    }
    out
}

/// Template metadata and container env values anywhere under a workload's spec.
fn walk_workload(node: NodeRef<'_>, depth: usize, out: &mut Vec<Span>) {
    if depth > 12 {
        return;
    }
    if node.is_sequence() {
        for i in node.items() {
            walk_workload(i, depth + 1, out);
        }
        return;
    }
    if !node.is_mapping() {
        return;
    }
    for (k, v) in node.entries() {
        match k.as_str() {
            Some("env") => {
                for e in v.items() {
                    if let Some(val) = e.get("value")
                        && val.style() == Some(Style::Plain)
                        && val.tag().is_none()
                    {
                        out.push(val.span());
                    }
                }
            }
            Some("labels" | "annotations") if depth > 0 => {
                for (_, lv) in v.entries() {
                    if lv.style() == Some(Style::Plain) && lv.tag().is_none() {
                        out.push(lv.span());
                    }
                }
            }
            _ => walk_workload(v, depth + 1, out),
        }
    }
}
