//! The pipeline: discover → read → parse → per-document rules (rayon) → index → repository
//! rules → configured severities and suppressions → sorted findings.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::{self, Config};
use crate::diag::{Diagnostic, FileId};
use crate::fs::{TreeView, WorkTree};
use crate::memo::FileMemo;
use crate::model::index::{DocEntry, Object, Repository};
use crate::rules::{self, DocContext, RuleMeta};
use crate::source::SourceFile;
use crate::suppress;
use crate::timing::timing;
use crate::yaml::parse_source;

#[derive(Default)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    /// Globs relative to the working directory (see [`crate::paths`]).
    pub exclude: Vec<String>,
    pub trees: Trees,
    /// `--select`: only these rules (codes, names or code prefixes such as `FV2`).
    pub select: Vec<String>,
    /// `--ignore`: not these rules.
    pub ignore: Vec<String>,
    /// `--max-file-size`, in bytes: overrides the config's `max_file_size`.
    pub max_file_size: Option<u64>,
    /// A document read from stdin, checked as if it were this file (`--stdin-filename`).
    pub stdin: Option<StdinFile>,
    /// Only what the model needs (discovery, parse, index): no rule runs and the outcome has
    /// no findings. `fluxvet build` prints the model and nothing else.
    pub model_only: bool,
}

/// `fluxvet check - --stdin-filename PATH`: the text an editor holds for PATH.
pub struct StdinFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Which parsed trees a run keeps once the document rules are done with them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trees {
    /// Every tree: `graph`, `versions` and `diff` read documents no rule asks for.
    All,
    /// Only the trees a repository rule, the reconcile tree or the report may read
    /// ([`crate::model::index::read_after_document_rules`]); `check` needs no other.
    #[default]
    RulesNeed,
}

pub struct Outcome {
    pub repo: Repository,
    pub diagnostics: Vec<Diagnostic>,
    pub documents: usize,
    /// Things that could not be read; the run still reports what it could check.
    pub io_problems: Vec<String>,
    /// Things skipped on purpose that a user may not expect (a symlink out of the root).
    pub notices: Vec<String>,
    /// Wall-clock time of the run, shown only in the text summary a person reads; `None`
    /// (`--no-timing`, and the tests) leaves it out so two runs print the same report.
    pub elapsed: Option<Duration>,
    /// How the emitters show a root-relative path. Root-relative as it comes from a run; the
    /// command line sets it to relative to the working directory ([`crate::paths`]).
    pub paths: crate::paths::PathDisplay,
    /// Findings left out because the change did not introduce them (`--changed-since`) or the
    /// baseline records them; the summaries count them.
    pub withheld: Withheld,
}

/// Findings of the checked tree that are not reported, and why; counted in the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Withheld {
    /// `--changed-since`: how the old tree was named (`HEAD~1`, `main (merge base 1a2b…)`) and
    /// how many findings it already had.
    pub since: Option<(String, usize)>,
    /// `--baseline`: how many findings the baseline file records.
    pub baselined: Option<usize>,
}

impl Withheld {
    /// `2 new, 12 existing since main; 3 baselined`, or `None` when nothing was compared.
    pub fn note(&self, reported: usize) -> Option<String> {
        let mut parts = Vec::new();
        if let Some((since, existing)) = &self.since {
            parts.push(format!("{reported} new, {existing} existing since {since}"));
        }
        if let Some(n) = self.baselined {
            parts.push(format!("{n} baselined"));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// A failure that stops the run: exit code 2.
#[derive(Debug)]
pub struct Fatal(pub String);

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The root the paths are reported against: a single directory argument, else the current
/// directory.
pub fn scan_root(paths: &[PathBuf]) -> PathBuf {
    match paths {
        [p] if p.is_dir() => p.clone(),
        _ => {
            // Paths below the current directory are reported relative to it; paths elsewhere
            // (`fluxvet check /a/x /a/y`) need a root that holds them all, or every relative
            // reference between their files would resolve against the wrong directory.
            let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize()) else {
                return PathBuf::from(".");
            };
            let dirs: Vec<PathBuf> = paths
                .iter()
                .filter_map(|p| {
                    let dir = if p.is_dir() { p.as_path() } else { p.parent()? };
                    let dir = if dir.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        dir
                    };
                    dir.canonicalize().ok()
                })
                .collect();
            if dirs.iter().all(|d| d.starts_with(&cwd)) {
                return PathBuf::from(".");
            }
            let mut common = dirs[0].clone();
            for d in &dirs[1..] {
                while !d.starts_with(&common) {
                    if !common.pop() {
                        return PathBuf::from(".");
                    }
                }
            }
            common
        }
    }
}

pub fn load_config(root: &Path, explicit: Option<&Path>) -> Result<Config, Fatal> {
    let (path, display) = match explicit {
        Some(p) => (p.to_path_buf(), p.display().to_string()),
        None => {
            let p = root.join(config::FILE_NAME);
            if !p.is_file() {
                return Ok(Config::default());
            }
            (p, config::FILE_NAME.to_string())
        }
    };
    let config =
        Config::load(&path, &display, rules::lookup).map_err(|e| Fatal(format!("config {e}")))?;
    config
        .check_tree(&display, root)
        .map_err(|e| Fatal(format!("config {e}")))?;
    Ok(config)
}

/// Applies the command line's `--exclude`, `--select`, `--ignore` and `--max-file-size` to the
/// config of a run whose root is `root`.
pub fn configure(opts: &CheckOptions, config: &mut Config, root: &Path) -> Result<(), Fatal> {
    let display = crate::paths::PathDisplay::new(root);
    for glob in &opts.exclude {
        config::check_glob(glob).map_err(|e| Fatal(format!("--exclude: {e}")))?;
        config.exclude.push(display.to_root(glob));
    }
    if !opts.select.is_empty() {
        let mut keep = std::collections::HashSet::new();
        for word in &opts.select {
            keep.extend(rule_codes(word, "--select")?);
        }
        for meta in rules::all() {
            if !keep.contains(meta.code) {
                config.rules.insert(meta.code, None);
            }
        }
    }
    for word in &opts.ignore {
        for code in rule_codes(word, "--ignore")? {
            config.rules.insert(code, None);
        }
    }
    if let Some(limit) = opts.max_file_size {
        config.max_file_size = limit;
    }
    Ok(())
}

/// The rules a `--select`/`--ignore` word names: a code (`FV202`), a name
/// (`chart-version-unpinned`) or a code prefix (`FV2`, every 2xx rule).
fn rule_codes(word: &str, flag: &str) -> Result<Vec<&'static str>, Fatal> {
    if let Some(meta) = rules::lookup(word) {
        return Ok(vec![meta.code]);
    }
    let is_prefix = word.len() > 2
        && word.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("FV"))
        && word[2..].chars().all(|c| c.is_ascii_digit());
    let codes: Vec<&'static str> = rules::all()
        .filter(|m| is_prefix && m.code[2..].starts_with(&word[2..]))
        .map(|m| m.code)
        .collect();
    if codes.is_empty() {
        return Err(Fatal(format!(
            "{flag} {word}: not a fluxvet rule code, name or code prefix (`fluxvet rules` lists them)"
        )));
    }
    Ok(codes)
}

