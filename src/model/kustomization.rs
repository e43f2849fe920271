//! A kustomization file (`kustomization.yaml`, `kind: Kustomization` or `Component`) read once
//! into a typed struct. Every entry keeps the source node it came from, so a build error points
//! at the line to edit and a patched value at the patch. Fields the build does not implement are
//! kept as render gaps rather than ignored: never a silent wrong answer. Also what the index,
//! the reconcile tree and the rules ask of a kustomization file without reading it whole:
//! [`is_kustomize_config`] and [`is_remote`].

use crate::flux_api::KustomizeKind;
use crate::source::Span;
use crate::yaml::{NodeRef, Style};

use super::rendered::{Node, Origin};

/// A path (or remote URL) named by an entry, with where it is named.
#[derive(Clone, Debug)]
pub struct PathRef {
    pub path: String,
    pub origin: Origin,
}

/// A patch's `target:` (or a patchesJson6902 entry's): every field optional; `name` and
/// `namespace` are anchored regular expressions.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

impl Selector {
    /// A selector mapping (a patch's `target`, a replacement's `select`), as a parsed file
    /// writes it or as a rendered tree holds it.
    pub fn of_node(n: &Node) -> Selector {
        Selector::read(|f| n.str_at(&[f]))
    }

    fn read<'a>(field: impl Fn(&str) -> Option<&'a str>) -> Selector {
        let s = |f: &str| field(f).map(str::to_string);
        Selector {
            group: s("group"),
            version: s("version"),
            kind: s("kind"),
            name: s("name"),
            namespace: s("namespace"),
            label_selector: s("labelSelector"),
            annotation_selector: s("annotationSelector"),
        }
    }
}

/// The body of a patch: a file of the repository, or YAML written inline.
#[derive(Clone, Debug)]
pub enum PatchSource {
    Path(PathRef),
    /// The inline text already parsed, one node per YAML document, origins in this file.
    Inline(Vec<Node>, Origin),
}

