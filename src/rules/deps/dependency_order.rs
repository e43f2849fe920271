use crate::diag::{Diagnostic, Severity};
use crate::model::graph::Graph;
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};

pub struct DependencyOrder;

pub static META: RuleMeta = RuleMeta {
    code: "FV303",
    name: "dependency-order",
    severity: Severity::Error,
    summary: "A dependsOn edge points against the canonical order.",
    docs: r#"## What it does
Matches HelmReleases and Kustomizations to the components of the canonical order by name (the
config's `aliases` map other names onto components) and reports a dependsOn entry where a
component waits for one that comes **after** it. The default order is
`istio-base, cert-manager, kyverno, monitoring, logging, openbao, harbor, neuvector, keycloak,
tempo, velero`; `order` in `.fluxvet.yaml` replaces it.

## Why is this bad?
The runbook brings the platform up in that order and fixes failures from the root of the chain.
An inverted edge makes an early component wait for a later one: the later one usually needs the
earlier one, so both wait forever, and the runbook's "fix A first" points at the wrong place.

## Example
```yaml
metadata:
  name: cert-manager
spec:
  dependsOn:
    - name: kyverno
```

## Use instead
```yaml
metadata:
  name: kyverno
spec:
  dependsOn:
    - name: cert-manager
```
"#,
};

impl Rule for DependencyOrder {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let g = Graph::build(repo);
        for e in g.inversions() {
            let edge = g.edges[e];
            let (from, to) = (g.node(edge.from), g.node(edge.to));
            let (Some(a), Some(b)) = (from.component, to.component) else {
                continue;
            };
            let a_is = if from.name() == a {
                format!("`{a}`")
            } else {
                format!("`{}` (component `{a}`)", from.name())
            };
            let b_is = if to.name() == b {
                format!("`{b}`")
            } else {
                format!("`{}` (component `{b}`)", to.name())
            };
            out.push(
                Diagnostic::new(
                    &META,
                    from.file(),
                    g.refs[edge.dep].name_span,
                    format!(
                        "{a_is} waits for {b_is}, which comes after it in the canonical order: Flux holds {a} back until {b} is Ready"
                    ),
                )
                .primary_label(format!("`{b}` comes after `{a}`"))
                .help(format!(
                    "remove this entry; `{b}` should depend on `{a}` (order: {})",
                    repo.config.order.join(" -> ")
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::deps::fixtures::obj;
    use crate::rules::testing::findings_of_with;

    fn run(files: &[(&str, String)], config: Config) -> Vec<(String, usize, usize)> {
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        findings_of_with("FV303", &files, config)
    }

    #[test]
    fn fires_on_an_inverted_edge() {
        let files = [
            (
                "a.yaml",
                obj("hr", "cert-manager", Some("x"), &["{name: kyverno}"]),
            ),
            ("b.yaml", obj("hr", "kyverno", Some("x"), &[])),
        ];
        assert_eq!(
            run(&files, Config::default()),
            vec![("a.yaml".into(), 9, 14)]
        );
    }

    #[test]
    fn fires_through_an_alias() {
        let files = [
            (
                "a.yaml",
                obj(
                    "ks",
                    "kube-prometheus-stack",
                    Some("x"),
                    &["{name: openbao}"],
                ),
            ),
            ("b.yaml", obj("ks", "openbao", Some("x"), &[])),
        ];
        let config = Config::parse(
            ".fluxvet.yaml",
            "aliases: {kube-prometheus-stack: monitoring}\n",
            crate::rules::lookup,
        )
        .expect("valid config");
        assert_eq!(run(&files, config), vec![("a.yaml".into(), 9, 14)]);
        assert!(run(&files, Config::default()).is_empty());
    }

    #[test]
    fn custom_order_replaces_the_default() {
        let files = [
            (
                "a.yaml",
                obj("hr", "cert-manager", Some("x"), &["{name: kyverno}"]),
            ),
            ("b.yaml", obj("hr", "kyverno", Some("x"), &["{name: db}"])),
            ("c.yaml", obj("hr", "db", Some("x"), &[])),
        ];
        let config = Config::parse(
            ".fluxvet.yaml",
            "order: [kyverno, cert-manager, db]\n",
            crate::rules::lookup,
        )
        .expect("valid");
        assert_eq!(run(&files, config), vec![("b.yaml".into(), 9, 14)]);
    }

    #[test]
    fn quiet_on_the_canonical_direction_and_unknown_names() {
        let files = [
            (
                "a.yaml",
                obj("hr", "kyverno", Some("x"), &["{name: cert-manager}"]),
            ),
            (
                "b.yaml",
                obj("hr", "cert-manager", Some("x"), &["{name: crds}"]),
            ),
            ("c.yaml", obj("hr", "crds", Some("x"), &[])),
            (
                "d.yaml",
                obj("hr", "velero", Some("x"), &["{name: kyverno}"]),
            ),
        ];
        assert!(run(&files, Config::default()).is_empty());
    }
}
