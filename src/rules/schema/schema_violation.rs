use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rayon::prelude::*;

use crate::diag::{Diagnostic, Severity};
use crate::flux_api::{self, CoreKind, KindSchema, Required};
use crate::model::index::{Object, Repository, parent_dir};
use crate::model::rendered::{Node, Origin};
use crate::rules::schema::patch_heuristic::Patches;
use crate::rules::{Rule, RuleMeta};
use crate::schemas::validate::{Context, Seg};
use crate::schemas::{self, SchemaId, SchemaSet, Violation, ViolationKind};
use crate::source::SourceFile;
use crate::yaml::Document;

pub struct SchemaViolation;

pub static META: RuleMeta = RuleMeta {
    code: "FV505",
    name: "schema-violation",
    severity: Severity::Error,
    summary: "A rendered object fails the JSON schema of its kind, as the API server would reject it; reported at the line that set the value.",
    docs: r#"## What it does
Validates every object a cluster applies against the schema of its kind, as the API server does,
on the object as Flux renders it: the kustomize build of each Flux Kustomization's path, then
its own `patches`, `targetNamespace`, `commonMetadata`, name prefix and suffix, and post-build
substitution. It judges the value's type (as Flux's YAML decoder reads it: a plain `yes` is a
string, `1.10` a number; a substituted plain value such as `replicas: ${REPLICAS}` is read again
after substitution, so `3` is an integer), `enum`, `pattern`, `format` (`int32`, `byte`,
`date-time`, `ipv4`, `ipv6`), `required`, minimum and maximum (value, length, items,
properties), unknown fields (a field a CRD's structural schema or a built-in kind does not
declare, `metadata` included), `oneOf`/`anyOf`/`allOf`/`not` (exactly one `oneOf` alternative
must hold, at least one `anyOf`, every `allOf`, and `not` must fail; where none holds and one
alternative clearly fits the object's keys, its own violation is reported, otherwise one finding
names the alternatives) and the CRDs' CEL `x-kubernetes-validations` rules.

Before it applies an object, kustomize-controller removes its `status` (every kind but a
CustomResourceDefinition), so nothing under `status` is judged; and it converts an object of a
built-in kind (client-go's scheme: RBAC Roles and ClusterRoles, CustomResourceDefinitions and
APIServices excepted; before Flux 2.2 only Services, Pods, Secrets, workloads and HPAs) to its
Go type and back, which drops a field the type does not declare. Such an unknown field is a
warning, not an error: the object applies, without the field. A shell manifest annotated (or
labelled) `kustomize.toolkit.fluxcd.io/ssa: merge`, Flux's way to patch a pre-installed addon
with only the fields it changes, is merged into the live object by server-side apply: the
required fields it leaves out are not reported.

Where the finding is: at the line that set the value, which may be a patch in a kustomization
file or in a Flux Kustomization's `spec.patches`, or the use of a post-build variable (with a
label at its definition in `postBuild.substitute`); at the key
of an unknown field; for a required field missing after the build, at the key of the mapping
that lacks it. Each finding is labelled with the objects it lands in (`Deployment
production/web`) and the Flux Kustomizations and clusters that apply them. One source line gives
one finding, however many clusters or overlays render it; an overlay that fixes the value (or
adds the missing field) for every cluster leaves nothing to report.

Judged as written instead of as rendered: objects in a repository without clusters, and objects
that a kustomization with a render gap (FV406: a remote base or component, `helmCharts`, an
unsupported field) builds, which are a half-build: for those, a missing required field is not
reported (the part not rendered may add it). Judged as written, a required field some patch in
the repository sets is not reported either.

Schemas: the CRDs the repository installs itself (a `gotk-components.yaml`, any
CustomResourceDefinition), for the clusters that apply them, first, then the embedded catalog
(Kubernetes 1.36 built-in kinds, Flux 2.9, the Flux Operator, Gateway API and Flagger, from
github.com/fluxcd/flux-schema), whose schemas are read when a kind is first met. Kinds with no
schema are counted in the summary (`unvalidated_kinds`), not reported one by one.

