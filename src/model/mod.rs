//! The model rules judge: what Flux applies. It reads bottom-up: no module imports (or asks the
//! repository for) one named after it here.
//! - `derived`: the store in which the repository keeps what is worked out once from all of
//!   it; it knows none of the types it keeps. `folded`, `rendered`: the rendered value tree,
//!   every value with the file and line that set it.
//! - `kustomization` reads a kustomization file once (and tells whether a document is
//!   kustomize's config, whether a reference is remote); kustomize's operations on rendered
//!   trees: `fieldspec`, `smp`, `json6902`, `select`, `transform`, `generate`, `nameref`,
//!   `replacements`.
//! - `index`: every parsed file and object of the repository (`Repository`), the facts read
//!   straight from them (objects by kind, namespaces, the kustomization file of a directory),
//!   and the derived store.
//! - each keeping its derived data through an accessor beside its type (`repo.clusters()`,
//!   `repo.reconcile_tree()`, `repo.dep_graph()`): `clusters` finds the entry points, `sources`
//!   which Flux Kustomizations read this repository, `substitution` is Flux's post-build
//!   variable substitution; on them `reconcile`, the reconcile tree (which files each Flux
//!   Kustomization applies), and on that `graph`, the dependsOn graph of Kustomizations and
//!   HelmReleases, and `artifact`, what source-controller leaves out of an artifact.
//! - `build` runs kustomize's semantics over the repository's parsed files into `rendered`
//!   trees; `applied` (`repo.applied()`) is what each cluster applies: the reconcile tree's
//!   builds, then Flux's own steps; `output` prints a build.
//!
//! Not built, each a render gap (an info finding, never a guess): remote resources and
//! components, `helmCharts`/`helmGlobals`, `vars`, `configurations`, `transformers`,
//! `generators`, `validators`, `openapi`, `buildMetadata` other than `originAnnotations`,
//! `labels[].fields`. Accepted but
//! without effect: `crds` (they only teach kustomize merge keys and name references of custom
//! kinds), `sortOptions` other than `order: fifo`. Name references cover the common fields of
//! kustomize's table (pod-spec ConfigMap/Secret/ServiceAccount/PVC/PriorityClass references,
//! RoleBinding roleRef and subjects, Ingress/StatefulSet/APIService/HTTPRoute Services, HPA
//! targets, Ingress TLS secrets, storage and ingress classes), not its rarer entries.

pub mod applied;
pub mod artifact;
pub mod build;
pub mod clusters;
pub mod derived;
pub mod fieldspec;
pub mod folded;
pub mod generate;
pub mod graph;
pub mod index;
pub mod json6902;
pub mod kustomization;
pub mod nameref;
pub mod output;
pub mod reconcile;
pub mod rendered;
pub mod replacements;
pub mod select;
pub mod smp;
pub mod sources;
pub mod substitution;
pub mod transform;

pub use build::{Build, BuildError, FluxAdditions, Gap, apply_patch, build, build_with};
pub use json6902::apply_json6902;
pub use rendered::{Node, Origin, RenderedObject, ScalarType, Value};
pub use smp::{SmpOutcome, apply_strategic_merge};
