//! Flux's post-build substitution, as kustomize-controller runs it (fluxcd/pkg
//! `kustomize_varsub.go` with drone/envsubst): after the kustomize build, each object is
//! written out as YAML and every `${name…}` in it is replaced; `$${name}` escapes to a literal
//! `${name}`. A name with no value becomes the empty string unless the expression has a default
//! (`${name:=default}`, `${name=default}`, `${name:-default}`, `${name-default}`). Objects
//! labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled` are left alone, and
//! nothing is substituted at all when the Kustomization ends up with no variables.

use std::collections::BTreeMap;

use crate::flux_api::CoreKind;
use crate::model::index::{Object, Repository};
use crate::model::rendered::Node;
use crate::yaml::NodeRef;

/// The variables a Flux Kustomization's post-build substitution has, with their values, or
/// `None` when they cannot be known offline (a `substituteFrom` ConfigMap or Secret that Git
/// does not define) or there are none (then Flux substitutes nothing). `substitute` wins over
/// `substituteFrom`; line breaks are dropped from values, as kustomize-controller does.
pub fn variables(repo: &Repository, ks: &Object) -> Option<BTreeMap<String, String>> {
    let node = Node::from_yaml(repo.node(ks), ks.file);
    variables_of(repo, ks, &node, &|_| true)
}

/// [`variables`], reading a `substituteFrom` ConfigMap or Secret from the definitions `keep`
/// accepts when there are any (several clusters may each define `cluster-settings`), from
/// every definition otherwise.
pub fn variables_in(
    repo: &Repository,
    ks: &Object,
    keep: &dyn Fn(&Object) -> bool,
) -> Option<BTreeMap<String, String>> {
    let node = Node::from_yaml(repo.node(ks), ks.file);
    variables_of(repo, ks, &node, keep)
}

/// [`variables_in`], from `rendered`: the Flux Kustomization `ks` as its parent's build
/// renders it (a parent's patches often add `postBuild` to every child).
pub fn variables_of(
    repo: &Repository,
    ks: &Object,
    rendered: &Node,
    keep: &dyn Fn(&Object) -> bool,
) -> Option<BTreeMap<String, String>> {
    let post = rendered.path(&["spec", "postBuild"])?;
    if variables_injected(repo) {
        return None;
    }
    let mut vars = BTreeMap::new();
    // A `${VAR}` namespace (`namespace: ${FLUX_NAMESPACE}`) is read as the parent's
    // substitution rendered it.
    let namespace = repo
        .effective_namespace(ks)
        .filter(|n| !n.contains("${"))
        .or_else(|| rendered.str_at(&["metadata", "namespace"]));
    for reference in post
        .get("substituteFrom")
        .map(Node::items)
        .unwrap_or_default()
    {
        let (Some(kind), Some(name)) = (reference.str_at(&["kind"]), reference.str_at(&["name"]))
        else {
            return None;
        };
        if name.contains("${")
            || !matches!(
                CoreKind::from_name(kind),
                Some(CoreKind::ConfigMap | CoreKind::Secret)
            )
        {
            return None;
        }
        let in_namespace = |o: &Object| {
            namespace.is_none_or(|ns| {
                repo.effective_namespace(o).is_none_or(|n| n == ns)
                    // A shared file (a component) lands in the namespace of each
                    // kustomization that includes it.
                    || repo.namespaces_set_on(o.file).iter().any(|n| n == ns)
            })
        };
        // An ExternalSecret here writes the Secret from its store (replacing a Secret of
        // that name in Git, or merging into it): what it holds is not known.
        if kind == CoreKind::Secret.name()
            && repo
                .of_kind(EXTERNAL_SECRET)
                .filter(|o| o.group() == EXTERNAL_SECRETS_GROUP && in_namespace(o))
                .any(|o| {
                    repo.node(o)
                        .str_at(&["spec", "target", "name"])
                        .unwrap_or(&o.name)
                        == name
                })
        {
            return None;
        }
        let defined: Vec<&Object> = repo
            .of_kind(kind)
            .filter(|o| o.group().is_empty() && o.name == name && in_namespace(o))
            .collect();
        let kept: Vec<&Object> = defined.iter().copied().filter(|o| keep(o)).collect();
        let defined = if kept.is_empty() { defined } else { kept };
        // A cluster whose `cluster-settings` a kustomization generates (from an env file)
        // while other clusters write theirs: its keys count too, below the written values.
        let generated = if kind == CoreKind::ConfigMap.name() {
            generated_config_maps(repo, &|g| g.name == name)
        } else {
            Vec::new()
        };
        for data in &generated {
            vars.extend(data.iter().map(|(k, v)| (k.clone(), v.replace('\n', ""))));
        }
        if defined.is_empty() && generated.is_empty() {
            // Not in Git, optional or not: something else may create it in the cluster (an
            // ExternalSecret, an operator writing a client's credentials, a Secret made by
            // hand), and what it holds is not known.
            return None;
        }
        for o in defined {
            let root = repo.node(o);
            for field in ["data", "stringData"] {
                for (k, v) in root.get(field).map(|d| d.entries()).unwrap_or_default() {
                    let raw = v.as_str().unwrap_or("");
                    // Secret `data` is base64; kustomize-controller substitutes the decoded text.
                    let value = if kind == CoreKind::Secret.name() && field == "data" {
                        decode_base64(raw).unwrap_or_default()
                    } else {
                        raw.to_string()
                    };
                    vars.insert(k.as_str()?.to_string(), value.replace('\n', ""));
                }
            }
        }
    }
    vars.extend(substitute_values(rendered));
    (!vars.is_empty()).then_some(vars)
}

