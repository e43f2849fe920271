use crate::diag::FileId;
use crate::diag::{Diagnostic, Severity};
use crate::model::index::Repository;
use crate::rules::security::{GeneratorInput, file_text, generator_files};
use crate::rules::{DocContext, Rule, RuleMeta};
use crate::secrets::{
    invalid_base64_entries, is_placeholder, is_secret, is_sops_document, literal_is_plaintext,
    literal_key, plaintext_entries, private_key_blocks, secret_generators, text_is_sops,
};
use crate::source::{SourceFile, Span};
use crate::yaml::Document;

/// Secret values committed without SOPS. Every span is on a key or a path, never on a value,
/// and the messages name keys only: the text output also masks the values around them.
pub struct PlaintextSecret;

pub static META: RuleMeta = RuleMeta {
    code: "FV601",
    name: "plaintext-secret",
    severity: Severity::Error,
    summary: "A Secret with `data` or `stringData` (or a kustomize secretGenerator literal or file) committed without SOPS encryption.",
    docs: r#"## What it does
Reports a Kubernetes `Secret` (`apiVersion: v1`, `kind: Secret`) whose `data` or `stringData`
holds values while the document has no top-level `sops:` block with a `mac` (SOPS adds it when
it encrypts a file). It also reports kustomize `secretGenerator` entries whose secret material is
in the repository in clear: `literals` (`KEY=value` in `kustomization.yaml`), and `envs`/`files`
whose file carries no SOPS metadata.

A private key (a PEM `-----BEGIN … PRIVATE KEY-----` block with key material) committed in
clear is reported in any YAML file of the repository, whatever object holds it (a ConfigMap, a
HelmRelease's values, a chart's `values.yaml`), whether or not a cluster applies it: it leaks
all the same.

A Secret's `data` value that is not valid base64 (as Go decodes it: the standard alphabet with
`=` padding, line breaks skipped) is reported too, as its own kind of finding: the API server
rejects the whole Secret, so the Kustomization that applies it fails.

Not findings: empty values, obvious placeholders (`XXXX`, `changeme`, `<your-token>`,
`REDACTED`, `CHANGE_ME_IN_PRODUCTION`, `your-api-key-here`, a build step's `@name@`, a URL
ending in one or whose host is one (`https://your-tenant.dynatrace.com`), a PEM private key
cut short in a template (`MIIEpAIBAAKCAQEA...`), also base64-encoded in `data`,
`PASTE_YOUR_API_KEY`), a private key encrypted with a passphrase (`ENCRYPTED PRIVATE KEY`,
a `Proc-Type: 4,ENCRYPTED` header, an OpenSSH key with a cipher), SOPS
ciphertext (`ENC[...]`), post-build
substitutions (`${VAR}`), a whole value that names an environment variable for `envsubst` or a
shell (`$AWS_SECRET_ACCESS_KEY`), references that a secret store or tool resolves (`op://…`,
`secret://…`, `<path:…>`, `ref+…`, `vault:…`), and public material: `known_hosts`, SSH public
keys (`*.pub`, `ssh-ed25519 AAAA…`), certificates and PEM public keys (`crt`, `*.crt`,
`ca.crt`), and a Secret whose only values are identifiers: Azure client, tenant or
subscription IDs (a GUID under such a name, or a value of only such lines, as the
`sops.azure-kv` value of Flux's decryption Secret for a managed identity). `files` that hold only public certificates are not reported either.

fluxvet never prints a secret's value: findings point at keys, and the text output masks the
values in every snippet it shows.

## Why is this bad?
Flux applies the Secret exactly as committed. Everyone who can read the repository, its forks,
its CI logs and its history can read the credential, and rotating it does not remove it from
Git history.

## Example
```yaml
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
```

## Use instead
Encrypt it (`sops --encrypt --encrypted-regex '^(data|stringData)$' --in-place secret.yaml`)
and let the Flux Kustomization decrypt it:
```yaml
spec:
  decryption:
    provider: sops
    secretRef:
      name: sops-age
```
or take the value from a secret store (External Secrets) or from `postBuild.substituteFrom`.
"#,
};

const HELP: &str = "encrypt it with `sops --encrypt --encrypted-regex '^(data|stringData)$' --in-place <file>` and set `decryption.provider: sops` on the Flux Kustomization that applies it, or take the value from a secret store";

impl Rule for PlaintextSecret {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    /// A committed plaintext secret leaks whether or not Flux reads the file.
    fn reported_unapplied(&self) -> bool {
        true
    }