/// When every path is a file (or the stdin document) of one repository, that repository's root:
/// the files are checked as part of it, and only their findings are reported.
fn repository_of_files(paths: &[PathBuf], stdin: Option<&StdinFile>) -> Option<PathBuf> {
    let is_stdin = |p: &PathBuf| stdin.is_some_and(|s| &s.path == p);
    if paths.is_empty() || !paths.iter().all(|p| is_stdin(p) || p.is_file()) {
        return None;
    }
    let mut roots = paths.iter().map(|p| crate::paths::repository_root_of(p));
    let first = roots.next()??;
    let first_real = first.canonicalize().ok()?;
    for r in roots {
        if r?.canonicalize().ok()? != first_real {
            return None;
        }
    }
    Some(first)
}

/// Checks files on disk.
pub fn check(opts: &CheckOptions) -> Result<Outcome, Fatal> {
    check_with(opts, None)
}

/// [`check`], recording into or replaying from `memo` ([`crate::memo`]).
pub fn check_with(opts: &CheckOptions, memo: Option<&FileMemo>) -> Result<Outcome, Fatal> {
    let start = Instant::now();
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let stdin = opts.stdin.as_ref();
    for p in &paths {
        if stdin.is_some_and(|s| &s.path == p) {
            continue;
        }
        match std::fs::metadata(p) {
            Err(e) => {
                return Err(Fatal(format!(
                    "{}: {}; give `fluxvet check` an existing file or directory",
                    p.display(),
                    crate::discover::io_cause(&e)
                )));
            }
            Ok(m) if !m.is_file() && !m.is_dir() => {
                return Err(Fatal(format!(
                    "{}: not a regular file or directory (a FIFO, socket or device); \
                     fluxvet reads only files",
                    p.display()
                )));
            }
            Ok(_) => {}
        }
    }
    let of_repository = repository_of_files(&paths, stdin);
    let root = of_repository.clone().unwrap_or_else(|| scan_root(&paths));
    let mut config = load_config(&root, opts.config.as_deref())?;
    configure(opts, &mut config, &root)?;
    // The embedded schemas load while discovery walks the tree, not on the first document's
    // thread while the other parser waits for them.
    if !opts.model_only
        && rules::RULES
            .iter()
            .any(|r| r.reads().schemas && rule_is_on(&config, r.meta()))
    {
        std::thread::spawn(|| {
            crate::schemas::catalog();
        });
    }
    let on_disk: Vec<PathBuf> = paths
        .iter()
        .filter(|p| stdin.is_none_or(|s| &s.path != *p))
        .cloned()
        .chain(of_repository.iter().cloned())
        .collect();
    timing(|| "engine: config read".into());
    // A model-only run (`fluxvet build`) reads and parses manifests on the pool while the walk
    // finds them (on onedr0p__home-ops the walk's 3.9 ms, waiting on the kernel, and the
    // parse's 3.2 ms came one after the other). What the walk finds after the parse falls
    // behind is left to the parallel parse below.
    let limit = config.max_file_size;
    // Not from a worker of the pool: it would wait for a parse queued behind it.
    let early = (opts.model_only
        && stdin.is_none()
        && memo.is_none()
        && rayon::current_thread_index().is_none())
    .then(|| EarlyParse::start(limit));
    let found_file = |path: &Path, rel: &str| {
        if let Some(early) = &early {
            early.found(path, rel);
        }
    };
    let found = crate::discover::discover_with(&root, &on_disk, &config.exclude, &found_file);
    let parsed_early = early.map(EarlyParse::finish).unwrap_or_default();
    timing(|| format!("walk done, {} files parsed during it", parsed_early.len()));
    let mut found = found.map_err(Fatal)?;
    // The `.sourceignore` files, and the manifests they hide, take walks of their own, which
    // find nothing when the whole root was walked with nothing excluded and no `.sourceignore`
    // on the way (most repositories; the two walks were 16% of a `build`'s CPU time).
    let whole_root = stdin.is_none()
        && config.exclude.is_empty()
        && matches!(on_disk.as_slice(), [only] if same_dir(only, &root));
    let (ignore_files, key_candidates) = if whole_root && found.sourceignore_free {
        (Vec::new(), Vec::new())
    } else {
        let candidates = (!opts.model_only)
            .then(|| manifests_ignoring_sourceignore(&root, &paths, &config.exclude));
        (sourceignore_files(&root), candidates.unwrap_or_default())
    };
    // The reported files when only some files of the repository were asked for.
    let only: Option<std::collections::HashSet<String>> = of_repository.as_ref().map(|_| {
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.clone());
        paths
            .iter()
            .map(|p| crate::discover::display_path(&canonical_root, &root, p))
            .collect()
    });
    // A document on stdin that is not on disk yet is a file of the repository all the same.
    let mut new_file = None;
    if let Some(s) = stdin {
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.clone());
        let rel = crate::discover::display_path(&canonical_root, &root, &s.path);
        // Its handle is the path as given, which the reader below knows to take from stdin.
        match found.files.iter_mut().find(|(_, r)| *r == rel) {
            Some(entry) => entry.0 = s.path.clone(),
            None => {
                if !s.path.exists() {
                    new_file = Some(rel.clone());
                }
                found.files.push((s.path.clone(), rel));
                found.files.sort_by(|a, b| a.1.cmp(&b.1));
            }
        }
    }
    timing(|| format!("rss after discover {} at {:?}", rss(), start.elapsed()));
    let disk = WorkTree::new(root.clone());
    disk.know_files(found.files.iter().map(|(_, rel)| rel.as_str()));
    // In its directory too, where Flux's generated kustomization takes every manifest.
    let tree: Box<dyn TreeView> = match new_file {
        Some(rel) => Box::new(crate::fs::BufferTree::new(
            disk,
            vec![rel],
            Default::default(),
        )),
        None => Box::new(disk),
    };
    let hidden_keys = holding_private_keys(key_candidates, &found.files);
    let hidden: std::collections::HashSet<String> =
        hidden_keys.iter().map(|(_, rel)| rel.clone()).collect();
    let mut inputs: Vec<(String, PathBuf)> = found
        .files
        .into_iter()
        .chain(hidden_keys)
        .chain(ignore_files)
        .map(|(abs, rel)| (rel, abs))
        .collect();
    inputs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut outcome = run_with_hidden(
        root,
        inputs,
        parsed_early,
        |p: &PathBuf| match stdin {
            Some(s) if &s.path == p => Ok(s.bytes.clone()),
            _ => read_capped(p, limit),
        },
        tree,
        config,
        opts.trees,
        &hidden,
        memo.map(|m| (m, &(|_: &PathBuf| None) as &crate::memo::BlobOf<PathBuf>)),
        opts.model_only,
    );
    if let Some(only) = &only {
        let files = &outcome.repo.files;
        outcome
            .diagnostics
            .retain(|d| only.contains(&*files[d.file].path));
    }
    outcome.io_problems.splice(0..0, found.problems);
    outcome.notices = found.notices;
    outcome.elapsed = Some(start.elapsed());
    Ok(outcome)
}

