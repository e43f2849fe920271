//! `fluxvet lsp` latency: from an edit of one open file to its diagnostics published, on the
//! real repository onedr0p/home-ops (the corpus; `fixtures/example` where it is absent).
//! `cargo bench --bench lsp`; divan prints the median in its third column.
//!
//! The server runs in process on an in-memory connection (the framing over stdio adds
//! microseconds): the repository is opened and the file's first diagnostics published before
//! timing starts; each timed iteration sends one `didChange` (full text, a different comment
//! each time, so the file really is parsed again) and waits for the `publishDiagnostics` of
//! that version.

use std::path::PathBuf;

use lsp_server::{Connection, Message, Notification, Request};
use serde_json::json;

fn main() {
    divan::main();
}

struct Session {
    client: Connection,
    uri: String,
    text: String,
    version: i32,
    server: Option<std::thread::JoinHandle<u8>>,
}

impl Session {
    fn open(root: PathBuf, rel: &str) -> Session {
        let (server_side, client) = Connection::memory();
        let server = std::thread::spawn(move || fluxvet::lsp::serve(server_side));
        let root_uri = format!("file://{}", root.display());
        client
            .sender
            .send(
                Request::new(
                    1.into(),
                    "initialize".into(),
                    json!({"processId": null, "rootUri": root_uri, "capabilities": {}}),
                )
                .into(),
            )
            .expect("send");
        wait(&client, |m| matches!(m, Message::Response(_)));
        notify(&client, "initialized", json!({}));
        let path = root.join(rel);
        let text = std::fs::read_to_string(&path).expect("the file to edit");
        let uri = format!("file://{}", path.display());
        notify(
            &client,
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        let mut s = Session {
            client,
            uri,
            text,
            version: 1,
            server: Some(server),
        };
        s.wait_published();
        s
    }

    fn wait_published(&mut self) -> usize {
        let (uri, version) = (self.uri.clone(), self.version);
        let m = wait(&self.client, |m| match m {
            Message::Notification(n) => {
                n.method == "textDocument/publishDiagnostics"
                    && n.params["uri"] == uri.as_str()
                    && n.params["version"] == version
            }
            _ => false,
        });
        match m {
            Message::Notification(n) => n.params["diagnostics"].as_array().map_or(0, Vec::len),
            _ => 0,
        }
    }

    /// One edit and its diagnostics: the number of findings.
    fn edit(&mut self) -> usize {
        self.version += 1;
        let text = format!("{}# edit {}\n", self.text, self.version);
        notify(
            &self.client,
            "textDocument/didChange",
            json!({"textDocument": {"uri": self.uri, "version": self.version},
                   "contentChanges": [{"text": text}]}),
        );
        self.wait_published()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self
            .client
            .sender
            .send(Request::new(2.into(), "shutdown".into(), serde_json::Value::Null).into());
        notify(&self.client, "exit", serde_json::Value::Null);
        if let Some(s) = self.server.take() {
            let _ = s.join();
        }
    }
}

fn notify(c: &Connection, method: &str, params: serde_json::Value) {
    c.sender
        .send(Notification::new(method.into(), params).into())
        .expect("send");
}

fn wait(c: &Connection, matches: impl Fn(&Message) -> bool) -> Message {
    loop {
        let m = c
            .receiver
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the server answers");
        if matches(&m) {
            return m;
        }
    }
}

/// The repository and the file edited in it.
fn target() -> (PathBuf, &'static str) {
    let corpus =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/onedr0p__home-ops");
    if corpus.is_dir() {
        (
            corpus.canonicalize().expect("corpus"),
            "kubernetes/apps/o11y/victoria-logs/app/helmrelease.yaml",
        )
    } else {
        (
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/example")
                .canonicalize()
                .expect("fixtures"),
            "apps/podinfo/podinfo.yaml",
        )
    }
}

#[divan::bench(sample_count = 40, sample_size = 1)]
fn edit_to_diagnostics(bencher: divan::Bencher) {
    let (root, rel) = target();
    let mut session = Session::open(root, rel);
    bencher.bench_local(|| session.edit());
}

/// Opening the repository: the first `didOpen` to its diagnostics (every file parsed).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn open_to_diagnostics(bencher: divan::Bencher) {
    let (root, rel) = target();
    // The session is returned, so its shutdown is not timed.
    bencher.bench_local(|| Session::open(root.clone(), rel));
}
