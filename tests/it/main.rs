//! The integration suite, one test target (as ripgrep does) so it links once. Each module was
//! a test file of its own before; `support` holds what they share.

mod acceptance;
mod build_cmd;
mod cli;
mod diff;
mod docs;
mod graph;
mod hostile;
mod integrations;
mod oracle;
mod properties;
mod refs;
mod rule_snapshots;
mod schema;
mod security;
mod support;
mod suppress;
mod trees;
mod versions;
