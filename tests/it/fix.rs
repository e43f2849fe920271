//! `fluxvet check --fix` and `--fix --diff`: only the bytes of each fixed finding change, every
//! other byte (comments, spacing, order, line endings, a byte order mark) stays; what needs a
//! person is left alone and still reported.

use crate::support::*;

/// Each fixable case next to one that must stay, with comments and odd spacing around.
const BEFORE: &str = r#"# a comment that stays
apiVersion: helm.toolkit.fluxcd.io/v2beta1   # trailing comment
kind: HelmRelease
metadata:
  name: web
  namespace: apps
  labels:
    enabled: true
spec:
  interval: 10m
  chart:
    spec:
      chart: web
      version:    1.10    # spacing kept
      sourceRef:
        kind: HelmRepository
        name: charts
  values:
    flag: yes
---
apiVersion: "source.toolkit.fluxcd.io/v1beta2"
kind: HelmRepository
metadata:
  name: charts
  namespace: apps
spec:
  interval: 1h
  url: https://charts.example.com
---
apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata:
  name: legacy
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: legacy
      version: 2
      valuesFile: values-prod.yaml
      sourceRef:
        kind: HelmRepository
        name: charts
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  namespace: apps
data:
  a: 1.10
  on: "x"
"#;

/// BEFORE with exactly the safe edits made.
fn after() -> String {
    BEFORE
        .replace(
            "apiVersion: helm.toolkit.fluxcd.io/v2beta1   #",
            "apiVersion: helm.toolkit.fluxcd.io/v2   #",
        )
        .replace("    enabled: true\n", "    enabled: \"true\"\n")
        .replace("version:    1.10    #", "version:    \"1.10\"    #")
        .replace(
            "apiVersion: \"source.toolkit.fluxcd.io/v1beta2\"",
            "apiVersion: \"source.toolkit.fluxcd.io/v1\"",
        )
        .replace("      version: 2\n", "      version: \"2\"\n")
        .replace("  a: 1.10\n", "  a: \"1.10\"\n")
}

fn codes(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut f = l.split_whitespace();
            format!(
                "{} {}",
                f.next().unwrap_or_default(),
                f.nth(1).unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn fix_edits_only_the_findings_bytes() {
    let d = TempDir::new("fix");
    d.write("apps/release.yaml", BEFORE);
    let out = fluxvet(d.path(), &["check", "--fix", "--format", "short"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(d.join("apps/release.yaml")).unwrap(),
        after()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fluxvet: fixed 6 finding(s) in apps/release.yaml"),
        "{err}"
    );
    // What remains is reported: the release with valuesFile keeps its removed apiVersion (v2
    // dropped the field: a person rewrites it), and partial versions are not pinned. (`flag:
    // yes` in chart values and the key `on:` are strings to go-yaml v3: no finding at all.)
    assert_eq!(
        codes(&out),
        [
            // Quoted, `1.10` and `2` are still ranges: pinning one is a choice, not a fix.
            "apps/release.yaml:14:19: FV202",
            "apps/release.yaml:30:13: FV501",
            "apps/release.yaml:40:16: FV202",
        ],
        "{}",
        text(&out)
    );
    // A second run has nothing left to fix and changes nothing.
    let out = fluxvet(d.path(), &["check", "--fix", "--format", "short"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 fix(es) applied in 0 file(s)"));
    assert_eq!(
        std::fs::read_to_string(d.join("apps/release.yaml")).unwrap(),
        after()
    );
}

#[test]
fn fix_diff_prints_a_patch_and_writes_nothing() {
    let d = git_repo("fix-diff");
    d.write("apps/release.yaml", BEFORE);
    d.write("apps/clean.yaml", CLEAN);
    commit_all(d.path(), "base");
    let out = fluxvet(d.path(), &["check", "--fix", "--diff"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(d.join("apps/release.yaml")).unwrap(),
        BEFORE,
        "--diff must not write"
    );
    let patch = String::from_utf8(out.stdout).unwrap();
    assert!(
        patch.starts_with("--- a/apps/release.yaml\n+++ b/apps/release.yaml\n@@ -1,"),
        "{patch}"
    );
    assert!(patch.contains("\n-      version:    1.10    # spacing kept\n+      version:    \"1.10\"    # spacing kept\n"), "{patch}");
    assert!(!patch.contains("clean.yaml"), "{patch}");
    // The patch is what --fix writes: git applies it to exactly that result.
    std::fs::write(d.join("fix.patch"), &patch).unwrap();
    git(d.path(), &["apply", "fix.patch"]);
    assert_eq!(
        std::fs::read_to_string(d.join("apps/release.yaml")).unwrap(),
        after()
    );
    // Nothing to fix: no output, exit 0.
    let out = fluxvet(d.path(), &["check", "--fix", "--diff"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
}

#[test]
fn fix_keeps_crlf_and_byte_order_mark() {
    let d = TempDir::new("fix-crlf");
    let crlf = format!("\u{feff}{}", BEFORE.replace('\n', "\r\n"));
    d.write("apps/release.yaml", &crlf);
    let out = fluxvet(d.path(), &["check", "--fix", "--format", "short"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        std::fs::read(d.join("apps/release.yaml")).unwrap(),
        format!("\u{feff}{}", after().replace('\n', "\r\n")).into_bytes()
    );
}

/// A UTF-16 file is checked (kustomize reads it) but never rewritten: as UTF-8 every byte of it
/// would change.
#[test]
fn fix_leaves_a_utf16_file_alone() {
    let d = TempDir::new("fix-utf16");
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(BEFORE.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let path = d.join("apps/release.yaml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &utf16).unwrap();
    let out = fluxvet(d.path(), &["check", "--fix", "--format", "short"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("apps/release.yaml: not UTF-8 text; fluxvet fixes only UTF-8 files"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("FV203"), "{}", text(&out));
    assert_eq!(std::fs::read(&path).unwrap(), utf16);
}

#[test]
fn fix_respects_selection_and_suppressions_and_refuses_other_trees() {
    let d = TempDir::new("fix-select");
    let suppressed = BEFORE.replace(
        "  labels:\n",
        "  labels:\n    # fluxvet-ignore: FV104 a test value\n",
    );
    d.write("apps/release.yaml", &suppressed);
    let out = fluxvet(d.path(), &["check", "--fix", "--select", "FV203"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let now = std::fs::read_to_string(d.join("apps/release.yaml")).unwrap();
    assert_eq!(
        now,
        suppressed
            .replace("version:    1.10    #", "version:    \"1.10\"    #")
            .replace("      version: 2\n", "      version: \"2\"\n")
    );
    // The suppressed finding is not fixed either.
    let out = fluxvet(d.path(), &["check", "--fix", "--select", "FV104"]);
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{}",
        text(&out)
    );
    let now = std::fs::read_to_string(d.join("apps/release.yaml")).unwrap();
    assert!(now.contains("    enabled: true\n"), "{now}");
    assert!(now.contains("  a: \"1.10\"\n"), "{now}");

    for args in [
        &["check", "--fix", "--rev", "HEAD"][..],
        &["check", "--diff"][..],
    ] {
        let out = fluxvet(d.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
}
