//! Hostile inputs against the built binary: each must end in a clear finding or a clear error
//! naming the path, never a panic, within a wall-clock and memory bound.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_fluxvet");
/// Generous for a debug build on a loaded machine; a hang still fails rather than blocks.
const WALL: Duration = Duration::from_secs(60);
const MEMORY_KB: i64 = 768 * 1024;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    max_rss_kb: i64,
    /// User plus system CPU time of the child (all its threads), from wait4: unlike the wall
    /// clock, hardly moved by other processes competing for the cores.
    cpu: Duration,
}

/// Runs fluxvet with a wall-clock guard and reads the child's own peak memory from wait4.
// The child is reaped by `wait4`, which clippy does not see.
#[allow(clippy::zombie_processes)]
fn fluxvet_as(dir: &Path, args: &[&str], uid: Option<u32>) -> Run {
    // Another user may not reach the build directory (a checkout in a private directory): run
    // a copy they can execute from the temporary directory.
    let copy;
    let bin = match uid {
        None => Path::new(BIN),
        Some(_) => {
            use std::os::unix::fs::PermissionsExt;
            copy =
                std::env::temp_dir().join(format!("fluxvet-as-other-user-{}", std::process::id()));
            std::fs::copy(BIN, &copy).expect("copy the binary");
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
                .expect("make the copy executable");
            copy.as_path()
        }
    };
    struct RemoveOnDrop<'a>(Option<&'a Path>);
    impl Drop for RemoveOnDrop<'_> {
        fn drop(&mut self) {
            if let Some(p) = self.0 {
                let _ = std::fs::remove_file(p);
            }
        }
    }
    let _cleanup = RemoveOnDrop(uid.map(|_| bin));
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    // The copy may still be open for writing in a child another test forked before it closed
    // (ETXTBSY, "Text file busy", until that child execs): spawning again soon succeeds.
    let mut child = {
        let mut tries = 0;
        loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                spawned => break spawned.expect("spawn fluxvet"),
            }
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let (status, usage) = loop {
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break (status, usage);
        }
        assert!(r == 0, "wait4 failed");
        if start.elapsed() > WALL {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fluxvet {args:?} ran longer than {WALL:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    assert!(
        libc::WIFEXITED(status),
        "fluxvet {args:?} died by signal {} (a crash)\nstderr: {stderr}",
        libc::WTERMSIG(status)
    );
    let run = Run {
        code: libc::WEXITSTATUS(status),
        stdout,
        stderr,
        max_rss_kb: usage.ru_maxrss,
        cpu: [usage.ru_utime, usage.ru_stime]
            .iter()
            .map(|t| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000))
            .sum(),
    };
    assert!(
        !run.stderr.contains("panicked") && run.code != 101,
        "fluxvet {args:?} panicked:\n{}",
        run.stderr
    );
    assert!(
        run.max_rss_kb < MEMORY_KB,
        "fluxvet {args:?} used {} MiB",
        run.max_rss_kb / 1024
    );
    run
}

fn fluxvet(dir: &Path, args: &[&str]) -> Run {
    fluxvet_as(dir, args, None)
}

fn repo(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    dir
}

/// (code, file, line, column, message).
type Finding = (String, String, u64, u64, String);

