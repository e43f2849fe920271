//! What counts as secret material, as SOPS ciphertext or as a placeholder, and where secret values
//! sit in a file so that no output format ever prints them.

use crate::flux_api::CoreKind;
use crate::source::Span;
use crate::yaml::{Document, NodeRef, Style};

/// A Kubernetes core `Secret` document.
pub fn is_secret(root: &NodeRef<'_>) -> bool {
    root.str_at(&["apiVersion"]) == Some("v1")
        && root.str_at(&["kind"]) == Some(CoreKind::Secret.name())
}

/// SOPS encrypted the document: a top-level `sops` mapping that carries a `mac`.
pub fn is_sops_document(root: &NodeRef<'_>) -> bool {
    root.get("sops")
        .is_some_and(|s| s.is_mapping() && s.get("mac").is_some())
}

/// SOPS metadata in a file of any format SOPS writes: YAML/JSON (`sops:` with `mac`), dotenv
/// and INI (`sops_mac=`), or the JSON wrapper of a binary file.
pub fn text_is_sops(text: &str) -> bool {
    if text
        .lines()
        .any(|l| l.trim_start().starts_with("sops_mac="))
    {
        return true;
    }
    let yaml_sops = text.lines().any(|l| l.starts_with("sops:"));
    let json_sops = text.contains("\"sops\"") && text.contains("\"mac\"");
    (yaml_sops && text.contains("mac:")) || json_sops
}

/// A value that is not itself secret material: empty, SOPS ciphertext, a post-build
/// substitution (`${VAR}`), an envsubst or shell variable (`$AWS_SECRET_ACCESS_KEY`), a Helm template (`{{ .Values.x }}`), or a reference that a tool resolves from a secret store
/// (`op://` 1Password, `secret://` a bootstrap tool's own reference, `<path:...>`
/// argocd-vault-plugin, `ref+` vals, `vault:`).
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    v.is_empty()
        || v.starts_with("ENC[")
        || v.contains("${")
        || is_shell_variable(v)
        || is_address_name(v)
        // A Helm template in a chart kept in the repository.
        || v.contains("{{")
        || v.starts_with("op://")
        || v.starts_with("secret://")
        || v.starts_with("<path:")
        || v.starts_with("ref+")
        || v.starts_with("vault:")
        || is_secret_store_reference(v)
        || is_placeholder_word(v)
        || is_elided_private_key(v)
}

/// A PEM private key block whose body is cut short (`MIIEpAIBAAKCAQEA...` then `...`), as a
/// template shows the shape of a key: the whole value is BEGIN and END lines around too
/// little material for [`private_key_blocks`] to call it a key. A whole value that is a key
/// encrypted with a passphrase is left out the same way (it is not in clear).
fn is_elided_private_key(v: &str) -> bool {
    v.starts_with("-----BEGIN ")
        && v.contains("PRIVATE KEY-----")
        && v.trim_end().ends_with("-----")
        && v.lines().filter(|l| l.starts_with("-----BEGIN ")).count()
            == v.lines().filter(|l| l.starts_with("-----END ")).count()
        && private_key_blocks(v).is_empty()
}

/// The whole value is one `$NAME` of an environment variable (capitals, digits, `_`), as
/// `envsubst` and a shell replace it before the manifest is applied. A lowercase or mixed
/// name (`$ecret`) may be the secret itself.
fn is_shell_variable(v: &str) -> bool {
    v.strip_prefix('$').is_some_and(|name| {
        name.len() >= 2
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    })
}

/// The value is the name of an address that goes there, written as an environment variable
/// is (`DISCORD_WEBHOOK_URL`, `SENTRY_DSN`): two or more words of capitals joined by `_`, the
/// last naming an address. No address is one (no scheme, `_` in no host), so a template tells
/// the reader to replace it. The name of a key, token or password (`MINIO_SECRET_KEY`) is not
/// one: any string is a working credential, and a rendered chart may run with that one.
fn is_address_name(v: &str) -> bool {
    const ADDRESSES: [&str; 5] = ["DSN", "ENDPOINT", "URI", "URL", "WEBHOOK"];
    let words: Vec<&str> = v.split('_').collect();
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_uppercase()))
        && words.last().is_some_and(|w| ADDRESSES.contains(w))
}

