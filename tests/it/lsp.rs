//! `fluxvet lsp` spoken to as a client does: the binary is spawned, and Content-Length framed
//! JSON-RPC goes over its stdin and stdout. Each test waits for the message it needs with a
//! timeout (never a sleep), and asserts on the protocol's details: capabilities, diagnostics
//! (code, range, link, related information), hover, code actions, the config, shutdown and exit.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

/// How long any one expected message may take (a loaded CI machine; a message normally takes
/// milliseconds).
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: mpsc::Receiver<Value>,
    /// Messages read while waiting for another one.
    backlog: Vec<Value>,
    next_id: i64,
}

/// One framed message from `r`: `None` at the end of the stream.
fn read_frame(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line");
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().expect("a length"));
        }
    }
    let mut body = vec![0; length.expect("Content-Length header")];
    r.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).expect("a JSON body"))
}

impl Client {
    /// `fluxvet lsp` started in `dir`, not yet initialized.
    pub fn spawn(dir: &Path) -> Client {
        let mut child = isolated(FLUXVET, dir)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn fluxvet lsp");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_frame(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Client {
            stdin: child.stdin.take(),
            child,
            incoming,
            backlog: Vec::new(),
            next_id: 0,
        }
    }

    /// Spawned and initialized with `capabilities`, rooted at `dir`; the initialize result.
    pub fn start(dir: &Path, capabilities: Value) -> (Client, Value) {
        let mut c = Client::spawn(dir);
        let result = c.request(
            "initialize",
            json!({"processId": null, "rootUri": uri(dir), "capabilities": capabilities}),
        );
        c.notify("initialized", json!({}));
        (c, result)
    }

    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("json");
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
            .and_then(|()| stdin.write_all(&body))
            .and_then(|()| stdin.flush())
            .expect("write to the server");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response (the whole response object).
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(&format!("the response to {method}"), |m| {
            m.get("id") == Some(&json!(id)) && m.get("method").is_none()
        })
    }

    /// The result of a request; panics on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.request_raw(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    /// The first message (already read or still to come) that `matches`.
    pub fn wait(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&matches) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(m) if matches(&m) => return m,
                Ok(m) => self.backlog.push(m),
                Err(_) => panic!(
                    "no {what} within {PATIENCE:?}; received meanwhile:\n{:#?}",
                    self.backlog
                ),
            }
        }
    }

    /// The next diagnostics published for `uri` that satisfy `want` (earlier ones for the
    /// same document are passed over: a client shows the latest).
    pub fn diagnostics(&mut self, uri: &str, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let m = self.wait(&format!("diagnostics for {uri} as expected"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["diagnostics"]
                    .as_array()
                    .is_some_and(|d| want(d))
        });
        m["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
    }

    /// shutdown, then exit: the exit code.
    pub fn finish(mut self) -> i32 {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null, "shutdown's result is null");
        self.notify("exit", Value::Null);
        self.exit_code()
    }

    /// Waits for the process to end (within PATIENCE): its exit code.
    pub fn exit_code(&mut self) -> i32 {
        drop(self.stdin.take());
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().expect("an exit code, not a signal");
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Every file below `dir` with its bytes, to prove the server wrote nothing.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// A Flux Kustomization `name` of `./path`, waiting for `deps`.
fn kustomization(name: &str, path: &str, deps: &[&str]) -> String {
    let mut s = format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n"
    );
    if !deps.is_empty() {
        s.push_str("  dependsOn:\n");
        for d in deps {
            s.push_str(&format!("    - name: {d}\n"));
        }
    }
    s.push_str(&format!(
        "  path: ./{path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    ));
    s
}

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  a: \"1\"\n";

/// A bootstrapped cluster whose `apps` waits for `infra`, each in its own file; clean.
fn fleet() -> TempDir {
    let d = git_repo("lsp");
    d.write(
        "clusters/production/flux-system/gotk-sync.yaml",
        BOOTSTRAP_SYNC,
    );
    d.write(
        "clusters/production/apps.yaml",
        &kustomization("apps", "apps", &["infra"]),
    );
    d.write(
        "clusters/production/infra.yaml",
        &kustomization("infra", "infra", &[]),
    );
    d.write("apps/settings.yaml", CONFIGMAP);
    d.write(
        "infra/settings.yaml",
        &CONFIGMAP.replace("name: settings", "name: infra-settings"),
    );
    d
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect()
}

#[test]
fn initialize_negotiates_the_position_encoding_and_exits_cleanly() {
    let repo = fleet();
    // A client that offers UTF-8 gets it; one that offers nothing gets the protocol's UTF-16.
    let (c, init) = Client::start(
        repo.path(),
        json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
    );
    let caps = &init["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-8");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix", "source.fixAll"])
    );
    assert_eq!(init["serverInfo"]["name"], "fluxvet");
    assert_eq!(c.finish(), 0, "exit after shutdown is exit code 0");

    let (mut c, init) = Client::start(repo.path(), json!({}));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    // An unknown request is MethodNotFound; the server carries on.
    let r = c.request_raw(
        "textDocument/definition",
        json!({"textDocument": {"uri": "file:///x.yaml"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // A request after shutdown is refused; exit without shutdown is exit code 1.
    assert_eq!(c.request("shutdown", Value::Null), Value::Null);
    let r = c.request_raw(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///x.yaml"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["error"]["code"], -32600, "{r}");
    c.notify("exit", Value::Null);
    assert_eq!(c.exit_code(), 0);

    let (mut c, _) = Client::start(repo.path(), json!({}));
    c.notify("exit", Value::Null);
    assert_eq!(c.exit_code(), 1, "exit without shutdown is exit code 1");

    // A request before initialize is refused as the protocol says.
    let mut c = Client::spawn(repo.path());
    let r = c.request_raw("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32002, "{r}");
}

#[test]
fn diagnostics_follow_the_unsaved_buffer_in_utf16_and_utf8() {
    let repo = fleet();
    let before = snapshot(repo.path());
    let file = repo.join("apps/settings.yaml");
    let uri = uri(&file);
    // A duplicate key (FV102) after characters outside the BMP: `𝄞` is one character, two
    // UTF-16 units and four UTF-8 bytes, so each encoding gives another column.
    let broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata: {\"𝄞𝄞\": \"1\", \"𝄞𝄞\": \"2\"}\n";
    let second = broken.rfind("\"𝄞𝄞\"").unwrap();
    let line_start = broken[..second].rfind('\n').unwrap() + 1;
    let prefix = &broken[line_start..second];
    for (offered, expected_column) in [
        (json!({}), prefix.encode_utf16().count()),
        (
            json!({"general": {"positionEncodings": ["utf-8"]}}),
            prefix.len(),
        ),
    ] {
        let (mut c, _) = Client::start(repo.path(), offered);
        c.open(&uri, broken);
        let diags = c.diagnostics(&uri, |d| !d.is_empty());
        let d = diags
            .iter()
            .find(|d| d["code"] == "FV102")
            .unwrap_or_else(|| panic!("no FV102 in {diags:#?}"));
        assert_eq!(d["range"]["start"]["line"], 5, "{d}");
        assert_eq!(d["range"]["start"]["character"], expected_column, "{d}");
        assert_eq!(d["severity"], 1, "an error");
        assert_eq!(d["source"], "fluxvet");
        assert_eq!(
            d["codeDescription"]["href"],
            "https://github.com/fluxvet/fluxvet/blob/main/docs/rules.md#fv102"
        );
        // The first key is the related place, in the same document.
        let related = &d["relatedInformation"][0];
        assert_eq!(related["location"]["uri"], uri.as_str());
        assert_eq!(related["location"]["range"]["start"]["line"], 5);

        // An incremental change that renames the second key fixes it: the range is the
        // second key's, in the client's encoding.
        let (start, end) = (
            d["range"]["start"]["character"].clone(),
            d["range"]["end"]["character"].clone(),
        );
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
                {"range": {"start": {"line": 5, "character": start}, "end": {"line": 5, "character": end}}, "text": "b"}
            ]}),
        );
        let m = c.wait("diagnostics of version 2", |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 2
        });
        assert_eq!(m["params"]["uri"], uri.as_str());
        assert_eq!(m["params"]["diagnostics"], json!([]), "{m}");
        assert_eq!(c.finish(), 0);
    }
    assert!(
        snapshot(repo.path()) == before,
        "the server wrote to the repository"
    );
}

#[test]
fn an_edit_in_one_file_updates_the_findings_of_another_with_related_places() {
    let repo = fleet();
    let (mut c, _) = Client::start(repo.path(), json!({}));
    let apps_uri = uri(&repo.join("clusters/production/apps.yaml"));
    let infra_uri = uri(&repo.join("clusters/production/infra.yaml"));
    let apps = kustomization("apps", "apps", &["infra"]);
    c.open(&apps_uri, &apps);
    c.open(&infra_uri, &kustomization("infra", "infra", &[]));
    assert_eq!(c.diagnostics(&apps_uri, |_| true), Vec::<Value>::new());
    assert_eq!(c.diagnostics(&infra_uri, |_| true), Vec::<Value>::new());

    // Renaming `infra` in its file (unsaved) breaks apps.yaml's dependsOn: FV301 appears there.
    let renamed = kustomization("infra-renamed", "infra", &[]);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": infra_uri, "version": 2}, "contentChanges": [{"text": renamed}]}),
    );
    let diags = c.diagnostics(&apps_uri, |d| !d.is_empty());
    assert_eq!(codes(&diags), ["FV301"], "{diags:#?}");
    let dep_line = apps
        .lines()
        .position(|l| l.contains("- name: infra"))
        .unwrap();
    assert_eq!(diags[0]["range"]["start"]["line"], dep_line);
    assert_eq!(diags[0]["range"]["start"]["character"], 12);

    // `infra` back, waiting for `apps`: a cycle, reported in one file with the other file's
    // edge as related information.
    let cyclic = kustomization("infra", "infra", &["apps"]);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": infra_uri, "version": 3}, "contentChanges": [{"text": cyclic}]}),
    );
    let diags = c.diagnostics(&apps_uri, |d| codes(d).contains(&"FV302"));
    let cycle = diags.iter().find(|d| d["code"] == "FV302").unwrap();
    let related = cycle["relatedInformation"]
        .as_array()
        .unwrap_or_else(|| panic!("no related information: {cycle:#}"));
    let infra_dep_line = cyclic
        .lines()
        .position(|l| l.contains("- name: apps"))
        .unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["location"]["uri"] == infra_uri.as_str()
                && r["location"]["range"]["start"]["line"] == infra_dep_line
                && r["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("`infra` waits for `apps`"))),
        "{cycle:#}"
    );
    assert_eq!(c.finish(), 0);
}

/// A HelmRelease with a chart version YAML reads as a number (FV203, which `check --fix`
/// quotes), applied by the cluster.
const NUMERIC_CHART: &str = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: default
spec:
  interval: 10m
  chart:
    spec:
      chart: web
      version: 1.10   # a comment that stays
      sourceRef:
        kind: HelmRepository
        name: charts
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: default
spec:
  interval: 1h
  url: https://charts.example.com
";

#[test]
fn hover_shows_the_rule_docs_and_code_actions_carry_the_safe_fix() {
    let repo = fleet();
    let before = snapshot(repo.path());
    let (mut c, _) = Client::start(repo.path(), json!({}));
    let uri = uri(&repo.join("apps/settings.yaml"));
    c.open(&uri, NUMERIC_CHART);
    let diags = c.diagnostics(&uri, |d| codes(d).contains(&"FV203"));
    let d = diags.iter().find(|d| d["code"] == "FV203").unwrap().clone();
    let line = NUMERIC_CHART
        .lines()
        .position(|l| l.contains("1.10"))
        .unwrap();
    let column = NUMERIC_CHART
        .lines()
        .nth(line)
        .unwrap()
        .find("1.10")
        .unwrap();
    assert_eq!(
        d["range"]["start"],
        json!({"line": line, "character": column})
    );
    assert_eq!(
        d["range"]["end"],
        json!({"line": line, "character": column + 4})
    );

    // Hover inside the finding: what `fluxvet explain` prints of each rule that reports there
    // (a partial version is FV202's too), as markdown.
    assert!(codes(&diags).contains(&"FV202"), "{diags:#?}");
    let explain = |code: &str| {
        let out = fluxvet(repo.path(), &["explain", code]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let explain = format!("{}\n\n---\n\n{}", explain("FV202"), explain("FV203"));
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": column + 2}}),
    );
    assert_eq!(hover["contents"]["kind"], "markdown");
    assert_eq!(
        hover["contents"]["value"].as_str().unwrap().trim(),
        explain.trim()
    );
    assert_eq!(hover["range"], d["range"]);
    // Elsewhere: nothing.
    let none = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(none, Value::Null);

    // The quick fix quotes the version: one edit of exactly those bytes.
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let quickfix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "quickfix")
        .unwrap_or_else(|| panic!("no quickfix in {actions:#}"));
    assert_eq!(quickfix["diagnostics"][0]["code"], "FV203");
    assert_eq!(quickfix["isPreferred"], true);
    assert_eq!(
        quickfix["edit"]["changes"][uri.as_str()],
        json!([{"range": d["range"], "newText": "\"1.10\""}]),
        "{quickfix:#}"
    );
    let fix_all = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "source.fixAll")
        .unwrap_or_else(|| panic!("no fix-all in {actions:#}"));
    assert_eq!(
        fix_all["edit"]["changes"][uri.as_str()],
        quickfix["edit"]["changes"][uri.as_str()]
    );
    // A finding without a fix gets no action; `only` is honoured.
    let only_fix_all = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
    );
    assert!(
        only_fix_all
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["kind"] == "source.fixAll"),
        "{only_fix_all:#}"
    );

    // The client applies the edit: the finding goes.
    let fixed = NUMERIC_CHART.replace("version: 1.10", "version: \"1.10\"");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let diags = c.diagnostics(&uri, |d| !codes(d).contains(&"FV203"));
    assert!(!codes(&diags).contains(&"FV203"), "{diags:#?}");
    let none = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": []}}),
    );
    assert_eq!(none, json!([]));
    assert_eq!(c.finish(), 0);
    assert!(
        snapshot(repo.path()) == before,
        "the server wrote to the repository"
    );
}