/// Every finding, from the JSON output.
fn findings(run: &Run) -> Vec<Finding> {
    let v: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn check_json(dir: &Path) -> (Run, Vec<Finding>) {
    let run = fluxvet(dir, &["check", ".", "--format", "json"]);
    let f = findings(&run);
    (run, f)
}

fn one_finding(files: &[(&str, &[u8])]) -> Finding {
    let dir = repo(files);
    let (run, f) = check_json(dir.path());
    assert_eq!(f.len(), 1, "{f:?}\n{}", run.stderr);
    assert_eq!(run.code, 1);
    f.into_iter().next().unwrap()
}

#[test]
fn billion_laughs_is_one_finding() {
    let mut t = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for c in 'b'..='j' {
        let refs = vec![format!("*{prev}"); 9].join(",");
        t.push_str(&format!("{c}: &{c} [{refs}]\n"));
        prev = c;
    }
    let (code, file, line, col, msg) = one_finding(&[("bomb.yaml", t.as_bytes())]);
    assert_eq!(
        (code.as_str(), file.as_str(), line, col),
        ("FV101", "bomb.yaml", 1, 1)
    );
    assert!(msg.contains("billion laughs"), "{msg}");
}

#[test]
fn flow_nesting_20000_deep_is_one_finding() {
    for (open, close) in [("[", "]"), ("{a: ", "}")] {
        let t = format!("a: {}{}\n", open.repeat(20_000), close.repeat(20_000));
        let (code, _, line, col, msg) = one_finding(&[("deep.yaml", t.as_bytes())]);
        assert_eq!((code.as_str(), line), ("FV101", 1));
        assert_eq!(
            col as usize,
            4 + 255 * open.len(),
            "points at the bracket past the limit"
        );
        assert!(msg.contains("nest more than 255"), "{msg}");
    }
}

#[test]
fn block_nesting_3000_deep_is_read() {
    let maps: String = (0..3000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    let seqs = format!("{}x\n", "- ".repeat(3000));
    let dir = repo(&[("m.yaml", maps.as_bytes()), ("s.yaml", seqs.as_bytes())]);
    let (run, f) = check_json(dir.path());
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(run.code, 0);
}

#[test]
fn nesting_past_the_limit_is_one_finding() {
    let t = format!("{}x\n", "- ".repeat(1_000_000));
    let (code, _, line, col, msg) = one_finding(&[("s.yaml", t.as_bytes())]);
    assert_eq!((code.as_str(), line, col), ("FV101", 1, 10_001));
    assert!(msg.contains("nest more than 5000"), "{msg}");
}

#[test]
fn binary_file_named_yaml() {
    let mut bytes = b"\x7fELF\x02\x01\x01\x00\x1b[31m".to_vec();
    bytes.extend((0..4096u32).map(|i| (i * 7919 % 251) as u8));
    let dir = repo(&[("app.yaml", &bytes)]);
    let (_, f) = check_json(dir.path());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "FV101");
    assert!(f[0].4.contains("binary file"), "{}", f[0].4);
    // Binary bytes are never echoed to a terminal.
    let text = fluxvet(dir.path(), &["check", ".", "--color", "never"]);
    assert!(!text.stdout.contains('\u{1b}'), "{}", text.stdout);
    assert!(
        text.stdout.contains("app.yaml:1:1: error FV101"),
        "{}",
        text.stdout
    );
}

#[test]
fn invalid_utf8_points_at_the_byte() {
    let (code, file, line, col, msg) = one_finding(&[("x.yaml", b"a: 1\nb: \xc3\xa9\xff\xfe\n")]);
    assert_eq!(
        (code.as_str(), file.as_str(), line, col),
        ("FV101", "x.yaml", 2, 5)
    );
    assert!(msg.contains("not UTF-8") && msg.contains("0xff"), "{msg}");
}

/// kustomize reads UTF-16 text after a byte order mark (go-yaml decodes it), so fluxvet judges
/// what it holds, at the same lines and columns (characters); `kubectl kustomize` builds such a
/// file. Broken UTF-16 is named as such.
#[test]
fn utf16_with_a_byte_order_mark_is_read() {
    let utf16 = |little_endian: bool, text: &str| -> Vec<u8> {
        let mark: [u8; 2] = if little_endian {
            [0xff, 0xfe]
        } else {
            [0xfe, 0xff]
        };
        mark.into_iter()
            .chain(text.encode_utf16().flat_map(move |u| {
                if little_endian {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            }))
            .collect()
    };
    for little_endian in [true, false] {
        let text = utf16(little_endian, "a: 1\r\nbé: 🚀\r\nbé: 3\r\n");
        let (code, file, line, col, _) = one_finding(&[("w.yaml", &text)]);
        assert_eq!(
            (code.as_str(), file.as_str(), line, col),
            ("FV102", "w.yaml", 3, 1)
        );
    }
    let mut odd = utf16(true, "a: 1\n");
    odd.push(b'x');
    let (code, _, line, col, msg) = one_finding(&[("w.yaml", &odd)]);
    assert_eq!((code.as_str(), line, col), ("FV101", 1, 1));
    assert!(
        msg.contains("UTF-16") && msg.contains("odd number"),
        "{msg}"
    );
}

#[test]
fn bom_and_crlf_keep_lines_and_columns_exact() {
    let (code, _, line, col, _) = one_finding(&[(
        "a.yaml",
        "\u{feff}a: 1\r\nbé: 2\r\nc: x\r\nbé: 3\r\n".as_bytes(),
    )]);
    assert_eq!((code.as_str(), line, col), ("FV102", 4, 1));
    let (code, _, line, col, msg) =
        one_finding(&[("a.yaml", "\u{feff}a: 1\r\nb: [1,\r\n".as_bytes())]);
    assert_eq!((code.as_str(), line, col), ("FV101", 2, 4), "{msg}");
    assert!(msg.contains("unclosed `[`"), "{msg}");
}

#[test]
fn mixed_line_endings_keep_lines_exact() {
    // LF, CRLF and a lone CR (old Mac) each end one line.
    let (code, _, line, col, _) = one_finding(&[("m.yaml", b"a: 1\nb: 2\r\nc: 3\rd: 4\nc: 5\n")]);
    assert_eq!((code.as_str(), line, col), ("FV102", 5, 1));
}

#[test]
fn tabs_in_indentation_point_at_the_tab() {
    let (code, _, line, col, msg) = one_finding(&[("t.yaml", b"a:\n\tb: 1\n")]);
    assert_eq!((code.as_str(), line, col), ("FV101", 2, 1));
    assert!(msg.contains("tab"), "{msg}");
    let (code, _, line, col, msg) = one_finding(&[("t.yaml", b"a:\n  b: 1\n\t  c: 2\n")]);
    assert_eq!((code.as_str(), line, col), ("FV101", 3, 1), "{msg}");
}

#[test]
fn empty_and_comment_only_files_are_quiet() {
    let dir = repo(&[
        ("empty.yaml", b""),
        ("comments.yaml", b"# only a comment\n---\n# another\n...\n"),
        ("blank.yml", b"\n\n   \n"),
        ("markers.yaml", b"---\n---\n"),
    ]);
    let (run, f) = check_json(dir.path());
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(run.code, 0);
}

#[test]
fn ten_megabytes_of_60000_documents() {
    let mut t = String::with_capacity(11 << 20);
    for i in 0..60_000 {
        t.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n  namespace: default\ndata:\n  k: v{i}\n  pad: '{}'\n",
            "x".repeat(80)
        ));
    }
    assert!(t.len() > 10 << 20);
    let dir = repo(&[("big.yaml", t.as_bytes())]);
    let (run, f) = check_json(dir.path());
    assert!(f.is_empty(), "{:?}", &f[..f.len().min(5)]);
    assert_eq!(run.code, 0);
    eprintln!("60,000 documents: peak {} MiB", run.max_rss_kb / 1024);
}