/// A URI naming a secret in a secret store, which a tool replaces before the manifest is
/// applied: `azure://vault/secret`, `azkv://vault/secret`, `bw://item/field`,
/// `infisical://project/key`. A URI with a transport scheme (`https://`,
/// `postgres://user:password@host`) is not one.
fn is_secret_store_reference(v: &str) -> bool {
    const STORES: [&str; 15] = [
        "akv",
        "awssm",
        "awsssm",
        "azkv",
        "azure",
        "azurekeyvault",
        "bw",
        "bws",
        "doppler",
        "gcpsm",
        "infisical",
        "keeper",
        "onepassword",
        "secretsmanager",
        "ssm",
    ];
    v.split_once("://").is_some_and(|(scheme, rest)| {
        STORES.contains(&scheme.to_ascii_lowercase().as_str())
            && !rest.is_empty()
            && !rest.contains(char::is_whitespace)
    })
}

/// An obvious stand-in for a value: `XXXX`, `xxxxxxxx`, `changeme`, `CHANGEME!`, `-`,
/// `<your-token>`, `REDACTED`, `REPLACE_WITH_…`, `CHANGE_ME_IN_PRODUCTION`,
/// `your-api-key-here`, `[PLACEHOLDER-GENERATE-NEW-KEY]`, a build tool's `@name@`, a URL ending
/// in one (`https://hooks.slack.com/services/CHANGE_ME`) or naming one as its host
/// (`https://your-tenant.dynatrace.com`).
fn is_placeholder_word(v: &str) -> bool {
    if v.starts_with('<') && v.ends_with('>') && v.len() < 100 && !v.contains('\n') {
        return true;
    }
    // A stand-in in square brackets is judged by the words inside them.
    let v = v
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(v);
    // A name a build step replaces (Nix's `substituteAll`, autoconf): `@agekey@`.
    if let Some(name) = v.strip_prefix('@').and_then(|r| r.strip_suffix('@'))
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return true;
    }
    // A URL whose last segment is the stand-in: the part that would be secret is not there.
    if let Some((_, rest)) = v.split_once("://")
        && let Some((_, last)) = rest.rsplit_once('/')
        && last.chars().any(|c| c.is_ascii_alphanumeric())
        && is_placeholder_word(last)
    {
        return true;
    }
    // A bare address whose host is the stand-in (`https://your-tenant.dynatrace.com`): no
    // user, path or query that could hold a secret.
    if let Some((_, rest)) = v.split_once("://")
        && let host = rest.strip_suffix('/').unwrap_or(rest)
        && !host.contains(['@', '/', '?', '#'])
        && let Some((first, _)) = host.split_once('.')
        && is_placeholder_word(first)
    {
        return true;
    }
    if is_instruction(v) {
        return true;
    }
    if v.len() >= 3 && v.chars().all(|c| matches!(c, 'x' | 'X' | '*' | '.')) {
        return true;
    }
    // Separators and a closing `!` or `.` do not make a word a secret (minecraft charts'
    // `CHANGEME!`); nor does a value of nothing else (`-`, a chart's "no key").
    let squashed: String = v
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '!' | '.'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    matches!(
        squashed.as_str(),
        "" | "changeme" | "changeit" | "replaceme" | "placeholder" | "redacted" | "todo" | "tbd"
    )
        // An instruction in words: `REPLACE_WITH_CLIENT_SECRET`, `replace-me-with-the-token`,
        // `PLACEHOLDER-GENERATE-NEW-KEY` (an address to the reader is [`is_instruction`]'s).
        || ((squashed.starts_with("replace") || squashed.starts_with("placeholder"))
            && v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' ')))
}

/// Words that tell the reader what to put there: a stand-in word followed by more words
/// (`CHANGE_ME_IN_PRODUCTION`, `change-me-in-production`, `CHANGE_ME_postgres_password`), or
/// an address to the reader (`your-api-key-here`, `YOUR_API_KEY`). A word run together with
/// more characters (`changeme1`, `yourpassword`) is not one: it may be a (weak) password.
fn is_instruction(v: &str) -> bool {
    let separator = |c: char| matches!(c, '-' | '_' | ' ');
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || separator(c) || matches!(c, '!' | '.'))
    {
        return false;
    }
    let words: Vec<String> = v
        .split(separator)
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words.len() < 2 {
        return false;
    }
    let first_two = format!("{}{}", words[0], words[1]);
    let change_me = ["changeme", "replaceme"]
        .iter()
        .any(|w| words[0] == *w || first_two == *w);
    // `PASTE_YOUR_BASE64_ENCODED_KEYS`: a verb telling the reader to put theirs there.
    let verb = ["paste", "insert", "enter", "put", "add", "provide"];
    let to_reader = words[0] == "your"
        || (verb.contains(&words[0].as_str()) && words[1] == "your")
        || (words.iter().any(|w| w == "your") && words.last().is_some_and(|w| w == "here"));
    change_me || to_reader
}

