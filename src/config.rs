//! `.fluxvet.yaml`: every field optional; an unknown key or a bad value is an error naming the
//! key and its line.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diag::{RuleMeta, Severity};

/// Finds a rule by code or name (`crate::rules::lookup`).
pub type RuleLookup = fn(&str) -> Option<&'static RuleMeta>;
use crate::flux_api::FluxKind;
use crate::source::SourceFile;
use crate::yaml::{NodeRef, YamlProblem, parse_stream};

pub const FILE_NAME: &str = ".fluxvet.yaml";

pub const DEFAULT_ORDER: &[&str] = &[
    "istio-base",
    "cert-manager",
    "kyverno",
    "monitoring",
    "logging",
    "openbao",
    "harbor",
    "neuvector",
    "keycloak",
    "tempo",
    "velero",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalSource {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// `sources:`: a Flux source whose artifact is a directory of this repository (an OCI artifact
/// pushed with `flux push artifact --path=./deploy`). A Flux Kustomization reading it applies
/// its `spec.path` below that directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalSource {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The directory, as written (`./deploy`).
    pub path: String,
    /// Line and column of `path` in the config, for the error when it is not a directory.
    pub path_at: (usize, usize),
}

/// How FV701 and `fluxvet versions` find a HelmRelease's environment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnvironmentMatch {
    /// A directory segment of the file's path equals the environment (`apps/staging/…`).
    #[default]
    Path,
    /// The namespace equals the environment or ends with `-<environment>`.
    Namespace,
    /// The path first, then the namespace.
    Both,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub order: Vec<String>,
    /// The config names an `order:` of its own: the repository adopted a canonical order, and
    /// FV304 holds every component to it. The default order is still used by FV303.
    pub order_adopted: bool,
    /// Other names for components of the order (`kube-prometheus-stack` → `monitoring`).
    pub aliases: BTreeMap<String, String>,
    /// Environments in promotion order (`dev`, `staging`, `production`).
    pub environments: Vec<String>,
    pub environment_match: EnvironmentMatch,
    /// `None` turns the rule off. Keyed by rule code.
    pub rules: BTreeMap<&'static str, Option<Severity>>,
    pub exclude: Vec<String>,
    pub external_sources: Vec<ExternalSource>,
    /// Clusters the repository declares itself (name → path), beside those found from
    /// bootstrap directories and FluxInstances.
    pub clusters: BTreeMap<String, String>,
    /// Sources whose artifact is a directory here.
    pub sources: Vec<LocalSource>,
    /// Files larger than this many bytes are reported, not read (`max_file_size`).
    pub max_file_size: u64,
    /// Codes of the rules whose findings neither a baseline nor a suppression comment hides.
    pub unwaivable: Vec<&'static str>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            order: DEFAULT_ORDER.iter().map(|s| s.to_string()).collect(),
            order_adopted: false,
            aliases: BTreeMap::new(),
            environments: Vec::new(),
            environment_match: EnvironmentMatch::default(),
            rules: BTreeMap::new(),
            exclude: Vec::new(),
            external_sources: Vec::new(),
            clusters: BTreeMap::new(),
            sources: Vec::new(),
            max_file_size: FILE_SIZE_LIMIT,
            unwaivable: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

impl Config {
    /// The component a HelmRelease or Kustomization name stands for, if any.
    pub fn component_of<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        let name = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.order
            .iter()
            .find(|c| c.as_str() == name)
            .map(String::as_str)
    }

    pub fn position(&self, component: &str) -> Option<usize> {
        self.order.iter().position(|c| c == component)
    }

    /// The configured severity of a rule, `None` when it is off.
    pub fn severity(&self, code: &str, default: Severity) -> Option<Severity> {
        match self.rules.get(code) {
            Some(s) => *s,
            None => Some(default),
        }
    }

    /// Whether the config lists the rule as `unwaivable`.
    pub fn is_unwaivable(&self, code: &str) -> bool {
        self.unwaivable.contains(&code)
    }

    /// Checks what the config names in the repository whose root is `root`: every
    /// `sources[].path` must be a directory there (a typo would make every Kustomization
    /// reading the source a render gap without a word).
    pub fn check_tree(&self, display: &str, root: &Path) -> Result<(), ConfigError> {
        for s in &self.sources {
            let rel = crate::fs::join_normalized("", &s.path);
            let found = rel.as_deref().is_some_and(|r| root.join(r).is_dir());
            if !found {
                return Err(ConfigError {
                    path: display.to_string(),
                    line: s.path_at.0,
                    column: s.path_at.1,
                    message: format!(
                        "`sources[].path`: `{}` is not a directory of this repository (give the directory {} {} is pushed from, relative to the repository root)",
                        s.path, s.kind, s.name
                    ),
                });
            }
        }
        Ok(())
    }

    /// `rules` names the rules the config may mention (`crate::rules::lookup`): the config
    /// validates them without depending on the catalogue.
    pub fn load(path: &Path, display: &str, rules: RuleLookup) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: display.to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read the config file: {e}"),
        })?;
        Config::parse(display, &text, rules)
    }

    pub fn parse(display: &str, text: &str, rules: RuleLookup) -> Result<Config, ConfigError> {
        let file = SourceFile::new(display, text.to_string());
        let err = |offset: usize, message: String| {
            let lc = file.line_col(offset);
            ConfigError {
                path: display.to_string(),
                line: lc.line,
                column: lc.column,
                message,
            }
        };
        let stream = parse_stream(&file.text);
        if let Some(p) = stream.problems.first() {
            let (at, msg) = match p {
                YamlProblem::Syntax { span, message, .. } => (span.start, message.clone()),
                YamlProblem::DuplicateKey { key, second, .. } => {
                    (second.start, format!("duplicate key `{key}`"))
                }
                YamlProblem::AliasBomb { span, .. } => (span.start, "excessive aliasing".into()),
                YamlProblem::TooLarge { span } => (span.start, "document too large".into()),
                YamlProblem::NotText { reason } => (0, reason.clone()),
            };
            return Err(err(at as usize, format!("invalid YAML: {msg}")));
        }
        let mut config = Config::default();
        // Checked once the whole file is read: `order` may come after `aliases`.
        let mut alias_targets: Vec<(String, String, usize)> = Vec::new();
        let Some(doc) = stream.documents.first() else {
            return Ok(config);
        };
        let Some(root) = doc.root() else {
            return Ok(config);
        };
        if root.is_null() {
            return Ok(config);
        }
        if !root.is_mapping() {
            return Err(err(
                root.span().start as usize,
                "the config must be a mapping of keys".into(),
            ));
        }
        for (k, v) in root.entries() {
            let key = k.as_str().unwrap_or("");
            let at = v.span().start as usize;
            match key {
                "order" => {
                    config.order = string_list(&v, "order").map_err(|(o, m)| err(o, m))?;
                    config.order_adopted = true;
                    if config.order.is_empty() {
                        return Err(err(at, "`order` must name at least one component".into()));
                    }
                    let mut seen = std::collections::HashSet::new();
                    for c in &config.order {
                        if !seen.insert(c) {
                            return Err(err(at, format!("`order` names `{c}` twice")));
                        }
                    }
                }
                "clusters" => {
                    for ((name, _), (path, _)) in
                        string_map_spanned(&v, "clusters").map_err(|(o, m)| err(o, m))?
                    {
                        config.clusters.insert(name, path);
                    }
                }
                "aliases" => {
                    for ((ak, _), (av, at)) in
                        string_map_spanned(&v, "aliases").map_err(|(o, m)| err(o, m))?
                    {
                        alias_targets.push((ak.clone(), av.clone(), at));
                        config.aliases.insert(ak, av);
                    }
                }
                "environments" => {
                    let envs =
                        string_list_spanned(&v, "environments").map_err(|(o, m)| err(o, m))?;
                    let mut seen = std::collections::HashSet::new();
                    for (e, at) in &envs {
                        if !seen.insert(e) {
                            return Err(err(
                                *at,
                                format!(
                                    "`environments` names `{e}` twice; list each environment once, in promotion order"
                                ),
                            ));
                        }
                    }
                    config.environments = envs.into_iter().map(|(e, _)| e).collect();
                }
                "environment_match" => {
                    config.environment_match = match v.as_str().filter(|_| !v.is_null()) {
                        Some("path") => EnvironmentMatch::Path,
                        Some("namespace") => EnvironmentMatch::Namespace,
                        Some("both") => EnvironmentMatch::Both,
                        _ => {
                            return Err(err(
                                at,
                                "`environment_match` must be one of path, namespace, both".into(),
                            ));
                        }
                    }
                }
                "exclude" => {
                    let globs = string_list_spanned(&v, "exclude").map_err(|(o, m)| err(o, m))?;
                    for (glob, at) in &globs {
                        if let Err(e) = check_glob(glob) {
                            return Err(err(*at, format!("`exclude`: {e}")));
                        }
                    }
                    config.exclude = globs.into_iter().map(|(g, _)| g).collect();
                }
                "rules" => {
                    for (code, (sev, off)) in
                        string_map_spanned(&v, "rules").map_err(|(o, m)| err(o, m))?
                    {
                        let Some(meta) = rules(&code.0) else {
                            return Err(err(
                                code.1,
                                format!(
                                    "`rules`: `{}` is not a fluxvet rule (see `fluxvet rules`)",
                                    code.0
                                ),
                            ));
                        };
                        let level = if sev == "off" {
                            None
                        } else {
                            Some(Severity::parse(&sev).ok_or_else(|| {
                                err(off, format!("`rules.{}`: `{sev}` is not one of error, warning, info, off", code.0))
                            })?)
                        };
                        config.rules.insert(meta.code, level);
                    }
                }
                "sources" => {
                    for e in source_entries(&v, "sources", true).map_err(|(o, m)| err(o, m))? {
                        let (path, path_offset) = e.path.unwrap_or_default();
                        let lc = file.line_col(path_offset);
                        config.sources.push(LocalSource {
                            kind: e.kind,
                            name: e.name,
                            namespace: e.namespace,
                            path,
                            path_at: (lc.line, lc.column),
                        });
                    }
                }
                "external_sources" => {
                    for e in
                        source_entries(&v, "external_sources", false).map_err(|(o, m)| err(o, m))?
                    {
                        config.external_sources.push(ExternalSource {
                            kind: e.kind,
                            name: e.name,
                            namespace: e.namespace,
                        });
                    }
                }
                "unwaivable" => {
                    for (i, word) in string_list(&v, "unwaivable")
                        .map_err(|(o, m)| err(o, m))?
                        .into_iter()
                        .enumerate()
                    {
                        let Some(meta) = rules(&word) else {
                            let at = v.items().get(i).map_or(at, |n| n.span().start as usize);
                            return Err(err(
                                at,
                                format!(
                                    "`unwaivable`: `{word}` is not a fluxvet rule (see `fluxvet rules`)"
                                ),
                            ));
                        };
                        if !config.unwaivable.contains(&meta.code) {
                            config.unwaivable.push(meta.code);
                        }
                    }
                }
                "max_file_size" => {
                    let written = v.scalar().map(|(s, _)| s.to_string()).unwrap_or_default();
                    config.max_file_size = parse_size(&written)
                        .map_err(|e| err(at, format!("`max_file_size`: {e}")))?;
                }
                other => {
                    return Err(err(
                        k.span().start as usize,
                        format!(
                            "unknown key `{other}` (expected one of order, aliases, environments, environment_match, rules, exclude, external_sources, sources, max_file_size, clusters, unwaivable)"
                        ),
                    ));
                }
            }
        }
        for (alias, target, at) in &alias_targets {
            if config.position(target).is_none() {
                return Err(err(
                    *at,
                    format!(
                        "`aliases.{alias}`: `{target}` is not a component of `order` ({}); \
                         an alias must name one of them",
                        config.order.join(", ")
                    ),
                ));
            }
        }
        Ok(config)
    }
}