/// A mapping with `n` distinct keys and one repeated at the end; the CPU time of the best of
/// three single-threaded runs, after checking the one finding is where it must be.
fn wide_mapping_cpu(n: usize) -> Duration {
    let t: String = (0..n).map(|i| format!("k{i}: v\n")).collect();
    let dir = repo(&[("wide.yaml", format!("{t}k7: again\n").as_bytes())]);
    (0..3)
        .map(|_| {
            let run = fluxvet(dir.path(), &["check", ".", "--format", "json", "-j", "1"]);
            let f = findings(&run);
            assert_eq!(f.len(), 1, "{f:?}");
            assert_eq!(
                (f[0].0.as_str(), f[0].2, f[0].3),
                ("FV102", n as u64 + 1, 1)
            );
            run.cpu
        })
        .min()
        .unwrap()
}

/// Four times the keys must cost about four times the CPU (a quadratic duplicate-key check
/// would cost sixteen). CPU time rather than wall clock, the best of three runs, and a bound of
/// 8x keep this steady on a loaded two-core machine (measured: 3.9x in a debug build).
#[test]
fn wide_mapping_stays_linear() {
    let small = wide_mapping_cpu(40_000);
    let large = wide_mapping_cpu(160_000);
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-3);
    eprintln!("40,000 keys: {small:?} CPU; 160,000 keys: {large:?} CPU; ratio {ratio:.2}");
    assert!(
        ratio < 8.0,
        "4x the keys took {ratio:.1}x the CPU time ({small:?} -> {large:?}): not linear"
    );
}

#[test]
fn a_huge_line_is_not_echoed() {
    let t = format!("a: [{}\n", "1,".repeat(1_000_000));
    let dir = repo(&[("line.yaml", t.as_bytes())]);
    let run = fluxvet(dir.path(), &["check", ".", "--color", "never"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.len() < 10_000,
        "{} bytes of output",
        run.stdout.len()
    );
    assert!(
        run.stdout.contains("line.yaml:1:4: error FV101"),
        "{}",
        run.stdout
    );
}

#[test]
fn oversized_file_is_reported_not_read() {
    let dir = repo(&[]);
    let f = std::fs::File::create(dir.path().join("huge.yaml")).unwrap();
    f.set_len(40 << 20).unwrap();
    let (_, f) = check_json(dir.path());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0].4,
        "file too large: it is over fluxvet's limit of 32 MiB and was not checked"
    );
}

