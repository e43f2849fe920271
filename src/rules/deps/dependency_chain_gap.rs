use crate::diag::{Diagnostic, Severity};
use crate::model::graph::Graph;
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};

pub struct DependencyChainGap;

pub static META: RuleMeta = RuleMeta {
    code: "FV304",
    name: "dependency-chain-gap",
    severity: Severity::Warning,
    summary: "A component does not wait for the nearest earlier component present in the repository.",
    docs: r#"## What it does
A repository may hold only part of the canonical order. For every component present, finds the
nearest earlier component present **as the same kind** (HelmReleases are judged against
HelmReleases, Kustomizations against Kustomizations, because Flux never lets one kind wait for
the other) and reports the component when its dependsOn chain, followed transitively, never
reaches it. Only in a repository that adopted a canonical order (`order:` in `.fluxvet.yaml`):
on one that never did, the default order would tell core components to wait for optional
add-ons. FV303 (an edge against the order) applies everywhere. An object with a dependsOn entry that cannot be resolved (reported by FV301 or
FV305, or filled in by `${VAR}` substitution) is not judged.

A HelmRelease whose own chain does not reach the earlier one still counts as ordered when the
Flux Kustomization that applies it waits for the Kustomization that applies the earlier
component: the usual "one Kustomization per app" layout, where HelmReleases carry no dependsOn.

## Why is this bad?
Nothing stops Flux from starting the later component first: `kyverno` installs before
`cert-manager` has issued its webhook certificates and fails, and the runbook's "fix A first"
order no longer matches what the cluster does.

## Example
```yaml
# cert-manager and monitoring are present; monitoring skips kyverno's place but
# does not wait for cert-manager either
metadata:
  name: monitoring
spec:
  dependsOn: []
```

## Use instead
```yaml
metadata:
  name: monitoring
spec:
  dependsOn:
    - name: cert-manager
```
"#,
};

