//! `--format gitlab` and `--format junit`, checked against what their consumers require: the
//! fields and values of GitLab's Code Quality report, and JUnit XML as `junitparser` (PyPI) reads it.

use std::process::Command;

use crate::support::*;
use serde_json::Value;

/// A duplicate key twice in one file (two identical messages), plus a stale suppression (a
/// warning) in another.
fn repo() -> TempDir {
    let d = TempDir::new("ci-reports");
    d.write(
        "clusters/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n  a: \"2\"\n  a: \"3\"\n",
    );
    d.write(
        "clusters/ok.yaml",
        "# fluxvet-ignore: FV102 stale\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
    );
    d
}

/// GitLab's Code Quality report format: the fields GitLab requires, with their types and the
/// severities it accepts (docs: ci/testing/code_quality, "Code Quality report format").
fn assert_gitlab_report(report: &Value) {
    let issues = report.as_array().expect("a JSON array");
    for i in issues {
        for key in ["description", "check_name", "fingerprint"] {
            assert!(i[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {i}");
        }
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&i["severity"].as_str().unwrap_or_default()),
            "{i}"
        );
        assert!(i["location"]["path"].as_str().is_some(), "{i}");
        let begin = i["location"]["lines"]["begin"]
            .as_u64()
            .expect("lines.begin");
        assert!(begin >= 1);
    }
    let mut prints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(prints.len(), issues.len(), "fingerprints must be unique");
}