/// The kind and API group of external-secrets' ExternalSecret, which writes a Secret named
/// `spec.target.name` (by default its own name) in its namespace.
const EXTERNAL_SECRET: &str = "ExternalSecret";
const EXTERNAL_SECRETS_GROUP: &str = "external-secrets.io";

/// The `data` of each ConfigMap a kustomization of the repository generates whose
/// `configMapGenerator` entry `wanted` accepts (literals and env files, read as kustomize
/// reads them); one it cannot generate (a file missing) is left out.
pub fn generated_config_maps(
    repo: &Repository,
    wanted: &dyn Fn(&crate::model::kustomization::Generator) -> bool,
) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    for &fid in repo.kustomization_files() {
        let Some(k) = repo.kustomization(fid) else {
            continue;
        };
        let read = |p: &str| {
            let t = crate::fs::join_normalized(&k.dir, p)?;
            match repo.file_id(&t) {
                Some(f) => Some(repo.files[f].text.as_bytes().to_vec()),
                None => repo.tree.read(&t),
            }
        };
        for g in k.generators.iter().filter(|g| {
            g.kind == crate::model::kustomization::GeneratedKind::ConfigMap && wanted(g)
        }) {
            let Ok(made) = crate::model::generate::generate(g, k.generator_options.as_ref(), &read)
            else {
                continue;
            };
            out.push(
                made.root
                    .get("data")
                    .map(Node::entries)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|(key, v)| Some((key.to_string(), v.as_str()?.to_string())))
                    .collect(),
            );
        }
    }
    out
}

/// The chart of xunholy/fluxcd-kustomize-mutating-webhook: an admission webhook that adds
/// the keys of the ConfigMaps and Secrets it mounts to `postBuild.substitute` of every Flux
/// Kustomization the API server admits (`main.go`, `handleMutate`).
const VARIABLE_WEBHOOK_CHART: &str = "kustomize-mutating-webhook";

/// Whether the repository installs an admission webhook that mutates Flux Kustomizations:
/// a MutatingWebhookConfiguration whose rules take `kustomizations` of
/// `kustomize.toolkit.fluxcd.io`, or a HelmRelease of the chart that installs one
/// ([`VARIABLE_WEBHOOK_CHART`], by `chart.spec.chart` or the URL of its `chartRef`). Then
/// the variables a Kustomization substitutes are set at admission, not in Git: they cannot
/// be known offline.
pub fn variables_injected(repo: &Repository) -> bool {
    repo.derived
        .get_or_init(|| VariablesInjected(find_variable_webhook(repo)))
        .0
}

struct VariablesInjected(bool);
impl crate::model::derived::Derived for VariablesInjected {}

