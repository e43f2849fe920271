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
    fix_mappings(objects);
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
        }
    }
}

/// Referrer fields that are a mapping of `name` and `namespace` (kustomize's nameReference
/// entries whose path ends at a map): the referred kind, the referrer's group and kinds, the
/// path. kustomize rewrites both keys from the object they name, so they follow a move to
/// another namespace as well as a rename.
const MAP_REFS: &[(&str, &str, &[&str], &str)] = &[
    (
        "ServiceAccount",
        "rbac.authorization.k8s.io",
        &["RoleBinding", "ClusterRoleBinding"],
        "subjects",
    ),
    (
        "Service",
        "admissionregistration.k8s.io",
        &[
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
        ],
        "webhooks/clientConfig/service",
    ),
];

/// An object as a referral candidate: its ids as kustomize's name reference filter reads them.
struct Candidate {
    kind: String,
    /// `v1` objects only: the referral targets above are `version: v1` (any group).
    v1: bool,
    cluster_scoped: bool,
    name: String,
    namespace: Option<String>,
    /// The names the object had before a transformer renamed or moved it (not the current
    /// one): kustomize looks a reference up among these only.
    previous: Vec<String>,
    /// Effective namespaces (`default` for none; none when cluster-scoped), original and current.
    original_ns: Option<String>,
    current_ns: Option<String>,
}

fn effective_ns(api_version: &str, kind: &str, ns: Option<&str>) -> Option<String> {
    (!is_cluster_scoped(api_version, kind)).then(|| ns.unwrap_or("default").to_string())
}

/// kustomize's `setMapping` for the fields of [`MAP_REFS`]: a `{name, namespace}` map whose
/// name is a previous name of one object of the referred kind (in the namespace it gives, by
/// original namespace first, else by current) takes that object's current name and namespace.
/// A subject without `namespace` gets one; a `User` subject is matched like any other, as
/// kustomize does. Several different candidates (kustomize: "found multiple possible
/// referrals") leave the map as written.
fn fix_mappings(objects: &mut [RenderedObject]) {
    let candidates: Vec<Candidate> = objects
        .iter()
        .map(|o| {
            let (orig_ns, _) = o.original();
            Candidate {
                kind: o.kind.clone(),
                v1: o.api_version == "v1" || o.api_version.ends_with("/v1"),
                cluster_scoped: is_cluster_scoped(&o.api_version, &o.kind),
                name: o.name.clone(),
                namespace: o.namespace.clone(),
                previous: o.history.iter().map(|(_, n)| n.clone()).collect(),
                original_ns: effective_ns(&o.api_version, &o.kind, orig_ns.as_deref()),
                current_ns: effective_ns(&o.api_version, &o.kind, o.namespace.as_deref()),
            }
        })
        .collect();
    if candidates.iter().all(|c| c.previous.is_empty()) {
        return;
    }
    for o in objects.iter_mut() {
        let group = super::fieldspec::group_of(&o.api_version).to_string();
        let referrer_ns = effective_ns(&o.api_version, &o.kind, o.namespace.as_deref());
        for (referred, referrer_group, referrers, path) in MAP_REFS {
            if group != *referrer_group || !referrers.contains(&o.kind.as_str()) {
                continue;
            }
            fieldspec::visit(&mut o.root, path, false, Origin::NONE, &mut |n| {
                // `subjects` is the list itself: each of its maps.
                match n.items_mut() {
                    Some(items) => {
                        for i in items {
                            set_mapping(i, referred, referrer_ns.as_deref(), &candidates);
                        }
                    }
                    None => set_mapping(n, referred, referrer_ns.as_deref(), &candidates),
                }
            });
        }
    }
}

fn set_mapping(
    map: &mut Node,
    referred: &str,
    referrer_ns: Option<&str>,
    candidates: &[Candidate],
) {
    let Some(name) = map.str_at(&["name"]).map(str::to_string) else {
        return;
    };
    let written_ns = map.str_at(&["namespace"]).map(str::to_string);
    let in_ns: Vec<&Candidate> = match &written_ns {
        None => candidates.iter().collect(),
        Some(ns) => {
            let original: Vec<&Candidate> = candidates
                .iter()
                .filter(|c| c.original_ns.as_ref() == Some(ns))
                .collect();
            if original.is_empty() {
                candidates
                    .iter()
                    .filter(|c| c.current_ns.as_ref() == Some(ns))
                    .collect()
            } else {
                original
            }
        }
    };
    let hits: Vec<&Candidate> = in_ns
        .into_iter()
        .filter(|c| c.kind == referred && c.v1 && c.previous.contains(&name))
        .filter(|c| {
            // A namespaced referrer names objects of its own namespace, a ServiceAccount
            // or a cluster-scoped object.
            referrer_ns.is_none()
                || c.cluster_scoped
                || c.kind == "ServiceAccount"
                || c.current_ns.as_deref() == referrer_ns
        })
        .collect();
    let referral = match hits.as_slice() {
        [one] => *one,
        [first, rest @ ..]
            if rest
                .iter()
                .all(|c| c.name == first.name && c.namespace == first.namespace) =>
        {
            *first
        }
        _ => return,
    };
    if referral.name == name && referral.namespace.is_none() {
        return;
    }
    let origin = map.get("name").map_or(map.origin, |n| n.origin);
    map.set("name", Node::string(referral.name.as_str(), origin));
    if let Some(ns) = &referral.namespace {
        let origin = map.get("namespace").map_or(origin, |n| n.origin);
        map.set("namespace", Node::string(ns.as_str(), origin));
    }
}
