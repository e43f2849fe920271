//! `check` releases the trees of documents nothing reads after the document rules. Every
//! fixture must give the same findings and the same rendered report (secret values masked
//! included) whether it keeps every tree or only those.

use std::path::{Path, PathBuf};

use fluxvet::emit::{Format, emit};
use fluxvet::engine::{CheckOptions, Trees, check};

fn fixture_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for entry in std::fs::read_dir(&root).expect("fixtures/") {
        let dir = entry.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        out.push(dir.clone());
        for sub in std::fs::read_dir(&dir).expect("fixture dir") {
            let sub = sub.expect("entry").path();
            if sub.is_dir() {
                out.push(sub);
            }
        }
    }
    out.sort();
    out
}

fn report(dir: &Path, trees: Trees, format: Format) -> String {
    let outcome = check(&CheckOptions {
        paths: vec![dir.to_path_buf()],
        config: None,
        exclude: Vec::new(),
        trees,
        ..CheckOptions::default()
    })
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let outcome = fluxvet::engine::Outcome {
        elapsed: None,
        ..outcome
    };
    let mut buf = Vec::new();
    emit(format, &outcome, false, &mut buf).expect("render");
    String::from_utf8(buf).expect("utf-8")
}

#[test]
fn releasing_unread_trees_changes_no_finding_and_no_report() {
    let dirs = fixture_dirs();
    assert!(
        dirs.len() >= 15,
        "expected the fixture repositories, found {dirs:?}"
    );
    let mut findings = 0;
    for dir in &dirs {
        for format in [Format::Text, Format::Json, Format::Sarif] {
            let all = report(dir, Trees::All, format);
            let released = report(dir, Trees::RulesNeed, format);
            assert_eq!(all, released, "{} ({format:?})", dir.display());
            if format == Format::Json {
                findings += all.matches("\"code\"").count();
            }
        }
    }
    // The fixtures hold deliberate defects: a comparison of two empty reports proves nothing.
    assert!(
        findings > 50,
        "only {findings} findings across the fixtures"
    );
}
