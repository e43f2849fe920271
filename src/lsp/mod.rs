//! `fluxvet lsp`: a language server over stdio. Editors get fluxvet's findings for every open
//! YAML file as the user types (from the unsaved text), the rule's docs on hover, and the safe
//! fixes of `check --fix` as code actions. It never writes a file: edits go to the client.
//!
//! - [`convert`]: positions (UTF-16 or UTF-8) and URIs;
//! - [`state`]: the open documents and the repositories they belong to, each a
//!   [`crate::session::Session`] that re-parses only what changed;
//! - [`publish`]: findings as the protocol's diagnostics, and sending them to the client;
//! - [`features`]: hover and code actions.
//!
//! Transport and framing are rust-analyzer's `lsp-server`; the loop below is synchronous: a
//! burst of edits is drained before one check, and a request is answered from the text the
//! client has sent before it.

pub mod convert;
mod features;
mod publish;
pub mod state;

use std::panic::{AssertUnwindSafe, catch_unwind};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Notification as _,
};
use lsp_types::request::{CodeActionRequest, HoverRequest, RegisterCapability, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability,
    DidChangeWatchedFilesRegistrationOptions, FileSystemWatcher, GlobPattern,
    HoverProviderCapability, InitializeParams, InitializeResult, MessageType, PositionEncodingKind,
    Registration, RegistrationParams, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions,
};

use convert::Encoding;
use state::Server;

/// Runs the server on stdin/stdout until the client says `exit`; the process's exit code
/// (0 after a shutdown request, 1 without one).
pub fn run() -> Result<u8, String> {
    let (conn, io) = Connection::stdio();
    let code = serve(conn);
    io.join()
        .map_err(|e| format!("lsp: the connection to the client failed: {e}"))?;
    Ok(code)
}

