//! 4xx: references from one object or file to another.

pub mod build_failed;
pub mod build_findings;
pub mod config_refs;
pub mod kustomization_path_missing;
pub mod kustomize_resource_missing;
pub mod render_gap;
pub mod source_kind_invalid;
pub mod source_not_found;
pub mod substitution_undefined;

use std::collections::HashMap;

use crate::flux_api::FluxKind;
use crate::model::index::{Object, Repository, parent_dir};
use crate::yaml::NodeRef;

/// One `sourceRef`/`chartRef` of an object.
pub struct SourceRef<'a> {
    pub referrer: &'a Object,
    /// The whole reference mapping.
    pub node: NodeRef<'a>,
    /// `spec.sourceRef`, `spec.chartRef`, …, for messages.
    pub field: &'static str,
    pub allowed: &'static [FluxKind],
    /// The kind Flux assumes when the field has none.
    pub default_kind: Option<FluxKind>,
    /// Whether the reference may name another namespace.
    pub cross_namespace: bool,
}

impl SourceRef<'_> {
    pub fn kind(&self) -> Option<&str> {
        self.node
            .str_at(&["kind"])
            .or(self.default_kind.map(FluxKind::name))
    }

    /// Whether Flux accepts a source of `kind` here.
    pub fn allows(&self, kind: &str) -> bool {
        self.allowed.iter().any(|k| k.name() == kind)
    }

    /// The allowed kinds, for messages: `GitRepository, OCIRepository`.
    pub fn allowed_names(&self) -> String {
        let names: Vec<&str> = self.allowed.iter().map(|k| k.name()).collect();
        names.join(", ")
    }
}

/// The kinds that reference sources ([`crate::flux_api::KindFacts::source_refs`]).
pub fn referring_kinds() -> &'static [FluxKind] {
    static KINDS: std::sync::OnceLock<Vec<FluxKind>> = std::sync::OnceLock::new();
    KINDS.get_or_init(|| {
        crate::flux_api::KINDS_OF_FLUX
            .iter()
            .filter(|f| !f.source_refs.is_empty())
            .map(|f| f.kind)
            .collect()
    })
}

/// Every source reference of every Flux object, in object order.
pub fn source_refs(repo: &Repository) -> impl Iterator<Item = SourceRef<'_>> {
    // An iterator, not a Vec: two rules walk the references once each, and the list was a
    // large allocation of fresh memory for nothing.
    repo.of_kinds(referring_kinds())
        .flat_map(|(_, o)| refs_of(repo, o))
}

/// The source references of one object: at most two (a HelmRelease's `chart.spec.sourceRef`
/// and `chartRef`).
fn refs_of<'a>(repo: &'a Repository, o: &'a Object) -> impl Iterator<Item = SourceRef<'a>> {
    let fields = o.flux.map_or(&[][..], |k| k.facts().source_refs);
    fields.iter().filter_map(move |f| {
        let node = repo.node(o).path(f.path).filter(|n| n.is_mapping())?;
        Some(SourceRef {
            referrer: o,
            node,
            field: f.field,
            allowed: f.allowed,
            default_kind: f.default_kind,
            cross_namespace: f.cross_namespace,
        })
    })
}

/// The namespaces an object may be applied in, as far as the files tell: its own
/// `metadata.namespace`, the `namespace:` of kustomization files in its directory or above and
/// the `targetNamespace` of the Flux Kustomizations that apply it. `None` when that cannot be
/// told (nothing sets one, or a value is a `${VAR}`).
/// The namespaces of one object, `None` when they cannot be told.
type NamespaceSet<'r> = Option<Vec<&'r str>>;

pub struct Namespaces<'r> {
    repo: &'r Repository,
    /// Answers for [`Namespaces::of_source`], by (document, file).
    known: std::cell::RefCell<HashMap<(usize, usize), NamespaceSet<'r>>>,
}

impl<'r> Namespaces<'r> {
    pub fn new(repo: &'r Repository) -> Self {
        Namespaces {
            repo,
            known: Default::default(),
        }
    }

    pub fn of(&self, o: &Object) -> Option<Vec<&'r str>> {
        self.find(o)
    }

    /// As [`Namespaces::of`], remembered: a source is asked about once per reference to its
    /// name, and many references share a name (every copy of one layout names the same
    /// sources).
    pub fn of_source(&self, o: &Object) -> Option<Vec<&'r str>> {
        let key = (o.doc, o.file);
        if let Some(known) = self.known.borrow().get(&key) {
            return known.clone();
        }
        let found = self.find(o);
        self.known.borrow_mut().insert(key, found.clone());
        found
    }

    fn find(&self, o: &Object) -> Option<Vec<&'r str>> {
        let repo = self.repo;
        let mut out: Vec<&str> = Vec::new();
        // `o` may be a clone; take the namespace from the repository's own copy, which the
        // index read already.
        let own = match repo.object_of_doc(o.doc) {
            Some(indexed) => indexed.namespace.as_deref(),
            None => repo
                .docs
                .get(o.doc)?
                .doc
                .root()?
                .str_at(&["metadata", "namespace"])
                .filter(|s| !s.is_empty()),
        };
        out.extend(own);
        // A shared file (a component) lands in the namespace of each kustomization including it.
        out.extend(repo.namespaces_set_on(o.file).iter().map(String::as_str));
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
