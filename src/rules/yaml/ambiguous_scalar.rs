use crate::diag::{Diagnostic, Severity};
use crate::rules::{DocContext, Rule, RuleMeta};
use crate::yaml::scalar::{is_yaml11_octal, yaml11_bool};
use crate::yaml::{Document, Kind, NodeId, Style};

pub struct AmbiguousScalar;

pub static META: RuleMeta = RuleMeta {
    code: "FV104",
    name: "ambiguous-scalar",
    severity: Severity::Warning,
    summary: "A plain scalar Kubernetes' YAML 1.1 decoder reads differently from YAML 1.2.",
    docs: r#"## What it does
Reports an unquoted key or value in a Kubernetes manifest that Go's YAML 1.1 decoder (what
`kubectl`, the API server's YAML path and Flux's final decode before applying use) reads
differently from YAML 1.2, which editors, `yq` and most linters follow:
- `y`, `Y`, `yes`, `Yes`, `YES`, `n`, `N`, `no`, `No`, `NO`, `on`, `On`, `ON`, `off`, `Off`, `OFF`
  are booleans in YAML 1.1 and strings in YAML 1.2. As a mapping key the boolean turns into the
  key `"true"` or `"false"` (a Helm value `y: 10` arrives as `true: 10`).
- A leading-zero number such as `0755` is octal (493) in YAML 1.1 and decimal (755) in YAML 1.2.

Scope, to keep every finding meaningful:
- Only documents with `apiVersion` and `kind` are checked, and not kustomize's own
  `kustomize.config.k8s.io` files (kustomize reads those with a YAML 1.2 decoder). Other YAML in
  the repository (CI workflows, tool configs) is read by other parsers.
- Octal numbers under a `defaultMode` or `mode` key are not reported: Kubernetes file modes are
  meant as octal, and Go reads them that way.
- YAML 1.1 sexagesimal numbers (`1:20`) are not reported: Go's YAML decoders deliberately do
  not implement base 60, so Kubernetes reads `1:20` as the string it looks like.
- Quoted, block and explicitly tagged scalars are never ambiguous.

## Why is this bad?
What a reviewer (or a YAML 1.2 tool) sees is not what the cluster gets: an environment variable
`value: on` is rejected because it is a boolean, not a string; a chart value `mode: off` turns into
`false`; a map key `n:` silently becomes `"false"`.

## Example
```yaml
env:
  - name: FEATURE
    value: on
```

## Use instead
```yaml
env:
  - name: FEATURE
    value: "on"
```

## Fix
`fluxvet check --fix` quotes the value as written (`value: on` becomes `value: "on"`) where the
field is a string by its Kubernetes type, so the boolean or number could only ever be rejected:
labels and annotations, ConfigMap `data`, Secret `stringData`, and container `env[].value` in
core workloads. Keys, Helm values and custom resources are left to you: there the boolean may be
what was meant.
"#,
};

impl Rule for AmbiguousScalar {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_document(&self, cx: &DocContext<'_>, out: &mut Vec<Diagnostic>) {
        let api_version = match cx.object {
            // The index read the same two keys already.
            Some(o) => o.api_version.as_str(),
            None => {
                let Some(root) = cx.doc.root() else { return };
                let (Some(api_version), Some(_)) = (
                    root.get("apiVersion").and_then(|n| n.as_str()),
                    root.get("kind").and_then(|n| n.as_str()),
                ) else {
                    return;
                };
                api_version
            }
        };
        if api_version.starts_with("kustomize.config.k8s.io/") {
            return;
        }
        let Some(root_id) = cx.doc.root else { return };
        let kind = cx
            .doc
            .root()
            .and_then(|r| r.get("kind"))
            .and_then(|k| k.as_str())
            .unwrap_or("");
        let strings = cx
            .doc
            .root()
            .map(|r| crate::fix::strings::string_fields(r, api_version, kind))
            .unwrap_or_default();
        let mut walker = Walker {
            doc: cx.doc,
            file: cx.file_id,
            source: cx.file,
            strings,
            out,
        };
        walker.walk(root_id, None, false, 0);
    }
}

struct Walker<'a, 'o> {
    doc: &'a Document,
    file: crate::diag::FileId,
    source: &'a crate::source::SourceFile,
    /// Plain values in string-typed fields, which `--fix` may quote.
    strings: Vec<crate::source::Span>,
    out: &'o mut Vec<Diagnostic>,
}

