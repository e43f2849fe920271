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

/// A file that declares no object is still a file a generator reads: a Helm chart's
/// `values.yaml` (its directory has a `Chart.yaml`) and a `.sourceignore` kept their text only
/// for `check`, and `build` printed them empty.
#[test]
fn a_generator_reads_a_charts_values_and_a_sourceignore() {
    let d = repo();
    d.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    d.write("chart/values.yaml", "replicas: 3\n");
    d.write("chart/.sourceignore", "*.md\n");
    d.write(
        "chart/kustomization.yaml",
        "configMapGenerator:\n- name: vals\n  files:\n  - values.yaml\n  - .sourceignore\n  options:\n    disableNameSuffixHash: true\n",
    );
    let out = fluxvet(d.path(), &["build", "chart"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(
        yaml.contains("  values.yaml: |\n    replicas: 3\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  .sourceignore: |\n    *.md\n"), "{yaml}");
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

/// Issue 15: the Flux Kustomization's own `spec.images` and `spec.components`, as
/// kustomize-controller applies them (fluxcd/kustomize-controller docs/spec/v1/kustomizations.md,
/// "Images": kustomize `images`, overwriting name, tag or digest; "Components": kustomize
/// `components`, "local and relative to the path specified by `.spec.path`"). Both go into the
/// kustomization at the path (fluxcd/pkg `kustomize/kustomize_generator.go`): the component's
/// Ingress gets the overlay's `namespace:`, and an image the overlay already names is merged
/// field by field (fluxcd/pkg#1267, Flux 2.9: the overlay's `newName` stays, the new tag
/// wins). The values Flux sets point at the Flux Kustomization's lines.
#[test]
fn build_of_a_cluster_applies_the_kustomizations_images_and_components() {
    let dir = crate::support::checkout().join("fixtures/clusters/flux-images-components");
    let out = fluxvet(&dir, &["build", "--cluster", "production", "--show-origin"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let yaml = String::from_utf8_lossy(&out.stdout);
    for line in [
        "        image: registry.example.com/podinfo:6.8.0  # clusters/production/apps.yaml:14:7\n",
        "        image: busybox@sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3  # clusters/production/apps.yaml:16:7\n",
        "kind: Ingress  # apps/components/ingress/ingress.yaml:2:7\n",
    ] {
        assert!(yaml.contains(line), "{line}: {yaml}");
    }
    let ingress = yaml
        .split("---\n")
        .find(|d| d.contains("kind: Ingress"))
        .expect("the component's Ingress");
    assert!(
        ingress.contains("  namespace: production  # apps/production/kustomization.yaml:3:12\n"),
        "{ingress}"
    );
    // The overlay alone (what kubectl kustomize builds) has neither.
    let plain = fluxvet(&dir, &["build", "apps/production"]);
    let yaml = String::from_utf8_lossy(&plain.stdout);
    assert!(
        yaml.contains("image: registry.example.com/podinfo:6.7.0\n"),
        "{yaml}"
    );
    assert!(yaml.contains("image: busybox:1.36\n"), "{yaml}");
    assert!(!yaml.contains("kind: Ingress"), "{yaml}");
}

/// Issue 15: kustomize-controller writes the Flux Kustomization's `targetNamespace`,
/// `namePrefix`, `nameSuffix` and `patches` into the kustomization at the path (fluxcd/pkg
/// `kustomize/kustomize_generator.go`; kustomizations.md, "Target namespace", "Name prefix
/// and suffix", "Patches"), so kustomize runs them with the file's own steps: the prefix
/// replaces the overlay's `team-` instead of adding to it, and the container a Flux patch adds
/// gets the tag of `spec.images`, which kustomize applies after patches. `commonMetadata` is
/// set on the objects as Flux applies them. `tests/it/oracle.rs` checks the same against
/// `kubectl kustomize` of the generated kustomization.
#[test]
fn build_of_a_cluster_runs_the_flux_steps_inside_the_kustomization() {
    let dir = crate::support::checkout().join("fixtures/clusters/flux-generator-order");
    let out = fluxvet(
        &dir,
        &[
            "build",
            "--cluster",
            "production",
            "--kustomization",
            "apps",
            "--show-origin",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let yaml = String::from_utf8_lossy(&out.stdout);
    let deployment = yaml
        .split("---\n")
        .find(|d| d.contains("kind: Deployment"))
        .expect("the Deployment");
    for line in [
        "  name: prod-podinfo  # clusters/production/apps.yaml:14:15\n",
        "  namespace: prod  # clusters/production/apps.yaml:13:20\n",
        "    team: web  # clusters/production/apps.yaml:35:13\n",
        "      - name: log-shipper  # clusters/production/apps.yaml:28:25\n",
        "        image: busybox:1.37.0  # clusters/production/apps.yaml:16:7\n",
    ] {
        assert!(deployment.contains(line), "{line}: {deployment}");
    }
    assert!(!yaml.contains("team-podinfo"), "{yaml}");
    // `web`'s patch for HelmReleases matches nothing in its build: kustomize applies it to no
    // object, with no error (a parent often gives every child the same patches).
    let all = fluxvet(&dir, &["build", "--cluster", "production"]);
    assert_eq!(all.status.code(), Some(0), "{}", text(&all));
    assert!(!text(&all).contains("FV405"), "{}", text(&all));
    let infra = fluxvet(
        &dir,
        &[
            "build",
            "--cluster",
            "production",
            "--kustomization",
            "infra",
        ],
    );
    let yaml = String::from_utf8_lossy(&infra.stdout);
    // A path without a kustomization file: Flux generates one with the same steps.
    for line in [
        "  name: settings-v2\n",
        "  namespace: infra\n",
        "  owner: platform\n",
    ] {
        assert!(yaml.contains(line), "{line}: {yaml}");
    }
}

/// A component the Flux Kustomization names that is not there fails the build at its entry,
/// unless `spec.ignoreMissingComponents` (kustomizations.md, "Components").
#[test]
fn a_missing_flux_component_fails_unless_ignored() {
    let src = crate::support::checkout().join("fixtures/clusters/flux-images-components");
    let d = TempDir::new("flux-components");
    copy(&src, &src, &d);
    let ks = std::fs::read_to_string(d.join("clusters/production/apps.yaml")).expect("read");
    let typo = ks.replace("../components/ingress", "../components/ingres");
    d.write("clusters/production/apps.yaml", &typo);
    let out = fluxvet(
        d.path(),
        &["build", "--cluster", "production", "--color", "never"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("clusters/production/apps.yaml:19:7"), "{t}");
    assert!(t.contains("../components/ingres"), "{t}");
    let ignored = typo.replace(
        "  components:",
        "  ignoreMissingComponents: true\n  components:",
    );
    d.write("clusters/production/apps.yaml", &ignored);
    let out = fluxvet(d.path(), &["build", "--cluster", "production"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("kind: Ingress"));
}

fn copy(root: &std::path::Path, dir: &std::path::Path, to: &TempDir) {
    for e in std::fs::read_dir(dir).expect("fixture").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy(root, &p, to);
        } else {
            let rel = p.strip_prefix(root).expect("below the root");
            let text = std::fs::read_to_string(&p).expect("read");
            to.write(&rel.to_string_lossy(), &text);
        }
    }
}

/// A model-only run (`fluxvet build`) parses the manifests the walk hands over while it walks,
/// and places them afterwards: each file it reads must be read as a full check reads it,
/// document for document and object for object, whichever files the early parse took. (A
/// check reads more: the files `.sourceignore` hides, searched for private keys.)
#[test]
fn a_model_only_run_reads_files_as_a_check_reads_them() {
    type Read = (
        String,
        Vec<Option<(u32, u32)>>,
        Vec<(usize, String, String, String)>,
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/truth");
    let read = |model_only: bool| {
        let outcome = fluxvet::engine::check(&fluxvet::engine::CheckOptions {
            paths: vec![root.clone()],
            trees: fluxvet::engine::Trees::All,
            model_only,
            ..Default::default()
        })
        .expect("the truth fixtures are read");
        let repo = outcome.repo;
        let mut by_path: std::collections::BTreeMap<String, Read> = repo
            .files
            .iter()
            .map(|f| {
                (
                    f.path.to_string(),
                    (f.text.to_string(), Vec::new(), Vec::new()),
                )
            })
            .collect();
        for d in &repo.docs {
            let root = d.doc.root().map(|r| (r.span().start, r.span().end));
            let path = repo.files[d.file].path.to_string();
            by_path
                .get_mut(&path)
                .expect("a document's file")
                .1
                .push(root);
        }
        for o in &repo.objects {
            let path = repo.files[o.file].path.to_string();
            let doc = &repo.docs[o.doc];
            assert_eq!(
                doc.file, o.file,
                "{path}: an object's document is in its file"
            );
            let at = doc.doc.root().map(|r| r.span().start);
            let entry = by_path.get_mut(&path).expect("an object's file");
            let slot = entry
                .1
                .iter()
                .position(|r| r.map(|r| r.0) == at)
                .expect("its document");
            entry
                .2
                .push((slot, o.kind.clone(), o.name.clone(), o.api_version.clone()));
        }
        by_path
    };
    let checked = read(false);
    assert!(checked.len() > 1000, "{} files", checked.len());
    for _ in 0..3 {
        let built = read(true);
        assert!(built.len() + 5 > checked.len(), "{} files", built.len());
        for (path, file) in &built {
            assert!(checked.get(path) == Some(file), "{path} is read otherwise");
        }
    }
}
