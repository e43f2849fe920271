//! kustomize's built-in transformers, each a function over the objects of one kustomization
//! level: namespace, name prefix/suffix, labels, annotations, images and replicas. A value a
//! transformer sets carries the origin of the kustomization entry that asked for it.

use crate::flux_api::CoreKind;

use super::fieldspec::{
    self, FieldSpec, SELECTOR_LABELS, TEMPLATE_ANNOTATIONS, TEMPLATE_LABELS, group_of,
    is_cluster_scoped,
};
use super::kustomization::{Image, LabelSet, Replica};
use super::rendered::RenderedObject;
use super::rendered::{Node, Origin, ScalarType, Value};

/// `namespace:` — every namespaced object's `metadata.namespace`, a Namespace's name, the
/// namespace of RoleBinding/ClusterRoleBinding subjects named `default`, and the service
/// references of APIServices and CRD conversion webhooks (not admission webhooks': kustomize
/// leaves those).
pub fn namespace(objects: &mut [RenderedObject], ns: &Node) {
    let Some(text) = ns.as_str().filter(|s| !s.is_empty()) else {
        return;
    };
    let value = Node::string(text, ns.origin);
    for o in objects {
        o.remember_id();
        let (api, kind) = (o.api_version.clone(), o.kind.clone());
        if CoreKind::Namespace.is(group_of(&api), &kind) && is_cluster_scoped(&api, &kind) {
            // kustomize's namespace field specs include a Namespace's own name.
            o.root
                .ensure_map("metadata", ns.origin)
                .set("name", value.clone());
        } else if !is_cluster_scoped(&api, &kind) {
            o.root
                .ensure_map("metadata", ns.origin)
                .set("namespace", value.clone());
        }
        if (kind == "RoleBinding" || kind == "ClusterRoleBinding")
            && let Some(subjects) = o.root.get_mut("subjects").and_then(Node::items_mut)
        {
            for s in subjects {
                if s.str_at(&["name"]) == Some("default") {
                    s.set("namespace", value.clone());
                }
            }
        }
        let group = group_of(&api).to_string();
        let specs: &[(&str, &str, &str)] = &[
            (
                "apiregistration.k8s.io",
                "APIService",
                "spec/service/namespace",
            ),
            (
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                "spec/conversion/webhook/clientConfig/service/namespace",
            ),
        ];
        for (g, k, path) in specs {
            if *g == group && *k == kind {
                fieldspec::visit(&mut o.root, path, false, ns.origin, &mut |n| {
                    *n = value.clone()
                });
            }
        }
        o.refresh();
    }
}

/// `namePrefix` / `nameSuffix` on every object's name, except CRDs, APIServices and
/// Namespaces (kustomize leaves those names alone).
pub fn prefix_suffix(objects: &mut [RenderedObject], prefix: Option<&Node>, suffix: Option<&Node>) {
    let p = prefix.and_then(Node::as_str).unwrap_or("");
    let s = suffix.and_then(Node::as_str).unwrap_or("");
    if p.is_empty() && s.is_empty() {
        return;
    }
    let origin = prefix
        .filter(|_| !p.is_empty())
        .or(suffix)
        .map_or(Origin::NONE, |n| n.origin);
    for o in objects {
        if matches!(
            o.kind.as_str(),
            "CustomResourceDefinition" | "APIService" | "Namespace"
        ) {
            continue;
        }
        o.remember_id();
        let name = format!("{p}{}{s}", o.name);
        o.root
            .ensure_map("metadata", origin)
            .set("name", Node::string(name, origin));
        o.refresh();
    }
}

fn set_pairs(objects: &mut [RenderedObject], pairs: &[(String, Node)], specs: &[FieldSpec]) {
    for o in objects {
        let group = group_of(&o.api_version).to_string();
        let kind = o.kind.clone();
        for spec in specs.iter().filter(|f| f.applies_to(&group, &kind)) {
            let origin = pairs.first().map_or(Origin::NONE, |p| p.1.origin);
            fieldspec::visit(&mut o.root, spec.path, spec.create, origin, &mut |m| {
                if !matches!(m.value, Value::Map(_)) {
                    *m = Node::map(m.origin);
                }
                for (k, v) in pairs {
                    let mut v = v.clone();
                    if let Value::Scalar(_, ty) = &mut v.value {
                        *ty = ScalarType::Str;
                    }
                    m.set(k, v);
                }
            });
        }
    }
}