fn find_variable_webhook(repo: &Repository) -> bool {
    let names = |n: Option<NodeRef<'_>>, want: &str| {
        n.map(|n| n.items())
            .unwrap_or_default()
            .iter()
            .any(|i| i.as_str().is_some_and(|s| s == want || s == "*"))
    };
    let configuration = repo
        .of_kind("MutatingWebhookConfiguration")
        .filter(|o| o.group() == "admissionregistration.k8s.io")
        .flat_map(|o| {
            repo.node(o)
                .get("webhooks")
                .map(|w| w.items())
                .unwrap_or_default()
        })
        .flat_map(|w| w.get("rules").map(|r| r.items()).unwrap_or_default())
        .any(|r| {
            names(r.get("apiGroups"), "kustomize.toolkit.fluxcd.io")
                && names(r.get("resources"), "kustomizations")
        });
    if configuration {
        return true;
    }
    let chart_url = |kind: &str, name: &str| {
        repo.of_kind(kind).any(|s| {
            s.name == name
                && repo.node(s).str_at(&["spec", "url"]).is_some_and(|u| {
                    u.trim_end_matches('/')
                        .ends_with(&format!("/{VARIABLE_WEBHOOK_CHART}"))
                })
        })
    };
    repo.of_kind(crate::flux_api::FluxKind::HelmRelease)
        .filter(|o| o.flux == Some(crate::flux_api::FluxKind::HelmRelease))
        .any(|o| {
            let node = repo.node(o);
            node.str_at(&["spec", "chart", "spec", "chart"]) == Some(VARIABLE_WEBHOOK_CHART)
                || match (
                    node.str_at(&["spec", "chartRef", "kind"]),
                    node.str_at(&["spec", "chartRef", "name"]),
                ) {
                    (Some(kind), Some(name)) => chart_url(kind, name),
                    _ => false,
                }
        })
}

/// The variables of `postBuild.substitute` alone. They win over `substituteFrom`, so each is
/// exact even when a `substituteFrom` ConfigMap or Secret is not in Git.
pub fn substitute_values(rendered: &Node) -> BTreeMap<String, String> {
    rendered
        .path(&["spec", "postBuild", "substitute"])
        .map(Node::entries)
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_str().unwrap_or("").replace('\n', "")))
        .collect()
}

fn decode_base64(text: &str) -> Option<String> {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = TABLE.iter().position(|&t| t == c)? as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `text` with its variable expressions replaced as Flux does: a variable's value, else the
/// default of `${name:=…}` and friends, else the empty string; `$${` stays a literal `${`.
/// Expressions with string functions (`${name^^}`, `${name:1:2}`) are kept as written: the
/// caller treats what it cannot evaluate as a render gap, never a guess.
pub fn substitute(text: &str, vars: &BTreeMap<String, String>) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if bytes[i] != b'$' || bytes.get(i + 1) != Some(&b'{') {
            let ch = text[i..].chars().next().unwrap_or('\0');
            out.push(ch);
            i += ch.len_utf8().max(1);
            continue;
        }
        let end = closing_brace(bytes, i + 2).unwrap_or(bytes.len());
        let body = &text[i + 2..end.saturating_sub(1).max(i + 2)];
        let name_len = body
            .bytes()
            .take_while(|b| *b == b'_' || b.is_ascii_alphanumeric())
            .count();
        let (name, rest) = body.split_at(name_len);
        let value = vars.get(name).filter(|v| !v.is_empty());
        let replaced = if !is_var_name(name) {
            None
        } else if rest.is_empty() {
            Some(value.cloned().unwrap_or_default())
        } else {
            [":=", ":-", "=", "-"]
                .iter()
                .find_map(|op| rest.strip_prefix(op))
                .map(|default| match value {
                    Some(v) => v.clone(),
                    None => substitute(default, vars),
                })
        };
        match replaced {
            Some(r) => out.push_str(&r),
            None => out.push_str(&text[i..end]),
        }
        i = end.max(i + 2);
    }
    out
}

/// One `${…}` in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarUse {
    pub name: String,
    /// The expression supplies a value of its own when the variable has none.
    pub has_default: bool,
    /// Byte offset of the `$` in the text.
    pub at: usize,
}

