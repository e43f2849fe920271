//! The references rules (FV401–FV404) and FV103 end to end: the built binary on small
//! repositories under fixtures/refs, JSON output, `applied_by` included.

use std::process::Command;

type Finding = (String, String, u64, u64, Option<String>);

fn run(fixture: &str) -> serde_json::Value {
    let dir = format!("{}/fixtures/refs/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .args(["check", "--format", "json", "--color", "never"])
        .current_dir(&dir)
        .output()
        .expect("the binary runs");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `(code, file, line, column, applied_by)` of the findings of the references family.
fn findings(v: &serde_json::Value) -> Vec<Finding> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| {
            let c = d["code"].as_str().unwrap_or("");
            c.starts_with("FV4") || c == "FV103"
        })
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
                d["applied_by"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn f(code: &str, file: &str, line: u64, col: u64, by: &str) -> Finding {
    (code.into(), file.into(), line, col, Some(by.into()))
}

#[test]
fn broken_repository_reports_every_seeded_reference() {
    let v = run("broken");
    assert_eq!(
        findings(&v),
        vec![
            f(
                "FV404",
                "apps/prod/kustomization.yaml",
                6,
                5,
                "flux-system/apps"
            ),
            f(
                "FV404",
                "apps/prod/kustomization.yaml",
                11,
                15,
                "flux-system/apps"
            ),
            f("FV401", "apps/prod/podinfo.yaml", 9, 11, "flux-system/apps"),
            f(
                "FV402",
                "apps/prod/podinfo.yaml",
                22,
                15,
                "flux-system/apps"
            ),
            f(
                "FV403",
                "clusters/prod/apps.yaml",
                21,
                9,
                "flux-system/flux-system"
            ),
            f(
                "FV402",
                "clusters/prod/apps.yaml",
                50,
                11,
                "flux-system/flux-system"
            ),
            f(
                "FV103",
                "generated/configmap.yaml",
                4,
                3,
                "flux-system/generated"
            ),
            f(
                "FV103",
                "generated/values.yaml",
                2,
                1,
                "flux-system/generated"
            ),
        ]
    );
}

#[test]
fn applied_by_comes_right_after_url() {
    let v = run("broken");
    let d = v["diagnostics"][0].as_object().expect("object");
    let keys: Vec<&str> = d.keys().map(String::as_str).collect();
    let url = keys.iter().position(|k| *k == "url").expect("url");
    assert_eq!(keys.get(url + 1), Some(&"applied_by"));
}

#[test]
fn clean_repository_is_silent() {
    let v = run("clean");
    assert_eq!(findings(&v), vec![]);
}