/// Public material that is committed on purpose: an SSH `known_hosts` file, a public key, a
/// certificate (no private key alongside). Judged by the key's name and the value.
pub fn is_public_material(key: &str, value: &str) -> bool {
    let v = value.trim();
    if v.contains("PRIVATE KEY") {
        return false;
    }
    let key = key.to_ascii_lowercase();
    if key == "known_hosts"
        || key.ends_with(".pub")
        || key == "crt"
        || key.ends_with(".crt")
        || key.ends_with("cert")
        || key.ends_with(".cert")
    {
        return true;
    }
    let pem_public = v.starts_with("-----BEGIN ")
        && v.lines().filter(|l| l.starts_with("-----BEGIN ")).all(|l| {
            matches!(
                l.trim(),
                "-----BEGIN CERTIFICATE-----" | "-----BEGIN PUBLIC KEY-----"
            )
        });
    let ssh_public = !v.is_empty()
        && v.lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .all(|l| {
                // `ssh-ed25519 AAAA… comment` or a known_hosts line `host ssh-ed25519 AAAA…`.
                l.split_whitespace().take(2).any(|w| {
                    w.starts_with("ssh-")
                        || w.starts_with("ecdsa-sha2-")
                        || w.starts_with("sk-ssh-")
                })
            });
    pem_public || ssh_public
}

/// Whether the value (plain text, not a placeholder) of a Secret's `key` is secret material:
/// not public material, and not a Docker registry configuration without a credential.
fn value_is_secret(key: &str, value: &str) -> bool {
    !is_public_material(key, value) && docker_config_credential(key, value).unwrap_or(true)
}

/// Names of the identifiers of an Azure identity (a workload or managed identity, an app
/// registration): GUIDs shown in the portal and written in annotations
/// (`azure.workload.identity/client-id`), which grant nothing without a secret or a federated
/// token. Compared lowercase, without `_`, `-` and `.`.
const IDENTITY_IDS: [&str; 3] = ["clientid", "tenantid", "subscriptionid"];

/// Whether the value holds only identifiers: a key named as one of [`IDENTITY_IDS`]
/// (`AZURE_CLIENT_ID`, `clientId`) with a GUID, or a value that is lines of such `name: GUID`
/// entries, as the `sops.azure-kv` value of Flux's SOPS decryption Secret is for a managed
/// identity (`clientId` alone; a service principal adds `clientSecret`). A Secret of nothing
/// else holds no credential; beside a secret, they are named with it (one credential).
fn is_identity_only(key: &str, value: &str) -> bool {
    let identifier = |name: &str, v: &str| {
        let name: String = name
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | '.'))
            .collect::<String>()
            .to_ascii_lowercase();
        IDENTITY_IDS.iter().any(|id| name.ends_with(id))
            && is_guid(v.trim().trim_matches(|c| c == '"' || c == '\''))
    };
    if identifier(key, value) {
        return true;
    }
    let body = value.trim().trim_start_matches('{').trim_end_matches('}');
    let entries: Vec<&str> = body
        .split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    !entries.is_empty()
        && entries.iter().all(|l| {
            l.split_once(':').is_some_and(|(k, v)| {
                identifier(k.trim().trim_matches(|c| c == '"' || c == '\''), v)
            })
        })
}

