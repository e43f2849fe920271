//! Name references: when the build renamed an object (a prefix, a suffix, a generator's hash),
//! the fields that name it in other objects follow, as kustomize's nameReference configuration
//! lists them (ConfigMap and Secret references in pod specs, ServiceAccounts, Services, roles,
//! PersistentVolumeClaims, …).

use super::fieldspec::{self, is_cluster_scoped, pod_spec_path};
use super::rendered::RenderedObject;
use super::rendered::{Node, Origin};

/// Paths under a pod spec that name an object of the kind.
const POD_REFS: &[(&str, &[&str])] = &[
    (
        "ConfigMap",
        &[
            "volumes/configMap/name",
            "containers/env/valueFrom/configMapKeyRef/name",
            "initContainers/env/valueFrom/configMapKeyRef/name",
            "containers/envFrom/configMapRef/name",
            "initContainers/envFrom/configMapRef/name",
            "volumes/projected/sources/configMap/name",
        ],
    ),
    (
        "Secret",
        &[
            "volumes/secret/secretName",
            "containers/env/valueFrom/secretKeyRef/name",
            "initContainers/env/valueFrom/secretKeyRef/name",
            "containers/envFrom/secretRef/name",
            "initContainers/envFrom/secretRef/name",
            "imagePullSecrets/name",
            "volumes/projected/sources/secret/name",
        ],
    ),
    ("ServiceAccount", &["serviceAccountName"]),
    (
        "PersistentVolumeClaim",
        &["volumes/persistentVolumeClaim/claimName"],
    ),
    ("PriorityClass", &["priorityClassName"]),
];

/// (referred kind, referrer kind, path) outside pod specs.
const OTHER_REFS: &[(&str, &str, &str)] = &[
    (
        "Deployment",
        "HorizontalPodAutoscaler",
        "spec/scaleTargetRef/name",
    ),
    (
        "StatefulSet",
        "HorizontalPodAutoscaler",
        "spec/scaleTargetRef/name",
    ),
    (
        "ReplicaSet",
        "HorizontalPodAutoscaler",
        "spec/scaleTargetRef/name",
    ),
    ("Secret", "Ingress", "spec/tls/secretName"),
    ("Secret", "ServiceAccount", "imagePullSecrets/name"),
    ("Service", "StatefulSet", "spec/serviceName"),
    (
        "Service",
        "Ingress",
        "spec/rules/http/paths/backend/service/name",
    ),
    ("Service", "Ingress", "spec/defaultBackend/service/name"),
    ("Service", "APIService", "spec/service/name"),
    ("Service", "HTTPRoute", "spec/rules/backendRefs/name"),
    ("IngressClass", "Ingress", "spec/ingressClassName"),
    (
        "StorageClass",
        "PersistentVolumeClaim",
        "spec/storageClassName",
    ),
    ("StorageClass", "PersistentVolume", "spec/storageClassName"),
    (
        "PersistentVolume",
        "PersistentVolumeClaim",
        "spec/volumeName",
    ),
];

struct Renamed {
    kind: String,
    api_version: String,
    namespace: Option<String>,
    name: String,
    old: Vec<String>,
}

/// Points every reference to a renamed object at its new name.
pub fn fix(objects: &mut [RenderedObject]) {
    let renamed: Vec<Renamed> = objects
        .iter()
        .filter(|o| o.history.iter().any(|(_, n)| *n != o.name))
        .map(|o| Renamed {
            kind: o.kind.clone(),
            api_version: o.api_version.clone(),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
            old: o
                .history
                .iter()
                .map(|(_, n)| n.clone())
                .filter(|n| *n != o.name)
                .collect(),
        })
        .collect();
    if renamed.is_empty() {
        return;
    }
    for o in objects.iter_mut() {
        let ns = o.namespace.clone();
        let kind = o.kind.clone();
        let lookup = |referred: &str, value: &str| -> Option<String> {
            let found: Vec<&Renamed> = renamed
                .iter()
                .filter(|r| r.kind == referred && r.old.iter().any(|n| n == value))
                .collect();
            let same_ns: Vec<&&Renamed> = found
                .iter()
                .filter(|r| is_cluster_scoped(&r.api_version, &r.kind) || r.namespace == ns)
                .collect();
            match (same_ns.as_slice(), found.as_slice()) {
                ([one], _) => Some(one.name.clone()),
                ([], [one]) if is_cluster_scoped(&o.api_version, &kind) => Some(one.name.clone()),
                _ => None,
            }
        };
        let visit = |root: &mut Node, path: &str, referred: &str| {
            fieldspec::visit(root, path, false, Origin::NONE, &mut |n| {
                let new = match n.as_str() {
                    Some(v) => lookup(referred, v),
                    None => None,
                };
                if let Some(new) = new {
                    *n = Node::string(new, n.origin);
                }
            });
        };
        if let Some(prefix) = pod_spec_path(&kind) {
            for (referred, paths) in POD_REFS {
                for p in *paths {
                    visit(&mut o.root, &format!("{prefix}/{p}"), referred);
                }
            }
        }
        for (referred, referrer, path) in OTHER_REFS {
            if *referrer == kind {
                visit(&mut o.root, path, referred);
            }
        }
        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            let role_kind = o
                .root
                .str_at(&["roleRef", "kind"])
                .unwrap_or("")
                .to_string();
            if role_kind == "Role" || role_kind == "ClusterRole" {
                visit(&mut o.root, "roleRef/name", &role_kind);
            }
            if let Some(subjects) = o.root.get_mut("subjects").and_then(Node::items_mut) {
                for s in subjects {
                    if s.str_at(&["kind"]) != Some("ServiceAccount") {
                        continue;
                    }
                    let (Some(name), sns) = (
                        s.str_at(&["name"]).map(str::to_string),
                        s.str_at(&["namespace"]).map(str::to_string),
                    ) else {
                        continue;
                    };
                    let hit = renamed.iter().find(|r| {
                        r.kind == "ServiceAccount"
                            && r.old.contains(&name)
                            && (sns.is_none() || sns == r.namespace)
                    });
                    if let Some(r) = hit {
                        let origin = s.get("name").map_or(s.origin, |n| n.origin);
                        s.set("name", Node::string(r.name.as_str(), origin));
                        if let Some(ns) = &r.namespace {
                            let origin = s.get("namespace").map_or(origin, |n| n.origin);
                            s.set("namespace", Node::string(ns.as_str(), origin));
                        }
                    }
                }
            }
        }
    }
}
