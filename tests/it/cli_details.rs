//! Issue 20, "CLI details a demanding user hit": `-j` bounds, the file size limit, single files
//! checked as part of their repository, stdin, `--quiet`, `--exit-zero`, `--select`/`--ignore`,
//! one rule for what paths are relative to, file names that would break line formats, zero
//! files, `versions` and `install-hook` exit codes.

use std::process::Output;

use crate::support::{
    BOOTSTRAP_SYNC, CLEAN, DEFECT, FLUXVET, TempDir, fluxvet, git, git_repo, isolated, text,
};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const HELM_REPOSITORY: &str = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: podinfo\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: https://stefanprodan.github.io/podinfo\n";
const HELM_RELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: flux-system\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: podinfo\n      version: \"6.5.0\"\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n";

#[test]
fn jobs_beyond_four_per_core_are_lowered_with_a_note() {
    let d = TempDir::new("jobs");
    d.write("a.yaml", DEFECT);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let out = fluxvet(d.path(), &["check", "-j", "5000", "--format", "short"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "fluxvet: note: -j 5000 is more than 4 threads per core ({cores} cores); using {}\n",
            cores * 4
        )
    );
    assert_eq!(
        stdout(&out),
        "a.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    // Within the bound: no note.
    let out = fluxvet(d.path(), &["check", "-j", "2", "--format", "short"]);
    assert_eq!((out.status.code(), stderr(&out)), (Some(1), String::new()));
}

#[test]
fn zero_jobs_is_a_usage_error() {
    let d = TempDir::new("jobs0");
    d.write("a.yaml", CLEAN);
    let out = fluxvet(d.path(), &["check", "-j", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value '0' for '--jobs <N>'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn thread_count_caps_at_four_per_core() {
    assert_eq!(fluxvet::cli::thread_count(8, 2), (8, None));
    let (n, note) = fluxvet::cli::thread_count(9, 2);
    assert_eq!(n, 8);
    assert_eq!(
        note.as_deref(),
        Some("-j 9 is more than 4 threads per core (2 cores); using 8")
    );
}

#[test]
fn a_file_over_the_limit_is_too_large_not_a_syntax_error() {
    let d = TempDir::new("toolarge");
    d.write("big.yaml", &format!("a: \"{}\"\n", "x".repeat(2000)));
    d.write("small.yaml", DEFECT);
    let out = fluxvet(
        d.path(),
        &["check", "--max-file-size", "1KiB", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let big = &v["diagnostics"][0];
    assert_eq!(
        (
            big["code"].as_str(),
            big["file"].as_str(),
            &big["line"],
            &big["column"]
        ),
        (
            Some("FV101"),
            Some("big.yaml"),
            &serde_json::json!(1),
            &serde_json::json!(1)
        )
    );
    assert_eq!(
        big["message"],
        "file too large: it is over fluxvet's limit of 1 KiB and was not checked"
    );
    assert!(
        big["help"].as_str().unwrap().contains("--max-file-size"),
        "{big}"
    );
    assert!(!big["help"].as_str().unwrap().contains("UTF-8"), "{big}");
    assert_eq!(v["diagnostics"][1]["file"], "small.yaml");
    // The same limit from the config; the default (32 MiB) reads the file.
    d.write(".fluxvet.yaml", "max_file_size: 1024\n");
    let out = fluxvet(d.path(), &["check", "--format", "short"]);
    assert!(
        stdout(&out).starts_with("big.yaml:1:1: error FV101 yaml-syntax: file too large: it is over fluxvet's limit of 1 KiB"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_file(d.join(".fluxvet.yaml")).unwrap();
    let out = fluxvet(d.path(), &["check", "--format", "short"]);
    assert_eq!(
        stdout(&out),
        "small.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    let out = fluxvet(d.path(), &["check", "--max-file-size", "lots"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_errors_exit_2_with_key_and_line() {
    let d = TempDir::new("cfgerr");
    d.write("a.yaml", CLEAN);
    for (config, expected) in [
        (
            "exclude:\n  - 'tmp/[ab'\n",
            "fluxvet: error: config .fluxvet.yaml:2:5: `exclude`: `tmp/[ab` is not a valid glob",
        ),
        (
            "environments:\n  - dev\n  - dev\n",
            "fluxvet: error: config .fluxvet.yaml:3:5: `environments` names `dev` twice",
        ),
        (
            "external_sources:\n  - {kind: Git, name: x}\n",
            "fluxvet: error: config .fluxvet.yaml:2:12: `external_sources[].kind`: `Git` is not a Flux source kind",
        ),
        (
            "aliases:\n  kps: monitor\n",
            "fluxvet: error: config .fluxvet.yaml:2:8: `aliases.kps`: `monitor` is not a component of `order`",
        ),
    ] {
        d.write(".fluxvet.yaml", config);
        let out = fluxvet(d.path(), &["check"]);
        assert_eq!(out.status.code(), Some(2), "{config}: {}", text(&out));
        assert!(
            stderr(&out).starts_with(expected),
            "{config}: {}",
            stderr(&out)
        );
    }
    let out = fluxvet(d.path(), &["check", "--exclude", "x/[a"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_newline_in_a_file_name_stays_on_one_line() {
    let d = TempDir::new("newline");
    d.write("bad\nname.yaml", DEFECT);
    let out = fluxvet(d.path(), &["check", "--format", "short"]);
    assert_eq!(
        stdout(&out),
        "bad\\nname.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    let out = fluxvet(d.path(), &["check", "--format", "github"]);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("::error file=bad%0Aname.yaml,line=7,col=3,"),
        "{}",
        lines[0]
    );
    // JSON keeps the real name (its strings escape it), so a tool can open the file.
    let out = fluxvet(d.path(), &["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["file"], "bad\nname.yaml");
}

/// The rule in README "Paths": every printed path is relative to the working directory, and
/// that path is what `--exclude` takes.
#[test]
fn every_format_and_exclude_agree_on_paths() {
    let d = TempDir::new("paths");
    d.write("repo/apps/x.yaml", DEFECT);
    d.write("repo/apps/y.yaml", CLEAN);
    let short = fluxvet(d.path(), &["check", "repo", "--format", "short"]);
    assert_eq!(
        stdout(&short),
        "repo/apps/x.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    let json = fluxvet(d.path(), &["check", "repo", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["file"], "repo/apps/x.yaml");
    assert_eq!(v["diagnostics"][0]["labels"][0]["file"], "repo/apps/x.yaml");
    let sarif = fluxvet(d.path(), &["check", "repo", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "repo/apps/x.yaml"
    );
    let text_out = fluxvet(d.path(), &["check", "repo", "--no-timing"]);
    assert!(
        stdout(&text_out).starts_with("repo/apps/x.yaml:7:3: error FV102 duplicate-key\n"),
        "{}",
        stdout(&text_out)
    );
    assert!(
        stdout(&text_out).contains("╭─[repo/apps/x.yaml:7:1]"),
        "{}",
        stdout(&text_out)
    );
    // The printed path pasted into --exclude removes the finding.
    let out = fluxvet(
        d.path(),
        &[
            "check",
            "repo",
            "--exclude",
            "repo/apps/x.yaml",
            "--format",
            "short",
        ],
    );
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), String::new()));
    // From inside the repository, the same file is `apps/x.yaml` everywhere.
    let out = fluxvet(
        &d.join("repo"),
        &["check", "--exclude", "apps/y.yaml", "--format", "short"],
    );
    assert_eq!(
        stdout(&out),
        "apps/x.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    let out = fluxvet(
        &d.join("repo"),
        &["check", "--exclude", "apps/x.yaml", "--format", "short"],
    );
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), String::new()));
    // A wildcard glob matches at any depth whatever the directory.
    let out = fluxvet(d.path(), &["check", "repo", "--exclude", "**/x.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_single_file_is_checked_as_part_of_its_repository() {
    let r = git_repo("single");
    r.write("infra/repo.yaml", HELM_REPOSITORY);
    r.write("apps/release.yaml", HELM_RELEASE);
    r.write("apps/broken.yaml", DEFECT);
    // The source is defined in another file: no FV401; the sibling's defect is not reported.
    let out = fluxvet(
        r.path(),
        &["check", "apps/release.yaml", "--format", "short"],
    );
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(0), String::new()),
        "{}",
        text(&out)
    );
    let out = fluxvet(
        &r.join("apps"),
        &["check", "release.yaml", "broken.yaml", "--format", "short"],
    );
    assert_eq!(
        stdout(&out),
        "broken.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    // From outside the repository, paths stay relative to where fluxvet ran.
    let parent = r.path().parent().unwrap();
    let name = r.path().file_name().unwrap().to_str().unwrap();
    let out = fluxvet(
        parent,
        &[
            "check",
            &format!("{name}/apps/broken.yaml"),
            "--format",
            "short",
        ],
    );
    assert_eq!(
        stdout(&out),
        format!("{name}/apps/broken.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n")
    );
    // Outside any repository (no `.git`, no `.fluxvet.yaml`) the file stands alone.
    let lone = TempDir::new("lone");
    lone.write("release.yaml", HELM_RELEASE);
    let out = fluxvet(lone.path(), &["check", "release.yaml", "--format", "short"]);
    assert!(
        stdout(&out).starts_with("release.yaml:14:15: error FV401 source-not-found"),
        "{}",
        stdout(&out)
    );
    // `.fluxvet.yaml` marks a repository root too.
    lone.write(".fluxvet.yaml", "");
    lone.write("sources/repo.yaml", HELM_REPOSITORY);
    let out = fluxvet(lone.path(), &["check", "release.yaml", "--format", "short"]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), String::new()));
}

fn with_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut c = isolated(FLUXVET, dir);
    c.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("spawn fluxvet");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn stdin_is_checked_as_the_named_file_of_its_repository() {
    let r = git_repo("stdin");
    r.write("infra/repo.yaml", HELM_REPOSITORY);
    r.write("apps/release.yaml", CLEAN);
    let args = [
        "check",
        "-",
        "--stdin-filename",
        "apps/release.yaml",
        "--format",
        "short",
    ];
    // The buffer replaces the file on disk, and resolves against the rest of the repository.
    let out = with_stdin(r.path(), &args, HELM_RELEASE);
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(0), String::new()),
        "{}",
        text(&out)
    );
    let out = with_stdin(r.path(), &args, DEFECT);
    assert_eq!(
        stdout(&out),
        "apps/release.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    // A file not on disk yet.
    let out = with_stdin(
        r.path(),
        &[
            "check",
            "-",
            "--stdin-filename",
            "apps/new.yaml",
            "--format",
            "short",
        ],
        DEFECT,
    );
    assert_eq!(
        stdout(&out),
        "apps/new.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    let out = with_stdin(r.path(), &["check", "-"], DEFECT);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--stdin-filename"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn quiet_exit_zero_select_and_ignore() {
    let d = TempDir::new("flags");
    d.write("a.yaml", DEFECT);
    d.write(
        "b.yaml",
        "# fluxvet-ignore: FV202\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    let out = fluxvet(d.path(), &["check", "--format", "short"]);
    assert_eq!(
        stdout(&out),
        "a.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n\
         b.yaml:1:19: warning FV001 unused-suppression: suppression of FV202 chart-version-unpinned matches no finding\n"
    );
    // --quiet: the text format without its summary line.
    let out = fluxvet(
        d.path(),
        &["check", "-q", "--no-timing", "--select", "FV102"],
    );
    let shown = stdout(&out);
    assert!(
        shown.starts_with("a.yaml:7:3: error FV102 duplicate-key\n"),
        "{shown}"
    );
    assert!(!shown.contains("1 error"), "{shown}");
    let out = fluxvet(d.path(), &["check", "--no-timing", "--select", "FV102"]);
    assert!(
        stdout(&out).ends_with("1 error, 0 warnings, 0 infos in 2 files (2 documents)\n"),
        "{}",
        stdout(&out)
    );
    // --select by name and by code prefix, --ignore by code.
    let out = fluxvet(
        d.path(),
        &["check", "--format", "short", "--select", "duplicate-key"],
    );
    assert_eq!(
        stdout(&out),
        "a.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    let out = fluxvet(
        d.path(),
        &[
            "check", "--format", "short", "--select", "FV0,FV1", "--ignore", "FV001",
        ],
    );
    assert_eq!(
        stdout(&out),
        "a.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    let out = fluxvet(
        d.path(),
        &["check", "--format", "short", "--ignore", "FV102,FV001"],
    );
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), String::new()));
    let out = fluxvet(d.path(), &["check", "--select", "FV999"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "fluxvet: error: --select FV999: not a fluxvet rule code, name or code prefix (`fluxvet rules` lists them)\n"
    );
    // --exit-zero reports and exits 0; problems that stop the run still exit 2.
    let out = fluxvet(d.path(), &["check", "--exit-zero", "--format", "short"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).lines().count(), 2);
    let out = fluxvet(d.path(), &["check", "--exit-zero", "missing/"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn no_manifests_is_said_and_fails_with_require_files() {
    let d = TempDir::new("nofiles");
    d.write("README.md", "# nothing here\n");
    let out = fluxvet(d.path(), &["check", "--format", "short"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "fluxvet: note: no manifests found under . (fluxvet reads *.yaml, *.yml and Kustomization \
         files not hidden by .gitignore, .sourceignore or exclude globs); nothing was checked\n"
    );
    let out = fluxvet(d.path(), &["check", "--require-files"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("fluxvet: error: no manifests found under ."),
        "{}",
        stderr(&out)
    );
    d.write("a.yaml", CLEAN);
    let out = fluxvet(d.path(), &["check", "--require-files", "--format", "short"]);
    assert_eq!((out.status.code(), stderr(&out)), (Some(0), String::new()));
}

#[test]
fn versions_without_environments_exits_2() {
    let d = TempDir::new("versions-cfg");
    d.write("a.yaml", HELM_RELEASE);
    let out = fluxvet(d.path(), &["versions"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(
            "fluxvet: error: versions needs the environments: add e.g. `environments: [dev, staging, production]`"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn install_hook_twice_says_it_is_installed() {
    let r = git_repo("hook-again");
    let out = fluxvet(r.path(), &["install-hook"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let hook = r.join(".git/hooks/pre-push");
    let first = std::fs::read_to_string(&hook).unwrap();
    let out = fluxvet(r.path(), &["install-hook"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "fluxvet: the hook is already installed at {}; nothing to do\n",
            hook.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), first);
    // Our own hook with other arguments is updated in place, with no backup.
    let out = fluxvet(r.path(), &["install-hook", "--", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        stdout(&out),
        format!("fluxvet: updated {}\n", hook.display())
    );
    assert!(
        std::fs::read_to_string(&hook)
            .unwrap()
            .contains("'--deny-warnings'")
    );
    assert!(!r.join(".git/hooks/pre-push.fluxvet-backup").exists());
    let _ = git(r.path(), &["status", "--short"]);
}

/// libgit2's "parent 0 does not exist" in a shallow clone becomes what happened and what to do.
#[test]
fn a_revision_missing_from_a_shallow_clone_says_how_to_fetch_it() {
    let origin = git_repo("shallow-origin");
    for i in 1..=3 {
        origin.write(&format!("c{i}.yaml"), CLEAN);
        crate::support::commit_all(origin.path(), &format!("c{i}"));
    }
    let clones = TempDir::new("shallow");
    git(
        clones.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", origin.path().display()),
            "clone",
        ],
    );
    let clone = clones.join("clone");
    for (args, flag) in [
        (
            vec!["check", "--changed-since", "HEAD~1"],
            "--changed-since",
        ),
        (vec!["check", "--rev", "HEAD~1"], "--rev"),
    ] {
        let out = fluxvet(&clone, &args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "fluxvet: error: {flag} HEAD~1: not in this shallow clone's history (git: parent 0 \
                 does not exist); fetch the history with `git fetch --unshallow` (in GitHub Actions: \
                 `fetch-depth: 0` on actions/checkout), or give {flag} a commit that exists here\n"
            )
        );
    }
    // Outside a shallow clone, an unknown name says so.
    let out = fluxvet(
        origin.path(),
        &["check", "--changed-since", "no-such-branch"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(
            "fluxvet: error: --changed-since no-such-branch: no such commit, branch or tag in this repository"
        ),
        "{}",
        stderr(&out)
    );
}

/// The working tree and `--rev` of the same commit check the same files: a tracked file that a
/// `.gitignore` matches is checked by both (Flux's clone has it); a submodule's files by neither
/// (Flux does not fetch submodules by default); an untracked ignored file by neither.
#[test]
fn working_tree_and_rev_check_the_same_files() {
    let sub = git_repo("submodule-origin");
    sub.write("sub.yaml", DEFECT);
    crate::support::commit_all(sub.path(), "sub");
    let r = git_repo("same-files");
    r.write(".gitignore", "generated/\n");
    r.write("apps/a.yaml", DEFECT);
    r.write("generated/tracked.yaml", DEFECT);
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["add", "-f", "generated/tracked.yaml"]);
    git(
        r.path(),
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            &format!("file://{}", sub.path().display()),
            "vendor/sub",
        ],
    );
    git(r.path(), &["commit", "-q", "--no-verify", "-m", "all"]);
    // Untracked and ignored: not in the commit, not checked.
    r.write("generated/untracked.yaml", DEFECT);
    assert!(r.join("vendor/sub/sub.yaml").is_file());
    let expected = "apps/a.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n\
                    generated/tracked.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n";
    let worktree = fluxvet(r.path(), &["check", "--format", "short"]);
    assert_eq!(stdout(&worktree), expected, "{}", text(&worktree));
    assert_eq!(
        stderr(&worktree),
        "fluxvet: warning: vendor/sub: not checked: a git submodule or nested repository is not \
         part of this repository's files (Flux fetches it only with recurseSubmodules)\n"
    );
    let rev = fluxvet(r.path(), &["check", "--rev", "HEAD", "--format", "short"]);
    assert_eq!(stdout(&rev), expected, "{}", text(&rev));
    // The same from a sub-directory root, and with the tracked file excluded on both sides.
    let worktree = fluxvet(r.path(), &["check", "generated", "--format", "short"]);
    assert_eq!(
        stdout(&worktree),
        "generated/tracked.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
    for extra in [&[][..], &["--rev", "HEAD"][..]] {
        let mut args = vec!["check", "--format", "short", "--exclude", "generated/**"];
        args.extend_from_slice(extra);
        let out = fluxvet(r.path(), &args);
        assert_eq!(
            stdout(&out),
            "apps/a.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n",
            "{args:?}"
        );
    }
}

/// `check --help` teaches the flags issue 20 added and the path rule.
#[test]
fn check_help_lists_the_new_flags_and_the_path_rule() {
    let d = TempDir::new("help");
    let out = fluxvet(d.path(), &["check", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for flag in [
        "--stdin-filename <PATH>",
        "--select <RULE>",
        "--ignore <RULE>",
        "-q, --quiet",
        "--exit-zero",
        "--require-files",
        "--max-file-size <SIZE>",
        "fluxvet check - --stdin-filename apps/x.yaml < buffer.yaml",
    ] {
        assert!(help.contains(flag), "`{flag}` missing from:\n{help}");
    }
    assert!(
        help.contains(
            "Paths: every path fluxvet prints (all formats) and every path or glob you give it"
        ),
        "{help}"
    );
}

/// A new file in a new directory, read from stdin in a sub-directory of the repository, is
/// still judged against the whole repository.
#[test]
fn stdin_for_a_file_not_on_disk_finds_its_repository() {
    let r = git_repo("stdin-new");
    r.write("infra/repo.yaml", HELM_REPOSITORY);
    r.write("apps/other.yaml", DEFECT);
    let out = with_stdin(
        &r.join("apps"),
        &[
            "check",
            "-",
            "--stdin-filename",
            "new/release.yaml",
            "--format",
            "short",
        ],
        HELM_RELEASE,
    );
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(0), String::new()),
        "{}",
        text(&out)
    );
    let out = with_stdin(
        &r.join("apps"),
        &[
            "check",
            "-",
            "--stdin-filename",
            "new/release.yaml",
            "--format",
            "short",
        ],
        DEFECT,
    );
    assert_eq!(
        stdout(&out),
        "new/release.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n"
    );
}

/// A new file read from stdin in a directory a cluster applies without a kustomization file:
/// Flux's generated kustomization takes every manifest there, so the new file is applied and
/// judged as such (its duplicate key an error), not reported as applied by no cluster (FV105).
#[test]
fn stdin_for_a_new_file_is_in_its_directory() {
    let r = git_repo("stdin-new-dir");
    r.write(
        "clusters/production/flux-system/gotk-sync.yaml",
        &format!(
            "{}---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
            BOOTSTRAP_SYNC
        ),
    );
    r.write("apps/settings.yaml", CLEAN);
    let out = with_stdin(
        r.path(),
        &[
            "check",
            "-",
            "--stdin-filename",
            "apps/new.yaml",
            "--format",
            "short",
        ],
        &DEFECT.replace("name: settings", "name: other"),
    );
    assert_eq!(
        stdout(&out),
        "apps/new.yaml:7:3: error FV102 duplicate-key: duplicate key `a`\n",
        "{}",
        text(&out)
    );
}
