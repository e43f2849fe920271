use crate::diag::{Diagnostic, Severity};
use crate::flux_api::FluxKind;
use crate::helm_semver::{self, Reading};
use crate::model::index::{Object, Repository};
use crate::rules::versions::{is_substituted, qualified, ref_left_to_patch_targets};
use crate::rules::{Rule, RuleMeta};
use crate::source::Span;
use crate::yaml::NodeRef;

pub struct OciRefUnpinned;

pub static META: RuleMeta = RuleMeta {
    code: "FV205",
    name: "oci-ref-unpinned",
    severity: Severity::Error,
    summary: "An OCIRepository has no ref, `tag: latest`, a non-semver tag or a semver range.",
    docs: r#"## What it does
Reads an `OCIRepository`'s `spec.ref` the way source-controller does (`digest` wins over
`semver`, which wins over `tag`; no ref means the `latest` tag) and reports one that can move:
no ref, `tag: latest`, a tag that is not a full version (`main`, `stable`, `3.24`), or a
`semver:` range. Pinned is a `digest:` or an exact version tag (`1.8.0`, `v1.8.0`). An
OCIRepository that a HelmRelease `chartRef` installs is an error; any other is a warning.
A chart's tag that is a bare number (`tag: "104"`) is an info: Helm accepts `version: 104`
(read as 104.0.0) and `helm push` tags the chart with it, so it may be the exact version of a
chart versioned with bare numbers, or a major tag that moves.

Not reported: the repository's own sync source as an OCI artifact ("gitless GitOps": CI pushes
this repository's manifests, and a cluster's Kustomization syncs from the OCIRepository with a
`spec.path` found in this repository, at its root or below the directory the artifact is pushed
from). It follows a tag such as `main` or `latest` by design, as FV206 leaves the own
GitRepository on its branch.

## Why is this bad?
A moving reference makes Flux install whatever was pushed last at the next reconcile: the
chart or manifests change in the cluster without a change in Git.

## Example
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
spec:
  url: oci://ghcr.io/stefanprodan/charts/podinfo
  ref:
    semver: ">=6.0.0"
```

## Use instead
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
spec:
  url: oci://ghcr.io/stefanprodan/charts/podinfo
  ref:
    tag: 6.7.1
    digest: sha256:<digest of 6.7.1>
```
"#,
};

/// Why a ref can move, and where.
struct Floating {
    span: Span,
    message: String,
    help: String,
    severity: Option<Severity>,
}

fn non_empty<'a>(node: Option<NodeRef<'a>>) -> Option<(NodeRef<'a>, &'a str)> {
    let n = node?;
    let s = n.as_str()?;
    (!n.is_null() && !s.trim().is_empty()).then_some((n, s))
}

const PIN_HELP: &str = "pin a `digest: sha256:…` (keep `tag:` beside it for readers) or an exact version tag such as `tag: 1.2.3`";

