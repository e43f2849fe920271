//! How a plain scalar resolves. kustomize-controller reads manifests with kyaml, i.e. go-yaml
//! v3, so a plain scalar's type is go-yaml v3's (`resolve.go`): `true`/`false` (three
//! spellings each) are booleans, `yes`/`no`/`on`/`off` are strings, `0755` is octal, `1.10` is a
//! float, and there is no base 60 (`1:20` is a string).

/// A plain scalar that go-yaml v3 resolves to null, a boolean or a number.
pub fn is_non_string_plain(v: &str) -> bool {
    is_null(v) || is_bool(v) || is_number(v)
}

pub fn is_null(v: &str) -> bool {
    matches!(v, "" | "~" | "null" | "Null" | "NULL")
}

pub fn is_bool(v: &str) -> bool {
    matches!(v, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
}

/// An int or float as go-yaml v3 reads it.
pub fn is_number(v: &str) -> bool {
    number(v).is_some()
}

/// The number go-yaml v3 reads a plain scalar as, written as Go prints it (`1.10` → `1.1`,
/// `0755` → `493`); `None` when it is not a number.
pub fn number(v: &str) -> Option<String> {
    match v {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some("+Inf".into()),
        "-.inf" | "-.Inf" | "-.INF" => return Some("-Inf".into()),
        ".nan" | ".NaN" | ".NAN" => return Some("NaN".into()),
        _ => {}
    }
    // go-yaml tries numbers only for scalars that start like one.
    if !v.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return None;
    }
    let plain: String = v.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int(&plain) {
        return Some(i.to_string());
    }
    if is_go_float(&plain) {
        return plain.parse::<f64>().ok().map(|f| f.to_string());
    }
    None
}

/// A scalar as go-yaml v3 resolves it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    /// Not a scalar, or a tag fluxvet does not resolve: the schema check leaves it unjudged.
    Other,
}

/// go-yaml v3's `resolve` for an untagged plain scalar.
pub fn resolve_plain(v: &str) -> Scalar<'_> {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    let first = v.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Scalar::Str(v);
    }
    let plain: String = v.chars().filter(|&c| c != '_').collect();
    // Go's `strconv.ParseInt(s, 0, 64)`, in i64's range.
    if let Some(i) = go_parse_int(&plain).and_then(|n| i64::try_from(n).ok()) {
        return Scalar::Int(i);
    }
    if is_go_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Scalar::Float(f);
    }
    Scalar::Str(v)
}

/// Go's `strconv.ParseInt(s, 0, 64)` (then `ParseUint`): an optional sign, then `0x`, `0o`,
/// `0b` or a leading `0` (octal) prefix, or decimal.
pub fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i128::from_str_radix(digits, radix).ok()?;
    if n > i128::from(u64::MAX) {
        return None;
    }
    Some(if neg { -n } else { n })
}

/// go-yaml v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub fn is_go_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !e.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    match mantissa.split_once('.') {
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
        Some((int, frac)) => {
            int.chars().all(|c| c.is_ascii_digit())
                && frac.chars().all(|c| c.is_ascii_digit())
                && (if int.is_empty() {
                    !frac.is_empty()
                } else {
                    true
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn numbers_as_go_yaml_v3_reads_them() {
        for (n, read) in [
            ("1", "1"),
            ("1.10", "1.1"),
            ("-2", "-2"),
            ("1e3", "1000"),
            ("0x1F", "31"),
            ("0o17", "15"),
            ("0755", "493"),
            ("0789", "789"),
            ("1_000", "1000"),
            ("1.", "1"),
            (".5", "0.5"),
            (".inf", "+Inf"),
        ] {
            assert_eq!(number(n).as_deref(), Some(read), "{n}");
        }
        for s in [
            "1.2.3",
            "v1",
            "1.2.3-rc.1",
            "abc",
            "-",
            "1:20",
            "190:20:30",
            "",
            "yes",
            "0x",
            ".",
        ] {
            assert_eq!(number(s), None, "{s}");
        }
        assert!(is_non_string_plain("true") && is_non_string_plain("~"));
        assert!(!is_non_string_plain("yes") && !is_non_string_plain("off"));
    }
}
