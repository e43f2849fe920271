use std::collections::{BTreeSet, HashMap};

use crate::diag::{Diagnostic, Severity};
use crate::flux_api::{self, CoreKind, KindSchema, Required};
use crate::index::{DocEntry, Object, Repository, parent_dir};
use crate::rules::schema::patch_heuristic::Patches;
use crate::rules::{Rule, RuleMeta};
use crate::schemas::validate::Seg;
use crate::schemas::{self, SchemaId, SchemaSet, Violation, ViolationKind};
use crate::yaml::Document;

pub struct SchemaViolation;

pub static META: RuleMeta = RuleMeta {
    code: "FV505",
    name: "schema-violation",
    severity: Severity::Error,
    summary: "An object fails the JSON schema of its kind, as the API server would reject it.",
    docs: r#"## What it does
Validates every object a cluster applies against the schema of its kind, as the API server does:
the value's type (as Flux's YAML decoder reads it: a plain `yes` is a string, `1.10` a number),
`enum`, `pattern`, `format` (`int32`, `byte`, `date-time`), `required`, minimum and maximum
(value, length, items, properties), unknown fields (a field a CRD's structural schema or a
built-in kind does not declare, `metadata` included) and the CRDs' CEL `x-kubernetes-validations`
rules. The finding is at the value, or at the key of an unknown field, and quotes what the schema
allows.

Schemas: the CRDs the repository installs itself (a `gotk-components.yaml`, any
CustomResourceDefinition) first, then the embedded catalog (Kubernetes 1.36 built-in kinds, Flux
2.9, the Flux Operator, Gateway API and Flagger, from github.com/fluxcd/flux-schema). Kinds with no
schema are counted in the summary (`unvalidated_kinds`), not reported one by one.