/// `is_chart`: whether a HelmRelease's `chartRef` installs it, asked only of a bare-number tag.
fn judge(root: NodeRef<'_>, who: &str, is_chart: impl FnOnce() -> bool) -> Option<Floating> {
    let (spec_key, spec) = root.entry("spec")?;
    let reference = spec.entry("ref").filter(|(_, v)| !v.is_null());
    let Some((ref_key, r)) = reference else {
        return Some(Floating {
            span: spec_key.span(),
            message: format!(
                "{who} has no `ref`: Flux pulls the `latest` tag, whatever was pushed last, at every reconcile"
            ),
            help: format!("add a `ref`: {PIN_HELP}"),
            severity: None,
        });
    };
    if let Some((n, d)) = non_empty(r.get("digest")) {
        if is_substituted(d) {
            return Some(substituted(n, who, "digest", d));
        }
        return None;
    }
    if let Some((n, s)) = non_empty(r.get("semver")) {
        if is_substituted(s) {
            return Some(substituted(n, who, "semver", s));
        }
        return match helm_semver::read(s) {
            Reading::Range(range) => Some(Floating {
                span: n.span(),
                message: format!(
                    "`semver: {s}` of {who} lets Flux pull {}, at every reconcile",
                    range.describes
                ),
                help: match range.lowest {
                    Some(v) => format!(
                        "pin one version, e.g. `tag: {v}` with its `digest:`, instead of `semver`"
                    ),
                    None => format!("replace `semver` with a pin: {PIN_HELP}"),
                },
                severity: None,
            }),
            _ => None,
        };
    }
    let Some((n, tag)) = non_empty(r.get("tag")) else {
        return Some(Floating {
            span: ref_key.span(),
            message: format!(
                "{who} sets no `tag`, `semver` or `digest` in its `ref`: Flux pulls the `latest` tag, whatever was pushed last, at every reconcile"
            ),
            help: PIN_HELP.into(),
            severity: None,
        });
    };
    if is_substituted(tag) {
        return Some(substituted(n, who, "tag", tag));
    }
    if let Some((version, digest)) = tag.split_once('@') {
        return Some(Floating {
            span: n.span(),
            message: format!(
                "`tag: {tag}` of {who} is not an OCI tag: Flux cannot pull `tag@digest` from the `tag` field"
            ),
            help: format!(
                "split it: `tag: {version}` and `digest: {digest}` (the digest then wins)"
            ),
            severity: None,
        });
    }
    if tag.eq_ignore_ascii_case("latest") {
        return Some(Floating {
            span: n.span(),
            message: format!(
                "{who} follows `tag: {tag}`, which moves: Flux installs whatever was pushed last, at every reconcile"
            ),
            help: PIN_HELP.into(),
            severity: None,
        });
    }
    if helm_semver::parse_version(tag).is_some() {
        return None;
    }
    // Helm reads a chart `version: 104` as 104.0.0 and `helm push` tags the chart with the
    // version as written: a chart versioned with bare numbers has such tags, and nothing in
    // the files tells it from a moving major tag.
    if tag.bytes().all(|b| b.is_ascii_digit()) && is_chart() {
        return Some(Floating {
            span: n.span(),
            message: format!(
                "{who} follows `tag: {tag}`, a bare number: the chart's exact version if it is versioned so (Helm reads `version: {tag}` as {tag}.0.0 and `helm push` tags it `{tag}`), a major tag that moves to each new release if not"
            ),
            help: format!(
                "if `{tag}` is the chart's version, add its `digest:` to make the pin explicit; otherwise {PIN_HELP}"
            ),
            severity: Some(Severity::Info),
        });
    }
    Some(Floating {
        span: n.span(),
        message: format!(
            "{who} follows `tag: {tag}`, which is not a full version: such tags are moved to new content (like `main` or `3`), and Flux follows them at every reconcile"
        ),
        help: PIN_HELP.into(),
        severity: None,
    })
}

fn substituted(n: NodeRef<'_>, who: &str, field: &str, value: &str) -> Floating {
    Floating {
        span: n.span(),
        message: format!(
            "`{field}: {value}` of {who} comes from post-build substitution: fluxvet cannot tell statically whether it is pinned"
        ),
        help: "make sure the substituted value is a digest or an exact version tag".into(),
        severity: Some(Severity::Info),
    }
}

/// The HelmReleases whose `chartRef` names this OCIRepository, with the name node.
fn chart_ref_users<'a>(repo: &'a Repository, oci: &'a Object) -> Vec<(&'a Object, NodeRef<'a>)> {
    let oci_ns = repo.effective_namespace(oci);
    repo.of_kind(FluxKind::HelmRelease)
        .filter(|o| o.flux == Some(FluxKind::HelmRelease))
        .filter_map(|hr| {
            let cref = repo.node(hr).path(&["spec", "chartRef"])?;
            if cref.str_at(&["kind"]) != Some(FluxKind::OCIRepository.name()) {
                return None;
            }
            let name = cref.get("name")?;
            if name.as_str() != Some(oci.name.as_str()) {
                return None;
            }
            let ns = cref
                .str_at(&["namespace"])
                .or_else(|| repo.effective_namespace(hr));
            match (ns, oci_ns) {
                (Some(a), Some(b)) if a != b => None,
                _ => Some((hr, name)),
            }
        })
        .collect()
}

/// The repository's own sync source as an OCI artifact ("gitless GitOps": CI pushes the
/// repository, a cluster's Kustomization syncs from it): it follows a tag by design, as the
/// own GitRepository follows a branch (FV206).
fn is_own_sync_source(repo: &Repository, oci: &Object) -> bool {
    let ns = repo.effective_namespace(oci);
    repo.own_sources().iter().any(|k| {
        k.kind == FluxKind::OCIRepository.name()
            && k.name == oci.name
            && match (&k.namespace, ns) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    })
}

