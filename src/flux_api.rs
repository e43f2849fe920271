//! What the Flux API accepts, in one table: groups and their served and removed versions, and per
//! kind the required fields, duration fields, enums, URL schemes and length limits. Every entry
//! comes from the controllers' Go API types and kubebuilder markers (helm-controller `api/v2`,
//! kustomize-controller `api/v1`, source-controller `api/v1`) or from RULES.md; a field whose
//! constraint was not verified is left out rather than guessed, so rules stay silent on it.
//!
//! Paths are mapping keys from the document root; the segment `[]` means "every item of the
//! sequence here".
//!
//! Kinds are typed: [`FluxKind`] for Flux's own (with [`KINDS_OF_FLUX`], the facts about each),
//! [`KustomizeKind`] for a kustomization file's `kind:` (kustomize.config.k8s.io, which is not
//! Flux's Kustomization) and [`CoreKind`] for the Kubernetes built-ins fluxvet reasons about.
//! The index reads each object's [`FluxKind`] once (`Object::flux` in the index).

/// A kind of Flux's: the toolkit controllers', the source-watcher's and the Flux Operator's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FluxKind {
    HelmRelease,
    Kustomization,
    GitRepository,
    OCIRepository,
    HelmRepository,
    HelmChart,
    Bucket,
    ExternalArtifact,
    Alert,
    Provider,
    Receiver,
    ImageRepository,
    ImagePolicy,
    ImageUpdateAutomation,
    ArtifactGenerator,
    FluxInstance,
    ResourceSet,
}

/// Where an object names its source (`spec.sourceRef`, `spec.chartRef`, …).
pub struct SourceRefField {
    /// The mapping's path from the document root.
    pub path: &'static [&'static str],
    /// The path as messages write it.
    pub field: &'static str,
    /// The source kinds Flux accepts there.
    pub allowed: &'static [FluxKind],
    /// The kind Flux assumes when the field has none.
    pub default_kind: Option<FluxKind>,
    /// Whether the reference may name another namespace.
    pub cross_namespace: bool,
}

/// What fluxvet knows of one Flux kind.
pub struct KindFacts {
    pub kind: FluxKind,
    pub name: &'static str,
    /// The API group (its versions are in [`GROUPS`] for the toolkit's).
    pub group: &'static str,
    /// Whether a `sourceRef` may name it (what `external_sources` may declare).
    pub source: bool,
    /// The fields that reference a source, in the order rules report them.
    pub source_refs: &'static [SourceRefField],
}

use FluxKind as F;

pub const KUSTOMIZATION_SOURCES: &[FluxKind] = &[
    F::GitRepository,
    F::OCIRepository,
    F::Bucket,
    F::ExternalArtifact,
];
const CHART_SOURCES: &[FluxKind] = &[F::HelmRepository, F::GitRepository, F::Bucket];
const CHART_REF_SOURCES: &[FluxKind] = &[F::OCIRepository, F::HelmChart, F::ExternalArtifact];

const fn facts(kind: FluxKind, name: &'static str, group: &'static str, source: bool) -> KindFacts {
    KindFacts {
        kind,
        name,
        group,
        source,
        source_refs: &[],
    }
}

