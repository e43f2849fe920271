//! `fluxvet diff`: what a change does to the cluster, from two object sets alone.
//!
//! Objects are matched by identity (API group, kind, namespace, name), never by file, so moving
//! an object between files is not a change. Each modified object is compared field by field.

pub mod render;

use std::collections::BTreeMap;

use crate::diag::Severity;
use crate::index::{Object, Repository};
use crate::rules::RuleMeta;
use crate::rules::preview;
use crate::yaml::{Kind, NodeRef};

/// Fields nest at most this deep in the comparison; deeper values are compared as one.
const MAX_DEPTH: usize = 48;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Identity {
    fn of(repo: &Repository, o: &Object) -> Identity {
        Identity {
            group: o.group().to_string(),
            kind: o.kind.clone(),
            namespace: repo.effective_namespace(o).unwrap_or("").to_string(),
            name: o.name.clone(),
        }
    }

    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
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

fn objects(repo: &Repository) -> BTreeMap<Identity, &Object> {
    let mut map = BTreeMap::new();
    for o in &repo.objects {
        // The first definition wins, as kustomize would reject the duplicate anyway.
        map.entry(Identity::of(repo, o)).or_insert(o);
    }
    map
}

fn owner(repo: &Repository, o: &Object) -> String {
    if o.is_flux("Kustomization") || o.is_flux("HelmRelease") {
        return format!("{} {}", o.kind, crate::reconcile::display_name(repo, o));
    }
    match crate::reconcile::applied_by(repo, o.file) {
        Some(ks) => format!("Kustomization {}", crate::reconcile::display_name(repo, ks)),
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
    let before = objects(base);
    let after = objects(head);
    let mut report = DiffReport::default();
    for (id, &o) in &after {
        match before.get(id) {
            None => report.changes.push(ObjectChange {
                identity: id.clone(),
                kind: ChangeKind::Added,
                file: head.path(o.file).to_string(),
                line: line_of(head, o),
                owner: owner(head, o),
                fields: Vec::new(),
            }),
            Some(&old) => {
                let secret = o.kind == "Secret" && o.group().is_empty();
                let fields = field_changes(base.node(old), head.node(o), secret);
                if fields.is_empty() {
                    continue;
                }
                let change = ObjectChange {
                    identity: id.clone(),
                    kind: ChangeKind::Modified,
                    file: head.path(o.file).to_string(),
                    line: line_of(head, o),
                    owner: owner(head, o),
                    fields,
                };
                explain_modification(&change, o, &mut report.findings);
                report.changes.push(change);
            }
        }
    }
    for (id, &o) in &before {
        if after.contains_key(id) {
            continue;
        }
        let change = ObjectChange {
            identity: id.clone(),
            kind: ChangeKind::Removed,
            file: base.path(o.file).to_string(),
            line: line_of(base, o),
            owner: owner(base, o),
            fields: Vec::new(),
        };
        explain_removal(base, o, &change, &mut report.findings);
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

fn field_changes(old: NodeRef<'_>, new: NodeRef<'_>, secret: bool) -> Vec<FieldChange> {
    let mut a = BTreeMap::new();
    let mut b = BTreeMap::new();
    flatten(old, String::new(), 0, &mut a);
    flatten(new, String::new(), 0, &mut b);
    let mut out = Vec::new();
    let hide = |path: &str, v: Option<&String>| -> Option<String> {
        let v = v?;
        if secret && (path.starts_with("data.") || path.starts_with("stringData.")) {
            Some("(hidden)".to_string())
        } else {
            Some(v.clone())
        }
    };
    for (path, v) in &b {
        if a.get(path) != Some(v) {
            out.push(FieldChange {
                path: path.clone(),
                old: hide(path, a.get(path)),
                new: hide(path, Some(v)),
            });
        }
    }
    for (path, v) in &a {
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

/// `1.2.3` or `v1.2.3` as a semver version.
fn exact(v: &str) -> Option<semver::Version> {
    semver::Version::parse(v.trim().trim_start_matches(['v', '='])).ok()
}

fn explain_modification(change: &ObjectChange, o: &Object, findings: &mut Vec<Finding>) {
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
    let is_release = o.is_flux("HelmRelease");
    let is_ks = o.is_flux("Kustomization");
    for f in &change.fields {
        let chart_version = (is_release && f.path == "spec.chart.spec.version")
            || (o.is_flux("HelmChart") && f.path == "spec.version")
            || (o.is_flux("OCIRepository") && f.path == "spec.ref.tag");
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

fn explain_removal(
    base: &Repository,
    o: &Object,
    change: &ObjectChange,
    findings: &mut Vec<Finding>,
) {
    let Some(ks) = crate::reconcile::applied_by(base, o.file) else {
        return;
    };
    let prune = base
        .node(ks)
        .path(&["spec", "prune"])
        .and_then(|n| n.as_str())
        == Some("true");
    if !prune {
        return;
    }
    let data = DATA_KINDS.contains(&o.kind.as_str());
    findings.push(Finding {
        rule: &preview::prune_deletes::META,
        severity: if data { Severity::Error } else { Severity::Warning },
        identity: change.identity.clone(),
        file: change.file.clone(),
        line: change.line,
        message: format!(
            "{} is no longer in Git and Kustomization {} has prune: true: Flux will delete it from the cluster{}",
            change.identity.display(),
            crate::reconcile::display_name(base, ks),
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
        assert!(r.findings.is_empty());
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
}
