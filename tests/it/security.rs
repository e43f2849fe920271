//! The built binary on the security and promotion fixtures: findings, exit codes, and that no
//! secret value reaches stdout or stderr in any format.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// `args` are `[command, fixture directory, ...]`; fluxvet runs in that directory (printed paths
/// are relative to the working directory, so the expected paths are the fixture's own).
fn fluxvet(args: &[&str]) -> Output {
    let (dir, rest) = (args[1], [&[args[0], "."][..], &args[2..]].concat());
    Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .current_dir(dir)
        .args(rest)
        .env("NO_COLOR", "1")
        .output()
        .expect("the fluxvet binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every value committed in fixtures/security/broken, in clear or base64.
const SECRET_VALUES: &[&str] = &[
    "S3cr3t",
    "UzNjcjN0",
    "db-user",
    "db-password",
    "key-line",
    "literal-value",
    "env-value",
];

#[test]
fn broken_secrets_are_reported_without_their_values() {
    let dir = fixture("security/broken");
    let dir = dir.to_str().expect("utf-8 path");
    for format in ["text", "json"] {
        for color in ["never", "always"] {
            let o = fluxvet(&["check", dir, "--format", format, "--color", color]);
            assert_eq!(o.status.code(), Some(1), "{}", text(&o));
            let all = text(&o);
            for v in SECRET_VALUES {
                assert!(
                    !all.contains(v),
                    "`{v}` leaked in --format {format} --color {color}:\n{all}"
                );
            }
        }
    }
    let o = fluxvet(&["check", dir, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let found: Vec<(String, String, u64)> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let expect = |code: &str, file: &str, line: u64| {
        assert!(
            found.contains(&(code.to_string(), file.to_string(), line)),
            "{code} at {file}:{line} missing from {found:?}"
        );
    };
    expect("FV601", "apps/db-secret.yaml", 7);
    expect("FV601", "apps/kustomization.yaml", 10);
    expect("FV601", "apps/kustomization.yaml", 13);
    expect("FV602", "apps/api-secret.sops.yaml", 7);
    expect("FV602", "apps/kustomization.yaml", 16);
    assert_eq!(found.len(), 5, "{found:?}");
}

#[test]
fn clean_secrets_stay_silent() {
    let dir = fixture("security/clean");
    let o = fluxvet(&[
        "check",
        dir.to_str().expect("utf-8 path"),
        "--color",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 errors, 0 warnings"), "{}", text(&o));
}

#[test]
fn promotion_past_an_earlier_environment_is_reported() {
    let dir = fixture("promotion/three-env");
    let dir = dir.to_str().expect("utf-8 path");
    let o = fluxvet(&["check", dir, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let diags = json["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diags.len(), 1, "{json}");
    assert_eq!(diags[0]["code"], "FV701");
    assert_eq!(diags[0]["file"], "apps/production/podinfo-version.yaml");
    assert_eq!(diags[0]["line"], 8);
    assert_eq!(
        diags[0]["labels"][0]["file"],
        "apps/base/podinfo/release.yaml"
    );

    let o = fluxvet(&["versions", dir, "--color", "never"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("RELEASE  DEV     STAGING  PRODUCTION"),
        "{out}"
    );
    assert!(out.contains("podinfo  6.6.0   6.5.0    6.6.0 !"), "{out}");
    assert!(out.contains("redis    19.1.0  19.1.0   19.0.0\n"), "{out}");

    let o = fluxvet(&["versions", dir, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(
        json["releases"][0]["versions"]["production"]["ahead_of"],
        "staging"
    );
}

#[test]
fn promotion_in_order_stays_silent() {
    let dir = fixture("promotion/two-env-clean");
    let o = fluxvet(&[
        "check",
        dir.to_str().expect("utf-8 path"),
        "--color",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 errors, 0 warnings"), "{}", text(&o));
}

/// Issue 16: the text report's mask shows neither a value's length (padding spaces, or an
/// underline as long as the value) nor the value of a repeated key.
#[test]
fn the_mask_hides_lengths_and_repeated_keys() {
    let dir = crate::support::TempDir::new("mask");
    dir.write(
        "apps/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2hunter2 # rotated monthly\n  password: topsecretvalue\ndata:\n  token: aHVudGVyMg==\n",
    );
    let out = crate::support::fluxvet(dir.path(), &["check", "--color", "never", "--no-timing"]);
    let t = String::from_utf8_lossy(&out.stdout).to_string();
    for secret in [
        "hunter2hunter2",
        "topsecretvalue",
        "aHVudGVyMg",
        "rotated monthly",
    ] {
        assert!(!t.contains(secret), "{secret} shown:\n{t}");
    }
    // Both duplicated values are masked, and nothing after the stars shows how long they were.
    let masked: Vec<&str> = t.lines().filter(|l| l.contains("password: ")).collect();
    assert!(!masked.is_empty(), "{t}");
    for l in &masked {
        assert!(l.ends_with("password: ***"), "{l:?}");
    }
    assert!(
        t.lines().all(|l| !l.ends_with(' ')),
        "trailing padding:\n{t}"
    );
    assert!(t.contains("FV601") && t.contains("FV102"), "{t}");
}

/// Issue 15: where the environments are the clusters, FV701 reads each cluster's build: the
/// production overlay's patch pins redis ahead of staging's, reported at the patch.
#[test]
fn promotion_between_clusters_reads_what_each_applies() {
    let dir = fixture("promotion/clusters-ahead");
    let dir = dir.to_str().expect("utf-8 path");
    let o = fluxvet(&["check", dir, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let rows: Vec<(String, String, u64, u64)> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![(
            "FV701".to_string(),
            "apps/production/kustomization.yaml".to_string(),
            17,
            16
        )],
        "{json}"
    );
    // The same overlays in order (acceptance/clean: 20.6.2 in staging, 20.6.1 in production)
    // stay quiet.
    let clean = fixture("acceptance/clean");
    let o = fluxvet(&["check", clean.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert!(
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["code"] != "FV701"),
        "{json}"
    );
}