/// Every Flux kind, in [`FluxKind`] order.
pub static KINDS_OF_FLUX: &[KindFacts] = &[
    KindFacts {
        source_refs: &[
            SourceRefField {
                path: &["spec", "chart", "spec", "sourceRef"],
                field: "spec.chart.spec.sourceRef",
                allowed: CHART_SOURCES,
                default_kind: None,
                cross_namespace: true,
            },
            SourceRefField {
                path: &["spec", "chartRef"],
                field: "spec.chartRef",
                allowed: CHART_REF_SOURCES,
                default_kind: None,
                cross_namespace: true,
            },
        ],
        ..facts(
            F::HelmRelease,
            "HelmRelease",
            "helm.toolkit.fluxcd.io",
            false,
        )
    },
    KindFacts {
        source_refs: &[SourceRefField {
            path: &["spec", "sourceRef"],
            field: "spec.sourceRef",
            allowed: KUSTOMIZATION_SOURCES,
            default_kind: None,
            cross_namespace: true,
        }],
        ..facts(
            F::Kustomization,
            "Kustomization",
            "kustomize.toolkit.fluxcd.io",
            false,
        )
    },
    facts(
        F::GitRepository,
        "GitRepository",
        "source.toolkit.fluxcd.io",
        true,
    ),
    facts(
        F::OCIRepository,
        "OCIRepository",
        "source.toolkit.fluxcd.io",
        true,
    ),
    facts(
        F::HelmRepository,
        "HelmRepository",
        "source.toolkit.fluxcd.io",
        true,
    ),
    KindFacts {
        source_refs: &[SourceRefField {
            path: &["spec", "sourceRef"],
            field: "spec.sourceRef",
            allowed: CHART_SOURCES,
            default_kind: None,
            cross_namespace: false,
        }],
        ..facts(F::HelmChart, "HelmChart", "source.toolkit.fluxcd.io", true)
    },
    facts(F::Bucket, "Bucket", "source.toolkit.fluxcd.io", true),
    facts(
        F::ExternalArtifact,
        "ExternalArtifact",
        "source.toolkit.fluxcd.io",
        true,
    ),
    facts(F::Alert, "Alert", "notification.toolkit.fluxcd.io", false),
    facts(
        F::Provider,
        "Provider",
        "notification.toolkit.fluxcd.io",
        false,
    ),
    facts(
        F::Receiver,
        "Receiver",
        "notification.toolkit.fluxcd.io",
        false,
    ),
    facts(
        F::ImageRepository,
        "ImageRepository",
        "image.toolkit.fluxcd.io",
        false,
    ),
    facts(
        F::ImagePolicy,
        "ImagePolicy",
        "image.toolkit.fluxcd.io",
        false,
    ),
    KindFacts {
        source_refs: &[SourceRefField {
            path: &["spec", "sourceRef"],
            field: "spec.sourceRef",
            allowed: &[F::GitRepository],
            default_kind: Some(F::GitRepository),
            cross_namespace: true,
        }],
        ..facts(
            F::ImageUpdateAutomation,
            "ImageUpdateAutomation",
            "image.toolkit.fluxcd.io",
            false,
        )
    },
    facts(
        F::ArtifactGenerator,
        "ArtifactGenerator",
        "source.extensions.fluxcd.io",
        false,
    ),
    facts(
        F::FluxInstance,
        "FluxInstance",
        "fluxcd.controlplane.io",
        false,
    ),
    facts(
        F::ResourceSet,
        "ResourceSet",
        "fluxcd.controlplane.io",
        false,
    ),
];

impl FluxKind {
    pub fn facts(self) -> &'static KindFacts {
        &KINDS_OF_FLUX[self as usize]
    }

    /// The kind as written in `kind:`.
    pub fn name(self) -> &'static str {
        self.facts().name
    }

    /// The API group.
    pub fn group(self) -> &'static str {
        self.facts().group
    }

    /// Whether a `sourceRef` may name this kind.
    pub fn is_source(self) -> bool {
        self.facts().source
    }

    /// The kinds a `sourceRef` may name (what `external_sources` may declare), in table order.
    pub fn sources() -> impl Iterator<Item = FluxKind> {
        KINDS_OF_FLUX.iter().filter(|f| f.source).map(|f| f.kind)
    }

    /// The Flux kind of this name, whatever the group.
    pub fn from_name(name: &str) -> Option<FluxKind> {
        KINDS_OF_FLUX
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.kind)
    }

    /// The Flux kind of an object: its name and its group both Flux's.
    pub fn of(group: &str, kind: &str) -> Option<FluxKind> {
        FluxKind::from_name(kind).filter(|k| k.group() == group)
    }

    /// As [`FluxKind::of`], from an `apiVersion` (`<group>/<version>`: the group is what
    /// comes before the first `/`; a version alone is the core group, never Flux's).
    pub fn of_api_version(api_version: &str, kind: &str) -> Option<FluxKind> {
        let (group, _) = api_version.split_once('/')?;
        FluxKind::of(group, kind)
    }
}

impl std::fmt::Display for FluxKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The kinds a kustomization file declares (kustomize.config.k8s.io): not Flux's Kustomization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KustomizeKind {
    Kustomization,
    Component,
}

