use crate::diag::{Diagnostic, Severity};
use crate::rules::schema::{judgeable_str, values_at};
use crate::rules::{DocContext, Rule, RuleMeta};

pub struct InvalidValue;

pub static META: RuleMeta = RuleMeta {
    code: "FV504",
    name: "invalid-value",
    severity: Severity::Error,
    summary: "A Flux field outside its enum, URL scheme or length limit.",
    docs: r#"## What it does
Checks the values the Flux CRDs constrain:
- URL schemes: `GitRepository.spec.url` `http://`, `https://` or `ssh://`; `OCIRepository.spec.url`
  `oci://`; `HelmRepository.spec.url` `http://`, `https://` or `oci://`.
- Enums: HelmRelease `upgrade.remediation.strategy` (`rollback`, `uninstall`), `install.crds` and
  `upgrade.crds` (`Skip`, `Create`, `CreateReplace`), `chart.spec.reconcileStrategy`
  (`ChartVersion`, `Revision`), `chart.spec.verify.provider`, `driftDetection.mode`,
  `uninstall.deletionPropagation`, `valuesFrom[].kind`; Kustomization `decryption.provider`
  (`sops`) and `postBuild.substituteFrom[].kind`; source `provider`, `type`, `verify.mode`,
  `layerSelector.operation`, HelmChart `reconcileStrategy`.
- Lengths: HelmRelease `releaseName` at most 53 characters (Helm's limit), `targetNamespace` and
  `storageNamespace` at most 63.

Enums are case-sensitive. Values with `${VAR}` post-build substitution are skipped.

## Why is this bad?
The API server rejects the object, so the Kustomization applying it fails and nothing else in its
path is reconciled. A scp-style Git URL (`git@github.com:org/repo`) is the most common case.

## Example
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
spec:
  url: git@github.com:org/fleet.git
```

## Use instead
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
spec:
  url: ssh://git@github.com/org/fleet.git
```
"#,
};

impl Rule for InvalidValue {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_document(&self, cx: &DocContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(fd) = cx.flux else { return };
        let kind = fd.schema.kind;
        let mut push = |span, msg: String, label: &str, help: String| {
            out.push(
                Diagnostic::new(&META, cx.file_id, span, msg)
                    .primary_label(label)
                    .help(help),
            )
        };
        for e in fd.schema.enums {
            for (dotted, node) in values_at(fd.root, e.path) {
                if node.is_null() || node.as_str().is_some_and(crate::flux_api::is_substituted) {
                    continue;
                }
                let ok = node.is_string() && node.as_str().is_some_and(|s| e.values.contains(&s));
                if ok {
                    continue;
                }
                let shown = node.as_str().unwrap_or("(not a scalar)");
                let allowed = quoted_list(e.values);
                let help = match e
                    .values
                    .iter()
                    .find(|v| v.eq_ignore_ascii_case(shown.trim()))
                {
                    Some(v) => format!("write `{v}` (enum values are case-sensitive)"),
                    None => format!("use one of {allowed}"),
                };
                push(
                    node.span(),
                    format!(
                        "{kind} `{dotted}` is `{shown}`, not one of {allowed}: the API server rejects the object"
                    ),
                    "not an allowed value",
                    help,
                );
            }
        }
        for u in fd.schema.urls {
            for (dotted, node) in values_at(fd.root, u.path) {
                let Some(url) = judgeable_str(node) else {
                    continue;
                };
                if u.schemes.iter().any(|s| scheme_matches(url, s)) {
                    continue;
                }
                let allowed = u
                    .schemes
                    .iter()
                    .map(|s| format!("`{s}://`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let help = match scp_to_ssh(url) {
                    Some(ssh) if u.schemes.contains(&"ssh") => format!("write it as `{ssh}`"),
                    _ => format!("the URL must start with one of {allowed}"),
                };
                push(
                    node.span(),
                    format!(
                        "{kind} `{dotted}` `{url}` does not start with {allowed}: the API server rejects the object"
                    ),
                    "unsupported URL scheme",
                    help,
                );
            }
        }
        for m in fd.schema.max_len {
            for (dotted, node) in values_at(fd.root, m.path) {
                let Some(s) = judgeable_str(node) else {
                    continue;
                };
                let n = s.chars().count();
                if n <= m.max {
                    continue;
                }
                push(
                    node.span(),
                    format!(
                        "{kind} `{dotted}` is {n} characters long; the API allows at most {}, so the API server rejects the object",
                        m.max
                    ),
                    "too long",
                    format!("shorten it to {} characters or fewer", m.max),
                );
            }
        }
    }
}

fn quoted_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn scheme_matches(url: &str, scheme: &str) -> bool {
    url.strip_prefix(scheme)
        .is_some_and(|rest| rest.starts_with("://"))
}

/// `git@host:org/repo.git` → `ssh://git@host/org/repo.git`.
fn scp_to_ssh(url: &str) -> Option<String> {
    if url.contains("://") {
        return None;
    }
    let (user_host, path) = url.split_once(':')?;
    if !user_host.contains('@') || path.starts_with("//") {
        return None;
    }
    Some(format!(
        "ssh://{user_host}/{}",
        path.trim_start_matches('/')
    ))
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    #[test]
    fn fires_on_enums_urls_and_lengths() {
        let src = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: x
spec:
  releaseName: a-very-long-release-name-that-helm-will-never-accept-x
  install:
    crds: create
  upgrade:
    remediation:
      strategy: Rollback
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: g
spec:
  url: git@github.com:org/repo.git
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: o
spec:
  url: https://ghcr.io/org/chart
";
        assert_eq!(
            findings_of("FV504", &[("a.yaml", src)]),
            vec![
                ("a.yaml".into(), 6, 16),
                ("a.yaml".into(), 8, 11),
                ("a.yaml".into(), 11, 17),
                ("a.yaml".into(), 18, 8),
                ("a.yaml".into(), 25, 8),
            ]
        );
        assert_eq!(
            super::scp_to_ssh("git@github.com:org/repo.git").as_deref(),
            Some("ssh://git@github.com/org/repo.git")
        );
    }

    #[test]
    fn quiet_on_valid_and_substituted() {
        let src = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: x
spec:
  releaseName: ${APP}-with-a-really-long-suffix-that-substitution-decides
  install:
    crds: CreateReplace
  upgrade:
    crds: Skip
    remediation:
      strategy: uninstall
  valuesFrom:
    - kind: ConfigMap
      name: v
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: h
spec:
  type: oci
  url: oci://ghcr.io/org/charts
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: g
spec:
  url: ssh://git@github.com/org/repo
";
        assert!(findings_of("FV504", &[("a.yaml", src)]).is_empty());
    }
}
