//! A finding's fingerprint: what stays the same when the finding is still "the same problem",
//! whatever moved around it. `--changed-since` matches the findings of two trees by it, and a
//! baseline file records it.
//!
//! It hashes (FNV-1a 64, so it never changes between builds or platforms):
//! - the rule's code;
//! - the file, relative to the scanned root (a file git saw renamed is matched under its new
//!   name, see [`crate::changes`]);
//! - the identity of the object whose document holds the finding (`kind/namespace/name`, the
//!   namespace as written), or nothing when the document declares none;
//! - the finding's subject: its message, with any `line N` in it blanked, and the first line
//!   of the text under its primary span, white space collapsed.
//!
//! Not the line or the column: a finding pushed down by lines added above it keeps its
//! fingerprint. Two findings with one fingerprint (the same problem twice in one object) are
//! counted: the second is new when the old tree had only one.

use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::model::index::Repository;

/// 16 lowercase hex digits.
pub type Fingerprint = String;

/// The fingerprint of every finding of `diagnostics` (read against `repo`), in order.
/// `rename` maps a file's path to the path it is matched under.
pub fn fingerprints(
    repo: &Repository,
    diagnostics: &[Diagnostic],
    rename: &dyn Fn(&str) -> Option<String>,
) -> Vec<Fingerprint> {
    // File → (document span, object identity) of its documents that declare one.
    let mut identities: HashMap<usize, Vec<(std::ops::Range<u32>, String)>> = HashMap::new();
    for o in &repo.objects {
        let span = repo.docs[o.doc].doc.span;
        identities.entry(o.file).or_default().push((
            span.start..span.end.max(span.start + 1),
            format!(
                "{}/{}/{}",
                o.kind,
                o.namespace.as_deref().unwrap_or(""),
                o.name
            ),
        ));
    }
    diagnostics
        .iter()
        .map(|d| {
            let file = &repo.files[d.file];
            let path = rename(&file.path).unwrap_or_else(|| file.path.to_string());
            let identity = identities
                .get(&d.file)
                .and_then(|ids| ids.iter().find(|(r, _)| r.contains(&d.span.start)))
                .map_or("", |(_, id)| id.as_str());
            let text = file
                .text
                .get(d.span.range())
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("");
            of_parts(d.rule.code, &path, identity, &d.message, text)
        })
        .collect()
}

/// The fingerprint of a finding given as its parts.
pub fn of_parts(code: &str, path: &str, identity: &str, message: &str, text: &str) -> Fingerprint {
    let mut h = Fnv::default();
    h.field(code);
    h.field(path);
    h.field(identity);
    h.field(&blank_line_numbers(message));
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    h.field(&text.chars().take(160).collect::<String>());
    format!("{:016x}", h.0)
}

/// `line 12` → `line _`: a message that points at another line must not change with it.
fn blank_line_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("line ") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push('_');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn field(&mut self, s: &str) {
        for b in s.bytes().chain([0]) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Splits `new` into findings absent from `old` and findings present in both, counting
/// repeats: two findings with one fingerprint in `new` and one in `old` make one new.
/// Returns, for each of `new`, whether it is new.
pub fn new_findings(old: &[Fingerprint], new: &[Fingerprint]) -> Vec<bool> {
    let mut remaining: HashMap<&str, usize> = HashMap::new();
    for f in old {
        *remaining.entry(f.as_str()).or_default() += 1;
    }
    new.iter()
        .map(|f| match remaining.get_mut(f.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::check_memory;

    fn prints(files: &[(&str, &str)]) -> Vec<(String, Fingerprint)> {
        let o = check_memory(files, Config::default());
        let fps = fingerprints(&o.repo, &o.diagnostics, &|_| None);
        o.diagnostics
            .iter()
            .map(|d| d.rule.code.to_string())
            .zip(fps)
            .collect()
    }

    const RELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: b\n  namespace: apps\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: b\n      version: \"*\"\n      sourceRef: {kind: HelmRepository, name: repo}\n  dependsOn:\n    - name: a\n";

    #[test]
    fn a_line_move_keeps_the_fingerprint() {
        let before = prints(&[("b.yaml", RELEASE)]);
        let moved = format!("# a comment\n\n# pushing everything down\n{RELEASE}");
        let after = prints(&[("b.yaml", &moved)]);
        assert!(!before.is_empty());
        assert_eq!(before, after);
    }

    #[test]
    fn the_file_and_the_subject_change_it() {
        let before = prints(&[("b.yaml", RELEASE)]);
        let renamed = prints(&[("c.yaml", RELEASE)]);
        assert_ne!(before, renamed);
        let other = RELEASE.replace("- name: a", "- name: z");
        let other = prints(&[("b.yaml", &other)]);
        let fv301 = |v: &[(String, String)]| v.iter().find(|(c, _)| c == "FV301").cloned();
        assert_ne!(fv301(&before), fv301(&other));
        // The FV202 on the version is the same finding.
        let fv202 = |v: &[(String, String)]| v.iter().find(|(c, _)| c == "FV202").cloned();
        assert_eq!(fv202(&before), fv202(&other));
    }

    #[test]
    fn repeats_are_counted() {
        let a = || "x".to_string();
        assert_eq!(new_findings(&[a()], &[a(), a()]), vec![false, true]);
        assert_eq!(new_findings(&[a(), a()], &[a()]), vec![false]);
    }

    #[test]
    fn line_numbers_in_messages_are_blanked() {
        assert_eq!(
            blank_line_numbers("first at line 12, again at line 3x; line feed"),
            "first at line _, again at line _x; line feed"
        );
    }
}
