//! `fluxvet diff`: what a change does to the cluster, from two object sets alone.
//!
//! In a repository with clusters the objects are what each cluster applies (the model's
//! build: kustomize overlays, Flux's patches, targetNamespace and substitution), so an overlay
//! patch that changes a value is a change of the object it patches. Without clusters they are
//! the objects the files define. Objects are matched by identity (cluster, API group, kind,
//! namespace, name), never by file, so moving an object between files is not a change. Each
//! modified object is compared field by field.

pub mod render;

use std::collections::BTreeMap;

use crate::diag::Severity;
use crate::flux_api::{CoreKind, FluxKind};
use crate::model::index::{Object, Repository};
use crate::rules::RuleMeta;
use crate::rules::preview;
use crate::yaml::{Kind, NodeRef};

/// Fields nest at most this deep in the comparison; deeper values are compared as one.
const MAX_DEPTH: usize = 48;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    /// The cluster that applies it; empty without clusters.
    pub cluster: String,
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Identity {
    fn of(repo: &Repository, o: &Object) -> Identity {
        Identity {
            cluster: String::new(),
            group: o.group().to_string(),
            kind: o.kind.clone(),
            namespace: repo.effective_namespace(o).unwrap_or("").to_string(),
            name: o.name.clone(),
        }
    }

    pub fn display(&self) -> String {
        let object = if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        };
        if self.cluster.is_empty() {
            object
        } else {
            format!("{object} in cluster {}", self.cluster)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// `spec.chart.spec.version`, `spec.dependsOn[0].name`.
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
}

#[derive(Clone, Debug)]
pub struct ObjectChange {
    pub identity: Identity,
    pub kind: ChangeKind,
    /// Where the object is in head (base, for a removed one).
    pub file: String,
    pub line: usize,
    /// The Flux Kustomization (`namespace/name`) or HelmRelease that applies it, for grouping.
    pub owner: String,
    pub fields: Vec<FieldChange>,
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    pub identity: Identity,
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct DiffReport {
    pub changes: Vec<ObjectChange>,
    pub findings: Vec<Finding>,
}

impl DiffReport {
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Kinds whose deletion loses data: a prune that deletes one is an error.
const DATA_KINDS: &[&str] = &[
    "Namespace",
    "CustomResourceDefinition",
    "PersistentVolumeClaim",
    "StatefulSet",
];

/// One object on one side of the comparison.
struct Entry {
    /// Leaf values by path (`spec.chart.spec.version`).
    flat: BTreeMap<String, String>,
    /// Where each leaf was set (file, line), for rendered objects: a value an overlay patch
    /// changed points at the patch.
    set_at: BTreeMap<String, (String, usize)>,
    /// A core Secret: its data values are never shown.
    secret: bool,
    file: String,
    line: usize,
    owner: String,
    /// The Flux Kustomization that applies it (`namespace/name`) and whether it prunes.
    applier: Option<(String, bool)>,
    /// Whether that Kustomization sets `force: true` (Flux recreates what it cannot update).
    force: bool,
}

fn entries(repo: &Repository) -> BTreeMap<Identity, Entry> {
    let mut map = BTreeMap::new();
    if repo.clusters().is_empty() {
        for o in &repo.objects {
            let mut flat = BTreeMap::new();
            flatten(repo.node(o), String::new(), 0, &mut flat);
            let by = crate::model::reconcile::applied_by(repo, o.file);
            let applier = by.map(|ks| {
                (
                    crate::model::reconcile::display_name(repo, ks),
                    prunes(repo, ks),
                )
            });
            let force = by.is_some_and(|ks| forces(repo, ks));
            // The first definition wins, as kustomize would reject the duplicate anyway.
            map.entry(Identity::of(repo, o)).or_insert(Entry {
                flat,
                set_at: BTreeMap::new(),
                secret: CoreKind::Secret.is(o.group(), &o.kind),
                file: repo.path(o.file).to_string(),
                line: line_of(repo, o),
                owner: owner(repo, o),
                applier,
                force,
            });
        }
        return map;
    }
    for a in crate::model::applied::applied(repo) {
        let o = &a.object;
        let group = o
            .api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
            .to_string();
        let identity = Identity {
            cluster: a.cluster.clone(),
            group,
            kind: o.kind.clone(),
            namespace: o.namespace.clone().unwrap_or_default(),
            name: o.name.clone(),
        };
        let mut flat = BTreeMap::new();
        let mut origins = BTreeMap::new();
        flatten_rendered(&o.root, String::new(), 0, &mut flat, &mut origins);
        let set_at = origins
            .into_iter()
            .filter_map(|(path, origin): (String, crate::model::Origin)| {
                let f = repo.files.get(origin.file as usize)?;
                Some((
                    path,
                    (
                        f.path.to_string(),
                        f.line_col(origin.span.start as usize).line,
                    ),
                ))
            })
            .collect();
        let origin = o.root.origin;
        let (file, line) = match repo.files.get(origin.file as usize) {
            Some(f) => (
                f.path.to_string(),
                f.line_col(origin.span.start as usize).line,
            ),
            None => (String::new(), 0),
        };
        let ks = a.kustomization.and_then(|i| repo.objects.get(i));
        let applier = ks.map(|ks| {
            (
                crate::model::reconcile::display_name(repo, ks),
                prunes(repo, ks),
            )
        });
        let force = ks.is_some_and(|ks| forces(repo, ks));
        let by = match &applier {
            Some((name, _)) => format!("Kustomization {name}"),
            None => "the bootstrap Kustomization".to_string(),
        };
        let owner = if a.cluster.is_empty() {
            by
        } else {
            format!("cluster {} · {by}", a.cluster)
        };
        map.entry(identity).or_insert(Entry {
            flat,
            set_at,
            secret: o.kind == CoreKind::Secret.name() && o.api_version == "v1",
            file,
            line,
            owner,
            applier,
            force,
        });
    }
    map
}

fn forces(repo: &Repository, ks: &Object) -> bool {
    repo.node(ks)
        .path(&["spec", "force"])
        .and_then(|n| n.as_str())
        == Some("true")
}

fn prunes(repo: &Repository, ks: &Object) -> bool {
    repo.node(ks)
        .path(&["spec", "prune"])
        .and_then(|n| n.as_str())
        == Some("true")
}

fn owner(repo: &Repository, o: &Object) -> String {
    if o.is_flux(FluxKind::Kustomization) || o.is_flux(FluxKind::HelmRelease) {
        return format!(
            "{} {}",
            o.kind,
            crate::model::reconcile::display_name(repo, o)
        );
    }
    match crate::model::reconcile::applied_by(repo, o.file) {
        Some(ks) => format!(
            "Kustomization {}",
            crate::model::reconcile::display_name(repo, ks)
        ),
        None => "(not applied by a Flux Kustomization in this repository)".to_string(),
    }
}

fn line_of(repo: &Repository, o: &Object) -> usize {
    let doc = repo.document(o);
    repo.files[o.file]
        .line_col(
            doc.root
                .map(|r| doc.nodes[r as usize].span.start as usize)
                .unwrap_or(0),
        )
        .line
}

pub fn compare(base: &Repository, head: &Repository) -> DiffReport {
    let before = entries(base);
    let after = entries(head);
    let mut report = DiffReport::default();
    for (id, new) in &after {
        match before.get(id) {
            None => report.changes.push(ObjectChange {
                identity: id.clone(),
                kind: ChangeKind::Added,
                file: new.file.clone(),
                line: new.line,
                owner: new.owner.clone(),
                fields: Vec::new(),
            }),
            Some(old) => {
                let fields = field_changes(&old.flat, &new.flat, new.secret);
                let moved =
                    old.applier.as_ref().map(|a| &a.0) != new.applier.as_ref().map(|a| &a.0);
                if fields.is_empty() && !moved {
                    continue;
                }
                // The place that set the first changed value, where the build knows it.
                let (file, line) = fields
                    .iter()
                    .find_map(|f| new.set_at.get(&f.path))
                    .cloned()
                    .unwrap_or((new.file.clone(), new.line));
                let change = ObjectChange {
                    identity: id.clone(),
                    kind: ChangeKind::Modified,
                    file,
                    line,
                    owner: new.owner.clone(),
                    fields,
                };
                explain_modification(&change, &mut report.findings);
                explain_immutable(&change, new.force, &mut report.findings);
                explain_owner_move(old, new, &change, &mut report.findings);
                report.changes.push(change);
            }
        }
    }
    for (id, old) in &before {
        if after.contains_key(id) {
            continue;
        }
        let change = ObjectChange {
            identity: id.clone(),
            kind: ChangeKind::Removed,
            file: old.file.clone(),
            line: old.line,
            owner: old.owner.clone(),
            fields: Vec::new(),
        };
        explain_removal(old, &change, &mut report.findings);
        report.changes.push(change);
    }
    report
        .changes
        .sort_by(|a, b| (&a.owner, &a.identity).cmp(&(&b.owner, &b.identity)));
    report
        .findings
        .sort_by(|a, b| (&a.file, a.line, a.rule.code).cmp(&(&b.file, b.line, b.rule.code)));
    report
}

fn field_changes(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    secret: bool,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let hide = |path: &str, v: Option<&String>| -> Option<String> {
        let v = v?;
        if secret && (path.starts_with("data.") || path.starts_with("stringData.")) {
            Some("(hidden)".to_string())
        } else {
            Some(v.clone())
        }
    };
    for (path, v) in b {
        if a.get(path) != Some(v) {
            out.push(FieldChange {
                path: path.clone(),
                old: hide(path, a.get(path)),
                new: hide(path, Some(v)),
            });
        }
    }
    for (path, v) in a {
        if !b.contains_key(path) {
            out.push(FieldChange {
                path: path.clone(),
                old: hide(path, Some(v)),
                new: None,
            });
        }
    }
    out.sort_by(|x, y| x.path.cmp(&y.path));
    out
}

/// Leaf values by YAML path. Empty collections are leaves so that adding one shows.
fn flatten(node: NodeRef<'_>, path: String, depth: usize, out: &mut BTreeMap<String, String>) {
    if depth >= MAX_DEPTH {
        out.insert(path, "…".to_string());
        return;
    }
    match node.kind() {
        Kind::Mapping(_) => {
            let entries = node.entries();
            if entries.is_empty() {
                out.insert(path.clone(), "{}".into());
            }
            for (k, v) in entries {
                let key = k.as_str().unwrap_or("?");
                let p = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                };
                flatten(v, p, depth + 1, out);
            }
        }
        Kind::Sequence(_) => {
            let items = node.items();
            if items.is_empty() {
                out.insert(path.clone(), "[]".into());
            }
            for (i, v) in items.into_iter().enumerate() {
                flatten(v, format!("{path}[{i}]"), depth + 1, out);
            }
        }
        Kind::Scalar { value, .. } => {
            out.insert(path, value.to_string());
        }
        Kind::Alias(_) => {}
    }
}

/// [`flatten`] for a rendered tree.
fn flatten_rendered(
    node: &crate::model::Node,
    path: String,
    depth: usize,
    out: &mut BTreeMap<String, String>,
    origins: &mut BTreeMap<String, crate::model::Origin>,
) {
    use crate::model::Value;
    if depth >= MAX_DEPTH {
        out.insert(path, "…".to_string());
        return;
    }
    match &node.value {
        Value::Map(entries) => {
            if entries.is_empty() {
                out.insert(path.clone(), "{}".into());
            }
            for (key, v) in entries {
                let p = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                };
                flatten_rendered(v, p, depth + 1, out, origins);
            }
        }
        Value::Seq(items) => {
            if items.is_empty() {
                out.insert(path.clone(), "[]".into());
            }
            for (i, v) in items.iter().enumerate() {
                flatten_rendered(v, format!("{path}[{i}]"), depth + 1, out, origins);
            }
        }
        Value::Scalar(text, _) => {
            origins.insert(path.clone(), node.origin);
            out.insert(path, text.to_string());
        }
    }
}

/// `1.2.3` or `v1.2.3` as a semver version.
fn exact(v: &str) -> Option<semver::Version> {
    semver::Version::parse(v.trim().trim_start_matches(['v', '='])).ok()
}

fn explain_modification(change: &ObjectChange, findings: &mut Vec<Finding>) {
    let id = &change.identity;
    let is_flux =
        |kind: FluxKind| id.kind == kind.name() && id.group.ends_with(".toolkit.fluxcd.io");
    let mut push = |rule: &'static RuleMeta, severity: Severity, message: String| {
        findings.push(Finding {
            rule,
            severity,
            identity: change.identity.clone(),
            file: change.file.clone(),
            line: change.line,
            message,
        })
    };
    let is_release = is_flux(FluxKind::HelmRelease);
    let is_ks = is_flux(FluxKind::Kustomization);
    for f in &change.fields {
        let chart_version = (is_release && f.path == "spec.chart.spec.version")
            || (is_flux(FluxKind::HelmChart) && f.path == "spec.version")
            || (is_flux(FluxKind::OCIRepository) && f.path == "spec.ref.tag");
        if chart_version
            && let (Some(old), Some(new)) = (&f.old, &f.new)
            && let Some((class, severity)) = classify(old, new)
        {
            let rule = if class == "downgrade" {
                &preview::chart_downgrade::META
            } else {
                &preview::chart_version_bump::META
            };
            push(
                rule,
                severity,
                format!(
                    "{} {}: {old} → {new} ({class})",
                    change.identity.display(),
                    f.path
                ),
            );
        }
        if (is_release || is_ks) && f.path.starts_with("spec.dependsOn") {
            push(
                &preview::bring_up_reordered::META,
                preview::bring_up_reordered::META.severity,
                format!(
                    "{}: dependsOn changed ({}): Flux brings the platform up in a new order",
                    change.identity.display(),
                    f.path
                ),
            );
        }
        if is_release
            && matches!(
                f.path.as_str(),
                "spec.targetNamespace" | "spec.releaseName" | "spec.storageNamespace"
            )
        {
            push(
                &preview::release_reinstall::META,
                preview::release_reinstall::META.severity,
                format!(
                    "{}: {} changes from {} to {}: helm-controller uninstalls the release and installs a new one instead of upgrading",
                    change.identity.display(),
                    f.path,
                    f.old.as_deref().unwrap_or("(unset)"),
                    f.new.as_deref().unwrap_or("(unset)")
                ),
            );
        }
    }
    // One finding per dependsOn change is enough.
    let mut seen = false;
    findings.retain(|f| {
        if std::ptr::eq(f.rule, &preview::bring_up_reordered::META) && f.identity == change.identity
        {
            let keep = !seen;
            seen = true;
            keep
        } else {
            true
        }
    });
}

