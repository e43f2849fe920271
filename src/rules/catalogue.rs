//! The rule list for `fluxvet rules`, the README and `fluxvet explain`.

use super::{RuleMeta, all};

pub fn text() -> String {
    let mut s = String::new();
    for m in all() {
        s.push_str(&format!(
            "{}  {:<28} {:<8} {}\n",
            m.code,
            m.name,
            m.severity.as_str(),
            m.summary
        ));
    }
    s
}

/// The Markdown table between the README's rule-list markers.
pub fn markdown() -> String {
    let mut s =
        String::from("| code | name | severity | what it checks | fix |\n|---|---|---|---|---|\n");
    for m in all() {
        s.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            m.code,
            m.name,
            m.severity.as_str(),
            m.summary.replace('|', "\\|"),
            if m.fixable() { "`--fix`" } else { "" }
        ));
    }
    s
}

pub fn json() -> String {
    let v: Vec<serde_json::Value> = all()
        .map(|m| {
            serde_json::json!({"code": m.code, "name": m.name, "severity": m.severity.as_str(),
                               "summary": m.summary, "url": m.url()})
        })
        .collect();
    format!("{}\n", serde_json::Value::Array(v))
}

pub fn explain(m: &RuleMeta) -> String {
    format!(
        "# {} {} (default severity: {})\n\n{}\n\n{}",
        m.code,
        m.name,
        m.severity.as_str(),
        m.summary,
        m.docs
    )
}

/// `docs/rules.md`, the page every diagnostic's `url` points into.
pub fn docs_page() -> String {
    let mut s = String::from(
        "# fluxvet rules\n\nGenerated from the code by `fluxvet rules --format docs`; a test keeps it in sync.\n\n",
    );
    for m in all() {
        s.push_str(&format!(
            "<a id=\"{}\"></a>\n\n",
            m.code.to_ascii_lowercase()
        ));
        s.push_str(
            &explain(m)
                .replacen("# ", "## ", 1)
                .replace("\n## ", "\n### "),
        );
        s.push('\n');
    }
    s
}
