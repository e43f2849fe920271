use crate::diag::{Diagnostic, Severity};
use crate::flux_api::{CoreKind, KustomizeKind};
use crate::rules::{DocContext, Rule, RuleMeta};
use crate::yaml::scalar;
use crate::yaml::{Document, Kind, NodeId, Style};

pub struct AmbiguousScalar;

pub static META: RuleMeta = RuleMeta {
    code: "FV104",
    name: "ambiguous-scalar",
    severity: Severity::Warning,
    summary: "A plain value Flux's YAML decoder (go-yaml v3) reads as a number, boolean or null where a string is expected.",
    docs: r#"## What it does
Reports an unquoted value that kustomize-controller's decoder (kyaml, i.e. go-yaml v3) reads
as a number, a boolean or null in a place where Kubernetes or the chart expects a string, so
the value changes on its way to the cluster:
- an image tag: kustomize's `newTag:` (any number), or a chart value `tag:`/`imageTag:` whose
  number the chart prints differently (`1.10` is the float 1.1, `0755` is 493, `1234567` prints
  as `1.234567e+06`; `tag: 41` prints as `41` and is not reported; `tag: null` unsets the key,
  so the chart's default tag applies, and is not reported either);
- a label or annotation value (`metadata.labels`, a pod template's `annotations`,
  `matchLabels`, `nodeSelector`, kustomize `commonLabels`/`commonAnnotations`/`labels[].pairs`,
  chart values named `…Labels`/`…Annotations` such as `podAnnotations`): `1.31`, `true`, `null`
  (not an object's own `metadata.annotations`, SOPS-encrypted documents aside: kustomize,
  through which Flux applies every object, rewrites those as strings with the text as
  written; in chart
  values named so, not `true` or `false`: such a map may be the chart's switches, as
  k8s-monitoring's `nodeLabels: {region: true}`; nor a chart value's `enabled: false` in any
  such map, as elasticsearch's `persistence.labels.enabled`; nor `null` in a HelmRelease's values, where
  it deletes the chart's default, as `nodeSelector: {intel.feature.node.kubernetes.io/gpu:
  null}` does);
- a container environment variable's `value`; in a HelmRelease's chart values, only where
  the text changes however the chart renders it (`1.10`, `0755`, `True`): charts such as
  bjw-s' app-template print a number or boolean as a string (`5432`, `true` come out as
  written), others pass it unchanged, so the chart decides;
- a ConfigMap's `data` or a Secret's `stringData` value;
- in any of these, a leading-zero number such as `0755`, which go-yaml v3 reads as octal (493).

go-yaml v3's types are YAML 1.2's with two Go habits: `0755` is octal and `1.` a float. `yes`,
`no`, `on`, `off`, `y` and `n` are strings (kustomize re-quotes them when it writes the
object out), and there is no base 60: `1:20` is the string it looks like. None of those is a
finding. Quoted, block and explicitly tagged (`!!str`) scalars are never reported, and neither
is any other field (a number under `replicas:` is meant as one), nor anything in an
`openAPIV3Schema` (a CRD's schema of a `labels` property is no label).

## Why is this bad?
What a reviewer sees is not what the cluster gets: the image tag `1.10` pulls `1.1`; a label
value `true` or `1.31` is not a string, the object is rejected, and kustomize-controller then
drops all labels (fluxcd/pkg#1208); an env `value: 8080` or a ConfigMap value `enabled: true`
is rejected by the API server.

## Example
```yaml
metadata:
  labels:
    version: 1.31
spec:
  values:
    image:
      tag: 1.10
```

## Use instead
```yaml
metadata:
  labels:
    version: "1.31"
spec:
  values:
    image:
      tag: "1.10"
```

## Fix
`fluxvet check --fix` quotes the value as written (`value: 1.10` becomes `value: "1.10"`): every
field this rule judges is a string by its Kubernetes type (labels and annotations, ConfigMap
`data`, Secret `stringData`, `env[].value`, kustomize `newTag`), so the number or boolean could
only be rejected or changed. Image tags and env values in Helm chart values are left to
you: the chart decides what it does with them.
"#,
};

impl Rule for AmbiguousScalar {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_document(&self, cx: &DocContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(root) = cx.doc.root() else { return };
        let kustomize_file = crate::discover::is_kustomization_file(&cx.file.path);
        let kind = match cx.object {
            Some(o) => o.kind.as_str(),
            None => match (
                root.get("apiVersion").and_then(|n| n.as_str()),
                root.get("kind").and_then(|n| n.as_str()),
            ) {
                (Some(_), Some(kind)) => kind,
                _ if kustomize_file => KustomizeKind::Kustomization.name(),
                _ => return,
            },
        };
        let Some(root_id) = cx.doc.root else { return };
        let mut walker = Walker {
            doc: cx.doc,
            source: cx.file,
            file: cx.file_id,
            out,
            kind,
            sops: crate::secrets::is_sops_document(&root),
        };
        walker.walk(root_id, &[], 0);
    }
}

struct Walker<'a, 'o> {
    doc: &'a Document,
    source: &'a crate::source::SourceFile,
    file: crate::diag::FileId,
    out: &'o mut Vec<Diagnostic>,
    kind: &'a str,
    /// The document is SOPS-encrypted: its MAC covers the values as written, so a value
    /// kustomize rewrites (a boolean annotation becomes a string) no longer verifies.
    sops: bool,
}

/// Nesting beyond this is not walked; the parser's own limits make it unreachable in practice.
const MAX_DEPTH: usize = 256;

/// Keys whose value is a map of strings (label and annotation values).
const STRING_MAPS: &[&str] = &[
    "labels",
    "annotations",
    "matchLabels",
    "nodeSelector",
    "commonLabels",
    "commonAnnotations",
    "pairs",
];

/// Keys whose value is an image tag, a string.
const TAG_KEYS: &[&str] = &["tag", "newTag", "imageTag"];

impl<'a> Walker<'a, '_> {
    /// `path`: the mapping keys from the root to `id` (list items add none).
    fn walk(&mut self, id: NodeId, path: &[&'a str], depth: usize) {
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
                let mut child = path.to_vec();
                for &(k, v) in entries {
                    let Kind::Scalar { value: key, .. } = doc.kind_of(k) else {
                        continue;
                    };
                    // A JSON schema (a CustomResourceDefinition's, a Crossplane XRD's): its
                    // `labels` or `annotations` is a property's schema, whose `maxProperties:
                    // 8` is meant as a number, not a label value.
                    if key == "openAPIV3Schema" {
                        continue;
                    }
                    child.push(key);
                    self.walk(v, &child, depth + 1);
                    child.pop();
                }
            }
            Kind::Sequence(items) => {
                // A list under a label or annotation key is not such a map: kustomize's
                // `labels:` is a list of entries (`pairs`, `includeSelectors: true`).
                let mut item_path = path.to_vec();
                if path.last().is_some_and(|k| STRING_MAPS.contains(k)) {
                    item_path.push("-");
                }
                for &i in items {
                    self.walk(i, &item_path, depth + 1);
                }
            }
            Kind::Scalar { value, style } => {
                if style != Style::Plain || doc.tag_of(id).is_some() {
                    return;
                }
                // `key: null` in a HelmRelease's values deletes the key from the chart's
                // defaults when Helm merges them (a default `nodeSelector` label dropped):
                // meant as null. A list item (`env[].value`) is not merged, so not deleted.
                if self.kind == "HelmRelease"
                    && path.starts_with(&["spec", "values"])
                    && scalar::is_null(value)
                    && !value.is_empty()
                    && !matches!(path.last(), Some(&"value" | &"-"))
                {
                    return;
                }
                if let Some(field) = self.string_field(path) {
                    self.scalar(value, node.span, field);
                }
            }
        }
    }

    /// What string the scalar at `path` is, when a string is expected there.
    fn string_field(&self, path: &[&str]) -> Option<&'static str> {
        let (&key, parents) = path.split_last()?;
        let parent = parents.last().copied();
        // An object's own annotations: kustomize rewrites them as strings with the text as
        // written (`3600` → "3600", `1.10` → "1.10", `true` → "true") on every object it
        // builds, and Flux applies nothing it has not built (`kubectl kustomize` shows it).
        // Labels, and annotations deeper in (a pod template's), it leaves as they are. In a
        // SOPS-encrypted document the rewrite itself changes what the MAC covers.
        if parents == ["metadata", "annotations"] && !self.sops {
            return None;
        }
        // Chart values follow the same naming (`podAnnotations`, `podLabels`).
        if let Some(p) = parent.filter(|p| {
            STRING_MAPS.contains(p) || p.ends_with("Labels") || p.ends_with("Annotations")
        }) {
            // A chart value named so may be a map of switches rather than of labels
            // (grafana/k8s-monitoring's `nodeLabels: {region: true}` picks which node labels
            // to keep): the chart decides, as for its env values.
            // So is a chart's `labels.enabled` (elastic's elasticsearch chart:
            // `persistence.labels.enabled: false` switches the volume claim's labels on):
            // `enabled` is Helm's name for a switch, whatever map holds it.
            let chart_map = (!STRING_MAPS.contains(&p) || key == "enabled")
                && self.kind == "HelmRelease"
                && path.starts_with(&["spec", "values"]);
            return Some(match (p.contains("nnotation"), chart_map) {
                (true, false) => "an annotation value",
                (true, true) => "an annotation value (a chart map)",
                (false, false) => "a label value",
                (false, true) => "a label value (a chart map)",
            });
        }
        if key == "newTag" {
            return Some("an image tag");
        }
        if TAG_KEYS.contains(&key) {
            // A chart renders a number with Go's `%v`: harmless when the text comes out the
            // same (`41`), a different tag when it does not (`1.10` → `1.1`, `1234567` →
            // `1.234567e+06`).
            return Some("an image tag (a chart value)");
        }
        if key == "value" && parent == Some("env") {
            return Some(
                if self.kind == "HelmRelease" && path.starts_with(&["spec", "values"]) {
                    "an environment variable's value (a chart value)"
                } else {
                    "an environment variable's value"
                },
            );
        }
        if parents.len() == 1 {
            match (CoreKind::from_name(self.kind), parents[0]) {
                (Some(CoreKind::ConfigMap), "data") => return Some("a ConfigMap value"),
                (Some(CoreKind::Secret), "stringData") => return Some("a Secret value"),
                _ => {}
            }
        }
        None
    }

    fn scalar(&mut self, v: &str, span: crate::source::Span, field: &str) {
        if let Some(f) = field.strip_suffix(" (a chart map)") {
            if v == "true" || v == "false" {
                return;
            }
            return self.scalar(v, span, f);
        }
        let chart_value = field.ends_with(" (a chart value)");
        // `tag: null` in a chart's values unsets the key: Helm drops it when it merges the
        // values with the chart's own, so the chart's default tag (often its appVersion)
        // applies. Charts ship it so (grafana's tempo: `tempoQuery.tag: null`).
        if field == "an image tag (a chart value)" && scalar::is_null(v) && !v.is_empty() {
            return;
        }
        // A chart renders a number or a boolean with Go's `%v`: harmless where the text comes
        // out the same (app-template turns env values into strings that way).
        if chart_value
            && (scalar::number(v).is_some_and(|n| helm_renders(&n) == v)
                || (field.starts_with("an environment") && (v == "true" || v == "false")))
        {
            return;
        }
        let field = field.trim_end_matches(" (a chart value)");
        let read = if let Some(n) = scalar::number(v) {
            if n == v {
                format!("the number {n}")
            } else {
                format!("the number {n}, not the string \"{v}\"")
            }
        } else if scalar::is_bool(v) {
            format!("the boolean {}", v.to_ascii_lowercase())
        } else if scalar::is_null(v) && !v.is_empty() {
            "null".to_string()
        } else {
            return;
        };
        self.out.push(
            Diagnostic::new(
                &META,
                self.file,
                span,
                format!(
                    "`{v}` is {field}, but Flux's YAML decoder (go-yaml v3) reads it as {read}"
                ),
            )
            .primary_label("not a string")
            .help(format!("quote it: `\"{v}\"`"))
            .with_fix(if chart_value {
                None
            } else {
                crate::fix::quote(self.source, span, v)
            }),
        );
    }
}