impl Rule for OciRefUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            flux_kinds: &[
                crate::flux_api::FluxKind::HelmRelease,
                crate::flux_api::FluxKind::OCIRepository,
            ],
            ..crate::rules::Reads::NOTHING
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        for oci in repo.of_kind(FluxKind::OCIRepository) {
            if oci.flux != Some(FluxKind::OCIRepository) {
                continue;
            }
            if ref_left_to_patch_targets(repo, oci) {
                continue;
            }
            if is_own_sync_source(repo, oci) {
                continue;
            }
            let who = format!("OCIRepository `{}`", qualified(repo, oci));
            let Some(f) = judge(repo.node(oci), &who, || {
                !chart_ref_users(repo, oci).is_empty()
            }) else {
                continue;
            };
            let users = chart_ref_users(repo, oci);
            let severity = f.severity.unwrap_or(if users.is_empty() {
                Severity::Warning
            } else {
                Severity::Error
            });
            let installs = match users.first() {
                Some((hr, _)) => format!(
                    " (it is the chart of HelmRelease `{}`)",
                    qualified(repo, hr)
                ),
                None => String::new(),
            };
            let mut d =
                Diagnostic::new(&META, oci.file, f.span, format!("{}{installs}", f.message))
                    .severity(severity)
                    .primary_label("not pinned")
                    .help(f.help);
            for (hr, name) in users {
                d = d.label(
                    hr.file,
                    name.span(),
                    format!("HelmRelease `{}` installs this chart", hr.name),
                );
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use crate::engine::check_memory;
    use crate::rules::testing::findings_of;

    fn oci(name: &str, reference: &str) -> String {
        format!(
            "apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {name}
  namespace: apps
spec:
  interval: 1h
  url: oci://ghcr.io/org/charts/{name}
{reference}"
        )
    }

    const HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: podinfo
";

    fn severities(files: &[(&str, &str)]) -> Vec<Severity> {
        check_memory(files, Default::default())
            .diagnostics
            .iter()
            .filter(|d| d.rule.code == "FV205")
            .map(|d| d.severity)
            .collect()
    }

    #[test]
    fn fires_on_each_kind_of_moving_ref() {
        for (reference, line, col) in [
            ("", 6, 1),
            ("  ref:\n    tag: latest\n", 10, 10),
            ("  ref:\n    tag: main\n", 10, 10),
            ("  ref:\n    tag: \"3.24\"\n", 10, 10),
            ("  ref:\n    semver: \">=6.0.0\"\n", 10, 13),
            ("  ref:\n    semver: 1.x\n", 10, 13),
            ("  ref:\n    tag: 6.6.2@sha256:6ca1d018a5\n", 10, 10),
            ("  ref: {}\n", 9, 3),
        ] {
            let o = oci("podinfo", reference);
            assert_eq!(
                findings_of("FV205", &[("oci.yaml", &o), ("hr.yaml", HR)]),
                vec![("oci.yaml".to_string(), line, col)],
                "{reference}"
            );
        }
    }

    #[test]
    fn error_when_a_chart_ref_uses_it_warning_otherwise() {
        let o = oci("podinfo", "  ref:\n    tag: latest\n");
        assert_eq!(
            severities(&[("oci.yaml", &o), ("hr.yaml", HR)]),
            vec![Severity::Error]
        );
        assert_eq!(severities(&[("oci.yaml", &o)]), vec![Severity::Warning]);
        let other_ns = HR.replace("namespace: apps", "namespace: other");
        assert_eq!(
            severities(&[("oci.yaml", &o), ("hr.yaml", &other_ns)]),
            vec![Severity::Warning]
        );
        let explicit_ns = other_ns.replace(
            "    name: podinfo\n",
            "    name: podinfo\n    namespace: apps\n",
        );
        assert_eq!(
            severities(&[("oci.yaml", &o), ("hr.yaml", &explicit_ns)]),
            vec![Severity::Error]
        );
        // A bare number is an exact version of a chart versioned so, or a moving major tag.
        let number = oci("podinfo", "  ref:\n    tag: \"104\"\n");
        assert_eq!(
            severities(&[("oci.yaml", &number), ("hr.yaml", HR)]),
            vec![Severity::Info]
        );
        assert_eq!(
            severities(&[("oci.yaml", &number)]),
            vec![Severity::Warning]
        );
        let sub = oci("podinfo", "  ref:\n    tag: ${VERSION}\n");
        assert_eq!(
            severities(&[("oci.yaml", &sub), ("hr.yaml", HR)]),
            vec![Severity::Info]
        );
    }

    #[test]
    fn quiet_when_pinned() {
        for reference in [
            "  ref:\n    tag: 6.7.1\n",
            "  ref:\n    tag: v1.14.4\n",
            "  ref:\n    tag: \"1.2.3-rc.1\"\n",
            "  ref:\n    digest: sha256:abc\n",
            "  ref:\n    tag: latest\n    digest: sha256:abc\n",
            "  ref:\n    semver: \">=1.0.0\"\n    digest: sha256:abc\n",
            "  ref:\n    semver: \"6.7.1\"\n",
        ] {
            let o = oci("podinfo", reference);
            assert!(
                findings_of("FV205", &[("oci.yaml", &o), ("hr.yaml", HR)]).is_empty(),
                "{reference}"
            );
        }
    }
}
