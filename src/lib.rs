//! fluxvet: a linter for Flux CD GitOps repositories. `main.rs` is a thin shell over
//! [`commands`] (one module a subcommand) and [`engine`]; rules live under [`rules`], output
//! formats under [`emit`].

pub mod baseline;
pub mod changes;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diag;
pub mod diff;
pub mod discover;
pub mod emit;
pub mod engine;
pub mod fingerprint;
pub mod fix;
pub mod flux_api;
pub mod fs;
pub mod git;
pub mod graph_render;
pub mod helm_semver;
pub mod lsp;
pub mod memo;
pub mod model;
pub mod paths;
pub mod promotion;
pub mod rules;
pub mod schemas;
pub mod secrets;
pub mod session;
pub mod source;
pub mod suppress;
pub mod timing;
pub mod yaml;
