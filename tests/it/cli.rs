//! The `check` command as a user runs it: exit codes, the JSON contract, colour, snippets,
//! config errors, suppressions, `rules` and `explain`.

use std::path::Path;
use std::process::{Command, Output};

fn fluxvet(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .output()
        .expect("run fluxvet")
}

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `(code, file, line, column)` of every diagnostic in a JSON report.
fn findings(v: &serde_json::Value) -> Vec<(String, String, u64, u64)> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

const CLEAN: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: \"1\"\n";
const DUPLICATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n";

#[test]
fn clean_tree_exits_zero_with_a_summary() {
    let dir = repo(&[("cm.yaml", CLEAN)]);
    let out = fluxvet(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("0 errors, 0 warnings, 0 infos in 1 file (1 document) in "),
        "{stdout}"
    );
}

#[test]
fn findings_exit_one_and_text_shows_snippet_help_and_rule() {
    let dir = repo(&[("a/cm.yaml", DUPLICATE)]);
    let out = fluxvet(&["check", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("a/cm.yaml:5:3: error FV102 duplicate-key\n"),
        "{stdout}"
    );
    assert!(stdout.contains(" 5 │   name: b"), "{stdout}");
    assert!(stdout.contains("first defined here"), "{stdout}");
    assert!(stdout.contains("help: keep one of the two"), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}'),
        "no escape codes when stdout is not a terminal"
    );
}

#[test]
fn color_always_colours_and_never_or_no_color_does_not() {
    let dir = repo(&[("cm.yaml", DUPLICATE)]);
    let always = fluxvet(&["check", "--color", "always"], dir.path());
    assert!(String::from_utf8_lossy(&always.stdout).contains('\u{1b}'));
    let out = Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .args(["check", "--color", "auto"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let never = fluxvet(&["check", "--color", "never"], dir.path());
    assert!(!String::from_utf8_lossy(&never.stdout).contains('\u{1b}'));
}

#[test]
fn json_follows_the_contract() {
    let dir = repo(&[("cm.yaml", DUPLICATE), ("ok.yaml", CLEAN)]);
    let out = fluxvet(&["check", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    // Field order is part of the contract.
    assert!(
        text.starts_with(r#"{"version":1,"tool":{"name":"fluxvet","version":""#),
        "{text}"
    );
    let v = json(&out);
    assert_eq!(v["summary"]["files"], 2);
    assert_eq!(v["summary"]["documents"], 2);
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["warnings"], 0);
    assert_eq!(v["summary"]["infos"], 0);
    let d = &v["diagnostics"][0];
    let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        &keys[..12],
        [
            "code",
            "rule",
            "severity",
            "message",
            "help",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "labels",
            "url"
        ]
    );
    assert_eq!(d["code"], "FV102");
    assert_eq!(d["rule"], "duplicate-key");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "cm.yaml");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(5), Some(7))
    );
    assert_eq!(d["labels"][0]["line"], 4);
    assert_eq!(d["labels"][0]["column"], 3);
    assert_eq!(d["labels"][0]["message"], "first defined here");
    assert!(d["url"].as_str().unwrap().starts_with("https://"));
}