#[derive(Clone, Debug)]
pub struct Patch {
    pub source: PatchSource,
    pub target: Option<Selector>,
    /// The `target:` node (the patch entry when there is none).
    pub target_origin: Origin,
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
    pub origin: Origin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeneratedKind {
    ConfigMap,
    Secret,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    Create,
    Merge,
    Replace,
}

#[derive(Clone, Debug, Default)]
pub struct GeneratorOptions {
    pub labels: Vec<(String, Node)>,
    pub annotations: Vec<(String, Node)>,
    pub disable_name_suffix_hash: Option<bool>,
    pub immutable: Option<bool>,
}

#[derive(Clone, Debug)]
pub struct Generator {
    pub kind: GeneratedKind,
    pub name: String,
    pub namespace: Option<String>,
    pub behavior: Behavior,
    /// `key=value`, with the entry's place.
    pub literals: Vec<PathRef>,
    /// `path` or `key=path`.
    pub files: Vec<PathRef>,
    pub envs: Vec<PathRef>,
    /// A Secret's `type` (default `Opaque`).
    pub secret_type: Option<String>,
    pub options: Option<GeneratorOptions>,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub struct Image {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<Node>,
    pub digest: Option<String>,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub struct Replica {
    pub name: String,
    pub count: Node,
}

/// `labels:` entries and `commonLabels` (which is `includeSelectors: true`).
#[derive(Clone, Debug)]
pub struct LabelSet {
    pub pairs: Vec<(String, Node)>,
    pub include_selectors: bool,
    pub include_templates: bool,
}

/// Something in the file the build does not (or cannot, offline) do.
#[derive(Clone, Debug)]
pub struct Note {
    pub message: String,
    pub origin: Origin,
}

#[derive(Clone, Debug, Default)]
pub struct Kustomization {
    pub file: usize,
    /// The directory of the file, relative to the repository root.
    pub dir: String,
    pub is_component: bool,
    /// `resources` then legacy `bases`.
    pub resources: Vec<PathRef>,
    pub components: Vec<PathRef>,
    pub crds: Vec<PathRef>,
    pub patches: Vec<Patch>,
    pub patches_strategic_merge: Vec<Patch>,
    pub patches_json6902: Vec<Patch>,
    pub namespace: Option<Node>,
    pub name_prefix: Option<Node>,
    pub name_suffix: Option<Node>,
    /// `labels:` entries; kustomize applies them before `commonLabels`.
    pub labels: Vec<LabelSet>,
    pub common_labels: Option<LabelSet>,
    pub common_annotations: Vec<(String, Node)>,
    pub images: Vec<Image>,
    pub replicas: Vec<Replica>,
    pub generators: Vec<Generator>,
    pub generator_options: Option<GeneratorOptions>,
    /// Each replacement as written, or the documents of its `path:` file, read at build time.
    pub replacements: Vec<ReplacementEntry>,
    /// `sortOptions.order: fifo` keeps resources in input order.
    pub fifo_order: bool,
    /// `buildMetadata` options with their places; kustomize reads them in the kustomization
    /// it builds, not in bases or components.
    pub build_metadata: Vec<(String, Origin)>,
    /// Whether the file lists `resources` (not legacy `bases`): Flux adds `buildMetadata:
    /// [originAnnotations]` to a kustomization without.
    pub lists_resources: bool,
    pub gaps: Vec<Note>,
    pub errors: Vec<Note>,
    /// Whether it lists `transformers`, which fluxvet does not run: they may rename or move
    /// any object of the build.
    pub unbuilt_transformers: bool,
}

#[derive(Clone, Debug)]
pub enum ReplacementEntry {
    Inline(Node),
    Path(PathRef),
}

/// Top-level fields that change the output and are not implemented: a render gap each.
const UNSUPPORTED: &[&str] = &[
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
    "vars",
    "configurations",
    "transformers",
    "generators",
    "validators",
    "openapi",
    "patchesStrategicMergeJson",
    "inventory",
    "replacementsTransformer",
];

/// Fields with no effect on the objects a build produces.
const INERT: &[&str] = &["apiVersion", "kind", "metadata", "sortOptions"];

/// The fields read above, besides `INERT` and `UNSUPPORTED`.
const READ: &[&str] = &[
    "resources",
    "bases",
    "components",
    "crds",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "replicas",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "replacements",
    "buildMetadata",
];

/// A kustomization key as kustomize reads it: through `encoding/json`, which matches a key to a
/// field ignoring case (`apiversion` is `apiVersion`, `Resources` is `resources`).
fn field_name(key: &str) -> &str {
    READ.iter()
        .chain(INERT)
        .chain(UNSUPPORTED)
        .find(|k| k.eq_ignore_ascii_case(key))
        .copied()
        .unwrap_or(key)
}

/// The value of kustomization field `name` (as `READ` spells it) in `root`, its key matched as
/// kustomize does, ignoring case.
pub fn field<'a>(root: &NodeRef<'a>, name: &str) -> Option<NodeRef<'a>> {
    root.get(name).or_else(|| {
        root.entries()
            .into_iter()
            .find(|(k, _)| k.as_str().is_some_and(|k| field_name(k) == name))
            .map(|(_, v)| v)
    })
}

/// True when a kustomization file's document is kustomize's own config (not, say, a Flux
/// Kustomization saved under that name).
pub fn is_kustomize_config(root: &NodeRef<'_>) -> bool {
    let api_ok = match root.str_at(&["apiVersion"]) {
        None => true,
        Some(a) => a
            .strip_prefix(KustomizeKind::GROUP)
            .is_some_and(|v| v.starts_with('/')),
    };
    let kind_ok = root
        .str_at(&["kind"])
        .is_none_or(|k| KustomizeKind::from_name(k).is_some());
    root.is_mapping() && api_ok && kind_ok
}

/// The kustomization files Terraform's Flux provider reads as the `kustomization_override` of
/// `flux_bootstrap_git` (`kustomization_override = file("${path.module}/kustomization.yaml")`
/// in a `.tf` file of their directory or above): the provider writes that text as the
/// `flux-system/kustomization.yaml` of the bootstrap path, beside the `gotk-components.yaml`
/// and `gotk-sync.yaml` it generates. Their entries name files there, not here, and nothing
/// builds them where they are kept.
/// The texts of the Terraform files (`*.tf`) in the directory `dir`.
pub fn terraform_files(repo: &super::index::Repository, dir: &str) -> Vec<String> {
    repo.tree
        .list_dir(dir)
        .iter()
        .filter(|name| name.ends_with(".tf"))
        .filter_map(|name| repo.tree.read(&super::index::child_path(dir, name)))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect()
}

pub fn terraform_bootstrap_overrides(repo: &super::index::Repository) -> Vec<String> {
    let mut dirs: Vec<&str> = Vec::new();
    for &f in repo.kustomization_files() {
        let mut dir = super::index::parent_dir(repo.path(f));
        loop {
            dirs.push(dir);
            if dir.is_empty() {
                break;
            }
            dir = super::index::parent_dir(dir);
        }
    }
    dirs.sort_unstable();
    dirs.dedup();
    let mut out = Vec::new();
    for dir in dirs {
        for text in terraform_files(repo, dir) {
            // `file(…)` or `templatefile(…)` with a literal path, relative to the module.
            out.extend(
                text.lines()
                    .filter_map(|l| l.split_once("kustomization_override"))
                    .filter_map(|(_, rest)| {
                        let call = rest.find("file(")?;
                        let quoted = rest[call..].split('"').nth(1)?;
                        let relative = ["${path.module}/", "${path.root}/", "${path.cwd}/"]
                            .iter()
                            .fold(quoted.to_string(), |p, v| p.replace(v, ""));
                        crate::fs::join_normalized(dir, &relative)
                    }),
            );
        }
    }
    out
}

/// A kustomize reference that is fetched rather than read from this tree.
pub fn is_remote(reference: &str) -> bool {
    reference.contains("://")
        || reference.starts_with("github.com/")
        || reference.starts_with("gitlab.com/")
        || reference.starts_with("bitbucket.org/")
        || reference.starts_with("git@")
        || reference.contains("?ref=")
        || reference.contains(".git//")
}

impl Kustomization {
    /// Reads the kustomization document `root` of file `file` in `dir`; `text` is the file's
    /// text (inline patches written as block scalars are parsed again and mapped back to it).
    pub fn parse(root: NodeRef<'_>, file: usize, dir: &str, text: &str) -> Kustomization {
        let o = |n: NodeRef<'_>| Origin::new(file, n.span());
        let mut k = Kustomization {
            file,
            dir: dir.to_string(),
            is_component: root.str_at(&["kind"]).and_then(KustomizeKind::from_name)
                == Some(KustomizeKind::Component),
            ..Kustomization::default()
        };
        let paths = |n: Option<NodeRef<'_>>| -> Vec<PathRef> {
            n.map(|n| n.items())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|i| {
                    Some(PathRef {
                        path: i.as_str()?.to_string(),
                        origin: o(i),
                    })
                })
                .collect()
        };
        for (key, value) in root.entries() {
            let Some(key) = key.as_str().map(field_name) else {
                continue;
            };
            match key {
                "resources" | "bases" => {
                    k.lists_resources |= key == "resources" && !value.items().is_empty();
                    k.resources.extend(paths(Some(value)));
                }
                "components" => k.components = paths(Some(value)),
                "crds" => k.crds = paths(Some(value)),
                "namespace" => k.namespace = Some(Node::from_yaml(value, file)),
                "namePrefix" => k.name_prefix = Some(Node::from_yaml(value, file)),
                "nameSuffix" => k.name_suffix = Some(Node::from_yaml(value, file)),
                "commonLabels" => {
                    k.common_labels = Some(LabelSet {
                        pairs: pairs(value, file),
                        include_selectors: true,
                        include_templates: true,
                    })
                }
                "labels" => {
                    for l in value.items() {
                        let flag = |f: &str| l.str_at(&[f]) == Some("true");
                        k.labels.push(LabelSet {
                            pairs: l.get("pairs").map(|p| pairs(p, file)).unwrap_or_default(),
                            include_selectors: flag("includeSelectors"),
                            include_templates: flag("includeTemplates"),
                        });
                        if l.get("fields").is_some() {
                            k.gaps.push(Note {
                                message: "`labels[].fields` (custom field specs) is not built"
                                    .into(),
                                origin: o(l),
                            });
                        }
                    }
                }
                "commonAnnotations" => k.common_annotations = pairs(value, file),
                "images" => k.images = images(value, file),
                "replicas" => {
                    for r in value.items() {
                        let (Some(name), Some(count)) = (r.str_at(&["name"]), r.get("count"))
                        else {
                            continue;
                        };
                        k.replicas.push(Replica {
                            name: name.to_string(),
                            count: Node::from_yaml(count, file),
                        });
                    }
                }
                "configMapGenerator" | "secretGenerator" => {
                    let kind = if key == "configMapGenerator" {
                        GeneratedKind::ConfigMap
                    } else {
                        GeneratedKind::Secret
                    };
                    for g in value.items() {
                        k.generators.push(generator(g, kind, file));
                    }
                }
                "generatorOptions" => k.generator_options = Some(generator_options(value, file)),
                "patches" => {
                    for p in value.items() {
                        if p.as_str().is_some() {
                            k.errors.push(Note {
                                message: "a `patches` entry is a bare string; kustomize v5 wants \
                                          `- path: FILE` or `- patch: |-`"
                                    .into(),
                                origin: o(p),
                            });
                            continue;
                        }
                        match patch(p, file, text) {
                            Some(x) => k.patches.push(x),
                            None => k.errors.push(Note {
                                message: "a `patches` entry needs `path` or `patch`".into(),
                                origin: o(p),
                            }),
                        }
                    }
                }
                "patchesStrategicMerge" => {
                    for p in value.items() {
                        let Some(s) = p.as_str() else { continue };
                        let source = if s.contains('\n') || s.trim_start().starts_with('{') {
                            inline(p, file, text)
                        } else {
                            PatchSource::Path(PathRef {
                                path: s.to_string(),
                                origin: o(p),
                            })
                        };
                        k.patches_strategic_merge.push(Patch {
                            source,
                            target: None,
                            target_origin: o(p),
                            allow_name_change: false,
                            allow_kind_change: false,
                            origin: o(p),
                        });
                    }
                }
                "patchesJson6902" => {
                    for p in value.items() {
                        match patch(p, file, text) {
                            Some(x) if x.target.is_some() => k.patches_json6902.push(x),
                            _ => k.errors.push(Note {
                                message: "a `patchesJson6902` entry needs `target` and `path` or \
                                          `patch`"
                                    .into(),
                                origin: o(p),
                            }),
                        }
                    }
                }
                "replacements" => {
                    for r in value.items() {
                        match r.str_at(&["path"]) {
                            Some(p) => k.replacements.push(ReplacementEntry::Path(PathRef {
                                path: p.to_string(),
                                origin: o(r),
                            })),
                            None => k
                                .replacements
                                .push(ReplacementEntry::Inline(Node::from_yaml(r, file))),
                        }
                    }
                }
                "buildMetadata" => {
                    k.build_metadata = value
                        .items()
                        .into_iter()
                        .filter_map(|i| Some((i.as_str()?.to_string(), o(i))))
                        .collect();
                }
                "sortOptions" => {
                    k.fifo_order = value.str_at(&["order"]) == Some("fifo");
                }
                _ if INERT.contains(&key) => {}
                _ if UNSUPPORTED.contains(&key) && !value.is_null() => {
                    k.unbuilt_transformers |= key == "transformers";
                    k.gaps.push(Note {
                        message: format!("`{key}` is not built offline by fluxvet"),
                        origin: o(value),
                    });
                }
                _ if UNSUPPORTED.contains(&key) => {}
                _ => k.gaps.push(Note {
                    message: format!("unknown kustomization field `{key}`"),
                    origin: o(value),
                }),
            }
        }
        k
    }
}

