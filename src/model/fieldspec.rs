//! kustomize's field specs: a kind filter and a `/`-separated path that walks through lists
//! implicitly (`spec/ingress/from/podSelector` visits every `ingress` and `from` element), and
//! whether a missing field is created. The transformers and the name references are tables of
//! these, copied from kustomize's built-in configuration.

use super::rendered::{Node, Origin, Value};

#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    /// Empty: any group.
    pub group: Option<&'static str>,
    /// Empty: any kind.
    pub kind: Option<&'static str>,
    pub path: &'static str,
    pub create: bool,
}

impl FieldSpec {
    pub const fn any(path: &'static str, create: bool) -> FieldSpec {
        FieldSpec {
            group: None,
            kind: None,
            path,
            create,
        }
    }
    pub const fn of(kind: &'static str, path: &'static str, create: bool) -> FieldSpec {
        FieldSpec {
            group: None,
            kind: Some(kind),
            path,
            create,
        }
    }
    pub fn applies_to(&self, group: &str, kind: &str) -> bool {
        self.kind.is_none_or(|k| k == kind) && self.group.is_none_or(|g| g == group)
    }
}

/// Calls `f` on every node at `path` below `node` (creating the missing mappings, and the leaf
/// as an empty mapping, when `create`); `f` may replace the node.
pub fn visit(
    node: &mut Node,
    path: &str,
    create: bool,
    origin: Origin,
    f: &mut dyn FnMut(&mut Node),
) {
    let segs: Vec<&str> = path.split('/').collect();
    visit_segs(node, &segs, create, origin, f);
}

fn visit_segs(
    node: &mut Node,
    segs: &[&str],
    create: bool,
    origin: Origin,
    f: &mut dyn FnMut(&mut Node),
) {
    let Some((first, rest)) = segs.split_first() else {
        f(node);
        return;
    };
    if let Value::Seq(items) = &mut node.value {
        for i in items {
            visit_segs(i, segs, create, origin, f);
        }
        return;
    }
    let seg = first.trim_end_matches("[]");
    if !matches!(node.value, Value::Map(_)) {
        return;
    }
    if node.get(seg).is_none_or(Node::is_null) {
        // A list (`name[]`) is never created, only walked.
        if !create || first.ends_with("[]") {
            return;
        }
        node.set(seg, Node::map(origin));
    }
    let child = node.get_mut(seg).expect("present");
    visit_segs(child, rest, create, origin, f);
}

/// The group of an apiVersion (`apps/v1` → `apps`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The kinds kustomize v5.8 treats as cluster-scoped: its built-in schema (Kubernetes
/// 1.21's) knows them at exactly these versions, and sets no namespace on them. Every other
/// kind is namespaced to kustomize, newer Kubernetes kinds at any version too
/// (`ValidatingAdmissionPolicy`, `MutatingAdmissionPolicy`, `FlowSchema` v1, `IPAddress`,
/// `ServiceCIDR`...) and every custom resource: kustomize gives them the
/// kustomization's namespace, and so does Flux's build (the API server ignores it for a
/// cluster-scoped kind). Found by building each kind at each version with `kubectl kustomize`
/// (tests/it/oracle.rs, `scope`).
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    const KINDS: &[(&str, &[&str])] = &[
        (
            "APIService",
            &[
                "apiregistration.k8s.io/v1",
                "apiregistration.k8s.io/v1beta1",
            ],
        ),
        (
            "CSIDriver",
            &["storage.k8s.io/v1", "storage.k8s.io/v1beta1"],
        ),
        ("CSINode", &["storage.k8s.io/v1", "storage.k8s.io/v1beta1"]),
        (
            "CertificateSigningRequest",
            &["certificates.k8s.io/v1", "certificates.k8s.io/v1beta1"],
        ),
        (
            "ClusterRole",
            &[
                "rbac.authorization.k8s.io/v1",
                "rbac.authorization.k8s.io/v1beta1",
            ],
        ),
        (
            "ClusterRoleBinding",
            &[
                "rbac.authorization.k8s.io/v1",
                "rbac.authorization.k8s.io/v1beta1",
            ],
        ),
        ("ComponentStatus", &["v1"]),
        (
            "CustomResourceDefinition",
            &["apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1"],
        ),
        ("FlowSchema", &["flowcontrol.apiserver.k8s.io/v1beta1"]),
        (
            "IngressClass",
            &["networking.k8s.io/v1", "networking.k8s.io/v1beta1"],
        ),
        (
            "MutatingWebhookConfiguration",
            &[
                "admissionregistration.k8s.io/v1",
                "admissionregistration.k8s.io/v1beta1",
            ],
        ),
        ("Namespace", &["v1"]),
        ("Node", &["v1"]),
        ("PersistentVolume", &["v1"]),
        ("PodSecurityPolicy", &["policy/v1beta1"]),
        (
            "PriorityClass",
            &["scheduling.k8s.io/v1", "scheduling.k8s.io/v1beta1"],
        ),
        (
            "PriorityLevelConfiguration",
            &["flowcontrol.apiserver.k8s.io/v1beta1"],
        ),
        ("RuntimeClass", &["node.k8s.io/v1", "node.k8s.io/v1beta1"]),
        (
            "StorageClass",
            &["storage.k8s.io/v1", "storage.k8s.io/v1beta1"],
        ),
        (
            "ValidatingWebhookConfiguration",
            &[
                "admissionregistration.k8s.io/v1",
                "admissionregistration.k8s.io/v1beta1",
            ],
        ),
        (
            "VolumeAttachment",
            &["storage.k8s.io/v1", "storage.k8s.io/v1beta1"],
        ),
    ];
    KINDS
        .iter()
        .any(|(k, versions)| *k == kind && versions.contains(&api_version))
}

