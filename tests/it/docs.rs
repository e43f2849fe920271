//! The README's rule table and docs/rules.md are generated from the code; these tests keep them in
//! sync. They only compare: the failure message gives the command that regenerates the file.

use std::path::Path;
use std::process::Command;

fn generated(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .args(["rules", "--format", format])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn readme_rule_table_is_generated_from_the_code() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- rules:start -->\n", "<!-- rules:end -->");
    let a = readme.find(start).expect("rules:start marker") + start.len();
    let b = readme.find(end).expect("rules:end marker");
    assert_eq!(
        &readme[a..b],
        generated("markdown"),
        "README rule table is stale: replace what stands between its rules:start and rules:end \
         markers with the output of `cargo run -q -- rules --format markdown`"
    );
}

#[test]
fn rules_page_is_generated_from_the_code() {
    let path = root().join("docs/rules.md");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        generated("docs"),
        "docs/rules.md is stale: run `cargo run -q -- rules --format docs > docs/rules.md`"
    );
}

#[test]
fn readme_opens_with_the_two_newcomer_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let head: Vec<&str> = readme.lines().take(6).collect();
    assert!(
        head.iter()
            .any(|l| l.starts_with("cargo run --release -- check fixtures/example"))
    );
    assert!(head.iter().any(|l| l.starts_with("cargo test")));
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test"),
        ".ci/run runs the README's test command"
    );
}

#[test]
fn readme_taskfile_is_the_tested_one() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let taskfile = std::fs::read_to_string(root().join("docs/examples/Taskfile.yml")).unwrap();
    assert!(
        readme.contains(&format!("```yaml\n{taskfile}```")),
        "README's Taskfile differs from docs/examples/Taskfile.yml"
    );
}