impl KustomizeKind {
    pub const GROUP: &'static str = "kustomize.config.k8s.io";

    pub fn name(self) -> &'static str {
        match self {
            KustomizeKind::Kustomization => "Kustomization",
            KustomizeKind::Component => "Component",
        }
    }

    pub fn from_name(name: &str) -> Option<KustomizeKind> {
        [KustomizeKind::Kustomization, KustomizeKind::Component]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// The Kubernetes built-in kinds fluxvet itself reasons about, with their group (`""`, the core
/// group, for most).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreKind {
    ConfigMap,
    Secret,
    Namespace,
    ServiceAccount,
    CustomResourceDefinition,
}

impl CoreKind {
    pub fn name(self) -> &'static str {
        match self {
            CoreKind::ConfigMap => "ConfigMap",
            CoreKind::Secret => "Secret",
            CoreKind::Namespace => "Namespace",
            CoreKind::ServiceAccount => "ServiceAccount",
            CoreKind::CustomResourceDefinition => "CustomResourceDefinition",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            CoreKind::CustomResourceDefinition => "apiextensions.k8s.io",
            _ => "",
        }
    }

    /// The built-in kind of this name, whatever the group.
    pub fn from_name(name: &str) -> Option<CoreKind> {
        [
            CoreKind::ConfigMap,
            CoreKind::Secret,
            CoreKind::Namespace,
            CoreKind::ServiceAccount,
            CoreKind::CustomResourceDefinition,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }

    /// Whether an object of `group` and `kind` is this kind.
    pub fn is(self, group: &str, kind: &str) -> bool {
        kind == self.name() && group == self.group()
    }
}

/// Something that names a kind: a [`FluxKind`], a [`CoreKind`] or the text of `kind:`.
pub trait KindName {
    fn kind_name(&self) -> &str;
}

impl KindName for FluxKind {
    fn kind_name(&self) -> &str {
        self.name()
    }
}

impl KindName for CoreKind {
    fn kind_name(&self) -> &str {
        self.name()
    }
}

impl KindName for &str {
    fn kind_name(&self) -> &str {
        self
    }
}

impl KindName for &String {
    fn kind_name(&self) -> &str {
        self.as_str()
    }
}

/// An API group of the toolkit with the versions Flux serves and those it removed.
pub struct Group {
    pub name: &'static str,
    pub kinds: &'static [FluxKind],
    pub served: &'static [&'static str],
    /// `(version, Flux release that removed it)`.
    pub removed: &'static [(&'static str, &'static str)],
}

pub static GROUPS: &[Group] = &[
    Group {
        name: "helm.toolkit.fluxcd.io",
        kinds: &[F::HelmRelease],
        served: &["v2"],
        removed: &[("v2beta1", "2.7"), ("v2beta2", "2.8")],
    },
    Group {
        name: "kustomize.toolkit.fluxcd.io",
        kinds: &[F::Kustomization],
        served: &["v1"],
        removed: &[("v1beta1", "2.7"), ("v1beta2", "2.8")],
    },
    Group {
        name: "source.toolkit.fluxcd.io",
        kinds: &[
            F::GitRepository,
            F::OCIRepository,
            F::HelmRepository,
            F::HelmChart,
            F::Bucket,
            F::ExternalArtifact,
        ],
        served: &["v1"],
        removed: &[("v1beta1", "2.7"), ("v1beta2", "2.8")],
    },
    Group {
        name: "notification.toolkit.fluxcd.io",
        kinds: &[F::Alert, F::Provider, F::Receiver],
        served: &["v1", "v1beta3"],
        removed: &[("v1beta1", "2.7"), ("v1beta2", "2.9")],
    },
    Group {
        name: "image.toolkit.fluxcd.io",
        kinds: &[F::ImageRepository, F::ImagePolicy, F::ImageUpdateAutomation],
        served: &["v1"],
        removed: &[("v1beta1", "2.7"), ("v1beta2", "2.9")],
    },
];

/// A removed apiVersion and where to go instead.
pub struct Removed {
    pub group: &'static Group,
    pub version: &'static str,
    pub release: &'static str,
}