/// A size: bytes (`33554432`) or a number with a unit (`512KiB`, `64MiB`, `1GiB`; `K`, `M`,
/// `G` mean the same). Zero is refused: nothing could be checked.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let unit = match t[digits..].trim() {
        "" | "B" => 1,
        "K" | "KiB" | "k" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => 0,
    };
    match t[..digits].parse::<u64>() {
        Ok(n) if n > 0 && unit > 0 => n
            .checked_mul(unit)
            .ok_or_else(|| format!("`{t}` is too large")),
        _ => Err(format!(
            "`{t}` is not a size: write a positive number of bytes or e.g. `64MiB`"
        )),
    }
}

/// The default size limit (`max_file_size`, `--max-file-size`): larger files are reported, not
/// read whole. The biggest real manifests (CRD bundles) are a few MiB, and every byte costs
/// memory for the whole run.
pub const FILE_SIZE_LIMIT: u64 = 32 * 1024 * 1024;

/// A size as a person writes it: `32 MiB`, `512 KiB`, `1000 bytes`.
pub fn show_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Whether `glob` is one `exclude` can use, as the walk will compile it.
pub fn check_glob(glob: &str) -> Result<(), String> {
    let mut b = ignore::overrides::OverrideBuilder::new(".");
    b.add(&format!("!{glob}"))
        .and_then(|b| b.build().map(|_| ()))
        .map(|_| ())
        .map_err(|e| format!("`{glob}` is not a valid glob: {}", glob_cause(&e)))
}

