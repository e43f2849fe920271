use crate::diag::{Diagnostic, Severity};
use crate::model::index::Repository;
use crate::promotion::matrix;
use crate::rules::{Rule, RuleMeta};

/// Silent unless the config lists `environments`.
pub struct PromotionSkipped;

pub static META: RuleMeta = RuleMeta {
    code: "FV701",
    name: "promotion-skipped",
    severity: Severity::Warning,
    summary: "A later environment pins a higher exact chart version of a HelmRelease than an earlier one.",
    docs: r#"## What it does
With `environments: [dev, staging, production]` in `.fluxvet.yaml`, matches HelmReleases across
environments by `metadata.name` and reports an environment that pins a higher exact chart
version than an earlier environment does. The environment of a HelmRelease is a directory
segment of its path (`environment_match: path`, the default), its namespace (`namespace`:
equal to the environment or ending in `-<environment>`), or either (`both`).

Versions come from `spec.chart.spec.version`, and from the kustomize build of an overlay in
the environment (`apps/production/kustomization.yaml` whose patches set the version of a
release from `apps/base`), each at the line that set it; an overlay whose build fails counts for
nothing.
Only exact semver versions are compared (`1.2.3`, `v1.2.3`); ranges are FV202's business.
`fluxvet versions` prints the whole matrix.

Where every configured environment is a cluster's name (`clusters/staging`,
`clusters/production`), the versions are read from what each cluster applies instead: the
kustomize build of every Flux Kustomization the cluster reaches, overlays and Flux's own
`spec.patches` included, each version at the line that set it. `fluxvet versions` without
`environments` shows the clusters that way.

## Why is this bad?
The runbook says to test HelmRelease changes in dev before promoting them: production running
a chart version that staging never ran is an untested upgrade.

## Example
```yaml
# apps/staging/podinfo.yaml
    spec:
      version: "6.4.0"
# apps/production/podinfo.yaml
    spec:
      version: "6.5.0"
```

## Use instead
Promote in order: bump staging to 6.5.0 first, let it run, then production.
"#,
};

impl Rule for PromotionSkipped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            flux_kinds: &[crate::flux_api::FluxKind::HelmRelease],
            ..crate::rules::Reads::NOTHING
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let m = matrix(repo);
        for r in &m.releases {
            for pin in &r.pins {
                let Some(earlier) = r.ahead_of(pin) else {
                    continue;
                };
                let (Some(v), Some(ev)) = (pin.version.as_deref(), earlier.version.as_deref())
                else {
                    continue;
                };
                let env = &m.environments[pin.env];
                let eenv = &m.environments[earlier.env];
                out.push(
                    Diagnostic::new(
                        &META,
                        pin.file,
                        pin.span,
                        format!(
                            "HelmRelease \"{}\" pins chart {v} in {env}, ahead of {ev} in {eenv}: {env} would run a version {eenv} never tested",
                            r.name
                        ),
                    )
                    .primary_label(format!("{env} version"))
                    .label(earlier.file, earlier.span, format!("{eenv} pins {ev}"))
                    .help(format!(
                        "promote through {eenv} first (set {v} there), or pin {env} back to {ev}"
                    )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, EnvironmentMatch};
    use crate::rules::testing::findings_with;

    fn hr(name: &str, ns: &str, version: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: {name}\n      version: \"{version}\"\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n"
        )
    }

    fn envs(list: &[&str], mode: EnvironmentMatch) -> Config {
        Config {
            environments: list.iter().map(|s| s.to_string()).collect(),
            environment_match: mode,
            ..Config::default()
        }
    }

    fn fv701(files: &[(&str, &str)], config: Config) -> Vec<(String, usize, usize)> {
        findings_with(files, config)
            .into_iter()
            .filter(|f| f.0 == "FV701")
            .map(|(_, f, l, c)| (f, l, c))
            .collect()
    }

    #[test]
    fn fires_at_the_later_environment() {
        let dev = hr("podinfo", "podinfo", "6.4.0");
        let prod = hr("podinfo", "podinfo", "6.5.0");
        let files = [
            ("apps/dev/podinfo.yaml", dev.as_str()),
            ("apps/production/podinfo.yaml", prod.as_str()),
        ];
        let f = fv701(&files, envs(&["dev", "production"], EnvironmentMatch::Path));
        assert_eq!(f, vec![("apps/production/podinfo.yaml".into(), 11, 16)]);
    }

    #[test]
    fn fires_on_three_environments_and_by_namespace() {
        let dev = hr("redis", "cache-dev", "1.0.0");
        let stg = hr("redis", "cache-staging", "1.2.0");
        let prd = hr("redis", "cache-production", "1.1.0");
        let files = [
            ("releases/a.yaml", dev.as_str()),
            ("releases/b.yaml", stg.as_str()),
            ("releases/c.yaml", prd.as_str()),
        ];
        let config = envs(
            &["dev", "staging", "production"],
            EnvironmentMatch::Namespace,
        );
        let f = fv701(&files, config);
        // staging (1.2.0) and production (1.1.0) are both ahead of dev (1.0.0).
        assert_eq!(
            f,
            vec![
                ("releases/b.yaml".into(), 11, 16),
                ("releases/c.yaml".into(), 11, 16)
            ]
        );
    }

    #[test]
    fn quiet_when_promoted_in_order_without_config_or_with_ranges() {
        let dev = hr("podinfo", "podinfo", "6.5.0");
        let stg = hr("podinfo", "podinfo", "v6.5.0");
        let prd = hr("podinfo", "podinfo", "6.4.0");
        let files = [
            ("apps/dev/podinfo.yaml", dev.as_str()),
            ("apps/staging/podinfo.yaml", stg.as_str()),
            ("apps/production/podinfo.yaml", prd.as_str()),
        ];
        let three = || envs(&["dev", "staging", "production"], EnvironmentMatch::Path);
        assert_eq!(fv701(&files, three()), vec![]);
        assert_eq!(fv701(&files, Config::default()), vec![]);
        let range = hr("podinfo", "podinfo", ">=1.0.0");
        let files = [
            ("apps/dev/podinfo.yaml", prd.as_str()),
            ("apps/production/podinfo.yaml", range.as_str()),
        ];
        assert_eq!(fv701(&files, three()), vec![]);
    }

    #[test]
    fn fires_on_an_overlay_patch() {
        let base = hr("podinfo", "podinfo", "6.0.0");
        let patch = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  chart:\n    spec:\n      version: 6.2.0\n";
        let files = [
            (
                "apps/base/podinfo/kustomization.yaml",
                "resources: [release.yaml]\n",
            ),
            ("apps/base/podinfo/release.yaml", base.as_str()),
            (
                "apps/staging/kustomization.yaml",
                "resources: [../base/podinfo]\n",
            ),
            (
                "apps/production/kustomization.yaml",
                "resources: [../base/podinfo]\npatches:\n  - path: version.yaml\n    target:\n      kind: HelmRelease\n",
            ),
            ("apps/production/version.yaml", patch),
        ];
        let f = fv701(
            &files,
            envs(&["staging", "production"], EnvironmentMatch::Path),
        );
        assert_eq!(f, vec![("apps/production/version.yaml".into(), 8, 16)]);
    }
}
