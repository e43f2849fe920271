//! What the server holds: the open documents (the client's text of each) and, per repository,
//! a [`Session`] with the outcome of its last check. Notifications change the documents and
//! mark their repository dirty; [`Server::flush`] checks each dirty repository once, however
//! many edits arrived, and publishes the findings of every open document whose findings
//! changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_server::{Message, Notification};
use lsp_types::notification::{PublishDiagnostics, ShowMessage};
use lsp_types::{MessageType, PublishDiagnosticsParams, ShowMessageParams};

use crate::config::{self, Config, ConfigError};
use crate::engine::Outcome;
use crate::session::Session;

use super::convert::{self, Encoding};

/// Where the server sends what it says to the client.
pub type Sender = Box<dyn Fn(Message) + Send>;

pub struct Document {
    /// As the client wrote it: every message about the document names it so.
    pub uri: String,
    pub text: String,
    pub version: i32,
    /// Its repository (an index into [`Server::workspaces`]) and its path there, for a local
    /// file below a repository.
    pub place: Option<(usize, String)>,
    /// Changed since its findings were last published: they are published again even when
    /// they did not change, so the client knows they belong to this version.
    pub edited: bool,
}

impl Document {
    /// Whether the client's text starts with a byte order mark, which the checked text drops.
    pub fn bom(&self) -> bool {
        self.text.starts_with('\u{feff}')
    }
}

pub struct Workspace {
    pub session: Session,
    /// The last check's outcome; `None` until the first.
    pub outcome: Option<Outcome>,
    pub dirty: bool,
    /// The config file's error, while it has one (the last good config stays in force).
    pub config_error: Option<ConfigError>,
    /// What was last published for each open document (by URI).
    pub published: HashMap<String, Vec<lsp_types::Diagnostic>>,
}

pub struct Server {
    pub send: Sender,
    pub encoding: Encoding,
    /// The client's workspace folders, canonical: a repository root is never looked for
    /// above one.
    pub folders: Vec<PathBuf>,
    pub docs: HashMap<String, Document>,
    pub workspaces: Vec<Workspace>,
    /// A shutdown request was answered: only `exit` is expected now.
    pub shut_down: bool,
}

/// The real path of `path`, or of its nearest existing ancestor with the rest appended (a new
/// file not saved yet).
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let mut tail = Vec::new();
    let mut at = path;
    while let (Some(parent), Some(name)) = (at.parent(), at.file_name()) {
        tail.push(name.to_os_string());
        if let Ok(real) = parent.canonicalize() {
            let mut out = real;
            for n in tail.iter().rev() {
                out.push(n);
            }
            return out;
        }
        at = parent;
    }
    path.to_path_buf()
}

impl Server {
    pub fn new(send: Sender, encoding: Encoding, folders: Vec<PathBuf>) -> Server {
        Server {
            send,
            encoding,
            folders: folders.iter().map(|f| canonical(f)).collect(),
            docs: HashMap::new(),
            workspaces: Vec::new(),
            shut_down: false,
        }
    }

