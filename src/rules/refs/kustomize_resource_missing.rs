use crate::diag::{Diagnostic, FileId, Severity};
use crate::model::artifact::Artifact;
use crate::model::index::{Repository, kustomization_file_in, parent_dir};
use crate::model::kustomization::{is_kustomize_config, is_remote, terraform_bootstrap_overrides};
use crate::rules::{Rule, RuleMeta, templates};
use crate::yaml::NodeRef;

pub struct KustomizeResourceMissing;

pub static META: RuleMeta = RuleMeta {
    code: "FV404",
    name: "kustomize-resource-missing",
    severity: Severity::Error,
    summary: "A kustomization file names a file or directory that does not exist, or one `.sourceignore`/`spec.ignore` leaves out of Flux's artifact.",
    docs: r#"## What it does
Checks every path a `kustomization.yaml` (`kustomization.yml`, `Kustomization`) names:
`resources`, `bases`, `components`, `crds`, `patches[].path`, `patchesStrategicMerge`,
`patchesJson6902[].path`, `replacements[].path`, config/secret generator `files` (also
`key=path`) and `envs`/`env`, `configurations`, `transformers`, `generators` and
`openapi.path`. A directory named in `resources`, `bases` or `components` must hold a
kustomization file. Remote URLs are skipped. Two kustomization files in one directory are
reported too. A kustomization file that Terraform's Flux provider reads as the
`kustomization_override` of `flux_bootstrap_git` is not checked where it is kept: the provider
writes it into the bootstrap path's `flux-system/`, beside the files it generates.

In a template repository (a `copier.yml`, `makejinja.toml` or `cookiecutter.json` at the
root, or a directory named by a template expression such as `clusters/{{ cluster_name }}`),
Flux reads the rendering, which writes what an entry names: an entry whose template sits
beside it (`release.yaml.jinja`, `ks.yaml.j2`), or named by a file or directory whose name is
a Jinja condition (`{% if runner %}runner-common{% endif %}`), or a directory whose
kustomization file is a template is not missing; nor are the `gotk-*.yaml` files
`flux bootstrap` writes into its `flux-system` directory. In a repository Flux reads as it is,
a `service.yaml.tmpl` does not make `service.yaml`: still reported.

An entry that exists in Git is still missing for Flux when source-controller leaves it out
of the artifact while keeping the kustomization file: a `.sourceignore` file (in any
directory), the `spec.ignore` of the source the repository syncs from, or, when neither has
a pattern, source-controller's defaults (`*.png`, `*.jpg`, `*.zip`, `*.tar.gz`, `.github/`,
`cloudbuild.yaml`, `.sops.yaml`, …: a `configMapGenerator` taking `logo.png` fails under
Flux while `kubectl kustomize` builds it). The message names the file and line of the
pattern, labelled there.

## Why is this bad?
`kustomize build` stops at the first missing path, so the Flux Kustomization applying this
directory fails and nothing in it is reconciled.

## Example
```yaml
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - servce.yaml
```

## Use instead
```yaml
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
```
"#,
};

/// What a field may name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A file, or a directory with a kustomization file (`resources`, `bases`).
    Resource,
    /// A directory with a kustomization file (`components`).
    Component,
    File,
    /// A file or a kustomization directory (`transformers`, `generators`, `configurations`).
    Plugin,
}

impl Rule for KustomizeResourceMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        let artifacts = artifacts(repo);
        let overrides = terraform_bootstrap_overrides(repo);
        for &fid in repo.kustomization_files() {
            if overrides.iter().any(|p| p == repo.path(fid)) {
                continue;
            }
            let dir = parent_dir(repo.path(fid));
            duplicate_file(repo, fid, dir, out);
            for d in repo.docs_of(fid) {
                let Some(root) = d.doc.root() else { continue };
                if !is_kustomize_config(&root) {
                    continue;
                }
                let mut c = Checker {
                    repo,
                    file: fid,
                    dir,
                    artifacts: &artifacts,
                    out,
                };
                c.check(&root);
            }
        }
        // A Flux Kustomization's `spec.components` are relative to its `spec.path`.
        let tree = repo.reconcile_tree();
        for (idx, ks) in repo.objects.iter().enumerate() {
            if !tree.was_walked(idx) {
                continue;
            }
            let Some(path) = repo.kustomization_path(ks) else {
                continue;
            };
            for node in crate::model::reconcile::flux_components(repo, ks) {
                let Some(v) = node.as_str() else { continue };
                let mut c = Checker {
                    repo,
                    file: ks.file,
                    dir: &path,
                    artifacts: &artifacts,
                    out,
                };
                c.check_path(&node, v, 0, "spec.components", Expect::Component);
            }
        }
    }
}

