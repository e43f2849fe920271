//! What the repository looks like on disk (or in a git tree, or as an editor shows it), for rules
//! that check that a path exists. Paths are relative to the scanned root, `/`-separated.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

pub trait TreeView: Sync + Send {
    fn is_file(&self, rel: &str) -> bool;
    fn is_dir(&self, rel: &str) -> bool;
    /// Names of the entries of a directory, sorted; empty when it is not one.
    fn list_dir(&self, rel: &str) -> Vec<String>;
    fn exists(&self, rel: &str) -> bool {
        self.is_file(rel) || self.is_dir(rel)
    }
    /// The bytes of a file that is not a manifest (a secretGenerator `.env` file); `None`
    /// when this view cannot read files or the file is missing or larger than 1 MiB.
    fn read(&self, _rel: &str) -> Option<Vec<u8>> {
        None
    }
}

pub struct WorkTree {
    pub root: PathBuf,
    /// What a path is on disk, by relative path: rules ask about the same paths many times
    /// (every copy of a layout, three kustomization file names per directory), and each
    /// answer is otherwise a `stat`.
    kinds: Mutex<HashMap<Box<str>, DiskKind, foldhash::fast::RandomState>>,
    /// Directory listings, by relative path: rules that look for files beside or above the
    /// ones they judge (`.tf` files, templates) list the same directories once per file.
    listings: Mutex<HashMap<Box<str>, Vec<String>, foldhash::fast::RandomState>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DiskKind {
    File,
    Dir,
    /// Missing, or neither (a FIFO, a broken symlink).
    Other,
}

impl WorkTree {
    pub fn new(root: PathBuf) -> WorkTree {
        WorkTree {
            root,
            kinds: Mutex::default(),
            listings: Mutex::default(),
        }
    }

    /// Records what discovery already saw: these files exist, so do their directories. Spares
    /// a `stat` for most paths the rules ask about.
    pub fn know_files<'a>(&self, rels: impl IntoIterator<Item = &'a str>) {
        let Ok(mut m) = self.kinds.lock() else { return };
        let rels = rels.into_iter();
        // Room for the directories and for the paths rules ask about that do not exist (three
        // kustomization file names per directory): growing the map later rehashes every path.
        m.reserve(rels.size_hint().0.saturating_mul(3));
        for rel in rels {
            m.insert(rel.into(), DiskKind::File);
            let mut dir = rel;
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if m.insert(parent.into(), DiskKind::Dir).is_some() {
                    break;
                }
                dir = parent;
            }
        }
    }

    /// `Path::is_file`/`is_dir` (symlinks followed), asked once per path.
    fn kind(&self, rel: &str) -> DiskKind {
        if let Some(&k) = self
            .kinds
            .lock()
            .ok()
            .and_then(|m| m.get(rel).copied())
            .as_ref()
        {
            return k;
        }
        let k = match std::fs::metadata(self.abs(rel)) {
            Ok(m) if m.is_file() => DiskKind::File,
            Ok(m) if m.is_dir() => DiskKind::Dir,
            _ => DiskKind::Other,
        };
        if let Ok(mut m) = self.kinds.lock() {
            m.insert(rel.into(), k);
        }
        k
    }

    fn abs(&self, rel: &str) -> PathBuf {
        let rel = rel.trim_start_matches("./");
        if rel.is_empty() || rel == "." {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }
}

impl TreeView for WorkTree {
    fn is_file(&self, rel: &str) -> bool {
        self.kind(rel) == DiskKind::File
    }
    fn is_dir(&self, rel: &str) -> bool {
        self.kind(rel) == DiskKind::Dir
    }
    fn list_dir(&self, rel: &str) -> Vec<String> {
        if let Some(names) = self.listings.lock().ok().and_then(|m| m.get(rel).cloned()) {
            return names;
        }
        let mut names: Vec<String> = std::fs::read_dir(self.abs(rel))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        if let Ok(mut m) = self.listings.lock() {
            m.insert(rel.into(), names.clone());
        }
        names
    }
    fn read(&self, rel: &str) -> Option<Vec<u8>> {
        let path = self.abs(rel);
        if std::fs::metadata(&path).ok()?.len() > 1 << 20 {
            return None;
        }
        std::fs::read(path).ok()
    }
}

