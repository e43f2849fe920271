//! Versions read the way Flux reads them. Flux (source-controller and Helm) looks a chart or tag
//! up first as an exact string, then as a Masterminds semver constraint: `=`, `!=`, `>`, `<`,
//! `>=`, `<=`, `~`, `~>`, `^`, `x`/`X`/`*` wildcards, hyphen ranges (`1.2 - 1.4.5`), `||`, space or
//! comma for AND, an optional `v`. A partial version (`1.2`) is a range there, not a version.
//! The `semver` crate follows Cargo's rules (a bare `1.2.3` is a caret range, no hyphen ranges,
//! no `||`), so it cannot answer these questions; this module only classifies and describes a
//! constraint, it never matches versions against an index.

use std::cmp::Ordering;
use std::fmt;

/// A full `MAJOR.MINOR.PATCH[-pre]` version (build metadata dropped: it never orders).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
}

impl Version {
    fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: String::new(),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        Ok(())
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| cmp_pre(&self.pre, &other.pre))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// SemVer 2 pre-release precedence: none beats any; identifiers compare numerically when both
/// are numbers, numbers sort before words, a shorter list of equal prefix sorts first.
fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(n), Ok(m)) => n.cmp(&m),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// A full version with an optional leading `v` (`1.2.3`, `v1.2.3-rc.1+build.5`): what an exact
/// tag or chart version looks like. Partial versions and wildcards are not versions.
pub fn parse_version(s: &str) -> Option<Version> {
    let p = parse_partial(s)?;
    match p.parts.as_slice() {
        [Part::Num(a), Part::Num(b), Part::Num(c)] => Some(Version {
            major: *a,
            minor: *b,
            patch: *c,
            pre: p.pre,
        }),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Num(u64),
    Wild,
}

/// A version as a constraint may write it: one to three parts, any of them a wildcard.
#[derive(Debug)]
struct Partial {
    parts: Vec<Part>,
    pre: String,
}

impl Partial {
    /// The numbers before the first wildcard or missing part.
    fn fixed(&self) -> Vec<u64> {
        self.parts
            .iter()
            .map_while(|p| match p {
                Part::Num(n) => Some(*n),
                Part::Wild => None,
            })
            .collect()
    }
    /// The lowest version the partial covers (`1.2` → `1.2.0`).
    fn floor(&self) -> Version {
        let f = self.fixed();
        let mut v = Version::new(
            f.first().copied().unwrap_or(0),
            f.get(1).copied().unwrap_or(0),
            f.get(2).copied().unwrap_or(0),
        );
        if f.len() == 3 {
            v.pre = self.pre.clone();
        }
        v
    }
}

fn parse_partial(s: &str) -> Option<Partial> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let (s, _build) = match s.split_once('+') {
        Some((a, b)) if is_ident_list(b) => (a, Some(b)),
        Some(_) => return None,
        None => (s, None),
    };
    let (core, pre) = match s.split_once('-') {
        Some((a, b)) if is_ident_list(b) => (a, b.to_string()),
        Some(_) => return None,
        None => (s, String::new()),
    };
    let mut parts = Vec::new();
    for p in core.split('.') {
        parts.push(match p {
            "x" | "X" | "*" => Part::Wild,
            _ if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                Part::Num(p.parse().ok()?)
            }
            _ => return None,
        });
    }
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    Some(Partial { parts, pre })
}

fn is_ident_list(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Tilde,
    Caret,
}

/// Longest operators first so `>=` is not read as `>`.
const OPS: &[(&str, Op)] = &[
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("=>", Op::Ge),
    ("<=", Op::Le),
    ("=<", Op::Le),
    ("~>", Op::Tilde),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("=", Op::Eq),
    ("~", Op::Tilde),
    ("^", Op::Caret),
];

