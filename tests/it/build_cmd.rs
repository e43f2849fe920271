//! `fluxvet build`: the rendered objects, their origins, and build errors printed as findings.

use crate::support::{TempDir, fluxvet, text};

fn repo() -> TempDir {
    let d = TempDir::new("build");
    std::fs::create_dir_all(d.join(".git")).expect("mark the root");
    d.write(
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: base\n  keep: \"yes\"\n",
    );
    d.write("base/kustomization.yaml", "resources:\n- cm.yaml\n");
    d.write(
        "prod/kustomization.yaml",
        "resources:\n- ../base\nnamespace: prod\npatches:\n- target:\n    kind: ConfigMap\n  patch: |-\n    - op: replace\n      path: /data/mode\n      value: prod\n",
    );
    d
}

#[test]
fn prints_the_rendered_objects_with_their_origins() {
    let d = repo();
    let out = fluxvet(&d.join("prod"), &["build", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(yaml.contains("namespace: prod\n"), "{yaml}");
    assert!(
        yaml.contains("keep: \"yes\"\n"),
        "a string stays quoted: {yaml}"
    );

    let out = fluxvet(d.path(), &["build", "prod", "--show-origin"]);
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(
        yaml.contains("mode: prod  # prod/kustomization.yaml:10:14\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("keep: \"yes\"  # base/cm.yaml:7:9\n"),
        "{yaml}"
    );

    let out = fluxvet(d.path(), &["build", "prod", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let o = &v["objects"][0];
    assert_eq!(o["namespace"], "prod");
    assert_eq!(o["object"]["data"]["mode"], "prod");
    assert_eq!(o["origins"]["/data/mode"], "prod/kustomization.yaml:10:14");
}

#[test]
fn a_failing_build_is_a_finding_at_its_cause() {
    let d = repo();
    d.write(
        "bad/kustomization.yaml",
        "resources:\n- ../base\n- gone.yaml\n",
    );
    let out = fluxvet(d.path(), &["build", "bad", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("FV405"), "{t}");
    assert!(t.contains("gone.yaml"), "{t}");
    assert!(t.contains("bad/kustomization.yaml:3:3"), "{t}");
}

#[test]
fn no_such_directory_is_a_usage_error() {
    let d = repo();
    let out = fluxvet(d.path(), &["build", "nowhere"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// Issue 15: `build --cluster NAME --kustomization NS/NAME` prints what Flux applies there: the
/// overlay's patched version, at the patch line, and nothing of the other cluster.
#[test]
fn build_of_one_clusters_kustomization_shows_its_overlay() {
    let dir = crate::support::checkout().join("fixtures/acceptance/clean");
    let out = crate::support::fluxvet(
        &dir,
        &[
            "build",
            "--cluster",
            "staging",
            "--kustomization",
            "flux-system/apps",
            "--show-origin",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", crate::support::text(&out));
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(
        yaml.contains("      version: 20.6.2  # apps/staging/kustomization.yaml:17:16\n"),
        "{yaml}"
    );
    let production = crate::support::fluxvet(
        &dir,
        &[
            "build",
            "--cluster",
            "production",
            "--kustomization",
            "apps",
        ],
    );
    let yaml = String::from_utf8_lossy(&production.stdout);
    assert!(yaml.contains("      version: 20.6.1\n"), "{yaml}");
    assert!(!yaml.contains("20.6.2"), "{yaml}");
    let unknown = crate::support::fluxvet(&dir, &["build", "--cluster", "prod"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(crate::support::text(&unknown).contains("production, staging"));
}
