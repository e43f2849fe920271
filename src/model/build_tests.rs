//! The build per feature: what must change, what must stay, and where each value came from
//! (file, line and column of the patch line, the kustomization entry, the generator).

use super::*;
use crate::config::Config;
use crate::engine::{Outcome, Trees, check_memory_with};

fn repo(files: &[(&str, &str)]) -> Outcome {
    check_memory_with(files, Config::default(), Trees::All)
}

/// `path:line:col` of an origin.
fn at(out: &Outcome, o: Origin) -> String {
    let f = &out.repo.files[o.file as usize];
    let lc = f.line_col(o.span.start as usize);
    format!("{}:{}:{}", f.path, lc.line, lc.column)
}

fn object<'a>(b: &'a Build, kind: &str, name: &str) -> &'a RenderedObject {
    b.objects
        .iter()
        .find(|o| o.kind == kind && o.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no {kind}/{name} in {:?}",
                b.objects.iter().map(|o| o.display()).collect::<Vec<_>>()
            )
        })
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n        env:\n        - name: MODE\n          value: base\n";

#[test]
fn a_patched_value_points_at_the_patch_line_and_the_rest_stays() {
    let out = repo(&[
        ("base/deploy.yaml", DEPLOY),
        ("base/kustomization.yaml", "resources:\n- deploy.yaml\n"),
        (
            "prod/kustomization.yaml",
            "resources:\n- ../base\npatches:\n- path: replicas.yaml\n- target:\n    kind: Deployment\n  patch: |-\n    - op: replace\n      path: /spec/template/spec/containers/0/env/0/value\n      value: prod\n",
        ),
        (
            "prod/replicas.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
        ),
    ]);
    let b = build(&out.repo, "prod");
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    let d = object(&b, "Deployment", "web");
    let replicas = d.root.path(&["spec", "replicas"]).unwrap();
    assert_eq!(replicas.as_str(), Some("3"));
    assert_eq!(at(&out, replicas.origin), "prod/replicas.yaml:6:13");
    let env = &d
        .root
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .items()[0];
    let value = env.get("env").unwrap().items()[0].get("value").unwrap();
    assert_eq!(value.as_str(), Some("prod"));
    assert_eq!(at(&out, value.origin), "prod/kustomization.yaml:10:14");
    let image = env.get("image").unwrap();
    assert_eq!(image.as_str(), Some("nginx:1.25"), "must stay");
    assert_eq!(at(&out, image.origin), "base/deploy.yaml:11:16");
}

#[test]
fn namespace_prefix_labels_images_and_replicas_point_at_their_entries() {
    let out = repo(&[
        ("deploy.yaml", DEPLOY),
        (
            "kustomization.yaml",
            "resources:\n- deploy.yaml\nnamespace: shop\nnamePrefix: p-\ncommonLabels:\n  team: a\nimages:\n- name: nginx\n  newTag: \"1.27\"\nreplicas:\n- name: web\n  count: 5\n",
        ),
    ]);
    let b = build(&out.repo, "");
    let d = object(&b, "Deployment", "p-web");
    assert_eq!(d.namespace.as_deref(), Some("shop"));
    let ns = d.root.path(&["metadata", "namespace"]).unwrap();
    assert_eq!(at(&out, ns.origin), "kustomization.yaml:3:12");
    let name = d.root.path(&["metadata", "name"]).unwrap();
    assert_eq!(at(&out, name.origin), "kustomization.yaml:4:13");
    let sel = d
        .root
        .path(&["spec", "selector", "matchLabels", "team"])
        .unwrap();
    assert_eq!(
        at(&out, sel.origin),
        "kustomization.yaml:6:9",
        "created selector"
    );
    let image = d
        .root
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .items()[0]
        .get("image")
        .unwrap();
    assert_eq!(image.as_str(), Some("nginx:1.27"));
    assert_eq!(at(&out, image.origin), "kustomization.yaml:8:3");
    let replicas = d.root.path(&["spec", "replicas"]).unwrap();
    assert_eq!(
        (replicas.as_str(), at(&out, replicas.origin).as_str()),
        (Some("5"), "kustomization.yaml:12:10")
    );
    assert_eq!(b.objects.len(), 1);
}

