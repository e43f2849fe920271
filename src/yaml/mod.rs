//! YAML streams into spanned trees: saphyr-parser events, our own arena, every problem kept.

pub mod fast;
pub mod parse;
pub mod scalar;
pub mod tree;

pub use parse::{ParsedStream, YamlProblem, parse_source, parse_stream};
pub use tree::{Document, Kind, NodeId, NodeRef, Style};