/// `labels:` entries and `commonLabels`: metadata always; templates and selectors as asked.
pub fn labels(objects: &mut [RenderedObject], set: &LabelSet) {
    let mut specs = vec![FieldSpec::any("metadata/labels", true)];
    if set.include_selectors || set.include_templates {
        specs.extend_from_slice(TEMPLATE_LABELS);
    }
    if set.include_selectors {
        specs.extend_from_slice(SELECTOR_LABELS);
    }
    set_pairs(objects, &set.pairs, &specs);
}

/// `commonAnnotations`: metadata and pod templates.
pub fn annotations(objects: &mut [RenderedObject], pairs: &[(String, Node)]) {
    if pairs.is_empty() {
        return;
    }
    let mut specs = vec![FieldSpec::any("metadata/annotations", true)];
    specs.extend_from_slice(TEMPLATE_ANNOTATIONS);
    set_pairs(objects, pairs, &specs);
}

/// Splits an image reference into name, tag and digest (a registry port is part of the name).
pub fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(&rest[last_slash + i + 1..]),
            digest,
        ),
        None => (rest, None, digest),
    }
}

/// `images:` — every `containers` and `initContainers` list anywhere in an object (kustomize's
/// legacy image filter, which reaches custom resources too).
pub fn images(objects: &mut [RenderedObject], images: &[Image]) {
    for img in images {
        for o in objects.iter_mut() {
            update_images(&mut o.root, img);
        }
    }
}

fn update_images(n: &mut Node, img: &Image) {
    match &mut n.value {
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                if (&**k == "containers" || &**k == "initContainers")
                    && let Some(items) = v.items_mut()
                {
                    for c in items {
                        if let Some(image) = c.get_mut("image") {
                            set_image(image, img);
                        }
                    }
                }
                update_images(v, img);
            }
        }
        Value::Seq(s) => s.iter_mut().for_each(|v| update_images(v, img)),
        Value::Scalar(..) => {}
    }
}

fn set_image(node: &mut Node, img: &Image) {
    let Some(value) = node.as_str() else { return };
    let (name, tag, digest) = split_image(value);
    if name != img.name {
        return;
    }
    let new_tag = img.new_tag.as_ref().and_then(Node::as_str);
    let mut name = img.new_name.as_deref().unwrap_or(name).to_string();
    let (tag, digest) = match (new_tag, img.digest.as_deref()) {
        (Some(t), Some(d)) => (Some(t), Some(d)),
        (Some(t), None) => (Some(t), None),
        (None, Some(d)) => (None, Some(d)),
        (None, None) => (tag, digest),
    };
    if let Some(t) = tag.filter(|t| !t.is_empty()) {
        name.push(':');
        name.push_str(t);
    }
    if let Some(d) = digest.filter(|d| !d.is_empty()) {
        name.push('@');
        name.push_str(d);
    }
    if name != value {
        *node = Node::string(name, img.origin);
    }
}

/// `replicas:` — `spec.replicas` of the Deployments, ReplicaSets, ReplicationControllers and
/// StatefulSets with that name. Naming none is an error in kustomize.
pub fn replicas(objects: &mut [RenderedObject], r: &Replica) -> Result<(), String> {
    let mut found = false;
    for o in objects.iter_mut() {
        if !matches!(
            o.kind.as_str(),
            "Deployment" | "ReplicaSet" | "ReplicationController" | "StatefulSet"
        ) || !o.any_name(&r.name)
        {
            continue;
        }
        found = true;
        let mut count = r.count.clone();
        if let Value::Scalar(_, ty) = &mut count.value {
            *ty = ScalarType::Int;
        }
        o.root
            .ensure_map("spec", r.count.origin)
            .set("replicas", count);
    }
    if found {
        Ok(())
    } else {
        Err(format!(
            "replicas: no Deployment, ReplicaSet, ReplicationController or StatefulSet is named `{}`",
            r.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        assert_eq!(split_image("nginx"), ("nginx", None, None));
        assert_eq!(
            split_image("reg:5000/a/b:1.2@sha256:x"),
            ("reg:5000/a/b", Some("1.2"), Some("sha256:x"))
        );
        assert_eq!(split_image("reg:5000/a"), ("reg:5000/a", None, None));
    }
}