impl Removed {
    /// The apiVersion `flux migrate` rewrites this kind to.
    pub fn replacement(&self, kind: &str) -> String {
        let version = match (self.group.name, FluxKind::from_name(kind)) {
            // Alert and Provider stay in v1beta3; only Receiver went GA as v1.
            ("notification.toolkit.fluxcd.io", Some(F::Alert | F::Provider)) => "v1beta3",
            _ => self.group.served[0],
        };
        format!("{}/{}", self.group.name, version)
    }
}

pub fn group(name: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.name == name)
}

/// `Some` when `api_version` is a toolkit version that Flux no longer serves.
pub fn removed(api_version: &str) -> Option<Removed> {
    let (g, v) = api_version.trim().rsplit_once('/')?;
    let group = group(g)?;
    let &(version, release) = group.removed.iter().find(|(rv, _)| *rv == v)?;
    Some(Removed {
        group,
        version,
        release,
    })
}

/// A field the API server requires.
pub enum Required {
    /// Required whenever its parent mapping exists.
    Field(&'static [&'static str]),
    /// Exactly one of the two must be set (a CEL rule on the parent).
    ExactlyOne(&'static [&'static str], &'static [&'static str]),
}

/// How a duration field is validated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DurationUnits {
    /// `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
    UpToHours,
    /// `^([0-9]+(\.[0-9]+)?(ms|s|m))+$`: sources' `spec.timeout`.
    UpToMinutes,
}

pub struct Enum {
    pub path: &'static [&'static str],
    pub values: &'static [&'static str],
}

pub struct UrlField {
    pub path: &'static [&'static str],
    pub schemes: &'static [&'static str],
}

pub struct MaxLen {
    pub path: &'static [&'static str],
    pub max: usize,
}

