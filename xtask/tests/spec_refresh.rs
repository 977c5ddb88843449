//! `cargo xtask spec refresh|diff|check` run as a user would, against a copy of the workspace
//! in a temporary folder (the real openapi/lock.toml is never touched) and a local HTTP server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn shared(rel: &str) -> PathBuf {
    repo().join("../shared/openapi/metadefender-core").join(rel)
}

/// A workspace holding just what `spec` reads: the lock and the root manifest.
fn temp_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("openapi")).unwrap();
    std::fs::copy(
        repo().join("openapi/lock.toml"),
        dir.path().join("openapi/lock.toml"),
    )
    .unwrap();
    std::fs::copy(repo().join("Cargo.toml"), dir.path().join("Cargo.toml")).unwrap();
    dir
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

/// `cargo xtask spec refresh` into the workspace at `root`, without regenerating the snapshot.
fn refresh(from: &str, root: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "spec",
        "refresh",
        "--from",
        from,
        "--root",
        root,
        "--no-snapshot",
    ];
    args.extend_from_slice(extra);
    xtask(&args)
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Serves `body` at any path but `/missing` (404) and `/slow` (never answers), on an ephemeral
/// loopback port.
struct Server {
    url: String,
    body: Arc<Mutex<Vec<u8>>>,
    _runtime: tokio::runtime::Runtime,
}

fn serve(body: Vec<u8>) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let body = Arc::new(Mutex::new(body));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shared_body = body.clone();
    runtime.spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let body = shared_body.lock().unwrap().clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&request);
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                if path == "/slow" {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    return;
                }
                let (status, body) = if path == "/missing" {
                    ("404 Not Found", b"no".to_vec())
                } else {
                    ("200 OK", body)
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Server {
        url,
        body,
        _runtime: runtime,
    }
}

fn lock_text(root: &Path) -> String {
    std::fs::read_to_string(root.join("openapi/lock.toml")).unwrap()
}

#[test]
fn refresh_from_http_updates_the_lock_and_shows_the_next_change() {
    let original = std::fs::read(shared("5.6.1/openapi.json")).unwrap();
    let server = serve(original.clone());
    let ws = temp_workspace();
    let root = ws.path().to_str().unwrap();
    let real_lock = std::fs::read(repo().join("openapi/lock.toml")).unwrap();

    let url = format!("{}/openapi.json?token=s3cret", server.url);
    let out = refresh(&url, root, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("s3cret"), "{}", text(&out));
    let pinned = std::fs::read(ws.path().join("openapi/metadefender-core.json")).unwrap();
    assert!(
        pinned == original,
        "a single upstream JSON file is pinned byte for byte"
    );
    let lock = lock_text(ws.path());
    assert!(
        lock.contains(
            "sha256 = \"c6ebc0b4328eae98b8b4f99f1eaa869bb1f3d5336f2d85b3d75875c9b61d6823\""
        ),
        "{lock}"
    );
    assert!(lock.contains("version = \"5.6.1\""), "{lock}");
    assert!(
        lock.contains(&format!(
            "upstream = \"{}/openapi.json?token=***\"",
            server.url
        )),
        "{lock}"
    );
    let check = xtask(&["spec", "check", "--root", root]);
    assert!(check.status.success(), "{}", text(&check));

    // Upstream publishes a change: one operation disappears.
    let mut doc: serde_json::Value = serde_json::from_slice(&original).unwrap();
    doc["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/readyz")
        .unwrap();
    *server.body.lock().unwrap() = serde_json::to_vec(&doc).unwrap();
    let out = refresh(&url, root, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("operation removed: GET /readyz [health_check]"),
        "{stdout}"
    );
    assert!(!lock_text(ws.path()).contains("c6ebc0b4"), "the hash moved");
    assert!(xtask(&["spec", "check", "--root", root]).status.success());

    // A rerun writes the same bytes.
    let before = std::fs::read(ws.path().join("openapi/metadefender-core.json")).unwrap();
    let out = refresh(&url, root, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no changes"));
    assert_eq!(
        before,
        std::fs::read(ws.path().join("openapi/metadefender-core.json")).unwrap()
    );

    assert_eq!(
        real_lock,
        std::fs::read(repo().join("openapi/lock.toml")).unwrap()
    );
}

#[test]
fn refresh_bundles_a_multi_file_tree() {
    let ws = temp_workspace();
    let root = ws.path().to_str().unwrap();
    let tree = shared("4.18.0");
    let out = refresh(
        tree.to_str().unwrap(),
        root,
        &["--upstream", "https://example.invalid/openapi"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let lock = lock_text(ws.path());
    assert!(lock.contains("version = \"4.18.0\""), "{lock}");
    assert!(
        lock.contains("upstream = \"https://example.invalid/openapi\""),
        "{lock}"
    );
    let pinned: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ws.path().join("openapi/metadefender-core.json")).unwrap(),
    )
    .unwrap();
    assert!(pinned["components"]["schemas"]["AnalysisResult"].is_object());
    assert!(xtask(&["spec", "check", "--root", root]).status.success());
    // A hand edit of the pinned document is caught.
    let path = ws.path().join("openapi/metadefender-core.json");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(b' ');
    std::fs::write(&path, bytes).unwrap();
    let check = xtask(&["spec", "check", "--root", root]);
    assert!(!check.status.success());
    assert!(
        text(&check).contains("does not match openapi/lock.toml"),
        "{}",
        text(&check)
    );
}

#[test]
fn refresh_failures_are_clear_and_leave_the_lock_alone() {
    let server = serve(vec![b' '; 4096]);
    let ws = temp_workspace();
    let root = ws.path().to_str().unwrap();
    let before = lock_text(ws.path());
    let cases: [(&str, &[&str], &str); 3] = [
        ("/missing", &[], "HTTP 404"),
        (
            "/big.json",
            &["--max-bytes", "1000"],
            "over the limit of 1000 bytes",
        ),
        ("/slow", &["--timeout", "1"], "request failed"),
    ];
    for (path, extra, expected) in cases {
        let url = format!("{}{path}", server.url);
        let start = std::time::Instant::now();
        let out = refresh(&url, root, extra);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(expected), "{path}: {}", text(&out));
        assert!(start.elapsed().as_secs() < 20);
    }
    assert_eq!(before, lock_text(ws.path()));
    assert!(!ws.path().join("openapi/metadefender-core.json").exists());
}