/// A GUID written `8-4-4-4-12` hexadecimal digits.
fn is_guid(v: &str) -> bool {
    let groups: Vec<&str> = v.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a Docker registry configuration (a `.dockerconfigjson` with `auths`, a legacy
/// `.dockercfg`, any JSON value with an `auths` object) carries a credential: an entry's
/// `password`, `identitytoken` or `registrytoken` that is no placeholder, or an `auth` that is
/// base64 of `user:password` with a password that is none. `{}` (`e30=`, a Secret a script
/// fills later) and `"password": "YOUR_GITHUB_PAT"` beside `"auth": "BASE64_ENCODED_USER:PAT"`
/// (no base64: the kubelet cannot read it) carry none; a raw `user:password` in `auth` beside
/// no placeholder password still counts. `None` when the value is no such
/// configuration (not JSON, or not an object), to be judged as any other value.
fn docker_config_credential(key: &str, value: &str) -> Option<bool> {
    let docker_key = matches!(key, ".dockerconfigjson" | ".dockercfg");
    if !docker_key && !value.contains("\"auths\"") {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(value).ok()?;
    let top = json.as_object()?;
    let entries = match top.get("auths") {
        Some(auths) => auths.as_object()?,
        None if key == ".dockercfg" => top,
        None if docker_key => return Some(false),
        None => return None,
    };
    let secret = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_str)
            .is_some_and(|s| !is_placeholder(s))
    };
    Some(entries.values().any(|entry| {
        // Not base64, the kubelet cannot read it, but a `user:password` written raw is still
        // a password in clear: judged as written then.
        let auth = entry
            .get("auth")
            .and_then(serde_json::Value::as_str)
            .and_then(|raw| match decode_base64(raw) {
                Some(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                // A template's `BASE64_ENCODED_USERNAME:PAT` beside a placeholder password.
                None => {
                    let placeholder_password = entry
                        .get("password")
                        .and_then(serde_json::Value::as_str)
                        .is_some_and(is_placeholder);
                    (raw.contains(':') && !placeholder_password).then(|| raw.to_string())
                }
            });
        ["password", "identitytoken", "registrytoken"]
            .iter()
            .any(|f| secret(entry.get(*f)))
            || auth.is_some_and(|a| {
                let password = a.split_once(':').map_or(a.as_str(), |(_, p)| p);
                !is_placeholder(password)
            })
    }))
}

/// Go's `base64.StdEncoding` as the API server decodes a Secret's `data` values (line breaks
/// are skipped, padding is required); `None` when the value is not valid base64.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut sextets = Vec::with_capacity(s.len());
    let mut padding = 0usize;
    for b in s.bytes() {
        let v = match b {
            b'\r' | b'\n' => continue,
            b'=' => {
                padding += 1;
                continue;
            }
            _ if padding > 0 => return None,
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        sextets.push(v);
    }
    let tail = sextets.len() % 4;
    let well_formed = match padding {
        0 => tail != 1,
        1 => tail == 3,
        2 => tail == 2,
        _ => false,
    };
    // Go requires the padding: without it only whole groups of four are valid.
    if !well_formed || (padding == 0 && tail != 0) {
        return None;
    }
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let n =
            chunk.iter().fold(0u32, |acc, &c| (acc << 6) | u32::from(c)) << (6 * (4 - chunk.len()));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    Some(out)
}

/// The `(key, value)` entries of a Secret's `data` whose value is a string the API server
/// cannot decode as base64: it rejects the whole Secret.
pub fn invalid_base64_entries<'a>(root: &NodeRef<'a>) -> Vec<(NodeRef<'a>, NodeRef<'a>)> {
    let Some(map) = root.get("data") else {
        return Vec::new();
    };
    map.entries()
        .into_iter()
        .filter(|(_, v)| {
            v.is_string()
                // A placeholder or a secret store's reference is replaced before the Secret
                // is applied (vals' `ref+op://…`, `${VAR}`): what it decodes to is not known.
                && v.as_str()
                    .is_some_and(|s| !is_placeholder(s) && decode_base64(s).is_none())
        })
        .collect()
}

/// Where a PEM `PRIVATE KEY` block with real key material starts in `text`: the byte range
/// of each `-----BEGIN … PRIVATE KEY-----` marker. Placeholder bodies (`XXXX`, `...`),
/// bodies too short to be a key and headers with no `-----END` line are left out.
pub fn private_key_blocks(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("-----BEGIN ") {
        let start = from + i;
        let header_end = match text[start + 11..].find("-----") {
            Some(j) => start + 11 + j + 5,
            None => break,
        };
        from = header_end;
        let label = &text[start + 11..header_end - 5];
        // A PEM label is words of capitals (`RSA PRIVATE KEY`, `OPENSSH PRIVATE KEY`): a
        // pattern that matches one (`-----BEGIN [A-Z ]*PRIVATE KEY-----`) is no key.
        if !label.ends_with("PRIVATE KEY")
            || !label
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' ')
        {
            continue;
        }
        // The body ends at its `-----END` line. A header with no END before the next
        // BEGIN (or the end of the file) is no key: a comment saying what a key starts
        // with (`## key should start with -----BEGIN RSA PRIVATE KEY-----`).
        let rest = &text[header_end..];
        let Some(body_end) = rest
            .find("-----END ")
            .filter(|&j| rest.find("-----BEGIN ").is_none_or(|b| j < b))
            .map(|j| header_end + j)
        else {
            continue;
        };
        let body: String = text[header_end..body_end]
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            .collect();
        let distinct: std::collections::HashSet<char> = body.chars().collect();
        if body.len() < 64 || distinct.len() < 8 {
            continue;
        }
        if is_encrypted_key(label, &text[header_end..body_end], &body) {
            continue;
        }
        out.push(Span::new(start, header_end));
    }
    out
}

