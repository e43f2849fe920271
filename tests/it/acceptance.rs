//! Acceptance: the built binary on two small Flux repositories written the way users write them
//! (`flux bootstrap` layout with clusters/<env>, infrastructure/ and apps/base + overlays, two
//! environments in `.fluxvet.yaml`). `broken` is `clean` with one seeded defect per line below;
//! every one must be reported at its exact place, and nothing else.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/acceptance")
        .join(name)
}

fn fluxvet(dir: &str, format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fluxvet"))
        .args(["check", "--format", format])
        .current_dir(fixture(dir))
        .env("NO_COLOR", "1")
        .output()
        .expect("the fluxvet binary runs")
}

/// `(code, file, line, column)` of one diagnostic.
type Row = (String, String, u64, u64);

/// Every diagnostic, in output order, and the exit code.
fn findings(dir: &str) -> (Vec<Row>, Option<i32>) {
    let out = fluxvet(dir, "json");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rows = v["diagnostics"]
        .as_array()
        .expect("a diagnostics array")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["file"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    (rows, out.status.code())
}

fn row(code: &str, file: &str, line: u64, column: u64) -> Row {
    (code.into(), file.into(), line, column)
}

#[test]
fn clean_repository_has_no_finding() {
    let (found, code) = findings("clean");
    assert_eq!(found, vec![]);
    assert_eq!(code, Some(0));
}

#[test]
fn every_seeded_defect_is_found_where_it_is() {
    let (found, code) = findings("broken");
    assert_eq!(
        found,
        vec![
            // chartRef name typo
            row("FV401", "apps/base/podinfo/release.yaml", 10, 11),
            // podinfo -> redis -> podinfo
            row("FV302", "apps/base/podinfo/release.yaml", 13, 13),
            // non-chartRef OCIRepository (its HelmRelease names another) on `tag: latest`
            row("FV205", "apps/base/podinfo/repository.yaml", 10, 10),
            // SOPS Secret in a base that the staging overlay applies without decryption
            row("FV602", "apps/base/redis/release.yaml", 42, 1),
            // production's inline JSON patch pins redis ahead of staging, but production's
            // apps Kustomization points at ./apps/prod (FV403): production applies none of
            // apps/production, so no promotion is skipped in what the clusters apply (FV701
            // judges the clusters' builds; fixtures/promotion keeps the path-based case)
            // production's apps Kustomization points at ./apps/prod (FV403 below): no cluster
            // builds apps/production, so its patch is applied by nothing
            row("FV105", "apps/production/podinfo-values.yaml", 4, 9),
            // patch file name typo
            row("FV404", "apps/staging/kustomization.yaml", 7, 11),
            // ... so the file meant is used by nothing
            row("FV105", "apps/staging/podinfo-values.yaml", 4, 9),
            // dependsOn typo, then a spec.path typo
            row("FV301", "clusters/production/apps.yaml", 9, 13),
            row("FV403", "clusters/production/apps.yaml", 13, 9),
            // a Kustomization sourcing a HelmRepository; dependsOn as a string
            row("FV402", "clusters/staging/infrastructure.yaml", 11, 11),
            row("FV305", "clusters/staging/infrastructure.yaml", 24, 7),
            // Helm values in a directory Flux applies as a whole
            row("FV103", "clusters/staging/podinfo-values.yaml", 2, 1),
            row(
                "FV601",
                "infrastructure/configs/cloudflare-token.yaml",
                8,
                3
            ),
            // the document before the syntax error is still checked
            row("FV104", "infrastructure/configs/debug.yaml", 8, 12),
            row("FV101", "infrastructure/configs/debug.yaml", 16, 10),
            row("FV404", "infrastructure/configs/kustomization.yaml", 7, 5),
            row(
                "FV501",
                "infrastructure/controllers/cert-manager.yaml",
                7,
                13
            ),
            row(
                "FV202",
                "infrastructure/controllers/cert-manager.yaml",
                26,
                16
            ),
            row(
                "FV503",
                "infrastructure/controllers/ingress-nginx.yaml",
                22,
                13
            ),
            row(
                "FV201",
                "infrastructure/controllers/ingress-nginx.yaml",
                24,
                5
            ),
            row(
                "FV504",
                "infrastructure/controllers/ingress-nginx.yaml",
                36,
                17
            ),
            row(
                "FV102",
                "infrastructure/controllers/ingress-nginx.yaml",
                43,
                9
            ),
            row("FV206", "infrastructure/controllers/policies.yaml", 10, 13),
        ]
    );
    assert_eq!(code, Some(1));
}

#[test]
fn no_format_prints_the_plaintext_token() {
    for format in ["text", "json", "short", "github", "sarif", "markdown"] {
        let out = fluxvet("broken", format);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("FV601"), "{format}: {all}");
        assert!(!all.contains("RealTok3n"), "{format} leaks the token");
    }
}

#[test]
fn text_output_shows_the_line_without_colour() {
    let out = fluxvet("broken", "text");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\u{1b}'), "NO_COLOR is honoured");
    assert!(text.contains("infrastructure/controllers/cert-manager.yaml:26:16: error FV202"));
    assert!(text.contains("      version: \"1.16\""), "{text}");
}