/// How a chart's template prints a number from its values (a float64 after the JSON round
/// trip, with Go's `%v`: the shortest form, in exponent form from 1e6 or below 1e-4).
fn helm_renders(go_number: &str) -> String {
    let Ok(f) = go_number.parse::<f64>() else {
        return go_number.to_string();
    };
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        // Go: mantissa, `e`, sign, at least two exponent digits.
        let e = format!("{f:e}");
        return match e.split_once('e') {
            Some((m, x)) => {
                let (sign, digits) = x.strip_prefix('-').map_or(("+", x), |d| ("-", d));
                format!("{m}e{sign}{digits:0>2}")
            }
            None => e,
        };
    }
    f.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn helm_renders_numbers_as_go_prints_them() {
        use super::helm_renders;
        assert_eq!(helm_renders("41"), "41");
        assert_eq!(helm_renders("1.1"), "1.1");
        assert_eq!(helm_renders("1234567"), "1.234567e+06");
        assert_eq!(helm_renders("0.00001"), "1e-05");
    }

    use crate::rules::testing::findings_of;

    #[test]
    fn fires_where_a_string_is_expected() {
        let src = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  labels:
    version: 1.31
    enabled: true
spec:
  template:
    spec:
      containers:
        - name: c
          image: nginx:1.10
          env:
            - name: A
              value: 0755
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: h
spec:
  values:
    image:
      tag: 1.10
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  A: null
";
        assert_eq!(
            findings_of("FV104", &[("d.yaml", src)]),
            vec![
                ("d.yaml".into(), 6, 14),
                ("d.yaml".into(), 7, 14),
                ("d.yaml".into(), 16, 22),
                ("d.yaml".into(), 25, 12),
                ("d.yaml".into(), 32, 6),
            ]
        );
        let k = "images:\n  - name: nginx\n    newTag: 1.20\n";
        assert_eq!(
            findings_of("FV104", &[("apps/kustomization.yaml", k)]),
            vec![("apps/kustomization.yaml".into(), 3, 13)]
        );
        // kustomize's `labels:` entries: the values under `pairs` are labels.
        let l = "labels:\n  - includeSelectors: true\n    pairs:\n      enabled: true\n";
        assert_eq!(
            findings_of("FV104", &[("web/kustomization.yaml", l)]),
            vec![("web/kustomization.yaml".into(), 4, 16)]
        );
    }

    #[test]
    fn quiet_on_go_yaml_strings_quoted_and_other_fields() {
        let src = "apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels:
    a: yes
    b: off
    c: \"1.31\"
data:
  A: on
  B: 'no'
  C: !!str 1.0
  D: 1:20
  E: y
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  replicas: 2
  template:
    spec:
      volumes:
        - name: v
          configMap:
            defaultMode: 0644
---
on:
  push: {}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
labels:
  - includeSelectors: true
    includeTemplates: false
    pairs:
      app.kubernetes.io/name: web
";
        assert!(findings_of("FV104", &[("c.yaml", src)]).is_empty());
    }
}
