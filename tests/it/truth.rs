//! Issue 16, "truth on real repositories": one fixture pair per class of false (or missed)
//! finding seen on real repositories, under `fixtures/truth/<class>/{fires,quiet}`. `fires`
//! must give exactly the findings listed (code, file, line, column); `quiet` must give none of
//! the class's codes.

use std::path::PathBuf;

use fluxvet::diag::{Diagnostic, Severity};
use fluxvet::engine::{CheckOptions, Outcome, Trees, check};

use crate::support::checkout;

type Finding = (String, String, usize, usize);

/// A check of `fixtures/truth/<case>`, as `fluxvet check` runs it.
fn outcome(case: &str) -> Outcome {
    let dir: PathBuf = checkout().join("fixtures/truth").join(case);
    check(&CheckOptions {
        paths: vec![dir.clone()],
        trees: Trees::RulesNeed,
        ..CheckOptions::default()
    })
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// The (line, column) where finding `d` of `outcome` starts.
fn line_col(outcome: &Outcome, d: &Diagnostic) -> (usize, usize) {
    let lc = outcome.repo.files[d.file].line_col(d.span.start as usize);
    (lc.line, lc.column)
}

/// `(code, file, line, column)` of every finding of `codes` on `fixtures/truth/<case>`.
fn findings(case: &str, codes: &[&str]) -> Vec<Finding> {
    let outcome = outcome(case);
    outcome
        .diagnostics
        .iter()
        .filter(|d| codes.contains(&d.rule.code))
        .map(|d| {
            let (line, column) = line_col(&outcome, d);
            let file = outcome.repo.files[d.file].path.to_string();
            (d.rule.code.to_string(), file, line, column)
        })
        .collect()
}

/// The messages of every `code` finding on `fixtures/truth/<case>`.
fn messages(case: &str, code: &str) -> Vec<String> {
    outcome(case)
        .diagnostics
        .iter()
        .filter(|d| d.rule.code == code)
        .map(|d| d.message.clone())
        .collect()
}

/// The line, column and severity of every `code` finding on `fixtures/truth/<case>`, in
/// report order.
fn severities(case: &str, code: &str) -> Vec<(usize, usize, Severity)> {
    let outcome = outcome(case);
    outcome
        .diagnostics
        .iter()
        .filter(|d| d.rule.code == code)
        .map(|d| {
            let (line, column) = line_col(&outcome, d);
            (line, column, d.severity)
        })
        .collect()
}

fn f(code: &str, file: &str, line: usize, column: usize) -> Finding {
    (code.to_string(), file.to_string(), line, column)
}

fn assert_quiet(case: &str, codes: &[&str]) {
    let found = findings(&format!("{case}/quiet"), codes);
    assert!(found.is_empty(), "{case}/quiet: {found:?}");
}

/// A class's fixture pair: `fires` gives exactly `expected` of `codes`, `quiet` none of them.
fn assert_class(case: &str, codes: &[&str], expected: Vec<Finding>) {
    assert_eq!(
        findings(&format!("{case}/fires"), codes),
        expected,
        "{case}/fires"
    );
    assert_quiet(case, codes);
}

/// Class 1: a chart's `templates/` are Go templates, never parsed; `Chart.yaml` and
/// `values*.yaml` are Helm's files, not Kubernetes objects. A values file that does not parse
/// and a real manifest beside the chart are still judged.
#[test]
fn helm_chart_files() {
    let codes = ["FV101", "FV102", "FV103", "FV104"];
    assert_class(
        "helm-chart-files",
        &codes,
        vec![
            f("FV103", "charts/configmap.yaml", 4, 3),
            f("FV101", "charts/podinfo/values.yaml", 2, 14),
        ],
    );
}

/// Class 2: FV101 fires exactly when go-yaml v3 rejects: a quoted scalar continued at the
/// key's indentation is accepted; an unclosed one or an unknown escape is not.
#[test]
fn yaml_quoted_continuation() {
    assert_class(
        "yaml-quoted-continuation",
        &["FV101"],
        vec![
            f("FV101", "configmap.yaml", 6, 16),
            f("FV101", "escape.yaml", 6, 9),
        ],
    );
}

/// Class 7: FV104 is go-yaml v3's reading where a string is expected; `yes`/`on`/`off` and
/// `1:20` are strings.
#[test]
fn ambiguous_scalar() {
    assert_class(
        "ambiguous-scalar",
        &["FV104"],
        vec![
            f("FV104", "deployment.yaml", 6, 32),
            f("FV104", "deployment.yaml", 7, 13),
            f("FV104", "deployment.yaml", 22, 22),
            f("FV104", "release.yaml", 16, 12),
        ],
    );
}

/// Class 11: placeholders and public material are not secrets; a PEM private key in any
/// manifest is (`archive/` is hidden from Flux by `.sourceignore`: a leak all the same), and
/// `data` that is not base64 is an error of its own.
#[test]
fn plaintext_secret() {
    assert_class(
        "plaintext-secret",
        &["FV601"],
        vec![
            f("FV601", "apps/deploy-key.yaml", 7, 5),
            f("FV601", "apps/secret.yaml", 6, 3),
            f("FV601", "apps/secret.yaml", 7, 3),
            f("FV601", "archive/tls.yaml", 8, 5),
        ],
    );
}

/// Class 9: the repository's own sync source as an OCI artifact follows a tag by design; an
/// OCIRepository of someone else's artifact on `tag: main` is still reported.
#[test]
fn own_oci_source() {
    assert_class(
        "own-oci-source",
        &["FV205"],
        vec![f("FV205", "kubernetes/clusters/prod/sync.yaml", 35, 10)],
    );
}

/// Class 10: FV304 holds a repository to the canonical order only where its config adopted
/// one (`order:`); FV303, an edge against the order, stays on by default.
#[test]
fn chain_gap_order() {
    assert_eq!(
        findings("chain-gap-order/fires", &["FV303", "FV304"]),
        vec![f("FV304", "infrastructure/monitoring.yaml", 4, 9)]
    );
    assert_eq!(
        findings("chain-gap-order/quiet", &["FV303", "FV304"]),
        vec![f("FV303", "infrastructure/keycloak.yaml", 14, 13)]
    );
}

/// Class 6: a kustomization file's `namespace:` overrides the `metadata.namespace` of every
/// object it includes, through nested directories: dependsOn resolves where the objects land,
/// and an entry naming the namespace from before the override is a finding whose help names
/// the namespace the target lands in.
#[test]
fn kustomize_namespace() {
    assert_class(
        "kustomize-namespace",
        &["FV301"],
        vec![
            f("FV301", "apps/podinfo/release.yaml", 12, 13),
            f("FV301", "apps/podinfo/release.yaml", 14, 13),
        ],
    );
}

/// Missed defect: a removed Flux apiVersion inside an object reference (a Receiver's
/// `spec.resources[]`, an Alert's `eventSources[]`) is reported; chart values are not references.
#[test]
fn removed_api_reference() {
    assert_class(
        "removed-api-reference",
        &["FV501"],
        vec![
            f("FV501", "receiver.yaml", 14, 19),
            f("FV501", "receiver.yaml", 28, 19),
        ],
    );
}

/// Class 5: a `patches` entry with a `target` takes the target's apiVersion and kind; the
/// patch document's own removed apiVersion never reaches the cluster. Without a target
/// (`patchesStrategicMerge`), its own apiVersion is what kustomize matches on.
#[test]
fn targeted_patch() {
    assert_class(
        "targeted-patch",
        &["FV501"],
        vec![f("FV501", "production/values.yaml", 3, 13)],
    );
}

/// Missed defect: a bare string under `patches:` (kustomize v5 rejects it) fails the build of
/// the path a cluster applies; `- path: FILE` builds.
#[test]
fn bare_string_patch() {
    assert_class(
        "bare-string-patch",
        &["FV405"],
        vec![f("FV405", "apps/kustomization.yaml", 7, 5)],
    );
}

/// Class 8: decryption a parent Kustomization's `spec.patches` add counts, also for a child
/// whose file sits outside the parent's path (`shared/cache/ks.yaml`), because the child is
/// judged as the parent's build renders it. The patch selects children by label: the
/// unlabelled `cache` does not decrypt, and its Secret fires (the text of the patch says
/// `decryption` all the same, which is all the earlier heuristic read).
#[test]
fn decryption_parent_patches() {
    assert_class(
        "decryption-parent-patches",
        &["FV602"],
        vec![f("FV602", "shared/cache/app/secret.sops.yaml", 7, 1)],
    );
}

/// FV502 on what each cluster applies: a base HelmRelease without `interval` is complete where
/// an overlay's patch sets it, and a finding, at the base's `spec`, where another cluster's
/// overlay applies it without (the patch heuristic excused it because some patch sets it).
/// The patch file itself is a fragment, never judged as an object.
#[test]
fn required_field_rendered() {
    assert_class(
        "required-field-rendered",
        &["FV502"],
        vec![f("FV502", "apps/base/release.yaml", 6, 1)],
    );
}

/// Missed defect: a Flux Kustomization `spec.path` (FV403) or a kustomization entry (FV404)
/// that exists in Git but that source-controller leaves out of the artifact: by a
/// `.sourceignore` line, or by the source's `spec.ignore`. The finding names that line and
/// labels it. Quiet: ignored files nothing names, a `spec.ignore` that excludes elsewhere, and
/// a `.png` the defaults would drop, kept because a `.sourceignore` replaces the defaults.
#[test]
fn sourceignored_path() {
    assert_class(
        "sourceignored-path",
        &["FV403", "FV404"],
        vec![
            f("FV404", "apps/kustomization.yaml", 5, 5),
            f("FV404", "apps/kustomization.yaml", 6, 5),
            f("FV403", "clusters/production/apps.yaml", 21, 9),
        ],
    );
}

/// Class 3 on repositories without `flux-system/gotk-sync.yaml`: the entry is a source and the
/// Kustomization syncing it, defined in one file its own path holds (applied once by hand,
/// as k8s-at-home's template does). With it found, an archived app nothing applies gets one
/// info FV105 instead of an FV401 for its source and an FV404 for its kustomization file.
#[test]
fn sync_pair_cluster() {
    let codes = ["FV105", "FV401", "FV404"];
    assert_class(
        "sync-pair-cluster",
        &codes,
        vec![f("FV105", "archive/redis/helmrelease.yaml", 4, 9)],
    );
}

/// Class 3: a child Kustomization's `spec.path` naming a variable of its applier's post-build
/// substitution (`./apps/${CLUSTER}/networking`, `CLUSTER` from the cluster's ConfigMap) is
/// the substituted path: what it names is applied, not "applied by no cluster". With the
/// variable naming a directory that does not exist, the file is indeed applied by nothing.
#[test]
fn substituted_path() {
    assert_class(
        "substituted-path",
        &["FV105"],
        vec![f("FV105", "apps/production/networking/pool.yaml", 4, 9)],
    );
}

/// Class 2, another place saphyr is stricter than go-yaml v3: a flow sequence whose items or
/// closing bracket sit at (or under) the key's indentation (carpenike/k8s-gitops writes
/// container `args: [` … `]` so). go-yaml checks no indentation inside a flow collection, so
/// Flux applies the file; one never closed is still FV101.
#[test]
fn yaml_flow_indentation() {
    assert_class(
        "yaml-flow-indentation",
        &["FV101"],
        vec![f("FV101", "deployment.yaml", 19, 17)],
    );
}

/// FV502 in a repository where no cluster is found (xunholy/k8s-gitops: the sync is set in a
/// Helm values file): the parent Kustomization reads an OCI artifact pushed from `kubernetes/`,
/// so the model cannot build the children as the parent renders them, and the parent's
/// `spec.patches` set every child's `interval` and `prune`. A field some patch sets is
/// excused there; without the patch the child fires, at its `spec`.
#[test]
fn parent_patches_without_cluster() {
    assert_class(
        "parent-patches-without-cluster",
        &["FV502"],
        vec![
            f("FV502", "kubernetes/apps/base/web/ks.yaml", 6, 1),
            f("FV502", "kubernetes/apps/base/web/ks.yaml", 6, 1),
        ],
    );
}

/// A hidden directory under a path Flux generates the kustomization for: fluxcd/pkg's
/// `scanManifests` walks hidden entries too (only what source-controller's artifact leaves out,
/// `.git/`, `.github/`, `.sops.yaml` and the like, is not there), so Flux applies
/// `apps/.archive/old-web.yaml`. fluxvet reads no hidden file: a render gap at the
/// Kustomization's path, never a silent build without it. Hidden entries Flux does not apply
/// (the artifact's exclusions, no YAML) stay quiet.
#[test]
fn hidden_generated() {
    assert_class(
        "hidden-generated",
        &["FV406"],
        vec![f("FV406", "clusters/production/apps.yaml", 8, 9)],
    );
}

/// A checkout holding the repository Flux syncs in a sub-directory (a sample of several
/// repositories: aws-samples/eks-multi-cluster-gitops keeps `repos/gitops-system`, bootstrapped
/// with `path: ./clusters/mgmt`): the sync's path is found under `repos/platform`, and so are
/// the paths of the Kustomizations reading the same source. Resolved from the checkout's root,
/// they named nothing: a dependency defined under one of them was "not found" (FV301) and its
/// files "applied by no cluster" (FV105). A dependency that is really missing still fires.
#[test]
fn sub_repository_root() {
    let codes = ["FV105", "FV301", "FV403"];
    assert_class(
        "sub-repository-root",
        &codes,
        vec![f(
            "FV301",
            "repos/platform/clusters/production/infrastructure.yaml",
            21,
            13,
        )],
    );
}

/// A GitRepository other than the sync source that fetches the same repository at the same
/// ref (damacus/home-ops: a FluxInstance syncs `https://github.com/damacus/home-ops.git` at
/// `refs/heads/main`, and every app's Kustomization reads the `home-kubernetes` GitRepository
/// of the first bootstrap, `https://github.com/damacus/home-ops` on branch `main`) reads this
/// repository: its Kustomizations are built and what they apply is applied. They were a render
/// gap (FV406, 82 infos there) and their files "applied by no cluster" (FV105, 232 more).
/// The same repository on another branch is another content: still a gap.
#[test]
fn same_repository_source() {
    let codes = ["FV105", "FV406"];
    assert_class(
        "same-repository-source",
        &codes,
        vec![
            f("FV105", "kubernetes/apps/web/app/configmap.yaml", 4, 9),
            f("FV406", "kubernetes/apps/web/ks.yaml", 12, 11),
        ],
    );
}

/// JJGadgets/Biohazard: the cluster's sync Kustomization gives every child its `sourceRef`
/// (and `interval`, `prune`) through `spec.patches` selected by a label; the children name
/// no source. The walk reads each child as its applier's patches render it, so their paths are
/// applied (about 370 files were "applied by no cluster"); a child the selector leaves out has
/// no source and is not followed.
#[test]
fn parent_patched_source() {
    assert_eq!(
        findings("parent-patched-source/fires", &["FV105"]),
        vec![f("FV105", "web/deployment.yaml", 4, 9)]
    );
    assert_quiet("parent-patched-source", &["FV105", "FV502"]);
}

/// A source is found as the builds apply it: JJGadgets/Biohazard names the chart's
/// OCIRepository `${CHART_NAME:=app-template}` in a component each app's Kustomization
/// includes with its own `CHART_NAME`; h3mmy/bloopySphere's shared OCIRepository lands in each
/// namespace whose kustomization includes its component. A reference nothing applies still
/// fires.
#[test]
fn rendered_source() {
    assert_class(
        "rendered-source",
        &["FV401"],
        vec![
            f("FV401", "apps/sites/docs/helmrelease.yaml", 9, 11),
            f("FV401", "apps/web/helmrelease.yaml", 9, 11),
        ],
    );
}

/// JJGadgets/Biohazard: a file holding a child Kustomization has a document that is not YAML,
/// so Flux builds none of it. The child used to be judged as written, without the variables
/// its parent's patch gives it (FV408); only FV101 stands. The file without the error is
/// judged as applied.
#[test]
fn broken_file_substitution() {
    assert_eq!(
        findings("broken-file-substitution/fires", &["FV101", "FV408"]),
        vec![f("FV408", "web/configmap.yaml", 7, 16)]
    );
    assert_eq!(
        findings("broken-file-substitution/quiet", &["FV101", "FV408"]),
        vec![f("FV101", "apps/ks.yaml", 16, 13)]
    );
}

/// haraldkoch/kochhaus-home: each namespace's kustomization includes a component holding the
/// `cluster-secrets` a child's `substituteFrom` reads; kustomize puts it in that namespace
/// whatever its file says, so its keys are the child's variables (12 false FV408 read only an
/// unapplied copy's keys). A variable neither defines still fires.
#[test]
fn component_namespace() {
    assert_class(
        "component-namespace",
        &["FV408"],
        vec![f("FV408", "apps/web/app/configmap.yaml", 6, 13)],
    );
}

/// kashalls/home-cluster (onedr0p's cluster-template layout): the Flux Operator is installed
/// with the `flux-instance` chart, its values in a file the release's kustomization turns into
/// the `valuesFrom` ConfigMap, and the sync names its source `home-kubernetes`
/// (`instance.sync.name`). No cluster was found and every Kustomization reading that source was
/// FV401 (83). Without `sync.name` the operator names the source after the namespace, and a
/// reference to `home-kubernetes` fails.
#[test]
fn flux_instance_values() {
    assert_eq!(
        findings("flux-instance-values/fires", &["FV401"]),
        vec![f("FV401", "kubernetes/flux/cluster/ks.yaml", 15, 11)]
    );
    assert_quiet("flux-instance-values", &["FV401", "FV105"]);
}

/// aws-samples/eks-multi-cluster-gitops keeps each Git repository of its fleet in a
/// sub-directory of one checkout: `repos/gitops-system/clusters/mgmt/flux-system` syncs
/// `./clusters/mgmt`, so `repos/gitops-system` is the source's root and every `spec.path` of that
/// source is relative to it (2 false FV301 on Kustomizations defined there, and the files they
/// apply were "applied by no cluster"). The root is taken only when the bootstrap directory
/// ends with the synced path, or its parent with the path's parent (a template's copy,
/// `clusters/template` for `./clusters/cluster-name`): a path that matches neither
/// (`./environments/production` synced from `clusters/prod`) keeps the files unapplied.
#[test]
fn nested_repository() {
    assert_eq!(
        findings("nested-repository/fires", &["FV105"]),
        vec![
            f("FV105", "repos/fleet/apps/configmap.yaml", 4, 9),
            f("FV105", "repos/fleet/infra/config.yaml", 4, 9),
            f("FV105", "repos/fleet/infra/config/namespace.yaml", 4, 9),
        ]
    );
    assert_quiet("nested-repository", &["FV105", "FV301"]);
}

/// JJGadgets/Biohazard: a dependency's document is not YAML (an alias to an undefined anchor),
/// so its object cannot be read; an entry naming it was "not found" (2 FV301 beside the true
/// FV101). A name no file defines still fires.
#[test]
fn broken_dependency() {
    assert_eq!(
        findings("broken-dependency/fires", &["FV101", "FV301"]),
        vec![
            f("FV101", "apps/ks.yaml", 19, 13),
            f("FV301", "apps/ks.yaml", 29, 13),
        ]
    );
    assert_eq!(
        findings("broken-dependency/quiet", &["FV101", "FV301"]),
        vec![f("FV101", "apps/ks.yaml", 19, 13)]
    );
}

/// A Flux Kustomization left out of the kustomization of a directory a cluster builds (an app
/// retired by commenting out its `ks.yaml`: gavinmcfall/home-ops, carpenike/k8s-gitops,
/// h3mmy/bloopySphere) is applied by nothing; it used to be taken for a root applied by hand,
/// so what it names was judged as if applied, without its parent's patches: 15 false FV408
/// on gavinmcfall's retired apps, FV501, FV401 and FV404 errors elsewhere. Its files are now
/// "applied by no cluster" (FV105, info). Listed again, the app fires.
#[test]
fn retired_app() {
    assert_eq!(
        findings("retired-app/fires", &["FV408", "FV105"]),
        vec![f("FV408", "apps/old/app/configmap.yaml", 7, 23)]
    );
    assert_eq!(
        findings("retired-app/quiet", &["FV408", "FV105"]),
        vec![
            f("FV105", "apps/old/app/configmap.yaml", 4, 9),
            f("FV105", "apps/old/ks.yaml", 4, 9),
        ]
    );
}

/// A Secret whose values name secrets in a secret store, replaced by a tool before it is
/// applied (Aviator-Coding/home-ops: vals' `ref+op://…` under `data`; shelken/home-ops:
/// `azure://vault/secret/key` under `stringData`), leaks nothing and is not rejected for bad
/// base64: 4 false FV601 there. A password in a URI, or `data` that is not base64, still fires.
#[test]
fn secret_store_reference() {
    assert_class(
        "secret-store-reference",
        &["FV601"],
        vec![
            f("FV601", "bootstrap/secrets.yaml", 7, 3),
            f("FV601", "bootstrap/secrets.yaml", 15, 3),
        ],
    );
}

/// The embedded Gateway API schemas are the standard channel; a cluster running the
/// experimental channel (sholdee/home-ops installs `tcproutes` and `listenersets` with it) accepts
/// an HTTPRoute rule's `sessionPersistence`, so a field the standard channel lacks is not
/// reported: which channel a cluster runs is rarely in Git. A value of the wrong type still is.
#[test]
fn gateway_experimental() {
    assert_class(
        "gateway-experimental",
        &["FV505"],
        vec![f("FV505", "apps/httproute.yaml", 15, 17)],
    );
}

/// A child Kustomization whose `sourceRef` its parent's `spec.patches` replace (sob/home-ops:
/// apps name `home-kubernetes`, and `cluster-apps` gives every child `sourceRef: flux-system`)
/// reads the patched source: the name in its file is never read by Flux (7 false FV401 there).
/// A patch that selects another child leaves the reference as written, and it fires.
#[test]
fn parent_replaced_source() {
    assert_eq!(
        findings("parent-replaced-source/fires", &["FV401"]),
        vec![f("FV401", "apps/web/ks.yaml", 12, 11)]
    );
    assert_quiet("parent-replaced-source", &["FV401", "FV105"]);
}

/// A `substituteFrom` Secret that is not in Git may still exist in the cluster, `optional` or
/// not (deedee-ops/home-ops: the OIDC provider's operator writes `paperless-ngx-oidc-credentials`
/// with `OAUTH_CLIENT_ID`): the variables it may hold are not known, so none is called
/// undefined (2 false FV408 there). Without that `substituteFrom`, the variable has no value and
/// fires.
#[test]
fn optional_substitute_from() {
    assert_class(
        "optional-substitute-from",
        &["FV408"],
        vec![f("FV408", "apps/web/secret.yaml", 7, 14)],
    );
}

/// truth4: a CustomResourceDefinition's schema of a `labels` or `annotations` property
/// (`maxProperties: 8`, Gateway API's `infrastructure`) is a JSON schema, not label values;
/// the CRD's own label `1.10` still is one.
#[test]
fn crd_schema_labels() {
    assert_class(
        "crd-schema-labels",
        &["FV104"],
        vec![f("FV104", "crd.yaml", 6, 21)],
    );
}

/// truth4: a `.sourceignore` in a directory that holds no manifest (`assets/`, keeping
/// `!logo.png` for a configMapGenerator) is read like any other, so it replaces
/// source-controller's default exclusions; without it the `.png` is still left out.
#[test]
fn nested_sourceignore() {
    assert_class(
        "nested-sourceignore",
        &["FV404"],
        vec![f("FV404", "apps/kustomization.yaml", 7, 18)],
    );
}

/// truth4: the `kustomize-mutating-webhook` chart installs an admission webhook that adds the
/// keys of its ConfigMaps and Secrets to `postBuild.substitute` of every Flux Kustomization:
/// the variables are set at admission, not in Git, so an undefined one is not judged. The
/// same release of another chart leaves FV408 judging.
#[test]
fn variable_webhook() {
    assert_class(
        "variable-webhook",
        &["FV408"],
        vec![f("FV408", "apps/web/app/configmap.yaml", 6, 16)],
    );
}

/// truth4: a Flux Kustomization commented out of a kustomization file a cluster reconciles
/// (`apps/kustomization.yaml` listing `./podinfo/ks.yaml`, not `./kiali/ks.yaml`) was left out
/// on purpose, not applied by hand: what it would apply gets FV105, not the errors of a tree
/// Flux never reconciles. One outside every reconciled tree (`bootstrap/`) is still a root
/// applied by hand, its tree judged.
#[test]
fn commented_out_kustomization() {
    let codes = ["FV105", "FV301"];
    assert_eq!(
        findings("commented-out-kustomization/fires", &codes),
        vec![
            f("FV301", "apps/kiali/app/helmrelease.yaml", 9, 13),
            f("FV105", "bootstrap/kiali.yaml", 4, 9),
        ]
    );
    assert_quiet("commented-out-kustomization", &["FV301"]);
}

/// truth4: an env `value` in a HelmRelease's chart values is the chart's to render: bjw-s'
/// app-template prints `true` and `5432` as the strings written, so only a value whose text
/// changes however the chart renders it (`1.10` becomes `1.1`) is reported; a Deployment's
/// own `value: true` still is.
#[test]
fn chart_env_value() {
    assert_class(
        "chart-env-value",
        &["FV104"],
        vec![
            f("FV104", "deployment.yaml", 19, 22),
            f("FV104", "release.yaml", 21, 24),
        ],
    );
}

/// soerenschneider/k8s-gitops: a CRD marks `memorizeReleases` required and gives it
/// `default: true`; the API server fills the default in before it checks `required`, so an
/// object without it is accepted (7 false FV505). A required field without a default still
/// fires.
#[test]
fn required_field_default() {
    assert_class(
        "required-field-default",
        &["FV505"],
        vec![f("FV505", "apps/repository.yaml", 6, 1)],
    );
}

/// allenporter/k8s-gitops: the cluster's `gotk-components.yaml` holds no `flux install`
/// header but an OCIRepository of `flux-manifests` at `v2.4.0` and the Kustomization applying
/// it: the cluster runs Flux 2.4.0, which still serves `v1beta2` and `v2beta2` (38 FV501 said
/// "the API server rejects"). The finding stays, with the consequence for the version it runs;
/// a tag that no longer serves it still says the API server rejects it.
#[test]
fn flux_manifests_version() {
    let message = |case: &str| {
        let found = messages(&format!("flux-manifests-version/{case}"), "FV501");
        assert_eq!(found.len(), 1, "{case}: {found:?}");
        found[0].clone()
    };
    for case in ["fires", "quiet"] {
        assert_eq!(
            findings(&format!("flux-manifests-version/{case}"), &["FV501"]),
            vec![f("FV501", "clusters/prod/apps/repository.yaml", 1, 13)]
        );
    }
    // Its tag is a release that no longer serves the version: the consequence is certain.
    assert!(
        message("fires").ends_with(
            "removed in Flux 2.8: the API server rejects HelmRepository and the Kustomization applying it fails"
        ),
        "{}",
        message("fires")
    );
    assert!(
        message("quiet").ends_with(
            "cluster prod runs Flux v2.4.0, which still serves it, but it blocks the upgrade to Flux 2.8"
        ),
        "{}",
        message("quiet")
    );
}

/// allenporter/k8s-gitops: `apiversion:` in a kustomization file. kustomize decodes the file
/// with `encoding/json`, which matches keys to fields ignoring case, so the build reads it (2
/// false FV406 "unknown kustomization field"); `Resources:` lists files as `resources:` does.
/// A key that is no field in any case (`resource:`) is still reported, and its entry is not
/// applied.
#[test]
fn kustomization_key_case() {
    assert_class(
        "kustomization-key-case",
        &["FV105", "FV406"],
        vec![
            f("FV105", "clusters/prod/configmap.yaml", 4, 9),
            f("FV406", "clusters/prod/kustomization.yaml", 7, 3),
        ],
    );
}

/// angelnu/k8s-gitops: clusters `prod` and `test` each apply a `cluster-settings` ConfigMap
/// through a child Kustomization, and a shared child's path is `./apps/secret/${CLUSTER_NAME}`.
/// The walk read the variable before it had reached the cluster's own ConfigMap (its
/// Kustomization comes later in the walk), took the other cluster's value, and reported
/// `secret/prod` as applied by no cluster. A `${VAR}` path is now resolved once the rest of
/// the cluster is walked. A directory no cluster names still fires.
#[test]
fn substitution_order() {
    assert_class(
        "substitution-order",
        &["FV105"],
        vec![f("FV105", "apps/secret/staging/configmap.yaml", 4, 9)],
    );
}

/// tvories/k8s-gitops: `archive/cluster/base/flux-system` syncs `./cluster/base` of this
/// repository, branch `main`; its directory ends with that path, so it was read as another
/// repository rooted at `archive/`, and 69 errors were reported on archived files. Sources in
/// `k8s/clusters/*` fetch the same repository at the same ref and read it from this root: the
/// files moved, the old path is not here, and the old bootstrap applies nothing (its files are
/// applied by no cluster). When the other source is another repository, the directory above is
/// still taken as the nested repository's root, and FV403 resolves `spec.path` from it too (it
/// reported the sync's own `./cluster/base` missing): a path missing there still fires.
#[test]
fn moved_bootstrap() {
    let sync = "archive/cluster/base/flux-system/gotk-sync.yaml";
    assert_class(
        "moved-bootstrap",
        &["FV403", "FV501"],
        vec![
            f("FV403", "archive/cluster/base/apps.yaml", 8, 9),
            f("FV501", sync, 1, 13),
            f("FV501", sync, 12, 13),
        ],
    );
    // Reported at the sync Kustomization the file holds, not at its GitRepository.
    assert_eq!(
        findings("moved-bootstrap/quiet", &["FV105"])[0],
        f(
            "FV105",
            "archive/cluster/base/flux-system/gotk-sync.yaml",
            15,
            9
        )
    );
}

/// ryan-mcd/gitops-home-cluster: `archive/cluster/base/flux-system` syncs `./cluster/base` of
/// this repository, branch `main`, and the live cluster is a FluxInstance whose `sync` fetches
/// the same repository at `refs/heads/main` from this root (no GitRepository of it in the
/// files): the old bootstrap was read as another repository rooted at `archive/`, with 71
/// FV501 on archived files "that cluster base runs". It applies nothing now, as
/// `moved_bootstrap`'s does; when the instance syncs another repository, the archive is still
/// a nested repository and its missing path and removed versions still fire.
#[test]
fn moved_bootstrap_instance() {
    let sync = "archive/cluster/base/flux-system/gotk-sync.yaml";
    assert_class(
        "moved-bootstrap-instance",
        &["FV403", "FV501"],
        vec![
            f("FV403", "archive/cluster/base/apps.yaml", 8, 9),
            f("FV501", sync, 1, 13),
            f("FV501", sync, 12, 13),
        ],
    );
    assert_eq!(
        findings("moved-bootstrap-instance/quiet", &["FV105"])[0],
        f("FV105", "archive/cluster/base/apps.yaml", 4, 9)
    );
}

/// FV101 on a flow collection closed at its key's indentation with a comment inside
/// (Ramblurr/home-ops: `args: [` … `# "--dry-run",` … `]`). go-yaml v3 allows comments in a
/// flow collection and checks no indentation there: the comment is blanked with the joined
/// lines. One never closed is still FV101.
#[test]
fn yaml_flow_comment() {
    assert_class(
        "yaml-flow-comment",
        &["FV101"],
        vec![f("FV101", "helmrelease.yaml", 22, 19)],
    );
}

/// FV601 on a regular expression matching a PEM header (soulwhisper/home-ops: an
/// OpenTelemetry redaction processor's `"-----BEGIN [A-Z ]*PRIVATE KEY-----"`): a PEM label
/// is words of capitals, so the pattern is no key; a real key beside it still is.
#[test]
fn pem_pattern() {
    assert_class(
        "pem-pattern",
        &["FV601"],
        vec![f("FV601", "configmap.yaml", 9, 5)],
    );
}

/// FV601 on a comment naming a PEM header (alexrf45/home-ops: longhorn's values, "key should
/// start with -----BEGIN RSA PRIVATE KEY-----"): with no END line the "body" ran to the end of
/// the file. A header is a key only when its END comes before the next BEGIN; a real key
/// after such a comment is still reported.
#[test]
fn pem_comment() {
    assert_class(
        "pem-comment",
        &["FV601"],
        vec![f("FV601", "configmap.yaml", 10, 5)],
    );
}

/// FV104 on `true` under a chart value named `…Labels` that is a map of switches
/// (coolguy1771/home-ops: k8s-monitoring's `nodeLabels: {region: true}`). The chart decides
/// what such a map is; numbers that are not label strings and real labels still fire.
#[test]
fn chart_switch_labels() {
    assert_class(
        "chart-switch-labels",
        &["FV104"],
        vec![
            f("FV104", "helmrelease.yaml", 9, 13),
            f("FV104", "helmrelease.yaml", 22, 16),
            f("FV104", "helmrelease.yaml", 25, 14),
        ],
    );
}

/// An alias used as a key with no space before its `:` (`*app:`, bjw-s' app-template
/// controllers: rafaribe/home-ops, tyzbit/fleet-infra): go-yaml v3 ends an alias name at the
/// `:`, saphyr read `app:` as the name and reported an unknown anchor (FV101), losing the file
/// to every other rule. The anchor and its aliases are read with a name one character shorter
/// (same length, every span kept). An alias of an anchor that does not exist still fires.
#[test]
fn yaml_alias_key() {
    assert_class(
        "yaml-alias-key",
        &["FV101"],
        vec![f("FV101", "helmrelease.yaml", 15, 7)],
    );
}

/// FV601 on a Secret whose values are instructions (geoffdavis/talos-gitops: a manual setup
/// Secret with `REPLACE_WITH_AUTHENTIK_CLIENT_SECRET`): a value in words starting with
/// "replace" is a placeholder. A real value beside one is still reported, at its own key.
#[test]
fn replace_placeholder() {
    assert_class(
        "replace-placeholder",
        &["FV601"],
        vec![f("FV601", "secret.yaml", 10, 3)],
    );
}

/// FV405 on an untargeted patch of an object a remote resource holds (j0sh3rs/home-ops:
/// Gateway API's release bundle with its ValidatingAdmissionPolicy deleted): fluxvet does not
/// fetch the remote file, so the patch's target may be there. A kustomization whose own
/// objects are all read (a base beside a remote sibling) still fails on such a patch.
#[test]
fn remote_resource_patch() {
    assert_class(
        "remote-resource-patch",
        &["FV405"],
        vec![f("FV405", "apps/base/kustomization.yaml", 6, 5)],
    );
}

/// FV405 on `replicas:` and a replacement source naming Deployments a remote base holds
/// (huangyingting/flux2-gitops: emojivoto's Deployments read from its repository, scaled to
/// zero in staging; 4 errors): fluxvet does not fetch the remote base, so the workloads may be
/// there. With every object read, both still fail, as `kubectl kustomize` does.
#[test]
fn remote_resource_replicas() {
    assert_class(
        "remote-resource-replicas",
        &["FV405"],
        vec![
            f("FV405", "apps/kustomization.yaml", 9, 12),
            f("FV405", "apps/kustomization.yaml", 11, 5),
        ],
    );
}

/// FV101 on a block scalar whose header is alone on the line after its key, at the key's
/// column (mthorley/k8s-gitops: `mosquitto.conf:` then `|`): go-yaml v3, as libyaml, reads it
/// as the key's value (kustomize builds the ConfigMap); saphyr rejected it. A header left of
/// its key is still an error for both.
#[test]
fn yaml_block_header() {
    assert_class(
        "yaml-block-header",
        &["FV101"],
        vec![f("FV101", "configmap.yaml", 12, 1)],
    );
}

/// FV104 on `tag: null` in a chart's values (Matcham89/home-cluster: grafana's tempo chart
/// ships `tempoQuery.tag: null`): Helm drops a `null` key when it merges the values with the
/// chart's own, so the chart's default tag applies; no string is meant. A tag the chart prints
/// differently (`2.10`) and a `null` label value still fire.
#[test]
fn chart_tag_null() {
    assert_class(
        "chart-tag-null",
        &["FV104"],
        vec![
            f("FV104", "helmrelease.yaml", 9, 14),
            f("FV104", "helmrelease.yaml", 23, 12),
        ],
    );
}

/// FV408 on variables of a `substituteFrom` Secret that an ExternalSecret writes
/// (larivierec/home-cluster: `cluster-secrets` with `SECRET_EMAIL` from 1Password; a SOPS
/// Secret of that name, applied by no Kustomization, held other keys): the Secret's keys come
/// from the store, so they are not known. An ExternalSecret writing another Secret
/// (`target.name`) leaves the Git Secret's keys as the only ones, and the variable fires.
#[test]
fn external_secret_substitution() {
    assert_class(
        "external-secret-substitution",
        &["FV408"],
        vec![f("FV408", "apps/issuers/issuer.yaml", 7, 13)],
    );
}

/// FV206 on a GitRepository that fetches this repository at the branch its cluster syncs
/// (mrwulf/home-cluster: a tofu-controller Terraform's source, beside the FluxInstance's
/// sync of `refs/heads/main`): it follows the branch by design, as the sync source does.
/// The same repository at another branch still fires.
#[test]
fn same_repository_git_ref() {
    assert_class(
        "same-repository-git-ref",
        &["FV206"],
        vec![f(
            "FV206",
            "kubernetes/apps/tofu/gitrepository.yaml",
            11,
            13,
        )],
    );
}

/// FV601 on chart defaults that are no secret (mthorley/k8s-gitops: minecraft's RCON password
/// `CHANGEME!`, grafana-mcp's API key `-`): a placeholder word with a closing `!` and a value
/// of only separators are placeholders. A real password beside one still fires, at its key.
#[test]
fn placeholder_punctuation() {
    assert_class(
        "placeholder-punctuation",
        &["FV601"],
        vec![f("FV601", "secret.yaml", 10, 3)],
    );
}

/// FV601 on stand-ins that tell the reader what to put there (sbaker5/k3s-flux's Tailscale
/// `TS_AUTHKEY: "[PLACEHOLDER-GENERATE-NEW-KEY]"`; openCenter-gitops-base's Longhorn
/// `CRYPTO_KEY_VALUE: "Your encryption passphrase"`). A real key beside one still fires.
#[test]
fn bracketed_placeholder() {
    assert_class(
        "bracketed-placeholder",
        &["FV601"],
        vec![f("FV601", "secret.yaml", 10, 3)],
    );
}

/// FV405 "defined twice" on copies of one Namespace that a `transformers:` plugin renames
/// (d4rkfella/home-ops: every app directory lists a `.invalid` Namespace and a builtin
/// NamespaceTransformer that names it after the directory's namespace; 31 errors). fluxvet does
/// not run such transformers, so ids a kustomization with `transformers` produces are not
/// compared; a duplicate among its own resources, which kustomize refuses before any
/// transformer runs, still fires. The transformer configuration, listed by the kustomization
/// that `transformers: [../../../transformers]` names, was FV105 "applied by no cluster": it
/// is read, as configuration; a file beside it that nothing lists still is FV105.
#[test]
fn transformer_renamed_ids() {
    assert_class(
        "transformer-renamed-ids",
        &["FV105", "FV405"],
        vec![
            f("FV405", "apps/alpha/kustomization.yaml", 4, 5),
            f("FV105", "transformers/unused.yaml", 5, 9),
        ],
    );
}

/// A FluxInstance shared by several clusters whose `sync.path` is `${FLUX_PATH}`, which each
/// cluster's `cluster-settings` sets (aclerici38/home-ops: clusters `home` and `cloud` were not
/// found, and their 618 files were FV105 "applied by no cluster"). Each directory the
/// repository gives the variable is a cluster; a file none of them applies is still FV105.
#[test]
fn variable_sync_path() {
    assert_class(
        "variable-sync-path",
        &["FV105"],
        vec![f("FV105", "apps/c/configmap.yaml", 4, 9)],
    );
}

/// FV408 in a cluster whose `substituteFrom` ConfigMap a kustomization generates from an env
/// file, while another cluster writes its ConfigMap of the same name (aclerici38/home-ops:
/// 32 FV408 in `home`, whose `cluster-settings` comes from `globals.env`): only the written
/// one was read. The generated one's keys count too; a variable neither defines still fires.
#[test]
fn generated_substitution() {
    assert_class(
        "generated-substitution",
        &["FV408"],
        vec![f("FV408", "apps/b/configmap.yaml", 9, 8)],
    );
}

/// A sync Kustomization applied once by hand (`kubernetes/ks.yaml`, path `./kubernetes`) whose
/// GitRepository is defined below its path, in another file (AlinaNova21/home-ops: no cluster
/// was found, so every file was judged, and apps commented out of their kustomizations got an
/// FV301 and an FV401 saying Flux never applies them). It is a cluster's entry, as a source and
/// Kustomization in one file are; what it does not apply is FV105, and a dependency of an
/// applied app on a Kustomization that does not exist still fires.
#[test]
fn sync_source_below() {
    let codes = ["FV105", "FV301"];
    assert_eq!(
        findings("sync-source-below/fires", &codes),
        vec![
            f("FV105", "kubernetes/apps/memos/app/configmap.yaml", 4, 9),
            f("FV105", "kubernetes/apps/memos/ks.yaml", 4, 9),
            f("FV301", "kubernetes/apps/web/ks.yaml", 14, 13),
            f("FV105", "kubernetes/ks.yaml", 5, 9),
        ]
    );
    assert_eq!(
        findings("sync-source-below/quiet", &["FV301"]),
        Vec::<Finding>::new()
    );
}

/// FV505 on a hostname built by substitution from a SOPS-encrypted Secret's value
/// (bykaj/home-ops: `${APP_DOMAIN:=${APP_SUBDOMAIN:=${APP}}.${DOMAIN_APP}}`, read as
/// `goldilocks.ENC[AES256_GCM,…]`, "does not match the pattern"): kustomize-controller decrypts
/// the Secret, so the cluster sees the real domain. A variable alone was skipped; one inside
/// another's default, beside written text, was judged as ciphertext. A value with ciphertext
/// anywhere in it is now unknown; a substituted hostname that is wrong in its written part still
/// fires.
#[test]
fn sops_substituted_value() {
    assert_class(
        "sops-substituted-value",
        &["FV505"],
        vec![f("FV505", "apps/web/httproute.yaml", 8, 7)],
    );
}

/// FV401 "defined as a ConfigMap: set `kind: ConfigMap`" on a HelmRelease that takes values
/// from both the ConfigMap and the Secret of one name (rtrox/home-cluster: loki's
/// `bucket-loki`, which a Rook ObjectBucketClaim's provisioner writes as both kinds). An
/// ObjectBucketClaim defines both, and a name asked for as both kinds is meant as both; a
/// Secret asked for where only a ConfigMap of that name exists still fires.
#[test]
fn object_bucket_values() {
    assert_class(
        "object-bucket-values",
        &["FV401"],
        vec![f("FV401", "thanos.yaml", 28, 13)],
    );
}

/// FV101 on a chart's `files/` (samcday/home-cluster: `cluster-bootstrap.yaml`, which the
/// chart's template renders with `tpl ($.Files.Get "files/cluster-bootstrap.yaml") $`): it is
/// a Go template the chart reads, not YAML, as its `templates/` are; it is still searched for
/// private keys. The same file outside a chart still fires.
#[test]
fn chart_files_template() {
    assert_eq!(
        findings("chart-files-template/fires", &["FV101"]),
        vec![f("FV101", "bootstrap/files/bootstrap.yaml", 7, 3)]
    );
    // Not read as YAML, but still searched for private keys.
    assert_eq!(
        findings("chart-files-template/fires", &["FV601"]),
        vec![f("FV601", "charts/gateway/files/tls.yaml", 3, 3)]
    );
    assert_quiet("chart-files-template", &["FV101", "FV103", "FV105"]);
}

/// FV206 on a GitRepository of this repository over HTTPS at the branch its cluster syncs over
/// SSH (samcday/home-cluster: `https://github.com/…/home-cluster.git` beside the sync's
/// `ssh://git@github.com:22/…/home-cluster.git`, both at `main`): the port in the ssh URL
/// made them two repositories. A port now picks a server, not a repository; the same
/// repository at another branch still fires.
#[test]
fn same_repository_port() {
    assert_class(
        "same-repository-port",
        &["FV206"],
        vec![f("FV206", "cluster/flux-system/root.yaml", 36, 13)],
    );
}

/// FV401 on a child Kustomization whose `sourceRef` leaves out the namespace that its parent's
/// `spec.patches` sets on every child (imerkle/home-ops: `cluster-apps` patches
/// `sourceRef.namespace: flux-system` onto all Kustomizations; the four in `dev-system` were
/// read as looking there). The reference is read as applied; a patch that sets a namespace
/// holding no such source still fires.
#[test]
fn patched_source_namespace() {
    assert_class(
        "patched-source-namespace",
        &["FV401"],
        vec![f("FV401", "apps/ks.yaml", 11, 11)],
    );
}

/// FV301 on a dependency whose name post-build substitution completes (imerkle/home-ops: each
/// app's Kustomization includes a `volsync` component whose HelmRelease is `${APP}-volsync`,
/// and `zot` depends on `zot-volsync`). The clusters' builds render it under that name; a
/// dependency no build renders still fires.
#[test]
fn substituted_dependency() {
    assert_class(
        "substituted-dependency",
        &["FV301"],
        vec![f("FV301", "apps/web/app/helmrelease.yaml", 8, 13)],
    );
}

/// FV206 on an app's own repository that an ImageUpdateAutomation bumps (fobiat/home-ops:
/// `cairn` on `main`, where the automation pushes its image tag commits): the cluster follows
/// that branch to take them, by design. An automation pushing to another branch leaves the
/// finding.
#[test]
fn image_automation_branch() {
    assert_class(
        "image-automation-branch",
        &["FV206"],
        vec![f("FV206", "apps/repository.yaml", 12, 13)],
    );
}

/// FV101 "UTF-16 ... fluxvet reads UTF-8 only" and FV401 on every Kustomization of a GitRepository
/// defined in a UTF-16 file (p-lago/lag0-fleet-infra: an editor saved `git-repository.yaml` as
/// UTF-16 with a byte order mark; 2 FV101 and 14 FV401). kustomize reads such a file (go-yaml
/// decodes UTF-16 after the mark; `kubectl kustomize` builds it), so fluxvet does too. A source
/// defined nowhere is still reported.
#[test]
fn utf16_source() {
    let codes = ["FV101", "FV401"];
    assert_class(
        "utf16-source",
        &codes,
        vec![f("FV401", "clusters/pi/metrics-server.yaml", 13, 11)],
    );
}

/// FV103 on a Score workload specification (JamesAtIntegratnIO/gitops_homelab_2_0's
/// `score.yaml`: `apiVersion: score.dev/v1b1` and `metadata`, and no kind by design), which
/// nothing applies: outside what kustomize loads, only an apiVersion of Kubernetes' form
/// (`v1`, `apps/v1`, `x.io/v1beta2`) says a document means to be a Kubernetes object. A
/// Deployment that lost its kind still fires.
#[test]
fn tool_spec_api_version() {
    assert_class(
        "tool-spec-api-version",
        &["FV103"],
        vec![f("FV103", "deployment.yaml", 2, 13)],
    );
}

/// FV202 "cannot tell statically" on a chart version every cluster substitutes with an exact
/// version (jesse-gonzalez/nai-llm-fleet-infra: `version: ${cert_manager_version}` from each
/// cluster's `cluster-configs` ConfigMap; 12 infos). What each cluster substitutes decides: pinned
/// everywhere is quiet, and a cluster that substitutes a range is an error naming that cluster
/// (not the one substituting an exact version: each build reads its own cluster's ConfigMap of
/// that name, where the builds used to read whichever cluster's came last).
#[test]
fn substituted_chart_version() {
    assert_class(
        "substituted-chart-version",
        &["FV202"],
        vec![f("FV202", "platform/cert-manager/release.yaml", 11, 16)],
    );
    let fires = crate::support::checkout().join("fixtures/truth/substituted-chart-version/fires");
    for (cluster, version) in [("dev", "v1.3.0"), ("prod", "1.13.x")] {
        let out = crate::support::fluxvet(&fires, &["build", "--cluster", cluster]);
        let yaml = String::from_utf8_lossy(&out.stdout);
        assert!(
            yaml.contains(&format!("version: {version}\n")),
            "{cluster}: {yaml}"
        );
    }
    let out = crate::support::fluxvet(&fires, &["check", ".", "--format", "short"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "is `1.13.x` after post-build substitution in cluster prod: Flux reads it as a range"
        ),
        "{text}"
    );
}

/// FV601 on stand-ins that tell the reader what to put there (brunovlucena/homelab's
/// `change-me-in-production` and `https://hooks.slack.com/services/CHANGE_ME`,
/// TheBranchDriftCatalyst/talos-homelab's `your-api-key-here`, jmuchovej/homelab's `@agekey@`
/// that a Nix step substitutes). A stand-in word followed by more words, an address to the
/// reader, a URL ending in a stand-in and `@name@` are placeholders; a word run together with
/// digits and a webhook URL with its token still fire, at their keys.
#[test]
fn instruction_placeholder() {
    assert_class(
        "instruction-placeholder",
        &["FV601"],
        vec![
            f("FV601", "secret.yaml", 11, 3),
            f("FV601", "secret.yaml", 21, 3),
        ],
    );
}

/// FV104 on `null` in a HelmRelease's values (petebeegle/homelab: the intel GPU plugin's
/// `nodeSelector: {intel.feature.node.kubernetes.io/gpu: null}`): Helm deletes a key whose
/// user value is null from the chart's defaults, so null is meant. A boolean label value in
/// the values and a null label in a manifest still fire.
#[test]
fn chart_null_value() {
    assert_class(
        "chart-null-value",
        &["FV104"],
        vec![
            f("FV104", "release.yaml", 21, 25),
            f("FV104", "release.yaml", 30, 43),
        ],
    );
}

/// A FluxInstance syncing an OCI artifact from `path: ./` (duynhlab/homelab: the artifact is
/// pushed from `kubernetes/clusters/local`, whose kustomization lists the instance's
/// `flux-system`): the cluster is that directory, not the repository's root, which made 20
/// false FV103 on docker-compose and Grafana provisioning files. An OCIRepository the
/// cluster's Kustomizations read at two paths that one directory here holds
/// (`./controllers`, `./configs` below `kubernetes/infra`) is read from there; one read only
/// at its root stays unread (FV406). A file the cluster does not list is still FV105, and a
/// range in the pushed directory still FV202.
#[test]
fn oci_instance_root() {
    let codes = ["FV103", "FV105", "FV202", "FV406"];
    assert_class(
        "oci-instance-root",
        &codes,
        vec![
            f("FV406", "kubernetes/clusters/local/apps.yaml", 24, 11),
            f("FV105", "kubernetes/clusters/local/extra.yaml", 5, 9),
            f(
                "FV202",
                "kubernetes/infra/controllers/metrics-server.yaml",
                12,
                16,
            ),
        ],
    );
}

/// FV202 and FV401 on a HelmRelease that every cluster holding it deletes with `$patch: delete`
/// (vikbaranov/flux-gitops: the homelab cluster takes a shared bundle and deletes mattermost
/// and istiod; `kubectl kustomize` leaves them out too). Flux never applies such an object, so
/// the findings that judge it as applied are left out, on it and on the bundle's patch aimed at
/// it; without the deletion they fire.
#[test]
fn deleted_by_patch() {
    let codes = ["FV202", "FV401"];
    assert_class(
        "deleted-by-patch",
        &codes,
        vec![
            f("FV202", "apps/base/mattermost/helm-release.yaml", 11, 16),
            f("FV202", "apps/bundles/stable/stable.yaml", 10, 16),
            f("FV401", "apps/bundles/stable/stable.yaml", 13, 15),
        ],
    );
}

/// FV601 on a Secret whose values are `$AWS_ACCESS_KEY_ID` and `$AWS_SECRET_ACCESS_KEY`
/// (govinda777/fleet-infra: the names of the environment variables `envsubst` or a shell puts
/// the keys in): no secret is committed. A value that is not one variable's name in capitals
/// (`$ecretKey2fYq`) may be the secret itself and still fires.
#[test]
fn shell_variable_secret() {
    assert_class(
        "shell-variable-secret",
        &["FV601"],
        vec![f("FV601", "secrets/aws-credentials.yaml", 9, 3)],
    );
}

/// jukatu/fleet-infra: a `gotk-components.yaml` from an early `flux install`, without the
/// `# Flux Version:` header, whose CRDs serve `v1beta1` (8 FV501 said "the API server rejects").
/// The finding stays, with the consequence for what the cluster's own CRD serves; a CRD that
/// no longer serves the version (`served: false`) still says the API server rejects it.
#[test]
fn unversioned_components() {
    let message = |case: &str| {
        let found = messages(&format!("unversioned-components/{case}"), "FV501");
        assert_eq!(found.len(), 1, "{case}: {found:?}");
        found[0].clone()
    };
    for case in ["fires", "quiet"] {
        assert_eq!(
            findings(&format!("unversioned-components/{case}"), &["FV501"]),
            vec![f("FV501", "clusters/staging/podinfo-source.yaml", 1, 13)]
        );
    }
    assert!(message("fires").contains("the API server rejects GitRepository"));
    assert!(
        message("quiet").ends_with(
            "cluster staging applies the CRD of `clusters/staging/flux-system/gotk-components.yaml`, which still serves it, but it blocks the upgrade to Flux 2.7"
        ),
        "{}",
        message("quiet")
    );
}

/// FV105 "Flux never applies its Simple `${K3D_CLUSTER_NAME}`" on kameshsampath/fleet-infra's
/// `cluster.yaml`, the configuration `k3d cluster create -c cluster.yaml` reads: a command-line
/// tool's own file (k3d, kind, eksctl, …) is no manifest for a cluster, so no cluster's build
/// missing it says nothing. A ConfigMap beside it that no build includes still fires.
#[test]
fn tool_config_unapplied() {
    assert_eq!(
        findings("tool-config-unapplied/fires", &["FV105"]),
        vec![f("FV105", "settings.yaml", 5, 9)]
    );
    assert_quiet("tool-config-unapplied", &["FV105", "FV103"]);
}

/// nicholaswilde/home-cluster: `gotk-components.yaml` of Flux v0.12.3, written before `flux
/// install` added its `# Flux Version:` header, labels its objects `app.kubernetes.io/version:
/// v0.12.3`; the version was unknown, so 27 FV501 said "the API server rejects" objects that
/// release still serves. The label now names the version; a components file without it leaves
/// the version unknown, and the message says what happens from that release on.
#[test]
fn flux_components_labels() {
    for case in ["fires", "quiet"] {
        assert_eq!(
            findings(&format!("flux-components-labels/{case}"), &["FV501"]),
            vec![f("FV501", "clusters/prod/apps/release.yaml", 1, 13)]
        );
    }
    assert_eq!(
        messages("flux-components-labels/fires", "FV501"),
        vec![
            "`helm.toolkit.fluxcd.io/v2beta1` was removed in Flux 2.7: from that release on, the API server rejects HelmRelease and the Kustomization applying it fails"
        ]
    );
    assert_eq!(
        messages("flux-components-labels/quiet", "FV501"),
        vec![
            "`helm.toolkit.fluxcd.io/v2beta1` was removed in Flux 2.7: cluster prod runs Flux v0.12.3, which still serves it, but it blocks the upgrade to Flux 2.7"
        ]
    );
}

/// FV405 "cannot be read as YAML" on `.json` resources (samsonnguyen/homelab-flux: `kubeseal`
/// writes SealedSecrets as JSON and `secrets/kustomization.yaml` lists seven; `kubectl
/// kustomize` builds them, JSON being YAML). fluxvet reads only `.yaml` and `.yml` files, so
/// such a resource is a render gap (FV406), not a build error; one that is not there still is.
#[test]
fn json_resource() {
    let codes = ["FV404", "FV405"];
    assert_class(
        "json-resource",
        &codes,
        vec![f("FV404", "secrets/kustomization.yaml", 6, 5)],
    );
}

/// FV101 "comments must be separated from other tokens by whitespace" on vehkiya/homelab-k8s's
/// `protocol: "TCP"# Rule: …`: go-yaml v3 (as libyaml) skips a comment right after a quoted
/// scalar, a flow collection or a block scalar header without asking for a space before it.
/// Text after a quoted scalar that is no comment is still FV101.
#[test]
fn yaml_comment_unseparated() {
    assert_eq!(
        findings("yaml-comment-unseparated/fires", &["FV101"]),
        vec![f("FV101", "networkpolicy.yaml", 13, 26)]
    );
    assert_quiet("yaml-comment-unseparated", &["FV101", "FV103", "FV104"]);
}

/// FV601 on aoshimash/homelab-k8s's template Secret: its `github_app_private_key` is a PEM
/// block cut short (`MIIEpAIBAAKCAQEA...`, `...`), the shape of a key and not one. A value in
/// clear beside it still fires, at its own key.
#[test]
fn pem_elided() {
    assert_class(
        "pem-elided",
        &["FV601"],
        vec![f("FV601", "secret-github-app.yaml", 14, 3)],
    );
}

/// FV505 "`status` lacks the required field `assignedIPv4`" on SparksD2145/flux-infra's MetalLB
/// IPAddressPools, written with `status: {}`: the CRD turns the status subresource on, and the
/// API server then drops the status an object is created or updated with before it validates
/// it. Since Flux 2.2, kustomize-controller removes `status` from every object but a CRD before
/// it applies it (fluxcd/pkg ssa/normalize), so a field the status does not declare is not
/// rejected either (truth18); one the spec does not declare still is.
#[test]
fn status_subresource() {
    assert_class(
        "status-subresource",
        &["FV505"],
        vec![f("FV505", "pool.yaml", 11, 3)],
    );
}

/// FV408 ×150 on elifesciences/elife-flux-cluster: the bootstrap `flux-system` Kustomization's
/// kustomization.yaml patches it with `spec.patches` that give every child Kustomization its
/// `postBuild.substitute` (merged with the child's own). The sync Kustomization applies itself,
/// so Flux runs it as its own build writes it; fluxvet read it as written, without those
/// patches. A variable neither defines still fires.
#[test]
fn self_patched_sync() {
    assert_class(
        "self-patched-sync",
        &["FV408"],
        vec![f("FV408", "apps/configmap.yaml", 10, 12)],
    );
}

/// FV602 on FruitieX/homelab: `clusters/<name>/flux-system/kustomization.yaml` patches the sync
/// Kustomization with `decryption` (and `postBuild`), and the cluster's path does not list
/// `flux-system`: `flux bootstrap` applies the directory's build, patches included, and Flux
/// never applies the Kustomization again. fluxvet read it as written. A patch that gives it
/// `postBuild` without decryption and without a variable the files use still fires both rules.
#[test]
fn bootstrap_dir_patch() {
    let codes = ["FV408", "FV602"];
    assert_class(
        "bootstrap-dir-patch",
        &codes,
        vec![
            f("FV602", "clusters/prod/cluster-secrets.sops.yaml", 8, 1),
            f("FV408", "clusters/prod/settings.yaml", 7, 12),
        ],
    );
    // The sync file the cluster's path does not list is applied only by `flux bootstrap`, and
    // FV105 says so at its Kustomization.
    assert_eq!(
        findings("bootstrap-dir-patch/quiet", &["FV105"]),
        vec![f(
            "FV105",
            "clusters/prod/flux-system/gotk-sync.yaml",
            15,
            9
        )]
    );
    let message = &messages("bootstrap-dir-patch/quiet", "FV105")[0];
    assert!(
        message.contains("holds the sync Kustomization of cluster prod")
            && message.contains("only the bootstrap does, once"),
        "{message}"
    );
}

/// FV505 "the API server rejects the object" ×8 on dazzathewiz/fluxcd's PersistentVolumeClaims
/// written with `spec.persistentVolumeReclaimPolicy` (a PersistentVolume field) and ×1 on
/// EislM0203/fluxcd's StatefulSet with a stray `metadata:` key in its pod template metadata.
/// kustomize-controller converts every object of a built-in kind (client-go's scheme, RBAC
/// Roles and ClusterRoles excepted) to its Go type and back before it applies it
/// (fluxcd/pkg ssa/normalize, Flux 2.2 on): the conversion drops a field the type does not
/// declare, so the object applies without it. Such a field is now a warning that says so. A
/// wrong type (the conversion fails, the API server gets the object as written), an unknown
/// field of a Role (never converted) and one of a claim in a cluster on Flux 2.1 (which
/// converted only Services, Pods, Secrets, workloads and HPAs) are still errors.
#[test]
fn builtin_unknown_field() {
    assert_eq!(
        findings("builtin-unknown-field/fires", &["FV505"]),
        vec![
            f("FV505", "apps-legacy/pvc.yaml", 11, 3),
            f("FV505", "apps/pvc.yaml", 9, 16),
            f("FV505", "apps/role.yaml", 12, 5)
        ]
    );
    assert_eq!(
        severities("builtin-unknown-field/fires", "FV505"),
        vec![
            (11, 3, Severity::Error),
            (9, 16, Severity::Error),
            (12, 5, Severity::Error)
        ]
    );
    assert!(
        messages("builtin-unknown-field/fires", "FV505")
            .iter()
            .all(|m| m.ends_with("the API server rejects the object"))
    );
    assert_eq!(
        findings("builtin-unknown-field/quiet", &["FV505"]),
        vec![f("FV505", "apps/pvc.yaml", 12, 3)]
    );
    assert_eq!(
        severities("builtin-unknown-field/quiet", "FV505"),
        vec![(12, 3, Severity::Warning)]
    );
    let m = messages("builtin-unknown-field/quiet", "FV505");
    assert!(
        m[0].contains("`spec.persistentVolumeReclaimPolicy` is not a field of `spec`")
            && m[0].contains("kustomize-controller drops it before applying"),
        "{m:?}"
    );
}

/// FV505 "lacks the required field `provisioner`: the API server rejects the object" on
/// devopscoop/fluxcd-template's `gp2` StorageClass: a shell manifest annotated
/// `kustomize.toolkit.fluxcd.io/ssa: merge` that only flips the default-class annotation of the
/// StorageClass EKS installs. Flux's FAQ documents this way of patching pre-installed addons:
/// server-side apply merges it into the live object, which has the required fields. The key
/// counts in labels too, in any case (fluxcd/pkg `ssa/utils.AnyInMetadata`). Without the merge
/// value the manifest is the whole object, and a wrong type is rejected either way.
#[test]
fn ssa_merge_shell() {
    assert_class(
        "ssa-merge-shell",
        &["FV505"],
        vec![
            f("FV505", "apps/coredns.yaml", 10, 13),
            f("FV505", "apps/gp2.yaml", 3, 1),
        ],
    );
}

/// FV105 ×114 on Joker9944/k8s-config: the child Flux Kustomizations of a directory set only
/// `name` and `path`; its kustomization.yaml includes a component whose patch gives every
/// Kustomization its `sourceRef`, `interval` and `prune`. Flux applies them as that build
/// renders them; fluxvet followed them as written, found no source and applied nothing below
/// them. A child the component's patch does not select has no source (FV502) and applies
/// nothing.
#[test]
fn kustomize_patched_source_ref() {
    let codes = ["FV105", "FV502"];
    assert_class(
        "kustomize-patched-source-ref",
        &codes,
        vec![
            f("FV105", "apps/base/podinfo/configmap.yaml", 4, 9),
            f("FV502", "apps/prod/sync.yaml", 6, 1),
            f("FV502", "apps/prod/sync.yaml", 6, 1),
            f("FV502", "apps/prod/sync.yaml", 6, 1),
        ],
    );
}

/// FV105 ×668 on shamubernetes/home-k8s: every Flux Kustomization names its source
/// `${KS_GIT_REPO_NAME}` and its namespace `${KS_NAMESPACE}`, which the applier's post-build
/// substitution fills from the cluster's `cluster-settings` ConfigMap. fluxvet compared the
/// names as written, found the source foreign and applied nothing below them; and read the
/// children's `substituteFrom` ConfigMap in namespace `${KS_NAMESPACE}`, so a HelmRelease named
/// `${APP}` kept that name (FV301 on a dependsOn naming it). A setting the cluster does not
/// define still leaves its Kustomization without a source.
#[test]
fn substituted_source_ref() {
    let codes = ["FV105", "FV301", "FV408"];
    assert_class(
        "substituted-source-ref",
        &codes,
        vec![
            f("FV105", "apps/media/library/app/helmrelease.yaml", 4, 9),
            f("FV408", "apps/media/library/ks.yaml", 13, 12),
            f("FV301", "apps/media/player/app/helmrelease.yaml", 8, 13),
        ],
    );
}

/// FV205 (error) on shamubernetes/home-k8s: an OCIRepository, the chart of a HelmRelease,
/// follows `tag: "104"`. kuberhealthy's chart is versioned with bare numbers (`version: 105`
/// in its Chart.yaml); Helm reads that as 105.0.0 and `helm push` tags the chart `105`, so the
/// tag is the exact version, not a moving major tag. Nothing in the files tells the two apart:
/// a chart's bare-number tag is now an info saying so (`quiet` holds no error or warning, only
/// that info). A bare-number tag of manifests (no chart) and a chart's two-part tag still fire
/// as before.
#[test]
fn chart_number_tag() {
    use fluxvet::diag::Severity;
    assert_eq!(
        findings("chart-number-tag/fires", &["FV205"]),
        vec![
            f("FV205", "kuberhealthy.yaml", 11, 10),
            f("FV205", "kuberhealthy.yaml", 33, 10),
            f("FV205", "kuberhealthy.yaml", 44, 10),
        ]
    );
    assert_eq!(
        severities("chart-number-tag/fires", "FV205"),
        vec![
            (11, 10, Severity::Info),
            (33, 10, Severity::Warning),
            (44, 10, Severity::Error),
        ]
    );
    assert_eq!(
        severities("chart-number-tag/quiet", "FV205"),
        vec![(11, 10, Severity::Info)]
    );
}

/// FV505 "`binaryData.logo.jpg` is not valid base64" on ahachmann/datentraum-platform-fluxcd's
/// Keycloak theme ConfigMap: the image is base64 wrapped at 76 columns in a `|` block scalar.
/// The API server decodes `format: byte` with Go's `encoding/base64`, which skips line breaks
/// (as FV601 already read a Secret's `data`); the validator wanted one unbroken line. A
/// character outside the alphabet is still rejected.
#[test]
fn wrapped_base64() {
    assert_class(
        "wrapped-base64",
        &["FV505"],
        vec![f("FV505", "apps/images.yaml", 8, 5)],
    );
}

/// ianache/fluxcd: `qapiVersion:` (a typo) leaves a HelmRepository without apiVersion. FV103
/// said so at its kind, and FV405 again at the document ("has no apiVersion or kind"): two
/// findings for one cause, and the second one false, since kustomize builds an object without
/// apiVersion (`kubectl kustomize` prints it; the apply fails, which FV103 reports). Only a
/// missing kind fails the build now, as in kustomize.
#[test]
fn missing_apiversion_once() {
    let codes = ["FV103", "FV405"];
    assert_class(
        "missing-apiversion-once",
        &codes,
        vec![f("FV103", "apps/repository.yaml", 4, 7)],
    );
}

/// FV205 "OCIRepository `unimportant` has no `ref`: Flux pulls the `latest` tag" on
/// sun-asterisk-research/fluxcd-template's `patch-ocirepository.yaml`, a patch body a component
/// applies to every OCIRepository (it sets `layerSelector`; its name is a placeholder). A patch
/// body sets the fields it holds on its targets, so the ref it leaves out is theirs; the same
/// holds for FV206 on a GitRepository patch body. A moving tag a patch body sets is still
/// reported, at the patch.
#[test]
fn patch_body_ref() {
    let codes = ["FV205", "FV206"];
    assert_class(
        "patch-body-ref",
        &codes,
        vec![f("FV205", "apps/pull-secret.yaml", 10, 10)],
    );
}

/// FV104 on elastic's elasticsearch chart value `persistence.labels.enabled: false`
/// (enesanbar/gitops-flux): `enabled` is Helm's name for a switch, so a chart value's
/// `enabled` boolean is the chart's to judge in any label map, as in a map named `…Labels`.
/// Other booleans and numbers in that `labels` map, and an `enabled` label in the
/// HelmRelease's own metadata, still fire.
#[test]
fn chart_labels_enabled() {
    assert_class(
        "chart-labels-enabled",
        &["FV104"],
        vec![
            f("FV104", "helmrelease.yaml", 9, 14),
            f("FV104", "helmrelease.yaml", 25, 17),
            f("FV104", "helmrelease.yaml", 26, 15),
        ],
    );
}

/// FV408 ×261 in a repository without clusters (hmcts/sds-flux-config): each cluster's
/// kustomization gives its Flux Kustomizations common defaults from a file it uses as a
/// `patches` entry, a Kustomization without `spec.path`. Read as a Kustomization Flux
/// reconciles, it applied the repository's root, where every `${NAMESPACE}` was undefined. A
/// file some kustomization uses as a patch is a fragment: no walk starts from it. The same
/// file listed as a resource still applies the root, and still fires.
#[test]
fn patch_file_kustomization() {
    let codes = ["FV401", "FV408", "FV502"];
    assert_class(
        "patch-file-kustomization",
        &codes,
        vec![
            f("FV408", "apps/admin/serviceaccount/dev.yaml", 4, 9),
            f("FV408", "apps/admin/serviceaccount/dev.yaml", 5, 14),
        ],
    );
}

/// ahachmann/datentraum-platform-fluxcd: a shared template (`base/application-space`) holds a
/// GitRepository `${APPLICATION_NAMESPACE}-platform-fluxcd` of this repository and a
/// Kustomization reading it by that same `${VAR}` name, with a `${KUSTOMIZATION_PATH}` path;
/// each environment's Flux Kustomization builds the template with its own substitution. Routing
/// a child by its substituted source name (truth20's `substituted_source_ref`) found no source
/// of that name, since the source is written with the variables too, and 2 environment files
/// became "applied by no cluster". A `${VAR}` source name that matches a source as written is
/// that source; an environment directory nothing names still fires.
#[test]
fn templated_source_ref() {
    assert_class(
        "templated-source-ref",
        &["FV105"],
        vec![f("FV105", "envs/team-b/settings.yaml", 4, 9)],
    );
}

/// FV602 ×7 on operinko/homeops: `archive/` keeps old copies of the apps' `ks.yaml`, each
/// naming the same path as the live one but without `decryption`. Nothing applies them (FV105),
/// yet each was taken for a root applied by hand and its build judged: its SOPS Secrets "applied
/// without decryption". A Flux Kustomization nothing applies whose path a cluster already
/// builds is now a stale copy, not a root. The live Kustomization without decryption still
/// fires.
#[test]
fn stale_archived_kustomization() {
    let codes = ["FV602"];
    assert_class(
        "stale-archived-kustomization",
        &codes,
        vec![f("FV602", "apps/security/vault/app/secret.sops.yaml", 7, 1)],
    );
}

/// FV408 ×2 on david-driscoll/home-operations: a shared component's LimitRange and
/// ServiceAccount say `namespace: ${NAMESPACE}`, and every kustomization using the component
/// sets `namespace:`, which kustomize writes over it before Flux substitutes anything: no
/// `${NAMESPACE}` reaches post-build substitution. fluxvet judged the text as written; a
/// `metadata.namespace` every build of the Kustomization takes from elsewhere is now skipped.
/// Still firing: the namespace in a kustomization without `namespace:`, a label (`${TEAM}`)
/// and a block scalar the builds keep.
#[test]
fn namespace_replaces_variable() {
    let codes = ["FV408"];
    assert_class(
        "namespace-replaces-variable",
        &codes,
        vec![
            f("FV408", "apps/tools/script.yaml", 7, 5),
            f("FV408", "components/common/limit-range.yaml", 5, 14),
            f("FV408", "components/common/limit-range.yaml", 8, 11),
        ],
    );
}

/// FV408 ×11 on ekenheim/home-ops-upgrade: Grafana dashboards hold `${datasource}` (Grafana's
/// own template variable); their kustomization's patch gives every ConfigMap the annotation
/// `kustomize.toolkit.fluxcd.io/substitute: disabled`, which Flux reads on the built object.
/// The rule looked for it only in the file as written. A dashboard the patch does not select
/// still fires.
#[test]
fn patched_substitute_disabled() {
    let codes = ["FV408"];
    assert_class(
        "patched-substitute-disabled",
        &codes,
        vec![f("FV408", "apps/dashboards/disk.yaml", 8, 33)],
    );
}

/// FV301 on blazepower/rishik-homelab-rke2: `apps` depends on `flux-system`, the cluster's sync
/// Kustomization, and the cluster's kustomization.yaml leaves `flux-system/` out. The bootstrap
/// applies the sync Kustomization all the same, so it exists and the dependency resolves; the
/// dependsOn graph held only objects some build includes. A `flux-system` asked for in another
/// namespace (`apps`, the depending Kustomization's own) still fires.
#[test]
fn sync_kustomization_outside_build() {
    let codes = ["FV301"];
    assert_class(
        "sync-kustomization-outside-build",
        &codes,
        vec![f("FV301", "clusters/production/apps.yaml", 15, 13)],
    );
}

/// FV401 ×25 on ruzickap/k8s-tf-eks-gitops: the cluster's `cluster-apps` Kustomization reads
/// `${CLUSTER_PATH}/flux/cluster-apps` (a Secret Terraform creates), whose kustomization lists
/// both the HelmRepositories of `flux/sources/` and the apps' Flux Kustomizations. The path is
/// not resolvable offline, so each app's Kustomization was walked as a root applied by hand,
/// and its HelmRelease's HelmRepository reported "applied by no cluster". A referrer that only
/// a root applied by hand reaches is in no cluster either: the source may be applied the same
/// way. A HelmRelease a named cluster applies still fires.
#[test]
fn hand_applied_referrer() {
    let codes = ["FV401"];
    assert_class(
        "hand-applied-referrer",
        &codes,
        vec![f("FV401", "infra/helmrelease.yaml", 14, 15)],
    );
}

/// FV301 on dex4er/terraform-eks-flux-demo: Terraform installs the Flux Operator and a
/// FluxInstance (from a Helm values file) whose sync creates the Kustomization `flux-system`;
/// the repository holds no bootstrap, so no cluster is found, and `dependsOn: flux-system` was
/// reported as missing. Without a cluster, that name is the sync Kustomization of a Flux
/// installed from outside the files, as FV401 already takes the GitRepository `flux-system`.
/// A dependency on a Kustomization that is really missing still fires.
#[test]
fn external_bootstrap_dependency() {
    let codes = ["FV301"];
    assert_class(
        "external-bootstrap-dependency",
        &codes,
        vec![f("FV301", "flux/apps.yaml", 9, 13)],
    );
}

/// ricsanfre/pi-cluster: a values file only a configMapGenerator reads holds
/// `targets: [vault.${CLUSTER_DOMAIN}:8200]`, which is no YAML as written (`{` in a flow
/// sequence) but valid once Flux's post-build substitution has replaced the variable, and Helm
/// reads it only then (1 false FV101). Without `postBuild` the text reaches Helm as written,
/// and the finding stays.
#[test]
fn generator_input_substituted() {
    assert_class(
        "generator-input-substituted",
        &["FV101"],
        vec![f("FV101", "apps/monitoring/values.yaml", 4, 18)],
    );
}

/// ricsanfre/pi-cluster: production's FluxInstance `sync` is in the values file its overlay
/// merges into the `flux-instance` chart's values ConfigMap (`behavior: merge`, a key a patch
/// adds to `valuesFrom`), and development is a sync pair applied by hand. Only the sync pair
/// was found, so production's files were "applied by no cluster" (about 30 FV105); once the
/// instance was found the sync pair was dropped. Both are clusters now. An overlay key no
/// `valuesFrom` names is never read: its instance is no cluster, and its files still fire.
#[test]
fn instance_overlay_values() {
    assert_class(
        "instance-overlay-values",
        &["FV105"],
        vec![
            f("FV105", "clusters/prod/infra/flux-instance.yaml", 4, 9),
            f("FV105", "clusters/prod/infra/settings.yaml", 4, 9),
        ],
    );
}

/// kingdon-ci/fleet-infra and ricsanfre/pi-cluster: a dependsOn resolved to a Kustomization
/// only another cluster applies (`podinfo` copied from a cluster that has `nginx` to one that
/// has not). Flux looks in the referrer's own cluster, so it waits forever there; the graph
/// resolved names across clusters (a missed finding, not a false one). Quiet where both
/// clusters apply it.
#[test]
fn dependency_other_cluster() {
    assert_class(
        "dependency-other-cluster",
        &["FV301"],
        vec![f("FV301", "clusters/a/podinfo.yaml", 11, 13)],
    );
}

/// FV501 ×7 "the API server rejects" on jhollowayjc/fleet-infra: no cluster is found (Flux is
/// installed by hand from `bootstrap/flux-v251.yaml`, the `flux install --export` output of
/// v2.5.1, which still serves `v1beta2` and `v2beta2`). With no cluster, the install manifest
/// the repository holds now names the version; one whose Flux no longer serves the apiVersion
/// still says the API server rejects it. The findings stay where they were.
#[test]
fn unclustered_install_version() {
    for case in ["fires", "quiet"] {
        assert_eq!(
            findings(&format!("unclustered-install-version/{case}"), &["FV501"]),
            vec![f("FV501", "apps/podinfo.yaml", 2, 13)]
        );
    }
    assert_eq!(
        messages("unclustered-install-version/fires", "FV501"),
        vec![
            "`source.toolkit.fluxcd.io/v1beta2` was removed in Flux 2.8: the API server rejects HelmRepository and the Kustomization applying it fails"
        ]
    );
    assert_eq!(
        messages("unclustered-install-version/quiet", "FV501"),
        vec![
            "`source.toolkit.fluxcd.io/v1beta2` was removed in Flux 2.8: the Flux install manifest `bootstrap/flux.yaml` installs Flux v2.5.1, which still serves it, but it blocks the upgrade to Flux 2.8"
        ]
    );
}

/// FV405 ×2 on mfamador/gitops-demo-multitenant: an overlay adds a Gateway
/// `istio-system/istio-ingressgw` as `networking.istio.io/v1alpha3` next to the base's
/// `v1beta1` one of the same name. kustomize's resource id holds the version (`Gvk.Equals`
/// compares group, version and kind), so the build holds both and `kubectl kustomize`
/// succeeds; fluxvet compared the group only and reported "defined twice". The same
/// apiVersion twice still fires.
#[test]
fn gateway_version_id() {
    assert_class(
        "gateway-version-id",
        &["FV405"],
        vec![f("FV405", "istio-system/kustomization.yaml", 6, 3)],
    );
}

/// FV601 ×5 on petrmac/flux-demo: Docker registry Secrets with no credential in them, a
/// `.dockerconfigjson: e30=` (`{}`, which a setup script fills later) and `auths` whose
/// password is `YOUR_GITHUB_PAT` beside an `auth` of `BASE64_ENCODED_USERNAME:PAT` (not
/// base64: the kubelet cannot read it). A Docker configuration is judged by its entries'
/// `password`, tokens and decoded `auth`; a real password there still fires.
#[test]
fn docker_config_placeholder() {
    assert_class(
        "docker-config-placeholder",
        &["FV601"],
        vec![f("FV601", "secret.yaml", 18, 3)],
    );
}

/// FV104 on davidelettieri/flux-sops-workload-identity: a patch gives the kustomize-controller
/// ServiceAccount `azure.workload.identity/service-account-token-expiration: 3600`. kustomize
/// rewrites an object's own `metadata.annotations` as strings with the text as written
/// (`kubectl kustomize` prints `"3600"`), and Flux applies every object through kustomize, so
/// the number never reaches the API server. A pod template's annotations are left as written
/// (`prometheus.io/port: 9100` is rejected) and still fire; so does a SOPS-encrypted Secret's
/// own annotation `true`, whose MAC covers the boolean that kustomize turns into a string.
#[test]
fn kustomize_stringified_annotations() {
    assert_class(
        "kustomize-stringified-annotations",
        &["FV104"],
        vec![
            f("FV104", "deployment.yaml", 16, 29),
            f("FV104", "secret.sops.yaml", 6, 57),
        ],
    );
}

/// FV601 on abhaysahu403/enterprise-observability-gitops: a Dynatrace Secret whose token is a
/// stand-in (`your-dynatrace-api-token`) and whose tenant address names one as its host
/// (`https://your-tenant.dynatrace.com`). A bare address (no user, path or query) whose host is
/// a stand-in holds nothing secret, as a URL ending in one. A real token, and a stand-in host
/// with a password in the address, still fire.
#[test]
fn placeholder_host_url() {
    assert_class(
        "placeholder-host-url",
        &["FV601"],
        vec![f("FV601", "secret.yaml", 9, 3)],
    );
}

/// FV401 on Azure-Samples/azure-edge-extensions-aio-observability-gitops: the sync is set up by
/// `az k8s-configuration flux create --name gitops-repo` (AKS's Flux extension), which creates
/// the GitRepository `gitops-repo` that the repository's Kustomizations read their paths from;
/// no file defines it and no cluster is in the files. Without a cluster, a source that Flux
/// Kustomizations read this repository's own paths from is made where the sync is set up, as
/// `flux bootstrap` makes `flux-system`. A source no file defines for a path that is not here
/// still fires, and so does one defined in another namespace than the one Flux looks in
/// (MGTheTrain/gitops-poc: 6 true FV401 the first version of this fix lost).
#[test]
fn sync_source_made_outside() {
    assert_class(
        "sync-source-made-outside",
        &["FV401"],
        vec![
            f("FV401", "clusters/dev/flux/app.yaml", 23, 11),
            f("FV401", "clusters/dev/flux/tenants.yaml", 12, 11),
        ],
    );
}

/// monosense-io/k8s-gitops and rtrox/home-cluster: a Flux Kustomization (or HelmRelease) in a
/// tree two clusters build depends on an object only one of them applies (`vmagent` waits for
/// `cluster-apps-infrastructure`, which the infra cluster does not have). The dependency
/// resolved in the other cluster, so nothing was reported: a missed finding, not a false one.
/// Quiet where both clusters apply it.
#[test]
fn dependency_some_clusters() {
    assert_class(
        "dependency-some-clusters",
        &["FV301"],
        vec![f("FV301", "infrastructure/monitoring/ks.yaml", 11, 13)],
    );
}

/// FV601 on a private key encrypted with a passphrase (goldentooth/gitops: step-ca's
/// intermediate key inline in the chart's values, `Proc-Type: 4,ENCRYPTED`): it is not in
/// clear, whoever reads it needs the passphrase too. A PKCS#8 `ENCRYPTED PRIVATE KEY` and an
/// OpenSSH key with a cipher are not either. The same key in clear still fires.
#[test]
fn encrypted_private_key() {
    assert_class(
        "encrypted-private-key",
        &["FV601"],
        vec![f("FV601", "helmrelease.yaml", 23, 13)],
    );
}

/// FV601 (invalid base64) on a `data` value that tells the reader what to paste there
/// (ranjith-ka/Devops: `PASTE_YOUR_BASE64_ENCODED_KEYS` in a Crossplane example): a
/// placeholder, as `YOUR_API_KEY` is. A password written in `data` without base64 beside it
/// still fires.
#[test]
fn paste_your_placeholder() {
    assert_class(
        "paste-your-placeholder",
        &["FV601"],
        vec![f("FV601", "secret.yaml", 11, 3)],
    );
}

/// gandazgul/k8s-infrastructure: a dependsOn names a Kustomization defined only in a
/// `*.yaml.templ` file a setup script renders and applies (`sed … | kubectl apply -f -`); it
/// exists in the cluster. A template that defines another kind of that name does not satisfy
/// a Kustomization's dependency.
#[test]
fn dependency_in_template() {
    assert_class(
        "dependency-in-template",
        &["FV301"],
        vec![f("FV301", "setup/apps.yaml", 8, 13)],
    );
}

/// neBM/cluster-state: a bootstrap directory whose sync pair is renamed (`cluster-state`, not
/// `flux-system`). The Kustomization in `gotk-sync.yaml` whose path is the cluster's directory
/// is its sync: its source is this repository, so what reads that source is walked (no FV406
/// "not this repository", no FV105 on everything it applies). A Kustomization reading another
/// repository still gets FV406.
#[test]
fn renamed_bootstrap_pair() {
    assert_class(
        "renamed-bootstrap-pair",
        &["FV105", "FV406"],
        vec![f("FV406", "clusters/home/flux-system/apps.yaml", 36, 11)],
    );
}

/// FV601 on a Secret template whose value is the name of the address to put there
/// (yesid-lopez/homelab: `apiURL: "DISCORD_WEBHOOK_URL"`, to be sealed once replaced): capital
/// words joined by `_`, the last naming an address (URL, URI, DSN, endpoint, webhook), are no
/// address, so a placeholder. A real webhook address beside it still fires, and so does the
/// name of a key (FelixZ92/kubernetes-config's rendered MinIO `MINIO_SECRET_KEY`, a true
/// finding a first version of this fix lost): any string is a working credential.
#[test]
fn address_name_placeholder() {
    assert_class(
        "address-name-placeholder",
        &["FV601"],
        vec![
            f("FV601", "secret.yaml", 10, 3),
            f("FV601", "secret.yaml", 20, 3),
        ],
    );
}

/// A template repository (ericsweiss/weisssrv-cluster-template, copier; ferry133's makejinja
/// `templates/`): what rendering writes is not missing. A kustomization entry whose template
/// sits beside it (`release.yaml.jinja`, `configmap.yaml.j2`), a component directory named
/// `{% if runner %}runner-common{% endif %}`, a directory whose kustomization file is a
/// template, a HelmRepository defined in `{% if gpu %}nvidia.yaml{% endif %}` (not a `.yaml`
/// file until rendered), and the `gotk-*.yaml` files `flux bootstrap` writes into a templated
/// `clusters/{{ cluster_name }}/flux-system` give no FV404/FV401. An entry with no template,
/// another file of that bootstrap directory, a directory with neither a kustomization file nor
/// its template, and a source defined nowhere still fire.
#[test]
fn template_repository() {
    assert_class(
        "template-repository",
        &["FV401", "FV404"],
        vec![
            f("FV404", "template/apps/kustomization.yaml", 8, 5),
            f("FV404", "template/apps/kustomization.yaml", 11, 5),
            f("FV401", "template/apps/tailscale.yaml", 14, 15),
            f(
                "FV404",
                "template/clusters/{{ cluster_name }}/flux-system/kustomization.yaml",
                6,
                5,
            ),
            f("FV404", "template/infra/kustomization.yaml", 5, 5),
        ],
    );
}

/// jupitermoons/flux-gitops: the bootstrap pair is kept apart from the directory it syncs
/// (`flux/bootstrap/gotk-sync.yaml`, `path: ./clusters/poc`, applied once by hand), so no
/// cluster was found and every file was judged: image patches for an overlay not written yet
/// got FV505 as Deployments, and a root kustomization of missing patches that nothing applies
/// got FV404. That file's `flux-system` Kustomization, reading the source it defines, is the
/// cluster's sync. A template of it (a `${VAR}` URL a script fills in) is no cluster: the
/// repository is then still judged as a library.
#[test]
fn detached_bootstrap() {
    assert_class(
        "detached-bootstrap",
        &["FV404", "FV505"],
        vec![
            f("FV505", "apps/overlays/poc/web-image-patch.yaml", 5, 1),
            f("FV404", "kustomization.yaml", 4, 5),
        ],
    );
}

/// samuel-form3/flux-tenant-poc: a tenant's HelmRelease reads GitRepository `main`, which the
/// repository's own tenant chart (`charts/flux-tenant/templates/git-repository.yaml`) creates
/// for each tenant that an admin HelmRelease installs from `./charts/flux-tenant`; it exists
/// in the cluster. Without a HelmRelease installing the chart, nothing creates it: still FV401.
#[test]
fn source_in_local_chart() {
    assert_class(
        "source-in-local-chart",
        &["FV401"],
        vec![f("FV401", "team-a/release.yaml", 13, 15)],
    );
}

/// scout-ch/tractor-k8s-tenants: Terraform modules commit Flux manifests into the cluster
/// configuration repository (`resource "github_repository_file"` with `content =
/// file("${path.module}/resources/gateway-api-crds.yaml")`), so the Kustomization's
/// `path: ./infrastructure/gateway-api-crds` is a directory of that repository: FV403 said it
/// does not exist here. The same file applied to the cluster by Terraform (`kubectl_manifest`)
/// reads the sync source, taken as this repository: still FV403.
#[test]
fn terraform_repository_file() {
    assert_class(
        "terraform-repository-file",
        &["FV403"],
        vec![f("FV403", "modules/crds/resources/crds.yaml", 12, 9)],
    );
}

/// FV601 on Flux's SOPS decryption Secret for Azure Key Vault with a managed identity
/// (mysteq/demo-terraform-aks-fluxcd-opencti: `sops.azure-kv` holding `clientId: <GUID>`
/// alone): a client, tenant or subscription ID is an identifier written in the clear on
/// purpose (the ServiceAccount annotation beside it holds the same GUID), no credential. A
/// service principal's `clientSecret` beside the IDs still fires, and so does
/// `AZURE_CLIENT_SECRET` (named with its client ID, as before: one credential).
#[test]
fn azure_identity_ids() {
    assert_class(
        "azure-identity-ids",
        &["FV601"],
        vec![
            f("FV601", "secret.yaml", 8, 3),
            f("FV601", "secret.yaml", 19, 3),
        ],
    );
}

/// FV404 on a kustomization file that Terraform's Flux provider reads as the
/// `kustomization_override` of `flux_bootstrap_git` (pawelpesz/simple-eks-flux-cluster:
/// `terraform/kustomization.yaml` listing `gotk-components.yaml` and `gotk-sync.yaml`): the
/// provider writes its text as the bootstrap path's `flux-system/kustomization.yaml`, beside the
/// files it generates, so its entries are not paths of the directory it is kept in. The same
/// file read by another Terraform argument (committed as it stands) is still judged.
#[test]
fn terraform_bootstrap_override() {
    assert_class(
        "terraform-bootstrap-override",
        &["FV404", "FV405"],
        vec![
            f("FV404", "terraform/kustomization.yaml", 4, 5),
            f("FV404", "terraform/kustomization.yaml", 5, 5),
        ],
    );
}

/// FV102 on a file only a `configMapGenerator` reads, written for a reader that takes repeated
/// keys as repeated settings (vaskozl/home-infra: Fluent Bit's YAML configuration, with ten
/// `rename:` lines in one `modify` filter and two `rule:` lines in a `rewrite_tag` filter).
/// Kubernetes never parses the file; a key repeated three times or more in one mapping is on
/// purpose, and the file's duplicates are not reported. A generator input repeating a key
/// once still fires, and so does an applied object repeating a key three times.
#[test]
fn generator_input_repeated_keys() {
    assert_class(
        "generator-input-repeated-keys",
        &["FV102"],
        vec![
            f("FV102", "daemonset.yaml", 18, 11),
            f("FV102", "daemonset.yaml", 19, 11),
            f("FV102", "logging/config/fluent-bit.yaml", 10, 7),
        ],
    );
}
