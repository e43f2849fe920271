//! A repository kept in memory and checked again and again, some of its files read from an
//! editor's unsaved buffers instead of the disk: what `fluxvet lsp` asks after every edit.
//!
//! A check of a session is `fluxvet check ROOT` with the buffers in place of their files (as
//! `check - --stdin-filename` puts one document in place of its file), and gives the same
//! findings. What makes it fast is a lasting [`FileMemo`]: a file whose bytes were parsed
//! before, on disk or in a buffer, is replayed (its documents, objects and document-rule
//! findings) instead of parsed again, so an edit parses the edited file alone; the repository
//! model (index, clusters, builds, reconcile tree, dependsOn graph) and the repository rules
//! are then built from those files. A file on disk is known by its size and modification time,
//! so a check reads only the files that changed on disk since the last one.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use git2::Oid;

use crate::config::Config;
use crate::engine::{self, Fatal, Outcome, Trees};
use crate::fs::{BufferTree, WorkTree};
use crate::memo::FileMemo;

/// Where a check reads one file from.
enum Input {
    Disk(PathBuf),
    /// An editor's buffer (the text as it holds it, a byte order mark included).
    Buffer(String),
}

pub struct Session {
    /// Canonical.
    root: PathBuf,
    config: Config,
    /// The files `fluxvet check ROOT` reads: (absolute path, root-relative path), sorted.
    files: Vec<(PathBuf, String)>,
    /// Files `.sourceignore` hides from Flux that hold a private key (searched, not parsed).
    hidden: Vec<(PathBuf, String)>,
    memo: FileMemo,
    /// Root-relative path → the size and modification time of the file on disk when it was
    /// last read, and the git blob id of what was read.
    stamps: Mutex<HashMap<String, (u64, SystemTime, Oid)>>,
    /// Set when a check found a file of the list gone: the next check discovers again.
    stale: std::sync::atomic::AtomicBool,
}

impl Session {
    /// Opens the repository at `root` with `config` (the caller loads it, see
    /// [`engine::load_config`]), and finds its files.
    pub fn open(root: &Path, config: Config) -> Result<Session, Fatal> {
        let root = root.canonicalize().map_err(|e| {
            Fatal(format!(
                "{}: {}",
                root.display(),
                crate::discover::io_cause(&e)
            ))
        })?;
        let mut session = Session {
            root,
            config,
            files: Vec::new(),
            hidden: Vec::new(),
            memo: FileMemo::lasting(),
            stamps: Mutex::default(),
            stale: Default::default(),
        };
        session.discover()?;
        Ok(session)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A new config (`.fluxvet.yaml` changed): its `exclude` may change the files, so they are
    /// found again.
    pub fn set_config(&mut self, config: Config) -> Result<(), Fatal> {
        self.config = config;
        self.discover()
    }

    /// Finds the files again (files were created, deleted or renamed).
    pub fn discover(&mut self) -> Result<(), Fatal> {
        let roots = [self.root.clone()];
        let found =
            crate::discover::discover(&self.root, &roots, &self.config.exclude).map_err(Fatal)?;
        self.hidden = engine::sourceignored_private_keys(
            &self.root,
            &roots,
            &self.config.exclude,
            &found.files,
        );
        // Read, never parsed, as `check` does: FV403/FV404 point at the line that hides a path.
        self.hidden.extend(engine::sourceignore_files(&self.root));
        self.files = found.files;
        self.stale
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let known: HashSet<&str> = self
            .files
            .iter()
            .chain(&self.hidden)
            .map(|(_, rel)| rel.as_str())
            .collect();
        self.memo.retain(|p| known.contains(p));
        if let Ok(mut stamps) = self.stamps.lock() {
            stamps.retain(|p, _| known.contains(p.as_str()));
        }
        Ok(())
    }

    /// Whether the root-relative `rel` is one of the files a check reads.
    pub fn has_file(&self, rel: &str) -> bool {
        self.files
            .binary_search_by(|(_, r)| r.as_str().cmp(rel))
            .is_ok()
    }

    /// The root-relative path of `path` when it lies below the root.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let rel = rel.to_str()?.replace('\\', "/");
        (!rel.is_empty()).then_some(rel)
    }

