//! The schema rules (FV104, FV501–FV504) through the built binary, on small fixture repositories.

use std::process::Command;

const CODES: &[&str] = &["FV104", "FV501", "FV502", "FV503", "FV504"];

/// `(code, file, line, column)` of every schema finding, in output order.
fn findings(fixture: &str) -> Vec<(String, String, u64, u64)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/schema/");
    let out = Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .args(["check", "--format", "json"])
        .current_dir(format!("{dir}{fixture}"))
        .output()
        .expect("run fluxvet");
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("fluxvet prints one JSON object");
    json["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .filter(|d| CODES.contains(&d["code"].as_str().unwrap_or("")))
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn f(code: &str, file: &str, line: u64, column: u64) -> (String, String, u64, u64) {
    (code.into(), file.into(), line, column)
}

#[test]
fn broken_repository_reports_every_seeded_defect() {
    assert_eq!(
        findings("broken"),
        vec![
            f("FV502", "apps/ks.yaml", 6, 1),
            f("FV502", "apps/release.yaml", 6, 1),
            f("FV504", "apps/release.yaml", 7, 16),
            f("FV504", "apps/release.yaml", 17, 11),
            f("FV504", "apps/release.yaml", 20, 17),
            f("FV104", "apps/release.yaml", 25, 14),
            f("FV501", "apps/sources.yaml", 2, 13),
            f("FV503", "apps/sources.yaml", 8, 13),
            f("FV503", "apps/sources.yaml", 18, 12),
            f("FV504", "apps/sources.yaml", 19, 8),
        ]
    );
}

#[test]
fn clean_repository_is_silent() {
    assert_eq!(findings("clean"), vec![]);
}

#[test]
fn removed_api_version_message_names_release_and_fix() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/schema/broken");
    let out = Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .args(["check", "--format", "json"])
        .current_dir(dir)
        .output()
        .expect("run fluxvet");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = json["diagnostics"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["code"] == "FV501"))
        .expect("an FV501 finding");
    assert!(d["message"].as_str().unwrap_or("").contains("Flux 2.8"));
    assert!(
        d["help"]
            .as_str()
            .unwrap_or("")
            .contains("flux migrate -f .")
    );
    assert!(
        d["help"]
            .as_str()
            .unwrap_or("")
            .contains("source.toolkit.fluxcd.io/v1")
    );
}

/// `(code, file, line, column)` of every FV505 finding on a `fixtures/schema-validation` repository.
fn fv505(fixture: &str) -> Vec<(String, String, u64, u64)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/schema-validation/");
    let out = Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .args(["check", "--format", "json", "--select", "FV505"])
        .current_dir(format!("{dir}{fixture}"))
        .output()
        .expect("run fluxvet");
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("fluxvet prints one JSON object");
    json["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn schema_violations_fire_at_the_value_or_key() {
    assert_eq!(
        fv505("fires"),
        vec![
            // oneOf: two alternatives hold (Flagger); none holds, and the one whose `type`
            // fits reports its own `anyOf` of formats (Gateway API)
            f("FV505", "alternatives.yaml", 13, 5),
            f("FV505", "alternatives.yaml", 30, 14),
            // unknown field (Flux CRD), enum (Flux CRD)
            f("FV505", "flux.yaml", 11, 3),
            f("FV505", "flux.yaml", 12, 19),
            // CEL (HelmRelease install strategy)
            f("FV505", "flux.yaml", 30, 7),
            // the repository's own CRD: minimum, pattern, enum, CEL, required
            f("FV505", "widgets.yaml", 7, 9),
            f("FV505", "widgets.yaml", 8, 9),
            f("FV505", "widgets.yaml", 15, 3),
            f("FV505", "widgets.yaml", 16, 10),
            f("FV505", "widgets.yaml", 22, 1),
            // an unknown metadata field on a custom resource
            f("FV505", "widgets.yaml", 29, 3),
            // unknown metadata field, type (string for integer), type (in a list item)
            f("FV505", "workloads.yaml", 6, 3),
            f("FV505", "workloads.yaml", 9, 13),
            f("FV505", "workloads.yaml", 22, 30),
            // required (built-in kind)
            f("FV505", "workloads.yaml", 29, 1),
            // format: int32 overflow, byte that is not base64
            f("FV505", "workloads.yaml", 44, 13),
            f("FV505", "workloads.yaml", 51, 13),
        ]
    );
}

#[test]
fn valid_objects_are_quiet() {
    assert_eq!(fv505("quiet"), vec![]);
}

/// The embedded schema table is exactly what `scripts/gen-schemas.py` makes of the catalog.
#[test]
fn embedded_schemas_regenerate_byte_for_byte() {
    let root = env!("CARGO_MANIFEST_DIR");
    let catalog = format!("{root}/../shared/schemas/flux-schema-catalog");
    if !std::path::Path::new(&catalog).is_dir() {
        eprintln!("skipped: no schema catalog at {catalog}");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("catalog.json");
    let status = Command::new("python3")
        .arg(format!("{root}/scripts/gen-schemas.py"))
        .arg(&catalog)
        .arg(&out)
        .status()
        .expect("run python3");
    assert!(status.success());
    let fresh = std::fs::read(&out).expect("generated");
    let committed = std::fs::read(format!("{root}/src/schemas/catalog.json")).expect("committed");
    assert!(
        fresh == committed,
        "src/schemas/catalog.json is stale: run `python3 scripts/gen-schemas.py`"
    );
}
