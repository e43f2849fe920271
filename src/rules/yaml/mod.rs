//! 0xx/1xx: suppression bookkeeping and YAML validity.

pub mod ambiguous_scalar;
pub mod duplicate_key;
pub mod not_a_k8s_object;
pub mod not_applied;
pub mod stale_baseline_entry;
pub mod unused_suppression;
pub mod yaml_syntax;

use crate::diag::{Diagnostic, FileId};
use crate::source::Span;
use crate::yaml::YamlProblem;

/// Turns the parser's problems for one file into findings.
pub fn problems_to_diagnostics(file: FileId, problems: &[YamlProblem], out: &mut Vec<Diagnostic>) {
    for p in problems {
        out.push(match p {
            YamlProblem::Syntax {
                span,
                message,
                stopped,
                cause_label,
            } => {
                let mut d = Diagnostic::new(&yaml_syntax::META, file, *span, format!("invalid YAML: {message}"))
                    .primary_label(cause_label.clone().unwrap_or_else(|| "the parser stopped here".into()))
                    .help("fix the syntax: Flux cannot apply any document of a file it cannot parse");
                if let Some(s) = stopped {
                    d = d.label(file, *s, "the parser stopped here");
                }
                d
            }
            YamlProblem::DuplicateKey { key, first, second } => {
                Diagnostic::new(&duplicate_key::META, file, *second, format!("duplicate key `{key}`"))
                    .primary_label("repeated here")
                    .label(file, *first, "first defined here")
                    .help("keep one of the two: Kubernetes rejects the object or silently keeps only one value")
            }
            YamlProblem::AliasBomb { span, expanded } => Diagnostic::new(
                &yaml_syntax::META,
                file,
                Span::new(span.start as usize, span.start as usize),
                format!("aliases in this document expand to {expanded} nodes (a \"billion laughs\" document)"),
            )
            .primary_label("document starts here")
            .help("Kubernetes' YAML decoder rejects excessive aliasing; write the values out or use fewer nested aliases"),
            YamlProblem::TooLarge { span } => Diagnostic::new(
                &yaml_syntax::META,
                file,
                Span::empty(span.start as usize),
                format!(
                    "document has more than {} YAML nodes; fluxvet did not check it",
                    crate::yaml::parse::NODE_LIMIT
                ),
            )
            .primary_label("document starts here")
            .help("the API server refuses objects over about 1.5 MB, so no Kubernetes object is this big; split the data or exclude the file in .fluxvet.yaml"),
            YamlProblem::NotText { reason } => not_text(file, Span::empty(0), reason),
        });
    }
}

/// A file that is not YAML text at all, pointed at the first offending byte when known.
/// A file over the size limit: not read, so not checked.
pub fn too_large(file: FileId, limit: u64) -> Diagnostic {
    Diagnostic::new(
        &yaml_syntax::META,
        file,
        Span::new(0, 0),
        format!(
            "file too large: it is over fluxvet's limit of {} and was not checked",
            crate::config::show_size(limit)
        ),
    )
    .primary_label("not read")
    .help("if it is a manifest Flux applies, raise the limit (`--max-file-size 64MiB`, or `max_file_size: 64MiB` in .fluxvet.yaml); otherwise exclude it")
}

pub fn not_text(file: FileId, span: Span, reason: &str) -> Diagnostic {
    Diagnostic::new(
        &yaml_syntax::META,
        file,
        span,
        format!("not a YAML text file: {reason}"),
    )
    .primary_label("here")
    .help("YAML must be UTF-8 text (or UTF-16 with a byte order mark): re-save it as UTF-8, or if it is not a manifest, rename it or exclude it in .fluxvet.yaml")
}
