//! YAML that a template renders before anything applies it: a script's `sync.yaml.templ`
//! (`sed … | kubectl apply -f -`), or a whole template repository (copier's `NAME.jinja` files
//! and `{% if flag %}NAME{% endif %}` names, makejinja's `NAME.j2`) whose rendering is the
//! repository Flux reads. fluxvet does not render templates, but what they render exists:
//! a reference to it is not a reference to nothing. A file a script renders is applied by the
//! script, not read by Flux from Git: for what Flux's build reads (a kustomization entry),
//! only a template repository's rendering counts.

use crate::model::index::{Repository, child_path};

/// Extensions of a template file that renders the file named without it (`ks.yaml.j2` renders
/// `ks.yaml`).
pub const TEMPLATE_EXTENSIONS: &[&str] =
    &["templ", "tmpl", "tpl", "template", "j2", "jinja", "gotmpl"];

/// What a template tool reads at the root of a template repository: its rendering, not the
/// repository itself, is what Flux reads.
const TEMPLATE_TOOL_CONFIGS: &[&str] = &[
    "copier.yml",
    "copier.yaml",
    "makejinja.toml",
    "cookiecutter.json",
];

/// Whether what sits in `dir` is rendered before Flux reads it: the repository is a template
/// (a template tool's configuration at its root), or a directory on the way is named by a
/// template expression (`clusters/{{ cluster_name }}`, `{% if x %}runner{% endif %}`).
pub fn is_rendered(repo: &Repository, dir: &str) -> bool {
    TEMPLATE_TOOL_CONFIGS.iter().any(|c| repo.tree.is_file(c))
        || dir.split('/').any(|seg| {
            (seg.contains("{{") && seg.contains("}}")) || (seg.contains("{%") && seg.contains("%}"))
        })
}

/// A file or directory name with its Jinja blocks (`{% if gpu %}`, `{% endif %}`) removed:
/// copier names a file `{% if gpu %}nvidia.yaml{% endif %}` to render `nvidia.yaml` only when
/// the answer asks for it. `None` when the name has no complete block.
pub fn without_jinja_blocks(name: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = name;
    let mut changed = false;
    while let Some(start) = rest.find("{%") {
        let Some(len) = rest[start..].find("%}") else {
            break;
        };
        out.push_str(&rest[..start]);
        rest = &rest[start + len + 2..];
        changed = true;
    }
    out.push_str(rest);
    (changed && !out.trim().is_empty()).then(|| out.trim().to_string())
}

/// The name a template file renders: `ks.yaml.j2` → `ks.yaml`, `{% if x %}a.yaml{% endif %}`
/// → `a.yaml`, `{% if x %}a.yaml.jinja{% endif %}` → `a.yaml`; `None` for a file that is no
/// template.
fn rendered_name(name: &str) -> Option<String> {
    let stripped = without_jinja_blocks(name);
    let base = stripped.as_deref().unwrap_or(name);
    if let Some((stem, ext)) = base.rsplit_once('.')
        && TEMPLATE_EXTENSIONS.contains(&ext)
    {
        return Some(stem.to_string());
    }
    stripped
}

/// Whether the missing path `target` (relative to the root, normalized) is what a template in
/// the repository renders: every directory on the way exists or is a template's
/// (`{% if … %}components{% endif %}`), and the last name is a file or directory there, or a
/// template of it (`release.yaml.jinja`, `{% if x %}release.yaml{% endif %}`).
pub fn renders(repo: &Repository, target: &str) -> bool {
    let mut dir = String::new();
    let mut templated = false;
    let parts: Vec<&str> = target.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let here = child_path(&dir, part);
        let last = i + 1 == parts.len();
        if (last && repo.tree.exists(&here)) || repo.tree.is_dir(&here) {
            dir = here;
            continue;
        }
        let Some(found) = repo
            .tree
            .list_dir(&dir)
            .into_iter()
            .find(|n| rendered_name(n).as_deref() == Some(part))
        else {
            return false;
        };
        templated = true;
        dir = child_path(&dir, &found);
    }
    templated
}

/// Whether the directory `dir` holds a template of a kustomization file
/// (`kustomization.yaml.jinja`): rendered, kustomize can use the directory.
pub fn has_kustomization_template(repo: &Repository, dir: &str) -> bool {
    repo.tree.list_dir(dir).iter().any(|n| {
        rendered_name(n).is_some_and(|r| {
            matches!(
                r.as_str(),
                "kustomization.yaml" | "kustomization.yml" | "Kustomization"
            )
        })
    })
}

/// The texts of the YAML templates (`*.yaml.templ`, `*.yaml.j2`, `{% if x %}a.yaml{% endif %}`
/// and the like) in the directories that hold a checked file.
pub fn yaml_templates(repo: &Repository) -> Vec<String> {
    let mut dirs: Vec<&str> = (0..repo.files.len())
        .map(|f| repo.path(f).rsplit_once('/').map_or("", |(d, _)| d))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    let mut out = Vec::new();
    for dir in dirs {
        for name in repo.tree.list_dir(dir) {
            let Some(rendered) = rendered_name(&name) else {
                continue;
            };
            if !(rendered.ends_with(".yaml") || rendered.ends_with(".yml")) {
                continue;
            }
            if let Some(bytes) = repo.tree.read(&child_path(dir, &name)) {
                out.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    out
}

/// Whether `text` has a line `name: <name>` (quoted or not).
pub fn names(text: &str, name: &str) -> bool {
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

/// Whether `text` has a line `kind: <kind>`.
pub fn declares_kind(text: &str, kind: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().strip_prefix("kind:").map(str::trim) == Some(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_rendered_by_templates() {
        assert_eq!(rendered_name("ks.yaml.j2").as_deref(), Some("ks.yaml"));
        assert_eq!(
            rendered_name("release.yaml.jinja").as_deref(),
            Some("release.yaml")
        );
        assert_eq!(
            rendered_name("{% if gpu == 'nvidia' %}nvidia.yaml{% endif %}").as_deref(),
            Some("nvidia.yaml")
        );
        assert_eq!(
            rendered_name("{% if x %}common{% endif %}").as_deref(),
            Some("common")
        );
        assert_eq!(rendered_name("release.yaml"), None);
        assert_eq!(rendered_name("{{ cluster_name }}"), None);
        assert_eq!(rendered_name("{% if x %}{% endif %}"), None);
    }
}