fn glob_cause(e: &ignore::Error) -> String {
    match e {
        ignore::Error::Glob { err, .. } => err.clone(),
        other => other.to_string(),
    }
}

type Fail = (usize, String);

/// An entry of `sources` (`with_path`) or `external_sources`: a Flux source by kind, name and
/// optional namespace, and for `sources` the directory here its artifact is pushed from (with
/// the offset of that value).
struct SourceEntry {
    kind: String,
    name: String,
    namespace: Option<String>,
    path: Option<(String, usize)>,
}

fn source_entries(v: &NodeRef<'_>, key: &str, with_path: bool) -> Result<Vec<SourceEntry>, Fail> {
    let fields = if with_path {
        "kind, name, namespace, path"
    } else {
        "kind, name, namespace"
    };
    if !v.is_sequence() && !v.is_null() {
        return Err((
            v.span().start as usize,
            format!("`{key}` must be a list of {{{fields}}}"),
        ));
    }
    let mut out = Vec::new();
    for item in v.items() {
        let ia = item.span().start as usize;
        if !item.is_mapping() {
            let what = if with_path {
                "kind, name, optional namespace and path"
            } else {
                "kind, name and optional namespace"
            };
            return Err((ia, format!("`{key}` entries are mappings with {what}")));
        }
        let mut src = SourceEntry {
            kind: String::new(),
            name: String::new(),
            namespace: None,
            path: None,
        };
        for (ek, ev) in item.entries() {
            let val = ev.as_str().map(str::to_string).ok_or_else(|| {
                (
                    ev.span().start as usize,
                    format!("`{key}` values must be strings"),
                )
            })?;
            match ek.as_str().unwrap_or("") {
                "kind" => src.kind = val,
                "name" => src.name = val,
                "namespace" => src.namespace = Some(val),
                "path" if with_path => src.path = Some((val, ev.span().start as usize)),
                other => {
                    return Err((
                        ek.span().start as usize,
                        format!("unknown key `{key}[].{other}` (expected {fields})"),
                    ));
                }
            }
        }
        if !src.kind.is_empty() && !FluxKind::from_name(&src.kind).is_some_and(FluxKind::is_source)
        {
            let sources: Vec<&str> = FluxKind::sources().map(FluxKind::name).collect();
            let at = item.get("kind").map_or(ia, |k| k.span().start as usize);
            return Err((
                at,
                format!(
                    "`{key}[].kind`: `{}` is not a Flux source kind (expected one of {})",
                    src.kind,
                    sources.join(", ")
                ),
            ));
        }
        let no_path = with_path && src.path.as_ref().is_none_or(|(p, _)| p.is_empty());
        if src.kind.is_empty() || src.name.is_empty() || no_path {
            let need = if with_path {
                "`kind`, `name` and `path` (the directory the artifact is pushed from, e.g. `./deploy`)"
            } else {
                "`kind` and `name`"
            };
            return Err((ia, format!("`{key}` entries need {need}")));
        }
        out.push(src);
    }
    Ok(out)
}

