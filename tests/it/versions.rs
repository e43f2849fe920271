//! The built binary on fixtures/versions: every FV2xx finding of the broken repository at its
//! exact place and severity, and none on the clean one.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// `(code, severity, file, line, column)` of one finding.
type Row = (String, String, String, u64, u64);

/// The FV2xx findings, and the exit code.
fn run(dir: &str) -> (Vec<Row>, i32) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/versions")
        .join(dir);
    let out = Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .arg("check")
        .current_dir(&root)
        .args(["--format", "json"])
        .output()
        .expect("fluxvet runs");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let found = json["diagnostics"]
        .as_array()
        .expect("a diagnostics array")
        .iter()
        .filter(|d| d["code"].as_str().is_some_and(|c| c.starts_with("FV2")))
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["severity"].as_str().unwrap_or_default().to_string(),
                d["file"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    (found, out.status.code().unwrap_or(-1))
}

fn row(
    code: &str,
    sev: &str,
    file: &str,
    line: u64,
    col: u64,
) -> (String, String, String, u64, u64) {
    (code.into(), sev.into(), file.into(), line, col)
}

#[test]
fn broken_repository_reports_every_unpinned_version() {
    let (found, code) = run("broken");
    assert_eq!(
        found,
        vec![
            row("FV206", "warning", "apps/from-git.yaml", 10, 13),
            row("FV204", "warning", "apps/from-git.yaml", 22, 16),
            row("FV202", "error", "apps/podinfo.yaml", 20, 16),
            row("FV202", "error", "apps/podinfo.yaml", 33, 12),
            row("FV203", "error", "apps/podinfo.yaml", 33, 12),
            // `${INGRESS_VERSION}` (line 48): the cluster substitutes the exact `4.11.2`.
            row("FV201", "error", "infrastructure/cert-manager.yaml", 18, 5),
            row("FV205", "error", "infrastructure/kyverno.yaml", 10, 10),
            row("FV205", "warning", "infrastructure/kyverno.yaml", 32, 13),
        ]
    );
    assert_eq!(code, 1, "errors make the run fail");
}

#[test]
fn clean_repository_is_silent() {
    let (found, _) = run("clean");
    assert_eq!(found, vec![]);
}

/// Issue 16: without `environments`, `versions` takes the clusters as the environments and
/// reads each release's version from what the cluster applies (overlays included).
#[test]
fn versions_infers_environments_from_the_clusters() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acceptance/clean");
    let out = Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .current_dir(&dir)
        .args(["versions", "--config", "/dev/null", "--format", "json"])
        .output()
        .expect("fluxvet runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        v["environments"],
        serde_json::json!(["production", "staging"]),
        "{v}"
    );
    let text = v.to_string();
    assert!(text.contains("20.6.1") && text.contains("20.6.2"), "{v}");
}