/// kustomize refuses a directory with more than one kustomization file.
fn duplicate_file(repo: &Repository, fid: FileId, dir: &str, out: &mut Vec<Diagnostic>) {
    let Some(first) = kustomization_file_in(repo, dir) else {
        return;
    };
    let this = &*repo.files[fid].path;
    if first == this {
        return;
    }
    let mut d = Diagnostic::new(
        &META,
        fid,
        crate::source::Span::empty(0),
        format!(
            "`{dir_shown}` holds two kustomization files (`{first_name}` and `{this_name}`): kustomize refuses to build it (\"Found multiple kustomization files\")",
            dir_shown = if dir.is_empty() { "." } else { dir },
            first_name = first.rsplit('/').next().unwrap_or(&first),
            this_name = this.rsplit('/').next().unwrap_or(this),
        ),
    )
    .primary_label("second kustomization file")
    .help("merge them into one file and delete the other");
    if let Some(other) = repo.files.iter().position(|f| *f.path == *first) {
        d = d.label(
            other,
            crate::source::Span::empty(0),
            "first kustomization file",
        );
    }
    out.push(d);
}

struct Checker<'a, 'r> {
    repo: &'r Repository,
    file: FileId,
    dir: &'a str,
    /// What source-controller leaves out of each source this repository syncs from.
    artifacts: &'a [Artifact],
    out: &'a mut Vec<Diagnostic>,
}

/// The artifact filters of the sources this repository syncs itself from that are defined in
/// it (their `spec.ignore` counts), or the one every source shares (`.sourceignore` files).
fn artifacts(repo: &Repository) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = crate::model::reconcile::reconciled_sources(repo)
        .iter()
        .flat_map(|key| crate::model::artifact::defined(repo, key))
        .map(|source| Artifact::of(repo, Some(source)))
        .collect();
    if out.is_empty() {
        out.push(Artifact::of(repo, None));
    }
    out
}

impl Checker<'_, '_> {
    fn check(&mut self, root: &NodeRef<'_>) {
        for (key, expect) in [
            ("resources", Expect::Resource),
            ("bases", Expect::Resource),
            ("components", Expect::Component),
            ("crds", Expect::File),
            ("patchesStrategicMerge", Expect::File),
            ("configurations", Expect::File),
            ("transformers", Expect::Plugin),
            ("generators", Expect::Plugin),
            ("validators", Expect::Plugin),
        ] {
            for item in root.get(key).map(|n| n.items()).unwrap_or_default() {
                self.path(&item, key, expect);
            }
        }
        for key in ["patches", "patchesJson6902", "replacements"] {
            for item in root.get(key).map(|n| n.items()).unwrap_or_default() {
                if let Some(p) = item.get("path") {
                    self.path(&p, key, Expect::File);
                }
            }
        }
        if let Some(p) = root.path(&["openapi", "path"]) {
            self.path(&p, "openapi.path", Expect::File);
        }
        for key in ["configMapGenerator", "secretGenerator"] {
            for g in root.get(key).map(|n| n.items()).unwrap_or_default() {
                for file in g.get("files").map(|n| n.items()).unwrap_or_default() {
                    self.generator_file(&file, key);
                }
                for env in g.get("envs").map(|n| n.items()).unwrap_or_default() {
                    self.path(&env, key, Expect::File);
                }
                if let Some(env) = g.get("env") {
                    self.path(&env, key, Expect::File);
                }
            }
        }
    }

    /// `files` entries are `path` or `key=path`.
    fn generator_file(&mut self, node: &NodeRef<'_>, field: &str) {
        let Some(v) = node.as_str() else { return };
        let (path, offset) = match v.split_once('=') {
            Some((k, p)) => (p, k.len() + 1),
            None => (v, 0),
        };
        self.check_path(node, path, offset, field, Expect::File);
    }

    fn path(&mut self, node: &NodeRef<'_>, field: &str, expect: Expect) {
        if let Some(v) = node.as_str() {
            self.check_path(node, v, 0, field, expect);
        }
    }