/// The YAML files `.sourceignore` hides from Flux (and so from discovery) that hold a private
/// key: a key committed in clear leaks whether or not Flux reads the file. Other ignore rules
/// (`.gitignore`, `exclude`, hidden files) still apply.
pub(crate) fn sourceignored_private_keys(
    root: &Path,
    paths: &[PathBuf],
    exclude: &[String],
    found: &[(PathBuf, String)],
) -> Vec<(PathBuf, String)> {
    holding_private_keys(manifests_ignoring_sourceignore(root, paths, exclude), found)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Every manifest below `paths` as discovery would find it if `.sourceignore` hid nothing:
/// the candidates of [`sourceignored_private_keys`], walked while discovery walks.
fn manifests_ignoring_sourceignore(
    root: &Path,
    paths: &[PathBuf],
    exclude: &[String],
) -> Vec<(PathBuf, String)> {
    let mut overrides = ignore::overrides::OverrideBuilder::new(root);
    for glob in exclude {
        let _ = overrides.add(&format!("!{glob}"));
    }
    let Ok(overrides) = overrides.build() else {
        return Vec::new();
    };
    let Ok(canonical_root) = root.canonicalize() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in paths.iter().filter(|p| p.is_dir()) {
        let mut walk = ignore::WalkBuilder::new(path);
        walk.standard_filters(true)
            .hidden(true)
            .require_git(false)
            .follow_links(false)
            .overrides(overrides.clone())
            .filter_entry(|e| e.file_name() != ".git");
        out.extend(crate::discover::collect_walk(walk, |entry| {
            let manifest = entry.file_type().is_some_and(|t| t.is_file())
                && crate::discover::is_manifest_name(&entry.file_name().to_string_lossy());
            manifest.then(|| {
                let rel = crate::discover::display_path(&canonical_root, root, entry.path());
                (entry.into_path(), rel)
            })
        }));
    }
    out
}

/// The `candidates` discovery did not find (`found`) that hold a private key.
fn holding_private_keys(
    candidates: Vec<(PathBuf, String)>,
    found: &[(PathBuf, String)],
) -> Vec<(PathBuf, String)> {
    let known: std::collections::HashSet<&str> = found.iter().map(|(_, r)| r.as_str()).collect();
    let mut out: Vec<(PathBuf, String)> = candidates
        .into_iter()
        .filter(|(path, rel)| {
            !known.contains(rel.as_str())
                && read_capped(path, FILE_SIZE_LIMIT)
                    .is_ok_and(|b| b.windows(11).any(|w| w == b"PRIVATE KEY"))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out.dedup_by(|a, b| a.1 == b.1);
    out
}

pub use crate::config::FILE_SIZE_LIMIT;

/// Every `.sourceignore` file below the root (source-controller reads them all, in every
/// directory but `.git`, fluxcd/pkg `sourceignore.LoadIgnorePatterns`): read, never parsed, so
/// a finding can point at the line that hides a path from Flux, and so that one in a directory
/// holding no manifest (`assets/.sourceignore` keeping `!logo.png`) still replaces
/// source-controller's default exclusions. `.gitignore`d ones are not in the source either.
pub(crate) fn sourceignore_files(root: &Path) -> Vec<(PathBuf, String)> {
    let Ok(canonical_root) = root.canonicalize() else {
        return Vec::new();
    };
    let mut walk = ignore::WalkBuilder::new(root);
    walk.standard_filters(true)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| {
            let name = e.file_name();
            e.depth() == 0
                || name == crate::discover::SOURCEIGNORE
                || !name.to_string_lossy().starts_with('.')
        });
    let mut out = crate::discover::collect_walk(walk, |e| {
        let is_file = e.depth() > 0 && e.file_type().is_some_and(|t| t.is_file());
        (is_file && e.file_name() == crate::discover::SOURCEIGNORE).then(|| {
            let rel = crate::discover::display_path(&canonical_root, root, e.path());
            (e.into_path(), rel)
        })
    });
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Reads at most one byte past `limit`, so an oversized file is known as such without being
/// loaded.
pub(crate) fn read_capped(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    thread_local! {
        /// Where this thread reads a file before copying it out at its size: the file's size
        /// is not asked for first (a `statx` per file), and the copies waste no capacity.
        static READ_BUFFER: std::cell::RefCell<Vec<u8>> =
            std::cell::RefCell::new(Vec::with_capacity(64 << 10));
    }
    let file = std::fs::File::open(path)?;
    READ_BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut buffer)?;
        let bytes = buffer.to_vec();
        // A file far larger than most does not stay with the thread.
        if buffer.capacity() > 1 << 20 {
            *buffer = Vec::with_capacity(64 << 10);
        }
        Ok(bytes)
    })
}