/// Template label paths (`metadataLabelsFieldSpecs` less `metadata/labels`).
pub const TEMPLATE_LABELS: &[FieldSpec] = &[
    FieldSpec::of(
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    ),
    FieldSpec::of("Deployment", "spec/template/metadata/labels", true),
    FieldSpec::of("ReplicaSet", "spec/template/metadata/labels", true),
    FieldSpec::of("DaemonSet", "spec/template/metadata/labels", true),
    FieldSpec::of("StatefulSet", "spec/template/metadata/labels", true),
    FieldSpec::of(
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
    FieldSpec::of("Job", "spec/template/metadata/labels", true),
    FieldSpec::of("CronJob", "spec/jobTemplate/metadata/labels", true),
    FieldSpec::of(
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

/// Selector paths `commonLabels` (and `labels` with `includeSelectors`) also set.
pub const SELECTOR_LABELS: &[FieldSpec] = &[
    FieldSpec::of("Service", "spec/selector", true),
    FieldSpec::of("ReplicationController", "spec/selector", true),
    FieldSpec::of("Deployment", "spec/selector/matchLabels", true),
    FieldSpec::of(
        "Deployment",
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of(
        "Deployment",
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of(
        "Deployment",
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of(
        "Deployment",
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of(
        "Deployment",
        "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of("ReplicaSet", "spec/selector/matchLabels", true),
    FieldSpec::of("DaemonSet", "spec/selector/matchLabels", true),
    FieldSpec::of("StatefulSet", "spec/selector/matchLabels", true),
    FieldSpec::of(
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
    FieldSpec::of(
        "StatefulSet",
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of(
        "StatefulSet",
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of(
        "StatefulSet",
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of(
        "StatefulSet",
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of(
        "StatefulSet",
        "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::of("Job", "spec/selector/matchLabels", false),
    FieldSpec::of(
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    FieldSpec::of("PodDisruptionBudget", "spec/selector/matchLabels", false),
    FieldSpec::of("NetworkPolicy", "spec/podSelector/matchLabels", false),
    FieldSpec::of(
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    FieldSpec::of(
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
];

/// Where `commonAnnotations` go besides `metadata/annotations`.
pub const TEMPLATE_ANNOTATIONS: &[FieldSpec] = &[
    FieldSpec::of(
        "ReplicationController",
        "spec/template/metadata/annotations",
        true,
    ),
    FieldSpec::of("Deployment", "spec/template/metadata/annotations", true),
    FieldSpec::of("ReplicaSet", "spec/template/metadata/annotations", true),
    FieldSpec::of("DaemonSet", "spec/template/metadata/annotations", true),
    FieldSpec::of("StatefulSet", "spec/template/metadata/annotations", true),
    FieldSpec::of("Job", "spec/template/metadata/annotations", true),
    FieldSpec::of("CronJob", "spec/jobTemplate/metadata/annotations", true),
    FieldSpec::of(
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

/// The pod spec of each workload kind, which most name references sit under.
pub fn pod_spec_path(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Pod" => "spec",
        "PodTemplate" => "template/spec",
        "Deployment"
        | "ReplicaSet"
        | "DaemonSet"
        | "StatefulSet"
        | "Job"
        | "ReplicationController" => "spec/template/spec",
        "CronJob" => "spec/jobTemplate/spec/template/spec",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_lists_and_creates() {
        let p = crate::yaml::parse_stream(
            "spec:\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {a: b}}\n    - ipBlock: {}\n",
        );
        let mut n = Node::from_yaml(p.documents[0].root().unwrap(), 0);
        let mut hits = 0;
        visit(
            &mut n,
            "spec/ingress/from/podSelector/matchLabels",
            false,
            Origin::NONE,
            &mut |_| hits += 1,
        );
        assert_eq!(hits, 1);
        visit(&mut n, "metadata/labels", true, Origin::NONE, &mut |m| {
            m.set("x", Node::string("y", Origin::NONE));
        });
        assert_eq!(n.str_at(&["metadata", "labels", "x"]), Some("y"));
        assert!(is_cluster_scoped(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole"
        ));
        assert!(!is_cluster_scoped("cert-manager.io/v1", "ClusterIssuer"));
        assert!(!is_cluster_scoped(
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicy"
        ));
    }
}
