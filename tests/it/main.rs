//! The integration suite, one test target (as ripgrep does) so it links once. Each module was
//! a test file of its own before; `support` holds what they share.

mod acceptance;
mod action;
mod build_cmd;
mod changes;
mod ci_reports;
mod cli;
mod cli_details;
mod clusters;
mod diff;
mod docs;
mod fix;
mod graph;
mod hostile;
mod integrations;
mod lsp;
mod oracle;
mod properties;
mod refs;
mod release;
mod rule_snapshots;
mod schema;
mod security;
mod support;
mod suppress;
mod trees;
mod truth;
mod versions;
mod yaml_fast;
