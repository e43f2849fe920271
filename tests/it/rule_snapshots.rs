//! Every finding every rule makes on the fixture repositories, rendered in full (snippet,
//! labels, help) as a person reads it, one snapshot per rule (as oxc's `test_and_snapshot`
//! does): a change of wording, span or label shows in review rule by rule. `cargo insta review`
//! (or `INSTA_UPDATE=always cargo test`) accepts a deliberate change; otherwise a difference
//! fails the test and leaves a `.snap.new` beside the snapshot.

use std::path::PathBuf;

use fluxvet::emit::text;
use fluxvet::engine::{CheckOptions, Outcome, Trees, check};

use crate::support::{checkout, fixture_repositories};

/// Rules whose findings come from `fluxvet diff` (two revisions), not from `check`: their
/// rendered output is pinned by `diff`'s own snapshot tests.
const DIFF_RULES: &[&str] = &[
    "FV801", "FV802", "FV803", "FV804", "FV805", "FV806", "FV807", "FV808",
];
/// Rules about a `--baseline` file: pinned by [`stale_baseline_entry_rendering`].
const BASELINE_RULES: &[&str] = &["FV002"];

fn outcomes() -> Vec<(String, Outcome)> {
    fixture_repositories()
        .into_iter()
        .map(|dir: PathBuf| {
            let outcome = check(&CheckOptions {
                paths: vec![dir.clone()],
                config: None,
                exclude: Vec::new(),
                trees: Trees::RulesNeed,
                ..CheckOptions::default()
            })
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let name = dir
                .strip_prefix(checkout())
                .expect("fixture under the checkout")
                .to_string_lossy()
                .replace('\\', "/");
            (name, outcome)
        })
        .collect()
}

/// The rendered findings of one rule across every fixture repository.
fn rendered(code: &str, outcomes: &mut [(String, Outcome)]) -> String {
    let mut out = String::new();
    for (name, outcome) in outcomes.iter_mut() {
        let all = std::mem::take(&mut outcome.diagnostics);
        outcome.diagnostics = all
            .iter()
            .filter(|d| d.rule.code == code)
            .cloned()
            .collect();
        if !outcome.diagnostics.is_empty() {
            let mut buf = Vec::new();
            text::diagnostics(outcome, false, &mut buf).expect("render");
            out.push_str(&format!("=== {name}\n"));
            out.push_str(&String::from_utf8(buf).expect("utf-8"));
        }
        outcome.diagnostics = all;
    }
    out
}

#[test]
fn every_rule_has_a_reviewed_rendering_of_its_failing_cases() {
    let mut outcomes = outcomes();
    let mut uncovered = Vec::new();
    for meta in fluxvet::rules::all() {
        if DIFF_RULES.contains(&meta.code) || BASELINE_RULES.contains(&meta.code) {
            continue;
        }
        let report = rendered(meta.code, &mut outcomes);
        if report.is_empty() {
            uncovered.push(meta.code);
            continue;
        }
        insta::with_settings!({
            snapshot_path => "snapshots/rules",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("{} {}: every finding on fixtures/", meta.code, meta.name),
        }, {
            insta::assert_snapshot!(meta.code, report);
        });
    }
    assert!(
        uncovered.is_empty(),
        "no fixture makes these rules fire, so their rendering is unreviewed: {uncovered:?}"
    );
}

#[test]
fn stale_baseline_entry_rendering() {
    let dir = checkout().join("fixtures/example");
    let mut outcome = check(&CheckOptions {
        paths: vec![dir],
        config: None,
        exclude: Vec::new(),
        trees: Trees::RulesNeed,
        ..CheckOptions::default()
    })
    .expect("fixtures/example");
    let baseline = fluxvet::baseline::Baseline::parse(
        "fluxvet-baseline.yaml".into(),
        "version: 1\nfindings:\n  - fingerprint: \"0123456789abcdef\"\n    rule: \"FV202 chart-version-unpinned\"\n    file: \"gone.yaml\"\n    reason: \"existing when fluxvet was adopted\"\n".into(),
    )
    .expect("baseline");
    baseline.apply(&mut outcome);
    outcome.diagnostics.retain(|d| d.rule.code == "FV002");
    assert_eq!(outcome.diagnostics.len(), 1);
    let mut buf = Vec::new();
    text::diagnostics(&outcome, false, &mut buf).expect("render");
    insta::with_settings!({
        snapshot_path => "snapshots/rules",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => "FV002 stale-baseline-entry: an entry for a file that is gone",
    }, {
        insta::assert_snapshot!("FV002", String::from_utf8(buf).expect("utf-8"));
    });
}

/// A rule is one file and one registry line (CONTRIBUTING.md): registered, it must have its
/// reviewed snapshot and its section in docs/rules.md; removed, it leaves neither behind.
#[test]
fn every_registered_rule_has_a_snapshot_and_a_docs_section_and_nothing_else_does() {
    let dir = checkout().join("tests/it/snapshots/rules");
    let mut snapshots: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let name = e
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            name.strip_suffix(".snap").map(str::to_string)
        })
        .collect();
    snapshots.sort();
    let registered: Vec<String> = fluxvet::rules::all().map(|m| m.code.to_string()).collect();
    assert_eq!(
        snapshots, registered,
        "tests/it/snapshots/rules holds one FVxxx.snap per registered rule (see CONTRIBUTING.md)"
    );
    let page = std::fs::read_to_string(checkout().join("docs/rules.md")).expect("docs/rules.md");
    for m in fluxvet::rules::all() {
        assert!(
            page.contains(&format!("\n## {} {} ", m.code, m.name)),
            "docs/rules.md has no section for {} (run `cargo run -q -- rules --format docs > docs/rules.md`)",
            m.code
        );
    }
}