#[test]
fn gitlab_code_quality_report() {
    let d = repo();
    let out = fluxvet(d.path(), &["check", "--format", "gitlab"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_gitlab_report(&report);
    let issues = report.as_array().unwrap();
    let brief: Vec<(&str, &str, &str, u64)> = issues
        .iter()
        .map(|i| {
            (
                i["check_name"].as_str().unwrap(),
                i["severity"].as_str().unwrap(),
                i["location"]["path"].as_str().unwrap(),
                i["location"]["lines"]["begin"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("FV102 duplicate-key", "major", "clusters/cm.yaml", 7),
            ("FV102 duplicate-key", "major", "clusters/cm.yaml", 8),
            ("FV001 unused-suppression", "minor", "clusters/ok.yaml", 1),
        ],
        "{report:#}"
    );
    assert!(
        issues[0]["description"]
            .as_str()
            .unwrap()
            .contains("duplicate key `a`")
    );

    // The fingerprint follows the finding, not its line: lines added above keep it, so GitLab
    // does not report a moved finding as fixed plus new.
    let before: Vec<Value> = issues.iter().map(|i| i["fingerprint"].clone()).collect();
    let moved = std::fs::read_to_string(d.join("clusters/cm.yaml")).unwrap();
    d.write(
        "clusters/cm.yaml",
        &format!("# a comment\n# another\n{moved}"),
    );
    let out = fluxvet(d.path(), &["check", "--format", "gitlab"]);
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    let after: Vec<Value> = again
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].clone())
        .collect();
    assert_eq!(before, after);
    assert_eq!(again[0]["location"]["lines"]["begin"], 9);

    // A clean run is an empty report (GitLab then shows "no changes to Code Quality").
    d.write("clusters/cm.yaml", CLEAN);
    d.write("clusters/ok.yaml", CLEAN);
    let out = fluxvet(d.path(), &["check", "--format", "gitlab"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}

/// Reads JUnit XML with junitparser and prints what a CI page would show, one line per case:
/// `suite|case|classname|result type|result message`.
const JUNIT_READER: &str = r#"
import sys
from junitparser import JUnitXml, TestSuite
xml = JUnitXml.fromfile(sys.argv[1])
suites = [xml] if isinstance(xml, TestSuite) else list(xml)
for suite in suites:
    for case in suite:
        results = case.result
        if results:
            for r in results:
                print("|".join([suite.name, case.name, case.classname, r._tag, r.type or "", r.message or ""]))
        else:
            print("|".join([suite.name, case.name, case.classname, "passed", "", ""]))
print("totals", xml.tests, xml.failures, xml.errors)
"#;

fn junitparser(xml: &str) -> Option<String> {
    let d = TempDir::new("junit-read");
    d.write("report.xml", xml);
    let probe = Command::new("python3")
        .args(["-c", "import junitparser"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        // `tool` decides: skipped locally, a failure in CI.
        tool("junitparser (python3 module)", "pip install junitparser")?;
    }
    let out = run({
        let mut c = Command::new("python3");
        c.args(["-c", JUNIT_READER]).arg(d.join("report.xml"));
        c
    });
    assert!(out.status.success(), "junitparser: {}", text(&out));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn junit_report_reads_as_failures_per_finding() {
    let d = repo();
    d.write("clusters/<&\"odd\">.yaml", DEFECT);
    let out = fluxvet(d.path(), &["check", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(!xml.contains("time="), "deterministic: {xml}");
    let Some(read) = junitparser(&xml) else {
        return;
    };
    assert_eq!(
        read,
        "clusters/<&\"odd\">.yaml|FV102 duplicate-key at line 7, column 3|clusters/<&\"odd\">.yaml|failure|error|duplicate key `a`\n\
         clusters/cm.yaml|FV102 duplicate-key at line 7, column 3|clusters/cm.yaml|failure|error|duplicate key `a`\n\
         clusters/cm.yaml|FV102 duplicate-key at line 8, column 3|clusters/cm.yaml|failure|error|duplicate key `a`\n\
         clusters/ok.yaml|FV001 unused-suppression at line 1, column 19|clusters/ok.yaml|failure|warning|suppression of FV102 duplicate-key matches no finding\n\
         totals 4 4 0\n",
        "{xml}"
    );

    // A clean run is one passing test, so the pipeline's test tab shows fluxvet ran.
    for f in [
        "clusters/cm.yaml",
        "clusters/ok.yaml",
        "clusters/<&\"odd\">.yaml",
    ] {
        d.write(f, CLEAN);
    }
    let out = fluxvet(d.path(), &["check", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let read = junitparser(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(
        read,
        "fluxvet|fluxvet check: 3 file(s), no findings|fluxvet|passed||\ntotals 1 0 0\n"
    );
}

/// The GitLab CI example, shown verbatim in docs/integrations.md, run as the job runs it: its
/// `script:` lines in a shell, from the repository root, with fluxvet on PATH. Both reports are
/// written and parse; the job fails on the finding.
#[test]
fn gitlab_ci_example_writes_both_reports() {
    let example = std::fs::read_to_string(checkout().join("docs/examples/gitlab-ci.yml")).unwrap();
    let docs = std::fs::read_to_string(checkout().join("docs/integrations.md")).unwrap();
    assert!(
        docs.contains(example.trim_end()),
        "docs/integrations.md must show docs/examples/gitlab-ci.yml as it is"
    );
    for needle in [
        "codequality: gl-code-quality-report.json",
        "junit: fluxvet-junit.xml",
        "when: always",
    ] {
        assert!(example.contains(needle), "{needle}");
    }
    let script: Vec<&str> = example
        .lines()
        .skip_while(|l| l.trim() != "script:")
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("- "))
        .map(|l| l.trim_start().trim_start_matches("- "))
        .collect();
    assert_eq!(script.len(), 3, "{example}");
    let d = repo();
    let mut c = isolated("sh", d.path());
    c.args(["-ec", &script.join("\n")]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("clusters/cm.yaml:7:3: error FV102"),
        "{}",
        text(&out)
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("gl-code-quality-report.json")).unwrap(),
    )
    .unwrap();
    assert_gitlab_report(&report);
    assert_eq!(report.as_array().unwrap().len(), 3);
    let junit = std::fs::read_to_string(d.join("fluxvet-junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<testsuites name="fluxvet" tests="3" failures="3" errors="0">"#),
        "{junit}"
    );
}