    fn check_path(
        &mut self,
        node: &NodeRef<'_>,
        reference: &str,
        offset: usize,
        field: &str,
        expect: Expect,
    ) {
        let reference = reference.trim();
        // Inline patches and plugin configs are YAML text, not paths.
        if reference.is_empty()
            || reference.contains('\n')
            || reference.contains(": ")
            || is_remote(reference)
            || super::is_templated(reference)
        {
            return;
        }
        let repo = self.repo;
        let problem = match crate::fs::join_normalized(self.dir, reference) {
            None => Some("climbs above the repository root".to_string()),
            Some(target) => {
                if repo.tree.is_file(&target) {
                    (expect == Expect::Component).then(|| {
                        format!("`{target}` is a file; a component must be a directory with a kustomization file")
                    })
                } else if repo.tree.is_dir(&target) {
                    match expect {
                        Expect::File => Some(format!("`{target}` is a directory, not a file")),
                        _ if kustomization_file_in(repo, &target).is_none()
                            && !(templates::is_rendered(repo, self.dir)
                                && templates::has_kustomization_template(repo, &target)) =>
                        {
                            Some(format!(
                                "the directory `{target}` has no kustomization.yaml, so kustomize cannot use it"
                            ))
                        }
                        _ => None,
                    }
                } else if templates::is_rendered(repo, self.dir)
                    && (templates::renders(repo, &target)
                        || written_by_bootstrap(self.dir, &target))
                {
                    // A template repository: rendering writes the entry (`release.yaml.jinja`,
                    // `{% if x %}common{% endif %}`), or `flux bootstrap` of the rendered
                    // repository does.
                    None
                } else {
                    Some(format!("`{target}` does not exist"))
                }
            }
        };
        let span = value_span(node, offset, reference);
        let Some(problem) = problem else {
            if let Some(target) = crate::fs::join_normalized(self.dir, reference) {
                self.excluded(field, reference, &target, span);
            }
            return;
        };
        self.out.push(
            Diagnostic::new(
                &META,
                self.file,
                span,
                format!(
                    "`{field}` entry `{reference}`: {problem}; kustomize build fails, so the Flux Kustomization applying this directory applies nothing"
                ),
            )
            .primary_label("not found")
            .help("fix the path (relative to this kustomization file's directory) or remove the entry"),
        );
    }
}

impl Checker<'_, '_> {
    /// An entry that exists in Git but that source-controller leaves out of the artifact
    /// while keeping the kustomization file: kustomize-controller does not find it. Judged
    /// with every source the kustomization file is in: reported when each of them drops the
    /// entry.
    fn excluded(&mut self, field: &str, reference: &str, target: &str, span: crate::source::Span) {
        let repo = self.repo;
        let this = repo.path(self.file);
        let is_dir = repo.tree.is_dir(target);
        let mut why = None;
        for artifact in self.artifacts {
            if artifact.excludes(repo, this, false).is_some() {
                continue;
            }
            match artifact.excludes(repo, target, is_dir) {
                Some(e) => why = why.or(Some(e)),
                None => return,
            }
        }
        let Some(why) = why else { return };
        let mut d = Diagnostic::new(
            &META,
            self.file,
            span,
            format!(
                "`{field}` entry `{reference}`: `{target}` is left out of the source's artifact by {}; kustomize build fails, so the Flux Kustomization applying this directory applies nothing",
                why.described
            ),
        )
        .primary_label("not in the artifact Flux fetches")
        .help("remove the pattern that excludes it (or re-include it with `!pattern`), or move the file to a directory Flux receives");
        if let Some((file, at)) = why.at {
            d = d.label(file, at, format!("excludes `{target}`"));
        }
        self.out.push(d);
    }
}

/// `gotk-components.yaml` and `gotk-sync.yaml` of a template's `flux-system` directory
/// (`clusters/{{ cluster_name }}/flux-system`): `flux bootstrap` writes them into the rendered
/// repository.
fn written_by_bootstrap(dir: &str, target: &str) -> bool {
    let Some((parent, name)) = target.rsplit_once('/') else {
        return false;
    };
    parent == dir
        && matches!(name, "gotk-components.yaml" | "gotk-sync.yaml")
        && dir.rsplit('/').next() == Some("flux-system")
}

