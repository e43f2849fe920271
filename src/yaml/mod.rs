//! YAML streams into spanned trees: events from the fast path (`fast`) or saphyr-parser, our own
//! arena, every problem kept.

pub mod fast;
pub mod parse;
pub mod scalar;
pub mod tree;

pub use parse::{ParsedStream, YamlProblem, parse_source, parse_stream};
pub use tree::{Document, Kind, NodeId, NodeRef, Style};
