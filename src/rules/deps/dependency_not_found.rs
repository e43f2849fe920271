use crate::diag::{Diagnostic, Severity};
use crate::model::applied::Applied;
use crate::model::graph::{DepRef, Graph, Target};
use crate::model::index::Repository;
use crate::rules::{Rule, RuleMeta};

pub struct DependencyNotFound;

pub static META: RuleMeta = RuleMeta {
    code: "FV301",
    name: "dependency-not-found",
    severity: Severity::Error,
    summary: "A dependsOn entry names no object of the same kind in that namespace.",
    docs: r#"## What it does
Resolves every `spec.dependsOn` entry of a HelmRelease or Kustomization the way Flux does: an
object of the **same kind**, with that name, in the entry's `namespace` or else the referring
object's own namespace. Reports entries that match nothing in the repository, and says whether
the name exists as the other kind, in another namespace, or under a close spelling.

An object's namespace is the one it lands in: a kustomization file's `namespace:` overrides
the `metadata.namespace` of every object it includes, directly or through nested directories
and components (the outermost such kustomization wins, as kustomize applies it last). An entry
that names the namespace from before the override is reported, and the help names the
namespace the target lands in.

In a repository with clusters, an object defined in a file no cluster's build includes is
in no cluster: an entry naming it is reported, with the place it is defined. Each cluster is
its own API server: an entry resolves only to an object a cluster that applies the referrer
applies too. One that only another cluster has is reported with that cluster's name, and a file
several clusters apply is reported for each of them that lacks the dependency.

Entries whose name or namespace is filled in by post-build substitution (`${VAR}`) are not
judged, nor an entry naming an object the clusters' builds render under that name (a
`${APP}-volsync` HelmRelease of a component, as substituted), nor an entry whose name a file
Flux cannot decode (FV101) may define: its objects cannot be read, nor one an object of its
kind defines in a YAML template beside the checked files (`sync.yaml.templ`, `*.yaml.tmpl`,
`*.yaml.j2`, ...), which a script renders and applies. Where a namespace cannot be
known from the files (no `metadata.namespace` and no kustomization `namespace:` above the file)
only the name is compared.

