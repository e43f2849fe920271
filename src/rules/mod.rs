//! The rule catalogue. One file per rule, grouped by family; each file holds the rule's
//! metadata, its documentation (shown by `fluxvet explain`) and its check.

use crate::diag::{Diagnostic, FileId};
use crate::flux_api::{CoreKind, FluxKind};
use crate::model::index::{DocEntry, Object, Repository};
use crate::source::SourceFile;
use crate::yaml::Document;

pub mod catalogue;
pub mod deps;
pub mod preview;
pub mod promotion;
pub mod refs;
pub mod schema;
pub mod security;
pub mod templates;
pub mod versions;
pub mod yaml;

/// A rule's identity and documentation (defined beside the findings that carry it).
pub use crate::diag::RuleMeta;

/// What a per-document rule sees.
pub struct DocContext<'a> {
    pub file_id: FileId,
    pub file: &'a SourceFile,
    pub doc: &'a Document,
    /// The document's Kubernetes identity, when it has one.
    pub object: Option<&'a Object>,
    /// The document as a Flux kind with a known schema, read once for every rule that asks.
    pub flux: Option<schema::FluxDoc<'a>>,
}

/// What a rule reads besides the document it is shown and the index: the engine and the index
/// work out what to keep and compute from these declarations, and name no rule.
#[derive(Clone, Copy, Default)]
pub struct Reads {
    /// The kinds whose objects the rule looks up by kind name, whatever their API group: their
    /// trees are kept after the document rules ([`crate::model::index::read_after_document_rules`]).
    pub flux_kinds: &'static [FluxKind],
    pub core_kinds: &'static [CoreKind],
    /// The embedded JSON schemas ([`crate::schemas::catalog`]): loaded while discovery walks
    /// the tree when a rule that is on reads them.
    pub schemas: bool,
}

impl Reads {
    pub const NOTHING: Reads = Reads {
        flux_kinds: &[],
        core_kinds: &[],
        schemas: false,
    };
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// What the rule reads after the document rules (see [`Reads`]).
    fn reads(&self) -> Reads {
        Reads::NOTHING
    }
    /// Runs on every document, in parallel across files.
    fn check_document(&self, _cx: &DocContext<'_>, _out: &mut Vec<Diagnostic>) {}
    /// Whether the repository check will read this document: asked of every document while
    /// it is parsed (in parallel, with the tree in cache) when the rule is on. A marked
    /// document keeps its tree, and the rule finds it with [`marked`].
    fn marks(&self, _cx: &DocContext<'_>) -> bool {
        false
    }
    /// Runs on the text of every file read, the files `.sourceignore` hides from Flux and
    /// Helm's own files included (`documents` is empty for those).
    fn check_text(
        &self,
        _file_id: FileId,
        _file: &SourceFile,
        _documents: &[Document],
        _out: &mut Vec<Diagnostic>,
    ) {
    }
    /// Runs once on the whole repository, after every file is indexed.
    fn check_repository(&self, _repo: &Repository, _out: &mut Vec<Diagnostic>) {}
    /// One of this rule's document findings, once the repository is known: a document rule
    /// cannot see that its document is a kustomize patch, or which Flux version the clusters
    /// applying it run. Returns whether the finding stands; may reword it.
    fn refine(&self, _repo: &Repository, _finding: &mut Diagnostic) -> bool {
        true
    }
    /// The more specific rules this one stands back for: a finding of this rule is dropped
    /// where one of theirs is on the same line of the same file (one problem, one finding).
    fn yields_to(&self) -> &'static [&'static RuleMeta] {
        &[]
    }
    /// Whether this rule's findings stand in a file no cluster applies (where the others are
    /// left out: nothing there reaches a cluster).
    fn reported_unapplied(&self) -> bool {
        false
    }
    /// Runs on every finding left after the configured severities and the suppressions, for a
    /// rule that decides which findings matter at all.
    fn filter_findings(&self, _repo: &Repository, _findings: &mut Vec<Diagnostic>) {}
}

/// Where a finding holds, when only some clusters have it: ` as cluster staging applies it`
/// (`Phrase::AppliesIt`) or ` in cluster staging` (`Phrase::In`); each cluster named once, in
/// order, the unnamed root of a repository without clusters left out.
pub fn clusters_phrase(clusters: &[&str], phrase: Phrase) -> String {
    let mut names: Vec<&str> = clusters.iter().copied().filter(|c| !c.is_empty()).collect();
    names.sort_unstable();
    names.dedup();
    match (names.as_slice(), phrase) {
        ([], _) => String::new(),
        ([one], Phrase::AppliesIt) => format!(" as cluster {one} applies it"),
        (many, Phrase::AppliesIt) => format!(" as clusters {} apply it", many.join(", ")),
        ([one], Phrase::In) => format!(" in cluster {one}"),
        (many, Phrase::In) => format!(" in clusters {}", many.join(", ")),
    }
}