fn split_op(s: &str) -> (Option<Op>, &str) {
    for (text, op) in OPS {
        if let Some(rest) = s.strip_prefix(text) {
            return (Some(*op), rest);
        }
    }
    (None, s)
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Bound {
    version: Version,
    inclusive: bool,
}

/// One AND group as an interval, with the versions `!=` takes out of it.
#[derive(Clone, Debug, Default)]
struct Interval {
    lower: Option<Bound>,
    upper: Option<Bound>,
    except: Vec<String>,
    prerelease: bool,
}

impl Interval {
    fn raise(&mut self, b: Bound) {
        let tighter = match &self.lower {
            None => true,
            Some(cur) => b.version > cur.version || (b.version == cur.version && !b.inclusive),
        };
        if tighter {
            self.lower = Some(b);
        }
    }
    fn lower_to(&mut self, b: Bound) {
        let tighter = match &self.upper {
            None => true,
            Some(cur) => b.version < cur.version || (b.version == cur.version && !b.inclusive),
        };
        if tighter {
            self.upper = Some(b);
        }
    }
    /// The one version the interval admits, if it admits one (`=1.2.3`, `^0.0.3`).
    fn exact(&self) -> Option<&Version> {
        let (l, u) = (self.lower.as_ref()?, self.upper.as_ref()?);
        if !l.inclusive {
            return None;
        }
        let lo = &l.version;
        if u.inclusive {
            return (*lo == u.version).then_some(lo);
        }
        let next = Version::new(lo.major, lo.minor, lo.patch.saturating_add(1));
        (lo.pre.is_empty() && !self.prerelease && u.version == next).then_some(lo)
    }
    fn empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Some(l), Some(u)) => match l.version.cmp(&u.version) {
                Ordering::Greater => true,
                Ordering::Equal => !(l.inclusive && u.inclusive),
                Ordering::Less => false,
            },
            _ => false,
        }
    }
}

fn incl(version: Version) -> Bound {
    Bound {
        version,
        inclusive: true,
    }
}

fn excl(version: Version) -> Bound {
    Bound {
        version,
        inclusive: false,
    }
}

/// The version just past everything a partial with `fixed` leading numbers covers
/// (`1.2` → `1.3.0`, `1` → `2.0.0`).
fn past(fixed: &[u64]) -> Option<Version> {
    match fixed {
        [m] => Some(Version::new(m.saturating_add(1), 0, 0)),
        [m, n] => Some(Version::new(*m, n.saturating_add(1), 0)),
        _ => None,
    }
}

fn apply(iv: &mut Interval, op: Option<Op>, p: &Partial) {
    let fixed = p.fixed();
    if !p.pre.is_empty() {
        iv.prerelease = true;
    }
    let full = fixed.len() == 3;
    let floor = p.floor();
    match op.unwrap_or(Op::Eq) {
        Op::Eq => {
            if fixed.is_empty() {
                return;
            }
            iv.raise(incl(floor.clone()));
            match past(&fixed) {
                Some(top) => iv.lower_to(excl(top)),
                None => iv.lower_to(incl(floor)),
            }
        }
        Op::Ne => {
            if fixed.is_empty() {
                // `!= *` excludes everything; Masterminds agrees.
                iv.raise(incl(Version::new(1, 0, 0)));
                iv.lower_to(excl(Version::new(0, 0, 0)));
                return;
            }
            let mut shown: Vec<String> = fixed.iter().map(u64::to_string).collect();
            if !full {
                shown.push("x".into());
            }
            let mut s = shown.join(".");
            if full && !p.pre.is_empty() {
                s = format!("{s}-{}", p.pre);
            }
            iv.except.push(s);
        }
        Op::Gt => match past(&fixed) {
            _ if fixed.is_empty() => {}
            Some(top) => iv.raise(incl(top)),
            None => iv.raise(excl(floor)),
        },
        Op::Ge => {
            if !fixed.is_empty() {
                iv.raise(incl(floor));
            }
        }
        Op::Lt => {
            if !fixed.is_empty() {
                iv.lower_to(excl(floor));
            }
        }
        Op::Le => match past(&fixed) {
            _ if fixed.is_empty() => {}
            Some(top) => iv.lower_to(excl(top)),
            None => iv.lower_to(incl(floor)),
        },
        Op::Tilde => {
            if fixed.is_empty() {
                return;
            }
            let top = if fixed.len() == 1 {
                Version::new(fixed[0].saturating_add(1), 0, 0)
            } else {
                Version::new(fixed[0], fixed[1].saturating_add(1), 0)
            };
            iv.raise(incl(floor));
            iv.lower_to(excl(top));
        }
        Op::Caret => {
            if fixed.is_empty() {
                return;
            }
            let top = match fixed.as_slice() {
                [m, ..] if *m > 0 => Version::new(m.saturating_add(1), 0, 0),
                [0] => Version::new(1, 0, 0),
                [0, n] => Version::new(0, n.saturating_add(1), 0),
                [0, 0, p] => Version::new(0, 0, p.saturating_add(1)),
                [0, n, _] => Version::new(0, n.saturating_add(1), 0),
                _ => Version::new(fixed[0].saturating_add(1), 0, 0),
            };
            iv.raise(incl(floor));
            iv.lower_to(excl(top));
        }
    }
}

