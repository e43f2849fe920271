//! Which removed Flux apiVersions `--fix` moves to the served one (FV501), conservatively: only
//! where the served version has every field the object uses. The edit is what `flux migrate`
//! does (the apiVersion and nothing else), but refused when the object sets a field the served
//! version dropped, since that needs a person to rewrite it. Groups whose newer versions
//! changed meaning beyond removed fields (notification v1beta3's static Alerts and Providers,
//! the image automation API) are left to `flux migrate` and a review.

use crate::flux_api::FluxKind;
use crate::yaml::NodeRef;

struct Migration {
    group: &'static str,
    from: &'static [&'static str],
    kinds: &'static [FluxKind],
    to: &'static str,
    /// Fields the target version no longer has; `[]` is every item of a sequence.
    dropped: &'static [&'static [&'static str]],
}

static MIGRATIONS: &[Migration] = &[
    // helm-controller api/v2 (Flux 2.3) removed the deprecated valuesFile and the post-renderer
    // patchesStrategicMerge and patchesJson6902.
    Migration {
        group: "helm.toolkit.fluxcd.io",
        from: &["v2beta1", "v2beta2"],
        kinds: &[FluxKind::HelmRelease],
        to: "v2",
        dropped: &[
            &["spec", "chart", "spec", "valuesFile"],
            &[
                "spec",
                "postRenderers",
                "[]",
                "kustomize",
                "patchesStrategicMerge",
            ],
            &[
                "spec",
                "postRenderers",
                "[]",
                "kustomize",
                "patchesJson6902",
            ],
        ],
    },
    // kustomize-controller api/v1 (Flux 2.0) removed validation, patchesStrategicMerge and
    // patchesJson6902.
    Migration {
        group: "kustomize.toolkit.fluxcd.io",
        from: &["v1beta1", "v1beta2"],
        kinds: &[FluxKind::Kustomization],
        to: "v1",
        dropped: &[
            &["spec", "validation"],
            &["spec", "patchesStrategicMerge"],
            &["spec", "patchesJson6902"],
        ],
    },
    // source-controller api/v1 dropped gitImplementation, accessFrom and HelmChart's valuesFile.
    Migration {
        group: "source.toolkit.fluxcd.io",
        from: &["v1beta1", "v1beta2"],
        kinds: &[
            FluxKind::GitRepository,
            FluxKind::HelmRepository,
            FluxKind::HelmChart,
            FluxKind::Bucket,
            FluxKind::OCIRepository,
        ],
        to: "v1",
        dropped: &[
            &["spec", "gitImplementation"],
            &["spec", "accessFrom"],
            &["spec", "valuesFile"],
        ],
    },
];

fn has_path(node: NodeRef<'_>, path: &[&str]) -> bool {
    match path.split_first() {
        None => true,
        Some((&"[]", rest)) => node.items().into_iter().any(|i| has_path(i, rest)),
        Some((key, rest)) => node.get(key).is_some_and(|n| has_path(n, rest)),
    }
}

/// The apiVersion to write instead of `api_version` for this object, when the move is safe.
pub fn migrate(root: NodeRef<'_>, api_version: &str, kind: &str) -> Option<String> {
    let (group, version) = api_version.trim().rsplit_once('/')?;
    let m = MIGRATIONS.iter().find(|m| {
        m.group == group && m.from.contains(&version) && m.kinds.iter().any(|k| k.name() == kind)
    })?;
    if m.dropped.iter().any(|p| has_path(root, p)) {
        return None;
    }
    // The table agrees with the API table: the target is served.
    debug_assert!(
        crate::flux_api::group(group).is_some_and(|g| g.served.contains(&m.to)),
        "{group}/{}",
        m.to
    );
    Some(format!("{group}/{}", m.to))
}

#[cfg(test)]
mod tests {
    use super::{MIGRATIONS, migrate};
    use crate::flux_api;

    #[test]
    fn every_migration_goes_from_removed_to_served() {
        for m in MIGRATIONS {
            let g = flux_api::group(m.group).expect("a toolkit group");
            assert!(g.served.contains(&m.to), "{}/{}", m.group, m.to);
            for v in m.from {
                assert!(g.removed.iter().any(|(r, _)| r == v), "{}/{v}", m.group);
            }
            for k in m.kinds {
                assert!(g.kinds.contains(k), "{k:?}");
            }
        }
    }

    #[test]
    fn dropped_fields_block_the_move() {
        let doc = |spec: &str| {
            let text: std::sync::Arc<str> = format!(
                "apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nspec:\n{spec}"
            )
            .into();
            crate::yaml::parse_source(&text)
        };
        let ok = doc("  postRenderers:\n    - kustomize:\n        patches: []\n");
        let root = ok.documents[0].root().unwrap();
        assert_eq!(
            migrate(root, "helm.toolkit.fluxcd.io/v2beta2", "HelmRelease").as_deref(),
            Some("helm.toolkit.fluxcd.io/v2")
        );
        let blocked = doc("  postRenderers:\n    - kustomize:\n        patchesJson6902: []\n");
        let root = blocked.documents[0].root().unwrap();
        assert_eq!(
            migrate(root, "helm.toolkit.fluxcd.io/v2beta2", "HelmRelease"),
            None
        );
        // Kinds and groups without a safe move stay.
        assert_eq!(
            migrate(root, "notification.toolkit.fluxcd.io/v1beta2", "Alert"),
            None
        );
    }
}
