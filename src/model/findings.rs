//! A build's errors and gaps as findings, so `fluxvet build` prints them the way `check` does.

use crate::diag::{Diagnostic, Severity};
use crate::rules::RuleMeta;

use super::build::Build;

pub static BUILD_FAILED: RuleMeta = RuleMeta {
    code: "FV405",
    name: "build-failed",
    severity: Severity::Error,
    summary: "The kustomize build of a path fails.",
    docs: "## What it does\nBuilds a kustomization in process as kustomize v5 does and reports \
why it fails, at the cause: a missing resource, a patch that matches no object, two resources \
with one identity, an invalid JSON 6902 operation, a resource cycle.\n\n## Why is this bad?\nFlux \
applies nothing from a path whose build fails.\n\n## Example\n```yaml\nresources:\n- missing.yaml\n```\n\n\
## Use instead\n```yaml\nresources:\n- deployment.yaml\n```\n",
};

pub static RENDER_GAP: RuleMeta = RuleMeta {
    code: "FV406",
    name: "render-gap",
    severity: Severity::Info,
    summary: "Part of a build cannot be known offline.",
    docs: "## What it does\nNotes what the in-process build does not render (remote bases, \
`helmCharts`, unsupported fields), so the objects judged are known to be incomplete.\n\n## Why is \
this bad?\nA finding cannot be made about what is not rendered.\n\n## Example\n```yaml\nresources:\n\
- https://github.com/org/repo//base\n```\n\n## Use instead\nVendor the base into the repository.\n",
};

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
    crate::engine::sort(&mut out);
    (out, unplaced)
}