pub(crate) struct FileOutcome {
    source: SourceFile,
    docs: Vec<DocEntry>,
    objects: Vec<Object>,
    diagnostics: Vec<Diagnostic>,
    directives: Vec<suppress::Directive>,
    io_problem: Option<String>,
}

/// Runs every rule over `inputs` (display path, handle), read with `read`.
pub fn run<H: Sync>(
    root: PathBuf,
    inputs: Vec<(String, H)>,
    read: impl Fn(&H) -> std::io::Result<Vec<u8>> + Sync,
    tree: Box<dyn TreeView>,
    config: Config,
    trees: Trees,
) -> Outcome {
    run_with(root, inputs, read, tree, config, trees, None)
}

/// [`run`], recording each file's parse and document findings into `memo`, or replaying
/// the files it recorded with the same bytes.
pub fn run_with<H: Sync>(
    root: PathBuf,
    inputs: Vec<(String, H)>,
    read: impl Fn(&H) -> std::io::Result<Vec<u8>> + Sync,
    tree: Box<dyn TreeView>,
    config: Config,
    trees: Trees,
    memo: Option<(&FileMemo, &crate::memo::BlobOf<H>)>,
) -> Outcome {
    run_with_hidden(
        root,
        inputs,
        Prepared::new(),
        read,
        tree,
        config,
        trees,
        &std::collections::HashSet::new(),
        memo,
        false,
    )
}

/// Manifests read and parsed on the pool while discovery walks. The walk hands them over a
/// few at a time (waking the parse costs more than a parse); what it finds once the parse has
/// fallen behind is left to the run, which parses in parallel.
struct EarlyParse {
    batch: std::sync::Mutex<Vec<(PathBuf, String)>>,
    to_parse: std::sync::mpsc::Sender<Vec<(PathBuf, String)>>,
    walk_done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    parsed: std::sync::Mutex<std::sync::mpsc::Receiver<Prepared>>,
}

impl EarlyParse {
    /// Manifests handed over at a time.
    const BATCH: usize = 8;

    fn start(limit: u64) -> EarlyParse {
        use std::sync::atomic::Ordering;
        let (to_parse, found) = std::sync::mpsc::channel::<Vec<(PathBuf, String)>>();
        let (done, parsed) = std::sync::mpsc::channel();
        let walk_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = std::sync::Arc::clone(&walk_done);
        rayon::spawn(move || {
            let mut prepared = Prepared::new();
            'parse: while let Ok(batch) = found.recv() {
                for (path, rel) in batch {
                    if stop.load(Ordering::Acquire) {
                        break 'parse;
                    }
                    let Ok(bytes) = read_capped(&path, limit) else {
                        continue;
                    };
                    // A panic here would abort the process (a spawned task has no caller to
                    // unwind to): the run parses the file again, as it would have, instead.
                    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        parse_file(0, &rel, bytes, limit, Role::Manifest)
                    }));
                    match parsed {
                        Ok(outcome) => prepared.insert(rel, outcome),
                        Err(_) => break 'parse,
                    };
                }
            }
            let _ = done.send(prepared);
        });
        EarlyParse {
            batch: std::sync::Mutex::new(Vec::with_capacity(Self::BATCH)),
            to_parse,
            walk_done,
            parsed: std::sync::Mutex::new(parsed),
        }
    }

    /// A manifest the walk found. One that may be a chart's template or file is left to the
    /// run, which knows the charts and reads no template.
    fn found(&self, path: &Path, rel: &str) {
        if HelmCharts::may_be_chart_content(rel) {
            return;
        }
        let mut batch = self.batch.lock().unwrap_or_else(|p| p.into_inner());
        batch.push((path.to_path_buf(), rel.to_string()));
        if batch.len() == Self::BATCH {
            let full = std::mem::replace(&mut *batch, Vec::with_capacity(Self::BATCH));
            let _ = self.to_parse.send(full);
        }
    }

    /// The manifests parsed by the end of the walk.
    fn finish(self) -> Prepared {
        self.walk_done
            .store(true, std::sync::atomic::Ordering::Release);
        drop(self.to_parse);
        let parsed = self.parsed.into_inner().unwrap_or_else(|p| p.into_inner());
        parsed.recv().unwrap_or_default()
    }
}

/// Manifests read and parsed before the run, for a model-only run, by display path; their
/// file ids are set when the run places them.
pub(crate) type Prepared = std::collections::HashMap<String, FileOutcome>;

