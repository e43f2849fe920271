//! The YAML fast path against saphyr-parser on real files: on every YAML file of the fixtures
//! and of the corpus of real repositories, the fast path gives saphyr-parser's events at the
//! same byte spans, or declines the file.

use std::path::{Path, PathBuf};

use fluxvet::yaml::fast::agrees_with_saphyr;

use crate::support;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && entry.file_name() != ".git" {
            yaml_files(&path, out);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Checks every YAML file below `dir`: how many the fast path read, of how many.
fn check(dir: &Path) -> (usize, usize) {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    files.sort();
    let (mut read, mut total) = (0, 0);
    let mut differ = Vec::new();
    for path in files {
        // Not UTF-8 (a fixture of a broken file): the fast path never sees it.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        total += 1;
        match agrees_with_saphyr(&text) {
            Ok(true) => read += 1,
            Ok(false) => {}
            Err(e) => differ.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    (read, total)
}

#[test]
fn fast_path_agrees_with_saphyr_on_the_fixtures() {
    let (read, total) = check(&support::checkout().join("fixtures"));
    // The fixtures hold many broken files on purpose; the rest must still take the fast path.
    assert!(
        read * 2 > total,
        "the fast path read {read} of {total} fixture files"
    );
}

#[test]
fn fast_path_agrees_with_saphyr_on_the_corpus() {
    let corpus = support::checkout().join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("SKIPPED: no corpus at {}", corpus.display());
        return;
    }
    let (read, total) = check(&corpus.join("onedr0p__home-ops"));
    // A real home-ops repository is nearly all in the subset the fast path reads.
    assert!(
        read * 100 >= total * 95,
        "the fast path read {read} of {total} files"
    );
    check(&corpus);
}