#[test]
fn generated_names_hash_like_kustomize_and_references_follow() {
    let out = repo(&[
        (
            "deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        envFrom:\n        - configMapRef:\n            name: x\n",
        ),
        (
            "kustomization.yaml",
            "resources:\n- deploy.yaml\nconfigMapGenerator:\n- name: x\n  literals:\n  - a=b\n",
        ),
    ]);
    let b = build(&out.repo, "");
    let cm = object(&b, "ConfigMap", "x-4h2mbtbbt6");
    let name = cm.root.path(&["metadata", "name"]).unwrap();
    assert_eq!(
        at(&out, name.origin),
        "kustomization.yaml:4:3",
        "the generator entry"
    );
    let a = cm.root.path(&["data", "a"]).unwrap();
    assert_eq!(at(&out, a.origin), "kustomization.yaml:6:5", "the literal");
    let d = object(&b, "Deployment", "web");
    let r = d
        .root
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .items()[0]
        .get("envFrom")
        .unwrap()
        .items()[0]
        .str_at(&["configMapRef", "name"]);
    assert_eq!(r, Some("x-4h2mbtbbt6"));
}

/// kustomize's name reference filter rewrites a `{name, namespace}` map from the object it
/// names: a ServiceAccount that `namespace:` moved takes its RoleBinding subjects along (a
/// subject written without a namespace gets one); a subject naming a ServiceAccount of
/// another namespace stays as written.
#[test]
fn subjects_follow_a_service_account_the_namespace_moved() {
    let out = repo(&[
        (
            "r.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: old\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: crb\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: ServiceAccount, name: sa, namespace: old}\n- {kind: ServiceAccount, name: sa}\n- {kind: ServiceAccount, name: sa, namespace: other}\n",
        ),
        (
            "kustomization.yaml",
            "namespace: new\nresources:\n- r.yaml\n",
        ),
    ]);
    let b = build(&out.repo, "");
    let crb = object(&b, "ClusterRoleBinding", "crb");
    let subjects = crb.root.get("subjects").unwrap().items();
    let ns: Vec<Option<&str>> = subjects.iter().map(|s| s.str_at(&["namespace"])).collect();
    assert_eq!(ns, [Some("new"), Some("new"), Some("other")]);
    let moved = subjects[0].get("namespace").unwrap();
    assert_eq!(
        at(&out, moved.origin),
        "r.yaml:13:47",
        "the subject's own line"
    );
}

#[test]
fn errors_point_at_their_cause() {
    let out = repo(&[
        (
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
        ),
        (
            "dup.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
        ),
        (
            "kustomization.yaml",
            "resources:\n- cm.yaml\n- missing.yaml\n- dup.yaml\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: other\n- target:\n    kind: Nothing\n  path: p.yaml\n- target:\n    kind: ConfigMap\n  patch: |-\n    - op: remove\n      path: /data/none\n- not-a-mapping.yaml\n",
        ),
        ("p.yaml", "- op: add\n  path: /x\n  value: 1\n"),
    ]);
    let b = build(&out.repo, "");
    let found: Vec<(String, bool)> = b
        .errors
        .iter()
        .map(|e| (at(&out, Origin::new(e.file, e.span)), e.fatal))
        .collect();
    assert!(
        found.contains(&("kustomization.yaml:3:3".into(), true)),
        "missing resource: {found:?}"
    );
    assert!(
        found.contains(&("kustomization.yaml:4:3".into(), true)),
        "duplicate: {found:?}"
    );
    assert!(
        found.contains(&("kustomization.yaml:6:3".into(), true)),
        "SMP matches nothing: {found:?}"
    );
    assert!(
        found.contains(&("kustomization.yaml:12:5".into(), false)),
        "target matches nothing: {found:?}"
    );
    assert!(
        found.contains(&("kustomization.yaml:17:7".into(), true)),
        "bad op: {found:?}"
    );
    assert!(
        found.contains(&("kustomization.yaml:19:3".into(), true)),
        "bare string: {found:?}"
    );
    assert!(b.failed());
}

#[test]
fn a_resource_cycle_is_an_error_not_a_hang() {
    let out = repo(&[
        ("a/kustomization.yaml", "resources:\n- ../b\n"),
        ("b/kustomization.yaml", "resources:\n- ../a\n"),
    ]);
    let b = build(&out.repo, "a");
    assert!(
        b.errors.iter().any(|e| e.message.contains("cycle")),
        "{:?}",
        b.errors
    );
}

/// A kustomization file whose every line is commented out: kustomize says "kustomization.yaml
/// is empty", and so does the error; a file that does not parse as one keeps the general words.
#[test]
fn an_empty_kustomization_under_resources_says_so() {
    let out = repo(&[
        ("a/kustomization.yaml", "resources:\n- ../b\n- ../c\n"),
        (
            "b/kustomization.yaml",
            "# apiVersion: kustomize.config.k8s.io/v1beta1\n# resources:\n#   - cm.yaml\n",
        ),
        ("c/kustomization.yaml", "- not\n- a mapping\n"),
    ]);
    let b = build(&out.repo, "a");
    let messages: Vec<&str> = b.errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages.contains(
            &"`b/kustomization.yaml` is empty (kustomize: \"kustomization.yaml is empty\")"
        ),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"`c/kustomization.yaml` is not a kustomization fluxvet can read"),
        "{messages:?}"
    );
}