    pub fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        (self.send)(Message::Notification(Notification::new(
            N::METHOD.to_string(),
            params,
        )));
    }

    pub fn show(&self, typ: MessageType, message: String) {
        self.notify::<ShowMessage>(ShowMessageParams { typ, message });
    }

    /// The repository `file` (canonical) belongs to: the nearest directory above it that holds
    /// `.git` or `.fluxvet.yaml` (as `fluxvet check FILE` finds it), not above the workspace
    /// folder that holds the file; that folder when no such directory is found; else the
    /// file's directory.
    fn root_of(&self, file: &Path) -> PathBuf {
        let folder = self
            .folders
            .iter()
            .filter(|f| file.starts_with(f))
            .max_by_key(|f| f.as_os_str().len());
        let mut dir = file.parent();
        while let Some(d) = dir {
            if d.join(".git").exists() || d.join(config::FILE_NAME).is_file() {
                return d.to_path_buf();
            }
            if folder.is_some_and(|f| f == d) {
                return d.to_path_buf();
            }
            dir = d.parent();
        }
        file.parent()
            .map_or_else(|| file.to_path_buf(), Path::to_path_buf)
    }

    /// The workspace of the repository `file` (canonical) lies in, opened when it is the first
    /// document there.
    fn workspace_for(&mut self, file: &Path) -> Option<usize> {
        let root = self.root_of(file);
        if let Some(i) = self
            .workspaces
            .iter()
            .position(|w| w.session.root() == root)
        {
            return Some(i);
        }
        let (config, config_error) = match self.read_config(&root) {
            Ok(c) => (c, None),
            Err(e) => (Config::default(), Some(e)),
        };
        if let Some(e) = &config_error {
            self.show(
                MessageType::ERROR,
                format!("fluxvet: config {e}; checking with the default config until it is fixed"),
            );
        }
        match Session::open(&root, config) {
            Ok(session) => {
                self.workspaces.push(Workspace {
                    session,
                    outcome: None,
                    dirty: true,
                    config_error,
                    published: HashMap::new(),
                });
                Some(self.workspaces.len() - 1)
            }
            Err(e) => {
                self.show(
                    MessageType::ERROR,
                    format!("fluxvet: cannot open {}: {e}", root.display()),
                );
                None
            }
        }
    }

    /// The config of the repository at `root`: its `.fluxvet.yaml` as the editor holds it when
    /// open, else as on disk; the default config when there is none.
    fn read_config(&self, root: &Path) -> Result<Config, ConfigError> {
        let path = root.join(config::FILE_NAME);
        let open = self.docs.values().find(|d| {
            d.place.as_ref().is_some_and(|(w, rel)| {
                rel == config::FILE_NAME && self.workspaces[*w].session.root() == root
            })
        });
        let text = match open {
            Some(d) => d.text.clone(),
            None if path.is_file() => std::fs::read_to_string(&path).map_err(|e| ConfigError {
                path: config::FILE_NAME.to_string(),
                line: 0,
                column: 0,
                message: format!("cannot read the config file: {e}"),
            })?,
            None => return Ok(Config::default()),
        };
        Config::parse(config::FILE_NAME, &text, crate::rules::lookup)
    }

    /// Reads workspace `w`'s config again. A config with an error leaves the last good one in
    /// force, and says so once.
    pub fn reload_config(&mut self, w: usize) {
        let root = self.workspaces[w].session.root().to_path_buf();
        match self.read_config(&root) {
            Ok(config) => {
                let ws = &mut self.workspaces[w];
                ws.config_error = None;
                if let Err(e) = ws.session.set_config(config) {
                    self.show(MessageType::ERROR, format!("fluxvet: {e}"));
                }
            }
            Err(e) => {
                let message = format!(
                    "fluxvet: config {e}; the last valid config stays in force until it is fixed"
                );
                let ws = &mut self.workspaces[w];
                let same = ws
                    .config_error
                    .as_ref()
                    .is_some_and(|old| old.to_string() == e.to_string());
                ws.config_error = Some(e);
                if !same {
                    self.show(MessageType::ERROR, message);
                }
            }
        }
        self.workspaces[w].dirty = true;
    }

    /// A document the client opened.
    pub fn open(&mut self, uri: String, text: String, version: i32) {
        let place = convert::uri_to_path(&uri).and_then(|p| {
            let file = canonical(&p);
            let w = self.workspace_for(&file)?;
            let rel = self.workspaces[w].session.relative(&file)?;
            Some((w, rel))
        });
        self.docs.insert(
            uri.clone(),
            Document {
                uri,
                text,
                version,
                place: place.clone(),
                edited: true,
            },
        );
        if let Some((w, rel)) = place {
            if rel == config::FILE_NAME {
                self.reload_config(w);
            } else {
                let ws = &mut self.workspaces[w];
                // A file created since the repository was opened.
                if !ws.session.has_file(&rel)
                    && ws.session.root().join(&rel).is_file()
                    && let Err(e) = ws.session.discover()
                {
                    self.show(MessageType::ERROR, format!("fluxvet: {e}"));
                }
            }
            self.workspaces[w].dirty = true;
        }
    }

    /// The client's edits of an open document, in order.
    pub fn change(
        &mut self,
        uri: &str,
        version: i32,
        changes: Vec<lsp_types::TextDocumentContentChangeEvent>,
    ) {
        let encoding = self.encoding;
        let Some(doc) = self.docs.get_mut(uri) else {
            return;
        };
        for change in changes {
            match change.range {
                None => doc.text = change.text,
                Some(range) => {
                    let index = convert::LineIndex::new(&doc.text, encoding);
                    let start = index.offset(range.start);
                    let end = index.offset(range.end).max(start);
                    doc.text.replace_range(start..end, &change.text);
                }
            }
        }
        doc.version = version;
        doc.edited = true;
        if let Some((w, rel)) = doc.place.clone() {
            if rel == config::FILE_NAME {
                self.reload_config(w);
            }
            self.workspaces[w].dirty = true;
        }
    }

    /// A document the client closed: its file is read from the disk again, and its findings
    /// are cleared in the client.
    pub fn close(&mut self, uri: &str) {
        let Some(doc) = self.docs.remove(uri) else {
            return;
        };
        self.notify::<PublishDiagnostics>(PublishDiagnosticsParams {
            uri: match uri.parse() {
                Ok(u) => u,
                Err(_) => return,
            },
            diagnostics: Vec::new(),
            version: None,
        });
        if let Some((w, rel)) = doc.place {
            self.workspaces[w].published.remove(uri);
            if rel == config::FILE_NAME {
                self.reload_config(w);
            }
            self.workspaces[w].dirty = true;
        }
    }

    /// A saved document: the config is read again when it is the config (a client that sends
    /// no changes of it, or saved another way).
    pub fn save(&mut self, uri: &str) {
        if let Some((w, rel)) = self.docs.get(uri).and_then(|d| d.place.clone())
            && rel == config::FILE_NAME
        {
            self.reload_config(w);
        }
    }

    /// Files changed on disk (the client watches them): a config is read again, and files
    /// created or deleted are found again.
    pub fn watched(&mut self, changes: Vec<lsp_types::FileEvent>) {
        for change in changes {
            let Some(path) = convert::uri_to_path(change.uri.as_str()) else {
                continue;
            };
            let file = canonical(&path);
            let Some(w) = self
                .workspaces
                .iter()
                .position(|ws| ws.session.relative(&file).is_some())
            else {
                continue;
            };
            let rel = self.workspaces[w]
                .session
                .relative(&file)
                .unwrap_or_default();
            if rel == config::FILE_NAME {
                self.reload_config(w);
                continue;
            }
            let ws = &mut self.workspaces[w];
            if change.typ != lsp_types::FileChangeType::CHANGED
                && let Err(e) = ws.session.discover()
            {
                self.show(MessageType::ERROR, format!("fluxvet: {e}"));
            }
            self.workspaces[w].dirty = true;
        }
    }

    /// Checks every dirty repository with the open documents' text, and publishes what changed.
    pub fn flush(&mut self) {
        for w in 0..self.workspaces.len() {
            if !self.workspaces[w].dirty {
                continue;
            }
            let buffers: HashMap<String, String> = self
                .docs
                .values()
                .filter_map(|d| match &d.place {
                    Some((dw, rel)) if *dw == w && rel != config::FILE_NAME => {
                        Some((rel.clone(), d.text.clone()))
                    }
                    _ => None,
                })
                .collect();
            let ws = &mut self.workspaces[w];
            let outcome = ws.session.check(&buffers);
            if ws.session.needs_discovery()
                && let Err(e) = ws.session.discover()
            {
                let message = format!("fluxvet: {e}");
                self.show(MessageType::ERROR, message);
            }
            let ws = &mut self.workspaces[w];
            ws.outcome = Some(outcome);
            ws.dirty = false;
            self.publish(w);
        }
    }

    /// Drops the memo of workspace `w` after a panic during its check (its locks may be
    /// poisoned): the next check starts afresh.
    pub fn reset(&mut self, w: usize) {
        let root = self.workspaces[w].session.root().to_path_buf();
        let config = self.workspaces[w].session.config().clone();
        if let Ok(session) = Session::open(&root, config) {
            self.workspaces[w].session = session;
        }
        self.workspaces[w].dirty = true;
    }
}