/// The span of the path inside the scalar: after `key=` when the scalar is plain or quoted on
/// one line, else the whole scalar.
fn value_span(node: &NodeRef<'_>, offset: usize, reference: &str) -> crate::source::Span {
    let span = node.span();
    let quoted = matches!(
        node.style(),
        Some(crate::yaml::Style::SingleQuoted) | Some(crate::yaml::Style::DoubleQuoted)
    );
    let start = span.start as usize + offset + usize::from(quoted);
    let end = start + reference.len();
    if offset == 0 || end > span.end as usize {
        return span;
    }
    crate::source::Span::new(start, end)
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n";

    #[test]
    fn fires_on_missing_entries() {
        let k = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ns.yaml
  - missing.yaml
  - ../nokust
components:
  - ../comp
configMapGenerator:
  - name: cfg
    files:
      - config.json
      - other=absent.json
patches:
  - path: patch.yaml
";
        let files = [
            ("app/kustomization.yaml", k),
            ("app/ns.yaml", NS),
            ("app/config.json", "{}"),
            ("nokust/x.yaml", NS),
        ];
        assert_eq!(
            findings_of("FV404", &files),
            vec![
                ("app/kustomization.yaml".to_string(), 5, 5),
                ("app/kustomization.yaml".to_string(), 6, 5),
                ("app/kustomization.yaml".to_string(), 8, 5),
                ("app/kustomization.yaml".to_string(), 13, 15),
                ("app/kustomization.yaml".to_string(), 15, 11),
            ]
        );
    }

    /// Rendering writes an entry only in a template repository: a `service.yaml.tmpl` beside
    /// a kustomization of a repository Flux reads directly does not make `service.yaml`.
    #[test]
    fn a_template_beside_the_entry_counts_only_in_a_template_repository() {
        let k = "resources:\n  - service.yaml\n";
        let plain = [("app/kustomization.yaml", k), ("app/service.yaml.tmpl", NS)];
        assert_eq!(
            findings_of("FV404", &plain),
            vec![("app/kustomization.yaml".to_string(), 2, 5)]
        );
        let template = [
            plain[0],
            plain[1],
            ("copier.yml", "_templates_suffix: .tmpl\n"),
        ];
        assert!(findings_of("FV404", &template).is_empty());
    }

    /// source-controller drops `*.png` (and its other defaults) only while no `.sourceignore`
    /// has a pattern: a generator reading `logo.png` then fails under Flux.
    #[test]
    fn default_exclusions_apply_until_a_sourceignore_has_a_pattern() {
        let k = "configMapGenerator:\n  - name: logo\n    files:\n      - logo.png\n";
        let base = [("app/kustomization.yaml", k), ("app/logo.png", "png")];
        assert_eq!(
            findings_of("FV404", &base),
            vec![("app/kustomization.yaml".to_string(), 4, 9)]
        );
        let comment_only = [base[0], base[1], (".sourceignore", "# nothing\n")];
        assert_eq!(findings_of("FV404", &comment_only).len(), 1);
        let replaced = [base[0], base[1], (".sourceignore", "docs/\n")];
        assert!(findings_of("FV404", &replaced).is_empty());
    }

    #[test]
    fn fires_on_two_kustomization_files() {
        let files = [
            ("app/kustomization.yaml", "resources: [ns.yaml]\n"),
            ("app/kustomization.yml", "resources: [ns.yaml]\n"),
            ("app/ns.yaml", NS),
        ];
        assert_eq!(
            findings_of("FV404", &files),
            vec![("app/kustomization.yml".to_string(), 1, 1)]
        );
    }

    #[test]
    fn quiet_on_valid_remote_and_inline() {
        let k = "resources:
  - ns.yaml
  - ./sub
  - https://github.com/fluxcd/flux2/manifests/install?ref=v2.3.0
  - github.com/org/repo//deploy?ref=main
patches:
  - patch: |-
      - op: add
        path: /x
patchesStrategicMerge:
  - |-
    apiVersion: v1
    kind: Namespace
";
        let files = [
            ("app/kustomization.yaml", k),
            ("app/ns.yaml", NS),
            ("app/sub/Kustomization", "resources: [a.yaml]\n"),
            ("app/sub/a.yaml", NS),
        ];
        assert!(findings_of("FV404", &files).is_empty());
    }

    #[test]
    fn fires_on_missing_flux_component() {
        let ks = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
  namespace: flux-system
spec:
  path: ./apps/app
  components:
    - ../../components/ok
    - ../../components/gone
  sourceRef:
    kind: GitRepository
    name: flux-system
";
        let files = [
            ("clusters/app.yaml", ks),
            ("apps/app/ns.yaml", NS),
            (
                "components/ok/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
            ),
        ];
        assert_eq!(
            findings_of("FV404", &files),
            vec![("clusters/app.yaml".to_string(), 10, 7)]
        );
    }

    #[test]
    fn quiet_on_flux_kustomization_named_kustomization_yaml() {
        let k = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: x
spec:
  path: ./nowhere
";
        assert!(findings_of("FV404", &[("kustomization.yaml", k)]).is_empty());
    }
}