#[test]
fn what_is_not_offline_is_a_gap() {
    let out = repo(&[(
        "kustomization.yaml",
        "resources:\n- https://github.com/org/repo//base?ref=v1\nhelmCharts:\n- name: x\n",
    )]);
    let b = build(&out.repo, "");
    assert_eq!(b.gaps.len(), 2, "{:?}", b.gaps);
    assert!(!b.failed());
}

/// A patch without a target whose object is not among those built may be meant for one a
/// remote resource holds (a `$patch: delete` of an upstream bundle's policy): not a failure.
/// A base without a remote resource of its own still fails on one, remote siblings or not.
#[test]
fn a_patch_for_a_remote_resource_is_no_failure() {
    let delete = "patches:\n- patch: |\n    $patch: delete\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: upstream\n";
    let out = repo(&[
        (
            "app/kustomization.yaml",
            &format!("resources:\n- https://example.com/v1/install.yaml\n{delete}"),
        ),
        (
            "base/kustomization.yaml",
            &format!("resources:\n- deploy.yaml\n{delete}"),
        ),
        ("base/deploy.yaml", DEPLOY),
        (
            "both/kustomization.yaml",
            "resources:\n- ../base\n- https://example.com/v1/install.yaml\n",
        ),
    ]);
    let b = build(&out.repo, "app");
    assert!(!b.failed(), "{:?}", b.errors);
    assert_eq!(b.gaps.len(), 1, "{:?}", b.gaps);
    let b = build(&out.repo, "both");
    let failures: Vec<_> = b
        .errors
        .iter()
        .filter(|e| e.fatal)
        .map(|e| at(&out, Origin::new(e.file, e.span)))
        .collect();
    assert_eq!(
        failures,
        vec!["base/kustomization.yaml:4:3"],
        "{:?}",
        b.errors
    );
}

/// A generator merging into a ConfigMap a remote resource may hold: not a failure; with every
/// object read, a merge into nothing still is one.
#[test]
fn a_merge_into_a_remote_resource_is_no_failure() {
    let merge = "configMapGenerator:\n- name: upstream\n  behavior: merge\n  literals:\n  - A=1\n";
    let out = repo(&[
        (
            "app/kustomization.yaml",
            &format!("resources:\n- https://example.com/v1/install.yaml\n{merge}"),
        ),
        ("local/kustomization.yaml", merge),
    ]);
    assert!(!build(&out.repo, "app").failed());
    assert!(build(&out.repo, "local").failed());
}

/// kustomize fetches a generator file given as a URL (a Grafana dashboard from upstream): a
/// gap, not a build error.
#[test]
fn a_generator_file_fetched_over_the_network_is_a_gap() {
    let out = repo(&[(
        "kustomization.yaml",
        "configMapGenerator:\n- name: dash\n  files:\n  - dash.json=https://raw.githubusercontent.com/org/repo/v1/dash.json\n",
    )]);
    let b = build(&out.repo, "");
    assert_eq!(b.gaps.len(), 1, "{:?}", b.gaps);
    assert!(!b.failed(), "{:?}", b.errors);
}

#[test]
fn flux_generates_a_kustomization_for_a_plain_directory() {
    let out = repo(&[
        (
            "apps/a.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
        ),
        (
            "apps/deep/b.yml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
        ),
        (
            "apps/sub/kustomization.yaml",
            "resources:\n- c.yaml\nnamespace: x\n",
        ),
        (
            "apps/sub/c.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        ),
        (
            "apps/sub/ignored.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ignored\n",
        ),
    ]);
    let b = build(&out.repo, "apps");
    let ids: Vec<String> = b.objects.iter().map(|o| o.display()).collect();
    assert_eq!(ids, ["Namespace/a", "Namespace/b", "ConfigMap/x/c"]);
}

#[test]
fn components_apply_after_resources_and_delete_patches_remove_objects() {
    let out = repo(&[
        (
            "app/kustomization.yaml",
            "resources:\n- cm.yaml\ncomponents:\n- ../comp\n",
        ),
        (
            "app/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        ),
        (
            "comp/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- patch: |-\n    $patch: delete\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: b\ncommonAnnotations:\n  from: component\n",
        ),
    ]);
    let b = build(&out.repo, "app");
    assert_eq!(b.objects.len(), 1);
    let a = object(&b, "ConfigMap", "a");
    assert_eq!(
        a.root.str_at(&["metadata", "annotations", "from"]),
        Some("component")
    );
}
