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

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped,
/// spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// (link targets, heading anchors) of a Markdown file, as a Markdown parser reads it.
fn links_and_anchors(text: &str) -> (Vec<String>, Vec<String>) {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let (mut links, mut anchors, mut heading) = (Vec::new(), Vec::new(), None::<String>);
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => anchors.extend(heading.take().map(|h| anchor(&h))),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            _ => {}
        }
    }
    (links, anchors)
}

/// Issue 20: the docs pointed at a DESIGN.md the repository does not have. Every relative link
/// of README.md and docs/*.md names a file that exists (and a heading that exists, with an
/// anchor), and no page names DESIGN.md.
#[test]
fn documentation_links_resolve() {
    let mut pages = vec![root().join("README.md")];
    for e in std::fs::read_dir(root().join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(p);
        }
    }
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        if text.contains("DESIGN.md") && !root().join("DESIGN.md").exists() {
            broken.push(format!("{}: names DESIGN.md", page.display()));
        }
        let (links, _) = links_and_anchors(&text);
        for link in links {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !target.exists() {
                broken.push(format!("{}: {link}: no such file", page.display()));
                continue;
            }
            if !fragment.is_empty() && target.extension().is_some_and(|x| x == "md") {
                let (_, anchors) = links_and_anchors(&std::fs::read_to_string(&target).unwrap());
                if !anchors.iter().any(|a| a == fragment) {
                    broken.push(format!("{}: {link}: no such heading", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}