fn string_list(v: &NodeRef<'_>, key: &str) -> Result<Vec<String>, Fail> {
    if v.is_null() {
        return Ok(Vec::new());
    }
    if !v.is_sequence() {
        return Err((
            v.span().start as usize,
            format!("`{key}` must be a list of strings"),
        ));
    }
    v.items()
        .into_iter()
        .map(|i| match i.scalar() {
            Some((s, _)) if !s.is_empty() => Ok(s.to_string()),
            _ => Err((
                i.span().start as usize,
                format!("`{key}` entries must be non-empty strings"),
            )),
        })
        .collect()
}

/// [`string_list`] with each entry's byte offset, for errors about one entry.
fn string_list_spanned(v: &NodeRef<'_>, key: &str) -> Result<Vec<(String, usize)>, Fail> {
    let items = string_list(v, key)?;
    Ok(items
        .into_iter()
        .zip(v.items())
        .map(|(s, i)| (s, i.span().start as usize))
        .collect())
}

#[allow(clippy::type_complexity)]
fn string_map_spanned(
    v: &NodeRef<'_>,
    key: &str,
) -> Result<Vec<((String, usize), (String, usize))>, Fail> {
    if v.is_null() {
        return Ok(Vec::new());
    }
    if !v.is_mapping() {
        return Err((
            v.span().start as usize,
            format!("`{key}` must be a mapping"),
        ));
    }
    v.entries()
        .into_iter()
        .map(|(k, val)| {
            let ks = k.as_str().ok_or((
                k.span().start as usize,
                format!("`{key}` keys must be strings"),
            ))?;
            let vs = val.as_str().filter(|s| !s.is_empty()).ok_or((
                val.span().start as usize,
                format!("`{key}.{ks}` must be a string"),
            ))?;
            Ok((
                (ks.to_string(), k.span().start as usize),
                (vs.to_string(), val.span().start as usize),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(display: &str, text: &str) -> Result<Config, ConfigError> {
        Config::parse(display, text, crate::rules::lookup)
    }

    #[test]
    fn parses_every_key() {
        let c = parse(
            ".fluxvet.yaml",
            "order: [a, b]\naliases: {x: a}\nenvironments: [dev, prod]\nrules: {FV001: off, duplicate-key: warning}\nexclude: ['tmp/**']\nexternal_sources:\n  - {kind: GitRepository, name: flux-system, namespace: flux-system}\n",
        )
        .unwrap();
        assert_eq!(c.order, vec!["a", "b"]);
        assert_eq!(c.component_of("x"), Some("a"));
        assert_eq!(c.rules.get("FV001"), Some(&None));
        assert_eq!(c.rules.get("FV102"), Some(&Some(Severity::Warning)));
        assert_eq!(c.external_sources.len(), 1);
        let c = parse(".fluxvet.yaml", "unwaivable: [FV601, duplicate-key]\n").unwrap();
        assert!(c.is_unwaivable("FV601") && c.is_unwaivable("FV102"));
        assert!(!c.is_unwaivable("FV202"));
        let e = parse(".fluxvet.yaml", "unwaivable:\n  - FV601\n  - FV999\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 5));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = parse(".fluxvet.yaml", "order: [a]\nordr: [b]\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("`ordr`"), "{}", e.message);
        let e = parse(".fluxvet.yaml", "rules:\n  FV999: error\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse(".fluxvet.yaml", "rules:\n  FV101: loud\n").unwrap_err();
        assert!(e.message.contains("loud"));
    }

    #[test]
    fn environment_match_values() {
        let c = parse(".fluxvet.yaml", "environment_match: both\n").unwrap();
        assert_eq!(c.environment_match, EnvironmentMatch::Both);
        assert_eq!(Config::default().environment_match, EnvironmentMatch::Path);
        let e = parse(
            ".fluxvet.yaml",
            "environments: [dev]\nenvironment_match: folder\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (2, 20));
        assert!(e.message.contains("`environment_match`"), "{}", e.message);
    }

    #[test]
    fn bad_exclude_glob_names_its_line() {
        let e = parse(".fluxvet.yaml", "exclude:\n  - 'ok/**'\n  - 'tmp/[ab'\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 5), "{e}");
        assert!(
            e.message
                .starts_with("`exclude`: `tmp/[ab` is not a valid glob"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_environment_names_the_second() {
        let e = parse(".fluxvet.yaml", "environments: [dev, prod, dev]\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 27), "{e}");
        assert!(
            e.message.contains("`environments` names `dev` twice"),
            "{e}"
        );
    }

    #[test]
    fn unknown_external_source_kind_names_its_line() {
        let e = parse(
            ".fluxvet.yaml",
            "external_sources:\n  - name: x\n    kind: GitRepo\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (3, 11), "{e}");
        assert!(
            e.message.contains("`GitRepo` is not a Flux source kind"),
            "{e}"
        );
    }

    #[test]
    fn alias_onto_a_name_outside_the_order_is_an_error() {
        // Checked against the order of the same file, whichever comes first.
        let e = parse(
            ".fluxvet.yaml",
            "aliases:\n  kps: monitor\norder: [monitoring]\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (2, 8), "{e}");
        assert!(
            e.message
                .contains("`aliases.kps`: `monitor` is not a component"),
            "{e}"
        );
        let ok = parse(".fluxvet.yaml", "aliases:\n  kps: monitoring\n").unwrap();
        assert_eq!(ok.component_of("kps"), Some("monitoring"));
    }

    #[test]
    fn sources_map_a_source_to_a_directory() {
        let c = parse(
            "c.yaml",
            "sources:\n  - {kind: OCIRepository, name: apps, namespace: flux-system, path: ./deploy}\n",
        )
        .unwrap();
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.sources[0].path, "./deploy");
        assert_eq!(c.sources[0].path_at, (2, 69));
        let root = std::env::temp_dir();
        let e = c.check_tree("c.yaml", &root).unwrap_err();
        assert_eq!((e.line, e.column), (2, 69));
        assert!(
            e.message.contains("`./deploy` is not a directory"),
            "{}",
            e.message
        );
        for (text, at, says) in [
            (
                "sources:\n  - {kind: OCIRepository, name: apps}\n",
                (2, 5),
                "need `kind`, `name` and `path`",
            ),
            (
                "sources:\n  - {kind: OCIRepo, name: a, path: x}\n",
                (2, 12),
                "not a Flux source kind",
            ),
            (
                "sources:\n  - {kind: Bucket, name: a, dir: x}\n",
                (2, 29),
                "unknown key `sources[].dir`",
            ),
        ] {
            let e = parse("c.yaml", text).unwrap_err();
            assert_eq!((e.line, e.column), at, "{text}");
            assert!(e.message.contains(says), "{}", e.message);
        }
    }
}