## Why is this bad?
Flux holds the object back until its dependency is Ready. A dependency that does not exist never
becomes Ready: the object reports `DependencyNotReady` and is never applied. A Kustomization can
only depend on Kustomizations and a HelmRelease only on HelmReleases (kustomize-controller#242).

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  dependsOn:
    - name: infra-conifgs   # typo
```

## Use instead
```yaml
spec:
  dependsOn:
    - name: infra-configs
```
"#,
};

/// Whether `text` has a line `name: <name>` (quoted or not): a document go-yaml rejects may
/// define an object of that name, which fluxvet cannot read either.
pub(crate) fn names(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        l.trim_start().strip_prefix("name:").map(|v| {
            v.split(" #")
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\''])
        }) == Some(name)
    })
}

/// Extensions of a YAML template a script renders before applying it (`sync.yaml.templ`,
/// `sed … | kubectl apply -f -`): fluxvet does not check such files, but the objects they
/// define exist in the cluster.
const TEMPLATE_EXTENSIONS: &[&str] = &["templ", "tmpl", "tpl", "template", "j2", "gotmpl"];

/// The texts of the YAML templates (`*.yaml.templ` and the like) in the directories that hold
/// a checked file.
fn yaml_templates(repo: &Repository) -> Vec<String> {
    let mut dirs: Vec<&str> = (0..repo.files.len())
        .map(|f| repo.path(f).rsplit_once('/').map_or("", |(d, _)| d))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    let mut out = Vec::new();
    for dir in dirs {
        for name in repo.tree.list_dir(dir) {
            let Some((stem, ext)) = name.rsplit_once('.') else {
                continue;
            };
            if !TEMPLATE_EXTENSIONS.contains(&ext)
                || !(stem.ends_with(".yaml") || stem.ends_with(".yml"))
            {
                continue;
            }
            let rel = if dir.is_empty() {
                name.clone()
            } else {
                format!("{dir}/{name}")
            };
            if let Some(bytes) = repo.tree.read(&rel) {
                out.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    out
}

/// Whether the applied object `a` is what the dependsOn entry `r` of a `kind` names.
fn is_named(a: &Applied, kind: &str, r: &DepRef) -> bool {
    a.object.kind == kind
        && a.object.name == r.name
        && (r.namespace.is_none() || a.object.namespace == r.namespace)
}

/// ` in namespace `ns`` for an entry whose namespace is known.
fn in_namespace(r: &DepRef) -> String {
    match &r.namespace {
        Some(ns) => format!(" in namespace `{ns}`"),
        None => String::new(),
    }
}

/// Whether `text` has a line `kind: <kind>`.
pub(crate) fn declares_kind(text: &str, kind: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().strip_prefix("kind:").map(str::trim) == Some(kind))
}

impl Rule for DependencyNotFound {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let g = Graph::build(repo);
        // Files go-yaml rejects: their objects cannot be read, so one may be the dependency.
        let unreadable: Vec<&str> = repo
            .files
            .iter()
            .filter(|f| {
                f.yaml_rejection
                    .get_or_init(|| {
                        crate::model::build::yaml_rejection(
                            &crate::yaml::parse_source(&f.text).problems,
                        )
                    })
                    .is_some()
            })
            .map(|f| &*f.text)
            .collect();
        let templates = std::sync::OnceLock::new();
        for r in g.refs.iter().filter(|r| r.target == Target::Missing) {
            if unreadable.iter().any(|text| names(text, &r.name)) {
                continue;
            }
            let from = g.node(r.from);
            // Defined in a YAML template a script applies (`sed … | kubectl apply -f -`).
            if templates
                .get_or_init(|| yaml_templates(repo))
                .iter()
                .any(|text| declares_kind(text, from.kind.as_str()) && names(text, &r.name))
            {
                continue;
            }
            // Without a cluster in the files, Flux was installed from outside them (Terraform,
            // a Flux Operator values file): its sync Kustomization `flux-system` is made there,
            // as the bootstrap's GitRepository of that name is.
            if repo.clusters().is_empty()
                && from.kind == crate::model::graph::DepKind::Kustomization
                && r.name == "flux-system"
                && r.namespace.as_deref().is_none_or(|n| n == "flux-system")
            {
                continue;
            }
            let kind = from.kind.as_str();
            // Defined where applied: a name post-build substitution completes
            // (`name: ${APP}-volsync` in a component each app's Kustomization includes).
            let tree = repo.reconcile_tree();
            let clusters: Vec<&str> = tree
                .clusters_of(from.file())
                .iter()
                .filter_map(|&c| repo.clusters().get(c as usize))
                .map(|c| c.name.as_str())
                .collect();
            let named = |a: &&Applied| is_named(a, kind, r);
            let mine = |a: &&Applied| clusters.is_empty() || clusters.contains(&a.cluster.as_str());
            if repo.judged().iter().filter(mine).any(|a| named(&a)) {
                continue;
            }
            // dependsOn looks only in the referrer's own cluster (its API server).
            let elsewhere = repo
                .judged()
                .iter()
                .filter(|a| !a.cluster.is_empty() && !mine(a))
                .find(named);
            let where_ = in_namespace(r);
            let message = match elsewhere {
                Some(a) => format!(
                    "no {kind} `{}`{where_} in cluster {}: Flux keeps {kind} `{}` waiting (DependencyNotReady) and never applies it; only cluster {} applies one",
                    r.name,
                    clusters.join(", "),
                    from.name(),
                    a.cluster
                ),
                None => format!(
                    "no {kind} `{}`{where_}: Flux keeps {kind} `{}` waiting (DependencyNotReady) and never applies it",
                    r.name,
                    from.name()
                ),
            };
            let mut d = Diagnostic::new(&META, from.file(), r.name_span, message)
                .primary_label(format!("no {kind} of this name{where_}"));
            if let Some(origin) = elsewhere
                .and_then(|a| a.object.root.path(&["metadata", "name"]))
                .map(|n| n.origin)
                .filter(|o| !o.is_none())
            {
                d = d.label(
                    origin.file as usize,
                    origin.span,
                    format!(
                        "defined here, for cluster {} only",
                        elsewhere.map_or("", |a| a.cluster.as_str())
                    ),
                );
            }
            // Defined in Git, but in a file no cluster applies: say so, and where.
            let unapplied = repo.objects.iter().find(|o| {
                o.kind == kind
                    && o.name == r.name
                    && !tree.reaches(repo, o.file)
                    && (r.namespace.is_none()
                        || repo
                            .effective_namespace(o)
                            .is_none_or(|n| Some(n) == r.namespace.as_deref()))
            });
            if let Some(o) = unapplied {
                d = d
                    .label(o.file, o.name_span, "defined here, in a file no cluster's build includes")
                    .help(format!(
                        "include `{}` in the kustomization that should apply it (is its entry commented out?)",
                        repo.path(o.file)
                    ));
            } else if let Some(help) = suggestion(&g, r.from, &r.name, r.namespace.as_deref()) {
                d = d.help(help);
            }
            out.push(d);
        }
        // A referrer two clusters apply whose dependency only some of them have: Flux waits
        // in the others.
        for r in g.refs.iter() {
            if !matches!(r.target, Target::Resolved(_)) {
                continue;
            }
            let from = g.node(r.from);
            let kind = from.kind.as_str();
            let lacking: Vec<&str> = g
                .clusters_lacking(r)
                .into_iter()
                .filter_map(|c| repo.clusters().get(c as usize))
                .map(|c| c.name.as_str())
                // Defined where applied: a name post-build substitution completes.
                .filter(|c| {
                    !repo
                        .judged()
                        .iter()
                        .any(|a| a.cluster == *c && is_named(a, kind, r))
                })
                .collect();
            if lacking.is_empty() {
                continue;
            }
            let where_ = in_namespace(r);
            out.push(
                Diagnostic::new(
                    &META,
                    from.file(),
                    r.name_span,
                    format!(
                        "no {kind} `{}`{where_} in cluster {}: Flux keeps {kind} `{}` waiting there (DependencyNotReady) and never applies it; the other clusters that apply this file have one",
                        r.name,
                        lacking.join(", "),
                        from.name()
                    ),
                )
                .primary_label(format!("no {kind} of this name in cluster {}", lacking.join(", "))),
            );
        }
    }
}

/// What the user most likely meant: the same name as the other kind, the same name in another
/// namespace, or a close spelling.
fn suggestion(g: &Graph<'_>, from: usize, name: &str, namespace: Option<&str>) -> Option<String> {
    let me = g.node(from);
    let kind = me.kind;
    let cross_kind = |other: &crate::model::graph::Node<'_>| {
        format!(
            "`{name}` is a {other_kind} ({}); a {k} can only depend on {k}s: depend on a {k} that applies it (and health-checks it), or drop this entry",
            other.qualified(),
            other_kind = other.kind.as_str(),
            k = kind.as_str()
        )
    };
    let other_kind: Vec<&crate::model::graph::Node<'_>> = g
        .nodes
        .iter()
        .filter(|n| n.kind == kind.other() && n.name() == name)
        .collect();
    // The other kind in the very namespace asked for is the likeliest meaning; elsewhere, a
    // namespace slip on the right kind is likelier than a kind mix-up.
    if let Some(other) = other_kind
        .iter()
        .find(|n| namespace.is_none() || n.namespace.is_none() || n.namespace == namespace)
    {
        return Some(cross_kind(other));
    }
    let elsewhere: Vec<&str> = g
        .nodes
        .iter()
        .filter(|n| n.kind == kind && n.name() == name)
        .filter_map(|n| n.namespace)
        .filter(|ns| Some(*ns) != namespace)
        .collect();
    if let Some(ns) = elsewhere.first() {
        return Some(format!(
            "{} `{name}` is in namespace `{ns}`: set `namespace: {ns}` on this entry",
            kind.as_str()
        ));
    }
    if let Some(other) = other_kind.first() {
        return Some(cross_kind(other));
    }
    if let Some(close) = g.closest_name(name, Some(kind)) {
        let target = g.nodes.iter().find(|n| n.kind == kind && n.name() == close);
        let ns_hint = match (target.and_then(|t| t.namespace), namespace) {
            (Some(t), Some(w)) if t != w => format!(" (in namespace `{t}`)"),
            _ => String::new(),
        };
        return Some(format!("did you mean `{close}`{ns_hint}?"));
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::rules::deps::fixtures::obj;
    use crate::rules::testing::{findings, findings_of};

    fn run(files: &[(&str, String)]) -> Vec<(String, usize, usize)> {
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        findings_of("FV301", &files)
    }

    #[test]
    fn fires_on_a_typo_with_a_suggestion() {
        let files = [
            (
                "a.yaml",
                obj("ks", "infra-configs", Some("flux-system"), &[]),
            ),
            (
                "b.yaml",
                obj(
                    "ks",
                    "apps",
                    Some("flux-system"),
                    &["{name: infra-conifgs}"],
                ),
            ),
        ];
        assert_eq!(run(&files), vec![("b.yaml".into(), 9, 14)]);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let out = crate::engine::check_memory(&files, crate::config::Config::default());
        let help = out
            .diagnostics
            .iter()
            .find(|d| std::ptr::eq(d.rule, &super::META))
            .expect("a finding of this rule")
            .help
            .clone()
            .unwrap_or_default();
        assert!(help.contains("`infra-configs`"), "{help}");
    }

    #[test]
    fn fires_on_a_wrong_namespace() {
        let files = [
            (
                "a.yaml",
                obj("hr", "cert-manager", Some("cert-manager"), &[]),
            ),
            (
                "b.yaml",
                obj("hr", "kyverno", Some("kyverno"), &["{name: cert-manager}"]),
            ),
        ];
        assert_eq!(run(&files), vec![("b.yaml".into(), 9, 14)]);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let out = crate::engine::check_memory(&files, crate::config::Config::default());
        assert!(
            out.diagnostics
                .iter()
                .find(|d| std::ptr::eq(d.rule, &super::META))
                .expect("a finding of this rule")
                .help
                .as_deref()
                .unwrap_or("")
                .contains("namespace: cert-manager")
        );
    }

    #[test]
    fn fires_across_kinds_and_says_so() {
        let files = [
            ("a.yaml", obj("hr", "velero", Some("flux-system"), &[])),
            (
                "b.yaml",
                obj("ks", "apps", Some("flux-system"), &["{name: velero}"]),
            ),
        ];
        assert_eq!(run(&files), vec![("b.yaml".into(), 9, 14)]);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let out = crate::engine::check_memory(&files, crate::config::Config::default());
        let help = out
            .diagnostics
            .iter()
            .find(|d| std::ptr::eq(d.rule, &super::META))
            .expect("a finding of this rule")
            .help
            .clone()
            .unwrap_or_default();
        assert!(help.contains("is a HelmRelease"), "{help}");
    }

    #[test]
    fn a_namespace_slip_beats_a_same_named_object_of_the_other_kind() {
        let files = [
            ("a.yaml", obj("ks", "kopiur", Some("system"), &[])),
            ("b.yaml", obj("hr", "kopiur", Some("system"), &[])),
            (
                "c.yaml",
                obj(
                    "ks",
                    "atuin",
                    Some("apps"),
                    &["{name: kopiur, namespace: sytem}"],
                ),
            ),
        ];
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let out = crate::engine::check_memory(&files, crate::config::Config::default());
        let help = out
            .diagnostics
            .iter()
            .find(|d| std::ptr::eq(d.rule, &super::META))
            .expect("a finding of this rule")
            .help
            .clone()
            .unwrap_or_default();
        assert!(help.contains("namespace: system"), "{help}");
    }

    #[test]
    fn explicit_namespace_resolves() {
        let files = [
            (
                "a.yaml",
                obj("hr", "cert-manager", Some("cert-manager"), &[]),
            ),
            (
                "b.yaml",
                obj(
                    "hr",
                    "kyverno",
                    Some("kyverno"),
                    &["{name: cert-manager, namespace: cert-manager}"],
                ),
            ),
        ];
        assert!(run(&files).is_empty());
    }

    #[test]
    fn quiet_on_substitution_unknown_namespaces_and_typed_refs() {
        let files = [
            ("a.yaml", obj("ks", "infra", None, &[])),
            (
                "b.yaml",
                obj(
                    "ks",
                    "apps",
                    Some("flux-system"),
                    &[
                        "{name: infra}",
                        "{name: \"${CLUSTER}-infra\"}",
                        "{name: x, namespace: \"${NS}\"}",
                        "{apiVersion: helm.toolkit.fluxcd.io/v2, kind: HelmRelease, name: y, namespace: z}",
                    ],
                ),
            ),
        ];
        assert!(run(&files).is_empty());
    }

    #[test]
    fn namespace_comes_from_the_nearest_kustomization_file() {
        let files = [
            (
                "apps/db/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: database\nresources: [ks.yaml]\n".to_string(),
            ),
            ("apps/db/ks.yaml", obj("ks", "postgres", None, &[])),
            (
                "apps/web/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: web\nresources: [ks.yaml]\n".to_string(),
            ),
            (
                "apps/web/ks.yaml",
                obj(
                    "ks",
                    "site",
                    None,
                    &["{name: postgres, namespace: database}", "{name: postgres}"],
                ),
            ),
        ];
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let got: Vec<_> = findings(&files)
            .into_iter()
            .filter(|f| f.0 == "FV301")
            .map(|f| (f.1, f.2))
            .collect();
        assert_eq!(got, vec![("apps/web/ks.yaml".to_string(), 9)]);
    }
}