    fn check_text(
        &self,
        file_id: FileId,
        file: &SourceFile,
        documents: &[Document],
        out: &mut Vec<Diagnostic>,
    ) {
        private_keys_in(file_id, file, documents, out);
    }

    fn check_document(&self, cx: &DocContext<'_>, out: &mut Vec<Diagnostic>) {
        let Some(root) = cx.doc.root() else { return };
        if is_secret(&root) && !is_sops_document(&root) {
            let bad = invalid_base64_entries(&root);
            if let Some((first, _)) = bad.first() {
                let name = root.str_at(&["metadata", "name"]).unwrap_or("?");
                let keys: Vec<String> = bad
                    .iter()
                    .map(|(k, _)| format!("`{}`", k.as_str().unwrap_or("?")))
                    .collect();
                let mut d = Diagnostic::new(
                    &META,
                    cx.file_id,
                    first.span(),
                    format!(
                        "invalid base64 in Secret \"{name}\": `data` {} {} not valid base64, so the API server rejects the Secret and the Kustomization that applies it fails",
                        if keys.len() == 1 { "value" } else { "values" },
                        if keys.len() == 1 {
                            format!("{} is", keys[0])
                        } else {
                            format!("{} are", keys.join(", "))
                        }
                    ),
                )
                .primary_label("not base64")
                .help("put the plain text under `stringData` instead, or encode it with `base64 -w0`; then encrypt the Secret with SOPS");
                for (k, _) in bad.iter().skip(1) {
                    d = d.label(cx.file_id, k.span(), "not base64");
                }
                out.push(d);
            }
            let entries = plaintext_entries(&root);
            let Some((first, _)) = entries.first() else {
                return;
            };
            let name = root.str_at(&["metadata", "name"]).unwrap_or("?");
            let keys: Vec<String> = entries
                .iter()
                .map(|(k, _)| format!("`{}`", k.as_str().unwrap_or("?")))
                .collect();
            let mut d = Diagnostic::new(
                &META,
                cx.file_id,
                first.span(),
                format!(
                    "Secret \"{name}\" is not SOPS-encrypted: {} plaintext {} ({}) committed in clear, readable by anyone with the repository whether or not Flux applies it",
                    keys.len(),
                    if keys.len() == 1 { "value" } else { "values" },
                    keys.join(", ")
                ),
            )
            .primary_label("plaintext value under this key")
            .help(HELP);
            for (k, _) in entries.iter().skip(1) {
                d = d.label(cx.file_id, k.span(), "plaintext value");
            }
            out.push(d);
        }
        if !crate::discover::is_kustomization_file(&cx.file.path) {
            return;
        }
        for g in secret_generators(&root) {
            let lits: Vec<_> = g
                .get("literals")
                .map(|l| l.items())
                .unwrap_or_default()
                .into_iter()
                .filter(literal_is_plaintext)
                .filter_map(|l| literal_key(&l))
                .collect();
            let Some((_, first)) = lits.first() else {
                continue;
            };
            let name = g.str_at(&["name"]).unwrap_or("?");
            let keys: Vec<String> = lits.iter().map(|(k, _)| format!("`{k}`")).collect();
            let mut d = Diagnostic::new(
                &META,
                cx.file_id,
                *first,
                format!(
                    "secretGenerator \"{name}\" takes {} from plaintext literals ({}): the generated Secret's values are committed in clear",
                    if keys.len() == 1 { "a value" } else { "values" },
                    keys.join(", ")
                ),
            )
            .primary_label("plaintext literal")
            .help("move the values to an `envs` file encrypted with `sops --encrypt --in-place <file>.env` (Flux decrypts generator env files when the Kustomization sets `decryption.provider: sops`), or to a secret store");
            for (_, span) in lits.iter().skip(1) {
                d = d.label(cx.file_id, *span, "plaintext literal");
            }
            out.push(d);
        }
    }

    fn check_repository(&self, repo: &Repository, out: &mut Vec<Diagnostic>) {
        for g in generator_files(repo) {
            let Some(text) = file_text(repo, &g.path) else {
                continue;
            };
            if text_is_sops(&text) || !holds_secret(&text, g.input) {
                continue;
            }
            let what = match g.input {
                GeneratorInput::Env => "env file",
                GeneratorInput::File => "file",
            };
            out.push(
                Diagnostic::new(
                    &META,
                    g.kfile,
                    g.node.span(),
                    format!(
                        "secretGenerator \"{}\" reads the {what} `{}`, which is not SOPS-encrypted: the generated Secret's values are committed in clear",
                        g.generator.unwrap_or("?"),
                        g.path
                    ),
                )
                .primary_label("plaintext secret file")
                .help(format!(
                    "encrypt it in place with `sops --encrypt --in-place {}` (Flux decrypts generator files when the Kustomization sets `decryption.provider: sops`)",
                    g.path
                )),
            );
        }
    }
}

