//! Issue 17: `--changed-since` reports the findings a change introduces, wherever they land;
//! baselines; `--staged` checks what is committed. Real repositories, real commits, a real bare
//! remote for the push, real pre-commit.

use crate::support::*;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CHARTS: &str = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: apps\nspec:\n  interval: 1h\n  url: https://charts.example.com\n";

fn release(name: &str, depends_on: Option<&str>) -> String {
    let mut s = format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: apps\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: {name}\n      version: \"1.0.0\"\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n"
    );
    if let Some(d) = depends_on {
        s.push_str(&format!("  dependsOn:\n    - name: {d}\n"));
    }
    s
}

const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - charts.yaml\n  - a.yaml\n  - b.yaml\n";

/// A clean repository: `b` dependsOn `a`, all listed by a kustomization. Returns the commit.
fn clean_repo(tag: &str) -> (TempDir, String) {
    let r = git_repo(tag);
    r.write("apps/charts.yaml", CHARTS);
    r.write("apps/a.yaml", &release("a", None));
    r.write("apps/b.yaml", &release("b", Some("a")));
    r.write("apps/kustomization.yaml", KUSTOMIZATION);
    let base = commit_all(r.path(), "clean");
    let out = fluxvet(r.path(), &["check", "--no-timing"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    (r, base)
}

fn short(dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["check", "--format", "short"];
    args.extend_from_slice(extra);
    let out = fluxvet(dir, &args);
    (out.status.code(), stdout(&out))
}

#[test]
fn a_rename_reports_the_dependency_it_breaks_in_an_untouched_file() {
    let (r, _) = clean_repo("rename");
    r.write("apps/a.yaml", &release("a-renamed", None));
    let fv301 = "apps/b.yaml:16:13: error FV301 dependency-not-found:";
    // In the working tree, before the commit.
    let (code, out) = short(r.path(), &["--changed-since", "HEAD"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with(fv301), "{out}");
    commit_all(r.path(), "rename a");
    // The full check and the change agree.
    let (code, full) = short(r.path(), &[]);
    assert_eq!(code, Some(1));
    let (code, changed) = short(r.path(), &["--changed-since", "HEAD~1"]);
    assert_eq!(code, Some(1), "{changed}");
    assert_eq!(changed, full);
    let (code, changed) = short(r.path(), &["--rev", "HEAD", "--changed-since", "HEAD~1"]);
    assert_eq!(code, Some(1), "{changed}");
    assert!(changed.starts_with(fv301), "{changed}");
    // The summary counts it as new.
    let out = fluxvet(
        r.path(),
        &[
            "check",
            "--no-timing",
            "--color",
            "never",
            "--changed-since",
            "HEAD~1",
        ],
    );
    assert!(
        stdout(&out).ends_with(
            "1 error, 0 warnings, 0 infos in 4 files (4 documents); 1 new, 0 existing since HEAD~1\n"
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_deleted_file_a_kustomization_lists_is_reported() {
    let (r, _) = clean_repo("deleted");
    git(r.path(), &["rm", "-q", "apps/a.yaml"]);
    git(r.path(), &["commit", "-q", "--no-verify", "-m", "drop a"]);
    let (code, out) = short(r.path(), &["--changed-since", "HEAD~1"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("apps/kustomization.yaml:5:5: error FV404 kustomize-resource-missing:"),
        "{out}"
    );
    // b's dependency went with it.
    assert!(out.contains("apps/b.yaml:16:13: error FV301"), "{out}");
}

#[test]
fn an_old_finding_is_counted_not_reported_and_a_line_move_keeps_it_old() {
    let (r, _) = clean_repo("old");
    r.write("legacy/cm.yaml", DEFECT);
    commit_all(r.path(), "a legacy defect");
    // A change elsewhere, and one that pushes the old finding down and renames its file.
    r.write("apps/c.yaml", &release("c", Some("b")));
    r.write(
        "apps/kustomization.yaml",
        &format!("{KUSTOMIZATION}  - c.yaml\n"),
    );
    git(r.path(), &["mv", "legacy/cm.yaml", "legacy/settings.yaml"]);
    r.write(
        "legacy/settings.yaml",
        &format!("# moved down\n# by three lines\n\n{DEFECT}"),
    );
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-q", "--no-verify", "-m", "more"]);
    let (code, full) = short(r.path(), &[]);
    assert_eq!(code, Some(1));
    assert!(
        full.contains("legacy/settings.yaml:10:3: error FV102"),
        "{full}"
    );
    let out = fluxvet(
        r.path(),
        &[
            "check",
            "--no-timing",
            "--color",
            "never",
            "--changed-since",
            "HEAD~1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        "0 errors, 0 warnings, 0 infos in 6 files (6 documents); 0 new, 1 existing since HEAD~1\n"
    );
    let out = fluxvet(
        r.path(),
        &["check", "--format", "json", "--changed-since", "HEAD~1"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["new"], 0);
    assert_eq!(v["summary"]["existing"], 1);
    assert_eq!(v["summary"]["since"], "HEAD~1");
    // A second copy of the same problem in the same file is new.
    r.write(
        "legacy/settings.yaml",
        &format!("{DEFECT}---\n{}", DEFECT.replace("settings", "other")),
    );
    let (code, out) = short(r.path(), &["--changed-since", "HEAD"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        out,
        "legacy/settings.yaml:15:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
}

#[test]
fn a_feature_branch_is_compared_with_where_it_left_main() {
    let (r, base) = clean_repo("branch");
    git(r.path(), &["checkout", "-q", "-b", "feature"]);
    r.write("apps/a.yaml", &release("a2", None));
    commit_all(r.path(), "rename on the branch");
    git(r.path(), &["checkout", "-q", "main"]);
    r.write("main-only.yaml", DEFECT);
    commit_all(r.path(), "main moves on with a defect");
    let (code, out) = short(r.path(), &["--rev", "feature", "--changed-since", "main"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("apps/b.yaml:16:13: error FV301"), "{out}");
    assert!(!out.contains("main-only"), "{out}");
    let out = fluxvet(
        r.path(),
        &[
            "check",
            "--rev",
            "feature",
            "--changed-since",
            "main",
            "--no-timing",
        ],
    );
    let short_base = &base[..12];
    assert!(
        stdout(&out).contains(&format!("since main (merge base {short_base})")),
        "{}",
        stdout(&out)
    );
}

fn push(repo: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut c = isolated("git", repo);
    c.arg("push").args(args);
    run(c)
}

#[test]
fn pre_push_hook_blocks_a_rename_that_breaks_another_file() {
    let remote = TempDir::new("remote17");
    git(remote.path(), &["init", "-q", "--bare", "-b", "main"]);
    let (r, _) = clean_repo("prepush17");
    git(
        r.path(),
        &["remote", "add", "origin", remote.path().to_str().unwrap()],
    );
    let out = fluxvet(r.path(), &["install-hook"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = push(r.path(), &["-u", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));

    r.write("apps/a.yaml", &release("a-renamed", None));
    commit_all(r.path(), "rename a");
    let out = push(r.path(), &["origin", "main"]);
    let t = text(&out);
    assert!(!out.status.success(), "the rename was pushed:\n{t}");
    assert!(
        t.contains("FV301") && t.contains("apps/b.yaml:16:13"),
        "{t}"
    );

    // Deleting a file the kustomization lists is blocked too.
    r.write("apps/a.yaml", &release("a", None));
    commit_all(r.path(), "undo the rename");
    git(r.path(), &["rm", "-q", "apps/charts.yaml"]);
    git(
        r.path(),
        &["commit", "-q", "--no-verify", "-m", "drop charts"],
    );
    let out = push(r.path(), &["origin", "main"]);
    let t = text(&out);
    assert!(!out.status.success(), "the deletion was pushed:\n{t}");
    assert!(
        t.contains("FV404") && t.contains("apps/kustomization.yaml"),
        "{t}"
    );

    // Restored: the push goes through, and an old defect on the remote does not block.
    r.write("apps/charts.yaml", CHARTS);
    r.write("legacy.yaml", DEFECT);
    commit_all(r.path(), "restore, with a legacy defect");
    let out = push(r.path(), &["--no-verify", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    r.write("apps/more.yaml", CLEAN);
    commit_all(r.path(), "unrelated");
    let out = push(r.path(), &["origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
}

const BASELINE: &str = ".fluxvet-baseline.yaml";

#[test]
fn baseline_hides_recorded_findings_reports_stale_entries_and_not_unwaivable_ones() {
    let r = TempDir::new("baseline");
    r.write("legacy/cm.yaml", DEFECT);
    r.write(
        "legacy/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-but-longer\n",
    );
    let (code, full) = short(r.path(), &[]);
    assert_eq!(code, Some(1));
    let findings = full.lines().count();
    assert!(full.contains("FV601"), "{full}");

    let out = fluxvet(
        r.path(),
        &["baseline", "--reason", "adopted in #17", "-o", BASELINE],
    );
    assert!(out.status.success(), "{}", text(&out));
    let written = std::fs::read_to_string(r.join(BASELINE)).unwrap();
    assert_eq!(written.matches("- fingerprint:").count(), findings);
    assert!(written.contains("    rule: \"FV102 duplicate-key\"\n    file: \"legacy/cm.yaml\"\n    reason: \"adopted in #17\"\n"), "{written}");
    // Stable: the same tree writes the same bytes.
    let again = fluxvet(r.path(), &["baseline", "--reason", "adopted in #17"]);
    assert_eq!(stdout(&again), written);

    let out = fluxvet(r.path(), &["check", "--no-timing", "--baseline", BASELINE]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        format!("0 errors, 0 warnings, 0 infos in 2 files (2 documents); {findings} baselined\n")
    );
    // A new finding is reported; a line move is not new.
    r.write("legacy/cm.yaml", &format!("# pushed down\n{DEFECT}"));
    r.write("apps/new.yaml", DEFECT);
    let (code, out) = short(r.path(), &["--baseline", BASELINE]);
    assert_eq!(code, Some(1));
    assert_eq!(
        out,
        "apps/new.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    std::fs::remove_file(r.join("apps/new.yaml")).unwrap();

    // Fixed: its entry is stale, a warning at the entry.
    r.write("legacy/cm.yaml", CLEAN);
    let (code, out) = short(r.path(), &["--baseline", BASELINE]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with(&format!(
            "{BASELINE}:6:5: warning FV002 stale-baseline-entry: baseline entry "
        )),
        "{out}"
    );
    assert!(
        out.contains("(FV102 duplicate-key in legacy/cm.yaml) matches no finding"),
        "{out}"
    );

    // Unwaivable: reported although baselined, and although suppressed by a comment.
    r.write(".fluxvet.yaml", "unwaivable: [FV601]\n");
    let (code, out) = short(r.path(), &["--baseline", BASELINE]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("legacy/secret.yaml:6:") && out.contains("FV601"),
        "{out}"
    );
    assert!(
        out.contains("FV601 plaintext-secret is unwaivable"),
        "{out}"
    );
    r.write(
        "legacy/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  # fluxvet-ignore: FV601 test data\n  password: hunter2-but-longer\n",
    );
    let (code, out) = short(r.path(), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("legacy/secret.yaml:7:") && out.contains("FV601 plaintext-secret"),
        "{out}"
    );
    assert!(
        out.contains("legacy/secret.yaml:6:21: warning FV001 unused-suppression: FV601 plaintext-secret is unwaivable"),
        "{out}"
    );
    // `fluxvet baseline` does not record it.
    let out = fluxvet(r.path(), &["baseline"]);
    assert!(!stdout(&out).contains("FV601"), "{}", stdout(&out));
    assert!(text(&out).contains("unwaivable"), "{}", text(&out));

    // A broken baseline names its line.
    r.write(BASELINE, "version: 1\nfindings:\n  - rule: FV102\n");
    let out = fluxvet(r.path(), &["check", "--baseline", BASELINE]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains(".fluxvet-baseline.yaml:3:5: the entry has no `fingerprint`"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_first_commit_is_all_new() {
    let r = git_repo("first");
    r.write("apps/cm.yaml", DEFECT);
    git(r.path(), &["add", "apps/cm.yaml"]);
    let out = fluxvet(
        r.path(),
        &[
            "check",
            "--staged",
            "--changed-since",
            "HEAD",
            "--no-timing",
            "--color",
            "never",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stdout(&out).ends_with("; 1 new, 0 existing since HEAD (nothing committed yet)\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn staged_checks_the_index_only() {
    let (r, _) = clean_repo("staged");
    // Untracked and broken: not committed, not checked.
    r.write("apps/untracked.yaml", DEFECT);
    let (code, out) = short(r.path(), &["--staged"]);
    assert_eq!(code, Some(0), "{out}");
    // An unstaged broken edit: not checked either.
    r.write("apps/a.yaml", &release("a-renamed", None));
    let (code, out) = short(r.path(), &["--staged"]);
    assert_eq!(code, Some(0), "{out}");
    // Staged: checked, with what it breaks elsewhere.
    git(r.path(), &["add", "apps/a.yaml"]);
    let (code, out) = short(r.path(), &["--staged"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("apps/b.yaml:16:13: error FV301"), "{out}");
    // And compared with HEAD.
    let (code, out) = short(r.path(), &["--staged", "--changed-since", "HEAD"]);
    assert_eq!(code, Some(1), "{out}");
    // A staged file whose fix is not staged is checked as staged.
    git(r.path(), &["reset", "-q"]);
    r.write("apps/a.yaml", &release("a", None));
    r.write("apps/c.yaml", DEFECT);
    git(r.path(), &["add", "apps/c.yaml"]);
    r.write("apps/c.yaml", CLEAN);
    let (code, out) = short(r.path(), &["--staged"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        out,
        "apps/c.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    let out = fluxvet(r.path(), &["check", "--staged", "--rev", "HEAD"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn pre_commit_checks_what_is_committed() {
    let Some(pre_commit) = tool("pre-commit", "pip install pre-commit") else {
        return;
    };
    let hooks = git_repo("hookrepo17");
    let defs = std::fs::read_to_string(checkout().join(".pre-commit-hooks.yaml")).unwrap();
    hooks.write(".pre-commit-hooks.yaml", &defs);
    let rev = commit_all(hooks.path(), "hooks");

    let (r, _) = clean_repo("precommit17");
    let cache = TempDir::new("precommit17-cache");
    r.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: fluxvet-system\n",
            hooks.path().display()
        ),
    );
    commit_all(r.path(), "pre-commit config");
    let mut c = isolated(&pre_commit, r.path());
    c.arg("install").env("PRE_COMMIT_HOME", cache.path());
    let out = run(c);
    assert!(out.status.success(), "{}", text(&out));
    let commit = |message: &str| {
        let mut c = isolated("git", r.path());
        c.args(["commit", "-q", "-m", message])
            .env("PRE_COMMIT_HOME", cache.path());
        run(c)
    };

    // A broken untracked file is not committed: a good commit passes.
    r.write("scratch/broken.yaml", DEFECT);
    r.write("apps/c.yaml", &release("c", None));
    git(r.path(), &["add", "apps/c.yaml"]);
    let out = commit("add c");
    assert!(
        out.status.success(),
        "blocked by an untracked file:\n{}",
        text(&out)
    );

    // A broken working-tree edit that is not staged: passes.
    r.write("apps/a.yaml", &release("a-renamed", None));
    r.write("apps/d.yaml", &release("d", None));
    git(r.path(), &["add", "apps/d.yaml"]);
    let out = commit("add d");
    assert!(
        out.status.success(),
        "blocked by an unstaged edit:\n{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(r.join("apps/a.yaml")).unwrap(),
        release("a-renamed", None),
        "the unstaged edit is kept"
    );

    // Staged, the same edit is blocked, by what it breaks in b.yaml.
    git(r.path(), &["add", "apps/a.yaml"]);
    let out = commit("rename a");
    let t = text(&out);
    assert!(
        !out.status.success(),
        "the broken rename was committed:\n{t}"
    );
    assert!(
        t.contains("apps/b.yaml:16:13") && t.contains("FV301"),
        "{t}"
    );
    // A staged broken file is blocked.
    git(r.path(), &["reset", "-q"]);
    r.write("apps/a.yaml", &release("a", None));
    git(r.path(), &["add", "apps/a.yaml"]);
    std::fs::rename(r.join("scratch/broken.yaml"), r.join("apps/broken.yaml")).unwrap();
    git(r.path(), &["add", "apps/broken.yaml"]);
    let out = commit("broken");
    let t = text(&out);
    assert!(
        !out.status.success(),
        "a staged broken file was committed:\n{t}"
    );
    assert!(t.contains("apps/broken.yaml:7:3"), "{t}");
}

#[test]
fn action_reports_only_what_the_pull_request_introduces() {
    let (r, _) = clean_repo("action17");
    r.write("legacy.yaml", DEFECT);
    commit_all(r.path(), "legacy");
    git(r.path(), &["branch", "base"]);
    r.write("apps/a.yaml", &release("a-renamed", None));
    commit_all(r.path(), "rename");
    let summary = r.join("summary.md");
    let mut c = isolated("bash", r.path());
    c.arg(checkout().join("action/run.sh"))
        .env("FLUXVET", FLUXVET)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("FV_CHANGED_SINCE", "base");
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let log = stdout(&out);
    assert!(
        log.contains("::error file=apps/b.yaml,line=16,col=13,"),
        "{log}"
    );
    assert!(!log.contains("legacy.yaml"), "{log}");
    assert!(
        log.contains("fluxvet: 1 new, 1 existing since base"),
        "{log}"
    );
    let s = std::fs::read_to_string(&summary).unwrap();
    assert!(s.contains("1 new, 1 existing since base."), "{s}");
    // `auto` on a pull request: the base branch from GITHUB_BASE_REF, when it can be found.
    let mut c = isolated("bash", r.path());
    c.arg(checkout().join("action/run.sh"))
        .env("FLUXVET", FLUXVET)
        .env("GITHUB_BASE_REF", "main");
    let out = run(c);
    assert!(
        stdout(&out).contains("cannot find origin/main"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("legacy.yaml"),
        "every finding instead"
    );
}

/// The old tree's check replays the files the new tree's check recorded: it must find exactly
/// what a check of its own finds, on every fixture repository.
#[test]
fn replayed_files_give_the_findings_of_a_fresh_check() {
    use fluxvet::engine::{CheckOptions, Trees};
    for fixture in fixture_repositories() {
        let r = git_repo("replay");
        let out = run({
            let mut c = std::process::Command::new("cp");
            c.arg("-r")
                .arg(format!("{}/.", fixture.display()))
                .arg(r.path());
            c
        });
        assert!(out.status.success(), "{}", text(&out));
        commit_all(r.path(), "fixture");
        // The working tree differs from HEAD in one file, so one file is parsed, the rest replayed.
        r.write("zz-added.yaml", DEFECT);
        let opts = CheckOptions {
            paths: vec![r.path().to_path_buf()],
            config: None,
            exclude: Vec::new(),
            trees: Trees::RulesNeed,
            ..CheckOptions::default()
        };
        let report = |o: &fluxvet::engine::Outcome| {
            let mut buf = Vec::new();
            fluxvet::emit::emit(fluxvet::emit::Format::Json, o, false, &mut buf).unwrap();
            String::from_utf8(buf).unwrap()
        };
        let fresh = fluxvet::git::check_rev(&opts, "HEAD").unwrap();
        let memo = fluxvet::memo::FileMemo::new();
        let new = fluxvet::engine::check_with(&opts, Some(&memo)).unwrap();
        memo.seal();
        let replayed = fluxvet::git::check_rev_with(&opts, "HEAD", Some(&memo)).unwrap();
        assert_eq!(
            report(&replayed),
            report(&fresh),
            "{}: a replayed check differs",
            fixture.display()
        );
        assert!(report(&new).contains("zz-added.yaml"));
    }
}