/// What a version string means to Flux.
#[derive(Debug, PartialEq, Eq)]
pub enum Reading {
    /// One exact version: `1.2.3`, `v1.2.3`, `=1.2.3-rc.1`.
    Exact(Version),
    /// Any of several versions; Flux picks the newest at every reconcile.
    Range(Range),
    /// Not a version and not a constraint: Flux finds no exact match and fails to parse it.
    Invalid,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Range {
    /// "any 3.x from 3.3.0 on", in words.
    pub describes: String,
    /// A partial version such as `1.2` rather than a written range.
    pub partial: bool,
    /// The lowest version the range admits, when it has one: a knowable version to pin.
    pub lowest: Option<Version>,
    /// No version at all satisfies it.
    pub matches_nothing: bool,
}

/// Reads a version or constraint the way Flux does.
pub fn read(input: &str) -> Reading {
    let s = input.trim();
    if s.is_empty() {
        return Reading::Range(Range {
            describes: "any version".into(),
            partial: false,
            lowest: None,
            matches_nothing: false,
        });
    }
    let mut groups = Vec::new();
    for g in s.split("||") {
        match parse_group(g) {
            Some(iv) => groups.push(iv),
            None => return Reading::Invalid,
        }
    }
    let live: Vec<&Interval> = groups.iter().filter(|g| !g.empty()).collect();
    if let [only] = live.as_slice()
        && only.except.is_empty()
        && let Some(v) = only.exact()
    {
        return Reading::Exact(v.clone());
    }
    let partial = groups.len() == 1 && is_bare_partial(s);
    let lowest = live
        .iter()
        .map(|g| {
            g.lower
                .as_ref()
                .filter(|b| b.inclusive)
                .map(|b| b.version.clone())
        })
        .collect::<Option<Vec<_>>>()
        .and_then(|vs| vs.into_iter().min());
    let describes = if live.is_empty() {
        "no version at all".to_string()
    } else {
        live.iter()
            .map(|g| describe(g))
            .collect::<Vec<_>>()
            .join(", or ")
    };
    Reading::Range(Range {
        describes,
        partial,
        lowest,
        matches_nothing: live.is_empty(),
    })
}

/// `1.2`, `v1`, `1.2.x`: a version with parts missing or wild and no operator.
fn is_bare_partial(s: &str) -> bool {
    match parse_partial(s) {
        Some(p) => p.parts.len() < 3 || p.parts.contains(&Part::Wild),
        None => false,
    }
}

/// True when `input` pins one exact version in Flux's reading.
pub fn is_pinned(input: &str) -> bool {
    matches!(read(input), Reading::Exact(_))
}

fn parse_group(g: &str) -> Option<Interval> {
    let tokens: Vec<&str> = g
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() {
        return None;
    }
    // Join an operator written apart from its version (`>= 1.2`).
    let mut atoms: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        let (op, rest) = split_op(t);
        if op.is_some() && rest.is_empty() {
            let next = tokens.get(i + 1)?;
            atoms.push(format!("{t}{next}"));
            i += 2;
        } else {
            atoms.push(t.to_string());
            i += 1;
        }
    }
    let mut iv = Interval::default();
    let mut j = 0;
    while j < atoms.len() {
        if atoms.get(j + 1).map(String::as_str) == Some("-") {
            let lo = parse_partial(&atoms[j])?;
            let hi = parse_partial(atoms.get(j + 2)?)?;
            apply(&mut iv, Some(Op::Ge), &lo);
            apply(&mut iv, Some(Op::Le), &hi);
            j += 3;
            continue;
        }
        let (op, rest) = split_op(&atoms[j]);
        let p = parse_partial(rest)?;
        apply(&mut iv, op, &p);
        j += 1;
    }
    Some(iv)
}

