//! fluxvet: a linter for Flux CD GitOps repositories. `main.rs` is a thin shell over
//! [`engine`]; rules live under [`rules`], output formats under [`emit`].

pub mod cli;
pub mod config;
pub mod diag;
pub mod discover;
pub mod emit;
pub mod engine;
pub mod fs;
pub mod git;
pub mod index;
pub mod rules;
pub mod source;
pub mod suppress;
pub mod yaml;