/// `patch`, `minor`, `major` or `downgrade`, with the severity the diff gives it.
pub fn classify(old: &str, new: &str) -> Option<(&'static str, Severity)> {
    let (a, b) = (exact(old)?, exact(new)?);
    Some(if b < a {
        ("downgrade", Severity::Warning)
    } else if b.major != a.major {
        ("major", Severity::Warning)
    } else if b.minor != a.minor {
        ("minor", Severity::Info)
    } else if b != a {
        ("patch", Severity::Info)
    } else {
        return None;
    })
}

fn explain_immutable(change: &ObjectChange, force: bool, findings: &mut Vec<Finding>) {
    let id = &change.identity;
    let Some(f) = change
        .fields
        .iter()
        .find(|f| f.old.is_some() && preview::immutable_change::is_immutable(&id.kind, &f.path))
    else {
        return;
    };
    let (severity, what) = if force {
        (
            Severity::Warning,
            "the Kustomization sets force: true, so Flux deletes and recreates the object",
        )
    } else {
        (
            Severity::Error,
            "the API server refuses the update (field is immutable) and the Kustomization fails until the object is deleted by hand",
        )
    };
    findings.push(Finding {
        rule: &preview::immutable_change::META,
        severity,
        identity: id.clone(),
        file: change.file.clone(),
        line: change.line,
        message: format!("{}: {} changes: {what}", id.display(), f.path),
    });
}

