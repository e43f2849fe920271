//! The GitHub Action's defects found by using it, each run as the composite action runs its
//! scripts: with the env action.yml sets and the runner's files.

use crate::support::*;

/// Runs action/run.sh in `dir` with the runner's files; returns the output, the job summary and
/// the step's outputs.
fn action_run(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Output, String, String) {
    let summary = dir.join("summary.md");
    let output = dir.join("output.txt");
    let _ = std::fs::remove_file(&summary);
    let _ = std::fs::remove_file(&output);
    let mut c = isolated("bash", dir);
    c.arg(checkout().join("action/run.sh"))
        .env("FLUXVET", FLUXVET)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .env("RUNNER_TEMP", dir);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = run(c);
    let s = std::fs::read_to_string(&summary).unwrap_or_default();
    let o = std::fs::read_to_string(&output).unwrap_or_default();
    (out, s, o)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn multi_line_paths_input_checks_every_line() {
    let d = TempDir::new("action-paths");
    d.write("clusters/a/cm.yaml", DEFECT);
    d.write("clusters/b/cm.yaml", DEFECT);
    d.write("clusters/c/cm.yaml", DEFECT);
    // `paths: |` gives one path per line, with a trailing newline; spaces still separate too.
    let (out, _, output) = action_run(
        d.path(),
        &[("FV_PATHS", "clusters/a\nclusters/b clusters/c\n")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let log = stdout(&out);
    for p in [
        "clusters/a/cm.yaml",
        "clusters/b/cm.yaml",
        "clusters/c/cm.yaml",
    ] {
        assert!(
            log.contains(&format!("::error file={p},line=7")),
            "{p}: {log}"
        );
    }
    assert_eq!(output.trim(), "exit-code=1");
}

#[test]
fn config_error_is_an_annotation_and_leaves_no_empty_sarif() {
    let d = TempDir::new("action-config");
    d.write("clusters/cm.yaml", CLEAN);
    d.write("fluxvet.yaml", "rulez: {}\n");
    let (out, summary, output) = action_run(
        d.path(),
        &[
            ("FV_PATHS", "."),
            ("FV_CONFIG", "fluxvet.yaml"),
            ("FV_SARIF", "reports/fluxvet.sarif"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let log = stdout(&out);
    let annotation = log
        .lines()
        .find(|l| l.starts_with("::error title=fluxvet::"))
        .unwrap_or_else(|| panic!("no ::error annotation: {log}"));
    assert!(
        annotation.contains("config fluxvet.yaml:1:1: unknown key `rulez`"),
        "{annotation}"
    );
    // The message stays in the log as fluxvet wrote it.
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown key `rulez`"));
    assert!(!log.contains("wrote SARIF"), "{log}");
    assert!(
        log.contains("::error title=fluxvet::no SARIF written to reports/fluxvet.sarif"),
        "{log}"
    );
    assert!(
        !d.join("reports/fluxvet.sarif").exists(),
        "an empty SARIF file was left behind"
    );
    assert!(!d.join("reports/fluxvet.sarif.partial").exists());
    assert!(!summary.contains("| ❌"), "{summary}");
    assert_eq!(output.trim(), "exit-code=2");

    // A message with several lines is one annotation, its lines joined as the runner decodes.
    d.write("fluxvet.yaml", "rules: [\n");
    let (out, _, _) = action_run(d.path(), &[("FV_CONFIG", "fluxvet.yaml")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let errors: Vec<String> = stdout(&out)
        .lines()
        .filter(|l| l.starts_with("::error"))
        .map(String::from)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
}

#[test]
fn diff_step_reads_the_config_input() {
    let d = git_repo("action-diff-config");
    let release = |v: &str| {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: web\n      version: \"{v}\"\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n        namespace: apps\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: apps\nspec:\n  interval: 1h\n  url: https://charts.example.com\n"
        )
    };
    d.write("apps/web.yaml", &release("1.0.0"));
    // The config lives outside the default place, so only --config finds it; it excludes the
    // release, so a diff that reads it sees no change.
    d.write("ci/fluxvet.yaml", "exclude:\n  - apps/web.yaml\n");
    commit_all(d.path(), "base");
    d.write("apps/web.yaml", &release("2.0.0"));
    commit_all(d.path(), "major bump");
    let env = |config: &'static str| {
        vec![
            ("FV_PATHS", "."),
            ("FV_DIFF", "true"),
            ("FV_DIFF_BASE", "HEAD~1"),
            ("FV_CONFIG", config),
        ]
    };
    let (out, summary, _) = action_run(d.path(), &env(""));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(summary.contains("FV801 chart-version-bump"), "{summary}");
    let (out, summary, _) = action_run(d.path(), &env("ci/fluxvet.yaml"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(summary.contains("### fluxvet diff: "), "{summary}");
    assert!(
        !summary.contains("FV801"),
        "the diff ignored the config: {summary}"
    );
}

/// actions/cache saves in its post step only when the job succeeds; the action restores and
/// saves explicitly, saving whatever the lint step's outcome, under a key with OS and arch.
#[test]
fn cache_is_saved_even_when_findings_fail_the_job() {
    let action = std::fs::read_to_string(checkout().join("action.yml")).unwrap();
    assert!(!action.contains("uses: actions/cache@"), "{action}");
    let restore = action
        .find("uses: actions/cache/restore@")
        .expect("a restore step");
    let install = action
        .find("action/install.sh\" install")
        .expect("the install step");
    let lint = action.find("action/run.sh").expect("the lint step");
    let save = action
        .find("uses: actions/cache/save@")
        .expect("a save step");
    assert!(
        restore < install && install < lint && lint < save,
        "{action}"
    );
    let save_step = &action[action[..save].rfind("    - ").unwrap()..];
    assert!(
        save_step.starts_with(
            "    - if: always() && steps.install.outcome == 'success' && steps.cache.outputs.cache-hit != 'true'\n"
        ),
        "{save_step}"
    );
    assert_eq!(
        action.matches("key: ${{ steps.key.outputs.key }}").count(),
        2
    );
    let key = run({
        let mut c = std::process::Command::new("bash");
        c.arg(checkout().join("action/install.sh"))
            .arg("key")
            .env("RUNNER_OS", "macOS")
            .env("RUNNER_ARCH", "ARM64")
            .env("FV_VERSION", "0.1.0")
            .env_remove("GITHUB_OUTPUT");
        c
    });
    assert_eq!(stdout(&key).trim(), "key=fluxvet-macOS-ARM64-release-0.1.0");
}
