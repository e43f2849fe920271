//! Flux's post-build substitution, as kustomize-controller runs it (fluxcd/pkg
//! `kustomize_varsub.go` with drone/envsubst): after the kustomize build, each object is
//! written out as YAML and every `${name…}` in it is replaced; `$${name}` escapes to a literal
//! `${name}`. A name with no value becomes the empty string unless the expression has a default
//! (`${name:=default}`, `${name=default}`, `${name:-default}`, `${name-default}`). Objects
//! labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled` are left alone, and
//! nothing is substituted at all when the Kustomization ends up with no variables.

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