/// The checked part of one kind's OpenAPI schema.
pub struct KindSchema {
    pub group: &'static str,
    pub kind: &'static str,
    pub required: &'static [Required],
    pub durations: &'static [(&'static [&'static str], DurationUnits)],
    pub enums: &'static [Enum],
    pub urls: &'static [UrlField],
    pub max_len: &'static [MaxLen],
}

use DurationUnits::{UpToHours, UpToMinutes};

pub static KINDS: &[KindSchema] = &[
    KindSchema {
        group: "kustomize.toolkit.fluxcd.io",
        kind: "Kustomization",
        required: &[
            Required::Field(&["spec", "interval"]),
            Required::Field(&["spec", "prune"]),
            Required::Field(&["spec", "sourceRef"]),
            Required::Field(&["spec", "sourceRef", "kind"]),
            Required::Field(&["spec", "sourceRef", "name"]),
            Required::Field(&["spec", "decryption", "provider"]),
        ],
        durations: &[
            (&["spec", "interval"], UpToHours),
            (&["spec", "retryInterval"], UpToHours),
            (&["spec", "timeout"], UpToHours),
        ],
        enums: &[
            Enum {
                path: &["spec", "decryption", "provider"],
                values: &["sops"],
            },
            Enum {
                path: &["spec", "postBuild", "substituteFrom", "[]", "kind"],
                values: &["Secret", "ConfigMap"],
            },
        ],
        urls: &[],
        max_len: &[MaxLen {
            path: &["spec", "targetNamespace"],
            max: 63,
        }],
    },
    KindSchema {
        group: "helm.toolkit.fluxcd.io",
        kind: "HelmRelease",
        required: &[
            Required::Field(&["spec", "interval"]),
            Required::ExactlyOne(&["spec", "chart"], &["spec", "chartRef"]),
            Required::Field(&["spec", "chart", "spec"]),
            Required::Field(&["spec", "chart", "spec", "chart"]),
            Required::Field(&["spec", "chart", "spec", "sourceRef"]),
            Required::Field(&["spec", "chart", "spec", "sourceRef", "name"]),
            Required::Field(&["spec", "chartRef", "kind"]),
            Required::Field(&["spec", "chartRef", "name"]),
        ],
        durations: &[
            (&["spec", "interval"], UpToHours),
            (&["spec", "timeout"], UpToHours),
            (&["spec", "chart", "spec", "interval"], UpToHours),
            (&["spec", "install", "timeout"], UpToHours),
            (&["spec", "upgrade", "timeout"], UpToHours),
            (&["spec", "test", "timeout"], UpToHours),
            (&["spec", "rollback", "timeout"], UpToHours),
            (&["spec", "uninstall", "timeout"], UpToHours),
        ],
        enums: &[
            Enum {
                path: &["spec", "upgrade", "remediation", "strategy"],
                values: &["rollback", "uninstall"],
            },
            Enum {
                path: &["spec", "install", "crds"],
                values: &["Skip", "Create", "CreateReplace"],
            },
            Enum {
                path: &["spec", "upgrade", "crds"],
                values: &["Skip", "Create", "CreateReplace"],
            },
            Enum {
                path: &["spec", "chart", "spec", "reconcileStrategy"],
                values: &["ChartVersion", "Revision"],
            },
            Enum {
                path: &["spec", "chart", "spec", "verify", "provider"],
                values: &["cosign", "notation"],
            },
            Enum {
                path: &["spec", "driftDetection", "mode"],
                values: &["enabled", "warn", "disabled"],
            },
            Enum {
                path: &["spec", "uninstall", "deletionPropagation"],
                values: &["background", "foreground", "orphan"],
            },
            Enum {
                path: &["spec", "valuesFrom", "[]", "kind"],
                values: &["Secret", "ConfigMap"],
            },
        ],
        urls: &[],
        max_len: &[
            MaxLen {
                path: &["spec", "releaseName"],
                max: 53,
            },
            MaxLen {
                path: &["spec", "targetNamespace"],
                max: 63,
            },
            MaxLen {
                path: &["spec", "storageNamespace"],
                max: 63,
            },
        ],
    },
    KindSchema {
        group: "source.toolkit.fluxcd.io",
        kind: "GitRepository",
        required: &[
            Required::Field(&["spec", "interval"]),
            Required::Field(&["spec", "url"]),
        ],
        durations: &[
            (&["spec", "interval"], UpToHours),
            (&["spec", "timeout"], UpToMinutes),
        ],
        enums: &[Enum {
            path: &["spec", "verify", "mode"],
            values: &["head", "HEAD", "Tag", "TagAndHEAD"],
        }],
        urls: &[UrlField {
            path: &["spec", "url"],
            schemes: &["http", "https", "ssh"],
        }],
        max_len: &[],
    },
    KindSchema {
        group: "source.toolkit.fluxcd.io",
        kind: "OCIRepository",
        required: &[
            Required::Field(&["spec", "interval"]),
            Required::Field(&["spec", "url"]),
        ],
        durations: &[
            (&["spec", "interval"], UpToHours),
            (&["spec", "timeout"], UpToMinutes),
        ],
        enums: &[
            Enum {
                path: &["spec", "provider"],
                values: &["generic", "aws", "azure", "gcp"],
            },
            Enum {
                path: &["spec", "layerSelector", "operation"],
                values: &["extract", "copy"],
            },
        ],
        urls: &[UrlField {
            path: &["spec", "url"],
            schemes: &["oci"],
        }],
        max_len: &[],
    },
    KindSchema {
        group: "source.toolkit.fluxcd.io",
        kind: "HelmRepository",
        required: &[Required::Field(&["spec", "url"])],
        durations: &[
            (&["spec", "interval"], UpToHours),
            (&["spec", "timeout"], UpToMinutes),
        ],
        enums: &[
            Enum {
                path: &["spec", "type"],
                values: &["default", "oci"],
            },
            Enum {
                path: &["spec", "provider"],
                values: &["generic", "aws", "azure", "gcp"],
            },
        ],
        urls: &[UrlField {
            path: &["spec", "url"],
            schemes: &["http", "https", "oci"],
        }],
        max_len: &[],
    },
    KindSchema {
        group: "source.toolkit.fluxcd.io",
        kind: "HelmChart",
        required: &[
            Required::Field(&["spec", "chart"]),
            Required::Field(&["spec", "interval"]),
            Required::Field(&["spec", "sourceRef"]),
            Required::Field(&["spec", "sourceRef", "kind"]),
            Required::Field(&["spec", "sourceRef", "name"]),
        ],
        durations: &[(&["spec", "interval"], UpToHours)],
        enums: &[Enum {
            path: &["spec", "reconcileStrategy"],
            values: &["ChartVersion", "Revision"],
        }],
        urls: &[],
        max_len: &[],
    },
    KindSchema {
        group: "source.toolkit.fluxcd.io",
        kind: "Bucket",
        required: &[
            Required::Field(&["spec", "bucketName"]),
            Required::Field(&["spec", "endpoint"]),
            Required::Field(&["spec", "interval"]),
        ],
        durations: &[
            (&["spec", "interval"], UpToHours),
            (&["spec", "timeout"], UpToMinutes),
        ],
        enums: &[Enum {
            path: &["spec", "provider"],
            values: &["generic", "aws", "gcp", "azure"],
        }],
        urls: &[],
        max_len: &[],
    },
];

/// The schema of a toolkit kind, whatever the version (removed versions are FV501's business;
/// the checked fields did not change between them).
pub fn schema(api_version: &str, kind: &str) -> Option<&'static KindSchema> {
    let group = api_version.rsplit_once('/').map(|(g, _)| g)?;
    KINDS.iter().find(|k| k.group == group && k.kind == kind)
}