/// A private key encrypted with a passphrase: not in clear, whoever reads it needs the
/// passphrase too. PKCS#8 `ENCRYPTED PRIVATE KEY`, a traditional PEM key with a
/// `Proc-Type: 4,ENCRYPTED` header (`openssl … -aes256`), an OpenSSH key whose cipher is not
/// `none` (`ssh-keygen` with a passphrase). `body` is the block's base64 characters.
fn is_encrypted_key(label: &str, block: &str, body: &str) -> bool {
    if label.starts_with("ENCRYPTED ") {
        return true;
    }
    if block
        .lines()
        .any(|l| l.trim().replace(' ', "") == "Proc-Type:4,ENCRYPTED")
    {
        return true;
    }
    // openssh-key-v1\0, then the cipher name as a 4-byte length and its bytes.
    if label == "OPENSSH PRIVATE KEY"
        && let Some(bytes) = decode_base64(body)
        && let Some(rest) = bytes.strip_prefix(b"openssh-key-v1\0")
        && rest.len() >= 4
    {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        return rest.get(4..4 + len).is_some_and(|cipher| cipher != b"none");
    }
    false
}

/// The `(key, value)` entries of a Secret's `data` and `stringData` whose values are plaintext
/// secret material.
pub fn plaintext_entries<'a>(root: &NodeRef<'a>) -> Vec<(NodeRef<'a>, NodeRef<'a>)> {
    let mut out = Vec::new();
    // Every plaintext value is only identifiers (see [`is_identity_only`]): no credential.
    let mut identifiers = true;
    for field in ["data", "stringData"] {
        let Some(map) = root.get(field) else { continue };
        for (k, v) in map.entries() {
            let key = k.as_str().unwrap_or("");
            let plaintext = match v.as_str() {
                Some(_) if v.is_null() => false,
                Some(s) if is_placeholder(s) => false,
                // `data` holds base64: judged by what it decodes to. A value that does not
                // decode is an error of its own kind (the API server rejects the Secret).
                Some(s) if field == "data" => match decode_base64(s) {
                    Some(bytes) => {
                        let decoded = String::from_utf8_lossy(&bytes);
                        let plain = !is_placeholder(&decoded) && value_is_secret(key, &decoded);
                        identifiers &= !plain || is_identity_only(key, &decoded);
                        plain
                    }
                    None => false,
                },
                Some(s) => {
                    let plain = value_is_secret(key, s);
                    identifiers &= !plain || is_identity_only(key, s);
                    plain
                }
                // A mapping or list is not a valid value; it is still committed data.
                None => {
                    identifiers = false;
                    true
                }
            };
            if plaintext {
                out.push((k, v));
            }
        }
    }
    if identifiers {
        return Vec::new();
    }
    out.sort_by_key(|(k, _)| k.span().start);
    out
}

/// A secretGenerator literal `KEY=value`: the key and the byte range of the key in the file.
pub fn literal_key(node: &NodeRef<'_>) -> Option<(String, Span)> {
    let (text, style) = node.scalar()?;
    let (key, _) = text.split_once('=')?;
    let span = node.span();
    let quote = usize::from(matches!(style, Style::SingleQuoted | Style::DoubleQuoted));
    let start = span.start as usize + quote;
    Some((key.to_string(), Span::new(start, start + key.len())))
}

/// The value half of a secretGenerator literal, when it is secret material.
pub fn literal_is_plaintext(node: &NodeRef<'_>) -> bool {
    node.as_str()
        .and_then(|t| t.split_once('='))
        .is_some_and(|(_, v)| !is_placeholder(v.trim_matches(|c| c == '"' || c == '\'')))
}

