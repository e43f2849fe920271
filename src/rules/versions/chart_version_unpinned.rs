use crate::diag::{Diagnostic, Severity};
use crate::helm_semver::{self, Reading};
use crate::model::index::Repository;
use crate::rules::versions::{chart_sites, is_substituted, pin_example};
use crate::rules::{Rule, RuleMeta};

pub struct ChartVersionUnpinned;

pub static META: RuleMeta = RuleMeta {
    code: "FV202",
    name: "chart-version-unpinned",
    severity: Severity::Error,
    summary: "A chart version is `*`, a wildcard, a range, a partial version or `latest`.",
    docs: r#"## What it does
Reads `HelmRelease.spec.chart.spec.version` and `HelmChart.spec.version` the way Flux does: an
exact string first, then a semver constraint (`*`, `x`, `^`, `~`, `>=`, hyphen ranges, `||`,
partial versions such as `1.2`). Anything that admits more than one version is reported, and
the message names the range Flux will resolve. `latest` is reported too: it is neither a
version nor a constraint, so no chart matches it. A value that Flux's post-build substitution
fills in (`${CHART_VERSION}`) cannot be judged here and is reported at info severity.

## Why is this bad?
Flux resolves a range at every reconcile and installs the newest chart that matches: a chart
release upgrades production without review, and two clusters built from the same commit run
different charts.

## Example
```yaml
spec:
  chart:
    spec:
      chart: podinfo
      version: ">=6.0.0"
```

## Use instead
```yaml
spec:
  chart:
    spec:
      chart: podinfo
      version: "6.7.1"
```
"#,
};

