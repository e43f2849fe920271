//! What source-controller leaves out of the artifact it makes of this repository, so that a
//! path that exists in Git is still not found by kustomize-controller (fluxcd/pkg
//! `sourceignore`, source-controller's `GitRepository` reconciler):
//! - `.sourceignore` files in any directory, each governing the paths below it;
//! - the source's `spec.ignore`, read after them (it wins over them, `!pattern` included);
//! - the defaults (`*.jpg`, `*.png`, `*.zip`, `*.tar.gz`, …, CI files such as `.github/`,
//!   `cloudbuild.yaml`, and `.sops.yaml`), only when neither a `.sourceignore` file nor
//!   `spec.ignore` has a pattern: either replaces them (VCS files stay out in every case).
//!
//! The matcher is discovery's ([`crate::discover::SourceIgnores`]), so a file discovery
//! leaves out and a path these rules call excluded agree.

use crate::diag::FileId;
use crate::discover::{FLUX_DEFAULT_IGNORE, IgnoreFile, SourceIgnores, Verdict};
use crate::model::index::{Object, Repository, SourceKey};
use crate::source::Span;

/// One source's artifact filter.
pub struct Artifact {
    files: SourceIgnores,
    /// The source's `spec.ignore`: its patterns, the file and the span of the value.
    spec: Option<(IgnoreFile, FileId, Span, String)>,
    defaults: Option<IgnoreFile>,
}

/// Where the pattern that leaves a path out is written.
pub struct Exclusion {
    /// The file and span to label (the pattern's line), when fluxvet read that file.
    pub at: Option<(FileId, Span)>,
    /// "`.sourceignore` line 3 (`archive/`)", for the message.
    pub described: String,
}

impl Artifact {
    /// The filter of `source` (a GitRepository or OCIRepository defined in the repository),
    /// or of any source of this repository when `None`: `.sourceignore` files and defaults.
    pub fn of(repo: &Repository, source: Option<&Object>) -> Artifact {
        let files = SourceIgnores::new(
            repo.files
                .iter()
                .filter(|f| crate::discover::is_sourceignore(&f.path))
                .map(|f| (&*f.path, &*f.text)),
        );
        let spec = source.and_then(|s| {
            let node = repo.node(s).path(&["spec", "ignore"])?;
            let text = node.as_str()?;
            let ignore = IgnoreFile::new("", text)?;
            let what = format!("`spec.ignore` of {} `{}`", s.kind, s.name);
            Some((ignore, s.file, node.span(), what))
        });
        let has_patterns = !files.is_empty() || spec.as_ref().is_some_and(|(i, ..)| !i.is_empty());
        let defaults = (!has_patterns)
            .then(|| IgnoreFile::new("", FLUX_DEFAULT_IGNORE))
            .flatten();
        Artifact {
            files,
            spec,
            defaults,
        }
    }

    /// Why a Flux Kustomization's source leaves `rel` out: judged with each definition of
    /// that source the Kustomization's clusters apply (two clusters may each define
    /// `flux-system` with their own `spec.ignore`), reported when every one leaves it out.
    pub fn excluded_for(
        repo: &Repository,
        ks: &Object,
        rel: &str,
        is_dir: bool,
    ) -> Option<Exclusion> {
        let sources = sources_of(repo, ks);
        if sources.is_empty() {
            return Artifact::of(repo, None).excludes(repo, rel, is_dir);
        }
        let mut first = None;
        for source in sources {
            let why = Artifact::of(repo, Some(source)).excludes(repo, rel, is_dir)?;
            first.get_or_insert(why);
        }
        first
    }

    /// Why root-relative `rel` (a directory when `is_dir`) is not in the artifact; `None` when
    /// it is.
    pub fn excludes(&self, repo: &Repository, rel: &str, is_dir: bool) -> Option<Exclusion> {
        if let Some((ignore, file, span, what)) = &self.spec {
            match ignore.verdict(rel, is_dir) {
                Verdict::Kept => return None,
                Verdict::Ignored(why) => {
                    let at = line_in(repo, *file, *span, &why.pattern).map(|s| (*file, s));
                    return Some(Exclusion {
                        at,
                        described: format!("{what} (`{}`)", why.pattern),
                    });
                }
                Verdict::Unmatched => {}
            }
        }
        if let Some((path, why)) = self.files.excluded(rel, is_dir) {
            let at = repo.file_id(path).and_then(|f| {
                let starts = repo.files[f].line_starts();
                let start = *starts.get(why.line.checked_sub(1)?)? as usize;
                let end = starts
                    .get(why.line)
                    .map_or(repo.files[f].text.len(), |&e| e as usize);
                let line = repo.files[f].text[start..end].trim_end();
                Some((f, Span::new(start, start + line.len())))
            });
            return Some(Exclusion {
                at,
                described: format!("`{path}` line {} (`{}`)", why.line, why.pattern),
            });
        }
        if let Some(defaults) = &self.defaults
            && let Verdict::Ignored(why) = defaults.verdict(rel, is_dir)
        {
            return Some(Exclusion {
                at: None,
                described: format!(
                    "source-controller's default exclusions (`{}`; a `.sourceignore` file replaces them)",
                    why.pattern
                ),
            });
        }
        None
    }
}

/// The definitions of the source a Flux Kustomization's `sourceRef` names: those a cluster
/// applying the Kustomization also applies, or every one when none is.
pub fn sources_of<'r>(repo: &'r Repository, ks: &Object) -> Vec<&'r Object> {
    let node = repo.node(ks);
    let Some(sref) = node.path(&["spec", "sourceRef"]) else {
        return Vec::new();
    };
    let (Some(kind), Some(name)) = (sref.str_at(&["kind"]), sref.str_at(&["name"])) else {
        return Vec::new();
    };
    let key = SourceKey {
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: sref
            .str_at(&["namespace"])
            .or_else(|| repo.effective_namespace(ks))
            .map(str::to_string),
    };
    let all = defined(repo, &key);
    let tree = repo.reconcile_tree();
    let clusters = tree.clusters_of(ks.file);
    let shared: Vec<&Object> = all
        .iter()
        .copied()
        .filter(|s| {
            tree.clusters_of(s.file)
                .iter()
                .any(|c| clusters.contains(c))
        })
        .collect();
    if shared.is_empty() { all } else { shared }
}

/// Every definition of the source `key` names in the repository.
pub fn defined<'r>(repo: &'r Repository, key: &SourceKey) -> Vec<&'r Object> {
    repo.of_kind(&key.kind)
        .filter(|o| {
            o.group() == "source.toolkit.fluxcd.io"
                && o.name == key.name
                && (key.namespace.is_none()
                    || repo.effective_namespace(o).is_none()
                    || repo.effective_namespace(o) == key.namespace.as_deref())
        })
        .collect()
}

/// The span of the last line inside `span` of `file` that reads `pattern` (a block scalar's
/// line).
fn line_in(repo: &Repository, file: FileId, span: Span, pattern: &str) -> Option<Span> {
    let text = &repo.files[file].text;
    let (start, end) = (span.start as usize, (span.end as usize).min(text.len()));
    let mut found = None;
    let mut offset = start;
    for line in text.get(start..end)?.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed == pattern {
            let lead = line.len() - line.trim_start().len();
            found = Some(Span::new(offset + lead, offset + lead + trimmed.len()));
        }
        offset += line.len();
    }
    found
}
