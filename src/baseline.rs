//! A baseline file: the findings a repository had when it adopted fluxvet, which
//! `fluxvet check --baseline FILE` does not report. `fluxvet baseline` writes it.
//!
//! ```yaml
//! version: 1
//! findings:
//!   - fingerprint: "9b2f0c6d41e7a853"
//!     rule: "FV202 chart-version-unpinned"
//!     file: "apps/podinfo/release.yaml"
//!     reason: "existing when fluxvet was adopted"
//! ```
//! One entry per finding, sorted by file, rule and fingerprint, so the file diffs well and a
//! second run on the same tree writes the same bytes. An entry matches a finding by its
//! [fingerprint](crate::fingerprint) alone; `rule` and `file` are for the people reading it. An
//! entry that matches nothing is reported (FV002 stale-baseline-entry); a rule the config lists
//! as `unwaivable` is reported whatever the baseline says.

use std::path::Path;

use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::engine::{Fatal, Outcome};
use crate::fingerprint::fingerprints;
use crate::rules::yaml::stale_baseline_entry;
use crate::source::{SourceFile, Span};
use crate::yaml::parse_stream;

/// The reason `fluxvet baseline` writes when none is given.
pub const DEFAULT_REASON: &str = "existing when fluxvet was adopted";

#[derive(Debug)]
pub struct Baseline {
    /// How the file is named in findings and errors.
    pub display: String,
    pub text: String,
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    pub file: String,
    pub reason: String,
    /// The entry in the file.
    pub span: Span,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, Fatal> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Fatal(format!("baseline {display}: cannot read it: {e}")))?;
        Baseline::parse(display, text)
    }

    pub fn parse(display: String, text: String) -> Result<Baseline, Fatal> {
        let file = SourceFile::new(display.as_str(), text.clone());
        let err = |at: u32, message: String| {
            let lc = file.line_col(at as usize);
            Fatal(format!(
                "baseline {display}:{}:{}: {message}",
                lc.line, lc.column
            ))
        };
        let stream = parse_stream(&text);
        if let Some(p) = stream.problems.first() {
            return Err(err(0, format!("invalid YAML: {p:?}")));
        }
        let Some(root) = stream.documents.first().and_then(|d| d.root()) else {
            return Ok(Baseline {
                display,
                text,
                entries: Vec::new(),
            });
        };
        if !root.is_mapping() {
            return Err(err(
                root.span().start,
                "a baseline is a mapping with `version` and `findings`".into(),
            ));
        }
        let mut entries = Vec::new();
        for (k, v) in root.entries() {
            match k.as_str().unwrap_or("") {
                "version" => {
                    if v.as_str() != Some("1") {
                        return Err(err(
                            v.span().start,
                            "this fluxvet reads baseline `version: 1`".into(),
                        ));
                    }
                }
                "findings" => {
                    if !v.is_sequence() && !v.is_null() {
                        return Err(err(
                            v.span().start,
                            "`findings` must be a list of entries".into(),
                        ));
                    }
                    for item in v.items() {
                        if !item.is_mapping() {
                            return Err(err(
                                item.span().start,
                                "a `findings` entry is a mapping with fingerprint, rule, file and reason".into(),
                            ));
                        }
                        let mut e = Entry {
                            fingerprint: String::new(),
                            rule: String::new(),
                            file: String::new(),
                            reason: String::new(),
                            span: item.span(),
                        };
                        for (ek, ev) in item.entries() {
                            let key = ek.as_str().unwrap_or("");
                            let value = ev.as_str().map(str::to_string).ok_or_else(|| {
                                err(ev.span().start, format!("`{key}` must be a string"))
                            })?;
                            match key {
                                "fingerprint" => e.fingerprint = value,
                                "rule" => e.rule = value,
                                "file" => e.file = value,
                                "reason" => e.reason = value,
                                other => {
                                    return Err(err(
                                        ek.span().start,
                                        format!(
                                            "unknown key `{other}` (expected fingerprint, rule, file, reason)"
                                        ),
                                    ));
                                }
                            }
                        }
                        if e.fingerprint.is_empty() {
                            return Err(err(e.span.start, "the entry has no `fingerprint`".into()));
                        }
                        entries.push(e);
                    }
                }
                other => {
                    return Err(err(
                        k.span().start,
                        format!("unknown key `{other}` (expected version, findings)"),
                    ));
                }
            }
        }
        Ok(Baseline {
            display,
            text,
            entries,
        })
    }

    /// Drops the findings of `outcome` the baseline records (not those of an unwaivable rule),
    /// counts them in `outcome.withheld`, and reports the entries that matched nothing.
    pub fn apply(&self, outcome: &mut Outcome) {
        let prints = fingerprints(&outcome.repo, &outcome.diagnostics, &|_| None);
        let config = &outcome.repo.config;
        let mut used = vec![false; self.entries.len()];
        // Fingerprint → its entries not matched yet, the last first.
        let mut open: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate().rev() {
            open.entry(e.fingerprint.as_str()).or_default().push(i);
        }
        let mut keep = Vec::with_capacity(prints.len());
        for (d, fp) in outcome.diagnostics.iter().zip(&prints) {
            let matched = if config.is_unwaivable(d.rule.code) {
                None
            } else {
                open.get_mut(fp.as_str()).and_then(Vec::pop)
            };
            if let Some(i) = matched {
                used[i] = true;
            }
            keep.push(matched.is_none());
        }
        let before = outcome.diagnostics.len();
        let mut k = keep.into_iter();
        outcome.diagnostics.retain(|_| k.next().unwrap_or(true));
        outcome.withheld.baselined = Some(before - outcome.diagnostics.len());

        let meta = &stale_baseline_entry::META;
        let Some(severity) = config.severity(meta.code, meta.severity) else {
            return;
        };
        let repo = &outcome.repo;
        let stale: Vec<(&Entry, String, &str)> = self
            .entries
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .filter_map(|(e, _)| {
                let code = e.rule.split_whitespace().next().unwrap_or("");
                if let Some(r) = crate::rules::lookup(code)
                    && config.is_unwaivable(r.code)
                {
                    return Some((
                        e,
                        format!("{} {} is unwaivable (`unwaivable` in the config): this entry does not hide it", r.code, r.name),
                        "hides nothing",
                    ));
                }
                // An entry for a file this run did not read (another path was checked, or
                // it is excluded) may still match there; one for a file that is gone cannot.
                if repo.file_id(&e.file).is_none() && repo.tree.is_file(&e.file) {
                    return None;
                }
                Some((
                    e,
                    format!(
                        "baseline entry {} ({} in {}) matches no finding",
                        e.fingerprint, e.rule, e.file
                    ),
                    "matches nothing",
                ))
            })
            .collect();
        if stale.is_empty() {
            return;
        }
        let diagnostics: Vec<Diagnostic> = stale
            .into_iter()
            .map(|(e, message, label)| {
                Diagnostic::new(meta, repo.files.len(), e.span, message)
                    .severity(severity)
                    .primary_label(label)
                    .help("delete the entry, or write the baseline again with `fluxvet baseline`")
            })
            .collect();
        let shown = self.shown_path(&repo.root);
        outcome
            .repo
            .files
            .push(SourceFile::new(shown, self.text.clone()));
        outcome.diagnostics.extend(diagnostics);
        crate::diag::sort(&mut outcome.diagnostics);
    }

    /// The file's path as findings show it: relative to the scanned root when inside it.
    fn shown_path(&self, root: &Path) -> String {
        let path = Path::new(&self.display);
        let (Ok(abs), Ok(root)) = (path.canonicalize(), root.canonicalize()) else {
            return self.display.clone();
        };
        match abs.strip_prefix(&root) {
            Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
            Err(_) => abs.to_string_lossy().into_owned(),
        }
    }
}