/// The label or annotation that turns substitution off for one object.
pub const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Whether the rendered object `root` turns post-build substitution off (`DISABLE_KEY:
/// disabled` as a label or annotation, however the build set it).
pub fn disabled_in(root: &crate::model::Node) -> bool {
    ["labels", "annotations"].iter().any(|f| {
        root.path(&["metadata", f, DISABLE_KEY])
            .and_then(crate::model::Node::as_str)
            == Some("disabled")
    })
}

/// Variable names Flux accepts (`^[_[:alpha:]][_[:alpha:][:digit:]]*$`).
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Every variable expression in `text`, in order. What stands inside a default is not
/// scanned: it is evaluated only when the variable has no value, and then it is the default's
/// business.
pub fn uses(text: &str) -> Vec<VarUse> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        // `$$` is an escaped `$`: `$${x}` is the literal `${x}`.
        if bytes[i + 1] == b'$' {
            i += 2;
            continue;
        }
        if bytes[i + 1] != b'{' {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + 2;
        // `${#name}` is the length of the variable.
        if bytes.get(j) == Some(&b'#') {
            j += 1;
        }
        let name_start = j;
        while j < bytes.len() && (bytes[j] == b'_' || bytes[j].is_ascii_alphanumeric()) {
            j += 1;
        }
        let name = &text[name_start..j];
        let rest = &text[j..];
        let has_default = ["}", ":=", "=", ":-", "-"]
            .iter()
            .find(|op| rest.starts_with(**op))
            .is_some_and(|op| *op != "}");
        let end = closing_brace(bytes, j).unwrap_or(bytes.len());
        // Anything else after the name is not an expression envsubst knows: left alone.
        let known_follow = rest
            .bytes()
            .next()
            .is_some_and(|b| b"}:=-^,#%/+?".contains(&b));
        if is_var_name(name) && known_follow {
            out.push(VarUse {
                name: name.to_string(),
                has_default,
                at: start,
            });
        }
        i = end.max(start + 2);
    }
    out
}

/// The index just past the `}` that closes the expression whose body starts at `from`.
fn closing_brace(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut k = from;
    while k < bytes.len() {
        match bytes[k] {
            b'{' if k > 0 && bytes[k - 1] == b'$' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_values_defaults_and_escapes() {
        let vars: BTreeMap<String, String> = [("APP".to_string(), "podinfo".to_string())]
            .into_iter()
            .collect();
        assert_eq!(
            substitute(
                "${APP}.${DOMAIN:=example.com} $${HOME} ${GONE} ${APP^^}",
                &vars
            ),
            "podinfo.example.com ${HOME}  ${APP^^}"
        );
        assert_eq!(substitute("${CLAIM:-${APP}-data}", &vars), "podinfo-data");
    }

    fn names(text: &str) -> Vec<(String, bool)> {
        uses(text)
            .into_iter()
            .map(|u| (u.name, u.has_default))
            .collect()
    }

    #[test]
    fn plain_and_defaulted_uses() {
        assert_eq!(
            names("host: ${APP}.${DOMAIN:=example.com}"),
            vec![("APP".into(), false), ("DOMAIN".into(), true)]
        );
        assert_eq!(
            names("${A=x} ${B:-y} ${C-z} ${D^^} ${#E} ${F:1:2}"),
            vec![
                ("A".into(), true),
                ("B".into(), true),
                ("C".into(), true),
                ("D".into(), false),
                ("E".into(), false),
                ("F".into(), false),
            ]
        );
    }

    #[test]
    fn escapes_plain_dollars_and_defaults_are_not_uses() {
        assert_eq!(names("echo $${HOME} $PATH $$ ${}"), vec![]);
        // Inside a default: evaluated only when the outer variable is empty.
        assert_eq!(
            names("${CLAIM:-${APP}} ${NEXT}"),
            vec![("CLAIM".into(), true), ("NEXT".into(), false)]
        );
        // Not a variable name Flux accepts: left alone.
        assert_eq!(names("${now.getMonth() + 1}"), vec![]);
    }

    #[test]
    fn positions_point_at_the_dollar() {
        let u = uses("a: b-${X}");
        assert_eq!(u[0].at, 5);
    }
}
