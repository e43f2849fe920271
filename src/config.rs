//! `.fluxvet.yaml`: every field optional; an unknown key or a bad value is an error naming the
//! key and its line.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diag::Severity;
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
    /// Other names for components of the order (`kube-prometheus-stack` → `monitoring`).
    pub aliases: BTreeMap<String, String>,
    /// Environments in promotion order (`dev`, `staging`, `production`).
    pub environments: Vec<String>,
    pub environment_match: EnvironmentMatch,
    /// `None` turns the rule off. Keyed by rule code.
    pub rules: BTreeMap<&'static str, Option<Severity>>,
    pub exclude: Vec<String>,
    pub external_sources: Vec<ExternalSource>,
    /// Codes of the rules whose findings neither a baseline nor a suppression comment hides.
    pub unwaivable: Vec<&'static str>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            order: DEFAULT_ORDER.iter().map(|s| s.to_string()).collect(),
            aliases: BTreeMap::new(),
            environments: Vec::new(),
            environment_match: EnvironmentMatch::default(),
            rules: BTreeMap::new(),
            exclude: Vec::new(),
            external_sources: Vec::new(),
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

    pub fn load(path: &Path, display: &str) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: display.to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read the config file: {e}"),
        })?;
        Config::parse(display, &text)
    }

    pub fn parse(display: &str, text: &str) -> Result<Config, ConfigError> {
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
                "aliases" => {
                    for (ak, av) in string_map(&v, "aliases").map_err(|(o, m)| err(o, m))? {
                        config.aliases.insert(ak, av);
                    }
                }
                "environments" => {
                    config.environments =
                        string_list(&v, "environments").map_err(|(o, m)| err(o, m))?
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
                    config.exclude = string_list(&v, "exclude").map_err(|(o, m)| err(o, m))?
                }
                "rules" => {
                    for (code, (sev, off)) in
                        string_map_spanned(&v, "rules").map_err(|(o, m)| err(o, m))?
                    {
                        let Some(meta) = crate::rules::lookup(&code.0) else {
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
                "external_sources" => {
                    if !v.is_sequence() && !v.is_null() {
                        return Err(err(
                            at,
                            "`external_sources` must be a list of {kind, name, namespace}".into(),
                        ));
                    }
                    for item in v.items() {
                        let ia = item.span().start as usize;
                        if !item.is_mapping() {
                            return Err(err(ia, "`external_sources` entries are mappings with kind, name and optional namespace".into()));
                        }
                        let mut src = ExternalSource {
                            kind: String::new(),
                            name: String::new(),
                            namespace: None,
                        };
                        for (ek, ev) in item.entries() {
                            let val = ev.as_str().map(str::to_string).ok_or_else(|| {
                                err(
                                    ev.span().start as usize,
                                    "`external_sources` values must be strings".into(),
                                )
                            })?;
                            match ek.as_str().unwrap_or("") {
                                "kind" => src.kind = val,
                                "name" => src.name = val,
                                "namespace" => src.namespace = Some(val),
                                other => {
                                    return Err(err(
                                        ek.span().start as usize,
                                        format!(
                                            "unknown key `external_sources[].{other}` (expected kind, name, namespace)"
                                        ),
                                    ));
                                }
                            }
                        }
                        if src.kind.is_empty() || src.name.is_empty() {
                            return Err(err(
                                ia,
                                "`external_sources` entries need `kind` and `name`".into(),
                            ));
                        }
                        config.external_sources.push(src);
                    }
                }
                "unwaivable" => {
                    for (i, word) in string_list(&v, "unwaivable")
                        .map_err(|(o, m)| err(o, m))?
                        .into_iter()
                        .enumerate()
                    {
                        let Some(meta) = crate::rules::lookup(&word) else {
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
                other => {
                    return Err(err(
                        k.span().start as usize,
                        format!(
                            "unknown key `{other}` (expected one of order, aliases, environments, environment_match, rules, exclude, external_sources, unwaivable)"
                        ),
                    ));
                }
            }
        }
        Ok(config)
    }
}

type Fail = (usize, String);

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

fn string_map(v: &NodeRef<'_>, key: &str) -> Result<Vec<(String, String)>, Fail> {
    Ok(string_map_spanned(v, key)?
        .into_iter()
        .map(|(k, (v, _))| (k.0, v))
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

    #[test]
    fn parses_every_key() {
        let c = Config::parse(
            ".fluxvet.yaml",
            "order: [a, b]\naliases: {x: a}\nenvironments: [dev, prod]\nrules: {FV001: off, duplicate-key: warning}\nexclude: ['tmp/**']\nexternal_sources:\n  - {kind: GitRepository, name: flux-system, namespace: flux-system}\n",
        )
        .unwrap();
        assert_eq!(c.order, vec!["a", "b"]);
        assert_eq!(c.component_of("x"), Some("a"));
        assert_eq!(c.rules.get("FV001"), Some(&None));
        assert_eq!(c.rules.get("FV102"), Some(&Some(Severity::Warning)));
        assert_eq!(c.external_sources.len(), 1);
        let c = Config::parse(".fluxvet.yaml", "unwaivable: [FV601, duplicate-key]\n").unwrap();
        assert!(c.is_unwaivable("FV601") && c.is_unwaivable("FV102"));
        assert!(!c.is_unwaivable("FV202"));
        let e = Config::parse(".fluxvet.yaml", "unwaivable:\n  - FV601\n  - FV999\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 5));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = Config::parse(".fluxvet.yaml", "order: [a]\nordr: [b]\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("`ordr`"), "{}", e.message);
        let e = Config::parse(".fluxvet.yaml", "rules:\n  FV999: error\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Config::parse(".fluxvet.yaml", "rules:\n  FV101: loud\n").unwrap_err();
        assert!(e.message.contains("loud"));
    }

    #[test]
    fn environment_match_values() {
        let c = Config::parse(".fluxvet.yaml", "environment_match: both\n").unwrap();
        assert_eq!(c.environment_match, EnvironmentMatch::Both);
        assert_eq!(Config::default().environment_match, EnvironmentMatch::Path);
        let e = Config::parse(
            ".fluxvet.yaml",
            "environments: [dev]\nenvironment_match: folder\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (2, 20));
        assert!(e.message.contains("`environment_match`"), "{}", e.message);
    }
}