/// The wording of [`clusters_phrase`].
#[derive(Clone, Copy)]
pub enum Phrase {
    AppliesIt,
    In,
}

/// Whether `rule` marked this document while it was parsed ([`Rule::marks`]).
pub fn marked(entry: &DocEntry, rule: &'static RuleMeta) -> bool {
    entry.marks & mark_of(rule) != 0
}

/// The bit of [`DocEntry::marks`] that says `rule` marked a document.
pub fn mark_of(rule: &'static RuleMeta) -> u64 {
    position(rule).map_or(0, |i| 1 << i)
}

/// The rule's place in [`RULES`]: its bit in [`DocEntry::marks`].
pub fn position(rule: &'static RuleMeta) -> Option<usize> {
    RULES.iter().position(|r| std::ptr::eq(r.meta(), rule))
}

/// The kind names some rule looks objects up by whatever their group ([`Reads`]), sorted.
pub fn kinds_read_by_name() -> &'static [&'static str] {
    static KINDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    KINDS.get_or_init(|| {
        let mut kinds: Vec<&'static str> = RULES
            .iter()
            .flat_map(|r| {
                let reads = r.reads();
                let flux = reads.flux_kinds.iter().map(|k| k.name());
                flux.chain(reads.core_kinds.iter().map(|k| k.name()))
            })
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    })
}

/// The rule behind a finding.
pub fn rule_of(d: &Diagnostic) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| std::ptr::eq(r.meta(), d.rule))
}

/// Every rule, in code order.
pub static RULES: &[&dyn Rule] = &[
    &yaml::unused_suppression::UnusedSuppression,
    &yaml::stale_baseline_entry::StaleBaselineEntry,
    &yaml::yaml_syntax::YamlSyntax,
    &yaml::duplicate_key::DuplicateKey,
    &yaml::not_a_k8s_object::NotAK8sObject,
    &yaml::ambiguous_scalar::AmbiguousScalar,
    &yaml::not_applied::NotApplied,
    &versions::chart_version_missing::ChartVersionMissing,
    &versions::chart_version_unpinned::ChartVersionUnpinned,
    &versions::chart_version_not_string::ChartVersionNotString,
    &versions::chart_version_ignored::ChartVersionIgnored,
    &versions::oci_ref_unpinned::OciRefUnpinned,
    &versions::git_ref_floating::GitRefFloating,
    &deps::dependency_not_found::DependencyNotFound,
    &deps::dependency_cycle::DependencyCycle,
    &deps::dependency_order::DependencyOrder,
    &deps::dependency_chain_gap::DependencyChainGap,
    &deps::dependency_malformed::DependencyMalformed,
    &refs::source_not_found::SourceNotFound,
    &refs::source_kind_invalid::SourceKindInvalid,
    &refs::kustomization_path_missing::KustomizationPathMissing,
    &refs::kustomize_resource_missing::KustomizeResourceMissing,
    &refs::build_failed::BuildFailed,
    &refs::render_gap::RenderGap,
    &refs::substitution_undefined::SubstitutionUndefined,
    &schema::api_version_removed::ApiVersionRemoved,
    &schema::required_field_missing::RequiredFieldMissing,
    &schema::invalid_duration::InvalidDuration,
    &schema::invalid_value::InvalidValue,
    &schema::schema_violation::SchemaViolation,
    &security::plaintext_secret::PlaintextSecret,
    &security::sops_without_decryption::SopsWithoutDecryption,
    &promotion::promotion_skipped::PromotionSkipped,
    &preview::chart_version_bump::ChartVersionBump,
    &preview::chart_downgrade::ChartDowngrade,
    &preview::prune_deletes::PruneDeletes,
    &preview::bring_up_reordered::BringUpReordered,
    &preview::release_reinstall::ReleaseReinstall,
    &preview::immutable_change::ImmutableChange,
    &preview::ownership_move::OwnershipMove,
    &preview::orphaned::Orphaned,
];

pub fn all() -> impl Iterator<Item = &'static RuleMeta> {
    RULES.iter().map(|r| r.meta())
}

