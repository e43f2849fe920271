//! What a path is relative to, in one place.
//!
//! The rule: **every path fluxvet prints, and every path or glob given on its command line
//! (`--exclude`, `--stdin-filename`, the files to check), is relative to the directory fluxvet
//! runs in**, so a path copied from any output can be opened by an editor's quickfix or pasted
//! into `--exclude`. Paths inside `.fluxvet.yaml` (its `exclude` globs) are relative to the
//! repository root, where the file lives. Rules work on root-relative paths; the emitters turn
//! them into invocation-relative ones with [`PathDisplay`].

use std::path::{Component, Path, PathBuf};

/// Turns root-relative paths (`apps/x.yaml`) into paths relative to the working directory.
#[derive(Clone, Debug, Default)]
pub struct PathDisplay {
    /// Put in front of a root-relative path: `""`, `"repo/"`, `"../../"` or an absolute root.
    prefix: String,
    /// When the root is an ancestor of the working directory: the working directory relative
    /// to the root, with a trailing `/` (`"apps/team/"`); a path below it loses this part.
    inside: String,
}

impl PathDisplay {
    /// For a scanned root given as `root` (relative to the working directory, or absolute).
    pub fn new(root: &Path) -> PathDisplay {
        let given = root.to_string_lossy().replace('\\', "/");
        let given = given.trim_start_matches("./").trim_end_matches('/');
        if given.is_empty() || given == "." {
            return PathDisplay::default();
        }
        // A root above the working directory (`..`, `../..`): what lies below the working
        // directory is shown without the detour (`x.yaml`, not `../apps/x.yaml`).
        if root
            .components()
            .all(|c| matches!(c, Component::ParentDir | Component::CurDir))
            && let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize())
            && let Ok(real_root) = root.canonicalize()
            && let Ok(inside) = cwd.strip_prefix(&real_root)
        {
            let inside: Vec<String> = inside
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            return PathDisplay {
                prefix: "../".repeat(inside.len()),
                inside: inside.iter().map(|c| format!("{c}/")).collect(),
            };
        }
        PathDisplay {
            prefix: format!("{given}/"),
            inside: String::new(),
        }
    }

    /// `rel` (relative to the root, `/`-separated) as a path relative to the working directory.
    pub fn show(&self, rel: &str) -> String {
        if rel.starts_with('/') {
            return rel.to_string();
        }
        if !self.inside.is_empty()
            && let Some(below) = rel.strip_prefix(self.inside.as_str())
        {
            return below.to_string();
        }
        format!("{}{rel}", self.prefix)
    }

    /// A glob or path written relative to the working directory (`--exclude`), made relative
    /// to the root. A glob that starts with a wildcard (`**/tmp/**`) matches at any depth and
    /// is kept as written.
    pub fn to_root(&self, glob: &str) -> String {
        let glob = glob.trim_start_matches("./");
        if glob.starts_with('*') || glob.starts_with('/') {
            return glob.to_string();
        }
        if !self.inside.is_empty() {
            // Below the working directory is below `inside`; `../` climbs out of it.
            let mut base: Vec<&str> = self.inside.trim_end_matches('/').split('/').collect();
            let mut rest = glob;
            while let Some(r) = rest.strip_prefix("../") {
                base.pop();
                rest = r;
            }
            base.push(rest);
            return base
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("/");
        }
        glob.strip_prefix(self.prefix.as_str())
            .unwrap_or(glob)
            .to_string()
    }
}

/// The repository a file belongs to: the nearest ancestor directory holding `.git` or
/// `.fluxvet.yaml`, as a path usable from the working directory (relative when it is the
/// working directory, below it or above it; absolute otherwise). `None` outside any. The file
/// need not exist (a new file read from stdin): its nearest existing ancestor is asked.
pub fn repository_root_of(file: &Path) -> Option<PathBuf> {
    let mut existing = file;
    let real = loop {
        let candidate = if existing.as_os_str().is_empty() {
            Path::new(".")
        } else {
            existing
        };
        if let Ok(real) = candidate.canonicalize() {
            break real;
        }
        existing = existing.parent()?;
    };
    let mut dir = if real.is_dir() && existing != file {
        real.as_path()
    } else {
        real.parent()?
    };
    let found = loop {
        if dir.join(".git").exists() || dir.join(crate::config::FILE_NAME).is_file() {
            break dir.to_path_buf();
        }
        dir = dir.parent()?;
    };
    let cwd = std::env::current_dir()
        .and_then(|c| c.canonicalize())
        .ok()?;
    if let Ok(below) = found.strip_prefix(&cwd) {
        return Some(if below.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            below.to_path_buf()
        });
    }
    if let Ok(up) = cwd.strip_prefix(&found) {
        let mut p = PathBuf::new();
        for _ in up.components() {
            p.push("..");
        }
        return Some(p);
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_the_working_directory() {
        let d = PathDisplay::new(Path::new("./repo/"));
        assert_eq!(d.show("apps/x.yaml"), "repo/apps/x.yaml");
        assert_eq!(d.to_root("repo/apps/x.yaml"), "apps/x.yaml");
        assert_eq!(d.to_root("./repo/apps/**"), "apps/**");
        assert_eq!(d.to_root("**/x.yaml"), "**/x.yaml");
    }

    #[test]
    fn at_the_working_directory() {
        let d = PathDisplay::new(Path::new("."));
        assert_eq!(d.show("apps/x.yaml"), "apps/x.yaml");
        assert_eq!(d.to_root("./apps/x.yaml"), "apps/x.yaml");
    }

    #[test]
    fn above_the_working_directory() {
        let d = PathDisplay {
            prefix: "../../".into(),
            inside: "apps/team/".into(),
        };
        assert_eq!(d.show("apps/team/x.yaml"), "x.yaml");
        assert_eq!(d.show("clusters/c.yaml"), "../../clusters/c.yaml");
        assert_eq!(d.to_root("x.yaml"), "apps/team/x.yaml");
        assert_eq!(d.to_root("../../clusters/c.yaml"), "clusters/c.yaml");
        assert_eq!(d.to_root("**/x.yaml"), "**/x.yaml");
    }
}
