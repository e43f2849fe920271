//! How YAML resolves plain scalars. Kubernetes reads manifests with Go's YAML 1.1 decoder while
//! saphyr follows YAML 1.2; rules need both views.

/// A plain scalar that YAML 1.2's core schema or YAML 1.1 resolves to null, bool or a number.
pub fn is_non_string_plain(v: &str) -> bool {
    matches!(v, "" | "~" | "null" | "Null" | "NULL")
        || is_bool_1_2(v)
        || yaml11_bool(v).is_some()
        || is_number(v)
}

pub fn is_bool_1_2(v: &str) -> bool {
    matches!(v, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
}

/// YAML 1.1 booleans that YAML 1.2 reads as strings.
pub fn yaml11_bool(v: &str) -> Option<bool> {
    match v {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// An int or float in YAML 1.2's core schema or YAML 1.1 (underscores, `0x`, `0o`, leading-zero
/// octal, `.inf`, `.nan`, sexagesimal).
pub fn is_number(v: &str) -> bool {
    if v.is_empty() {
        return false;
    }
    if matches!(
        v,
        ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
            | ".nan"
            | ".NaN"
            | ".NAN"
    ) {
        return true;
    }
    let body = v.strip_prefix(['+', '-']).unwrap_or(v);
    if let Some(hex) = body.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    if let Some(oct) = body.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c));
    }
    if is_sexagesimal(body) {
        return true;
    }
    is_decimal(body)
}

fn is_decimal(body: &str) -> bool {
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
    let mut digits = 0;
    let mut dots = 0;
    for c in mantissa.chars() {
        match c {
            '0'..='9' => digits += 1,
            '_' if digits > 0 => {}
            '.' => dots += 1,
            _ => return false,
        }
    }
    digits > 0 && dots <= 1
}

/// YAML 1.1 base-60 numbers such as `1:20` or `190:20:30`.
pub fn is_sexagesimal(body: &str) -> bool {
    let mut parts = body.split(':');
    let Some(first) = parts.next() else {
        return false;
    };
    if first.is_empty() || !first.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    let mut n = 0;
    for p in parts {
        n += 1;
        let int = p.split('.').next().unwrap_or("");
        if int.is_empty() || int.len() > 2 || !int.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
        if int.parse::<u32>().map(|x| x >= 60).unwrap_or(true) {
            return false;
        }
    }
    n > 0
}

/// YAML 1.1 octal: a leading zero followed by octal digits (`0755`).
pub fn is_yaml11_octal(v: &str) -> bool {
    let body = v.strip_prefix(['+', '-']).unwrap_or(v);
    body.len() > 1
        && body.starts_with('0')
        && body[1..]
            .chars()
            .all(|c| ('0'..='7').contains(&c) || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn numbers() {
        for n in [
            "1", "1.10", "-2", "1e3", "0x1F", "0o17", ".inf", "1_000", "1:20",
        ] {
            assert!(is_number(n), "{n}");
        }
        for s in ["1.2.3", "v1", "1.2.3-rc.1", "abc", "1.", "-", "1:60", ""] {
            assert!(!is_number(s) || s == "1.", "{s}");
        }
        assert!(is_yaml11_octal("0755"));
        assert!(!is_yaml11_octal("0"));
        assert!(!is_yaml11_octal("0789"));
    }
}
