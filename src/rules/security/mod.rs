//! 6xx: secrets committed in plaintext, and SOPS files that Flux will not decrypt.

pub mod plaintext_secret;
pub mod sops_without_decryption;

use std::borrow::Cow;

use crate::diag::FileId;
use crate::fs::join_normalized;
use crate::model::index::{Repository, parent_dir};
use crate::yaml::NodeRef;

/// The kind of data a secretGenerator file feeds in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeneratorInput {
    /// `envs` (and the older `env`): `KEY=value` lines.
    Env,
    /// `files`: each file's content is one value.
    File,
}

/// One `envs`/`files` entry of a secretGenerator in a kustomize file.
pub struct GeneratorFile<'a> {
    pub kfile: FileId,
    pub node: NodeRef<'a>,
    /// Root-relative path of the referenced file.
    pub path: String,
    pub input: GeneratorInput,
    pub generator: Option<&'a str>,
}

/// Every `envs`/`files` entry of every secretGenerator in the repository's kustomize files.
pub fn generator_files(repo: &Repository) -> Vec<GeneratorFile<'_>> {
    let mut out = Vec::new();
    for d in repo.kustomization_docs() {
        let path = repo.path(d.file);
        let Some(root) = d.doc.root() else { continue };
        let dir = parent_dir(path);
        for g in crate::secrets::secret_generators(&root) {
            let generator = g.str_at(&["name"]);
            for (key, input) in [
                ("envs", GeneratorInput::Env),
                ("env", GeneratorInput::Env),
                ("files", GeneratorInput::File),
            ] {
                let Some(list) = g.get(key) else { continue };
                let nodes = if list.is_sequence() {
                    list.items()
                } else {
                    vec![list]
                };
                for node in nodes {
                    let Some(raw) = node.as_str() else { continue };
                    // `files` entries may be `key=path`.
                    let rel = raw.rsplit_once('=').map(|(_, p)| p).unwrap_or(raw);
                    if rel.is_empty() || rel.contains("${") {
                        continue;
                    }
                    let Some(path) = join_normalized(dir, rel) else {
                        continue;
                    };
                    out.push(GeneratorFile {
                        kfile: d.file,
                        node,
                        path,
                        input,
                        generator,
                    });
                }
            }
        }
    }
    out
}

/// A file's text: the parsed copy when fluxvet read it, else from the tree.
pub fn file_text<'a>(repo: &'a Repository, path: &str) -> Option<Cow<'a, str>> {
    if let Some(f) = repo.file_id(path) {
        return Some(Cow::Borrowed(&*repo.files[f].text));
    }
    let bytes = repo.tree.read(path)?;
    String::from_utf8(bytes).ok().map(Cow::Owned)
}