impl Walker<'_, '_> {
    /// Quoting resolves the finding without a choice only where the field is a string.
    fn fix(
        &self,
        span: crate::source::Span,
        value: &str,
        is_key: bool,
    ) -> Option<crate::diag::Fix> {
        if is_key || !self.strings.contains(&span) {
            return None;
        }
        crate::fix::quote(self.source, span, value)
    }
}

/// Nesting beyond this is not walked; the parser's own limits make it unreachable in practice.
const MAX_DEPTH: usize = 256;

impl Walker<'_, '_> {
    fn walk(&mut self, id: NodeId, parent_key: Option<&str>, is_key: bool, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let doc = self.doc;
        let Some(node) = doc.nodes.get(id as usize) else {
            return;
        };
        match doc.kind_of(id) {
            // The anchored node is reported where it is written, once.
            Kind::Alias(_) => {}
            Kind::Mapping(entries) => {
                for &(k, v) in entries {
                    self.walk(k, None, true, depth + 1);
                    let key = match doc.kind_of(k) {
                        Kind::Scalar { value, .. } => Some(value),
                        _ => None,
                    };
                    self.walk(v, key, false, depth + 1);
                }
            }
            Kind::Sequence(items) => {
                for &i in items {
                    self.walk(i, parent_key, false, depth + 1);
                }
            }
            Kind::Scalar { value, style } => {
                if style != Style::Plain || doc.tag_of(id).is_some() {
                    return;
                }
                self.scalar(value, node.span, parent_key, is_key);
            }
        }
    }

    fn scalar(
        &mut self,
        v: &str,
        span: crate::source::Span,
        parent_key: Option<&str>,
        is_key: bool,
    ) {
        let role = if is_key { "key" } else { "value" };
        if let Some(b) = yaml11_bool(v) {
            let message = if is_key {
                format!(
                    "key `{v}` is the boolean {b} in YAML 1.1: Kubernetes stores it as the key \"{b}\", YAML 1.2 tools as \"{v}\""
                )
            } else {
                format!(
                    "`{v}` is the boolean {b} for Kubernetes' YAML 1.1 decoder but the string \"{v}\" in YAML 1.2"
                )
            };
            let help = if is_key {
                format!("quote the key: `\"{v}\":`")
            } else {
                format!("write `\"{v}\"` for the string or `{b}` for the boolean")
            };
            let fix = self.fix(span, v, is_key);
            self.out.push(
                Diagnostic::new(&META, self.file, span, message)
                    .primary_label(format!("ambiguous {role}"))
                    .help(help)
                    .with_fix(fix),
            );
            return;
        }
        let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
        if is_yaml11_octal(v) && !digits.contains('_') {
            if matches!(parent_key, Some("defaultMode" | "mode")) && !is_key {
                return;
            }
            let Ok(octal) = i64::from_str_radix(digits, 8) else {
                return;
            };
            let decimal = digits.trim_start_matches('0');
            let decimal = if decimal.is_empty() { "0" } else { decimal };
            // `00` to `07` are the same number either way.
            if decimal.parse::<i64>() == Ok(octal) {
                return;
            }
            self.out.push(
                Diagnostic::new(
                    &META,
                    self.file,
                    span,
                    format!(
                        "`{v}` is the octal number {octal} for Kubernetes' YAML 1.1 decoder but {decimal} in YAML 1.2"
                    ),
                )
                .primary_label(format!("ambiguous {role}"))
                .help(format!(
                    "write `\"{v}\"` for a string, `{octal}` for the number Kubernetes reads, or `0o{digits_trim}` for an explicit octal",
                    digits_trim = digits.trim_start_matches('0')
                ))
                .with_fix(self.fix(span, v, is_key)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    #[test]
    fn fires_on_yaml11_booleans_and_octals() {
        let src = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
        - name: c
          env:
            - name: A
              value: on
          args: [--x, no]
      volumes:
        - name: v
          configMap:
            defaultMode: 0644
            items:
              - key: k
                path: p
                mode: 0600
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: h
spec:
  values:
    pos:
      x: 1
      y: 2
    zip: 01234
";
        assert_eq!(
            findings_of("FV104", &[("d.yaml", src)]),
            vec![
                ("d.yaml".into(), 12, 22),
                ("d.yaml".into(), 13, 23),
                ("d.yaml".into(), 31, 7),
                ("d.yaml".into(), 32, 10),
            ]
        );
    }

    #[test]
    fn quiet_on_quoted_non_k8s_and_kustomize_files() {
        let src = "apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  A: \"on\"
  B: 'no'
  C: !!str yes
  D: 1:20
  E: true
---
on:
  push: {}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
commonLabels:
  flag: yes
";
        assert!(findings_of("FV104", &[("c.yaml", src)]).is_empty());
    }
}
