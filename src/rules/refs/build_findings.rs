//! A build's errors and gaps as findings, so `fluxvet build` prints them the way `check` does.
//! The model knows no rule: here the rules map its build errors to FV405 and its gaps to FV406.

use crate::diag::{Diagnostic, Severity};
use crate::model::Build;

use super::build_failed::META as BUILD_FAILED;
use super::render_gap::META as RENDER_GAP;

/// The build's errors (non-fatal ones as warnings) and gaps, with a place in the repository;
/// the messages of those without one come second.
pub fn diagnostics(b: &Build, files: usize) -> (Vec<Diagnostic>, Vec<String>) {
    let mut out = Vec::new();
    let mut unplaced = Vec::new();
    for e in &b.errors {
        if e.file >= files {
            unplaced.push(e.message.clone());
            continue;
        }
        let d = Diagnostic::new(&BUILD_FAILED, e.file, e.span, e.message.clone());
        out.push(if e.fatal {
            d
        } else {
            d.severity(Severity::Warning)
        });
    }
    for g in &b.gaps {
        if g.file >= files {
            unplaced.push(g.message.clone());
            continue;
        }
        out.push(Diagnostic::new(
            &RENDER_GAP,
            g.file,
            g.span,
            g.message.clone(),
        ));
    }
    crate::diag::sort(&mut out);
    (out, unplaced)
}
