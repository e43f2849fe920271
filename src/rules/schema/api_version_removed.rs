use crate::diag::{Diagnostic, Severity};
use crate::flux_api;
use crate::rules::{DocContext, Rule, RuleMeta};

pub struct ApiVersionRemoved;

pub static META: RuleMeta = RuleMeta {
    code: "FV501",
    name: "api-version-removed",
    severity: Severity::Error,
    summary: "A Flux apiVersion that current Flux releases no longer serve.",
    docs: r#"## What it does
Reports a toolkit `apiVersion` that Flux has removed: `helm.toolkit.fluxcd.io` v2beta1 (Flux 2.7)
and v2beta2 (2.8); `kustomize.toolkit.fluxcd.io` v1beta1 (2.7) and v1beta2 (2.8);
`source.toolkit.fluxcd.io` v1beta1 (2.7) and v1beta2 (2.8); `notification.toolkit.fluxcd.io`
v1beta1 (2.7) and v1beta2 (2.9); `image.toolkit.fluxcd.io` v1beta1 (2.7) and v1beta2 (2.9).

## Why is this bad?
Once the CRD stops serving the version, the API server rejects the object ("no matches for kind …
in version …") and the whole Kustomization that applies it fails, so nothing else in that path is
reconciled either. Upgrading Flux is then blocked on rewriting the manifests.

## Example
```yaml
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
```

## Use instead
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
```
`flux migrate -f .` rewrites every manifest of a directory to the served versions.

## Fix
`fluxvet check --fix` rewrites the apiVersion (and nothing else) of a HelmRelease
(`v2beta1`/`v2beta2` → `v2`), a Kustomization (`v1beta1`/`v1beta2` → `v1`) and the source kinds
(`v1beta1`/`v1beta2` → `v1`), unless the object sets a field the served version dropped
(`valuesFile`, post-renderer `patchesStrategicMerge`/`patchesJson6902`, Kustomization
`validation`/`patchesStrategicMerge`/`patchesJson6902`, `gitImplementation`, `accessFrom`): those
need a person. Notification and image automation objects are left to `flux migrate` and a review.
"#,
};

impl Rule for ApiVersionRemoved {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_document(&self, cx: &DocContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(root) = cx.doc.root() else { return };
        let Some(node) = root.get("apiVersion") else {
            return;
        };
        let Some(api_version) = node.as_str() else {
            return;
        };
        let Some(removed) = flux_api::removed(api_version) else {
            return;
        };
        let kind = root.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        let replacement = removed.replacement(kind);
        let what = if kind.is_empty() { "this object" } else { kind };
        out.push(
            Diagnostic::new(
                &META,
                cx.file_id,
                node.span(),
                format!(
                    "`{}` was removed in Flux {}: the API server rejects {what} and the Kustomization applying it fails",
                    api_version.trim(),
                    removed.release
                ),
            )
            .primary_label("removed apiVersion")
            .help(format!(
                "use `{replacement}`; `flux migrate -f .` rewrites every manifest in the directory"
            ))
            .with_fix(fix(cx, node, api_version, kind)),
        );
    }
}

/// The apiVersion's text with the served version in place of the removed one, quotes kept,
/// where [`crate::fix::api_version::migrate`] finds the move safe.
fn fix(
    cx: &DocContext<'_>,
    node: crate::yaml::NodeRef<'_>,
    api_version: &str,
    kind: &str,
) -> Option<crate::diag::Fix> {
    let root = cx.doc.root()?;
    let to = crate::fix::api_version::migrate(root, api_version, kind)?;
    let span = node.span();
    let raw = cx.file.text.get(span.start as usize..span.end as usize)?;
    let from = api_version.trim();
    if raw.matches(from).count() != 1 {
        return None;
    }
    Some(crate::diag::Fix {
        span,
        replacement: raw.replacen(from, &to, 1),
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    #[test]
    fn fires_on_removed_versions() {
        let f = findings_of(
            "FV501",
            &[(
                "a.yaml",
                "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: GitRepository\nmetadata:\n  name: x\n---\napiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata:\n  name: y\n---\nkind: Alert\napiVersion: \"notification.toolkit.fluxcd.io/v1beta2\"\n",
            )],
        );
        assert_eq!(
            f,
            vec![
                ("a.yaml".into(), 1, 13),
                ("a.yaml".into(), 6, 13),
                ("a.yaml".into(), 12, 13),
            ]
        );
    }

    #[test]
    fn quiet_on_served_and_foreign_versions() {
        let f = findings_of(
            "FV501",
            &[(
                "a.yaml",
                "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: x\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n---\napiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\nmetadata:\n  name: a\n---\napiVersion: example.com/v1beta1\nkind: GitRepository\n",
            )],
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