/// FV601 on private keys: every PEM `PRIVATE KEY` block with key material in `source`, in any
/// YAML file, except inside a Secret value the Secret finding already reports.
pub fn private_keys_in(
    file: FileId,
    source: &SourceFile,
    docs: &[Document],
    out: &mut Vec<Diagnostic>,
) {
    if !source.text.contains("PRIVATE KEY") {
        return;
    }
    let mut reported: Vec<Span> = Vec::new();
    for doc in docs {
        let Some(root) = doc.root() else { continue };
        if is_sops_document(&root) {
            reported.push(doc.span);
        } else if is_secret(&root) {
            reported.extend(plaintext_entries(&root).iter().map(|(_, v)| v.span()));
        }
    }
    for block in private_key_blocks(&source.text) {
        if reported
            .iter()
            .any(|r| r.start <= block.start && block.start < r.end)
        {
            continue;
        }
        out.push(
            Diagnostic::new(
                &META,
                file,
                block,
                "a private key is committed in clear in this file: anyone who can read the repository (or its history) has it, whether or not Flux applies the file",
            )
            .primary_label("private key")
            .help("remove it from the repository (and its history), rotate the key, and keep it in a SOPS-encrypted Secret or a secret store"),
        );
    }
}

/// Whether a generator input holds secret material: an env file with a real value, or a file
/// that is not empty and not only public certificates.
fn holds_secret(text: &str, input: GeneratorInput) -> bool {
    match input {
        GeneratorInput::Env => text.lines().any(|l| {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') {
                return false;
            }
            match l.split_once('=') {
                Some((_, v)) => !is_placeholder(v.trim_matches(|c| c == '"' || c == '\'')),
                None => false,
            }
        }),
        GeneratorInput::File => {
            let t = text.trim();
            if is_placeholder(t) {
                return false;
            }
            let public = t.starts_with("-----BEGIN CERTIFICATE-----")
                && !t.contains("PRIVATE KEY")
                && t.lines()
                    .all(|l| !l.starts_with("-----BEGIN ") || l == "-----BEGIN CERTIFICATE-----");
            !public
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings_of;

    fn secret(body: &str) -> String {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n{body}")
    }

    #[test]
    fn fires_on_plaintext_string_data_at_the_key() {
        let f = findings_of(
            "FV601",
            &[(
                "apps/db/secret.yaml",
                &secret("type: Opaque\nstringData:\n  username: admin\n  password: hunter2\n"),
            )],
        );
        assert_eq!(f, vec![("apps/db/secret.yaml".into(), 7, 3)]);
    }

    #[test]
    fn fires_on_base64_data() {
        let f = findings_of(
            "FV601",
            &[("s.yaml", &secret("data:\n  token: aHVudGVyMg==\n"))],
        );
        assert_eq!(f, vec![("s.yaml".into(), 6, 3)]);
    }

    #[test]
    fn fires_on_generator_literals_at_the_key() {
        let f = findings_of(
            "FV601",
            &[(
                "apps/db/kustomization.yaml",
                "secretGenerator:\n  - name: db\n    literals:\n      - \"password=hunter2\"\n      - user=${DB_USER}\n",
            )],
        );
        assert_eq!(f, vec![("apps/db/kustomization.yaml".into(), 4, 10)]);
    }

    #[test]
    fn quiet_on_sops_placeholders_and_empty() {
        let sops = secret(
            "stringData:\n  password: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:m]\n  version: 3.9.0\n",
        );
        let subst =
            secret("stringData:\n  password: ${DB_PASSWORD}\n  url: postgres://${U}:${P}@db/x\n");
        let store = secret("stringData:\n  token: op://vault/item/token\n  empty: \"\"\n  none:\n");
        let empty = secret("data: {}\n");
        let not_secret =
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  password: hunter2\n";
        let files = [
            ("a.yaml", sops.as_str()),
            ("b.yaml", subst.as_str()),
            ("c.yaml", store.as_str()),
            ("d.yaml", empty.as_str()),
            ("e.yaml", not_secret),
        ];
        assert_eq!(findings_of("FV601", &files), vec![]);
    }

    #[test]
    fn sops_block_without_mac_is_not_encryption() {
        let f = findings_of(
            "FV601",
            &[(
                "s.yaml",
                &secret("stringData:\n  password: hunter2\nsops:\n  version: 3.9.0\n"),
            )],
        );
        assert_eq!(f.len(), 1);
    }
}
