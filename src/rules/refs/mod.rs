//! 4xx: references from one object or file to another.

pub mod config_refs;
pub mod kustomization_path_missing;
pub mod kustomize_resource_missing;
pub mod source_kind_invalid;
pub mod source_not_found;

use crate::index::{Object, Repository, parent_dir};
use crate::yaml::NodeRef;

/// One `sourceRef`/`chartRef` of an object.
pub struct SourceRef<'a> {
    pub referrer: &'a Object,
    /// The whole reference mapping.
    pub node: NodeRef<'a>,
    /// `spec.sourceRef`, `spec.chartRef`, …, for messages.
    pub field: &'static str,
    pub allowed: &'static [&'static str],
    /// The kind Flux assumes when the field has none.
    pub default_kind: Option<&'static str>,
    /// Whether the reference may name another namespace.
    pub cross_namespace: bool,
}

impl SourceRef<'_> {
    pub fn kind(&self) -> Option<&str> {
        self.node.str_at(&["kind"]).or(self.default_kind)
    }
}

const KUSTOMIZATION_SOURCES: &[&str] = &[
    "GitRepository",
    "OCIRepository",
    "Bucket",
    "ExternalArtifact",
];
const CHART_SOURCES: &[&str] = &["HelmRepository", "GitRepository", "Bucket"];
const CHART_REF_SOURCES: &[&str] = &["OCIRepository", "HelmChart", "ExternalArtifact"];

/// Every source reference of every Flux object, in object order.
pub fn source_refs(repo: &Repository) -> Vec<SourceRef<'_>> {
    let mut out = Vec::new();
    for o in &repo.objects {
        let root = repo.node(o);
        let mut push = |path: &[&str],
                        field: &'static str,
                        allowed: &'static [&'static str],
                        default_kind: Option<&'static str>,
                        cross_namespace: bool| {
            if let Some(node) = root.path(path).filter(|n| n.is_mapping()) {
                out.push(SourceRef {
                    referrer: o,
                    node,
                    field,
                    allowed,
                    default_kind,
                    cross_namespace,
                });
            }
        };
        match (o.group(), o.kind.as_str()) {
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => push(
                &["spec", "sourceRef"],
                "spec.sourceRef",
                KUSTOMIZATION_SOURCES,
                None,
                true,
            ),
            ("helm.toolkit.fluxcd.io", "HelmRelease") => {
                push(
                    &["spec", "chart", "spec", "sourceRef"],
                    "spec.chart.spec.sourceRef",
                    CHART_SOURCES,
                    None,
                    true,
                );
                push(
                    &["spec", "chartRef"],
                    "spec.chartRef",
                    CHART_REF_SOURCES,
                    None,
                    true,
                );
            }
            ("source.toolkit.fluxcd.io", "HelmChart") => push(
                &["spec", "sourceRef"],
                "spec.sourceRef",
                CHART_SOURCES,
                None,
                false,
            ),
            ("image.toolkit.fluxcd.io", "ImageUpdateAutomation") => push(
                &["spec", "sourceRef"],
                "spec.sourceRef",
                &["GitRepository"],
                Some("GitRepository"),
                true,
            ),
            _ => {}
        }
    }
    out
}

/// The namespaces an object may be applied in, as far as the files tell: its own
/// `metadata.namespace`, the `namespace:` of kustomization files in its directory or above and
/// the `targetNamespace` of the Flux Kustomizations that apply it. `None` when that cannot be
/// told (nothing sets one, or a value is a `${VAR}`).
pub struct Namespaces<'r> {
    repo: &'r Repository,
}

impl<'r> Namespaces<'r> {
    pub fn new(repo: &'r Repository) -> Self {
        Namespaces { repo }
    }

    pub fn of(&self, o: &Object) -> Option<Vec<&'r str>> {
        let repo = self.repo;
        let mut out: Vec<&str> = Vec::new();
        // `o` may be a clone; take the namespace from the repository's own copy.
        let node = repo.docs.get(o.doc)?.doc.root()?;
        if let Some(ns) = node
            .str_at(&["metadata", "namespace"])
            .filter(|s| !s.is_empty())
        {
            out.push(ns);
        }
        let mut dir = parent_dir(repo.path(o.file));
        loop {
            out.extend(repo.kustomize_namespaces_in(dir).iter().map(String::as_str));
            if dir.is_empty() {
                break;
            }
            dir = parent_dir(dir);
        }
        for (idx, _) in repo.reconcile_tree().appliers(o.file) {
            let Some(ks) = repo.objects.get(*idx) else {
                continue;
            };
            if let Some(t) = repo.node(ks).str_at(&["spec", "targetNamespace"]) {
                out.push(t);
            }
        }
        out.sort_unstable();
        out.dedup();
        if out.is_empty() || out.iter().any(|n| n.contains("${") || n.contains("<<")) {
            return None;
        }
        Some(out)
    }
}

/// Whether two namespace sets may meet (unknown meets everything).
pub fn may_meet(a: &Option<Vec<&str>>, b: &Option<Vec<&str>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.iter().any(|x| b.contains(x)),
        _ => true,
    }
}

/// A value that Flux substitutes or a template fills in later: not checkable.
pub fn is_templated(s: &str) -> bool {
    s.contains("${") || s.contains("<<") || s.contains("{{")
}
