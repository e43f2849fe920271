//! `fluxvet diff` on real git repositories with two commits, as a user runs it.

use crate::support::{commit_all, fluxvet, git, git_repo, text};

const SYNC: &str = "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: https://github.com/example/fleet
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";

fn release(name: &str, version: &str, extra: &str) -> String {
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: {name}
      version: \"{version}\"
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
{extra}"
    )
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

fn findings(v: &serde_json::Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["object"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn moved_objects_are_not_changes() {
    let repo = git_repo("diff-move");
    repo.write("clusters/sync.yaml", SYNC);
    repo.write("apps/podinfo.yaml", &release("podinfo", "6.5.0", ""));
    commit_all(repo.path(), "base");
    git(
        repo.path(),
        &["mv", "apps/podinfo.yaml", "apps/podinfo-release.yaml"],
    );
    let out = fluxvet(repo.path(), &["diff", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["changes"].as_array().unwrap().len(), 0, "{v}");
}

#[test]
fn bumps_prunes_reorders_and_renames_between_two_commits() {
    let repo = git_repo("diff-all");
    repo.write("clusters/sync.yaml", SYNC);
    repo.write("apps/patch.yaml", &release("patchy", "1.2.3", ""));
    repo.write("apps/minor.yaml", &release("minory", "1.2.3", ""));
    repo.write(
        "apps/major.yaml",
        &release("majory", "1.2.3", "  dependsOn:\n    - name: minory\n"),
    );
    repo.write(
        "apps/down.yaml",
        &release("downy", "1.2.3", "  targetNamespace: one\n"),
    );
    repo.write(
        "apps/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: media\n",
    );
    repo.write(
        "apps/pvc.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: library\n  namespace: media\n",
    );
    repo.write(
        "apps/sts.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: media\n",
    );
    repo.write(
        "apps/crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
    );
    repo.write(
        "apps/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: media\n",
    );
    let base = commit_all(repo.path(), "base");

    repo.write("apps/patch.yaml", &release("patchy", "1.2.4", ""));
    repo.write("apps/minor.yaml", &release("minory", "1.3.0", ""));
    repo.write(
        "apps/major.yaml",
        &release("majory", "2.0.0", "  dependsOn:\n    - name: patchy\n"),
    );
    repo.write(
        "apps/down.yaml",
        &release("downy", "1.2.2", "  targetNamespace: two\n"),
    );
    for f in ["ns", "pvc", "sts", "crd", "cm"] {
        std::fs::remove_file(repo.join(&format!("apps/{f}.yaml"))).unwrap();
    }
    let head = commit_all(repo.path(), "head");

    let out = fluxvet(
        repo.path(),
        &["diff", "--base", &base, "--head", &head, "--format", "json"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "prunes of data kinds are errors: {}",
        text(&out)
    );
    let got = findings(&json(&out));
    let want: Vec<(&str, &str, &str)> = vec![
        ("FV803", "warning", "ConfigMap media/c"),
        (
            "FV803",
            "error",
            "CustomResourceDefinition widgets.example.com",
        ),
        ("FV802", "warning", "HelmRelease apps/downy"),
        ("FV805", "warning", "HelmRelease apps/downy"),
        ("FV801", "warning", "HelmRelease apps/majory"),
        ("FV804", "info", "HelmRelease apps/majory"),
        ("FV801", "info", "HelmRelease apps/minory"),
        ("FV803", "error", "Namespace media"),
        ("FV801", "info", "HelmRelease apps/patchy"),
        ("FV803", "error", "PersistentVolumeClaim media/library"),
        ("FV803", "error", "StatefulSet media/db"),
    ];
    let want: Vec<(String, String, String)> = want
        .into_iter()
        .map(|(a, b, c)| (a.into(), b.into(), c.into()))
        .collect();
    assert_eq!(got, want);

    // Each preview rule's findings in full (message, help, object, file), reviewed rule by rule.
    let report = json(&out);
    for code in ["FV801", "FV802", "FV803", "FV804", "FV805"] {
        let of_rule: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .collect();
        insta::with_settings!({
            snapshot_path => "snapshots/rules",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("{code}: every finding of `fluxvet diff` between the two commits"),
        }, {
            insta::assert_snapshot!(
                code,
                serde_json::to_string_pretty(&of_rule).unwrap().replace(&base, "<base>").replace(&head, "<head>")
            );
        });
    }

    // The text form groups by the Kustomization that applies each object and says the class.
    let out = fluxvet(repo.path(), &["diff", "--base", &base, "--head", &head]);
    let t = text(&out);
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(
            "diff_text_report",
            t.replace(&base, "<base>").replace(&head, "<head>").replace(&base[..12], "<base>").replace(&head[..12], "<head>")
        );
    });
    assert!(t.contains("Kustomization flux-system/apps"), "{t}");
    assert!(t.contains("spec.chart.spec.version: 1.2.3 → 2.0.0"), "{t}");
    assert!(
        t.contains("(major)") && t.contains("(downgrade)") && t.contains("(patch)"),
        "{t}"
    );

    let md = fluxvet(
        repo.path(),
        &[
            "diff", "--base", &base, "--head", &head, "--format", "markdown",
        ],
    );
    assert!(text(&md).starts_with("### fluxvet diff: "), "{}", text(&md));
    assert!(text(&md).contains("| error | FV803 prune-deletes |"));
}

#[test]
fn default_base_is_head_and_head_is_the_working_tree() {
    let repo = git_repo("diff-default");
    repo.write("clusters/sync.yaml", SYNC);
    repo.write("apps/a.yaml", &release("a", "1.0.0", ""));
    commit_all(repo.path(), "base");
    repo.write("apps/a.yaml", &release("a", "1.0.1", ""));
    let out = fluxvet(repo.path(), &["diff", "--format", "json"]);
    let v = json(&out);
    assert_eq!(
        findings(&v),
        vec![("FV801".into(), "info".into(), "HelmRelease apps/a".into())]
    );
    assert_eq!(out.status.code(), Some(0));
    let out = fluxvet(repo.path(), &["diff", "--base", "no-such-rev"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no-such-rev"), "{}", text(&out));
}

/// Issue 20: the Markdown comment, as a Markdown parser reads it, puts every object under its
/// own group's heading (a `**group**` line right after a list used to join the previous item).
#[test]
fn markdown_groups_render_under_their_own_headings() {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let repo = git_repo("diff-md");
    repo.write("clusters/sync.yaml", SYNC);
    repo.write("apps/a.yaml", &release("a", "1.0.0", ""));
    repo.write("apps/b.yaml", &release("b", "1.0.0", ""));
    let base = commit_all(repo.path(), "base");
    repo.write("apps/a.yaml", &release("a", "1.0.1", ""));
    repo.write("apps/b.yaml", &release("b", "1.0.1", ""));
    let head = commit_all(repo.path(), "head");
    let out = fluxvet(
        repo.path(),
        &[
            "diff", "--base", &base, "--head", &head, "--format", "markdown",
        ],
    );
    let md = String::from_utf8(out.stdout).unwrap();
    // (heading the item renders under, the item's own text without nested lists)
    let mut placed: Vec<(String, String)> = Vec::new();
    let mut heading: Option<String> = None;
    let mut current = String::new();
    let (mut in_heading, mut depth, mut item_text) = (false, 0, None::<String>);
    for event in Parser::new(&md) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                in_heading = true;
                current.clear();
            }
            Event::End(TagEnd::Heading(_)) => {
                in_heading = false;
                heading = Some(current.clone());
            }
            Event::Start(Tag::List(_)) => {
                depth += 1;
                if depth == 2
                    && let Some(t) = item_text.take()
                {
                    placed.push((heading.clone().unwrap_or_default(), t));
                }
            }
            Event::End(TagEnd::List(_)) => depth -= 1,
            Event::Start(Tag::Item) if depth == 1 => item_text = Some(String::new()),
            Event::End(TagEnd::Item) if depth == 1 => {
                if let Some(t) = item_text.take() {
                    placed.push((heading.clone().unwrap_or_default(), t));
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if in_heading {
                    current.push_str(&t);
                } else if let Some(it) = item_text.as_mut() {
                    it.push_str(&t);
                }
            }
            Event::SoftBreak => {
                if let Some(it) = item_text.as_mut() {
                    it.push('\n');
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        placed,
        vec![
            (
                "HelmRelease apps/a".to_string(),
                "~ HelmRelease apps/a (apps/a.yaml:1)".to_string()
            ),
            (
                "HelmRelease apps/b".to_string(),
                "~ HelmRelease apps/b (apps/b.yaml:1)".to_string()
            ),
        ],
        "{md}"
    );
}

/// Issue 15: with clusters, `diff` compares what each cluster applies. An overlay patch that
/// changes a chart version (the way flux2-kustomize-helm-example upgrades production) is a
/// change of the HelmRelease it patches, in that cluster, located at the patch line.
#[test]
fn an_overlay_patch_is_a_change_of_the_object_it_patches() {
    let repo = git_repo("diff-overlay");
    let sync = |cluster: &str| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/{cluster}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/{cluster}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        )
    };
    let overlay = |version: &str| {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  chart:\n    spec:\n      version: \"{version}\"\n"
        )
    };
    let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\npatches:\n  - path: values.yaml\n    target:\n      kind: HelmRelease\n      name: podinfo\n";
    repo.write(
        "clusters/staging/flux-system/gotk-sync.yaml",
        &sync("staging"),
    );
    repo.write(
        "clusters/production/flux-system/gotk-sync.yaml",
        &sync("production"),
    );
    repo.write(
        "apps/base/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: podinfo\nresources:\n  - release.yaml\n",
    );
    repo.write("apps/base/release.yaml", &release("podinfo", "6.7.0", ""));
    for env in ["staging", "production"] {
        repo.write(&format!("apps/{env}/kustomization.yaml"), kustomization);
        repo.write(&format!("apps/{env}/values.yaml"), &overlay("6.7.1"));
    }
    let base = commit_all(repo.path(), "base");
    repo.write("apps/production/values.yaml", &overlay("6.8.0"));
    let head = commit_all(repo.path(), "upgrade production");
    let out = fluxvet(
        repo.path(),
        &["diff", "--base", &base, "--head", &head, "--format", "json"],
    );
    let v = json(&out);
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{v}");
    let c = &changes[0];
    assert_eq!(c["cluster"], "production");
    assert_eq!(c["kind"], "HelmRelease");
    assert_eq!(c["namespace"], "podinfo");
    assert_eq!(c["name"], "podinfo");
    assert_eq!(c["file"], "apps/production/values.yaml");
    assert_eq!(c["line"], 8);
    assert_eq!(c["fields"][0]["path"], "spec.chart.spec.version");
    assert_eq!(c["fields"][0]["old"], "6.7.1");
    assert_eq!(c["fields"][0]["new"], "6.8.0");
    assert_eq!(
        findings(&v),
        vec![(
            "FV801".to_string(),
            "info".to_string(),
            "HelmRelease podinfo/podinfo in cluster production".to_string()
        )]
    );
}

/// FV806–FV808 between two real commits: a Deployment's selector changes (immutable), a file
/// moves to another Kustomization's path (ownership move), and an object leaves Git under a
/// Kustomization that does not prune (orphaned). Each rule's findings are snapshotted.
#[test]
fn immutable_changes_ownership_moves_and_orphans() {
    let ks = |name: &str, prune: bool| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./{name}\n  prune: {prune}\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        )
    };
    let deployment = |name: &str, app: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: web\nspec:\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n    spec:\n      containers:\n        - name: {name}\n          image: nginx:1.27\n"
        )
    };
    let repo = git_repo("diff-immutable");
    repo.write(
        "clusters/flux.yaml",
        &format!(
            "{}---\n{}---\n{}",
            ks("apps", true),
            ks("frontend", true),
            ks("legacy", false)
        ),
    );
    repo.write("apps/web.yaml", &deployment("web", "web"));
    repo.write("apps/api.yaml", &deployment("api", "api"));
    repo.write(
        "legacy/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  a: \"1\"\n",
    );
    let base = commit_all(repo.path(), "base");
    repo.write("apps/web.yaml", &deployment("web", "frontend"));
    std::fs::create_dir_all(repo.join("frontend")).unwrap();
    git(repo.path(), &["mv", "apps/api.yaml", "frontend/api.yaml"]);
    std::fs::remove_file(repo.join("legacy/settings.yaml")).unwrap();
    let head = commit_all(repo.path(), "head");
    let out = fluxvet(
        repo.path(),
        &["diff", "--base", &base, "--head", &head, "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    assert_eq!(
        findings(&report),
        vec![
            (
                "FV806".to_string(),
                "error".to_string(),
                "Deployment web/web".to_string()
            ),
            (
                "FV807".to_string(),
                "warning".to_string(),
                "Deployment web/api".to_string()
            ),
            (
                "FV808".to_string(),
                "info".to_string(),
                "ConfigMap web/settings".to_string()
            ),
        ]
    );
    for code in ["FV806", "FV807", "FV808"] {
        let of_rule: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .collect();
        insta::with_settings!({
            snapshot_path => "snapshots/rules",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("{code}: every finding of `fluxvet diff` between the two commits"),
        }, {
            insta::assert_snapshot!(code, serde_json::to_string_pretty(&of_rule).unwrap());
        });
    }
}