#[test]
fn diff_exit_codes() {
    let v561 = shared("5.6.1/openapi.json");
    let v418 = shared("4.18.0");
    let same = xtask(&[
        "spec",
        "diff",
        v561.to_str().unwrap(),
        v561.to_str().unwrap(),
        "--fail-on",
        "INFO",
    ]);
    assert!(same.status.success(), "{}", text(&same));
    assert!(String::from_utf8_lossy(&same.stdout).contains("no changes"));

    let breaking = xtask(&[
        "spec",
        "diff",
        v418.to_str().unwrap(),
        v561.to_str().unwrap(),
        "--fail-on",
        "ERR",
        "--format",
        "json",
        "--hide-docs",
    ]);
    assert_eq!(breaking.status.code(), Some(1), "{}", text(&breaking));
    let report: serde_json::Value = serde_json::from_slice(&breaking.stdout).unwrap();
    assert_eq!(report["rust"]["bump"], "minor");

    let yara_only = xtask(&[
        "spec",
        "diff",
        v418.to_str().unwrap(),
        v561.to_str().unwrap(),
        "--operation",
        "yaraPackageGenerate",
        "--format",
        "markdown",
    ]);
    assert!(yara_only.status.success(), "{}", text(&yara_only));
    let md = String::from_utf8_lossy(&yara_only.stdout);
    assert!(
        md.contains("`PUT /yara/generate` → `POST /yara/generate`"),
        "{md}"
    );
    assert!(!md.contains("/file/batch"), "{md}");
}

#[test]
fn diff_reads_multi_file_trees_from_git_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    };
    let write = |rel: &str, content: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    };
    git(&["init", "-q"]);
    write(
        "spec/openapi.yaml",
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: paths/a.yaml\n",
    );
    write("spec/paths/a.yaml", "get:\n  operationId: getA\n  responses:\n    '200':\n      description: ok\n      content:\n        application/json:\n          schema: {$ref: ../schemas/Thing.yaml}\n");
    write(
        "spec/schemas/Thing.yaml",
        "type: string\nenum: [one, two]\n",
    );
    git(&["add", "."]);
    git(&["commit", "-qm", "one"]);
    write(
        "spec/schemas/Thing.yaml",
        "type: string\nenum: [one, two, three]\n",
    );
    git(&["commit", "-qam", "two"]);
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "spec",
            "diff",
            "git:HEAD~1:spec",
            "git:HEAD:spec",
            "--fail-on",
            "WARN",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("WARN schema Thing: enum value three added"),
        "{stdout}"
    );
    // The working tree (a plain folder) and HEAD agree.
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["spec", "diff", "git:HEAD:spec", "spec", "--fail-on", "INFO"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}