/// An `images:` list (a kustomization's, or a Flux Kustomization's `spec.images`).
pub fn images(value: NodeRef<'_>, file: usize) -> Vec<Image> {
    value
        .items()
        .into_iter()
        .filter_map(|i| {
            let s = |f: &str| i.str_at(&[f]).map(str::to_string);
            Some(Image {
                name: s("name")?,
                new_name: s("newName"),
                new_tag: i.get("newTag").map(|t| Node::from_yaml(t, file)),
                digest: s("digest"),
                origin: Origin::new(file, i.span()),
            })
        })
        .collect()
}

fn pairs(n: NodeRef<'_>, file: usize) -> Vec<(String, Node)> {
    n.entries()
        .into_iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), Node::from_yaml(v, file))))
        .collect()
}

fn selector(n: NodeRef<'_>) -> Selector {
    Selector::read(|f| n.str_at(&[f]))
}

/// A `patches` entry (a kustomization's, or a Flux Kustomization's `spec.patches`, which has
/// the same shape): its body, target and options.
pub fn patch(p: NodeRef<'_>, file: usize, text: &str) -> Option<Patch> {
    let origin = Origin::new(file, p.span());
    let source = if let Some(path) = p.get("path").and_then(|x| x.as_str().map(|s| (x, s))) {
        PatchSource::Path(PathRef {
            path: path.1.to_string(),
            origin: Origin::new(file, path.0.span()),
        })
    } else {
        inline(p.get("patch")?, file, text)
    };
    let flag = |f: &str| p.str_at(&["options", f]) == Some("true");
    Some(Patch {
        source,
        target: p.get("target").map(selector),
        target_origin: p
            .get("target")
            .map_or(origin, |t| Origin::new(file, t.span())),
        allow_name_change: flag("allowNameChange"),
        allow_kind_change: flag("allowKindChange"),
        origin,
    })
}