fn explain_owner_move(
    old: &Entry,
    new: &Entry,
    change: &ObjectChange,
    findings: &mut Vec<Finding>,
) {
    let (Some((from, _)), Some((to, _))) = (&old.applier, &new.applier) else {
        return;
    };
    if from == to {
        return;
    }
    findings.push(Finding {
        rule: &preview::ownership_move::META,
        severity: preview::ownership_move::META.severity,
        identity: change.identity.clone(),
        file: change.file.clone(),
        line: change.line,
        message: format!(
            "{} moves from Kustomization {from} to {to}: if {from} prunes after {to} applied it, it is deleted until the next reconcile",
            change.identity.display()
        ),
    });
}

fn explain_removal(old: &Entry, change: &ObjectChange, findings: &mut Vec<Finding>) {
    let Some((ks, prune)) = &old.applier else {
        return;
    };
    if !prune {
        findings.push(Finding {
            rule: &preview::orphaned::META,
            severity: preview::orphaned::META.severity,
            identity: change.identity.clone(),
            file: change.file.clone(),
            line: change.line,
            message: format!(
                "{} is no longer in Git, but Kustomization {ks} does not prune: it stays in the cluster with nothing managing it",
                change.identity.display()
            ),
        });
        return;
    }
    let data = DATA_KINDS.contains(&change.identity.kind.as_str());
    findings.push(Finding {
        rule: &preview::prune_deletes::META,
        severity: if data { Severity::Error } else { Severity::Warning },
        identity: change.identity.clone(),
        file: change.file.clone(),
        line: change.line,
        message: format!(
            "{} is no longer in Git and Kustomization {ks} has prune: true: Flux will delete it from the cluster{}",
            change.identity.display(),
            if data { ", and its data with it" } else { "" }
        ),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::{Trees, check_memory_with};

    const KS: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";

    fn release(name: &str, version: &str, extra: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: apps\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: {name}\n      version: \"{version}\"\n      sourceRef:\n        kind: HelmRepository\n        name: repo\n{extra}"
        )
    }

    /// Keeps every tree, as `fluxvet diff` does: `check` releases those no rule reads (a
    /// custom resource's, for one), and the diff compares them all.
    fn diff(base: &[(&str, &str)], head: &[(&str, &str)]) -> DiffReport {
        let b = check_memory_with(base, Config::default(), Trees::All);
        let h = check_memory_with(head, Config::default(), Trees::All);
        compare(&b.repo, &h.repo)
    }

    fn codes(r: &DiffReport) -> Vec<(&str, Severity)> {
        r.findings
            .iter()
            .map(|f| (f.rule.code, f.severity))
            .collect()
    }

    #[test]
    fn moving_an_object_between_files_is_no_change() {
        let a = release("podinfo", "6.5.0", "");
        let r = diff(
            &[("ks.yaml", KS), ("apps/a.yaml", &a)],
            &[("ks.yaml", KS), ("apps/b/c.yaml", &a)],
        );
        assert!(r.changes.is_empty(), "{:?}", r.changes);
    }

    #[test]
    fn version_bumps_are_classified() {
        for (old, new, class, code, sev) in [
            ("6.5.0", "6.5.1", "patch", "FV801", Severity::Info),
            ("6.5.0", "6.6.0", "minor", "FV801", Severity::Info),
            ("6.5.0", "7.0.0", "major", "FV801", Severity::Warning),
            ("6.5.0", "6.4.9", "downgrade", "FV802", Severity::Warning),
        ] {
            let r = diff(
                &[("apps/a.yaml", &release("p", old, ""))],
                &[("apps/a.yaml", &release("p", new, ""))],
            );
            assert_eq!(r.changes.len(), 1);
            assert_eq!(r.changes[0].fields[0].path, "spec.chart.spec.version");
            assert_eq!(codes(&r), vec![(code, sev)], "{old} -> {new}");
            assert!(
                r.findings[0].message.contains(class),
                "{}",
                r.findings[0].message
            );
        }
    }

    #[test]
    fn pruned_objects_are_deleted_and_data_kinds_are_errors() {
        let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: media\n";
        let pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: lib\n  namespace: media\n";
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: media\n";
        let r = diff(
            &[
                ("ks.yaml", KS),
                ("apps/ns.yaml", ns),
                ("apps/pvc.yaml", pvc),
                ("apps/cm.yaml", cm),
            ],
            &[("ks.yaml", KS)],
        );
        assert_eq!(
            codes(&r),
            vec![
                ("FV803", Severity::Warning),
                ("FV803", Severity::Error),
                ("FV803", Severity::Error)
            ]
        );
        let unpruned = KS.replace("prune: true", "prune: false");
        let r = diff(
            &[("ks.yaml", &unpruned), ("apps/ns.yaml", ns)],
            &[("ks.yaml", &unpruned)],
        );
        // Not deleted: left behind, unmanaged (FV808).
        assert_eq!(codes(&r), vec![("FV808", Severity::Info)]);
        assert_eq!(r.changes[0].kind, ChangeKind::Removed);
    }

    #[test]
    fn depends_on_and_release_renames() {
        let a = release("p", "1.0.0", "  dependsOn:\n    - name: a\n");
        let b = release(
            "p",
            "1.0.0",
            "  dependsOn:\n    - name: b\n  releaseName: q\n",
        );
        let r = diff(&[("apps/a.yaml", &a)], &[("apps/a.yaml", &b)]);
        assert_eq!(
            codes(&r),
            vec![("FV804", Severity::Info), ("FV805", Severity::Warning)]
        );
    }

    #[test]
    fn reorder_and_reinstall_fire_on_their_own_fields_only() {
        // Each of the three fields that make helm-controller reinstall, alone: FV805 each time.
        for field in ["targetNamespace", "releaseName", "storageNamespace"] {
            let r = diff(
                &[(
                    "apps/a.yaml",
                    &release("p", "1.0.0", &format!("  {field}: one\n")),
                )],
                &[(
                    "apps/a.yaml",
                    &release("p", "1.0.0", &format!("  {field}: two\n")),
                )],
            );
            assert_eq!(codes(&r), vec![("FV805", Severity::Warning)], "{field}");
        }
        // A Kustomization's dependsOn: FV804.
        let ks = |dep: &str| format!("{KS}  dependsOn:\n    - name: {dep}\n");
        let r = diff(&[("ks.yaml", &ks("a"))], &[("ks.yaml", &ks("b"))]);
        assert_eq!(codes(&r), vec![("FV804", Severity::Info)]);
    }

    #[test]
    fn reorder_and_reinstall_stay_quiet_on_other_changes() {
        // A release whose values, interval and chart version change while its dependsOn and
        // release identity (targetNamespace, releaseName, storageNamespace) stay: only FV801.
        let fixed = "  dependsOn:\n    - name: a\n  targetNamespace: one\n  releaseName: p\n  storageNamespace: s\n";
        let a = release(
            "p",
            "1.0.0",
            &format!("{fixed}  values:\n    replicas: 1\n"),
        );
        let b = release(
            "p",
            "1.0.1",
            &format!("{fixed}  values:\n    replicas: 2\n"),
        )
        .replace("interval: 10m", "interval: 5m");
        let r = diff(&[("apps/a.yaml", &a)], &[("apps/a.yaml", &b)]);
        let paths: Vec<&str> = r.changes[0]
            .fields
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "spec.chart.spec.version",
                "spec.interval",
                "spec.values.replicas"
            ]
        );
        assert_eq!(codes(&r), vec![("FV801", Severity::Info)]);

        // A Kustomization's targetNamespace is not a Helm release: no reinstall.
        let ks = |ns: &str| format!("{KS}  targetNamespace: {ns}\n");
        let r = diff(&[("ks.yaml", &ks("one"))], &[("ks.yaml", &ks("two"))]);
        assert_eq!(r.changes.len(), 1);
        assert_eq!(codes(&r), vec![]);

        // dependsOn on a kind Flux does not order by (a custom resource): no bring-up order.
        let widget = |dep: &str| {
            format!(
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: apps\nspec:\n  dependsOn:\n    - name: {dep}\n  targetNamespace: {dep}\n"
            )
        };
        let r = diff(&[("w.yaml", &widget("a"))], &[("w.yaml", &widget("b"))]);
        assert_eq!(r.changes.len(), 1);
        assert_eq!(codes(&r), vec![]);

        // A release that is added or removed, dependsOn and all, is no reorder or reinstall of
        // anything (and nothing prunes it here: no Kustomization applies it).
        let full = release("p", "1.0.0", fixed);
        let r = diff(&[], &[("apps/a.yaml", &full)]);
        assert_eq!((r.changes.len(), codes(&r)), (1, vec![]));
        let r = diff(&[("apps/a.yaml", &full)], &[]);
        assert_eq!((r.changes.len(), codes(&r)), (1, vec![]));

        // The same dependsOn written in another style is the same value.
        let flow = release("p", "1.0.0", "  dependsOn: [{name: a}]\n");
        let block = release("p", "1.0.0", "  dependsOn:\n    - name: a\n");
        let r = diff(&[("apps/a.yaml", &block)], &[("apps/a.yaml", &flow)]);
        assert_eq!((r.changes.len(), codes(&r)), (0, vec![]));
    }

    #[test]
    fn secret_values_are_hidden() {
        let s1 = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: a\nstringData:\n  password: hunter2\n";
        let s2 = s1.replace("hunter2", "correct-horse");
        let r = diff(&[("a.yaml", s1)], &[("a.yaml", &s2)]);
        let text =
            render::text(&r, "t", false) + &render::json(&r, "a", "b") + &render::markdown(&r, "t");
        assert!(
            !text.contains("hunter2") && !text.contains("correct-horse"),
            "{text}"
        );
        assert!(text.contains("stringData.password"));
    }

    fn deployment(selector: &str, image: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  selector:\n    matchLabels:\n      app: {selector}\n  template:\n    metadata:\n      labels:\n        app: {selector}\n    spec:\n      containers:\n        - name: web\n          image: {image}\n"
        )
    }

    #[test]
    fn immutable_fields_fire_and_force_softens_them() {
        let base = [
            ("ks.yaml", KS),
            ("apps/web.yaml", &deployment("web", "nginx:1.27") as &str),
        ];
        let head_selector = deployment("frontend", "nginx:1.27");
        let r = diff(&base, &[("ks.yaml", KS), ("apps/web.yaml", &head_selector)]);
        assert_eq!(codes(&r), vec![("FV806", Severity::Error)]);
        // With force: true, Flux recreates it: a warning that says so.
        let forced = format!("{KS}  force: true\n");
        let r = diff(
            &[
                ("ks.yaml", &forced),
                ("apps/web.yaml", &deployment("web", "nginx:1.27")),
            ],
            &[("ks.yaml", &forced), ("apps/web.yaml", &head_selector)],
        );
        assert_eq!(codes(&r), vec![("FV806", Severity::Warning)]);
        assert!(
            r.findings[0].message.contains("force: true"),
            "{}",
            r.findings[0].message
        );
        // An image change is an ordinary update.
        let r = diff(
            &base,
            &[
                ("ks.yaml", KS),
                ("apps/web.yaml", &deployment("web", "nginx:1.28")),
            ],
        );
        assert_eq!(codes(&r), vec![]);
    }

    #[test]
    fn moves_between_kustomizations_and_orphans() {
        let other = KS
            .replace("name: apps\n", "name: frontend\n")
            .replace("./apps", "./frontend");
        let web = deployment("web", "nginx:1.27");
        // The file moves from ./apps to ./frontend: another Kustomization applies it.
        let r = diff(
            &[
                ("ks.yaml", KS),
                ("ks2.yaml", &other),
                ("apps/web.yaml", &web),
            ],
            &[
                ("ks.yaml", KS),
                ("ks2.yaml", &other),
                ("frontend/web.yaml", &web),
            ],
        );
        assert_eq!(codes(&r), vec![("FV807", Severity::Warning)]);
        // Moved within one Kustomization's path: no finding.
        let r = diff(
            &[("ks.yaml", KS), ("apps/web.yaml", &web)],
            &[("ks.yaml", KS), ("apps/web/deployment.yaml", &web)],
        );
        assert_eq!(codes(&r), vec![]);
        // Removed under prune: false: orphaned, not deleted.
        let keep = KS.replace("prune: true", "prune: false");
        let r = diff(
            &[("ks.yaml", &keep), ("apps/web.yaml", &web)],
            &[("ks.yaml", &keep)],
        );
        assert_eq!(codes(&r), vec![("FV808", Severity::Info)]);
        // Removed under prune: true: FV803, not FV808.
        let r = diff(
            &[("ks.yaml", KS), ("apps/web.yaml", &web)],
            &[("ks.yaml", KS)],
        );
        assert_eq!(codes(&r), vec![("FV803", Severity::Warning)]);
    }
}