/// [`run`], where the inputs named in `hidden` are files `.sourceignore` hides from Flux:
/// only searched for committed private keys (they leak all the same), never parsed. With
/// `model_only`, files are parsed and indexed and no rule runs, and a manifest `prepared`
/// holds is taken from there.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_with_hidden<H: Sync>(
    root: PathBuf,
    inputs: Vec<(String, H)>,
    mut prepared: Prepared,
    read: impl Fn(&H) -> std::io::Result<Vec<u8>> + Sync,
    tree: Box<dyn TreeView>,
    config: Config,
    trees: Trees,
    hidden: &std::collections::HashSet<String>,
    memo: Option<(&FileMemo, &crate::memo::BlobOf<H>)>,
    model_only: bool,
) -> Outcome {
    let start = Instant::now();
    timing(|| format!("rss before parse {}", rss()));
    let limit = config.max_file_size;
    // Rules mark the documents they will read while those are parsed; a rule turned off
    // marks none, and a model-only run (`fluxvet build`) runs no rule. Bit `i` is
    // `rules::RULES[i]`.
    let on: u64 = if model_only {
        0
    } else {
        rules::RULES
            .iter()
            .enumerate()
            .filter(|(_, r)| rule_is_on(&config, r.meta()))
            .fold(0, |mask, (i, _)| mask | (1 << i))
    };
    let charts = HelmCharts::of(inputs.iter().map(|(p, _)| p.as_str()));
    // A chart's templates are Go templates, not YAML: not read at all.
    let mut inputs = inputs;
    inputs.retain(|(p, _)| !charts.is_template(p));
    let prepared: Vec<Option<FileOutcome>> = inputs
        .iter()
        .map(|(display, _)| prepared.remove(display))
        .collect();
    let outcomes: Vec<FileOutcome> = inputs
        .par_iter()
        .zip(prepared)
        .enumerate()
        .map(|(id, ((display, handle), prepared))| {
            let role = if hidden.contains(display)
                || crate::discover::is_sourceignore(display)
                || charts.is_chart_file(display)
            {
                Role::HiddenFromFlux
            } else if charts.is_helm_file(display) {
                Role::HelmFile
            } else {
                Role::Manifest
            };
            if let Some(outcome) = prepared.filter(|_| model_only && role == Role::Manifest) {
                return outcome;
            }
            // What else decides a file's outcome besides its path and bytes.
            let context = (u128::from(limit) << 64) | (u128::from(on) << 2) | role as u128;
            // A blob the memo recorded with these bytes is not parsed again.
            if let Some((m, blob_of)) = memo
                && let Some(blob) = blob_of(handle)
                && let Some(r) = m.replay(id, display, blob, context)
            {
                return replayed_file(r, trees);
            }
            let recording = memo
                .map(|(m, _)| m)
                .filter(|m| m.recording())
                .map(|m| (m, context));
            match read(handle) {
                Ok(bytes) if model_only => parse_file(id, display, bytes, limit, role),
                Ok(bytes) => process_file(id, display, bytes, trees, limit, role, recording, on),
            Err(e) => FileOutcome {
                source: SourceFile::new(display.as_str(), String::new()),
                docs: Vec::new(),
                objects: Vec::new(),
                diagnostics: Vec::new(),
                directives: Vec::new(),
                io_problem: Some(format!(
                    "{display}: cannot read: {}; fix its permissions or exclude it with --exclude",
                    crate::discover::io_cause(&e)
                )),
            },
            }
        })
        .collect();

    timing(|| format!("read+parse+document rules {:.1} ms", ms(start.elapsed())));
    // Sized up front: a doubling series of big vectors lands on fresh pages, and a fresh page
    // costs more than the copy (the kernel zeroes it first).
    let mut files = Vec::with_capacity(outcomes.len());
    let mut docs = Vec::with_capacity(outcomes.iter().map(|o| o.docs.len()).sum());
    let mut objects = Vec::with_capacity(outcomes.iter().map(|o| o.objects.len()).sum());
    let mut diagnostics = Vec::new();
    let mut directives = Vec::with_capacity(outcomes.len());
    let mut io_problems = Vec::new();
    for (id, o) in outcomes.into_iter().enumerate() {
        let offset = docs.len();
        objects.extend(o.objects.into_iter().map(|mut obj| {
            obj.doc += offset;
            obj.file = id;
            obj
        }));
        docs.extend(o.docs.into_iter().map(|mut doc| {
            doc.file = id;
            doc
        }));
        diagnostics.extend(o.diagnostics);
        directives.push((id, o.directives));
        io_problems.extend(o.io_problem);
        files.push(o.source);
    }
    let documents = docs.len();
    timing(|| format!("rss before index {}", rss()));
    let mut repo = Repository::new(root, files, docs, objects, config, tree);
    repo.partial_trees = trees == Trees::RulesNeed && !model_only;

    let parsed_at = start.elapsed();
    timing(|| format!("rss after index {}", rss()));
    if model_only {
        return Outcome {
            paths: crate::paths::PathDisplay::default(),
            repo,
            diagnostics: Vec::new(),
            documents,
            io_problems,
            notices: Vec::new(),
            elapsed: Some(start.elapsed()),
            withheld: Default::default(),
        };
    }
    // Most rules read the reconcile tree or the dependsOn graph, built on first use; built by
    // a rule, the other workers waited idle on the lock. The graph holds only what the
    // clusters apply, so it needs the tree: both are built up front, one after the other.
    repo.reconcile_tree();
    repo.dep_graph();
    // So is what the clusters apply (FV405, FV505, FV701 and others read it), its builds in
    // parallel: asked first by a rule, it kept one worker building and the other waiting.
    if !repo.clusters().is_empty() {
        repo.applied_set();
    }
    timing(|| {
        format!(
            "reconcile tree + dependsOn graph {:.1} ms, {}",
            ms(start.elapsed() - parsed_at),
            rss()
        )
    });
    // One task per rule: the costly ones sit next to each other in code order, and halves of
    // the list would leave one worker idle while the other runs them all.
    let repo_diags: Vec<Vec<Diagnostic>> = rules::RULES
        .par_iter()
        .with_max_len(1)
        .map(|rule| {
            let t = Instant::now();
            let mut out = Vec::new();
            rule.check_repository(&repo, &mut out);
            if t.elapsed().as_micros() > 500 {
                timing(|| format!("{} {:.1} ms", rule.meta().code, ms(t.elapsed())));
            }
            out
        })
        .collect();
    timing(|| {
        format!(
            "read+parse+document rules+index {:.1} ms, repository rules {:.1} ms",
            ms(parsed_at),
            ms(start.elapsed() - parsed_at)
        )
    });
    diagnostics.extend(repo_diags.into_iter().flatten());
    diagnostics.retain_mut(|d| rules::rule_of(d).is_none_or(|r| r.refine(&repo, d)));
    yield_to_friendlier(&repo, &mut diagnostics);
    timing(|| format!("rss after repository rules {}", rss()));

    let config = &repo.config;
    diagnostics.retain_mut(|d| match config.rules.get(d.rule.code) {
        None => true,
        Some(None) => false,
        Some(Some(sev)) => {
            d.severity = *sev;
            true
        }
    });
    suppress::apply(
        &mut diagnostics,
        &repo.files,
        directives,
        |r| config.severity(r.code, r.severity).is_some(),
        |r| config.is_unwaivable(r.code),
    );
    for rule in rules::RULES {
        rule.filter_findings(&repo, &mut diagnostics);
    }
    // The suppressions add findings of their own (unused suppressions): they take their
    // configured severity too (the others have theirs already).
    for d in diagnostics.iter_mut() {
        if let Some(Some(sev)) = config.rules.get(d.rule.code) {
            d.severity = *sev;
        }
    }
    crate::diag::sort(&mut diagnostics);
    Outcome {
        paths: crate::paths::PathDisplay::default(),
        repo,
        diagnostics,
        documents,
        io_problems,
        notices: Vec::new(),
        elapsed: Some(start.elapsed()),
        withheld: Default::default(),
    }
}

