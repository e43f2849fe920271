use crate::diag::{Diagnostic, Severity};
use crate::flux_api;
use crate::rules::{DocContext, Rule, RuleMeta};
use crate::yaml::NodeRef;

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

Object references inside a Flux object are checked too: an `apiVersion` under `spec` (a
Receiver's `spec.resources[].apiVersion`, a `sourceRef.apiVersion`, an Alert's
`eventSources[].apiVersion`, …) that names a removed version. Not checked there: a
HelmRelease's `values` (the chart's business) and patches (`patches`, `postRenderers`, which
take their target's apiVersion).

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
        if node
            .as_str()
            .is_some_and(|a| a.contains(".toolkit.fluxcd.io/"))
            && let Some(spec) = root.get("spec")
        {
            check_references(cx, spec, &mut Vec::new(), out);
        }
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
            )),
        );
    }
}

/// Subtrees of a Flux object's `spec` that are not object references: chart values and
/// patches (a targeted patch takes its target's apiVersion).
const NOT_REFERENCES: &[&str] = &[
    "values",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "postRenderers",
];

/// FV501 on object references: every `apiVersion` below `spec` that names a removed version.
fn check_references(
    cx: &DocContext<'_>,
    node: NodeRef<'_>,
    path: &mut Vec<String>,
    out: &mut Vec<Diagnostic>,
) {
    if path.len() > 32 {
        return;
    }
    if node.is_sequence() {
        for (i, item) in node.items().into_iter().enumerate() {
            path.push(format!("[{i}]"));
            check_references(cx, item, path, out);
            path.pop();
        }
        return;
    }
    if !node.is_mapping() {
        return;
    }
    for (k, v) in node.entries() {
        let Some(key) = k.as_str() else { continue };
        if NOT_REFERENCES.contains(&key) {
            continue;
        }
        if key == "apiVersion"
            && let Some(api_version) = v.as_str()
            && let Some(removed) = flux_api::removed(api_version)
        {
            let kind = node.get("kind").and_then(|k| k.as_str()).unwrap_or("");
            let field = format!("spec{}", render_path(path));
            out.push(
                Diagnostic::new(
                    &META,
                    cx.file_id,
                    v.span(),
                    format!(
                        "the object reference `{field}`{} names `{}`, removed in Flux {}: an API version the cluster no longer serves",
                        if kind.is_empty() { String::new() } else { format!(" (a {kind})") },
                        api_version.trim(),
                        removed.release,
                    ),
                )
                .primary_label("removed apiVersion")
                .help(format!(
                    "use `{}`; `flux migrate -f .` rewrites every manifest in the directory",
                    removed.replacement(kind)
                )),
            );
            continue;
        }
        path.push(key.to_string());
        check_references(cx, v, path, out);
        path.pop();
    }
}

fn render_path(path: &[String]) -> String {
    path.iter()
        .map(|p| {
            if p.starts_with('[') {
                p.clone()
            } else {
                format!(".{p}")
            }
        })
        .collect()
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