/// The `secretGenerator` entries of a kustomize file.
pub fn secret_generators<'a>(root: &NodeRef<'a>) -> Vec<NodeRef<'a>> {
    root.get("secretGenerator")
        .map(|g| g.items())
        .unwrap_or_default()
}

/// Byte ranges of secret values in one document: every Secret's data/stringData values and
/// every secretGenerator literal's value, encrypted or not.
pub fn value_spans(doc: &Document, out: &mut Vec<Span>) {
    let Some(root) = doc.root() else { return };
    if root.str_at(&["kind"]) == Some(CoreKind::Secret.name()) {
        // Every occurrence of a field and of each key, duplicates included: a repeated key's
        // second value is as secret as the first (and `entries` keeps only one).
        for (k, v) in root.raw_entries() {
            if !matches!(k.as_str(), Some("data" | "stringData")) {
                continue;
            }
            if v.is_mapping() {
                out.extend(v.raw_entries().into_iter().map(|(_, v)| v.span()));
                out.extend(v.entries().into_iter().map(|(_, v)| v.span()));
            } else {
                out.push(v.span());
            }
        }
    }
    for g in secret_generators(&root) {
        for lit in g.get("literals").map(|l| l.items()).unwrap_or_default() {
            match literal_key(&lit) {
                Some((_, key)) => {
                    let end = lit.span().end;
                    // Everything after `KEY=`.
                    out.push(Span::new(key.end as usize + 1, end as usize));
                }
                None => out.push(lit.span()),
            }
        }
    }
}

/// A file's text with its secret values masked, and the masked ranges.
pub struct Redacted {
    pub text: String,
    /// Each masked range, from the value to the end of its last line.
    pub ranges: Vec<Span>,
}

/// A file's text (`text`, parsed as `docs`) with every secret value masked, or `None` when it
/// holds none. Byte offsets and line breaks are kept, so spans and the line index stay valid.
pub fn redacted_text<'a>(text: &str, docs: impl Iterator<Item = &'a Document>) -> Option<Redacted> {
    let mut spans = Vec::new();
    for doc in docs {
        value_spans(doc, &mut spans);
    }
    spans.retain(|s| !s.is_empty());
    if spans.is_empty() {
        return None;
    }
    let ranges: Vec<Span> = spans.iter().map(|s| to_line_end(text, *s)).collect();
    Some(Redacted {
        text: mask(text, &ranges),
        ranges,
    })
}

/// A value's span widened to the end of its last line: what follows a value on its line (a
/// comment, the next flow entry) would otherwise show where the value ends.
fn to_line_end(text: &str, s: Span) -> Span {
    let end = (s.end as usize).min(text.len());
    // A block scalar's span ends after its last line break: its line is already whole. It
    // may reach into the next line's indentation, which is the next key's line: not masked.
    if let Some(nl) = text[s.start as usize..end]
        .rfind('\n')
        .map(|i| s.start as usize + i)
        && text[nl + 1..end].bytes().all(|b| b == b' ' || b == b'\t')
    {
        return Span::new(s.start as usize, nl + 1);
    }
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let line_end = if text[..line_end].ends_with('\r') {
        line_end - 1
    } else {
        line_end
    };
    Span::new(s.start as usize, line_end.max(end))
}