/// Serves one client on `conn` (stdio, or an in-memory connection in the benchmarks) until it
/// says `exit` or goes away; the exit code.
pub fn serve(conn: Connection) -> u8 {
    let Some((id, params)) = handshake(&conn) else {
        return 1;
    };
    let init: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let encoding = negotiate(&init);
    let result = InitializeResult {
        capabilities: capabilities(encoding),
        server_info: Some(ServerInfo {
            name: "fluxvet".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    if conn
        .sender
        .send(Response::new_ok(id, result).into())
        .is_err()
    {
        return 1;
    }
    let sender = conn.sender.clone();
    let mut server = Server::new(
        Box::new(move |m| {
            // The client gone, there is no one left to tell.
            let _ = sender.send(m);
        }),
        encoding,
        folders(&init),
    );
    watch_files(&server, &init);
    loop {
        let Ok(msg) = conn.receiver.recv() else {
            // The client went away without `exit`.
            return 1;
        };
        if let Some(code) = guarded_handle(&mut server, msg) {
            return code;
        }
        // A burst of edits: every message already waiting is taken before one check.
        while let Ok(msg) = conn.receiver.try_recv() {
            if let Some(code) = guarded_handle(&mut server, msg) {
                return code;
            }
        }
        guarded_flush(&mut server);
    }
}

/// Waits for `initialize`, answering any other request as the protocol says.
fn handshake(conn: &Connection) -> Option<(lsp_server::RequestId, serde_json::Value)> {
    loop {
        match conn.receiver.recv().ok()? {
            Message::Request(r) if r.method == "initialize" => return Some((r.id, r.params)),
            Message::Request(r) => {
                let _ = conn.sender.send(
                    Response::new_err(
                        r.id,
                        ErrorCode::ServerNotInitialized as i32,
                        "the server is not initialized yet".into(),
                    )
                    .into(),
                );
            }
            Message::Notification(n) if n.method == "exit" => return None,
            _ => {}
        }
    }
}

/// UTF-8 when the client can count in it (no conversion then), else the protocol's UTF-16.
fn negotiate(init: &InitializeParams) -> Encoding {
    let offered = init
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    if offered.is_some_and(|o| o.contains(&PositionEncodingKind::UTF8)) {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    }
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::SOURCE_FIX_ALL,
            ]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

/// The workspace folders, or the root the client names.
fn folders(init: &InitializeParams) -> Vec<std::path::PathBuf> {
    let mut out: Vec<std::path::PathBuf> = init
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| convert::uri_to_path(f.uri.as_str()))
        .collect();
    #[allow(deprecated)] // older clients send only rootUri
    if out.is_empty()
        && let Some(root) = init.root_uri.as_ref()
        && let Some(p) = convert::uri_to_path(root.as_str())
    {
        out.push(p);
    }
    out
}

/// Asks a client that can watch files to tell about manifests and configs changed outside
/// the editor (a `git checkout`, a formatter).
fn watch_files(server: &Server, init: &InitializeParams) {
    let can = init
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false);
    if !can {
        return;
    }
    let watchers = [
        "**/.fluxvet.yaml",
        "**/*.yaml",
        "**/*.yml",
        "**/Kustomization",
    ]
    .into_iter()
    .map(|g| FileSystemWatcher {
        glob_pattern: GlobPattern::String(g.into()),
        kind: None,
    })
    .collect();
    let params = RegistrationParams {
        registrations: vec![Registration {
            id: "fluxvet-watch".into(),
            method: DidChangeWatchedFiles::METHOD.into(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions {
                watchers,
            })
            .ok(),
        }],
    };
    (server.send)(Message::Request(Request::new(
        "fluxvet-watch".to_string().into(),
        RegisterCapability::METHOD.into(),
        params,
    )));
}

/// [`handle`], a panic turned into an error answer and a message instead of the end of the
/// server.
fn guarded_handle(server: &mut Server, msg: Message) -> Option<u8> {
    let id = match &msg {
        Message::Request(r) => Some(r.id.clone()),
        _ => None,
    };
    match catch_unwind(AssertUnwindSafe(|| handle(server, msg))) {
        Ok(code) => code,
        Err(_) => {
            if let Some(id) = id {
                reply_err(
                    server,
                    id,
                    ErrorCode::InternalError,
                    "fluxvet failed on this request (a bug: please report it)",
                );
            }
            recover(server);
            None
        }
    }
}

fn guarded_flush(server: &mut Server) {
    if catch_unwind(AssertUnwindSafe(|| server.flush())).is_err() {
        recover(server);
    }
}

/// After a panic: says so, and starts every repository's check afresh.
fn recover(server: &mut Server) {
    server.show(
        MessageType::ERROR,
        "fluxvet: internal error while checking (a bug: please report it with the file that \
         caused it); its findings may be out of date"
            .into(),
    );
    for w in 0..server.workspaces.len() {
        if server.workspaces[w].dirty {
            server.reset(w);
            server.workspaces[w].dirty = false;
        }
    }
}

fn reply_err(server: &Server, id: lsp_server::RequestId, code: ErrorCode, message: &str) {
    (server.send)(Response::new_err(id, code as i32, message.to_string()).into());
}

fn reply(server: &Server, id: lsp_server::RequestId, result: serde_json::Value) {
    (server.send)(Response::new_ok(id, result).into());
}

/// One message; `Some(exit code)` at `exit`.
fn handle(server: &mut Server, msg: Message) -> Option<u8> {
    match msg {
        Message::Request(req) => {
            request(server, req);
            None
        }
        Message::Notification(n) => notification(server, n),
        Message::Response(_) => None,
    }
}

fn request(server: &mut Server, req: Request) {
    if server.shut_down {
        return reply_err(
            server,
            req.id,
            ErrorCode::InvalidRequest,
            "the server is shutting down",
        );
    }
    match req.method.as_str() {
        "shutdown" => {
            server.shut_down = true;
            reply(server, req.id, serde_json::Value::Null);
        }
        HoverRequest::METHOD => match serde_json::from_value(req.params) {
            Ok(params) => {
                // Answered from the text the client sent before asking.
                server.flush();
                let hover = features::hover(server, params);
                reply(
                    server,
                    req.id,
                    serde_json::to_value(hover).unwrap_or_default(),
                );
            }
            Err(e) => reply_err(server, req.id, ErrorCode::InvalidParams, &e.to_string()),
        },
        CodeActionRequest::METHOD => match serde_json::from_value(req.params) {
            Ok(params) => {
                server.flush();
                let actions = features::code_actions(server, params);
                reply(
                    server,
                    req.id,
                    serde_json::to_value(actions).unwrap_or_default(),
                );
            }
            Err(e) => reply_err(server, req.id, ErrorCode::InvalidParams, &e.to_string()),
        },
        other => {
            let message = format!("fluxvet does not answer {other}");
            reply_err(server, req.id, ErrorCode::MethodNotFound, &message);
        }
    }
}

fn notification(server: &mut Server, n: Notification) -> Option<u8> {
    if n.method == "exit" {
        return Some(if server.shut_down { 0 } else { 1 });
    }
    if server.shut_down {
        return None;
    }
    match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
            {
                let d = p.text_document;
                server.open(d.uri.as_str().to_string(), d.text, d.version);
            }
        }
        DidChangeTextDocument::METHOD => {
            if let Ok(p) =
                serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
            {
                let d = p.text_document;
                server.change(d.uri.as_str(), d.version, p.content_changes);
            }
        }
        DidCloseTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
            {
                server.close(p.text_document.uri.as_str());
            }
        }
        DidSaveTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<lsp_types::DidSaveTextDocumentParams>(n.params)
            {
                server.save(p.text_document.uri.as_str());
            }
        }
        DidChangeWatchedFiles::METHOD => {
            if let Ok(p) =
                serde_json::from_value::<lsp_types::DidChangeWatchedFilesParams>(n.params)
            {
                server.watched(p.changes);
            }
        }
        // `initialized`, `$/cancelRequest`, `$/setTrace`, configuration changes: nothing to do.
        _ => {}
    }
    None
}