/// A `patches` entry of a rendered tree: a Flux Kustomization's `spec.patches` as its parent's
/// build renders it (a parent's patch often adds patches to every child). Inline text is
/// parsed again; its values point at the text's place, not line by line.
pub fn patch_of_node(p: &Node) -> Option<Patch> {
    let origin = p.origin;
    let source = match p.get("path").filter(|x| x.as_str().is_some()) {
        Some(path) => PatchSource::Path(PathRef {
            path: path.as_str()?.to_string(),
            origin: path.origin,
        }),
        None => {
            let body = p.get("patch")?;
            PatchSource::Inline(inline_patch_docs(body.as_str()?, body.origin), body.origin)
        }
    };
    let flag = |f: &str| p.str_at(&["options", f]) == Some("true");
    let target = p.get("target");
    Some(Patch {
        source,
        target: target.map(Selector::of_node),
        target_origin: target.map_or(origin, |t| t.origin),
        allow_name_change: flag("allowNameChange"),
        allow_kind_change: flag("allowKindChange"),
        origin,
    })
}

/// The documents of an inline patch text, every value at `origin`. A parent Kustomization's
/// patch that gives every child the same `spec.patches` has each child's steps read the same
/// text: the last few are remembered per thread, so it is parsed once per thread, not once
/// per child (onedr0p's home-ops: 79 children, a millisecond of parsing).
fn inline_patch_docs(text: &str, origin: Origin) -> Vec<Node> {
    type Parsed = (Box<str>, Origin, Vec<Node>);
    thread_local! {
        static LAST: std::cell::RefCell<std::collections::VecDeque<Parsed>> =
            const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
    }
    const KEPT: usize = 8;
    let known = LAST.with_borrow(|last| {
        last.iter()
            .find(|(t, o, _)| *o == origin && **t == *text)
            .map(|(_, _, docs)| docs.clone())
    });
    if let Some(docs) = known {
        return docs;
    }
    let parsed = crate::yaml::parse_stream(text);
    let docs: Vec<Node> = parsed
        .documents
        .iter()
        .filter_map(|d| d.root())
        .filter(|r| !r.is_null())
        .map(|r| Node::from_yaml_mapped(r, &|_| origin))
        .collect();
    LAST.with_borrow_mut(|last| {
        if last.len() == KEPT {
            last.pop_back();
        }
        last.push_front((text.into(), origin, docs.clone()));
    });
    docs
}

