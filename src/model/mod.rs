//! The model of what Flux applies: the clusters (entry points) and, from them, what each
//! cluster's Flux Kustomizations build.

pub mod clusters;
pub mod sources;
pub mod substitution;
