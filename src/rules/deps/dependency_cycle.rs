use crate::diag::{Diagnostic, Severity};
use crate::model::graph::Graph;
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};

pub struct DependencyCycle;

pub static META: RuleMeta = RuleMeta {
    code: "FV302",
    name: "dependency-cycle",
    severity: Severity::Error,
    summary: "dependsOn edges form a cycle (self-dependency included).",
    docs: r#"## What it does
Finds cycles in the dependsOn graph of HelmReleases and of Kustomizations, a self-dependency
included. Each cycle is reported once, at the edge leaving its first object (in file order), and
every edge of the cycle is labelled with its file and line.

## Why is this bad?
Flux does not detect cycles. Every object on the cycle waits for the next one to become Ready, so
none of them is ever applied; each just reports `DependencyNotReady` forever.

## Example
```yaml
# cert-manager.yaml
spec:
  dependsOn:
    - name: kyverno
---
# kyverno.yaml
spec:
  dependsOn:
    - name: cert-manager
```

## Use instead
Keep the edge that follows the canonical order and drop the other:
```yaml
# kyverno.yaml
spec:
  dependsOn:
    - name: cert-manager
```
"#,
};

impl Rule for DependencyCycle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let g = Graph::build(repo);
        for cycle in g.cycles() {
            let Some(&first) = cycle.first() else {
                continue;
            };
            let names: Vec<&str> = cycle
                .iter()
                .map(|&e| g.node(g.edges[e].from).name())
                .collect();
            let e0 = g.edges[first];
            let head = g.node(e0.from);
            let kind = head.kind.as_str();
            let (message, help) = if cycle.len() == 1 {
                (
                    format!(
                        "{kind} `{}` depends on itself: Flux waits for it to be Ready before applying it, so it never is",
                        head.name()
                    ),
                    "remove this entry".to_string(),
                )
            } else {
                let mut chain = names.join(" -> ");
                chain.push_str(&format!(" -> {}", names[0]));
                (
                    format!(
                        "dependsOn cycle {chain}: Flux never detects it and none of these {kind}s is ever applied"
                    ),
                    "remove the edge that goes against the intended order, so the chain starts somewhere".to_string(),
                )
            };
            let mut d = Diagnostic::new(&META, head.file(), g.refs[e0.dep].name_span, message)
                .primary_label(format!(
                    "`{}` waits for `{}`",
                    head.name(),
                    g.node(e0.to).name()
                ))
                .help(help);
            for &e in &cycle[1..] {
                let edge = g.edges[e];
                let from = g.node(edge.from);
                d = d.label(
                    from.file(),
                    g.refs[edge.dep].name_span,
                    format!("`{}` waits for `{}`", from.name(), g.node(edge.to).name()),
                );
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::deps::fixtures::obj;
    use crate::rules::testing::findings_of;

    fn run(files: &[(&str, String)]) -> Vec<(String, usize, usize)> {
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        findings_of("FV302", &files)
    }

    #[test]
    fn fires_on_a_self_dependency() {
        let files = [("a.yaml", obj("hr", "a", Some("x"), &["{name: a}"]))];
        assert_eq!(run(&files), vec![("a.yaml".into(), 9, 14)]);
    }

    #[test]
    fn fires_once_on_a_two_cycle() {
        let files = [
            ("a.yaml", obj("hr", "a", Some("x"), &["{name: b}"])),
            ("b.yaml", obj("hr", "b", Some("x"), &["{name: a}"])),
        ];
        assert_eq!(run(&files), vec![("a.yaml".into(), 9, 14)]);
    }

    #[test]
    fn fires_once_on_a_three_cycle_with_every_edge_labelled() {
        let files = [
            ("c.yaml", obj("ks", "c", Some("x"), &["{name: a}"])),
            ("a.yaml", obj("ks", "a", Some("x"), &["{name: b}"])),
            ("b.yaml", obj("ks", "b", Some("x"), &["{name: c}"])),
        ];
        assert_eq!(run(&files), vec![("a.yaml".into(), 9, 14)]);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let out = crate::engine::check_memory(&files, crate::config::Config::default());
        let d = out
            .diagnostics
            .iter()
            .find(|d| std::ptr::eq(d.rule, &super::META))
            .expect("a finding of this rule");
        assert_eq!(d.labels.len(), 2);
        let label_files: Vec<&str> = d.labels.iter().map(|l| out.repo.path(l.file)).collect();
        assert_eq!(label_files, vec!["b.yaml", "c.yaml"]);
        assert!(d.message.contains("a -> b -> c -> a"), "{}", d.message);
    }

    #[test]
    fn quiet_on_a_chain_and_across_namespaces() {
        let files = [
            ("a.yaml", obj("hr", "a", Some("x"), &["{name: b}"])),
            ("b.yaml", obj("hr", "b", Some("x"), &["{name: c}"])),
            (
                "c.yaml",
                obj("hr", "c", Some("x"), &["{name: a, namespace: y}"]),
            ),
            ("d.yaml", obj("hr", "a", Some("y"), &[])),
        ];
        assert!(run(&files).is_empty());
    }

    #[test]
    fn quiet_across_kinds() {
        let files = [
            ("a.yaml", obj("hr", "a", Some("x"), &["{name: b}"])),
            ("b.yaml", obj("hr", "b", Some("x"), &[])),
            ("c.yaml", obj("ks", "b", Some("x"), &["{name: a}"])),
            ("d.yaml", obj("ks", "a", Some("x"), &[])),
        ];
        assert!(run(&files).is_empty());
    }
}