/// Whether the config leaves `rule` on.
fn rule_is_on(config: &Config, rule: &RuleMeta) -> bool {
    !matches!(config.rules.get(rule.code), Some(None))
}

/// One problem, one finding: the general rules stand back where a more specific one already
/// reports the same line ([`rules::Rule::yields_to`]).
fn yield_to_friendlier(repo: &Repository, diagnostics: &mut Vec<Diagnostic>) {
    let yields: Vec<(&str, &[&RuleMeta])> = rules::RULES
        .iter()
        .map(|r| (r.meta().code, r.yields_to()))
        .filter(|(_, over)| !over.is_empty())
        .collect();
    let line = |d: &Diagnostic| repo.files[d.file].line_col(d.span.start as usize).line;
    let taken: std::collections::HashSet<(&str, FileId, usize)> = diagnostics
        .iter()
        .filter(|d| {
            yields
                .iter()
                .any(|(_, over)| over.iter().any(|o| o.code == d.rule.code))
        })
        .map(|d| (d.rule.code, d.file, line(d)))
        .collect();
    if taken.is_empty() {
        return;
    }
    diagnostics.retain(|d| {
        let Some((_, over)) = yields.iter().find(|(code, _)| *code == d.rule.code) else {
            return true;
        };
        let at = line(d);
        !over.iter().any(|o| taken.contains(&(o.code, d.file, at)))
    });
}

/// Why the bytes are not YAML text, with the offset of the first offending byte and the
/// text to show (lossy, so the snippet points at the right place).
struct NotText {
    reason: String,
    at: usize,
    shown: String,
}