    /// Checks the repository with `buffers` (root-relative path → text) in place of the files
    /// they name. A buffer of a file the repository does not check (not a manifest, hidden,
    /// excluded, ignored) is not checked either; a buffer of a file that is not on disk yet is
    /// checked when a new file of its name would be.
    pub fn check(&self, buffers: &HashMap<String, String>) -> Outcome {
        let mut inputs: Vec<(String, Input)> = Vec::with_capacity(self.files.len() + 1);
        for (abs, rel) in self.files.iter().chain(&self.hidden) {
            let input = match buffers.get(rel) {
                Some(text) => Input::Buffer(text.clone()),
                None => Input::Disk(abs.clone()),
            };
            inputs.push((rel.clone(), input));
        }
        let new_files = crate::discover::FileRules::new(&self.config.exclude, &[]).ok();
        for (rel, text) in buffers {
            let is_new = !self.has_file(rel)
                && !self.root.join(rel).exists()
                && new_files.as_ref().is_some_and(|r| r.admits(rel));
            if is_new {
                inputs.push((rel.clone(), Input::Buffer(text.clone())));
            }
        }
        inputs.sort_by(|a, b| a.0.cmp(&b.0));
        // A file deleted since discovery is not a file of the repository any more.
        let gone: HashSet<String> = inputs
            .iter()
            .filter(|(_, i)| matches!(i, Input::Disk(p) if std::fs::symlink_metadata(p).is_err()))
            .map(|(rel, _)| rel.clone())
            .collect();
        if !gone.is_empty() {
            inputs.retain(|(rel, _)| !gone.contains(rel));
            self.stale.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let disk = WorkTree::new(self.root.clone());
        disk.know_files(inputs.iter().map(|(rel, _)| rel.as_str()));
        let new_files = inputs
            .iter()
            .filter(|(rel, i)| matches!(i, Input::Buffer(_)) && !self.has_file(rel))
            .map(|(rel, _)| rel.clone())
            .collect();
        let tree = Box::new(BufferTree::new(disk, new_files, buffers.clone()));
        let hidden: HashSet<String> = self.hidden.iter().map(|(_, rel)| rel.clone()).collect();
        let limit = self.config.max_file_size;
        let read = |input: &Input| -> std::io::Result<Vec<u8>> {
            match input {
                Input::Buffer(text) => Ok(text.as_bytes().to_vec()),
                Input::Disk(path) => self.read_disk(path, limit).map(|(bytes, _)| bytes),
            }
        };
        // The blob id a file is replayed by: a buffer's is hashed; a file on disk whose size
        // and modification time are as last read has the id then computed, any other is read
        // and hashed (not parsed: the memo may know those bytes).
        let blob_of = |input: &Input| -> Option<Oid> {
            match input {
                Input::Buffer(text) => {
                    Oid::hash_object(git2::ObjectType::Blob, text.as_bytes()).ok()
                }
                Input::Disk(path) => {
                    let known = disk_stamp(path).and_then(|(len, modified)| {
                        let stamps = self.stamps.lock().ok()?;
                        let &(l, m, blob) = stamps.get(&self.relative(path)?)?;
                        (l == len && m == modified).then_some(blob)
                    });
                    known.or_else(|| self.read_disk(path, limit).ok().map(|(_, blob)| blob))
                }
            }
        };
        engine::run_with_hidden(
            self.root.clone(),
            inputs,
            engine::Prepared::new(),
            read,
            tree,
            self.config.clone(),
            Trees::RulesNeed,
            &hidden,
            Some((&self.memo, &blob_of)),
            false,
        )
    }

    /// Reads a file of the repository (at most one byte past `limit`, as `check` does) and
    /// hashes it; remembers its size and modification time with the blob id once it has settled.
    fn read_disk(&self, path: &Path, limit: u64) -> std::io::Result<(Vec<u8>, Oid)> {
        // Taken before the read: a write during it leaves a stamp the next check finds out of
        // date.
        let stamp = disk_stamp(path).filter(|(_, modified)| settled(*modified));
        let bytes = engine::read_capped(path, limit)?;
        let blob =
            Oid::hash_object(git2::ObjectType::Blob, &bytes).map_err(std::io::Error::other)?;
        if let Some((len, modified)) = stamp
            && let Some(rel) = self.relative(path)
            && let Ok(mut stamps) = self.stamps.lock()
        {
            stamps.insert(rel, (len, modified, blob));
        }
        Ok((bytes, blob))
    }

    /// How many files this session has parsed (the others it replayed).
    pub fn parsed(&self) -> usize {
        self.memo.records()
    }

    /// Whether a check found a file of the list gone from the disk: [`Session::discover`] again.
    pub fn needs_discovery(&self) -> bool {
        self.stale.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Whether a modification time is old enough that a write within the same tick of the file
/// system's clock can no longer follow unseen (git's "racy clean" problem): a file changed in the
/// last two seconds is read again by every check until it settles.
fn settled(modified: SystemTime) -> bool {
    SystemTime::now()
        .duration_since(modified)
        .is_ok_and(|age| age.as_secs() >= 2)
}

/// A file's size and modification time, by which an unchanged file is known without reading it.
fn disk_stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::BOOTSTRAP_SYNC;

    const APPS: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  dependsOn:
    - name: infra
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";
    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: default\ndata:\n  a: \"1\"\n";

    /// Writes `files` below `dir`, dated an hour ago (settled, as a checkout is).
    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (rel, text) in files {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(SystemTime::now() - std::time::Duration::from_secs(3600))
                .unwrap();
        }
    }

    fn findings(o: &Outcome) -> Vec<(String, &'static str, u32, u32, String)> {
        o.diagnostics
            .iter()
            .map(|d| {
                (
                    o.repo.files[d.file].path.to_string(),
                    d.rule.code,
                    d.span.start,
                    d.span.end,
                    d.message.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn an_edit_parses_one_file_and_finds_what_check_finds() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            (
                "clusters/production/flux-system/gotk-sync.yaml",
                BOOTSTRAP_SYNC,
            ),
            ("clusters/production/apps.yaml", APPS),
            ("apps/cm.yaml", CM),
        ];
        write(dir.path(), &files);
        let s = Session::open(dir.path(), Config::default()).unwrap();
        let first = s.check(&HashMap::new());
        assert_eq!(s.parsed(), 3, "the first check parses every file");
        // `infra` is nowhere: FV301 in apps.yaml.
        assert!(findings(&first).iter().any(|f| f.1 == "FV301"));
        let again = s.check(&HashMap::new());
        assert_eq!(s.parsed(), 3, "nothing changed: every file replayed");
        assert_eq!(findings(&again), findings(&first));

        // A buffer in place of apps/cm.yaml: that file alone is parsed, and the findings are
        // those of `check` on a tree holding the buffer's text.
        let edited = format!("{CM}  a: \"2\"\n");
        let buffers = HashMap::from([("apps/cm.yaml".to_string(), edited.clone())]);
        let with_buffer = s.check(&buffers);
        assert_eq!(s.parsed(), 4);
        let copy = tempfile::tempdir().unwrap();
        let mut copied = files.to_vec();
        copied[2].1 = &edited;
        write(copy.path(), &copied);
        let expected = crate::engine::check(&crate::engine::CheckOptions {
            paths: vec![copy.path().to_path_buf()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(findings(&with_buffer), findings(&expected));
        assert!(findings(&with_buffer).iter().any(|f| f.1 == "FV102"));
        s.check(&buffers);
        assert_eq!(s.parsed(), 4, "the same buffer again: replayed");

        // A file changed on disk is parsed again (its size or time changed), the others not.
        write(
            dir.path(),
            &[(
                "clusters/production/apps.yaml",
                &APPS.replace("infra", "apps"),
            )],
        );
        let on_disk = s.check(&buffers);
        assert_eq!(s.parsed(), 5);
        let codes: Vec<&str> = findings(&on_disk).iter().map(|f| f.1).collect();
        assert!(
            !codes.contains(&"FV301") && codes.contains(&"FV302"),
            "{codes:?}"
        );
    }

    #[test]
    fn new_unsaved_files_are_checked_and_deleted_files_dropped() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (
                    "clusters/production/flux-system/gotk-sync.yaml",
                    BOOTSTRAP_SYNC,
                ),
                ("clusters/production/apps.yaml", APPS),
                ("apps/cm.yaml", CM),
            ],
        );
        let mut s = Session::open(dir.path(), Config::default()).unwrap();
        // A new file in a directory Flux builds without a kustomization.yaml: the generated
        // kustomization takes it, so it is judged as applied (FV102, not FV105's info).
        let new = format!("{}  a: \"2\"\n", CM.replace("name: cm", "name: cm2"));
        let o = s.check(&HashMap::from([("apps/new.yaml".to_string(), new)]));
        let codes: Vec<(String, &str)> = findings(&o).into_iter().map(|f| (f.0, f.1)).collect();
        assert!(
            codes.contains(&("apps/new.yaml".to_string(), "FV102")),
            "{codes:?}"
        );
        assert!(!codes.iter().any(|c| c.1 == "FV105"), "{codes:?}");
        // A buffer of a hidden file is not checked.
        let o = s.check(&HashMap::from([(
            ".github/x.yaml".to_string(),
            "a: 1\na: 2\n".to_string(),
        )]));
        assert!(findings(&o).iter().all(|f| f.0 != ".github/x.yaml"));
        // Deleted: gone from the check, and found so at the next discovery.
        std::fs::remove_file(dir.path().join("apps/cm.yaml")).unwrap();
        let o = s.check(&HashMap::new());
        assert!(o.repo.file_id("apps/cm.yaml").is_none());
        assert!(s.needs_discovery());
        s.discover().unwrap();
        assert!(!s.has_file("apps/cm.yaml") && !s.needs_discovery());
    }
}
