//! The model's clusters on fixtures/clusters, through the binary: a file no cluster's build
//! includes gets one info FV105 and none of the findings it would get if it were applied; a
//! Kustomization reading another repository is a render gap (FV406), and the directory of the
//! same name in this checkout is not taken for what it applies.

use serde_json::Value;

use crate::support::{checkout, fluxvet};

/// `(code, severity, file, line, column)`.
type Row = (String, String, String, u64, u64);

fn findings(case: &str) -> (Vec<Row>, Option<i32>) {
    let out = fluxvet(
        &checkout().join("fixtures/clusters").join(case),
        &["check", "--format", "json"],
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let rows = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
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
    (rows, out.status.code())
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
fn a_file_commented_out_of_its_kustomization_is_not_judged() {
    // apps/redis.yaml has `version: "*"` (FV202 if it were applied).
    assert_eq!(
        findings("commented-out"),
        (vec![row("FV105", "info", "apps/redis.yaml", 4, 9)], Some(0))
    );
}

#[test]
fn a_kustomization_reading_another_repository_is_a_render_gap() {
    // tenants/team-a/redis.yaml has `version: "*"`, but team-a applies its own repository.
    assert_eq!(
        findings("foreign-source"),
        (
            vec![
                row("FV406", "info", "clusters/production/team-a.yaml", 25, 11),
                row("FV105", "info", "tenants/team-a/redis.yaml", 4, 9),
            ],
            Some(0)
        )
    );
}

#[test]
fn a_substituted_variable_with_no_value_is_reported_where_it_is_used() {
    // `${DOMIAN}` has no value; `${APP}`, `${DOMAIN}` (from the ConfigMap), a default, an
    // escape and an object with substitution disabled are fine.
    assert_eq!(
        findings("substitution"),
        (
            vec![row("FV408", "error", "apps/podinfo.yaml", 8, 16)],
            Some(1)
        )
    );
}

#[test]
fn a_source_in_a_file_no_cluster_applies_is_not_found() {
    // apps/repository.yaml is commented out of apps/kustomization.yaml; the HelmRelease that
    // uses it is applied.
    assert_eq!(
        findings("source-commented-out"),
        (
            vec![
                row("FV401", "error", "apps/release.yaml", 14, 15),
                row("FV105", "info", "apps/repository.yaml", 4, 9),
            ],
            Some(1)
        )
    );
}

#[test]
fn a_dependency_in_a_file_no_cluster_applies_is_not_found() {
    // podinfo waits for redis, whose file is commented out of apps/kustomization.yaml.
    assert_eq!(
        findings("dependency-commented-out"),
        (
            vec![
                row("FV301", "error", "apps/podinfo.yaml", 9, 13),
                row("FV105", "info", "apps/redis.yaml", 4, 9),
            ],
            Some(1)
        )
    );
}

/// Issue 15, sources: `sources:` in the config maps the OCIRepository `apps` to `deploy/`, the
/// directory CI pushes it from (`flux push artifact --path=./deploy`): the Kustomization reading
/// it is followed into `deploy/podinfo` and what it applies is judged (its `version: "*"` is
/// FV202). Without the mapping it is a render gap, and a path that is not a directory is a
/// config error at its line.
#[test]
fn a_source_the_config_maps_to_a_directory_here_is_followed() {
    assert_eq!(
        findings("local-oci-source"),
        (
            vec![row("FV202", "error", "deploy/podinfo/release.yaml", 11, 16)],
            Some(1)
        )
    );
    let src = checkout().join("fixtures/clusters/local-oci-source");
    let d = crate::support::TempDir::new("local-oci-source");
    for rel in [
        "clusters/production/flux-system/gotk-sync.yaml",
        "clusters/production/apps.yaml",
        "deploy/podinfo/release.yaml",
    ] {
        d.write(
            rel,
            &std::fs::read_to_string(src.join(rel)).expect("fixture"),
        );
    }
    let out = fluxvet(d.path(), &["check", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let codes: Vec<(&str, &str)> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["file"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("FV406", "clusters/production/apps.yaml"),
            ("FV105", "deploy/podinfo/release.yaml"),
        ]
    );
    let config = std::fs::read_to_string(src.join(".fluxvet.yaml")).expect("config");
    d.write(".fluxvet.yaml", &config.replace("./deploy", "./deplyo"));
    let out = fluxvet(d.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = crate::support::text(&out);
    assert!(
        err.contains(
            ".fluxvet.yaml:7:11: `sources[].path`: `./deplyo` is not a directory of this repository"
        ),
        "{err}"
    );
}
