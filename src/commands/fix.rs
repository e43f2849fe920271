//! `fluxvet check --fix`: applies the [`crate::diag::Fix`]es rules attach to their findings
//! ([`crate::fix`] makes them). The applier replaces exactly the bytes of each fix's span:
//! comments, order and formatting elsewhere stay byte for byte.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::diag::{FileId, Fix};
use crate::engine::Outcome;

/// The fixes of one file, and its text before and after them.
pub struct FileFix {
    pub file: FileId,
    /// On disk, where the fixed text is written.
    pub disk_path: PathBuf,
    /// As fluxvet prints it (relative to where it ran).
    pub shown: String,
    pub before: String,
    pub after: String,
    /// Findings this file's edits resolve.
    pub fixed: usize,
}

/// Groups the fixes of the outcome's findings by file, drops duplicates (one scalar quoted for
/// two reasons) and any edit overlapping an earlier one (the next run picks it up), and works
/// out each file's new text. A file whose content on disk is no longer what was checked is
/// skipped, with a note in the returned problems.
pub fn plan(outcome: &Outcome) -> (Vec<FileFix>, Vec<String>) {
    let mut by_file: BTreeMap<FileId, Vec<&Fix>> = BTreeMap::new();
    for d in &outcome.diagnostics {
        if let Some(f) = &d.fix {
            by_file.entry(d.file).or_default().push(f);
        }
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (file, fixes) in by_file {
        let source = &outcome.repo.files[file];
        let shown = crate::emit::invocation_path(outcome, file);
        let disk_path = outcome.repo.root.join(&*source.path);
        let disk = match std::fs::read(&disk_path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            // Checked as UTF-16 (kustomize reads it); written back as UTF-8 it would change
            // every byte of the file.
            Ok(Err(_)) => {
                problems.push(format!(
                    "{shown}: not UTF-8 text; fluxvet fixes only UTF-8 files, so it is not fixed"
                ));
                continue;
            }
            Err(_) => {
                problems.push(format!("{shown}: cannot read it again to fix it"));
                continue;
            }
        };
        // The checked text has no byte order mark; the file keeps its own.
        let (bom, body) = match disk.strip_prefix('\u{feff}') {
            Some(rest) => ("\u{feff}", rest),
            None => ("", disk.as_str()),
        };
        if body != &*source.text {
            problems.push(format!("{shown}: changed since it was checked; not fixed"));
            continue;
        }
        let mut after = String::with_capacity(body.len() + 16);
        after.push_str(bom);
        let mut at = 0usize;
        let mut fixed = 0;
        for f in crate::fix::applicable(fixes, body) {
            let (s, e) = (f.span.start as usize, f.span.end as usize);
            after.push_str(&body[at..s]);
            after.push_str(&f.replacement);
            at = e;
            fixed += 1;
        }
        after.push_str(&body[at..]);
        if fixed > 0 {
            out.push(FileFix {
                file,
                disk_path,
                shown,
                before: disk.clone(),
                after,
                fixed,
            });
        }
    }
    (out, problems)
}

/// What `check --fix` did: printed a diff (with the exit code), or wrote the files (the caller
/// checks again and reports what remains).
pub enum Done {
    Diff(u8),
    Written,
}

/// `check --fix [--diff]` on a finished run: a note per file on stderr, the diff on stdout.
pub fn run(outcome: &Outcome, diff_only: bool) -> Result<Done, String> {
    let (fixes, problems) = plan(outcome);
    for p in &problems {
        eprintln!("fluxvet: warning: {p}");
    }
    let count: usize = fixes.iter().map(|f| f.fixed).sum();
    if diff_only {
        use std::io::Write;
        let text = unified_diff(&fixes);
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write the diff: {e}"))?;
        eprintln!(
            "fluxvet: {count} fix(es) in {} file(s) would be applied by --fix",
            fixes.len()
        );
        return Ok(Done::Diff(u8::from(!fixes.is_empty())));
    }
    write(&fixes)?;
    for f in &fixes {
        eprintln!("fluxvet: fixed {} finding(s) in {}", f.fixed, f.shown);
    }
    eprintln!(
        "fluxvet: {count} fix(es) applied in {} file(s)",
        fixes.len()
    );
    Ok(Done::Written)
}

/// Writes each file's fixed text in place (same file, so its permissions stay).
pub fn write(fixes: &[FileFix]) -> Result<(), String> {
    for f in fixes {
        std::fs::write(&f.disk_path, &f.after)
            .map_err(|e| format!("cannot write {}: {e}", f.shown))?;
    }
    Ok(())
}

/// A unified diff (`diff -u` / `git apply` format) of every file's fix, with three lines of
/// context.
pub fn unified_diff(fixes: &[FileFix]) -> String {
    let mut out = String::new();
    for f in fixes {
        out.push_str(&file_diff(&f.shown, &f.before, &f.after));
    }
    out
}

fn split_lines(s: &str) -> Vec<&str> {
    s.split_inclusive('\n').collect()
}

/// The diff of one file. Fixes never add or remove a line break, so line `i` before is line `i`
/// after and the hunks are the runs of changed lines with their context; should that ever not
/// hold, the whole file is one hunk.
pub fn file_diff(path: &str, before: &str, after: &str) -> String {
    const CONTEXT: usize = 3;
    let a = split_lines(before);
    let b = split_lines(after);
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let push_line = |out: &mut String, sign: char, line: &str| {
        out.push(sign);
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    };
    if a.len() != b.len() {
        out.push_str(&format!("@@ -1,{} +1,{} @@\n", a.len(), b.len()));
        for l in &a {
            push_line(&mut out, '-', l);
        }
        for l in &b {
            push_line(&mut out, '+', l);
        }
        return out;
    }
    let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    let mut i = 0;
    while i < changed.len() {
        // A hunk: changes whose context windows touch.
        let first = changed[i];
        let mut last = first;
        while i + 1 < changed.len() && changed[i + 1] <= last + 2 * CONTEXT + 1 {
            i += 1;
            last = changed[i];
        }
        i += 1;
        let start = first.saturating_sub(CONTEXT);
        let end = (last + CONTEXT + 1).min(a.len());
        let n = end - start;
        out.push_str(&format!("@@ -{},{n} +{},{n} @@\n", start + 1, start + 1));
        for j in start..end {
            if a[j] == b[j] {
                push_line(&mut out, ' ', a[j]);
            } else {
                push_line(&mut out, '-', a[j]);
            }
            // Removed and added lines of a run are shown together.
            if a[j] != b[j] && (j + 1 == end || a[j + 1] == b[j + 1]) {
                let mut k = j;
                while k > start && a[k - 1] != b[k - 1] {
                    k -= 1;
                }
                for line in &b[k..=j] {
                    push_line(&mut out, '+', line);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::file_diff;

    #[test]
    fn diff_hunks_with_context() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";
        let after = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nK\nl\n";
        assert_eq!(
            file_diff("x.yaml", before, after),
            "--- a/x.yaml\n+++ b/x.yaml\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -8,5 +8,5 @@\n h\n i\n j\n-k\n+K\n l\n"
        );
        assert_eq!(
            file_diff("x", "a\nb\nc", "a\nB\nC"),
            "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n-c\n\\ No newline at end of file\n+B\n+C\n\\ No newline at end of file\n"
        );
    }
}