#[test]
fn control_characters_are_not_echoed() {
    let dir = repo(&[(
        "e.yaml",
        b"\"a\\e[2J\": 1\n\"a\\e[2J\": 2\nb: \x1b]0;x\x07\n",
    )]);
    let run = fluxvet(dir.path(), &["check", ".", "--color", "never"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'),
        "{:?}",
        run.stdout
    );
}

#[test]
fn symlinks_loops_escapes_and_dangling() {
    let outside = repo(&[("secret.yaml", b"a: 1\na: 2\n")]);
    let dir = repo(&[("apps/ok.yaml", b"a: 1\n")]);
    let root = dir.path();
    std::os::unix::fs::symlink("..", root.join("apps/loop")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("escape")).unwrap();
    std::os::unix::fs::symlink("missing.yaml", root.join("dangling.yaml")).unwrap();
    std::os::unix::fs::symlink("self.yaml", root.join("self.yaml")).unwrap();
    let (run, f) = check_json(root);
    assert!(
        f.is_empty(),
        "the file outside the root must not be checked: {f:?}"
    );
    assert!(
        run.stderr
            .contains("escape: not followed: the symlink leads outside the checked root"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("dangling.yaml: cannot read: broken symlink"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("self.yaml: cannot read: symlink loop"),
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 2, "an unreadable manifest is an I/O error");
}

#[test]
fn unreadable_directory_is_an_error_with_its_path() {
    let dir = repo(&[("ok.yaml", b"a: 1\n"), ("locked/x.yaml", b"a: 1\n")]);
    let root = dir.path();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads anything, so run as `nobody` then; otherwise as ourselves.
    let uid = (unsafe { libc::geteuid() } == 0).then_some(65534);
    let run = fluxvet_as(root, &["check", "."], uid);
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("locked: permission denied, so nothing below it was checked"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("in 1 file"),
        "the rest is still checked: {}",
        run.stdout
    );
}

#[test]
fn bad_paths_are_clear_errors() {
    let dir = repo(&[("ok.yaml", b"a: 1\n")]);
    let root = dir.path();
    let run = fluxvet(root, &["check", "nope"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nope: no such file or directory"),
        "{}",
        run.stderr
    );
    let run = fluxvet(root, &["check", "ok.yaml/sub"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("ok.yaml/sub: not a directory"),
        "{}",
        run.stderr
    );
    let run = fluxvet(root, &["check", "ok.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("in 1 file"), "{}", run.stdout);
    let fifo = root.join("pipe.yaml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let run = fluxvet(root, &["check", "pipe.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("pipe.yaml: not a regular file"),
        "{}",
        run.stderr
    );
    // Inside a tree, a FIFO is reported rather than opened (which would block forever).
    let run = fluxvet(root, &["check", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("pipe.yaml: not a regular file"),
        "{}",
        run.stderr
    );
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p.clone());
                out.insert(p, (Vec::new(), m.modified().unwrap()));
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.insert(p, (bytes, m.modified().unwrap()));
            }
        }
    }
    out
}

fn sample_tree() -> tempfile::TempDir {
    repo(&[
        (".fluxvet.yaml", b"rules:\n  FV102: warning\n"),
        (".gitignore", b"ignored/\n"),
        ("clusters/prod/kustomization.yaml", b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - app.yaml\n"),
        ("clusters/prod/app.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  a: \"1\"\n  a: \"2\"\n"),
        ("broken.yaml", b"a: [\n"),
    ])
}

#[test]
fn check_changes_no_file() {
    let dir = sample_tree();
    let before = snapshot(dir.path());
    std::thread::sleep(Duration::from_millis(20));
    for format in ["text", "json"] {
        let run = fluxvet(dir.path(), &["check", ".", "--format", format]);
        assert_eq!(run.code, 1, "{}", run.stderr);
    }
    assert_eq!(
        snapshot(dir.path()),
        before,
        "check wrote to the scanned tree"
    );
}

/// `(code, file, line, column)` of what `check` reports on [`sample_tree`].
fn sample_tree_findings() -> Vec<(String, String, u64, u64)> {
    SAMPLE_TREE_FINDINGS
        .iter()
        .map(|&(c, f, l, col)| (c.to_string(), f.to_string(), l, col))
        .collect()
}

const SAMPLE_TREE_FINDINGS: &[(&str, &str, u64, u64)] = &[
    ("FV101", "broken.yaml", 1, 4),
    ("FV102", "clusters/prod/app.yaml", 7, 3),
];

fn positions(run: &Run) -> Vec<(String, String, u64, u64)> {
    findings(run)
        .into_iter()
        .map(|(code, file, line, col, _)| (code, file, line, col))
        .collect()
}

/// Whether a run of `check` under a wrapper (strace, unshare) ran at all: a wrapper that could
/// not start it prints no report.
fn wrapped(dir: &Path, wrapper: &str, args: &[&str]) -> Result<Run, String> {
    let out = Command::new(wrapper)
        .args(args)
        .arg(BIN)
        .args(["check", ".", "--format", "json"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {wrapper}: {e}"))?;
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        max_rss_kb: 0,
        cpu: Duration::ZERO,
    };
    if run.stdout.trim().is_empty() {
        return Err(format!(
            "{wrapper} did not run fluxvet (exit {}): {}",
            run.code,
            run.stderr.trim()
        ));
    }
    Ok(run)
}

/// Proof by system calls: under strace, `check` makes no network system call at all.
fn no_network_by_strace(dir: &Path, strace: &Path) -> Result<(), String> {
    let log = dir.join("..").join(format!(
        "fluxvet-strace-{}.log",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let log_arg = log.to_string_lossy().into_owned();
    let strace = strace.to_string_lossy().into_owned();
    let run = wrapped(
        dir,
        &strace,
        &["-f", "-qq", "-e", "trace=network,openat", "-o", &log_arg],
    );
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let run = run?;
    if !calls.contains("openat(") {
        // strace ran the program but could not trace it (no ptrace in this container).
        return Err(format!("strace recorded nothing: {}", run.stderr.trim()));
    }
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(positions(&run), sample_tree_findings(), "under strace");
    // The file opens prove the trace saw the run; everything else is network, except the
    // records of a call strace could not read because its thread was exiting (`1234  ???(
    // <detached ...>`, `<unfinished ...>`, `<... ??? resumed>`): no call number, so none it
    // was asked to trace. About one run in fifty has one.
    let network: Vec<&str> = calls
        .lines()
        .filter(|l| !l.contains("openat"))
        .filter(|l| !l.contains(" ???(") && !l.contains("<... ??? resumed>"))
        .collect();
    assert!(network.is_empty(), "network system calls:\n{network:#?}");
    Ok(())
}

/// Proof by absence: in an empty network namespace `check` reports exactly what it reports
/// anywhere else (a check that needed the network would fail or find less).
fn no_network_by_unshare(dir: &Path) -> Result<(), String> {
    let run = wrapped(dir, "unshare", &["-n", "--"])?;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(positions(&run), sample_tree_findings(), "under unshare -n");
    Ok(())
}

/// Both proofs run where they can. Under FLUXVET_REQUIRE_TOOLS (CI, whose `.ci/run` installs
/// strace) strace must be installed and at least one proof must run: the test cannot pass by
/// skipping there.
#[test]
fn check_opens_no_network_connection() {
    let dir = sample_tree();
    // Unwatched, for reference: the findings both proofs must reproduce.
    let (plain, _) = check_json(dir.path());
    assert_eq!(plain.code, 1, "{}", plain.stderr);
    assert_eq!(positions(&plain), sample_tree_findings());

    let mut ran = Vec::new();
    let mut missing = Vec::new();
    match crate::support::tool("strace", "apt-get install strace") {
        Some(strace) => match no_network_by_strace(dir.path(), &strace) {
            Ok(()) => ran.push("strace"),
            Err(e) => missing.push(e),
        },
        None => missing.push("strace is not installed".to_string()),
    }
    match no_network_by_unshare(dir.path()) {
        Ok(()) => ran.push("unshare -n"),
        Err(e) => missing.push(e),
    }
    let required = std::env::var_os("FLUXVET_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty());
    if ran.is_empty() {
        assert!(
            !required,
            "no proof of no network could run (FLUXVET_REQUIRE_TOOLS is set): {missing:#?}"
        );
        eprintln!("SKIPPED: neither strace nor `unshare -n` works here: {missing:#?}");
    } else {
        eprintln!("no network: proven under {ran:?}; unavailable: {missing:?}");
    }
}
