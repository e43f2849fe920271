//! The built binary on the fixture repositories under fixtures/deps/: `check` finds every seeded
//! dependency defect (and nothing on the clean repository), `graph` draws what the rules judge.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/deps")
        .join(name)
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
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `(code, file, line, column)` of the 3xx findings of `check --format json`.
fn deps_findings(repo: &str) -> Vec<(String, String, u64, u64)> {
    let dir = fixture(repo);
    let out = fluxvet(&["check", dir.to_str().unwrap_or("."), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"].as_str().is_some_and(|c| c.starts_with("FV3")))
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
fn check_finds_every_seeded_defect() {
    let got = deps_findings("broken");
    let want: Vec<(String, String, u64, u64)> = [
        ("FV302", "clusters/prod/apps.yaml", 9, 13), // 3-cycle apps -> infra -> apps-config
        ("FV301", "clusters/prod/backups.yaml", 9, 13), // velero is a HelmRelease
        ("FV305", "clusters/prod/dns.yaml", 8, 14),  // dependsOn: platform
        ("FV302", "clusters/prod/extras.yaml", 9, 13), // self-dependency
        ("FV301", "platform/kyverno.yaml", 9, 13),   // typo cert-manger
        ("FV303", "platform/logging.yaml", 11, 13),  // logging waits for tempo
        ("FV301", "platform/monitoring.yaml", 9, 13), // kyverno is in namespace kyverno
        ("FV304", "platform/neuvector.yaml", 4, 9),  // does not wait for harbor
        ("FV305", "platform/velero.yaml", 9, 7),     // - tempo
    ]
    .iter()
    .map(|(c, f, l, col)| (c.to_string(), f.to_string(), *l, *col))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn check_is_silent_on_the_clean_repository() {
    assert_eq!(deps_findings("clean"), vec![]);
}

#[test]
fn cycle_labels_every_edge_in_its_own_file() {
    let dir = fixture("broken");
    let out = fluxvet(&["check", dir.to_str().unwrap_or("."), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let cycle = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "FV302" && d["file"] == "clusters/prod/apps.yaml")
        .expect("the 3-cycle");
    let labels: Vec<(String, u64)> = cycle["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| {
            (
                l["file"].as_str().unwrap_or("").to_string(),
                l["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        labels,
        vec![
            ("clusters/prod/apps.yaml".to_string(), 24),
            ("clusters/prod/apps.yaml".to_string(), 39),
        ]
    );
}

#[test]
fn mermaid_marks_broken_edges_and_orders_components() {
    let dir = fixture("broken");
    let out = fluxvet(&["graph", dir.to_str().unwrap_or("."), "--format", "mermaid"]);
    assert!(out.status.success());
    let s = stdout(&out);
    assert!(s.starts_with("flowchart LR\n"), "{s}");
    assert!(s.contains("-->|FV303 against the order|"), "{s}");
    assert!(s.contains("-->|FV302 cycle|"), "{s}");
    assert!(s.contains("-.->|FV301 not found|"), "{s}");
    assert!(s.contains("-.->|FV304 no dependsOn|"), "{s}");
    assert!(s.contains("linkStyle "), "{s}");
    let at = |name: &str| {
        s.find(&format!("[\"{name}<br/>"))
            .or(s.find(&format!("([\"{name}<br/>")))
    };
    let order = [
        "istio-base",
        "cert-manager",
        "kyverno",
        "monitoring",
        "velero",
    ];
    let pos: Vec<usize> = order.iter().map(|n| at(n).expect(n)).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{s}");

    let clean = fluxvet(&[
        "graph",
        fixture("clean").to_str().unwrap_or("."),
        "--format",
        "mermaid",
    ]);
    assert!(!stdout(&clean).contains("linkStyle"));
}

#[test]
fn dot_marks_broken_edges_in_red() {
    let dir = fixture("broken");
    let out = fluxvet(&["graph", dir.to_str().unwrap_or("."), "--format", "dot"]);
    let s = stdout(&out);
    assert!(s.contains("digraph fluxvet {"), "{s}");
    assert!(s.contains("color=red"), "{s}");
    assert!(s.trim_end().ends_with('}'));
    let clean = fluxvet(&[
        "graph",
        fixture("clean").to_str().unwrap_or("."),
        "--format",
        "dot",
    ]);
    assert!(!stdout(&clean).contains("color=red"));
}

#[test]
fn text_shows_the_bring_up_levels() {
    let out = fluxvet(&["graph", fixture("clean").to_str().unwrap_or(".")]);
    let s = stdout(&out);
    let level = |n: usize| s.find(&format!("  level {n}\n")).expect("level");
    assert!(
        s[level(0)..level(1)].contains("HelmRelease istio-system/istio-base"),
        "{s}"
    );
    assert!(
        s[level(10)..].contains("HelmRelease velero/velero  <- waits for tempo"),
        "{s}"
    );
    assert!(!s.contains("Never applied"), "{s}");

    let broken = stdout(&fluxvet(&[
        "graph",
        fixture("broken").to_str().unwrap_or("."),
    ]));
    assert!(broken.contains("Never applied"), "{broken}");
    assert!(
        broken.contains("✗ FV302 cycle: apps -> infra -> apps-config -> apps"),
        "{broken}"
    );
}

#[test]
fn roots_of_prints_the_chain_from_the_root() {
    let out = fluxvet(&[
        "graph",
        fixture("clean").to_str().unwrap_or("."),
        "--roots-of",
        "velero",
    ]);
    assert!(out.status.success());
    let s = stdout(&out);
    assert!(
        s.contains("istio-base -> cert-manager -> kyverno -> monitoring -> logging -> openbao -> harbor -> neuvector -> keycloak -> tempo -> velero"),
        "{s}"
    );
    let broken = stdout(&fluxvet(&[
        "graph",
        fixture("broken").to_str().unwrap_or("."),
        "--roots-of",
        "monitoring",
    ]));
    assert!(
        broken.contains("✗ missing `monitoring/kyverno` (FV301) -> monitoring"),
        "{broken}"
    );
}

#[test]
fn roots_of_an_unknown_name_is_a_usage_error_with_a_suggestion() {
    let out = fluxvet(&[
        "graph",
        fixture("clean").to_str().unwrap_or("."),
        "--roots-of",
        "veleor",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `velero`?"), "{err}");
}

/// Issue 16: `graph --cluster NAME` draws what that cluster applies, once; an unknown cluster
/// is a usage error that names the clusters there are.
#[test]
fn graph_of_one_cluster() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/acceptance/clean");
    let all = crate::support::fluxvet(&dir, &["graph"]);
    let all = String::from_utf8_lossy(&all.stdout).to_string();
    // Both clusters define `apps`: the whole graph shows both, each with its file.
    assert!(
        all.contains("Kustomization flux-system/apps (clusters/production/apps.yaml)"),
        "{all}"
    );
    assert!(
        all.contains("Kustomization flux-system/apps (clusters/staging/apps.yaml)"),
        "{all}"
    );
    let staging = crate::support::fluxvet(&dir, &["graph", "--cluster", "staging"]);
    assert_eq!(staging.status.code(), Some(0));
    let staging = String::from_utf8_lossy(&staging.stdout).to_string();
    assert!(
        staging.contains("    Kustomization flux-system/apps  <- waits for infra-configs"),
        "{staging}"
    );
    assert!(!staging.contains("clusters/production"), "{staging}");
    let unknown = crate::support::fluxvet(&dir, &["graph", "--cluster", "prod"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("production, staging"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}