/// The `images:` entries of a rendered tree ([`images`] for a parsed file).
pub fn images_of_node(value: &Node) -> Vec<Image> {
    value
        .items()
        .iter()
        .filter_map(|i| {
            let s = |f: &str| i.str_at(&[f]).map(str::to_string);
            Some(Image {
                name: s("name")?,
                new_name: s("newName"),
                new_tag: i.get("newTag").cloned(),
                digest: s("digest"),
                origin: i.origin,
            })
        })
        .collect()
}

/// Parses an inline patch's text; the origins of its values point back into the kustomization
/// file, line for line (a block scalar's lines are the file's lines less their indentation).
fn inline(n: NodeRef<'_>, file: usize, text: &str) -> PatchSource {
    let body = n.as_str().unwrap_or("");
    let span = n.span();
    let map = LineMap::new(text, span, n.style().unwrap_or(Style::Plain));
    let parsed = crate::yaml::parse_stream(body);
    let docs = parsed
        .documents
        .iter()
        .filter_map(|d| d.root())
        .filter(|r| !r.is_null())
        .map(|r| {
            Node::from_yaml_mapped(r, &|s: Span| {
                Origin::new(file, map.span(body, s).unwrap_or(span))
            })
        })
        .collect();
    PatchSource::Inline(docs, Origin::new(file, span))
}

/// Maps offsets in a block scalar's value back to offsets in the file: line `i` of the value
/// is line `i` of the block's content with the block's indentation removed.
struct LineMap {
    /// (file offset of the content's first column on the line) per value line.
    lines: Vec<usize>,
}