/// Whether `v` matches the duration pattern of `units`.
pub fn is_valid_duration(v: &str, units: DurationUnits) -> bool {
    let b = v.as_bytes();
    let mut i = 0;
    if b.is_empty() {
        return false;
    }
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let frac = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == frac {
                return false;
            }
        }
        let rest = &b[i..];
        if rest.starts_with(b"ms") {
            i += 2;
        } else if rest.starts_with(b"s")
            || rest.starts_with(b"m")
            || (rest.starts_with(b"h") && units == UpToHours)
        {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// A value the files cannot judge: post-build substitution fills it in later.
pub fn is_substituted(v: &str) -> bool {
    v.contains("${")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for ok in ["5m", "1h30m", "0.5s", "100ms", "1h0m0s", "10m0s", "60s"] {
            assert!(is_valid_duration(ok, UpToHours), "{ok}");
        }
        for bad in [
            "", "5", "5 m", "5M", "1d", "m", "1.m", "-5m", "5m ", "1.5.5s",
        ] {
            assert!(!is_valid_duration(bad, UpToHours), "{bad}");
        }
        assert!(!is_valid_duration("1h", UpToMinutes));
        assert!(is_valid_duration("90m", UpToMinutes));
    }

    #[test]
    fn removed_versions() {
        let r = removed("helm.toolkit.fluxcd.io/v2beta1").unwrap();
        assert_eq!(r.release, "2.7");
        assert_eq!(r.replacement("HelmRelease"), "helm.toolkit.fluxcd.io/v2");
        let r = removed("notification.toolkit.fluxcd.io/v1beta2").unwrap();
        assert_eq!(r.release, "2.9");
        assert_eq!(
            r.replacement("Alert"),
            "notification.toolkit.fluxcd.io/v1beta3"
        );
        assert!(removed("helm.toolkit.fluxcd.io/v2").is_none());
        assert!(removed("kustomize.config.k8s.io/v1beta1").is_none());
    }

    #[test]
    fn every_kind_is_in_its_group() {
        for k in KINDS {
            let g = group(k.group).unwrap();
            let kind = FluxKind::of(k.group, k.kind).unwrap();
            assert!(g.kinds.contains(&kind), "{}", k.kind);
        }
        for g in GROUPS {
            for k in g.kinds {
                assert_eq!(k.group(), g.name, "{k:?}");
            }
        }
    }

    #[test]
    fn the_kind_table_is_in_enum_order() {
        for (i, f) in KINDS_OF_FLUX.iter().enumerate() {
            assert_eq!(f.kind as usize, i, "{}", f.name);
            assert_eq!(format!("{:?}", f.kind), f.name);
            assert_eq!(FluxKind::from_name(f.name), Some(f.kind));
        }
        assert_eq!(
            FluxKind::of("kustomize.config.k8s.io", "Kustomization"),
            None
        );
        assert_eq!(
            FluxKind::of("kustomize.toolkit.fluxcd.io", "Kustomization"),
            Some(FluxKind::Kustomization)
        );
    }
}