/// A rule by code (`FV202`, any case) or name (`chart-version-unpinned`).
pub fn lookup(key: &str) -> Option<&'static RuleMeta> {
    all().find(|m| m.code.eq_ignore_ascii_case(key) || m.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_sorted() {
        let metas: Vec<_> = all().collect();
        for w in metas.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        let mut names: Vec<_> = metas.iter().map(|m| m.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), metas.len());
        for m in metas {
            for h in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Use instead",
            ] {
                assert!(m.docs.contains(h), "{} lacks {h}", m.code);
            }
        }
    }

    #[test]
    fn the_registry_fits_the_document_marks() {
        // One bit of `DocEntry::marks` per rule.
        assert!(RULES.len() <= 64, "{} rules", RULES.len());
        for r in RULES {
            assert_eq!(mark_of(r.meta()).count_ones(), 1, "{}", r.meta().code);
        }
    }

    #[test]
    fn rules_yield_only_to_registered_rules() {
        for r in RULES {
            for over in r.yields_to() {
                assert!(
                    position(over).is_some(),
                    "{} yields to {}",
                    r.meta().code,
                    over.code
                );
                assert!(!std::ptr::eq(*over, r.meta()), "{}", over.code);
            }
        }
    }

    #[test]
    fn kinds_read_by_name_come_from_the_declarations() {
        let kinds = kinds_read_by_name();
        assert!(kinds.is_sorted());
        // FV401 looks the sources a reference names up by kind; FV205 OCIRepositories.
        for k in [
            "HelmRepository",
            "ResourceSet",
            "OCIRepository",
            "ConfigMap",
        ] {
            assert!(kinds.contains(&k), "{k}");
        }
        assert!(!kinds.contains(&"Deployment"));
    }

    #[test]
    fn the_rules_that_fix_say_so() {
        let fixable: Vec<_> = all().filter(|m| m.fixable()).map(|m| m.code).collect();
        assert_eq!(fixable, ["FV104", "FV203", "FV501"]);
    }
}

/// The shared tester every rule file's own cases run through.
#[cfg(test)]
pub mod testing {
    /// `clusters/production/flux-system/gotk-sync.yaml` as `flux bootstrap` writes it: the
    /// repository's source and the Kustomization that applies `./clusters/production`.
    pub const BOOTSTRAP_SYNC: &str = "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: https://github.com/example/fleet
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/production
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";
    /// The Flux Kustomization `flux-system/apps` applying `./apps` from the repository's own
    /// source: the child most rule cases hang their objects under.
    pub const APPS_KUSTOMIZATION: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";

    /// A Flux Kustomization `flux-system/<name>` applying `path` from the source of kind
    /// `source_kind` named after it (`flux-system` for a GitRepository), with more of `spec`
    /// (indented two spaces) after `sourceRef`.
    pub fn flux_kustomization(name: &str, path: &str, source_kind: &str, spec: &str) -> String {
        let source = if source_kind == "GitRepository" {
            "flux-system"
        } else {
            name
        };
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: {path}
  prune: true
  sourceRef:
    kind: {source_kind}
    name: {source}
{spec}"
        )
    }

    /// The bootstrap Kustomization alone (the source is made by `flux bootstrap`).
    pub const BOOTSTRAP_KUSTOMIZATION: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/production
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";

    use crate::config::Config;
    use crate::engine::{Trees, check_memory_with};

    /// `(code, file, line, column)` of every finding, sorted. Every case also runs keeping
    /// every tree, and must find exactly the same: `check` drops the trees it judges nothing
    /// reads after the document rules, and a rule that did read one would differ here.
    pub fn findings_with(
        files: &[(&str, &str)],
        config: Config,
    ) -> Vec<(String, String, usize, usize)> {
        let all = check_memory_with(files, config.clone(), Trees::All);
        let out = check_memory_with(files, config, Trees::RulesNeed);
        assert_eq!(
            format!("{:?}", all.diagnostics),
            format!("{:?}", out.diagnostics),
            "findings differ when `check` releases the trees no repository rule reads"
        );
        out.diagnostics
            .iter()
            .map(|d| {
                let f = &out.repo.files[d.file];
                let lc = f.line_col(d.span.start as usize);
                (
                    d.rule.code.to_string(),
                    f.path.to_string(),
                    lc.line,
                    lc.column,
                )
            })
            .collect()
    }

    pub fn findings(files: &[(&str, &str)]) -> Vec<(String, String, usize, usize)> {
        findings_with(files, Config::default())
    }

    /// Findings of one rule only, as `(file, line, column)`.
    pub fn findings_of(code: &str, files: &[(&str, &str)]) -> Vec<(String, usize, usize)> {
        findings_of_with(code, files, Config::default())
    }

    /// Findings of one rule only under `config`, as `(file, line, column)`.
    pub fn findings_of_with(
        code: &str,
        files: &[(&str, &str)],
        config: Config,
    ) -> Vec<(String, usize, usize)> {
        findings_with(files, config)
            .into_iter()
            .filter(|f| f.0 == code)
            .map(|(_, f, l, c)| (f, l, c))
            .collect()
    }
}
