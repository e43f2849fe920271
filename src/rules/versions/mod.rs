//! 2xx: pinned versions. Every place a chart or source version lives, read the way Flux reads
//! it ([`crate::helm_semver`]).

pub mod chart_version_ignored;
pub mod chart_version_missing;
pub mod chart_version_not_string;
pub mod chart_version_unpinned;
pub mod git_ref_floating;
pub mod oci_ref_unpinned;

use crate::flux_api::FluxKind;
use crate::helm_semver::{self, Reading};
use crate::model::index::{Object, Repository};
use crate::yaml::NodeRef;

/// The kinds [`chart_sites`] looks up.
pub const CHART_KINDS: &[FluxKind] = &[FluxKind::HelmRelease, FluxKind::HelmChart];

/// A `chart.spec` of a HelmRelease or the `spec` of a HelmChart: where a chart version lives.
pub struct ChartSite<'a> {
    pub object: &'a Object,
    /// `HelmRelease` or `HelmChart`.
    pub kind: FluxKind,
    /// The key node of the mapping that holds (or lacks) `version`.
    pub spec_key: NodeRef<'a>,
    pub spec: NodeRef<'a>,
    /// The `version` key and value, when written.
    pub version: Option<(NodeRef<'a>, NodeRef<'a>)>,
    /// `sourceRef.kind` as written, else as written on another document of the same name (a
    /// kustomize base that this document patches, or the other way round).
    pub source_kind: Option<&'a str>,
    /// The chart name, for messages.
    pub chart: Option<&'a str>,
}

impl ChartSite<'_> {
    /// The version as text, `None` when absent, null or empty.
    pub fn version_text(&self) -> Option<&str> {
        let (_, v) = self.version?;
        if v.is_null() {
            return None;
        }
        v.as_str().filter(|s| !s.trim().is_empty())
    }
    pub fn from_repository(&self) -> bool {
        self.source_kind.and_then(FluxKind::from_name) == Some(FluxKind::HelmRepository)
    }
    /// Flux ignores the version of a chart built from a Git or Bucket source.
    pub fn version_ignored(&self) -> bool {
        matches!(
            self.source_kind.and_then(FluxKind::from_name),
            Some(FluxKind::GitRepository | FluxKind::Bucket)
        )
    }
    pub fn what(&self) -> String {
        match self.chart {
            Some(c) => format!("chart `{c}`"),
            None => format!("{} `{}`", self.kind, self.object.name),
        }
    }
}

fn chart_spec<'a>(repo: &'a Repository, o: &Object) -> Option<(NodeRef<'a>, NodeRef<'a>)> {
    // The kind is decided from the index first: reading the document of every other object
    // only to drop it was most of this function's cost.
    if o.flux == Some(FluxKind::HelmRelease) {
        let chart = repo.node(o).get("spec")?.get("chart")?;
        let (k, v) = chart.entry("spec")?;
        v.is_mapping().then_some((k, v))
    } else if o.flux == Some(FluxKind::HelmChart) {
        let (k, v) = repo.node(o).entry("spec")?;
        v.is_mapping().then_some((k, v))
    } else {
        None
    }
}

/// Every chart version site in the repository, in object order.
pub fn chart_sites(repo: &Repository) -> Vec<ChartSite<'_>> {
    let mut out = Vec::new();
    for (_, o) in repo.of_kinds(CHART_KINDS) {
        let Some((spec_key, spec)) = chart_spec(repo, o) else {
            continue;
        };
        let kind = if o.is_named(FluxKind::HelmRelease) {
            FluxKind::HelmRelease
        } else {
            FluxKind::HelmChart
        };
        let source_kind = spec
            .str_at(&["sourceRef", "kind"])
            .or_else(|| sibling_source_kind(repo, o));
        out.push(ChartSite {
            object: o,
            kind,
            spec_key,
            spec,
            version: spec.entry("version"),
            source_kind,
            chart: spec.str_at(&["chart"]),
        });
    }
    out
}

/// Other documents of the same kind and name: kustomize bases and the patches on them.
fn same_named<'a>(repo: &'a Repository, o: &'a Object) -> impl Iterator<Item = &'a Object> + 'a {
    repo.of_kind(&o.kind).filter(move |other| {
        other.doc != o.doc
            && other.name == o.name
            && other.group() == o.group()
            && match (repo.effective_namespace(o), repo.effective_namespace(other)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    })
}

fn sibling_source_kind<'a>(repo: &'a Repository, o: &'a Object) -> Option<&'a str> {
    same_named(repo, o).find_map(|other| {
        let (_, spec) = chart_spec(repo, other)?;
        spec.str_at(&["sourceRef", "kind"])
    })
}

/// True when another document of the same kind and name sets the chart version of `o`: a
/// patch file or an overlay's copy that some kustomization fluxvet cannot see may apply.
pub fn version_set_by_same_named(repo: &Repository, o: &Object) -> bool {
    same_named(repo, o).any(|other| {
        chart_spec(repo, other)
            .and_then(|(_, spec)| spec.get("version"))
            .is_some_and(|v| !v.is_null())
    })
}

/// A value that Flux's post-build substitution fills in (`${CHART_VERSION}`).
pub fn is_substituted(s: &str) -> bool {
    s.contains("${")
}

/// `"1.2.3"` as a suggestion, or a generic stand-in when nothing better is knowable.
pub fn pin_example(reading: &Reading) -> Option<String> {
    match reading {
        Reading::Range(r) => r.lowest.as_ref().map(|v| v.to_string()),
        _ => None,
    }
}

/// The range words for a constraint that is not pinned, `None` when it pins or is no constraint.
pub fn range_words(s: &str) -> Option<(String, Option<String>, bool)> {
    let reading = helm_semver::read(s);
    match &reading {
        Reading::Range(r) => Some((r.describes.clone(), pin_example(&reading), r.partial)),
        _ => None,
    }
}

/// Whether the source `o` (a GitRepository, an OCIRepository) is a document of a patch body
/// that leaves `spec.ref` out: a patch sets the fields it holds on its targets, so the ref is
/// theirs, not "no ref".
pub fn ref_left_to_patch_targets(repo: &Repository, o: &Object) -> bool {
    repo.reconcile_tree().is_patch_body(o.file) && repo.node(o).path(&["spec", "ref"]).is_none()
}

/// `namespace/name`, or the name alone when the namespace is unknown.
pub fn qualified(repo: &Repository, o: &Object) -> String {
    match repo.effective_namespace(o) {
        Some(ns) => format!("{ns}/{}", o.name),
        None => o.name.clone(),
    }
}