/// Joins a relative reference onto a directory and folds `.` and `..`; `None` when it climbs
/// above the root.
pub fn join_normalized(dir: &str, reference: &str) -> Option<String> {
    // Built in place, without a list of segments: rules join every reference they check.
    let mut out = String::with_capacity(dir.len() + reference.len() + 1);
    let push = |out: &mut String, segment: &str| {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(segment);
    };
    if !reference.starts_with('/') {
        for p in dir.split('/').filter(|p| !p.is_empty()) {
            push(&mut out, p);
        }
    }
    for p in reference.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if out.is_empty() {
                    return None;
                }
                // Segments hold no `/`, so the last one starts after the last `/`.
                let keep = out.rfind('/').unwrap_or(0);
                out.truncate(keep);
            }
            _ => push(&mut out, p),
        }
    }
    Some(out)
}

/// The working tree as the editor shows it: files it holds unsaved are read from its buffers,
/// and new files not yet saved are in their directories.
pub(crate) struct BufferTree {
    disk: WorkTree,
    new_files: MemoryTree,
    buffers: HashMap<String, String>,
}

impl BufferTree {
    /// The work tree `disk` with `new_files` (root-relative paths of files not on disk yet) in
    /// their directories, and `buffers` (root-relative path → text) read in place of files.
    pub(crate) fn new(
        disk: WorkTree,
        new_files: Vec<String>,
        buffers: HashMap<String, String>,
    ) -> BufferTree {
        BufferTree {
            disk,
            new_files: MemoryTree { files: new_files },
            buffers,
        }
    }
}

impl TreeView for BufferTree {
    fn is_file(&self, rel: &str) -> bool {
        self.disk.is_file(rel) || self.new_files.is_file(rel)
    }
    fn is_dir(&self, rel: &str) -> bool {
        self.disk.is_dir(rel) || (!self.new_files.files.is_empty() && self.new_files.is_dir(rel))
    }
    fn list_dir(&self, rel: &str) -> Vec<String> {
        let mut names = self.disk.list_dir(rel);
        if !self.new_files.files.is_empty() {
            names.extend(self.new_files.list_dir(rel));
            names.sort();
            names.dedup();
        }
        names
    }
    fn read(&self, rel: &str) -> Option<Vec<u8>> {
        match self.buffers.get(rel) {
            // The same limit as a file on disk.
            Some(text) if text.len() <= 1 << 20 => Some(text.as_bytes().to_vec()),
            Some(_) => None,
            None => self.disk.read(rel),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn joins() {
        assert_eq!(join_normalized("a/b", "../c").as_deref(), Some("a/c"));
        assert_eq!(
            join_normalized("a", "./x/y.yaml").as_deref(),
            Some("a/x/y.yaml")
        );
        assert_eq!(join_normalized("", ".."), None);
        assert_eq!(join_normalized("a/b", "../.."), Some(String::new()));
        assert_eq!(
            join_normalized("a//b/", "./c/../d/").as_deref(),
            Some("a/b/d")
        );
        assert_eq!(join_normalized("a/..", "..").as_deref(), Some("a"));
        assert_eq!(join_normalized("a", "/x/./y").as_deref(), Some("x/y"));
        assert_eq!(join_normalized("a", "../../b"), None);
    }
}

/// A tree with no files, or the given ones, for in-memory checks.
#[derive(Default)]
pub struct MemoryTree {
    pub files: Vec<String>,
}

impl TreeView for MemoryTree {
    fn is_file(&self, rel: &str) -> bool {
        self.files.iter().any(|f| f == rel)
    }
    fn is_dir(&self, rel: &str) -> bool {
        let prefix = format!("{}/", rel.trim_end_matches('/'));
        rel.is_empty() || self.files.iter().any(|f| f.starts_with(&prefix))
    }
    fn list_dir(&self, rel: &str) -> Vec<String> {
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{}/", rel.trim_end_matches('/'))
        };
        let mut names: Vec<String> = self
            .files
            .iter()
            .filter_map(|f| f.strip_prefix(&prefix))
            .map(|r| r.split('/').next().unwrap_or(r).to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}
