use crate::diag::{Diagnostic, Severity};
use crate::model::graph::{DepKind, depends_on};
use crate::rules::{DocContext, Rule, RuleMeta};
use crate::yaml::Kind;

pub struct DependencyMalformed;

pub static META: RuleMeta = RuleMeta {
    code: "FV305",
    name: "dependency-malformed",
    severity: Severity::Error,
    summary: "dependsOn is not a list of `{name, namespace?}` mappings.",
    docs: r#"## What it does
Checks the shape of `spec.dependsOn` on HelmReleases and Kustomizations: it must be a list, and
each entry a mapping with a non-empty string `name` (and optionally `namespace`). Reports a
dependsOn that is not a list, an entry that is a bare string, an entry without `name`, and an
entry that is not a mapping.

## Why is this bad?
The API server rejects the object (`spec.dependsOn[0]: Invalid value: "string"`), so Flux cannot
apply it, nor anything else in the same Kustomization apply.

## Example
```yaml
spec:
  dependsOn:
    - cert-manager
```

## Use instead
```yaml
spec:
  dependsOn:
    - name: cert-manager
```
"#,
};

impl Rule for DependencyMalformed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_document(&self, cx: &DocContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(object) = cx.object else {
            return;
        };
        if DepKind::of(object).is_none() {
            return;
        }
        let Some(root) = cx.doc.root() else {
            return;
        };
        let Some(list) = depends_on(root) else {
            return;
        };
        let kind = object.kind.as_str();
        let file = cx.file_id;
        match list.kind() {
            Kind::Sequence(_) => {}
            _ => {
                if list.as_str().is_some_and(|s| s.contains("${")) {
                    return;
                }
                let help = match list.as_str() {
                    Some(s) if !s.is_empty() => {
                        format!("write a list: `dependsOn: [{{name: {s}}}]`")
                    }
                    _ => "write a list of `- name: <object>` entries".to_string(),
                };
                out.push(
                    Diagnostic::new(
                        &META,
                        file,
                        list.span(),
                        format!("spec.dependsOn of {kind} `{}` is not a list: the API server rejects the object", object.name),
                    )
                    .primary_label("expected a list")
                    .help(help),
                );
                return;
            }
        }
        for item in list.items() {
            let span = item.span();
            let problem = match item.kind() {
                Kind::Scalar { .. } if item.is_null() => Some((
                    "an empty entry".to_string(),
                    "remove it or write `- name: <object>`".to_string(),
                )),
                Kind::Scalar { value, .. } => {
                    if value.contains("${") {
                        None
                    } else {
                        let (ns, name) = match value.split_once('/') {
                            Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
                                (Some(ns), name)
                            }
                            _ => (None, value),
                        };
                        let fix = match ns {
                            Some(ns) => format!("write `- name: {name}` with `namespace: {ns}`"),
                            None => format!("write `- name: {name}`"),
                        };
                        Some((format!("the string `{value}`"), fix))
                    }
                }
                Kind::Mapping(_) => match item.get("name") {
                    None => Some((
                        "an entry without `name`".to_string(),
                        "add `name: <object>`".to_string(),
                    )),
                    Some(n) if n.as_str().is_none_or(|s| s.is_empty()) || !n.is_string() => {
                        if n.as_str().is_some_and(|s| !s.is_empty()) {
                            // A plain `123` or `true`: the API server wants a string.
                            Some((
                                "an entry whose `name` is not a string".to_string(),
                                "quote the name".to_string(),
                            ))
                        } else {
                            Some((
                                "an entry with an empty `name`".to_string(),
                                "set `name` to the object to wait for".to_string(),
                            ))
                        }
                    }
                    Some(_) => None,
                },
                _ => Some((
                    "an entry that is not a mapping".to_string(),
                    "write `- name: <object>`".to_string(),
                )),
            };
            if let Some((what, fix)) = problem {
                out.push(
                    Diagnostic::new(
                        &META,
                        file,
                        span,
                        format!(
                            "spec.dependsOn of {kind} `{}` holds {what}; Flux expects `{{name, namespace?}}` mappings and the API server rejects the object",
                            object.name
                        ),
                    )
                    .primary_label("expected `name: <object>`")
                    .help(fix),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::deps::fixtures::obj;
    use crate::rules::testing::findings_of;

    fn run(files: &[(&str, String)]) -> Vec<(String, usize, usize)> {
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        findings_of("FV305", &files)
    }

    #[test]
    fn fires_on_strings_missing_names_and_non_mappings() {
        let files = [(
            "a.yaml",
            obj(
                "ks",
                "apps",
                Some("x"),
                &[
                    "infra",
                    "{namespace: x}",
                    "[a, b]",
                    "{name: ''}",
                    "{name: 42}",
                    "{name: ok}",
                ],
            ),
        )];
        assert_eq!(
            run(&files),
            vec![
                ("a.yaml".into(), 9, 7),
                ("a.yaml".into(), 10, 7),
                ("a.yaml".into(), 11, 7),
                ("a.yaml".into(), 12, 7),
                ("a.yaml".into(), 13, 7),
            ]
        );
    }

    #[test]
    fn fires_when_depends_on_is_not_a_list() {
        let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  dependsOn: cert-manager\n";
        assert_eq!(
            crate::rules::testing::findings_of("FV305", &[("a.yaml", text)]),
            vec![("a.yaml".into(), 6, 14)]
        );
        let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  dependsOn:\n    name: cert-manager\n";
        assert_eq!(
            crate::rules::testing::findings_of("FV305", &[("a.yaml", text)]),
            vec![("a.yaml".into(), 7, 5)]
        );
    }

    #[test]
    fn quiet_on_well_formed_lists_and_other_kinds() {
        let files = [
            (
                "a.yaml",
                obj(
                    "hr",
                    "a",
                    None,
                    &["{name: b}", "{name: c, namespace: d}", "{name: e, readyExpr: 'true'}"],
                ),
            ),
            (
                "b.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nspec:\n  dependsOn: [a]\n"
                    .to_string(),
            ),
            (
                "c.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\nspec:\n  dependsOn: []\n"
                    .to_string(),
            ),
        ];
        assert!(run(&files).is_empty());
    }
}