/// The baseline recording every finding of `outcome` but those of unwaivable rules, and how
/// many of those were left out.
pub fn write(outcome: &Outcome, reason: &str) -> (String, usize) {
    let repo = &outcome.repo;
    let prints = fingerprints(repo, &outcome.diagnostics, &|_| None);
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut unwaivable = 0;
    for (d, fp) in outcome.diagnostics.iter().zip(prints) {
        if repo.config.is_unwaivable(d.rule.code) {
            unwaivable += 1;
            continue;
        }
        rows.push((
            repo.files[d.file].path.to_string(),
            format!("{} {}", d.rule.code, d.rule.name),
            fp,
        ));
    }
    rows.sort();
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::from(
        "# fluxvet baseline: findings `fluxvet check --baseline FILE` does not report.\n\
         # Written by `fluxvet baseline`; an entry that matches no finding any more is reported\n\
         # (FV002 stale-baseline-entry): delete it when its finding is fixed.\n\
         version: 1\n",
    );
    if rows.is_empty() {
        out.push_str("findings: []\n");
    } else {
        out.push_str("findings:\n");
        for (file, rule, fp) in &rows {
            out.push_str(&format!(
                "  - fingerprint: {}\n    rule: {}\n    file: {}\n    reason: {}\n",
                q(fp),
                q(rule),
                q(file),
                q(reason)
            ));
        }
    }
    (out, unwaivable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::check_memory;

    const BAD: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: b\n  namespace: apps\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: b\n      version: \"*\"\n      sourceRef: {kind: HelmRepository, name: repo}\n";

    #[test]
    fn written_then_read_hides_everything() {
        let o = check_memory(&[("b.yaml", BAD)], Config::default());
        assert!(!o.diagnostics.is_empty());
        let (text, left_out) = write(&o, "adopted");
        assert_eq!(left_out, 0);
        assert_eq!(write(&o, "adopted").0, text, "stable");
        let b = Baseline::parse("bl.yaml".into(), text).unwrap();
        assert_eq!(b.entries.len(), o.diagnostics.len());
        let mut again = check_memory(&[("b.yaml", BAD)], Config::default());
        b.apply(&mut again);
        assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
        assert_eq!(again.withheld.baselined, Some(b.entries.len()));
    }

    #[test]
    fn a_fixed_finding_leaves_a_stale_entry() {
        let o = check_memory(&[("b.yaml", BAD)], Config::default());
        let b = Baseline::parse("bl.yaml".into(), write(&o, "x").0).unwrap();
        let fixed = BAD.replace("\"*\"", "\"1.2.3\"");
        let mut after = check_memory(&[("b.yaml", &fixed)], Config::default());
        b.apply(&mut after);
        let codes: Vec<_> = after.diagnostics.iter().map(|d| d.rule.code).collect();
        assert_eq!(codes, vec!["FV002"]);
        assert_eq!(
            &*after.repo.files[after.diagnostics[0].file].path,
            "bl.yaml"
        );
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = Baseline::parse(
            "bl.yaml".into(),
            "version: 1\nfindings:\n  - rule: x\n".into(),
        )
        .unwrap_err();
        assert!(e.0.contains("bl.yaml:3:"), "{}", e.0);
        let e = Baseline::parse("bl.yaml".into(), "version: 1\nfinding: []\n".into()).unwrap_err();
        assert!(e.0.contains("`finding`"), "{}", e.0);
    }
}
