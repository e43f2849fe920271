//! The model rules judge: what Flux applies. `index` holds every parsed object of the repository
//! (`Repository`) and the facts computed once from it; `reconcile` is the reconcile tree (which
//! files each Flux Kustomization applies); `graph` is the dependsOn graph of Kustomizations and
//! HelmReleases. `clusters` finds the entry points, `sources` which
//! Flux Kustomizations read this repository; `kustomization` reads a kustomization file once;
//! `build` runs kustomize's semantics over the repository's parsed files into `rendered` trees
//! whose every value knows the file and line that set it; `substitution` is Flux's post-build
//! variable substitution.
//!
//! Not built, each a render gap (an info finding, never a guess): remote resources and
//! components, `helmCharts`/`helmGlobals`, `vars`, `configurations`, `transformers`,
//! `generators`, `validators`, `openapi`, `buildMetadata`, `labels[].fields`. Accepted but
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