impl Rule for DependencyChainGap {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let g = Graph::build(repo);
        for (n, targets) in g.gaps() {
            let node = g.node(n);
            let Some(&first) = targets.first() else {
                continue;
            };
            let prev = g.node(first);
            let (Some(mine), Some(theirs)) = (node.component, prev.component) else {
                continue;
            };
            let kind = node.kind.as_str();
            let ns = match (prev.namespace, node.namespace) {
                (Some(p), Some(me)) if p != me => format!(", namespace: {p}"),
                (Some(p), None) => format!(", namespace: {p}"),
                _ => String::new(),
            };
            let mut d = Diagnostic::new(
                &META,
                node.file(),
                node.object.name_span,
                format!(
                    "{kind} `{}` (component `{mine}`) does not wait for `{theirs}`, the nearest earlier component present in this repository: Flux may start {mine} before {theirs} is Ready",
                    node.name()
                ),
            )
            .primary_label(format!("no dependsOn path to `{}`", prev.name()))
            .help(format!(
                "add `{{name: {}{ns}}}` to spec.dependsOn",
                prev.name()
            ));
            d = d.label(
                prev.file(),
                prev.object.name_span,
                format!("`{theirs}` is defined here"),
            );
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::deps::fixtures::obj;
    use crate::rules::testing::findings_of_with;

    /// The default order, adopted as a repository's `.fluxvet.yaml` does with `order:`.
    fn adopted() -> Config {
        Config {
            order_adopted: true,
            ..Config::default()
        }
    }

    fn run(files: &[(&str, String)], config: Config) -> Vec<(String, usize, usize)> {
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        findings_of_with("FV304", &files, config)
    }

    fn chain(kind: &str, deps_of_monitoring: &[&str]) -> Vec<(&'static str, String)> {
        vec![
            ("a.yaml", obj(kind, "cert-manager", Some("x"), &[])),
            (
                "b.yaml",
                obj(kind, "kyverno", Some("x"), &["{name: cert-manager}"]),
            ),
            (
                "c.yaml",
                obj(kind, "monitoring", Some("x"), deps_of_monitoring),
            ),
        ]
    }

    #[test]
    fn fires_when_a_component_waits_for_nothing() {
        let files = chain("hr", &[]);
        assert_eq!(run(&files, adopted()), vec![("c.yaml".into(), 4, 9)]);
    }

    #[test]
    fn fires_when_the_chain_skips_the_nearest_earlier_component() {
        let files = chain("ks", &["{name: cert-manager}"]);
        assert_eq!(run(&files, adopted()), vec![("c.yaml".into(), 4, 9)]);
    }

    #[test]
    fn quiet_when_reached_directly_or_transitively_and_gaps_are_judged_against_present_ones() {
        assert!(run(&chain("hr", &["{name: kyverno}"]), adopted()).is_empty());
        let files = [
            ("a.yaml", obj("hr", "cert-manager", Some("x"), &[])),
            // kyverno, monitoring and logging are absent: openbao must wait for cert-manager,
            // here through a helper that is not a component.
            (
                "b.yaml",
                obj("hr", "crds", Some("x"), &["{name: cert-manager}"]),
            ),
            ("c.yaml", obj("hr", "openbao", Some("x"), &["{name: crds}"])),
        ];
        assert!(run(&files, adopted()).is_empty());
    }

    #[test]
    fn quiet_when_an_entry_is_already_reported_or_substituted() {
        for dep in ["{name: cert-manger}", "'${DEP}'", "{name: \"${DEP}\"}"] {
            let files = chain("hr", &[dep]);
            assert!(run(&files, adopted()).is_empty(), "{dep}");
        }
    }

    #[test]
    fn a_patch_without_depends_on_keeps_the_base_chain() {
        let mut files = chain("hr", &["{name: kyverno}"]);
        files.push((
            "overlays/prod/monitoring-values.yaml",
            obj("hr", "monitoring", Some("x"), &[]),
        ));
        assert!(run(&files, adopted()).is_empty());
    }

    #[test]
    fn kinds_are_judged_apart() {
        let files = [
            ("a.yaml", obj("ks", "cert-manager", Some("x"), &[])),
            ("b.yaml", obj("hr", "kyverno", Some("x"), &[])),
        ];
        assert!(run(&files, adopted()).is_empty());
    }

    #[test]
    fn a_helmrelease_is_ordered_by_the_kustomizations_that_apply_it() {
        let wrapper = |name: &str, dep: Option<&str>| {
            let mut s = format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}-app\n  namespace: flux-system\nspec:\n  path: ./apps/{name}\n"
            );
            if let Some(d) = dep {
                s.push_str(&format!("  dependsOn:\n    - name: {d}-app\n"));
            }
            s
        };
        let files = [
            ("clusters/cm.yaml", wrapper("cert-manager", None)),
            ("clusters/ky.yaml", wrapper("kyverno", Some("cert-manager"))),
            (
                "apps/cert-manager/hr.yaml",
                obj("hr", "cert-manager", Some("x"), &[]),
            ),
            ("apps/kyverno/hr.yaml", obj("hr", "kyverno", Some("x"), &[])),
        ];
        assert!(run(&files, adopted()).is_empty());
        let files = [
            ("clusters/cm.yaml", wrapper("cert-manager", None)),
            ("clusters/ky.yaml", wrapper("kyverno", None)),
            (
                "apps/cert-manager/hr.yaml",
                obj("hr", "cert-manager", Some("x"), &[]),
            ),
            ("apps/kyverno/hr.yaml", obj("hr", "kyverno", Some("x"), &[])),
        ];
        assert_eq!(
            run(&files, adopted()),
            vec![("apps/kyverno/hr.yaml".into(), 4, 9)]
        );
    }

    #[test]
    fn a_gap_in_a_component_kustomization_is_reported_once_on_it() {
        let wrapper = |name: &str, dep: Option<&str>| {
            let mut s = format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  path: ./apps/{name}\n"
            );
            if let Some(d) = dep {
                s.push_str(&format!("  dependsOn:\n    - name: {d}\n"));
            }
            s
        };
        let files = |dep: Option<&str>, hr_deps: &[&str]| {
            vec![
                ("clusters/cm.yaml", wrapper("cert-manager", None)),
                ("clusters/ky.yaml", wrapper("kyverno", dep)),
                (
                    "apps/cert-manager/hr.yaml",
                    obj("hr", "cert-manager", Some("x"), &[]),
                ),
                (
                    "apps/kyverno/hr.yaml",
                    obj("hr", "kyverno", Some("x"), hr_deps),
                ),
            ]
        };
        assert_eq!(
            run(&files(None, &[]), adopted()),
            vec![("clusters/ky.yaml".into(), 4, 9)]
        );
        assert!(run(&files(Some("cert-manager"), &[]), adopted()).is_empty());
        // A HelmRelease with a dependsOn of its own is judged on it.
        let mut own = files(None, &["{name: other}"]);
        own.push(("apps/other/hr.yaml", obj("hr", "other", Some("x"), &[])));
        assert_eq!(
            run(&own, adopted()),
            vec![
                ("apps/kyverno/hr.yaml".into(), 4, 9),
                ("clusters/ky.yaml".into(), 4, 9)
            ]
        );
    }

    #[test]
    fn overlay_kustomizations_order_the_base_helmreleases_they_pull_in() {
        let wrapper = |name: &str, dep: Option<&str>| {
            let mut s = format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}-app\n  namespace: flux-system\nspec:\n  path: ./prod/{name}\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
            );
            if let Some(d) = dep {
                s.push_str(&format!("  dependsOn:\n    - name: {d}-app\n"));
            }
            s
        };
        let files = |dep: Option<&str>| {
            let mut f = vec![
                (
                    "clusters/cm.yaml".to_string(),
                    wrapper("cert-manager", None),
                ),
                ("clusters/ky.yaml".to_string(), wrapper("kyverno", dep)),
            ];
            for c in ["cert-manager", "kyverno"] {
                f.push((
                    format!("prod/{c}/kustomization.yaml"),
                    format!("resources: [../../base/{c}]\n"),
                ));
                f.push((
                    format!("base/{c}/kustomization.yaml"),
                    "resources: [hr.yaml]\n".to_string(),
                ));
                f.push((format!("base/{c}/hr.yaml"), obj("hr", c, Some("x"), &[])));
            }
            f
        };
        let run = |f: Vec<(String, String)>| {
            let f: Vec<(&str, String)> = f.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
            run(&f, adopted())
        };
        assert!(run(files(Some("cert-manager"))).is_empty());
        assert_eq!(
            run(files(None)),
            vec![("base/kyverno/hr.yaml".into(), 4, 9)]
        );
    }

    #[test]
    fn custom_order_and_aliases() {
        let files = [
            ("a.yaml", obj("hr", "postgres", Some("x"), &[])),
            ("b.yaml", obj("hr", "grafana", Some("x"), &[])),
        ];
        let config = Config::parse(
            ".fluxvet.yaml",
            "order: [database, dashboards]\naliases: {postgres: database, grafana: dashboards}\n",
            crate::rules::lookup,
        )
        .expect("valid");
        assert_eq!(run(&files, config), vec![("b.yaml".into(), 4, 9)]);
        assert!(run(&files, adopted()).is_empty());
    }

    #[test]
    fn quiet_where_the_repository_never_adopted_an_order() {
        let files = chain("hr", &[]);
        assert!(run(&files, Config::default()).is_empty());
    }
}