#[test]
fn missing_path_and_bad_config_exit_two_with_the_cause() {
    let dir = repo(&[("cm.yaml", CLEAN)]);
    let out = fluxvet(&["check", "does-not-exist"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("does-not-exist: no such file or directory"),
        "{err}"
    );

    std::fs::write(
        dir.path().join(".fluxvet.yaml"),
        "order: [a, b]\nrulez: {}\n",
    )
    .unwrap();
    let out = fluxvet(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(".fluxvet.yaml:2:1") && err.contains("unknown key `rulez`"),
        "{err}"
    );

    let out = fluxvet(&["check", "--format", "yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn config_turns_rules_off_and_changes_severity() {
    let dir = repo(&[
        ("cm.yaml", DUPLICATE),
        (".fluxvet.yaml", "rules:\n  duplicate-key: warning\n"),
    ]);
    let out = fluxvet(&["check", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "warnings alone exit 0");
    assert_eq!(json(&out)["diagnostics"][0]["severity"], "warning");
    let out = fluxvet(&["check", "--deny-warnings"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(dir.path().join(".fluxvet.yaml"), "rules:\n  FV102: off\n").unwrap();
    let out = fluxvet(&["check", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["diagnostics"].as_array().unwrap().len(), 0);
}

#[test]
fn suppressions_hide_findings_and_unused_ones_are_reported() {
    let suppressed = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  # fluxvet-ignore: FV102 generated upstream\n  name: b\n";
    let trailing = "a: 1\na: 2 # fluxvet-ignore: duplicate-key\n";
    let unused = "# fluxvet-ignore: FV102 stale\nb: 1\nc: 2 # fluxvet-ignore: FV999\n";
    let whole = "# fluxvet-ignore-file: FV102\nx: 1\nx: 2\n";
    let dir = repo(&[
        ("s.yaml", suppressed),
        ("t.yaml", trailing),
        ("u.yaml", unused),
        ("w.yaml", whole),
    ]);
    let out = fluxvet(&["check", "--format", "json"], dir.path());
    let f = findings(&json(&out));
    assert_eq!(
        f,
        vec![
            ("FV001".to_string(), "u.yaml".to_string(), 1, 19),
            ("FV001".to_string(), "u.yaml".to_string(), 3, 24),
        ]
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn yaml_errors_are_exact_and_earlier_documents_still_checked() {
    let text = "a: 1\na: 2\n---\nb: [1, 2\n---\nc: 1\nc: 2\n";
    let crlf = "x: 1\r\ny: [1,\r\n---\r\nz: é\r\nz: 2\r\n";
    let bom = "\u{feff}k: 1\nk: 2\n";
    let dir = repo(&[("a.yaml", text), ("b.yaml", crlf), ("c.yaml", bom)]);
    // A UTF-16 byte order mark, then half a character: not text in any encoding.
    std::fs::write(dir.path().join("d.yaml"), b"\xff\xfe bad!").unwrap();
    std::fs::write(dir.path().join("e.yml"), b"ok: 1\0\0").unwrap();
    let out = fluxvet(&["check", "--format", "json"], dir.path());
    let f = findings(&json(&out));
    let expect: Vec<(&str, &str, u64, u64)> = vec![
        ("FV102", "a.yaml", 2, 1),
        ("FV101", "a.yaml", 4, 4),
        ("FV102", "a.yaml", 7, 1),
        ("FV101", "b.yaml", 2, 4),
        ("FV102", "b.yaml", 5, 1),
        ("FV102", "c.yaml", 2, 1),
        ("FV101", "d.yaml", 1, 1),
        ("FV101", "e.yml", 1, 1),
    ];
    let expect: Vec<_> = expect
        .into_iter()
        .map(|(c, f, l, col)| (c.to_string(), f.to_string(), l, col))
        .collect();
    assert_eq!(f, expect);
}

#[test]
fn discovery_honours_ignore_files_and_exclude() {
    let dir = repo(&[
        ("keep.yaml", DUPLICATE),
        ("Kustomization", "a: 1\na: 2\n"),
        ("notes.txt", "a: 1\na: 2\n"),
        ("ignored/x.yaml", DUPLICATE),
        ("flux-ignored/x.yaml", DUPLICATE),
        ("excluded/x.yaml", DUPLICATE),
        (".gitignore", "ignored/\n"),
        (".sourceignore", "flux-ignored/\n"),
        (".fluxvet.yaml", "exclude: ['excluded/**']\n"),
    ]);
    let out = fluxvet(&["check", "--format", "json"], dir.path());
    let files: Vec<String> = findings(&json(&out)).into_iter().map(|f| f.1).collect();
    assert_eq!(files, vec!["Kustomization", "keep.yaml"]);
}

#[cfg(unix)]
#[test]
fn symlinks_stay_inside_the_root_and_loops_are_harmless() {
    let outside = repo(&[("secret.yaml", DUPLICATE)]);
    let dir = repo(&[("a/cm.yaml", CLEAN)]);
    std::os::unix::fs::symlink(outside.path(), dir.path().join("a/out")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("a/loop")).unwrap();
    let out = fluxvet(&["check", "--format", "json"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["diagnostics"].as_array().unwrap().len(), 0);
}

#[test]
fn output_is_the_same_whatever_the_thread_count() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/example");
    let one = fluxvet(&["check", "-j", "1", "--format", "json"], &example);
    let many = fluxvet(&["check", "-j", "8", "--format", "json"], &example);
    assert_eq!(findings(&json(&one)), findings(&json(&many)));
    assert!(!findings(&json(&one)).is_empty());
}

#[test]
fn rules_and_explain() {
    let dir = repo(&[]);
    let out = fluxvet(&["rules"], dir.path());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("FV101  yaml-syntax"), "{text}");
    let out = fluxvet(&["explain", "duplicate-key"], dir.path());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# FV102 duplicate-key"), "{text}");
    assert!(text.contains("## Use instead"));
    let out = fluxvet(&["explain", "FV999"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_clean_fixture_is_silent_under_every_rule() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut clean = vec![fixtures.join("clean")];
    for family in std::fs::read_dir(&fixtures).unwrap().flatten() {
        for sub in std::fs::read_dir(family.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if sub.file_name().to_string_lossy().contains("clean") && sub.path().is_dir() {
                clean.push(sub.path());
            }
        }
    }
    assert!(clean.len() >= 5, "{clean:?}");
    for dir in clean {
        let out = fluxvet(&["check", "--format", "json", "."], &dir);
        let v = json(&out);
        assert_eq!(findings(&v), vec![], "{}", dir.display());
        assert_eq!(out.status.code(), Some(0), "{}", dir.display());
    }
}

#[test]
fn the_readme_example_shows_every_family() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/example");
    let out = fluxvet(&["check", "--format", "json"], &example);
    assert_eq!(out.status.code(), Some(1));
    let mut codes: Vec<String> = findings(&json(&out)).into_iter().map(|f| f.0).collect();
    codes.dedup();
    for code in [
        "FV101", "FV102", "FV201", "FV202", "FV203", "FV205", "FV301", "FV302", "FV303", "FV601",
    ] {
        assert!(
            codes.iter().any(|c| c == code),
            "{code} missing from {codes:?}"
        );
    }
}

/// The rendered text report of the README's example, pinned as a snapshot; `cargo insta review`
/// (or `INSTA_UPDATE=always cargo test`) accepts a deliberate change.
#[test]
fn example_text_report_matches_the_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = fluxvet(
        &["check", "--color", "never", "--no-timing"],
        &root.join("fixtures/example"),
    );
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("example", String::from_utf8(out.stdout).unwrap());
    });
}

#[test]
fn several_paths_outside_the_current_directory_keep_their_references() {
    let k = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n";
    let dir = repo(&[
        ("a/kustomization.yaml", k),
        ("a/cm.yaml", CLEAN),
        ("b/kustomization.yaml", k),
        ("b/cm.yaml", CLEAN),
    ]);
    let elsewhere = repo(&[]);
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let out = fluxvet(
        &[
            "check",
            "--format",
            "json",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        elsewhere.path(),
    );
    let v = json(&out);
    assert_eq!(findings(&v), vec![], "{v}");
    assert_eq!(v["summary"]["files"], 4);
    let broken = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - missing.yaml\n";
    std::fs::write(b.join("kustomization.yaml"), broken).unwrap();
    let out = fluxvet(
        &[
            "check",
            "--format",
            "json",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        elsewhere.path(),
    );
    assert_eq!(
        findings(&json(&out)),
        // Outside the working directory, printed paths are absolute (the rule in README "Paths").
        vec![(
            "FV404".to_string(),
            format!("{}/kustomization.yaml", b.canonicalize().unwrap().display()),
            4,
            5
        )]
    );
}

/// A duplicate key after non-ASCII text on its line: `é` (2 bytes, 1 UTF-16 unit) and `🚀`
/// (4 bytes, 2 UTF-16 units). The second `ü` is the 12th character of line 2 (byte column 17,
/// UTF-16 column 13); the first `ü`, which the finding labels, is the 6th (byte 10, UTF-16 7).
const NON_ASCII: &str = "a: ✓\né🚀: {ü: 1, ü: 2}\n";

/// Every format reports the column a person sees: characters (Unicode code points, which SARIF
/// declares with `columnKind: unicodeCodePoints`), never bytes or UTF-16 units.
#[test]
fn columns_count_characters_in_every_format() {
    let dir = repo(&[("u.yaml", NON_ASCII)]);
    let run = |format: &str| {
        let out = fluxvet(
            &["check", "--format", format, "--color", "never"],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(1), "{format}");
        String::from_utf8(out.stdout).unwrap()
    };

    let v: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(
        findings(&v),
        vec![("FV102".to_string(), "u.yaml".to_string(), 2, 12)]
    );
    let d = &v["diagnostics"][0];
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(2), Some(13))
    );
    let l = &d["labels"][0];
    assert_eq!(
        (
            l["line"].as_u64(),
            l["column"].as_u64(),
            l["end_column"].as_u64()
        ),
        (Some(2), Some(6), Some(7)),
        "{l}"
    );

    let s: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let run0 = &s["runs"][0];
    assert_eq!(run0["columnKind"], "unicodeCodePoints");
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["ruleId"], "FV102");
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (
            &region["startLine"],
            &region["startColumn"],
            &region["endLine"],
            &region["endColumn"]
        ),
        (&2.into(), &12.into(), &2.into(), &13.into()),
        "{region}"
    );
    let related = &results[0]["relatedLocations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (
            &related["startLine"],
            &related["startColumn"],
            &related["endColumn"]
        ),
        (&2.into(), &6.into(), &7.into()),
        "{related}"
    );

    // GitHub's endColumn is the last character, inclusive.
    let github = run("github");
    assert!(
        github.starts_with(
            "::error file=u.yaml,line=2,col=12,endLine=2,endColumn=12,title=FV102 duplicate-key::"
        ),
        "{github}"
    );

    let short = run("short");
    assert!(
        short.starts_with("u.yaml:2:12: error FV102 duplicate-key: "),
        "{short}"
    );
    assert_eq!(short.lines().count(), 1, "{short}");

    let text = run("text");
    assert!(
        text.starts_with("u.yaml:2:12: error FV102 duplicate-key"),
        "{text}"
    );
    let markdown = run("markdown");
    assert!(markdown.contains("`u.yaml:2:12`"), "{markdown}");
}
