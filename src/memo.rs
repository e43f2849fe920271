//! What one check learnt about each file (its parsed documents, objects and document-rule
//! findings), for a second check of mostly the same files: `--changed-since` checks the new tree
//! recording, then the old tree replaying every file whose path and bytes are unchanged instead
//! of parsing it again. Repository rules still run on each tree in full: they judge the files
//! together, and a change to one file changes findings in others.
//!
//! The document rules see one document at a time and no config, so a file's document findings
//! depend on its path and bytes alone, and replaying them is exact.
//!
//! A lasting memo ([`FileMemo::lasting`]) serves a session that checks the same repository over
//! and over (the language server, [`crate::session`]): it replays every file it knows with the
//! same bytes and records every file it had to parse, so an edit parses the edited file alone.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use git2::Oid;

use crate::diag::{Diagnostic, FileId};
use crate::model::index::{DocEntry, Object};
use crate::source::SourceFile;
use crate::suppress::Directive;

/// The git blob id of an input whose bytes are known without reading them (a blob of a
/// commit or of the index), `None` for a file on disk.
pub type BlobOf<'a, H> = dyn Fn(&H) -> Option<Oid> + Sync + 'a;

#[derive(Default)]
pub struct FileMemo {
    /// Path → the blob id of the recorded bytes, the rest of what decided the outcome (the
    /// file's role in its tree, the size limit) and what the check made of them.
    files: RwLock<HashMap<std::sync::Arc<str>, (Oid, u128, Recorded)>>,
    /// Set once the recording check is done: later checks replay.
    sealed: AtomicBool,
    /// Records and replays in every check, and keeps what it replays ([`FileMemo::lasting`]).
    lasting: bool,
    /// How many files were recorded (parsed) so far.
    records: std::sync::atomic::AtomicUsize,
}

#[derive(Clone)]
struct Recorded {
    id: FileId,
    source: SourceFile,
    /// Every tree whole, as the document rules saw it.
    docs: Vec<DocEntry>,
    objects: Vec<Object>,
    diagnostics: Vec<Diagnostic>,
    directives: Vec<Directive>,
}

/// A replayed file, its ids those of the replaying check.
pub struct Replayed {
    pub source: SourceFile,
    pub docs: Vec<DocEntry>,
    pub objects: Vec<Object>,
    pub diagnostics: Vec<Diagnostic>,
    pub directives: Vec<Directive>,
}

impl FileMemo {
    pub fn new() -> FileMemo {
        FileMemo::default()
    }

    /// A memo for checks of the same repository one after the other: each replays the files
    /// recorded with the same bytes (a copy: the next check replays them again) and records the
    /// others.
    pub fn lasting() -> FileMemo {
        FileMemo {
            lasting: true,
            ..FileMemo::default()
        }
    }

    pub fn recording(&self) -> bool {
        self.lasting || !self.sealed.load(Ordering::Relaxed)
    }

    fn replaying(&self) -> bool {
        self.lasting || self.sealed.load(Ordering::Relaxed)
    }

    /// Forgets the files not in `keep` (a lasting memo's files that were deleted or renamed).
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        if let Ok(mut files) = self.files.write() {
            files.retain(|path, _| keep(path));
        }
    }

    /// Ends the recording: checks run with this memo from now on replay.
    pub fn seal(&self) {
        self.sealed.store(true, Ordering::Relaxed);
    }

    /// Records what the check made of file `id`, whose bytes have the git blob id `blob`, in
    /// `context` (whatever else decided it).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        id: FileId,
        blob: Oid,
        context: u128,
        source: &SourceFile,
        docs: &[DocEntry],
        objects: &[Object],
        diagnostics: &[Diagnostic],
        directives: &[Directive],
    ) {
        let recorded = Recorded {
            id,
            source: source.clone(),
            docs: docs.to_vec(),
            objects: objects.to_vec(),
            diagnostics: diagnostics.to_vec(),
            directives: directives.to_vec(),
        };
        if let Ok(mut files) = self.files.write() {
            files.insert(source.path.clone(), (blob, context, recorded));
        }
        self.records.fetch_add(1, Ordering::Relaxed);
    }

    /// How many files were recorded so far: the files the checks with this memo parsed.
    pub fn records(&self) -> usize {
        self.records.load(Ordering::Relaxed)
    }

    /// Whether a replaying check knows `path` with the bytes of `blob` (and need not read them).
    pub fn knows(&self, path: &str, blob: Oid) -> bool {
        self.replaying()
            && self
                .files
                .read()
                .is_ok_and(|f| f.get(path).is_some_and(|(b, _, _)| *b == blob))
    }

    /// The recorded outcome of `path` when its bytes are those of `blob` and it was checked in
    /// the same `context`, renumbered as file `id`. Taken out of the memo (a check reads each
    /// file once), but for a lasting memo, which keeps it for the next check.
    pub fn replay(&self, id: FileId, path: &str, blob: Oid, context: u128) -> Option<Replayed> {
        if !self.replaying() {
            return None;
        }
        let r = if self.lasting {
            let files = self.files.read().ok()?;
            let (b, c, r) = files.get(path)?;
            if *b != blob || *c != context {
                return None;
            }
            r.clone()
        } else {
            let (b, c, r) = self.files.write().ok()?.remove(path)?;
            if b != blob || c != context {
                return None;
            }
            r
        };
        let renumber = |f: FileId| if f == r.id { id } else { f };
        let mut docs = r.docs;
        for d in &mut docs {
            d.file = renumber(d.file);
        }
        let mut objects = r.objects;
        for o in &mut objects {
            o.file = renumber(o.file);
        }
        let mut diagnostics = r.diagnostics;
        for d in &mut diagnostics {
            d.file = renumber(d.file);
            for l in &mut d.labels {
                l.file = renumber(l.file);
            }
        }
        Some(Replayed {
            source: r.source,
            docs,
            objects,
            diagnostics,
            directives: r.directives,
        })
    }
}