fn describe(iv: &Interval) -> String {
    let mut s = match (&iv.lower, &iv.upper) {
        (None, None) => "any version".to_string(),
        (Some(l), None) if l.inclusive => format!("any version from {} on", l.version),
        (Some(l), None) => format!("any version above {}", l.version),
        (None, Some(u)) if u.inclusive => format!("any version up to {}", u.version),
        (None, Some(u)) => format!("any version below {}", u.version),
        (Some(l), Some(u)) if l.inclusive && u.inclusive && l.version == u.version => {
            l.version.to_string()
        }
        (Some(l), Some(u)) => describe_span(l, u),
    };
    for e in &iv.except {
        s.push_str(&format!(" except {e}"));
    }
    if iv.prerelease {
        s.push_str(", pre-releases included");
    }
    s
}

fn describe_span(l: &Bound, u: &Bound) -> String {
    let lo = &l.version;
    let hi = &u.version;
    if l.inclusive && !u.inclusive && hi.pre.is_empty() && hi.patch == 0 {
        let from_start = lo.pre.is_empty();
        if hi.minor == 0 && hi.major == lo.major.saturating_add(1) {
            return if lo.minor == 0 && lo.patch == 0 && from_start {
                format!("any {}.x", lo.major)
            } else {
                format!("any {}.x from {lo} on", lo.major)
            };
        }
        if hi.major == lo.major && hi.minor == lo.minor.saturating_add(1) {
            return if lo.patch == 0 && from_start {
                format!("any {}.{}.x", lo.major, lo.minor)
            } else {
                format!("any {}.{}.x from {lo} on", lo.major, lo.minor)
            };
        }
    }
    let from = if l.inclusive {
        format!("from {lo}")
    } else {
        format!("above {lo}")
    };
    let to = if u.inclusive {
        format!("up to {hi}")
    } else {
        format!("below {hi}")
    };
    format!("any version {from} {to}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> Range {
        match read(s) {
            Reading::Range(r) => r,
            other => panic!("{s}: expected a range, got {other:?}"),
        }
    }

    fn words(s: &str) -> String {
        range(s).describes
    }

    #[test]
    fn exact_versions_are_pinned() {
        for s in [
            "1.2.3",
            "v1.2.3",
            "=1.2.3",
            "= 1.2.3",
            "=v1.2.3",
            "1.2.3-rc.1",
            "1.2.3+build.7",
            " 0.0.1 ",
            ">=1.2.3 <=1.2.3",
        ] {
            assert!(is_pinned(s), "{s}");
        }
        assert_eq!(
            read("v10.0.3-beta.2"),
            Reading::Exact(Version {
                major: 10,
                minor: 0,
                patch: 3,
                pre: "beta.2".into()
            })
        );
    }

    #[test]
    fn ranges_are_not_pinned() {
        for s in [
            "*",
            "x",
            "X",
            "1.2",
            "1",
            "v1.2",
            "1.2.x",
            "1.x",
            "1.*",
            "^1.2.3",
            "~1.2.3",
            "~>1.2.3",
            ">1.2.3",
            ">=1.2.3",
            "<1.2.3",
            "<=1.2.3",
            "!=1.2.3",
            "1.2 - 1.4.5",
            "1.2.3 || 1.2.4",
            ">= 1.2, < 3.0.0",
            ">=1.2 <3",
            "",
        ] {
            assert!(!is_pinned(s), "{s}");
        }
    }

    #[test]
    fn descriptions_say_what_flux_installs() {
        assert_eq!(words("^3.3.0"), "any 3.x from 3.3.0 on");
        assert_eq!(words("^3.0.0"), "any 3.x");
        assert_eq!(words("^0.2.3"), "any 0.2.x from 0.2.3 on");
        assert!(is_pinned("^0.0.3"));
        assert_eq!(words("~1.2.3"), "any 1.2.x from 1.2.3 on");
        assert_eq!(words("~>1.2"), "any 1.2.x");
        assert_eq!(words("~1"), "any 1.x");
        assert_eq!(words("1.2"), "any 1.2.x");
        assert_eq!(words("1.x"), "any 1.x");
        assert_eq!(words("*"), "any version");
        assert_eq!(words(">=1.0.0"), "any version from 1.0.0 on");
        assert_eq!(words(">1.0.0"), "any version above 1.0.0");
        assert_eq!(words(">1.2"), "any version from 1.3.0 on");
        assert_eq!(words("<2"), "any version below 2.0.0");
        assert_eq!(words("<=1.4"), "any version below 1.5.0");
        assert_eq!(words("1.2 - 1.4.5"), "any version from 1.2.0 up to 1.4.5");
        assert_eq!(
            words(">= 1.2, < 3.0.0"),
            "any version from 1.2.0 below 3.0.0"
        );
        assert_eq!(
            words(">=1.0.0-alpha"),
            "any version from 1.0.0-alpha on, pre-releases included"
        );
        assert_eq!(words("!=1.2.3"), "any version except 1.2.3");
        assert_eq!(words("1.2.3 || 1.3.x"), "1.2.3, or any 1.3.x");
        assert!(range(">2 <1").matches_nothing);
    }

    #[test]
    fn partial_and_lowest() {
        let r = range("1.10");
        assert!(r.partial);
        assert_eq!(r.lowest, Some(Version::new(1, 10, 0)));
        assert!(!range("^1.10.0").partial);
        assert_eq!(range("^3.3.0").lowest, Some(Version::new(3, 3, 0)));
        assert_eq!(range("*").lowest, None);
        assert_eq!(range(">1.2.3").lowest, None);
        assert_eq!(range("1.4.x || ^1.2.0").lowest, Some(Version::new(1, 2, 0)));
        assert_eq!(range("1.2 - 2").lowest, Some(Version::new(1, 2, 0)));
    }

    #[test]
    fn not_versions() {
        for s in [
            "latest", "main", "1.2.3.4", "v", ">=", "1.2 -", "1..2", "||", "V1.2.3",
        ] {
            assert_eq!(read(s), Reading::Invalid, "{s}");
        }
        assert_eq!(
            parse_version("5.1.0").map(|v| v.to_string()),
            Some("5.1.0".into())
        );
        assert_eq!(parse_version("v1.14.4").map(|v| v.major), Some(1));
        assert!(parse_version("3.24").is_none());
        assert!(parse_version("1.x.0").is_none());
        assert!(parse_version("6.6.2@sha256:abc").is_none());
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        let max = u64::MAX;
        for s in [
            format!("^{max}"),
            format!("~0.{max}"),
            format!("{max}.{max}"),
            format!("<={max}"),
            format!("^0.0.{max}"),
        ] {
            assert!(!matches!(read(&s), Reading::Invalid), "{s}");
        }
        assert_eq!(read("99999999999999999999999"), Reading::Invalid);
    }

    #[test]
    fn prerelease_order() {
        let a = parse_version("1.0.0-alpha").unwrap();
        let b = parse_version("1.0.0-alpha.1").unwrap();
        let c = parse_version("1.0.0-beta").unwrap();
        let d = parse_version("1.0.0").unwrap();
        assert!(a < b && b < c && c < d);
        assert!(parse_version("1.0.0-2").unwrap() < parse_version("1.0.0-10").unwrap());
    }
}
