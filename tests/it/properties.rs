//! Properties of spans and positions over arbitrary and YAML-shaped text.

use fluxvet::source::{LineCol, SourceFile, Span};
use fluxvet::yaml::{YamlProblem, parse_stream};
use proptest::prelude::*;

/// Text that looks like YAML often enough to reach deep into the parser.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("a: ".to_string()),
        Just("- ".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just("  ".to_string()),
        Just("\t".to_string()),
        Just("---\n".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(", ".to_string()),
        Just("&x ".to_string()),
        Just("*x".to_string()),
        Just("<<: ".to_string()),
        Just("'q'".to_string()),
        Just("\"é\\t\"".to_string()),
        Just("|\n  ".to_string()),
        Just("# c\n".to_string()),
        Just("\u{feff}".to_string()),
        Just("ключ: ✓".to_string()),
        Just("!!str ".to_string()),
        Just("? ".to_string()),
        "[a-z0-9:]{1,4}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![yamlish(), any::<String>()]
}

fn inside(text: &str, span: Span) -> Result<(), TestCaseError> {
    prop_assert!(span.start <= span.end, "{span:?}");
    prop_assert!(
        (span.end as usize) <= text.len(),
        "{span:?} past {}",
        text.len()
    );
    prop_assert!(text.is_char_boundary(span.start as usize), "{span:?}");
    prop_assert!(text.is_char_boundary(span.end as usize), "{span:?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_span_lies_inside_its_file(raw in text()) {
        let file = SourceFile::new("p.yaml", raw);
        let text = &file.text;
        let stream = parse_stream(text);
        for doc in &stream.documents {
            inside(text, doc.span)?;
            for node in &doc.nodes {
                inside(text, node.span)?;
            }
        }
        for p in &stream.problems {
            match p {
                YamlProblem::Syntax { span, stopped, .. } => {
                    inside(text, *span)?;
                    if let Some(s) = stopped {
                        inside(text, *s)?;
                    }
                }
                YamlProblem::DuplicateKey { first, second, .. } => {
                    inside(text, *first)?;
                    inside(text, *second)?;
                }
                YamlProblem::AliasBomb { span, .. } | YamlProblem::TooLarge { span } => {
                    inside(text, *span)?
                }
                YamlProblem::NotText { .. } => {}
            }
        }
    }

    #[test]
    fn line_and_column_round_trip_to_offsets(raw in text()) {
        let file = SourceFile::new("p.yaml", raw);
        let text = &file.text;
        let mut last = LineCol { line: 1, column: 0 };
        for offset in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let lc = file.line_col(offset);
            prop_assert!(lc.line >= 1 && lc.column >= 1, "{lc:?}");
            prop_assert!(lc > last, "positions must increase: {last:?} then {lc:?}");
            prop_assert_eq!(file.offset_of(lc), offset, "{:?}", lc);
            last = lc;
        }
    }

    #[test]
    fn the_whole_pipeline_never_panics(raw in yamlish()) {
        let outcome = fluxvet::engine::check_memory(&[("a.yaml", &raw)], Default::default());
        let file = &outcome.repo.files[0];
        for d in &outcome.diagnostics {
            inside(&file.text, d.span)?;
        }
    }
}

/// Inputs that once panicked (found by fuzz/run.sh), kept as plain regression tests.
#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/check_one_file");
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let outcome = fluxvet::engine::check_memory(&[("a.yaml", &text)], Default::default());
        let mut out = Vec::new();
        for format in [fluxvet::emit::Format::Text, fluxvet::emit::Format::Json] {
            fluxvet::emit::emit(format, &outcome, false, &mut out).unwrap();
        }
    }
    // The suppression comment must not be sliced inside a multibyte character.
    let text = "a: 1 # fluxvet-ignore: F\u{feff}V1\n";
    let outcome = fluxvet::engine::check_memory(&[("a.yaml", text)], Default::default());
    let _ = outcome.diagnostics;
}
