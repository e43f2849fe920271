use crate::diag::{Diagnostic, Severity};
use crate::flux_api::{self, DurationUnits};
use crate::rules::schema::values_at;
use crate::rules::{DocContext, Rule, RuleMeta};

pub struct InvalidDuration;

pub static META: RuleMeta = RuleMeta {
    code: "FV503",
    name: "invalid-duration",
    severity: Severity::Error,
    summary: "An interval, timeout or retryInterval the Flux CRD's pattern rejects.",
    docs: r#"## What it does
Checks every duration field of the Flux kinds (`interval`, `timeout`, `retryInterval`, the
HelmRelease action timeouts, `chart.spec.interval`) against the pattern the CRDs validate,
`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`. A source's (`GitRepository`, `OCIRepository`,
`HelmRepository`, `Bucket`) `spec.timeout` allows no `h`: `^([0-9]+(\.[0-9]+)?(ms|s|m))+$`.
Values with `${VAR}` post-build substitution are skipped.

## Why is this bad?
The API server rejects the whole object, so the Kustomization that applies it fails and nothing in
its path is reconciled. Days (`1d`), spaces, capital units and bare numbers are all rejected.

## Example
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
spec:
  interval: 1d
  timeout: 1h
```

## Use instead
```yaml
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
spec:
  interval: 24h
  timeout: 60m
```
"#,
};

impl Rule for InvalidDuration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_document(&self, cx: &DocContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(fd) = cx.flux else { return };
        for (path, units) in fd.schema.durations {
            for (dotted, node) in values_at(fd.root, path) {
                if node.is_null() {
                    continue;
                }
                let problem = match node.as_str() {
                    None => Some(("is not a string".to_string(), None)),
                    Some(s) if flux_api::is_substituted(s) => None,
                    Some(s) if !node.is_string() => Some((
                        format!("`{s}` is a YAML number or boolean, not a duration string"),
                        Some(format!("add a unit, e.g. `{s}m`, or quote a duration")),
                    )),
                    Some(s) if flux_api::is_valid_duration(s, *units) => None,
                    Some(s)
                        if *units == DurationUnits::UpToMinutes
                            && flux_api::is_valid_duration(s, DurationUnits::UpToHours) =>
                    {
                        Some((
                            format!(
                                "`{s}` uses hours, which a source's `spec.timeout` does not allow"
                            ),
                            Some(match in_minutes(s) {
                                Some(m) => format!("write `{m}`"),
                                None => "express it in minutes, seconds or milliseconds".into(),
                            }),
                        ))
                    }
                    Some(s) => Some((
                        format!("`{s}` is not a duration the Flux API accepts"),
                        days_as_hours(s).map(|h| format!("days are not a unit: write `{h}`")),
                    )),
                };
                let Some((what, help)) = problem else {
                    continue;
                };
                let kind = fd.schema.kind;
                let help = help.unwrap_or_else(|| {
                    let units = match units {
                        DurationUnits::UpToHours => "`ms`, `s`, `m` or `h`",
                        DurationUnits::UpToMinutes => "`ms`, `s` or `m`",
                    };
                    format!("use numbers with the units {units}, e.g. `10m` or `1m30s`")
                });
                out.push(
                    Diagnostic::new(
                        &META,
                        cx.file_id,
                        node.span(),
                        format!("{kind} `{dotted}`: {what}; the API server rejects the object"),
                    )
                    .primary_label("invalid duration")
                    .help(help),
                );
            }
        }
    }
}

/// `7d` as `168h`.
fn days_as_hours(s: &str) -> Option<String> {
    let n: u64 = s.strip_suffix('d')?.parse().ok()?;
    Some(format!("{}h", n.checked_mul(24)?))
}

/// `1h30m` as `90m` (or seconds when minutes are not whole), for the hour-less source timeout.
fn in_minutes(s: &str) -> Option<String> {
    let mut total_ms: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let (unit_ms, len) = if rest.starts_with("ms") {
            (1.0, 2)
        } else if rest.starts_with('s') {
            (1000.0, 1)
        } else if rest.starts_with('m') {
            (60_000.0, 1)
        } else if rest.starts_with('h') {
            (3_600_000.0, 1)
        } else {
            return None;
        };
        total_ms += n * unit_ms;
        rest = &rest[len..];
    }
    if total_ms % 60_000.0 == 0.0 {
        Some(format!("{}m", total_ms / 60_000.0))
    } else if total_ms % 1000.0 == 0.0 {
        Some(format!("{}s", total_ms / 1000.0))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    const HR: &str = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: x
spec:
  interval: 1d
  timeout: 5
  install:
    timeout: \"10 m\"
  upgrade:
    timeout: 1h30m
";

    #[test]
    fn fires_on_bad_durations() {
        let f = findings_of("FV503", &[("hr.yaml", HR)]);
        assert_eq!(
            f,
            vec![
                ("hr.yaml".into(), 6, 13),
                ("hr.yaml".into(), 7, 12),
                ("hr.yaml".into(), 9, 14),
            ]
        );
    }

    #[test]
    fn source_timeout_has_no_hours() {
        let src = "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: x
spec:
  interval: 1h
  timeout: 1h
  url: https://example.com/x.git
";
        assert_eq!(
            findings_of("FV503", &[("s.yaml", src)]),
            vec![("s.yaml".into(), 7, 12)]
        );
        assert_eq!(super::in_minutes("1h30m").as_deref(), Some("90m"));
    }

    #[test]
    fn quiet_on_valid_substituted_and_foreign() {
        let src = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: x
spec:
  interval: ${INTERVAL:=10m}
  retryInterval: 0.5m
  timeout: \"5m0s\"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  interval: 1d
";
        assert!(findings_of("FV503", &[("k.yaml", src)]).is_empty());
    }
}
