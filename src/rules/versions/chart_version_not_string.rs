use crate::diag::{Diagnostic, Severity};
use crate::helm_semver::{self, Reading};
use crate::model::index::Repository;
use crate::rules::versions::chart_sites;
use crate::rules::{Rule, RuleMeta};
use crate::yaml::scalar;

pub struct ChartVersionNotString;

pub static META: RuleMeta = RuleMeta {
    code: "FV203",
    name: "chart-version-not-string",
    severity: Severity::Error,
    summary: "A chart version is a YAML number (`version: 1.10` is the float 1.1); quote it.",
    docs: r#"## What it does
Reports a `HelmRelease` or `HelmChart` chart `version` written as a plain YAML scalar that
reads as a number or a boolean rather than a string: `1.10`, `2`, `1e3`.

## Why is this bad?
`version: 1.10` is the floating-point number 1.1, not the text "1.10". The field is a string, so
the API server rejects the object; a tool that converts the number on the way passes "1.1"
instead, which is another version range altogether.

## Example
```yaml
spec:
  chart:
    spec:
      chart: podinfo
      version: 6.7
```

## Use instead
```yaml
spec:
  chart:
    spec:
      chart: podinfo
      version: "6.7.1"
```

## Fix
`fluxvet check --fix` quotes the version exactly as written (`version: 1.10` becomes
`version: "1.10"`, never `"1.1"`). Pinning a partial version is left to you.
"#,
};

impl Rule for ChartVersionNotString {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn reads(&self) -> crate::rules::Reads {
        crate::rules::Reads {
            flux_kinds: super::CHART_KINDS,
            ..crate::rules::Reads::NOTHING
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        for site in chart_sites(repo) {
            let Some((_, node)) = site.version else {
                continue;
            };
            let Some(text) = node.as_str() else { continue };
            if !node.is_plain() || node.is_string() || node.is_null() {
                continue;
            }
            let what = if let Some(n) = scalar::number(text) {
                if n != text {
                    format!("the number {n}")
                } else {
                    "a number".to_string()
                }
            } else {
                "a boolean".to_string()
            };
            let still = match helm_semver::read(text) {
                Reading::Range(r) if r.partial => match &r.lowest {
                    Some(v) => format!(
                        "; quoted, it is still a partial version ({}): pin e.g. `version: \"{v}\"`",
                        r.describes
                    ),
                    None => "; quoted, it is still a partial version".to_string(),
                },
                _ => String::new(),
            };
            out.push(
                Diagnostic::new(
                    &META,
                    site.object.file,
                    node.span(),
                    format!(
                        "`version: {text}` is {what}, not the string \"{text}\": quote it (the field is a string, so the API server rejects the {})",
                        site.kind
                    ),
                )
                .primary_label(format!("YAML reads this as {what}"))
                .help(format!("quote exactly what you meant: `version: \"{text}\"`{still}"))
                .with_fix(crate::fix::quote(
                    &repo.files[site.object.file],
                    node.span(),
                    text,
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn release(version_line: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chart:
    spec:
      chart: podinfo
      version: {version_line}
      sourceRef:
        kind: HelmRepository
        name: podinfo
"
        )
    }

    #[test]
    fn fires_on_numbers() {
        for v in ["1.10", "2", "1e3", "6.7"] {
            assert_eq!(
                findings_of("FV203", &[("hr.yaml", &release(v))]),
                vec![("hr.yaml".to_string(), 9, 16)],
                "{v}"
            );
        }
    }

    #[test]
    fn message_shows_the_number_flux_sees() {
        let out = crate::engine::check_memory(&[("hr.yaml", &release("1.10"))], Default::default());
        let d = out
            .diagnostics
            .iter()
            .find(|d| d.rule.code == "FV203")
            .expect("a finding");
        assert!(
            d.message.starts_with("`version: 1.10` is the number 1.1"),
            "{}",
            d.message
        );
        let help = d.help.as_deref().unwrap_or("");
        assert!(help.contains("`version: \"1.10\"`"), "{help}");
        assert!(help.contains("\"1.10.0\""), "{help}");
    }

    #[test]
    fn quiet_on_strings() {
        for v in ["\"1.10\"", "'2'", "1.2.3", "v1.2", "!!str 1.10", "\"*\""] {
            assert!(
                findings_of("FV203", &[("hr.yaml", &release(v))]).is_empty(),
                "{v}"
            );
        }
    }
}