#[test]
fn config_changes_are_picked_up_and_a_broken_config_is_a_diagnostic() {
    let repo = fleet();
    let (mut c, _) = Client::start(
        repo.path(),
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
    );
    // The server asks to be told about files changed on disk.
    let register = c.wait("client/registerCapability", |m| {
        m["method"] == "client/registerCapability"
    });
    assert_eq!(
        register["params"]["registrations"][0]["method"],
        "workspace/didChangeWatchedFiles"
    );
    c.send(&json!({"jsonrpc": "2.0", "id": register["id"], "result": null}));

    let uri = uri(&repo.join("apps/settings.yaml"));
    let dup = format!("{CONFIGMAP}  a: \"2\"\n");
    c.open(&uri, &dup);
    assert_eq!(codes(&c.diagnostics(&uri, |d| !d.is_empty())), ["FV102"]);

    // On disk, announced as a watched-file change: FV102 is off.
    repo.write(".fluxvet.yaml", "rules:\n  FV102: off\n");
    let config_uri = self::uri(&repo.join(".fluxvet.yaml"));
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config_uri, "type": 1}]}),
    );
    assert_eq!(c.diagnostics(&uri, |d| d.is_empty()), Vec::<Value>::new());

    // Opened and edited in the editor, unsaved: its buffer is the config.
    c.open(&config_uri, "rules:\n  FV102: off\n");
    assert_eq!(c.diagnostics(&config_uri, |_| true), Vec::<Value>::new());
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": config_uri, "version": 2}, "contentChanges": [{"text": "rules:\n  FV102: warning\n"}]}),
    );
    let diags = c.diagnostics(&uri, |d| !d.is_empty());
    assert_eq!(codes(&diags), ["FV102"]);
    assert_eq!(diags[0]["severity"], 2, "the config's severity");

    // A broken config: an error on the config's line and a message; the last valid config
    // stays in force and the server goes on.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": config_uri, "version": 3}, "contentChanges": [{"text": "rules:\n  FV102: warning\nbogus_key: 1\n"}]}),
    );
    let diags = c.diagnostics(&config_uri, |d| !d.is_empty());
    assert_eq!(diags[0]["range"]["start"]["line"], 2, "{diags:#?}");
    assert_eq!(diags[0]["severity"], 1);
    assert!(
        diags[0]["message"].as_str().unwrap().contains("bogus_key"),
        "{diags:#?}"
    );
    let shown = c.wait("window/showMessage", |m| {
        m["method"] == "window/showMessage"
    });
    assert_eq!(shown["params"]["type"], 1, "an error message");
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 7, "character": 3}}),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .is_some_and(|v| v.contains("FV102")),
        "{hover}"
    );
    // Fixed again: the error clears.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": config_uri, "version": 4}, "contentChanges": [{"text": "rules:\n  FV102: off\n"}]}),
    );
    assert_eq!(
        c.diagnostics(&config_uri, |d| d.is_empty()),
        Vec::<Value>::new()
    );
    assert_eq!(c.diagnostics(&uri, |d| d.is_empty()), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

#[test]
fn files_nothing_checks_get_no_findings_and_garbage_does_not_stop_the_server() {
    let repo = fleet();
    let (mut c, _) = Client::start(repo.path(), json!({}));
    // A GitHub workflow is YAML fluxvet does not check (a hidden directory), and a document
    // outside any file (`untitled:`) gets nothing.
    let workflow = uri(&repo.join(".github/workflows/ci.yaml"));
    c.open(&workflow, "on: push\njobs: {a: 1, a: 2}\n");
    assert_eq!(c.diagnostics(&workflow, |_| true), Vec::<Value>::new());
    c.open("untitled:Untitled-1", "a: 1\na: 2\n");
    // Malformed params and an unknown notification are ignored; the server still answers.
    c.notify("textDocument/didChange", json!({"textDocument": 7}));
    c.notify("$/unknown", json!({}));
    let r = c.request_raw("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // A new, unsaved file of the repository is checked as part of it.
    let new = uri(&repo.join("apps/new.yaml"));
    c.open(&new, &format!("{CONFIGMAP}  a: \"2\"\n"));
    assert_eq!(codes(&c.diagnostics(&new, |d| !d.is_empty())), ["FV102"]);
    assert_eq!(c.finish(), 0);

    // A frame that is no JSON-RPC message breaks the framing for good: the server ends with
    // exit code 2 and a message, not a panic (101).
    let (mut c, _) = Client::start(repo.path(), json!({}));
    let stdin = c.stdin.as_mut().expect("stdin");
    stdin
        .write_all(b"Content-Length: 5\r\n\r\n{{{{{")
        .and_then(|()| stdin.flush())
        .expect("write");
    assert_eq!(c.exit_code(), 2);
}

/// A real client: Neovim's built-in LSP client, headless, runs tests/nvim/lsp_diagnostics.lua
/// against `fluxvet lsp`: open a file, append a line without saving, hover, remove the line.
/// Neovim converts the server's UTF-16 columns to byte columns with its own buffer text, so a
/// wrong count shows as a wrong column here.
#[test]
fn neovim_shows_the_findings_of_an_unsaved_edit() {
    let Some(nvim) = tool(
        "nvim",
        "Debian's neovim (0.7.2): apt-get install neovim; .ci/run installs it",
    ) else {
        return;
    };
    let repo = fleet();
    let home = TempDir::new("lsp-nvim-home");
    let out = home.join("out.json");
    let line = "  b: {\"é𝄞\": \"1\", \"é𝄞\": \"2\"}";
    let before = snapshot(repo.path());
    let mut child = Command::new(nvim)
        .args(["--headless", "--clean", "-n", "-i", "NONE", "-c"])
        .arg(format!(
            "luafile {}",
            checkout().join("tests/nvim/lsp_diagnostics.lua").display()
        ))
        .current_dir(repo.path())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("FLUXVET_BIN", FLUXVET)
        .env("FLUXVET_ROOT", repo.path())
        .env("FLUXVET_FILE", repo.join("apps/settings.yaml"))
        .env("FLUXVET_LINE", line)
        .env("FLUXVET_OUT", &out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nvim");
    let deadline = Instant::now() + 2 * PATIENCE;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for nvim") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish within {:?}", 2 * PATIENCE);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(&out)
            .unwrap_or_else(|e| panic!("no report from nvim ({e}); status {status}: {stderr}")),
    )
    .expect("the report is JSON");
    assert_eq!(report["ok"], true, "{report:#}\n{stderr}");
    assert!(status.success(), "{status}: {stderr}");

    assert_eq!(report["opened"], json!([]), "a clean file: {report:#}");
    let edited = report["edited"].as_array().expect("edited");
    let dup = edited
        .iter()
        .find(|d| d["code"] == "FV102")
        .unwrap_or_else(|| panic!("no FV102 in {report:#}"));
    // Line 8 (0-based 7): the appended one. Neovim's columns are bytes.
    let key = line.rfind("\"é𝄞\"").unwrap();
    assert_eq!(dup["lnum"], 7, "{dup:#}");
    assert_eq!(dup["col"], key, "{dup:#}");
    assert_eq!(dup["end_col"], key + "\"é𝄞\"".len(), "{dup:#}");
    assert_eq!(dup["severity"], 1, "vim.diagnostic.severity.ERROR");
    assert_eq!(dup["source"], "fluxvet");
    assert!(
        report["hover"]
            .as_str()
            .is_some_and(|h| h.starts_with("# FV")),
        "{report:#}"
    );
    assert_eq!(report["fixed"], json!([]), "{report:#}");
    assert_eq!(report["exit_code"], 0, "shutdown, then exit: {report:#}");
    assert!(
        snapshot(repo.path()) == before,
        "the edit was never saved, and the server writes nothing"
    );
}