fn decode(bytes: Vec<u8>) -> Result<String, NotText> {
    if let Some(text) = utf16_text(&bytes) {
        return text;
    }
    let head = &bytes[..bytes.len().min(8192)];
    // `contains` is a vectorised search; the position is looked for only in a binary file.
    if head.contains(&0)
        && let Some(nul) = head.iter().position(|&b| b == 0)
    {
        // Not echoed: binary bytes on a terminal can be escape sequences.
        return Err(NotText {
            reason: format!("binary file (it contains a NUL byte at byte offset {nul})"),
            at: 0,
            shown: String::new(),
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bad = e.as_bytes()[valid];
        let shown = String::from_utf8_lossy(e.as_bytes()).into_owned();
        NotText {
            reason: format!("not UTF-8: byte 0x{bad:02x} is not valid UTF-8 here"),
            at: valid,
            shown,
        }
    })
}

/// Text that starts with a UTF-16 byte order mark, as UTF-8 (without the mark); `None` for any
/// other bytes. kustomize reads such a file (go-yaml decodes UTF-16 after a byte order mark),
/// so Flux applies what it holds. Lines and columns count characters, the same in both.
fn utf16_text(bytes: &[u8]) -> Option<Result<String, NotText>> {
    let little_endian = match bytes {
        [0xff, 0xfe, ..] => true,
        [0xfe, 0xff, ..] => false,
        _ => return None,
    };
    let body = &bytes[2..];
    let not_utf16 = |why: String| NotText {
        reason: format!("UTF-16 text (it starts with a UTF-16 byte order mark) that {why}"),
        at: 0,
        shown: String::new(),
    };
    if body.len() % 2 == 1 {
        return Some(Err(not_utf16(
            "ends in half a character (an odd number of bytes)".into(),
        )));
    }
    let units = body.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if little_endian {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    let mut text = String::with_capacity(body.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok(c) => text.push(c),
            Err(e) => {
                return Some(Err(not_utf16(format!(
                    "holds the unpaired surrogate 0x{:04x} at byte offset {}",
                    e.unpaired_surrogate(),
                    2 + 2 * i
                ))));
            }
        }
    }
    Some(Ok(text))
}

/// The Helm charts among the files: directories holding a `Chart.yaml`. Below one,
/// `templates/` holds Go templates (never YAML until Helm renders them), `files/` the files
/// those templates read through `.Files` (often Go templates themselves, rendered by `tpl`),
/// and `Chart.yaml` and `values*.yaml` are Helm's own files, not Kubernetes objects.
pub struct HelmCharts {
    dirs: std::collections::HashSet<String>,
}

impl HelmCharts {
    pub fn of<'a>(paths: impl Iterator<Item = &'a str>) -> HelmCharts {
        let dirs = paths
            .filter_map(|p| match p.rsplit_once('/') {
                Some((dir, "Chart.yaml")) => Some(dir.to_string()),
                None if p == "Chart.yaml" => Some(String::new()),
                _ => None,
            })
            .collect();
        HelmCharts { dirs }
    }

    /// Whether `path` lies under the `templates/` directory of a chart.
    pub fn is_template(&self, path: &str) -> bool {
        self.is_below(path, "/templates/")
    }

    /// Whether `path` lies under the `files/` directory of a chart.
    pub fn is_chart_file(&self, path: &str) -> bool {
        self.is_below(path, "/files/")
    }

    /// Whether `path` may lie under a chart's `templates/` or `files/` ([`Self::is_template`],
    /// [`Self::is_chart_file`]), before the charts are known: a directory of either name is on
    /// its way.
    pub fn may_be_chart_content(path: &str) -> bool {
        path.split('/')
            .rev()
            .skip(1)
            .any(|dir| dir == "templates" || dir == "files")
    }

    /// Whether `path` lies under the directory `sub` (`/name/`) of a chart.
    fn is_below(&self, path: &str, sub: &str) -> bool {
        if self.dirs.is_empty() {
            return false;
        }
        let with_slash = format!("/{path}");
        with_slash
            .match_indices(sub)
            .any(|(i, _)| self.dirs.contains(with_slash[..i].trim_start_matches('/')))
    }

    /// Whether `path` is a chart's `Chart.yaml` or one of its `values*.yaml` files.
    pub fn is_helm_file(&self, path: &str) -> bool {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        self.dirs.contains(dir)
            && (name == "Chart.yaml"
                || (name.starts_with("values")
                    && (name.ends_with(".yaml") || name.ends_with(".yml"))))
    }
}

/// What a file is to Flux, and so how much of it is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Manifest,
    /// A chart's `Chart.yaml` or `values*.yaml`: parsed, but no Kubernetes object.
    HelmFile,
    /// Hidden from Flux by `.sourceignore`, a `.sourceignore` file, or a file under a chart's
    /// `files/` (read by its templates, often a Go template itself): only searched for
    /// private keys.
    HiddenFromFlux,
}

#[allow(clippy::too_many_arguments)] // each is one fact of the run a parse needs; a struct would only rename them
fn process_file(
    id: FileId,
    display: &str,
    bytes: Vec<u8>,
    trees: Trees,
    limit: u64,
    role: Role,
    record: Option<(&FileMemo, u128)>,
    on: u64,
) -> FileOutcome {
    if role == Role::HiddenFromFlux {
        let source = SourceFile::new(display, String::from_utf8_lossy(&bytes).into_owned());
        let mut diagnostics = Vec::new();
        for rule in rules::RULES {
            rule.check_text(id, &source, &[], &mut diagnostics);
        }
        return FileOutcome {
            directives: suppress::directives(&source, &[]),
            source,
            docs: Vec::new(),
            objects: Vec::new(),
            diagnostics,
            io_problem: None,
        };
    }
    // The git blob id of the bytes, by which a later check replays the file.
    let blob = record.and_then(|_| git2::Oid::hash_object(git2::ObjectType::Blob, &bytes).ok());
    let mut diagnostics = Vec::new();
    if bytes.len() as u64 > limit {
        diagnostics.push(rules::yaml::too_large(id, limit));
        return FileOutcome {
            source: SourceFile::new(display, String::new()),
            docs: Vec::new(),
            objects: Vec::new(),
            diagnostics,
            directives: Vec::new(),
            io_problem: None,
        };
    }
    let text = match decode(bytes) {
        Ok(t) => t,
        Err(not_text) => {
            // The lossy text keeps the valid prefix byte for byte, less a leading BOM.
            let bom = if not_text.shown.starts_with('\u{feff}') {
                3
            } else {
                0
            };
            let source = SourceFile::new(display, not_text.shown);
            let at = not_text.at.saturating_sub(bom).min(source.text.len());
            diagnostics.push(rules::yaml::not_text(
                id,
                crate::source::Span::new(at, next_char_end(&source.text, at)),
                &not_text.reason,
            ));
            return FileOutcome {
                source,
                docs: Vec::new(),
                objects: Vec::new(),
                diagnostics,
                directives: Vec::new(),
                io_problem: None,
            };
        }
    };
    let source = SourceFile::new(display, text);
    let stream = parse_source(&source.text);
    let _ = source
        .yaml_rejection
        .set(crate::model::build::yaml_rejection(&stream.problems));
    rules::yaml::problems_to_diagnostics(id, &stream.problems, &mut diagnostics);
    if role == Role::HelmFile {
        // Read by Helm, not applied: its YAML must still parse, and a private key committed
        // in it leaks all the same, but it declares no object.
        for rule in rules::RULES {
            rule.check_text(id, &source, &[], &mut diagnostics);
        }
        return FileOutcome {
            directives: suppress::directives(
                &source,
                &suppress::text_spans(&source, &stream.documents),
            ),
            source,
            docs: Vec::new(),
            objects: Vec::new(),
            diagnostics,
            io_problem: None,
        };
    }
    let objects = Object::all_of(id, &stream.documents);
    // Slot → object, so 60,000 documents do not mean 60,000 scans of the object list.
    let mut object_of: Vec<Option<&Object>> = vec![None; stream.documents.len()];
    for o in &objects {
        if let Some(slot) = object_of.get_mut(o.doc) {
            *slot = Some(o);
        }
    }
    let mut marks = vec![0u64; stream.documents.len()];
    for (slot, doc) in stream.documents.iter().enumerate() {
        let flux = rules::schema::flux_doc_of(object_of[slot], doc);
        let cx = DocContext {
            file_id: id,
            file: &source,
            doc,
            object: object_of[slot],
            flux,
        };
        for rule in rules::RULES {
            rule.check_document(&cx, &mut diagnostics);
        }
        for (i, rule) in rules::RULES.iter().enumerate() {
            if on & (1 << i) != 0 && rule.marks(&cx) {
                marks[slot] |= 1 << i;
            }
        }
    }
    for rule in rules::RULES {
        rule.check_text(id, &source, &stream.documents, &mut diagnostics);
    }
    let directives = if source.text.contains("fluxvet-ignore") {
        suppress::directives(&source, &suppress::text_spans(&source, &stream.documents))
    } else {
        Vec::new()
    };
    let mut docs: Vec<DocEntry> = stream
        .documents
        .into_iter()
        .enumerate()
        .map(|(slot, doc)| DocEntry::new(id, doc, marks[slot]))
        .collect();
    if let Some((memo, context)) = record
        && let Some(blob) = blob
    {
        memo.record(
            id,
            blob,
            context,
            &source,
            &docs,
            &objects,
            &diagnostics,
            &directives,
        );
    }
    release_unread_trees(display, &mut docs, &objects, trees);
    FileOutcome {
        source,
        docs,
        objects,
        diagnostics,
        directives,
        io_problem: None,
    }
}