Not judged, so that every finding is true: values holding `${` (Flux's post-build substitution
fills them later) and SOPS-encrypted values (`ENC[…]`); documents a kustomization uses as patches;
a required field some patch in the repository sets on that kind; fields kustomize writes in the
build (a `replacements` target, a selector where `commonLabels` is used); numbers in
`resource.Quantity` fields (`cpu: 1`); Helm chart files; CEL rules the evaluator cannot run
(Kubernetes' CEL libraries, transition rules on `oldSelf`) or whose node lacks a field with a
default; CustomResourceDefinitions themselves. What other rules report is left to them, so one problem gives one finding: FV502–FV504
(required Flux fields, durations, Flux enums, URL schemes and lengths), FV104 (YAML 1.1 booleans
and octals), FV203 (a chart version that is not a string), FV305 (the shape of `dependsOn`), FV402
(the kinds a source reference may name) and FV601 (Secret data that is not base64).

## Why is this bad?
The API server rejects the object ("spec.replicas: Invalid value: "string": spec.replicas in body
must be of type integer", "unknown field spec.foo"), so the Flux Kustomization applying it fails
and nothing else in its path is reconciled.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: "2"
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          imagePullPolicy: Sometimes
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          imagePullPolicy: IfNotPresent
```
"#,
};

/// Whether the repository pass must read this document: it declares an object whose kind the
/// embedded catalog lacks (a CRD of the repository may define it), is itself a CRD, or has a
/// violation of the embedded schema before patches and the repository's CRDs are considered.
/// Every other tree can be released after the document rules.
pub fn candidate(doc: &Document, object: Option<&Object>) -> bool {
    let Some(o) = object else { return false };
    if is_crd(o) {
        return true;
    }
    let catalog = schemas::catalog();
    match catalog.kind(&o.api_version, &o.kind) {
        None => !skipped_kind(o),
        Some(id) => {
            let Some(root) = doc.root() else { return false };
            let flux = flux_api::schema(&o.api_version, &o.kind);
            let span = root.entry("kind").map_or(doc.span, |(k, _)| k.span());
            schemas::validate::validate_with(catalog, id, root, span, &|p, r| {
                cel_left_to_fv502(flux, p, r)
            })
            .iter()
            .any(|v| keep(v, o, flux, None))
        }
    }
}

fn is_crd(o: &Object) -> bool {
    CoreKind::CustomResourceDefinition.is(o.group(), &o.kind)
}

/// Kinds that are not API objects the API server validates: kustomize's own files.
fn skipped_kind(o: &Object) -> bool {
    matches!(
        o.group(),
        "kustomize.config.k8s.io" | "builtin" | "config.kubernetes.io"
    )
}

impl Rule for SchemaViolation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            schemas: true,
            ..crate::rules::Reads::NOTHING
        }
    }

    fn marks(&self, cx: &crate::rules::DocContext<'_>) -> bool {
        candidate(cx.doc, cx.object)
    }

    fn yields_to(&self) -> &'static [&'static RuleMeta] {
        // FV104 says better what this rule calls a type error.
        static OVER: &[&RuleMeta] = &[&crate::rules::yaml::ambiguous_scalar::META];
        OVER
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        if matches!(repo.config.rules.get(META.code), Some(None)) {
            return;
        }
        let mark = crate::rules::mark_of(&META);
        let (own, own_clusters) = own_crds(repo);
        let no_clusters = repo.clusters().is_empty();
        let catalog = schemas::catalog();
        let tree = repo.reconcile_tree();
        let mut patches: Option<Patches> = None;
        let selectors = adds_selectors(repo);
        let replaced = replaced_fields(repo);
        let mut unvalidated: BTreeSet<String> = BTreeSet::new();
        for (slot, entry) in repo.docs.iter().enumerate() {
            let Some(o) = repo.object_of_doc(slot) else {
                continue;
            };
            if is_crd(o) || skipped_kind(o) || repo.is_kustomization_file(entry.file) {
                continue;
            }
            let path = repo.path(entry.file);
            let applied = if repo.clusters().is_empty() {
                true
            } else {
                !tree.clusters_of(entry.file).is_empty()
            };
            // A CRD of the repository judges the objects of the clusters that install it.
            let own_id = own.kind(&o.api_version, &o.kind).filter(|_| {
                no_clusters || {
                    let key = schemas::kind_key(&o.api_version, &o.kind);
                    let of_object = tree.clusters_of(entry.file);
                    own_clusters.get(&key).is_some_and(|c| {
                        !of_object.is_empty() && of_object.iter().all(|x| c.contains(x))
                    })
                }
            });
            let (set, id): (&SchemaSet, SchemaId) = match own_id {
                Some(id) => (&own, id),
                None => match catalog.kind(&o.api_version, &o.kind) {
                    // Without a candidate flag the embedded schema found nothing.
                    Some(id) if entry.marks & mark != 0 => (catalog, id),
                    Some(_) => continue,
                    None => {
                        if applied && !crate::reconcile::in_helm_chart(repo, path) {
                            unvalidated.insert(format!("{}/{}", o.api_version, o.kind));
                        }
                        continue;
                    }
                },
            };
            let Some(root) = entry.doc.root() else {
                continue;
            };
            if crate::reconcile::in_helm_chart(repo, path) {
                continue;
            }
            let patches = patches.get_or_insert_with(|| Patches::collect(repo));
            if patches.files.contains(path) {
                continue;
            }
            // Beside a kustomization file that does not list it, a file is never applied.
            if !tree.loaded_as_objects(entry.file)
                && crate::reconcile::kustomization_file_in(repo, parent_dir(path)).is_some()
            {
                continue;
            }
            check_doc(entry, o, set, id, root, patches, selectors, &replaced, out);
        }
        let _ = repo
            .unvalidated_kinds
            .set(unvalidated.into_iter().collect());
    }
}

#[allow(clippy::too_many_arguments)]
fn check_doc(
    entry: &DocEntry,
    o: &Object,
    set: &SchemaSet,
    id: SchemaId,
    root: crate::yaml::NodeRef<'_>,
    patches: &Patches,
    selectors: bool,
    replaced: &[String],
    out: &mut Vec<Diagnostic>,
) {
    let flux = flux_api::schema(&o.api_version, &o.kind);
    let span = root.entry("kind").map_or(entry.doc.span, |(k, _)| k.span());
    let skip = |p: &[Seg<'_>], r: &str| cel_left_to_fv502(flux, p, r);
    for v in schemas::validate::validate_with(set, id, root, span, &skip) {
        if !keep(&v, o, flux, Some(patches)) {
            continue;
        }
        // kustomize `replacements` write these fields in the build: the value here may be a
        // placeholder.
        if !replaced.is_empty() && replaced.contains(&v.keys()) {
            continue;
        }
        // kustomize's `commonLabels` (and `labels` with `includeSelectors`) write the selector.
        if selectors
            && v.kind == ViolationKind::Required
            && v.path.last() == Some(&Seg::Key("selector"))
        {
            continue;
        }
        let mut message = format!(
            "{} `{}`: {}: the API server rejects the object",
            o.kind, o.name, v.message
        );
        if let Some(d) = v.description {
            message.push_str(&format!(" (schema: \"{d}\")"));
        }
        let label = match v.kind {
            ViolationKind::Type => "wrong type",
            ViolationKind::Enum => "not an allowed value",
            ViolationKind::Pattern => "does not match the pattern",
            ViolationKind::Format => "wrong format",
            ViolationKind::Bounds => "out of bounds",
            ViolationKind::Required => "required field missing",
            ViolationKind::Unknown => "unknown field",
            ViolationKind::Cel => "validation rule fails",
        };
        let help = match v.kind {
            ViolationKind::Unknown => {
                "remove the field or move it where the schema declares it".to_string()
            }
            ViolationKind::Required => format!("set `{}`", v.dotted()),
            _ => format!("change `{}` to what the schema allows", v.dotted()),
        };
        out.push(
            Diagnostic::new(&META, entry.file, v.span, message)
                .primary_label(label)
                .help(help),
        );
    }
}

/// Whether a violation is FV505's to report: not one FV502–FV504 or FV601 report already, and
/// not a required field some patch sets.
fn keep(
    v: &Violation<'_>,
    o: &Object,
    flux: Option<&'static KindSchema>,
    patches: Option<&Patches>,
) -> bool {
    if v.kind == ViolationKind::Required
        && let Some(p) = patches
        && p.sets(&o.kind, &v.keys())
    {
        return false;
    }
    // FV601 reports Secret data that is not base64.
    if CoreKind::Secret.is(o.group(), &o.kind) && v.kind == ViolationKind::Format {
        return false;
    }
    let Some(ks) = flux else { return true };
    // FV305 judges the shape of `dependsOn`; FV203 a chart version that is not a string.
    if v.path
        .starts_with(&[Seg::Key("spec"), Seg::Key("dependsOn")])
        || (v.kind == ViolationKind::Type
            && (v.at(&["spec", "chart", "spec", "version"]) || v.at(&["spec", "version"])))
    {
        return false;
    }
    // FV402 judges the kinds a source reference may name.
    if v.kind == ViolationKind::Enum
        && (v.path.ends_with(&[Seg::Key("sourceRef"), Seg::Key("kind")])
            || v.path.ends_with(&[Seg::Key("chartRef"), Seg::Key("kind")]))
    {
        return false;
    }
    let covered = |path: &[&str]| v.at(path);
    if ks.durations.iter().any(|(p, _)| covered(p))
        || ks.enums.iter().any(|e| covered(e.path))
        || ks.urls.iter().any(|u| covered(u.path))
        || ks.max_len.iter().any(|m| covered(m.path))
    {
        return false;
    }
    for r in ks.required {
        let (a, b): (&[&str], &[&str]) = match r {
            Required::Field(p) => (p, &[]),
            Required::ExactlyOne(a, b) => (a, b),
        };
        if v.kind == ViolationKind::Required && (covered(a) || covered(b)) {
            return false;
        }
    }
    true
}

/// The fields kustomize `replacements` write anywhere in the repository, as dotted keys without
/// list selectors (`spec.template.spec.containers.[name=web].image` →
/// `spec.template.spec.containers.image`).
fn replaced_fields(repo: &Repository) -> Vec<String> {
    let mut out = Vec::new();
    for root in repo
        .docs
        .iter()
        .filter(|d| repo.is_kustomization_file(d.file))
        .filter_map(|d| d.doc.root())
    {
        for r in root
            .get("replacements")
            .map(|n| n.items())
            .unwrap_or_default()
        {
            for t in r.get("targets").map(|n| n.items()).unwrap_or_default() {
                for f in t.get("fieldPaths").map(|n| n.items()).unwrap_or_default() {
                    if let Some(f) = f.as_str() {
                        let keys: Vec<&str> = f
                            .split('.')
                            .filter(|seg| !seg.starts_with('[') && !seg.is_empty())
                            .collect();
                        out.push(keys.join("."));
                    }
                }
            }
        }
    }
    out
}

/// Whether some kustomization file adds labels to selectors (`commonLabels`, or `labels` with
/// `includeSelectors: true`): a workload without a selector may get one in the build.
fn adds_selectors(repo: &Repository) -> bool {
    repo.docs
        .iter()
        .filter(|d| repo.is_kustomization_file(d.file))
        .filter_map(|d| d.doc.root())
        .any(|r| {
            r.get("commonLabels").is_some_and(|n| !n.is_null())
                || r.get("labels").is_some_and(|l| {
                    l.items().iter().any(|i| {
                        i.get("includeSelectors")
                            .and_then(|b| b.as_str())
                            .is_some_and(|b| b == "true")
                    })
                })
        })
}

/// Whether a CEL rule at `path` is about fields FV502 requires (HelmRelease's "either chart or
/// chartRef" on `spec`): FV502 reports that, so the rule is not evaluated.
fn cel_left_to_fv502(flux: Option<&'static KindSchema>, path: &[Seg<'_>], rule: &str) -> bool {
    let Some(ks) = flux else { return false };
    let at = |p: &[&str]| {
        p.len() == path.len()
            && path.iter().zip(p).all(|(s, k)| match s {
                Seg::Key(x) => x == k,
                Seg::Index(_) => *k == "[]",
            })
    };
    ks.required.iter().any(|r| {
        let (a, b): (&[&str], &[&str]) = match r {
            Required::Field(p) => (p, &[]),
            Required::ExactlyOne(a, b) => (a, b),
        };
        [a, b].iter().any(|p| {
            p.split_last()
                .is_some_and(|(last, parent)| at(parent) && rule.contains(last))
        })
    })
}

/// The CRDs the repository itself installs: their schemas, by `group/version/kind`, and the
/// clusters whose build applies each. A kind two CRD documents define is left out: which one a
/// cluster has is not worth guessing.
fn own_crds(repo: &Repository) -> (SchemaSet, HashMap<String, Vec<u16>>) {
    let mut set = SchemaSet::default();
    let mut seen: HashMap<String, Vec<u16>> = HashMap::new();
    let mut twice: Vec<String> = Vec::new();
    let mut object_meta: Option<Option<SchemaId>> = None;
    let tree = repo.reconcile_tree();
    for (slot, entry) in repo.docs.iter().enumerate() {
        let Some(o) = repo.object_of_doc(slot) else {
            continue;
        };
        if !is_crd(o) {
            continue;
        }
        let Some(root) = entry.doc.root() else {
            continue;
        };
        let (Some(group), Some(kind)) = (
            root.str_at(&["spec", "group"]),
            root.str_at(&["spec", "names", "kind"]),
        ) else {
            continue;
        };
        for v in root
            .path(&["spec", "versions"])
            .map(|n| n.items())
            .unwrap_or_default()
        {
            let (Some(version), Some(schema)) =
                (v.str_at(&["name"]), v.path(&["schema", "openAPIV3Schema"]))
            else {
                continue;
            };
            let key = schemas::kind_key(&format!("{group}/{version}"), kind);
            if seen
                .insert(key.clone(), tree.clusters_of(entry.file).to_vec())
                .is_some()
            {
                twice.push(key);
                continue;
            }
            let json = schemas::yaml_to_json(schema, 0);
            // Every custom resource's `metadata` is an ObjectMeta, whatever the CRD says.
            let meta = *object_meta.get_or_insert_with(|| {
                schemas::object_meta()
                    .map(|m| set.import(schemas::catalog(), m, &mut HashMap::new()))
            });
            set.add_openapi(key, &json, meta);
        }
    }
    for key in twice {
        set.kinds.remove(&key);
    }
    (set, seen)
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn fv505(src: &str) -> Vec<(usize, usize)> {
        findings_of("FV505", &[("a.yaml", src)])
            .into_iter()
            .map(|(_, l, c)| (l, c))
            .collect()
    }

    #[test]
    fn type_enum_and_unknown_field() {
        let src = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labelz: {}
spec:
  replicas: \"2\"
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx
          ports:
            - containerPort: http
";
        assert_eq!(fv505(src), vec![(5, 3), (7, 13), (20, 30)]);
    }

    #[test]
    fn substitution_and_sops_are_not_judged() {
        let src = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${REPLICAS}
  selector:
    matchLabels:
      app: web
  template:
    spec:
      containers:
        - name: web
          image: nginx
---
apiVersion: v1
kind: Secret
metadata:
  name: s
data:
  key: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]
sops:
  mac: ENC[AES256_GCM,data:abc]
";
        assert_eq!(fv505(src), vec![]);
    }

    #[test]
    fn required_and_bounds() {
        let src = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers: []
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: p
spec:
  minAvailable: 1
";
        // `spec.selector` is missing; containers may be empty in the schema.
        assert_eq!(fv505(src), vec![(5, 1)]);
    }

    #[test]
    fn flux_fields_other_rules_report_are_left_to_them() {
        let src = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  interval: 10 minutes
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./apps
  deletionPolicy: Sometimes
";
        // prune missing (FV502), interval (FV503): only the deletionPolicy enum is FV505's.
        assert_eq!(fv505(src), vec![(11, 19)]);
    }

    #[test]
    fn fields_kustomize_writes_are_not_judged() {
        let deploy = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: REPLICAS
  template:
    spec:
      containers:
        - name: web
          image: nginx
";
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deploy.yaml
commonLabels:
  app: web
replacements:
  - source:
      kind: ConfigMap
      name: settings
      fieldPath: data.replicas
    targets:
      - select:
          kind: Deployment
        fieldPaths:
          - spec.replicas
";
        assert_eq!(
            findings_of(
                "FV505",
                &[
                    ("app/deploy.yaml", deploy),
                    ("app/kustomization.yaml", kustomization)
                ]
            ),
            vec![]
        );
    }

    #[test]
    fn cel_rule() {
        let src = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: hr
spec:
  interval: 10m
  chartRef:
    kind: OCIRepository
    name: hr
  install:
    strategy:
      name: RemediateOnFailure
      retryInterval: 1m
";
        assert_eq!(fv505(src), vec![(12, 7)]);
    }

    #[test]
    fn a_crd_of_the_repository_takes_precedence() {
        let crd = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
  versions:
    - name: v1
      served: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size:
                  type: integer
                  minimum: 1
                  description: Size of the widget.
                color:
                  type: string
                  enum: [red, blue]
";
        let obj = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: 0
  colour: red
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: v
spec:
  color: green
";
        assert_eq!(
            findings_of("FV505", &[("crd.yaml", crd), ("w.yaml", obj)]),
            vec![
                ("w.yaml".into(), 6, 9),
                ("w.yaml".into(), 7, 3),
                ("w.yaml".into(), 13, 1),
                ("w.yaml".into(), 14, 10),
            ]
        );
    }
}
