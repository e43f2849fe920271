use crate::diag::{Diagnostic, Severity};
use crate::flux_api::FluxKind;
use crate::helm_semver::{self, Reading};
use crate::model::index::{Object, Repository, SourceKey};
use crate::rules::versions::{is_substituted, qualified, ref_left_to_patch_targets};
use crate::rules::{Rule, RuleMeta};
use crate::source::Span;
use crate::yaml::NodeRef;

pub struct GitRefFloating;

pub static META: RuleMeta = RuleMeta {
    code: "FV206",
    name: "git-ref-floating",
    severity: Severity::Warning,
    summary: "A GitRepository other than the repository's own sync source follows a branch, a semver range or no ref.",
    docs: r#"## What it does
Reads a `GitRepository`'s `spec.ref` the way source-controller does (`commit` wins over `name`,
which wins over `semver`, then `tag`, then `branch`; no ref means the `master` branch) and
reports one that moves: a branch, a `refs/heads/…` or other non-tag `name`, a `semver:` range,
or no ref. Pinned is a `commit`, a `tag`, a `refs/tags/…` name or an exact `semver`. The
repository's own sync source (`flux-system`, any source that a Flux Kustomization with a
path in this repository uses, and any other GitRepository that fetches this repository at the
ref a cluster syncs) follows a branch by design and is not reported, and so does a GitRepository
whose followed branch an ImageUpdateAutomation pushes its commits to.

## Why is this bad?
Every commit pushed to a followed branch, or every new tag in a range, reaches the cluster at
the next reconcile without a change in this repository: nothing here records what runs.

## Example
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
spec:
  url: https://github.com/org/charts
  ref:
    branch: main
```

## Use instead
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
spec:
  url: https://github.com/org/charts
  ref:
    tag: v1.4.2
```
"#,
};

const PIN_HELP: &str =
    "pin a `tag:` (e.g. `tag: v1.2.3`) or a `commit:` SHA, and bump it in a reviewed change";

struct Floating {
    span: Span,
    message: String,
    severity: Option<Severity>,
}

fn field<'a>(r: NodeRef<'a>, key: &str) -> Option<(NodeRef<'a>, &'a str)> {
    let n = r.get(key)?;
    let s = n.as_str()?;
    (!n.is_null() && !s.trim().is_empty()).then_some((n, s))
}

fn judge(root: NodeRef<'_>, who: &str) -> Option<Floating> {
    let (spec_key, spec) = root.entry("spec")?;
    let Some(r) = spec.get("ref").filter(|r| !r.is_null()) else {
        return Some(Floating {
            span: spec_key.span(),
            message: format!("{who} has no `ref`: Flux follows the `master` branch"),
            severity: None,
        });
    };
    let substituted = |n: NodeRef<'_>, key: &str, value: &str| Floating {
        span: n.span(),
        message: format!(
            "`{key}: {value}` of {who} comes from post-build substitution: fluxvet cannot tell statically whether it is pinned"
        ),
        severity: Some(Severity::Info),
    };
    if let Some((n, c)) = field(r, "commit") {
        return is_substituted(c).then(|| substituted(n, "commit", c));
    }
    if let Some((n, name)) = field(r, "name") {
        if is_substituted(name) {
            return Some(substituted(n, "name", name));
        }
        if name.starts_with("refs/tags/") {
            return None;
        }
        let message = match name.strip_prefix("refs/heads/") {
            Some(branch) => format!(
                "{who} follows branch `{branch}` (`name: {name}`): every commit pushed there reaches the cluster at the next reconcile"
            ),
            None => format!(
                "{who} follows `name: {name}`, a reference that moves: whatever it points to reaches the cluster at the next reconcile"
            ),
        };
        return Some(Floating {
            span: n.span(),
            message,
            severity: None,
        });
    }
    if let Some((n, s)) = field(r, "semver") {
        if is_substituted(s) {
            return Some(substituted(n, "semver", s));
        }
        return match helm_semver::read(s) {
            Reading::Range(range) => Some(Floating {
                span: n.span(),
                message: format!(
                    "`semver: {s}` of {who} makes Flux check out the newest tag in {}, at every reconcile",
                    range.describes
                ),
                severity: None,
            }),
            _ => None,
        };
    }
    if let Some((n, t)) = field(r, "tag") {
        return is_substituted(t).then(|| substituted(n, "tag", t));
    }
    if let Some((n, b)) = field(r, "branch") {
        if is_substituted(b) {
            return Some(substituted(n, "branch", b));
        }
        return Some(Floating {
            span: n.span(),
            message: format!(
                "{who} follows branch `{b}`: every commit pushed there reaches the cluster at the next reconcile"
            ),
            severity: None,
        });
    }
    let span = spec
        .entry("ref")
        .map(|(k, _)| k.span())
        .unwrap_or(spec_key.span());
    Some(Floating {
        span,
        message: format!(
            "{who} sets no `commit`, `tag`, `semver`, `name` or `branch` in its `ref`: Flux follows the `master` branch"
        ),
        severity: None,
    })
}

