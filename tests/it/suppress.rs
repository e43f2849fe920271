//! FV001 through the binary on fixtures/suppress: a suppression that matches no finding fires
//! at the suppressed code; one that still suppresses a finding stays quiet (and so does the
//! finding it suppresses).

use serde_json::Value;

use crate::support::{checkout, fluxvet};

fn findings(dir: &str) -> Vec<(String, String, u64, u64)> {
    let out = fluxvet(
        &checkout().join("fixtures/suppress").join(dir),
        &["check", "--format", "json"],
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["file"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_suppression_that_suppresses_nothing_is_reported() {
    assert_eq!(
        findings("broken"),
        vec![("FV001".to_string(), "apps/podinfo.yaml".to_string(), 12, 25)]
    );
}

#[test]
fn a_suppression_in_use_stays_quiet() {
    assert_eq!(findings("clean"), vec![]);
}