Not judged, so that every finding is true: values holding `${` that post-build substitution does
not fill (no `postBuild`, variables from a ConfigMap or Secret not in Git, substitution
disabled), values that used a variable with no value (FV408 reports those) and SOPS-encrypted
values (`ENC[…]`); documents a kustomization uses as patches; in an object judged as written,
fields kustomize writes in the build (a `replacements` target, a selector where `commonLabels`
is used); numbers in `resource.Quantity` fields (`cpu: 1`); Helm chart files; CEL rules and
alternatives the API server would judge after filling in a default fluxvet cannot see, and CEL
rules the evaluator cannot run (Kubernetes' CEL libraries, transition rules on `oldSelf`);
fields the embedded Gateway API schemas (the standard channel) lack, which the experimental
channel many clusters install may define (an HTTPRoute rule's `sessionPersistence`);
CustomResourceDefinitions themselves. What other rules report is left to them, so one problem
gives one finding: FV502–FV504 (required Flux fields, durations, Flux enums, URL schemes and
lengths), FV104 (YAML 1.1 booleans and octals), FV203 (a chart version that is not a string),
FV305 (the shape of `dependsOn`), FV402 (the kinds a source reference may name) and FV601
(Secret data that is not base64).

## Why is this bad?
The API server rejects the object ("spec.replicas: Invalid value: "string": spec.replicas in body
must be of type integer", "unknown field spec.foo"), so the Flux Kustomization applying it fails
and nothing else in its path is reconciled. A field a built-in kind does not declare is dropped
instead: what it was meant to set (a volume claim's reclaim policy, a pod spec's `strategy`)
silently never takes effect.

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
/// violation of the embedded schema as written. Where no build renders an object, only these
/// documents are judged again (patches and the repository's CRDs considered); every other tree
/// can be released after the document rules. Objects a build renders are judged as rendered
/// whatever this says.
pub fn candidate(file: &SourceFile, doc: &Document, object: Option<&Object>) -> bool {
    let Some(o) = object else { return false };
    if is_crd(o) {
        return true;
    }
    let catalog = schemas::catalog();
    match catalog.kind(&o.api_version, &o.kind) {
        None => !skipped_kind(o),
        Some(id) => {
            let Some(root) = doc.root() else { return false };
            // Origins in file 0 of a one-file slice: only whether something is found matters.
            let node = Node::from_yaml(root, 0);
            let flux = flux_api::schema(&o.api_version, &o.kind);
            let skip = |p: &[Seg<'_>], r: &str| cel_left_to_fv502(flux, p, r);
            let cx = Context {
                files: std::slice::from_ref(file),
                vars: None,
                skip_rule: &skip,
            };
            let top = node.get("kind").map_or(node.origin, |k| k.origin);
            schemas::validate::validate(catalog, id, &node, top, &cx)
                .iter()
                .any(|v| keep(v, &o.kind, o.group(), flux) && judged_in_catalog(v, o.group()))
        }
    }
}

/// Whether kustomize-controller converts an object of this kind to its client-go Go type and
/// back before it applies it (fluxcd/pkg ssa/normalize, Flux 2.2 on): every kind of client-go's
/// scheme (the built-in API groups but `apiextensions.k8s.io` and `apiregistration.k8s.io`),
/// RBAC Roles and ClusterRoles excepted. The conversion ignores a field the Go type does not
/// declare, so such a field never reaches the API server: the object applies without it.
/// Before Flux 2.2 (`modern` false: a cluster whose Flux version is known and older) only
/// Services, Pods, Secrets, Deployments, StatefulSets, DaemonSets, ReplicaSets and
/// HorizontalPodAutoscalers were converted (`SetNativeKindsDefaults`).
fn typed_by_flux(group: &str, kind: &str, modern: bool) -> bool {
    if !modern {
        return match group {
            "" => matches!(kind, "Service" | "Pod" | "Secret"),
            "apps" => matches!(
                kind,
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
            ),
            "autoscaling" => kind == "HorizontalPodAutoscaler",
            _ => false,
        };
    }
    match group {
        "rbac.authorization.k8s.io" => !matches!(kind, "Role" | "ClusterRole"),
        ""
        | "apps"
        | "batch"
        | "autoscaling"
        | "policy"
        | "extensions"
        | "networking.k8s.io"
        | "storage.k8s.io"
        | "admissionregistration.k8s.io"
        | "authentication.k8s.io"
        | "authorization.k8s.io"
        | "certificates.k8s.io"
        | "coordination.k8s.io"
        | "discovery.k8s.io"
        | "events.k8s.io"
        | "flowcontrol.apiserver.k8s.io"
        | "internal.apiserver.k8s.io"
        | "node.k8s.io"
        | "resource.k8s.io"
        | "scheduling.k8s.io"
        | "storagemigration.k8s.io" => true,
        _ => false,
    }
}

/// Whether a cluster runs Flux 2.2 or later, or a version written nowhere (then the Flux of
/// today is assumed): see [`typed_by_flux`].
fn modern_flux(repo: &Repository, cluster: u16) -> bool {
    let version = repo
        .clusters()
        .get(cluster as usize)
        .and_then(|c| c.flux_version.clone())
        .or_else(|| crate::model::clusters::applied_flux_version(repo, cluster));
    version
        .as_deref()
        .and_then(crate::helm_semver::parse_version)
        .is_none_or(|v| (v.major, v.minor) >= (2, 2))
}

fn is_crd(o: &Object) -> bool {
    CoreKind::CustomResourceDefinition.is(o.group(), &o.kind)
}

/// Kinds that are not API objects the API server validates: kustomize's own files.
fn skipped_kind(o: &Object) -> bool {
    skipped_group(o.group())
}

fn skipped_group(group: &str) -> bool {
    matches!(
        group,
        "kustomize.config.k8s.io" | "builtin" | "config.kubernetes.io"
    )
}

/// One finding before it is a diagnostic: the same source line may be met in many rendered
/// copies (clusters, overlays); it is reported once, naming every object it lands in.
struct Found {
    at: Origin,
    kind: ViolationKind,
    message: String,
    description: Option<String>,
    dotted: String,
    /// What merges copies of it: the kind, the path's keys (a list item may sit at another
    /// index in another overlay) and, for a CEL rule, which rule.
    merge_key: String,
    /// The objects (with the clusters that apply each) it lands in; empty for a document
    /// judged as written.
    objects: Vec<Landing>,
    /// The object, for the message: `Deployment `web``.
    subject: String,
    /// Where the post-build variables the value used are defined.
    definitions: Vec<(Origin, String)>,
    /// An unknown field kustomize-controller drops before it applies the object (see
    /// [`typed_by_flux`]): the object applies, without it.
    dropped: bool,
}

#[derive(Clone, PartialEq)]
struct Landing {
    /// `Deployment default/web`.
    object: String,
    /// Where its name is written, for the label.
    at: Origin,
    /// `Kustomization apps in cluster production`, or empty.
    applier: String,
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
        candidate(cx.file, cx.doc, cx.object)
    }

    fn yields_to(&self) -> &'static [&'static RuleMeta] {
        // FV104 says better what this rule calls a type error.
        static OVER: &[&RuleMeta] = &[&crate::rules::yaml::ambiguous_scalar::META];
        OVER
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let mark = crate::rules::mark_of(&META);
        if matches!(repo.config.rules.get(META.code), Some(None)) {
            return;
        }
        let (own, own_clusters) = own_crds(repo);
        let no_clusters = repo.clusters().is_empty();
        let catalog = schemas::catalog();
        let tree = repo.reconcile_tree();
        let patches = Patches::collect(repo);
        // The documents FV505 judges: applied objects that are not kustomize's own files,
        // patches, CRDs or Helm chart files.
        let mut judged: Vec<usize> = Vec::new();
        let mut unvalidated: BTreeSet<String> = BTreeSet::new();
        for (slot, entry) in repo.docs.iter().enumerate() {
            let Some(o) = repo.object_of_doc(slot) else {
                continue;
            };
            if is_crd(o) || skipped_kind(o) || repo.is_kustomization_file(entry.file) {
                continue;
            }
            if !no_clusters && tree.clusters_of(entry.file).is_empty() {
                // Applied by nothing: FV105's, and the engine keeps nothing else there.
                continue;
            }
            let path = repo.path(entry.file);
            if crate::model::reconcile::in_helm_chart(repo, path) {
                continue;
            }
            // Counted as main counted them: a kind neither the catalog nor a CRD of the
            // repository that every cluster applying the object installs has a schema for.
            let own_for_all = own.kind(&o.api_version, &o.kind).is_some()
                && (no_clusters || {
                    let key = schemas::kind_key(&o.api_version, &o.kind);
                    let of_object = tree.clusters_of(entry.file);
                    own_clusters
                        .get(&key)
                        .is_some_and(|c| of_object.iter().all(|x| c.contains(x)))
                });
            if !own_for_all && catalog.kind(&o.api_version, &o.kind).is_none() {
                unvalidated.insert(format!("{}/{}", o.api_version, o.kind));
            }
            if patches.files.contains(path) {
                continue;
            }
            // Beside a kustomization file that does not list it, a file is never applied.
            if !tree.loaded_as_objects(entry.file)
                && crate::model::index::kustomization_file_in(repo, parent_dir(path)).is_some()
            {
                continue;
            }
            judged.push(slot);
        }
        let _ = repo
            .unvalidated_kinds
            .set(unvalidated.into_iter().collect());
        if judged.is_empty() {
            return;
        }
        let mut found = rendered(repo, &judged, &own, &own_clusters);
        // What no build renders whole is judged as its file is written.
        let covered: HashSet<usize> = found.covered.iter().copied().collect();
        let gaps = in_gaps(repo);
        let selectors = adds_selectors(repo);
        let replaced = replaced_fields(repo);
        let mut streams: HashMap<usize, crate::yaml::ParsedStream> = HashMap::new();
        for &slot in judged.iter().filter(|s| !covered.contains(s)) {
            let entry = &repo.docs[slot];
            let Some(o) = repo.object_of_doc(slot) else {
                continue;
            };
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
                    _ => continue,
                },
            };
            // The run released the trees no document rule needed: read the file again.
            let mut root = match entry.doc.root() {
                Some(r) => Node::from_yaml(r, entry.file),
                None => {
                    let stream = streams
                        .entry(entry.file)
                        .or_insert_with(|| crate::yaml::parse_source(&repo.files[entry.file].text));
                    let Some(r) = stream
                        .documents
                        .iter()
                        .find(|d| d.span == entry.doc.span)
                        .and_then(|d| d.root())
                    else {
                        continue;
                    };
                    Node::from_yaml(r, entry.file)
                }
            };
            crate::model::build::annotation_strings(&mut root);
            let in_gap = gaps.contains(&(entry.file, root.origin.span.start));
            let flux = flux_api::schema(&o.api_version, &o.kind);
            let skip = |p: &[Seg<'_>], r: &str| cel_left_to_fv502(flux, p, r);
            let cx = Context {
                files: &repo.files,
                vars: None,
                skip_rule: &skip,
            };
            for v in schemas::validate::validate(set, id, &root, kind_key_at(repo, &root), &cx) {
                if !keep(&v, &o.kind, o.group(), flux)
                    || (std::ptr::eq(set, catalog) && !judged_in_catalog(&v, o.group()))
                {
                    continue;
                }
                if v.kind == ViolationKind::Required
                    && (in_gap || patches.sets(&o.kind, &v.keys()) || merged_into_live(&root))
                {
                    continue;
                }
                // kustomize `replacements` write these fields in the build: the value here
                // may be a placeholder.
                if !replaced.is_empty() && replaced.contains(&v.keys()) {
                    continue;
                }
                // kustomize's `commonLabels` (and `labels` with `includeSelectors`) write the
                // selector.
                if selectors
                    && v.kind == ViolationKind::Required
                    && v.path.last() == Some(&Seg::Key("selector"))
                {
                    continue;
                }
                found.list.push(Found {
                    at: v.at,
                    kind: v.kind,
                    merge_key: String::new(),
                    dotted: v.dotted(),
                    message: v.message,
                    description: v.description.map(str::to_string),
                    objects: Vec::new(),
                    subject: format!("{} `{}`", o.kind, o.name),
                    definitions: Vec::new(),
                    dropped: v.kind == ViolationKind::Unknown
                        && typed_by_flux(o.group(), &o.kind, true),
                });
            }
        }
        for f in found.list {
            out.push(diagnostic(repo, f));
        }
    }
}

/// The place of an object's `kind` key: where a missing top-level field is reported.
fn kind_key_at(repo: &Repository, root: &Node) -> Origin {
    match root.get("kind") {
        Some(k) => schemas::validate::key_place(&repo.files, k.origin, "kind").unwrap_or(k.origin),
        None => root.origin,
    }
}

fn diagnostic(repo: &Repository, f: Found) -> Diagnostic {
    let mut subject = f.subject.clone();
    let mut distinct: Vec<&str> = f.objects.iter().map(|l| l.object.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() > 1 {
        let more = distinct.len() - 1;
        subject.push_str(&format!(
            " (and {more} more object{})",
            if more == 1 { "" } else { "s" }
        ));
    }
    let mut message = if f.dropped {
        format!(
            "{subject}: {}: kustomize-controller drops it before applying (it converts the object \
             to its Kubernetes type, which has no such field), so it has no effect",
            f.message
        )
    } else {
        format!(
            "{subject}: {}: the API server rejects the object",
            f.message
        )
    };
    if let Some(d) = &f.description {
        message.push_str(&format!(" (schema: \"{d}\")"));
    }
    let label = match f.kind {
        ViolationKind::Type => "wrong type",
        ViolationKind::Enum => "not an allowed value",
        ViolationKind::Pattern => "does not match the pattern",
        ViolationKind::Format => "wrong format",
        ViolationKind::Bounds => "out of bounds",
        ViolationKind::Required => "required field missing",
        ViolationKind::Unknown => "unknown field",
        ViolationKind::Cel => "validation rule fails",
        ViolationKind::Alternatives => "no single allowed alternative",
    };
    let help = match f.kind {
        ViolationKind::Unknown => {
            "remove the field or move it where the schema declares it".to_string()
        }
        ViolationKind::Required => format!("set `{}`", f.dotted),
        _ => format!("change `{}` to what the schema allows", f.dotted),
    };
    let mut d = Diagnostic::new(&META, f.at.file as usize, f.at.span, message)
        .primary_label(label)
        .help(help);
    if f.dropped {
        d = d.severity(Severity::Warning);
    }
    // The objects it lands in, with the Kustomizations and clusters that apply each.
    let mut merged: Vec<(String, Origin, Vec<String>)> = Vec::new();
    for l in &f.objects {
        match merged
            .iter_mut()
            .find(|(o, at, _)| *o == l.object && *at == l.at)
        {
            Some((_, _, by)) => {
                if !l.applier.is_empty() && !by.contains(&l.applier) {
                    by.push(l.applier.clone());
                }
            }
            None => merged.push((
                l.object.clone(),
                l.at,
                (!l.applier.is_empty())
                    .then(|| l.applier.clone())
                    .into_iter()
                    .collect(),
            )),
        }
    }
    for (at, text) in &f.definitions {
        d = d.label(at.file as usize, at.span, text.clone());
    }
    for (object, at, by) in merged.into_iter().take(6) {
        if at.is_none() || at.file as usize >= repo.files.len() {
            continue;
        }
        let text = if by.is_empty() {
            format!("in {object}")
        } else {
            format!("in {object}, applied by {}", by.join("; "))
        };
        d = d.label(at.file as usize, at.span, text);
    }
    d
}

/// What the rendered pass found, and the documents whose every copy it judged.
struct RenderedFindings {
    list: Vec<Found>,
    covered: Vec<usize>,
}

/// Judges every object the clusters apply, as rendered: a value a patch set is reported at
/// the patch, a substituted one at the variable's use. One source place gives one finding.
fn rendered(
    repo: &Repository,
    judged: &[usize],
    own: &SchemaSet,
    own_clusters: &HashMap<String, Vec<u16>>,
) -> RenderedFindings {
    let mut res = RenderedFindings {
        list: Vec::new(),
        covered: Vec::new(),
    };
    // Without clusters the model may build nothing: then every document is judged as written.
    let applied = repo.applied();
    if applied.is_empty() {
        return res;
    }
    let gaps = in_gaps(repo);
    let catalog = schemas::catalog();
    // file → its documents' spans and slots, to find the document a copy was built from.
    let mut docs_by_file: HashMap<usize, Vec<(crate::source::Span, usize)>> = HashMap::new();
    for &slot in judged {
        let e = &repo.docs[slot];
        docs_by_file
            .entry(e.file)
            .or_default()
            .push((e.doc.span, slot));
    }
    let mut vars: HashMap<usize, Option<BTreeMap<String, String>>> = HashMap::new();
    for a in applied {
        if let Some(k) = a.kustomization {
            vars.entry(k)
                .or_insert_with(|| crate::model::substitution::variables(repo, &repo.objects[k]));
        }
    }
    let cluster_index = |name: &str| -> u16 {
        repo.cluster_index(name)
            .unwrap_or(crate::model::reconcile::ROOT_BY_HAND)
    };
    // Per copy: the document it came from, or none (not judged here).
    let slot_of = |a: &crate::model::applied::Applied| -> Option<usize> {
        let o = a.object.root.origin;
        if o.is_none() {
            return None;
        }
        docs_by_file
            .get(&(o.file as usize))?
            .iter()
            .find_map(|(span, slot)| {
                (span.start <= o.span.start && o.span.start < span.end.max(span.start + 1))
                    .then_some(*slot)
            })
    };
    let mut in_gap_slots: HashSet<usize> = HashSet::new();
    let mut per_slot: HashMap<usize, Vec<&crate::model::applied::Applied>> = HashMap::new();
    for a in applied {
        let Some(slot) = slot_of(a) else { continue };
        let o = a.object.root.origin;
        if gaps.contains(&(o.file as usize, o.span.start)) {
            in_gap_slots.insert(slot);
            continue;
        }
        per_slot.entry(slot).or_default().push(a);
    }
    let mut slots: Vec<usize> = per_slot
        .keys()
        .copied()
        .filter(|s| !in_gap_slots.contains(s))
        .collect();
    slots.sort_unstable();
    let results: Vec<Vec<(Found, Landing)>> = slots
        .par_iter()
        .map(|slot| {
            let mut out = Vec::new();
            for a in &per_slot[slot] {
                let r = &a.object;
                let group = r.api_version.rsplit_once('/').map_or("", |(g, _)| g);
                if skipped_group(group) || CoreKind::CustomResourceDefinition.is(group, &r.kind) {
                    continue;
                }
                let cluster = cluster_index(&a.cluster);
                let modern = modern_flux(repo, cluster);
                let key = schemas::kind_key(&r.api_version, &r.kind);
                let own_id = own.kind(&r.api_version, &r.kind).filter(|_| {
                    repo.clusters().is_empty()
                        || own_clusters.get(&key).is_some_and(|c| c.contains(&cluster))
                });
                let (set, id): (&SchemaSet, SchemaId) = match own_id {
                    Some(id) => (own, id),
                    None => match catalog.kind(&r.api_version, &r.kind) {
                        Some(id) => (catalog, id),
                        None => continue,
                    },
                };
                let flux = flux_api::schema(&r.api_version, &r.kind);
                let skip = |p: &[Seg<'_>], rule: &str| cel_left_to_fv502(flux, p, rule);
                let cx = Context {
                    files: &repo.files,
                    vars: a
                        .kustomization
                        .and_then(|k| vars.get(&k))
                        .and_then(Option::as_ref),
                    skip_rule: &skip,
                };
                let landing = Landing {
                    object: match &r.namespace {
                        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
                        None => format!("{} {}", r.kind, r.name),
                    },
                    at: r
                        .root
                        .path(&["metadata", "name"])
                        .map_or(r.root.origin, |n| n.origin),
                    applier: applier(repo, a),
                };
                let top = kind_key_at(repo, &r.root);
                for v in schemas::validate::validate(set, id, &r.root, top, &cx) {
                    if !keep(&v, &r.kind, group, flux)
                        || (std::ptr::eq(set, catalog) && !judged_in_catalog(&v, group))
                        || (v.kind == ViolationKind::Required && merged_into_live(&r.root))
                    {
                        continue;
                    }
                    let at = if v.at.is_none() { top } else { v.at };
                    let definitions = a
                        .kustomization
                        .and_then(|k| repo.objects.get(k))
                        .map(|ks| definitions(repo, ks, at))
                        .unwrap_or_default();
                    out.push((
                        Found {
                            at,
                            kind: v.kind,
                            merge_key: format!(
                                "{:?}{} {} {}",
                                v.kind,
                                if modern { "" } else { " (Flux < 2.2)" },
                                v.keys(),
                                if v.kind == ViolationKind::Cel {
                                    v.message.as_str()
                                } else {
                                    ""
                                }
                            ),
                            dotted: v.dotted(),
                            message: v.message,
                            description: v.description.map(str::to_string),
                            objects: Vec::new(),
                            subject: format!("{} `{}`", r.kind, r.name),
                            definitions,
                            dropped: v.kind == ViolationKind::Unknown
                                && typed_by_flux(group, &r.kind, modern),
                        },
                        landing.clone(),
                    ));
                }
            }
            out
        })
        .collect();
    res.covered = slots;
    // One source place, one finding: copies in several clusters or overlays are merged.
    let mut index: HashMap<(u32, u32, u32, String), usize> = HashMap::new();
    for (f, landing) in results.into_iter().flatten() {
        let key = (
            f.at.file,
            f.at.span.start,
            f.at.span.end,
            f.merge_key.clone(),
        );
        match index.get(&key) {
            Some(&i) => {
                if !res.list[i].objects.contains(&landing) {
                    res.list[i].objects.push(landing);
                }
            }
            None => {
                index.insert(key, res.list.len());
                let mut f = f;
                f.objects.push(landing);
                res.list.push(f);
            }
        }
    }
    res
}

/// The `postBuild.substitute` entries of `ks` that define the variables the text at `at` uses
/// (a value set by substitution: its use and its definition).
fn definitions(repo: &Repository, ks: &Object, at: Origin) -> Vec<(Origin, String)> {
    let Some(text) = repo
        .files
        .get(at.file as usize)
        .and_then(|f| f.text.get(at.span.range()))
        .filter(|t| t.contains("${"))
    else {
        return Vec::new();
    };
    let node = repo.node(ks);
    let Some(substitute) = node.path(&["spec", "postBuild", "substitute"]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for u in crate::model::substitution::uses(text) {
        if let Some(v) = substitute.get(&u.name) {
            let label = format!(
                "`{}` is `{}` here (Kustomization {})",
                u.name,
                v.as_str().unwrap_or(""),
                repo.applied_display_name(ks)
            );
            let place = (Origin::new(ks.file, v.span()), label);
            if !out.contains(&place) {
                out.push(place);
            }
        }
    }
    out
}

/// `Kustomization flux-system/apps in cluster production`.
fn applier(repo: &Repository, a: &crate::model::applied::Applied) -> String {
    let ks = a
        .kustomization
        .and_then(|k| repo.objects.get(k))
        .map(|ks| format!("Kustomization {}", repo.applied_display_name(ks)));
    match (ks, a.cluster.is_empty()) {
        (Some(k), false) => format!("{k} in cluster {}", a.cluster),
        (Some(k), true) => k,
        (None, false) => format!("cluster {}", a.cluster),
        (None, true) => String::new(),
    }
}

/// The source documents (file, root start) of the objects a kustomization with a render gap
/// builds: what it renders is a half-build (a remote component, `helmCharts`, an unsupported
/// transformer may change them), so they are not judged from the build.
fn in_gaps(repo: &Repository) -> HashSet<(usize, u32)> {
    let mut out = HashSet::new();
    if repo.applied_set().gaps.is_empty() {
        return out;
    }
    let mut dirs: Vec<&str> = repo
        .applied_set()
        .gaps
        .iter()
        .filter(|g| g.file < repo.files.len() && repo.is_kustomization_file(g.file))
        .map(|g| parent_dir(repo.path(g.file)))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    for dir in dirs {
        for o in crate::model::build(repo, dir).objects {
            let origin = o.root.origin;
            if !origin.is_none() {
                out.insert((origin.file as usize, origin.span.start));
            }
        }
    }
    out
}

/// Whether a violation is FV505's to report: not one FV502–FV504, FV203, FV305, FV402 or FV601
/// report already.
/// Whether a violation of the embedded catalog's schema holds whatever the cluster installed.
/// The catalog's Gateway API kinds are the standard channel; the experimental channel, which
/// many clusters install (Envoy Gateway's chart bundles it, home-ops repositories apply
/// `experimental-install.yaml`), adds fields such as an HTTPRoute rule's `sessionPersistence`.
/// Which channel a cluster runs is rarely in Git, so a field the standard channel lacks is
/// not reported; types, enums and required fields of the fields it has still are.
fn judged_in_catalog(v: &Violation<'_>, group: &str) -> bool {
    !(v.kind == ViolationKind::Unknown && group == "gateway.networking.k8s.io")
}

/// Whether the object is a shell manifest merged into one already in the cluster: annotated
/// `kustomize.toolkit.fluxcd.io/ssa: merge`, Flux's documented way to patch a pre-installed
/// addon (CoreDNS, a cloud's default StorageClass) with only the fields it changes. Server-side
/// apply merges it with the live object's fields, so a required field it leaves out is not
/// missing. kustomize-controller reads the key from the labels too, and compares the value
/// without regard to case (fluxcd/pkg `ssa/utils.AnyInMetadata`).
fn merged_into_live(root: &Node) -> bool {
    ["annotations", "labels"].iter().any(|m| {
        root.str_at(&["metadata", m, "kustomize.toolkit.fluxcd.io/ssa"])
            .is_some_and(|v| v.eq_ignore_ascii_case("merge"))
    })
}

fn keep(v: &Violation<'_>, kind: &str, group: &str, flux: Option<&'static KindSchema>) -> bool {
    // kustomize-controller removes `status` from every object but a CustomResourceDefinition
    // before it applies it (fluxcd/pkg ssa/normalize, Flux 2.2 on): none of it reaches the API
    // server.
    if v.path.first() == Some(&Seg::Key("status")) {
        return false;
    }
    // FV601 reports Secret data that is not base64.
    if CoreKind::Secret.is(group, kind) && v.kind == ViolationKind::Format {
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

    const SYNC: &str = crate::rules::testing::BOOTSTRAP_KUSTOMIZATION;

    fn sync_for(cluster: &str) -> String {
        SYNC.replace("./clusters/production", &format!("./clusters/{cluster}"))
    }

    fn flux_ks(name: &str, path: &str, extra: &str) -> String {
        crate::rules::testing::flux_kustomization(name, path, "GitRepository", extra)
    }

    const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
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
";

    #[test]
    fn a_value_a_patch_sets_is_reported_at_the_patch() {
        let ks = flux_ks(
            "apps",
            "./apps",
            "  patches:
    - patch: |
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: two
      target:
        kind: Deployment
",
        );
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deploy.yaml
patches:
  - patch: |-
      - op: add
        path: /spec/template/spec/containers/0/tty
        value: \"yes\"
    target:
      kind: Deployment
";
        let files = [
            ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
            ("clusters/production/apps.yaml", ks.as_str()),
            ("apps/kustomization.yaml", kustomization),
            ("apps/deploy.yaml", DEPLOY),
        ];
        assert_eq!(
            findings_of("FV505", &files),
            vec![
                ("apps/kustomization.yaml".into(), 9, 16),
                ("clusters/production/apps.yaml".into(), 20, 21),
            ]
        );
        let out = crate::engine::check_memory(&files, crate::config::Config::default());
        let d = out
            .diagnostics
            .iter()
            .find(|d| d.rule.code == "FV505" && d.message.contains("replicas"))
            .expect("the replicas finding");
        assert_eq!(d.labels.len(), 1, "{:?}", d.labels);
        assert_eq!(
            d.labels[0].message,
            "in Deployment web, applied by Kustomization flux-system/apps in cluster production"
        );
        assert_eq!(out.repo.path(d.labels[0].file), "apps/deploy.yaml");
    }

    #[test]
    fn a_patch_that_completes_the_object_is_quiet() {
        // The base lacks the selector and has a wrong replicas; the overlay fixes both.
        let base = DEPLOY
            .replace("  replicas: 1\n", "  replicas: \"1\"\n")
            .replace("  selector:\n    matchLabels:\n      app: web\n", "");
        let overlay = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base
patches:
  - patch: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 1
        selector:
          matchLabels:
            app: web
";
        let base_k = "resources:\n  - deploy.yaml\n";
        let ks = flux_ks("apps", "./apps/production", "");
        assert_eq!(
            findings_of(
                "FV505",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/apps.yaml", ks.as_str()),
                    ("apps/production/kustomization.yaml", overlay),
                    ("apps/base/kustomization.yaml", base_k),
                    ("apps/base/deploy.yaml", base.as_str()),
                ]
            ),
            vec![]
        );
    }

    #[test]
    fn one_source_line_gives_one_finding_across_clusters() {
        let base = DEPLOY.replace(
            "image: nginx:1.27",
            "image: nginx:1.27\n          tty: \"yes\"",
        );
        let overlay = |ns: &str| {
            format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {ns}
resources:
  - ../base
"
            )
        };
        let (staging, production) = (overlay("staging"), overlay("production"));
        let (ks_s, ks_p) = (
            flux_ks("apps", "./apps/staging", ""),
            flux_ks("apps", "./apps/production", ""),
        );
        let (sync_s, sync_p) = (sync_for("staging"), sync_for("production"));
        let files = [
            (
                "clusters/staging/flux-system/gotk-sync.yaml",
                sync_s.as_str(),
            ),
            ("clusters/staging/apps.yaml", ks_s.as_str()),
            (
                "clusters/production/flux-system/gotk-sync.yaml",
                sync_p.as_str(),
            ),
            ("clusters/production/apps.yaml", ks_p.as_str()),
            ("apps/staging/kustomization.yaml", staging.as_str()),
            ("apps/production/kustomization.yaml", production.as_str()),
            (
                "apps/base/kustomization.yaml",
                "resources:\n  - deploy.yaml\n",
            ),
            ("apps/base/deploy.yaml", base.as_str()),
        ];
        assert_eq!(
            findings_of("FV505", &files),
            vec![("apps/base/deploy.yaml".into(), 18, 16)]
        );
        let out = crate::engine::check_memory(&files, crate::config::Config::default());
        let d = out
            .diagnostics
            .iter()
            .find(|d| d.rule.code == "FV505")
            .expect("one finding");
        let mut labels: Vec<&str> = d.labels.iter().map(|l| l.message.as_str()).collect();
        labels.sort_unstable();
        assert_eq!(
            labels,
            vec![
                "in Deployment production/web, applied by Kustomization flux-system/apps in cluster production",
                "in Deployment staging/web, applied by Kustomization flux-system/apps in cluster staging",
            ]
        );
        assert!(d.message.contains("(and 1 more object)"), "{}", d.message);
    }

    #[test]
    fn substituted_values_are_read_as_flux_reads_them() {
        let deploy = DEPLOY
            .replace("replicas: 1", "replicas: ${REPLICAS}")
            .replace(
                "      containers:",
                "      terminationGracePeriodSeconds: \"${UNDEFINED}\"\n      containers:",
            )
            .replace(
                "image: nginx:1.27",
                "image: nginx:1.27\n          tty: ${TTY}",
            );
        let run = |vars: &str| {
            let ks = flux_ks(
                "apps",
                "./apps",
                &format!("  postBuild:\n    substitute:\n{vars}"),
            );
            findings_of(
                "FV505",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/apps.yaml", ks.as_str()),
                    ("apps/deploy.yaml", deploy.as_str()),
                ],
            )
        };
        // `3` substituted into a plain scalar is the integer 3; an undefined variable is
        // FV408's.
        assert_eq!(run("      REPLICAS: \"3\"\n      TTY: \"true\"\n"), vec![]);
        assert_eq!(
            run("      REPLICAS: three\n      TTY: maybe\n"),
            vec![
                ("apps/deploy.yaml".into(), 6, 13),
                ("apps/deploy.yaml".into(), 19, 16),
            ]
        );
        // The finding at the use names the definition.
        let ks = flux_ks(
            "apps",
            "./apps",
            "  postBuild:\n    substitute:\n      REPLICAS: three\n      TTY: \"true\"\n",
        );
        let out = crate::engine::check_memory(
            &[
                ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                ("clusters/production/apps.yaml", ks.as_str()),
                ("apps/deploy.yaml", deploy.as_str()),
            ],
            crate::config::Config::default(),
        );
        let d = out
            .diagnostics
            .iter()
            .find(|d| d.rule.code == "FV505")
            .expect("the replicas finding");
        let def = d
            .labels
            .iter()
            .find(|l| l.message.starts_with("`REPLICAS`"))
            .expect("a label at the definition");
        assert_eq!(
            def.message,
            "`REPLICAS` is `three` here (Kustomization flux-system/apps)"
        );
        let f = &out.repo.files[def.file];
        assert_eq!(&*f.path, "clusters/production/apps.yaml");
        assert_eq!(f.line_col(def.span.start as usize).line, 15);
    }

    #[test]
    fn a_variable_sops_encrypts_is_not_judged() {
        let route = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  parentRefs:
    - name: gateway
  hostnames:
    - web.${DOMAIN}
";
        let ks = flux_ks(
            "apps",
            "./apps",
            "  decryption:
    provider: sops
  postBuild:
    substituteFrom:
      - kind: Secret
        name: vars
",
        );
        let secret = "apiVersion: v1
kind: Secret
metadata:
  name: vars
  namespace: flux-system
stringData:
  DOMAIN: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]
sops:
  mac: ENC[AES256_GCM,data:abc]
";
        assert_eq!(
            findings_of(
                "FV505",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/apps.yaml", ks.as_str()),
                    ("clusters/production/vars.yaml", secret),
                    ("apps/route.yaml", route),
                ]
            ),
            vec![]
        );
    }

    #[test]
    fn an_object_in_a_render_gap_is_judged_as_written_without_required_fields() {
        let deploy = DEPLOY
            .replace("  selector:\n    matchLabels:\n      app: web\n", "")
            .replace("replicas: 1", "replicas: one");
        let kustomization = "resources:
  - deploy.yaml
components:
  - https://github.com/example/components//selector?ref=v1
";
        let ks = flux_ks("apps", "./apps", "");
        assert_eq!(
            findings_of(
                "FV505",
                &[
                    ("clusters/production/flux-system/gotk-sync.yaml", SYNC),
                    ("clusters/production/apps.yaml", ks.as_str()),
                    ("apps/kustomization.yaml", kustomization),
                    ("apps/deploy.yaml", deploy.as_str()),
                ]
            ),
            vec![("apps/deploy.yaml".into(), 6, 13)]
        );
    }

    const ROUTE_CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: routes.example.com
spec:
  group: example.com
  names:
    kind: Route
  versions:
    - name: v1
      served: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                match:
                  type: object
                  properties:
                    exact: {type: string}
                    prefix: {type: string}
                  oneOf:
                    - required: [exact]
                    - required: [prefix]
                address:
                  type: string
                  anyOf:
                    - format: ipv4
                    - format: ipv6
                mode:
                  type: string
                  not:
                    enum: [Legacy]
                port:
                  type: object
                  properties:
                    number: {type: integer}
                    name: {type: string}
                  allOf:
                    - required: [number]
                    - properties:
                        number: {minimum: 1}
                backend:
                  type: object
                  properties:
                    service:
                      type: object
                      properties:
                        name: {type: string}
                    resource: {type: string}
                  oneOf:
                    - required: [service]
                      properties:
                        service:
                          required: [name]
                    - required: [resource]
";

    #[test]
    fn one_of_any_of_all_of_and_not() {
        let routes = "apiVersion: example.com/v1
kind: Route
metadata:
  name: bad
spec:
  match:
    exact: a
    prefix: b
  address: example.com
  mode: Legacy
  port:
    name: http
  backend:
    service: {}
---
apiVersion: example.com/v1
kind: Route
metadata:
  name: bad2
spec:
  match: {}
  port:
    number: 0
---
apiVersion: example.com/v1
kind: Route
metadata:
  name: good
spec:
  match:
    exact: a
  address: \"::1\"
  mode: Modern
  port:
    number: 80
  backend:
    resource: x
";
        let files = [("crd.yaml", ROUTE_CRD), ("routes.yaml", routes)];
        assert_eq!(
            findings_of("FV505", &files),
            vec![
                // oneOf: two alternatives hold
                ("routes.yaml".into(), 7, 5),
                // anyOf: neither format
                ("routes.yaml".into(), 9, 12),
                // not: the excluded value
                ("routes.yaml".into(), 10, 9),
                // allOf: a required field of one alternative
                ("routes.yaml".into(), 11, 3),
                // oneOf: no alternative holds, the one with `service` fits: its own error
                ("routes.yaml".into(), 14, 5),
                // oneOf: no alternative holds and none fits better
                ("routes.yaml".into(), 21, 10),
                // allOf: a minimum of one alternative
                ("routes.yaml".into(), 23, 13),
            ]
        );
        let out = crate::engine::check_memory(&files, crate::config::Config::default());
        let messages: Vec<&str> = out
            .diagnostics
            .iter()
            .filter(|d| d.rule.code == "FV505")
            .map(|d| d.message.as_str())
            .collect();
        assert!(
            messages[0].contains("`spec.match` matches 2 alternatives (with `exact`; with `prefix`) where the schema allows exactly one"),
            "{}",
            messages[0]
        );
        assert!(messages[1].contains("matches none of the alternatives the schema allows: of format `ipv4`; of format `ipv6`"), "{}", messages[1]);
        assert!(
            messages[2].contains("`spec.mode` must not be one of `Legacy`"),
            "{}",
            messages[2]
        );
        assert!(
            messages[4].contains("`spec.backend.service` lacks the required field `name`"),
            "{}",
            messages[4]
        );
        assert!(messages[5].contains("`spec.match` matches none of the alternatives the schema allows: with `exact`; with `prefix`"), "{}", messages[5]);
    }
}
