//! Helpers for the integration tests: temp directories, git repositories with an isolated
//! config, the built binary, and external tools that skip or fail as FLUXVET_REQUIRE_TOOLS says.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const FLUXVET: &str = env!("CARGO_BIN_EXE_fluxvet");

/// The checkout this test suite belongs to.
pub fn checkout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "fluxvet-it-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        // Canonical, so paths compare equal to what git and the binary report.
        TempDir(dir.canonicalize().expect("canonical temp dir"))
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    pub fn write(&self, rel: &str, text: &str) {
        let p = self.0.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(p, text).expect("write file");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// PATH with the built fluxvet first, so hooks and task runners find this build.
pub fn path_with_fluxvet() -> String {
    let bin_dir = Path::new(FLUXVET).parent().expect("binary dir");
    let old = std::env::var("PATH").unwrap_or_default();
    format!("{}:{old}", bin_dir.display())
}

/// A command with git isolated from the user's and the system's config (no global hooksPath,
/// no signing), with a fixed identity.
pub fn isolated(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "fluxvet test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "fluxvet test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("PATH", path_with_fluxvet())
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    c
}

pub fn run(mut c: Command) -> Output {
    c.output()
        .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"))
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs git in `dir` and panics with its output when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let mut c = isolated("git", dir);
    c.args(args);
    let out = run(c);
    assert!(
        out.status.success(),
        "git {args:?} failed in {}:\n{}",
        dir.display(),
        text(&out)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A fresh repository on branch `main`.
pub fn git_repo(tag: &str) -> TempDir {
    let d = TempDir::new(tag);
    git(d.path(), &["init", "-q", "-b", "main"]);
    d
}

pub fn commit_all(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--no-verify", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// Runs the built fluxvet in `dir`.
pub fn fluxvet(dir: &Path, args: &[&str]) -> Output {
    let mut c = isolated(FLUXVET, dir);
    c.args(args);
    run(c)
}

/// An external tool, found on PATH or in Python's scripts directory (where `pip install` puts
/// pre-commit, task and actionlint). When it is absent the test is skipped with a reason, unless
/// FLUXVET_REQUIRE_TOOLS is set (CI), where a missing tool fails the test.
pub fn tool(name: &str, install_hint: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(out) = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
    {
        let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !s.is_empty() {
            dirs.push(PathBuf::from(s));
        }
    }
    if let Some(found) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
        return Some(found);
    }
    let required = std::env::var_os("FLUXVET_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty());
    assert!(
        !required,
        "`{name}` is required (FLUXVET_REQUIRE_TOOLS is set) but not installed; {install_hint}"
    );
    eprintln!(
        "SKIPPED: `{name}` is not installed ({install_hint}); set FLUXVET_REQUIRE_TOOLS=1 to make this a failure"
    );
    None
}

/// `clusters/production/flux-system/gotk-sync.yaml` as `flux bootstrap` writes it: the
/// repository's source and the Kustomization that applies `./clusters/production`.
pub const BOOTSTRAP_SYNC: &str = "apiVersion: source.toolkit.fluxcd.io/v1
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
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/production
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";

pub const CLEAN: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n";
/// A manifest with a duplicate key: FV102 at line 7, column 3.
pub const DEFECT: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n  a: \"2\"\n";

/// The fixture repositories under `fixtures/`, each a root fluxvet is run on: the first
/// directories down from `fixtures/` that hold manifests or a repository's usual top-level
/// directories (`fixtures/example`, `fixtures/deps/broken`, `fixtures/truth/<class>/fires`).
/// Sorted.
pub fn fixture_repositories() -> Vec<PathBuf> {
    fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        v.sort();
        v
    }
    fn is_repository(dir: &Path) -> bool {
        // A case of a fixture pair is a repository whatever its layout.
        if dir.file_name().is_some_and(|n| {
            ["fires", "quiet", "broken", "clean"]
                .iter()
                .any(|c| n == *c)
        }) {
            return true;
        }
        sorted_dirs(dir).iter().any(|p| {
            p.is_file()
                || ["clusters", "apps", "infrastructure", "kubernetes", "charts"]
                    .iter()
                    .any(|n| p.file_name().is_some_and(|f| f == *n))
        })
    }
    fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        for sub in sorted_dirs(dir).into_iter().filter(|p| p.is_dir()) {
            if is_repository(&sub) || depth >= 3 {
                out.push(sub);
            } else {
                collect(&sub, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    collect(&checkout().join("fixtures"), 0, &mut out);
    out
}