/// A file parsed for the model alone ([`CheckOptions::model_only`]): its documents and
/// objects, no finding. What declares no object (a file too large, not text, a Helm chart's
/// own file, a file `.sourceignore` hides) has no documents; its text is kept as
/// [`process_file`] keeps it, since a build may still read it (a `configMapGenerator` of a
/// chart's `values.yaml`).
fn parse_file(id: FileId, display: &str, bytes: Vec<u8>, limit: u64, role: Role) -> FileOutcome {
    let empty = |source: SourceFile| FileOutcome {
        source,
        docs: Vec::new(),
        objects: Vec::new(),
        diagnostics: Vec::new(),
        directives: Vec::new(),
        io_problem: None,
    };
    if role == Role::HiddenFromFlux {
        return empty(SourceFile::new(
            display,
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    if bytes.len() as u64 > limit {
        return empty(SourceFile::new(display, String::new()));
    }
    let text = match decode(bytes) {
        Ok(t) => t,
        Err(not_text) => return empty(SourceFile::new(display, not_text.shown)),
    };
    if role == Role::HelmFile {
        return empty(SourceFile::new(display, text));
    }
    let source = SourceFile::new(display, text);
    let stream = parse_source(&source.text);
    let _ = source
        .yaml_rejection
        .set(crate::model::build::yaml_rejection(&stream.problems));
    let objects = Object::all_of(id, &stream.documents);
    let docs = stream
        .documents
        .into_iter()
        .map(|doc| DocEntry::new(id, doc, 0))
        .collect();
    FileOutcome {
        source,
        docs,
        objects,
        diagnostics: Vec::new(),
        directives: Vec::new(),
        io_problem: None,
    }
}

/// With [`Trees::RulesNeed`], frees the trees nothing reads after the document rules.
fn release_unread_trees(display: &str, docs: &mut [DocEntry], objects: &[Object], trees: Trees) {
    if trees != Trees::RulesNeed {
        return;
    }
    let mut object_of: Vec<Option<&Object>> = vec![None; docs.len()];
    for o in objects {
        if let Some(slot) = object_of.get_mut(o.doc) {
            *slot = Some(o);
        }
    }
    for (slot, entry) in docs.iter_mut().enumerate() {
        if !crate::model::index::read_after_document_rules(
            display,
            object_of[slot],
            entry,
            rules::kinds_read_by_name(),
        ) {
            entry.doc.release_tree();
        }
    }
}

/// A file the memo knew: its recorded documents and findings, without parsing it again.
fn replayed_file(r: crate::memo::Replayed, trees: Trees) -> FileOutcome {
    let mut docs = r.docs;
    release_unread_trees(&r.source.path, &mut docs, &r.objects, trees);
    FileOutcome {
        source: r.source,
        docs,
        objects: r.objects,
        diagnostics: r.diagnostics,
        directives: r.directives,
        io_problem: None,
    }
}

fn next_char_end(text: &str, at: usize) -> usize {
    match text[at..].chars().next() {
        Some('\n') | None => at,
        Some(c) => at + c.len_utf8(),
    }
}

/// Checks in-memory files as if they were the whole repository (tests, fuzzing). Files whose
/// names are not manifests exist in the tree but are not parsed.
pub fn check_memory(files: &[(&str, &str)], config: Config) -> Outcome {
    check_memory_with(files, config, Trees::RulesNeed)
}

/// [`check_memory`] keeping the trees `trees` says.
pub fn check_memory_with(files: &[(&str, &str)], config: Config, trees: Trees) -> Outcome {
    let tree = crate::fs::MemoryTree {
        files: files.iter().map(|(p, _)| p.to_string()).collect(),
    };
    let mut inputs: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|(p, _)| {
            crate::discover::is_manifest_name(p.rsplit('/').next().unwrap_or(p))
                || crate::discover::is_sourceignore(p)
        })
        .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
        .collect();
    inputs.sort_by(|a, b| a.0.cmp(&b.0));
    run(
        PathBuf::from("."),
        inputs,
        |b: &Vec<u8>| Ok(b.clone()),
        Box::new(tree),
        config,
        trees,
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The resident set now and at its peak (Linux; empty elsewhere).
fn rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .collect::<Vec<_>>()
        .join(" ")
}