fn is_own(repo: &Repository, own: &[SourceKey], o: &Object) -> bool {
    let ns = repo.effective_namespace(o);
    own.iter().any(|k| {
        k.kind == FluxKind::GitRepository.name()
            && k.name == o.name
            && match (&k.namespace, ns) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    })
}

/// Whether an ImageUpdateAutomation pushes its commits to the branch `git` follows: the
/// cluster takes the new tags from that branch, so following it is the design (an app's own
/// repository whose deploy manifests the automation bumps).
fn is_automation_target(repo: &Repository, git: &Object) -> bool {
    let Some(followed) = repo.node(git).str_at(&["spec", "ref", "branch"]) else {
        return false;
    };
    let git_ns = repo.effective_namespace(git);
    repo.of_kind(FluxKind::ImageUpdateAutomation)
        .filter(|a| a.flux == Some(FluxKind::ImageUpdateAutomation))
        .any(|a| {
            let root = repo.node(a);
            let Some(source) = root.path(&["spec", "sourceRef"]) else {
                return false;
            };
            let ns = source
                .str_at(&["namespace"])
                .or_else(|| repo.effective_namespace(a));
            let pushed = root
                .str_at(&["spec", "git", "push", "branch"])
                .or_else(|| root.str_at(&["spec", "git", "checkout", "ref", "branch"]))
                .unwrap_or(followed);
            source.str_at(&["kind"]).unwrap_or("GitRepository") == "GitRepository"
                && source.str_at(&["name"]) == Some(git.name.as_str())
                && (ns.is_none() || git_ns.is_none() || ns == git_ns)
                && pushed == followed
        })
}

impl Rule for GitRefFloating {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            flux_kinds: &[crate::flux_api::FluxKind::GitRepository],
            ..crate::rules::Reads::NOTHING
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        // A GitRepository that fetches this repository at its cluster's sync ref (one a
        // Terraform or another controller reads) follows the branch the cluster syncs.
        let own: Vec<SourceKey> = repo
            .own_sources()
            .iter()
            .chain(repo.clusters().iter().flat_map(|c| &c.same_repository))
            .cloned()
            .collect();
        let own = own.as_slice();
        for git in repo.of_kind(FluxKind::GitRepository) {
            if git.flux != Some(FluxKind::GitRepository)
                || is_own(repo, own, git)
                || is_automation_target(repo, git)
            {
                continue;
            }
            if ref_left_to_patch_targets(repo, git) {
                continue;
            }
            let who = format!("GitRepository `{}`", qualified(repo, git));
            let Some(f) = judge(repo.node(git), &who) else {
                continue;
            };
            let mut d = Diagnostic::new(&META, git.file, f.span, f.message)
                .primary_label("not pinned")
                .help(PIN_HELP);
            if let Some(s) = f.severity {
                d = d.severity(s);
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn git(name: &str, reference: &str) -> String {
        format!(
            "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  url: https://github.com/org/{name}
{reference}"
        )
    }

    #[test]
    fn fires_on_moving_refs() {
        for (reference, line, col) in [
            ("", 6, 1),
            ("  ref:\n    branch: main\n", 10, 13),
            ("  ref:\n    name: refs/heads/main\n", 10, 11),
            ("  ref:\n    name: refs/pull/420/head\n", 10, 11),
            ("  ref:\n    semver: \">=1.0.0\"\n", 10, 13),
            ("  ref:\n    tag: v1.0.0\n    semver: \"1.x\"\n", 11, 13),
            ("  ref: {}\n", 9, 3),
        ] {
            let g = git("charts", reference);
            assert_eq!(
                findings_of("FV206", &[("src.yaml", &g)]),
                vec![("src.yaml".to_string(), line, col)],
                "{reference}"
            );
        }
    }

    #[test]
    fn quiet_when_pinned() {
        for reference in [
            "  ref:\n    tag: v1.0.0\n",
            "  ref:\n    commit: 0123abcd\n",
            "  ref:\n    branch: main\n    commit: 0123abcd\n",
            "  ref:\n    name: refs/tags/v1.0.0\n",
            "  ref:\n    semver: \"1.2.3\"\n",
            "  ref:\n    branch: main\n    tag: v1.0.0\n",
        ] {
            let g = git("charts", reference);
            assert!(
                findings_of("FV206", &[("src.yaml", &g)]).is_empty(),
                "{reference}"
            );
        }
    }

    #[test]
    fn quiet_on_own_sync_sources() {
        let flux_system = git("flux-system", "  ref:\n    branch: main\n");
        assert!(findings_of("FV206", &[("gotk-sync.yaml", &flux_system)]).is_empty());
        let apps = git("apps", "  ref:\n    branch: main\n");
        let ks = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: apps
";
        let files = [
            ("clusters/src.yaml", apps.as_str()),
            ("clusters/ks.yaml", ks),
            (
                "apps/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
            ),
        ];
        assert!(findings_of("FV206", &files).is_empty());
        let elsewhere = ks.replace("./apps", "./not-here");
        let files = [
            ("clusters/src.yaml", apps.as_str()),
            ("clusters/ks.yaml", elsewhere.as_str()),
        ];
        assert_eq!(findings_of("FV206", &files).len(), 1);
    }
}