impl LineMap {
    fn new(text: &str, span: Span, style: Style) -> LineMap {
        let mut lines = Vec::new();
        if style != Style::Literal {
            return LineMap { lines };
        }
        // The span starts at the first content character: its column is the indentation.
        let start = (span.start as usize).min(text.len());
        let end = (span.end as usize).min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent = start - line_start;
        let mut at = line_start;
        for l in text[line_start..end].split_inclusive('\n') {
            lines.push(at + indent.min(l.len()));
            at += l.len();
        }
        LineMap { lines }
    }
    fn span(&self, body: &str, s: Span) -> Option<Span> {
        let map = |off: usize| -> Option<usize> {
            let before = body.get(..off)?;
            let line = before.matches('\n').count();
            let col = off - before.rfind('\n').map_or(0, |i| i + 1);
            Some(self.lines.get(line)? + col)
        };
        let start = map(s.start as usize)?;
        let end = map(s.end as usize).unwrap_or(start);
        Some(Span::new(start, end.max(start)))
    }
}

/// A generator's `files:` entry as (key, path): `key=path`, or `path` keyed by its file name,
/// as kustomize reads it.
pub fn keyed_file(entry: &str) -> (&str, &str) {
    match entry.split_once('=') {
        Some((key, path)) => (key, path),
        None => (entry.rsplit('/').next().unwrap_or(entry), entry),
    }
}

fn generator_options(n: NodeRef<'_>, file: usize) -> GeneratorOptions {
    let flag = |f: &str| n.str_at(&[f]).map(|v| v == "true");
    GeneratorOptions {
        labels: n.get("labels").map(|l| pairs(l, file)).unwrap_or_default(),
        annotations: n
            .get("annotations")
            .map(|l| pairs(l, file))
            .unwrap_or_default(),
        disable_name_suffix_hash: flag("disableNameSuffixHash"),
        immutable: flag("immutable"),
    }
}

fn generator(g: NodeRef<'_>, kind: GeneratedKind, file: usize) -> Generator {
    let list = |f: &str| -> Vec<PathRef> {
        g.get(f)
            .map(|n| {
                if n.as_str().is_some() && !n.is_null() {
                    vec![n]
                } else {
                    n.items()
                }
            })
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| {
                Some(PathRef {
                    path: i.as_str()?.to_string(),
                    origin: Origin::new(file, i.span()),
                })
            })
            .collect()
    };
    let mut envs = list("envs");
    envs.extend(list("env"));
    Generator {
        kind,
        name: g.str_at(&["name"]).unwrap_or("").to_string(),
        namespace: g.str_at(&["namespace"]).map(str::to_string),
        behavior: match g.str_at(&["behavior"]) {
            Some("merge") => Behavior::Merge,
            Some("replace") => Behavior::Replace,
            _ => Behavior::Create,
        },
        literals: list("literals"),
        files: list("files"),
        envs,
        secret_type: g.str_at(&["type"]).map(str::to_string),
        options: g.get("options").map(|o| generator_options(o, file)),
        origin: Origin::new(file, g.span()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Kustomization {
        let p = crate::yaml::parse_stream(text);
        Kustomization::parse(p.documents[0].root().unwrap(), 0, "d", text)
    }

    #[test]
    fn reads_entries_with_their_places() {
        let text = "resources:\n- a.yaml\nbases:\n- ../base\nnamespace: x\nhelmCharts:\n- name: c\nfoo: 1\npatches:\n- p.yaml\n";
        let k = parse(text);
        assert_eq!(k.resources.len(), 2);
        assert_eq!(k.resources[1].path, "../base");
        assert_eq!(k.resources[0].origin.span, Span::new(13, 19));
        assert_eq!(k.gaps.len(), 2, "{:?}", k.gaps);
        assert_eq!(k.errors.len(), 1, "bare-string patch");
    }

    #[test]
    fn inline_patch_values_point_into_the_file() {
        let text = "patches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: add\n      path: /x\n      value: 3\n";
        let k = parse(text);
        let PatchSource::Inline(docs, _) = &k.patches[0].source else {
            panic!()
        };
        let v = docs[0].items()[0].get("value").unwrap();
        let at = v.origin.span.start as usize;
        assert_eq!(&text[at..at + 1], "3");
        assert_eq!(
            k.patches[0].target.as_ref().unwrap().kind.as_deref(),
            Some("Deployment")
        );
    }
}