impl Rule for ChartVersionUnpinned {
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
            if site.version_ignored() {
                continue;
            }
            let (Some(text), Some((_, node))) = (site.version_text(), site.version) else {
                continue;
            };
            let file = site.object.file;
            let span = node.span();
            if is_substituted(text) {
                // What each cluster substitutes decides: a version every build that applies
                // the release completes to one exact version is pinned; one a build completes
                // to a range is that range there. A value fluxvet cannot see (a variable no
                // build defines, an encrypted Secret) leaves it unknowable.
                let copies = repo.judged_copies(site.object);
                let mut unknown = copies.is_empty();
                let mut ranges: Vec<(&str, &str, helm_semver::Range)> = Vec::new();
                for a in &copies {
                    match super::chart_version_missing::rendered_version(&a.object.root, site.kind)
                    {
                        Some(v) if !is_substituted(v) => match helm_semver::read(v) {
                            Reading::Exact(_) => {}
                            Reading::Range(r) => ranges.push((a.cluster.as_str(), v, r)),
                            Reading::Invalid => unknown = true,
                        },
                        _ => unknown = true,
                    }
                }
                if let Some((_, value, range)) = ranges.first() {
                    let clusters: Vec<&str> = ranges
                        .iter()
                        .filter(|(_, v, _)| v == value)
                        .map(|(c, _, _)| *c)
                        .collect();
                    out.push(
                        Diagnostic::new(
                            &META,
                            file,
                            span,
                            format!(
                                "version `{text}` of {} is `{}` after post-build substitution{}: Flux reads it as a range and installs {}, the newest it finds at every reconcile",
                                site.what(),
                                value.trim(),
                                crate::rules::clusters_phrase(&clusters, crate::rules::Phrase::In),
                                range.describes
                            ),
                        )
                        .primary_label("substituted with a range")
                        .help("set the substituted value (the `postBuild.substitute` entry or substituteFrom ConfigMap) to the exact version you tested, e.g. `1.2.3`"),
                    );
                    continue;
                }
                if !unknown {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        &META,
                        file,
                        span,
                        format!(
                            "version `{text}` of {} comes from post-build substitution: fluxvet cannot tell statically whether it is pinned",
                            site.what()
                        ),
                    )
                    .severity(Severity::Info)
                    .primary_label("substituted at apply time")
                    .help("make sure every `postBuild.substitute` value or substituteFrom ConfigMap/Secret sets an exact version such as `1.2.3`"),
                );
                continue;
            }
            if text.trim().eq_ignore_ascii_case("latest") {
                out.push(
                    Diagnostic::new(
                        &META,
                        file,
                        span,
                        format!(
                            "version `{text}` of {} is neither a version nor a semver range: no chart version is named `{text}` (Helm requires SemVer), so Flux fails to resolve the chart",
                            site.what()
                        ),
                    )
                    .primary_label("not a version")
                    .help("pin the exact version you tested, e.g. `version: \"1.2.3\"`"),
                );
                continue;
            }
            let reading = helm_semver::read(text);
            let Reading::Range(range) = &reading else {
                continue;
            };
            let number = node.is_plain() && !node.is_string();
            let wildcard = range.partial && text.contains(['*', 'x', 'X']);
            let message = if range.matches_nothing {
                format!(
                    "version `{text}` of {} matches no version at all: Flux fails to resolve the chart",
                    site.what()
                )
            } else if wildcard {
                format!(
                    "`{text}` is a wildcard: Flux reads it as a range and installs {}, the newest it finds at every reconcile",
                    range.describes
                )
            } else if range.partial && number {
                format!(
                    "even quoted, `{text}` is a partial version: Flux reads it as a range and installs {}, at every reconcile",
                    range.describes
                )
            } else if range.partial {
                format!(
                    "`{text}` is a partial version: Flux reads it as a range and installs {}, at every reconcile",
                    range.describes
                )
            } else {
                format!(
                    "`{text}` lets Flux install {}, at every reconcile",
                    range.describes
                )
            };
            let help = match pin_example(&reading) {
                Some(v) => format!(
                    "pin one exact version, e.g. the range's lower bound: `version: \"{v}\"` (or the version you tested)"
                ),
                None => {
                    "pin the exact version you tested, e.g. `version: \"1.2.3\"` (`flux get helmreleases -A` shows the version running now)"
                        .to_string()
                }
            };
            out.push(
                Diagnostic::new(&META, file, span, message)
                    .primary_label(if wildcard {
                        "wildcard, not a version"
                    } else if range.partial {
                        "partial version"
                    } else {
                        "a range, not a version"
                    })
                    .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{findings, findings_of};

    fn release(version_line: &str, source_kind: &str) -> String {
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
        kind: {source_kind}
        name: podinfo
"
        )
    }

    #[test]
    fn fires_on_every_kind_of_range() {
        for v in [
            "\"*\"",
            "'x'",
            "\"^3.3.0\"",
            "\"~1.2.3\"",
            "\">=1.0.0\"",
            "\">= 1.0.0, < 2.0.0\"",
            "\"1.2 - 1.4.5\"",
            "\"1.2.3 || 1.3.0\"",
            "\"1.2\"",
            "\"1.x\"",
            "v1.2.x",
            "latest",
            "1.10",
        ] {
            let hr = release(v, "HelmRepository");
            assert_eq!(
                findings_of("FV202", &[("hr.yaml", &hr)]),
                vec![("hr.yaml".to_string(), 9, 16)],
                "{v}"
            );
        }
    }

    #[test]
    fn quiet_when_pinned_or_ignored() {
        for v in [
            "\"1.2.3\"",
            "v1.2.3",
            "\"=1.2.3\"",
            "1.2.3-rc.1",
            "\"1.2.3+b\"",
        ] {
            let hr = release(v, "HelmRepository");
            assert!(findings_of("FV202", &[("hr.yaml", &hr)]).is_empty(), "{v}");
        }
        let git = release("\"^1.0.0\"", "GitRepository");
        assert!(findings_of("FV202", &[("hr.yaml", &git)]).is_empty());
    }

    #[test]
    fn a_wildcard_is_called_one() {
        let hr = release("\"*\"", "HelmRepository");
        let out = crate::engine::check_memory(&[("hr.yaml", &hr)], Default::default());
        let d = out
            .diagnostics
            .iter()
            .find(|d| d.rule.code == "FV202")
            .expect("a finding");
        assert!(d.message.starts_with("`*` is a wildcard"), "{}", d.message);
    }

    #[test]
    fn substitution_is_info() {
        let hr = release("${CHART_VERSION}", "HelmRepository");
        let out = crate::engine::check_memory(&[("hr.yaml", &hr)], Default::default());
        let d: Vec<_> = out
            .diagnostics
            .iter()
            .filter(|d| d.rule.code == "FV202")
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, crate::diag::Severity::Info);
        assert!(d[0].message.contains("cannot tell statically"));
    }

    #[test]
    fn message_names_the_range() {
        let hr = release("\"^3.3.0\"", "HelmRepository");
        let out = crate::engine::check_memory(&[("hr.yaml", &hr)], Default::default());
        let d = out
            .diagnostics
            .iter()
            .find(|d| d.rule.code == "FV202")
            .expect("a finding");
        assert_eq!(
            d.message,
            "`^3.3.0` lets Flux install any 3.x from 3.3.0 on, at every reconcile"
        );
        assert!(d.help.as_deref().unwrap_or("").contains("\"3.3.0\""));
    }

    #[test]
    fn helmchart_and_patches() {
        let hc = "apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: podinfo
spec:
  chart: podinfo
  version: '6.x'
  sourceRef:
    kind: HelmRepository
    name: podinfo
";
        let patch = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chart:
    spec:
      version: \">=1.0.0-alpha\"
";
        let f = findings(&[("hc.yaml", hc), ("patch.yaml", patch)]);
        let ours: Vec<_> = f.iter().filter(|f| f.0 == "FV202").collect();
        assert_eq!(ours.len(), 2, "{f:?}");
        assert_eq!(
            (ours[0].1.as_str(), ours[0].2, ours[0].3),
            ("hc.yaml", 7, 12)
        );
        assert_eq!(
            (ours[1].1.as_str(), ours[1].2, ours[1].3),
            ("patch.yaml", 8, 16)
        );
    }
}