/// Replaces each span's characters: the first three with `*`, the rest with spaces, one ASCII
/// byte per original byte, so offsets stay valid. The spaces end the line (spans reach the end
/// of their line), and the text report trims them, so a secret's length does not show.
pub fn mask(text: &str, spans: &[Span]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for s in spans {
        let end = (s.end as usize).min(bytes.len());
        let mut stars = 0;
        for b in bytes.iter_mut().take(end).skip(s.start as usize) {
            if *b == b'\n' || *b == b'\r' {
                continue;
            }
            *b = if stars < 3 { b'*' } else { b' ' };
            stars += 1;
        }
    }
    // Every byte in a span became ASCII and the spans start on character boundaries (they
    // come from the parser), so the result is still UTF-8; fall back to a full mask if not.
    String::from_utf8(bytes).unwrap_or_else(|e| {
        e.into_bytes()
            .into_iter()
            .map(|b| if b.is_ascii() { b as char } else { '*' })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;

    #[test]
    fn masks_values_and_keeps_offsets() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: hunter2hunter2\n  cert: |\n    line-one-secret\n    line-two-secret\n";
        let s = parse_stream(text);
        let mut spans = Vec::new();
        value_spans(&s.documents[0], &mut spans);
        let m = mask(text, &spans);
        assert_eq!(m.len(), text.len());
        assert_eq!(m.lines().count(), text.lines().count());
        assert!(!m.contains("hunter2"), "{m}");
        assert!(!m.contains("line-one-secret"), "{m}");
        assert!(!m.contains("line-two-secret"), "{m}");
        assert!(m.contains("password: ***"), "{m}");
    }

    /// A block scalar's span reaches into the next key's indentation: the key after it stays
    /// readable, its value masked.
    #[test]
    fn a_key_after_a_block_scalar_stays_readable() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  key: |\n    line-one-secret\n  password: hunter2hunter2\n";
        let s = parse_stream(text);
        let r = redacted_text(text, s.documents.iter()).unwrap();
        assert_eq!(r.text.len(), text.len());
        assert!(!r.text.contains("line-one-secret"), "{}", r.text);
        assert!(!r.text.contains("hunter2"), "{}", r.text);
        assert!(r.text.contains("\n  password: ***"), "{}", r.text);
    }

    #[test]
    fn docker_configs() {
        let cfg = |auths: &str| format!("{{\"auths\": {{\"ghcr.io\": {auths}}}}}");
        let key = ".dockerconfigjson";
        assert_eq!(docker_config_credential(key, "{}"), Some(false));
        assert_eq!(
            docker_config_credential(
                key,
                &cfg(
                    r#"{"username": "YOUR_GITHUB_USERNAME", "password": "YOUR_GITHUB_PAT", "auth": "BASE64_ENCODED_USERNAME:PAT"}"#
                )
            ),
            Some(false)
        );
        assert_eq!(
            docker_config_credential(key, &cfg(r#"{"password": "ghp_Abc123xyz"}"#)),
            Some(true)
        );
        // `me:hunter2` raw, not base64: a password in clear all the same.
        assert_eq!(
            docker_config_credential(key, &cfg(r#"{"auth": "me:hunter2"}"#)),
            Some(true)
        );
        // `me:hunter2`, and `me:changeme`.
        assert_eq!(
            docker_config_credential(key, &cfg(r#"{"auth": "bWU6aHVudGVyMg=="}"#)),
            Some(true)
        );
        assert_eq!(
            docker_config_credential(key, &cfg(r#"{"auth": "bWU6Y2hhbmdlbWU="}"#)),
            Some(false)
        );
        assert_eq!(
            docker_config_credential(".dockercfg", r#"{"ghcr.io": {"auth": "bWU6aHVudGVyMg=="}}"#),
            Some(true)
        );
        assert_eq!(docker_config_credential(key, "not json"), None);
        assert_eq!(docker_config_credential("token", "{}"), None);
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder("${DB_PASSWORD}"));
        assert!(is_placeholder("ENC[AES256_GCM,data:xx]"));
        assert!(is_placeholder("op://vault/item/field"));
        assert!(is_placeholder("azure://homelab/azure-creds/ClientSecret"));
        assert!(is_placeholder(
            "ref+op://Home-Lab/1password/OP_CONNECT_TOKEN"
        ));
        assert!(!is_placeholder("postgres://app:hunter2@db:5432/app"));
        assert!(!is_placeholder("https://kubernetes.default.svc"));
        assert!(!is_placeholder("azure:// spaced"));
        assert!(is_placeholder("secret://op_connect_token"));
        assert!(is_placeholder("  "));
        assert!(is_placeholder("{{ .Values.password | b64enc }}"));
        assert!(!is_placeholder("hunter2"));
        assert!(is_placeholder("XXXX"));
        assert!(is_placeholder("changeme"));
        assert!(is_placeholder("CHANGE_ME"));
        assert!(is_placeholder("<your-token>"));
        assert!(is_placeholder("REPLACE_WITH_AUTHENTIK_CLIENT_SECRET"));
        assert!(is_placeholder("replace-me-with-the-token"));
        assert!(!is_placeholder("replace/Zk9+2cQ="));
        assert!(is_placeholder("CHANGEME!"));
        assert!(is_placeholder("-"));
        assert!(!is_placeholder("changeme1"));
        assert!(!is_placeholder("-!a"));
        assert!(is_placeholder("[PLACEHOLDER-GENERATE-NEW-KEY]"));
        assert!(is_placeholder("PLACEHOLDER_TOKEN"));
        assert!(is_placeholder("Your encryption passphrase"));
        assert!(is_placeholder("YOUR_API_KEY"));
        assert!(is_placeholder("[your-token]"));
        assert!(!is_placeholder("yourself123"));
        assert!(!is_placeholder("your"));
        assert!(!is_placeholder("[tskey-auth-k1Abc]"));
        assert!(!is_placeholder("your-pa$$word"));
        assert!(!is_placeholder("[abc"));
        assert!(is_placeholder("$AWS_SECRET_ACCESS_KEY"));
        assert!(is_placeholder("$DB_PASSWORD2"));
        assert!(!is_placeholder("$ecretPa55"));
        assert!(!is_placeholder("$X"));
        assert!(!is_placeholder("$PASS WORD"));
        assert!(is_placeholder("CHANGE_ME_IN_PRODUCTION"));
        assert!(is_placeholder("DISCORD_WEBHOOK_URL"));
        assert!(is_placeholder("SENTRY_DSN"));
        assert!(!is_placeholder("MINIO_SECRET_KEY"));
        assert!(!is_placeholder("URL"));
        assert!(!is_placeholder("HOOK2_URL"));
        assert!(!is_placeholder("Discord_Webhook_Url"));
        assert!(!is_placeholder("_URL"));
        // A key cut short in a template is its shape, not a key; a whole key is one.
        assert!(is_placeholder(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n...\n-----END RSA PRIVATE KEY-----\n"
        ));
        let whole = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
        );
        assert!(!is_placeholder(&whole));
        assert!(!is_placeholder(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----\nhunter2"
        ));
        assert!(is_placeholder("change-me-in-production"));
        assert!(is_placeholder("CHANGE_ME_32_byte_encryption_key!"));
        assert!(is_placeholder("your-api-key-here"));
        assert!(is_placeholder("YOUR_API_KEY"));
        assert!(is_placeholder("put-your-token-here"));
        assert!(is_placeholder("@agekey@"));
        assert!(is_placeholder("https://hooks.slack.com/services/CHANGE_ME"));
        assert!(is_placeholder("https://your-tenant.dynatrace.com"));
        assert!(is_placeholder("https://placeholder.live.dynatrace.com/"));
        assert!(!is_placeholder("https://abc12345.live.dynatrace.com"));
        assert!(!is_placeholder(
            "https://user:s3cret@your-tenant.example.com"
        ));
        assert!(!is_placeholder(
            "https://your-tenant.example.com/hook?token=s3cret"
        ));
        assert!(!is_placeholder(
            "https://hooks.slack.com/services/T0/B0/abc123"
        ));
        assert!(!is_placeholder("https://example.com/"));
        assert!(!is_placeholder("yourpassword"));
        assert!(!is_placeholder("love-your-dog"));
        assert!(!is_placeholder("changeme2024"));
        assert!(!is_placeholder("@agekey"));
        assert!(!is_placeholder("user@example.com@"));
    }

    #[test]
    fn base64_as_go_reads_it() {
        assert_eq!(
            decode_base64("aHVudGVyMg==").as_deref(),
            Some(&b"hunter2"[..])
        );
        assert_eq!(decode_base64("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(decode_base64("YW\nJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
        assert_eq!(decode_base64("secret"), None);
        assert_eq!(decode_base64("aHVudGVyMg"), None);
        assert_eq!(decode_base64("a b="), None);
        assert_eq!(decode_base64("YQ=a"), None);
    }

    #[test]
    fn public_material() {
        assert!(is_public_material(
            "known_hosts",
            "github.com ssh-ed25519 AAAAC3Nza"
        ));
        assert!(is_public_material(
            "identity.pub",
            "ssh-ed25519 AAAAC3Nza me@x"
        ));
        assert!(is_public_material(
            "ca.pem",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        ));
        assert!(!is_public_material(
            "identity",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n"
        ));
        assert!(!is_public_material("password", "hunter2"));
    }

    #[test]
    fn sops_text() {
        assert!(text_is_sops("A=ENC[x]\nsops_mac=ENC[y]\n"));
        assert!(text_is_sops("a: ENC[x]\nsops:\n  mac: ENC[y]\n"));
        assert!(!text_is_sops("A=hunter2\n"));
    }
}
