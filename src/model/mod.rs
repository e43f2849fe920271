//! The model rules will judge: what Flux applies, built in process. `kustomization` reads a
//! kustomization file once; `build` runs kustomize's semantics over the repository's parsed
//! files into `rendered` trees whose every value knows the file and line that set it.

pub mod build;
pub mod fieldspec;
pub mod findings;
pub mod generate;
pub mod json6902;
pub mod kustomization;
pub mod nameref;
pub mod output;
pub mod rendered;
pub mod replacements;
pub mod select;
pub mod smp;
pub mod transform;

pub use build::{Build, BuildError, Gap, RenderedObject, build};
pub use json6902::apply_json6902;
pub use rendered::{Node, Origin, ScalarType, Value};
pub use smp::{SmpOutcome, apply_strategic_merge};
