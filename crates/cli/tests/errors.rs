//! Failures a user meets: no server, refused or missing credentials, bad arguments. Each exits
//! 2 with a message that says what to do, and never shows the apikey.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::*;
use mdcore_sim::{AuthConfig, SimConfig};
use predicates::prelude::*;

const GOOD_KEY: &str = "good-key-4f1c9a";
const WRONG_KEY: &str = "wrong-key-SECRET-77e2d1";

fn auth_sim() -> Sim {
    Sim::with(SimConfig::default().auth(AuthConfig::with_apikey(GOOD_KEY)))
}

#[test]
fn server_down_exits_2_with_a_clear_message() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.txt");
    fs::write(&f, "fine").unwrap();
    let started = Instant::now();
    let out = mdcore()
        .args(["--url", &url, "scan", "--wait"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!("cannot reach MetaDefender Core at {url}")),
        "{err}"
    );
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(
        err.contains("--embedded"),
        "the hint names the way out: {err}"
    );
    assert!(stdout_of(&out).is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "fails fast, not after retries"
    );

    // Same through MDCORE_URL, for another command.
    mdcore()
        .env("MDCORE_URL", &url)
        .arg("version")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot reach MetaDefender Core"));
}

/// The server answers the first request (the check) and then stops listening: the run ends at
/// the first file that cannot reach it instead of trying every other file too.
#[test]
fn a_server_that_goes_away_stops_the_run() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "request cut short");
            req.extend_from_slice(&buf[..n]);
        }
        assert!(
            req.starts_with(b"GET /version "),
            "{}",
            String::from_utf8_lossy(&req)
        );
        let body = r#"{"product_id":"MSCL","version":"5.6.1.0"}"#;
        write!(
            s,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        // The listener is dropped here: every later connection is refused.
    });
    let dir = tempfile::tempdir().unwrap();
    for i in 0..12 {
        fs::write(dir.path().join(format!("f{i:02}.txt")), "fine").unwrap();
    }
    let started = Instant::now();
    let out = mdcore()
        .args(["--url", &url, "scan", "--wait", "--concurrency", "2"])
        .arg(dir.path())
        .output()
        .unwrap();
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("cannot reach MetaDefender Core"),
        "{stdout}"
    );
    assert!(stdout.lines().count() < 12, "stopped early: {stdout}");
    assert!(
        stderr_of(&out).contains("stopped: the server cannot be used"),
        "{}",
        stderr_of(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_wrong_apikey_exits_2_and_is_never_shown() {
    let sim = auth_sim();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.txt");
    fs::write(&f, "fine").unwrap();
    for json in [false, true] {
        let mut cmd = sim.mdcore();
        cmd.env("MDCORE_APIKEY", WRONG_KEY);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.args(["scan", "--wait"]).arg(&f).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = stderr_of(&out);
        assert!(
            err.contains("refused the request: HTTP 403 (Access denied)"),
            "{err}"
        );
        assert!(err.contains("wrong or expired"), "{err}");
        assert!(!err.contains(WRONG_KEY) && !stdout_of(&out).contains(WRONG_KEY));
    }
}

#[test]
fn a_missing_apikey_says_how_to_give_one() {
    let sim = auth_sim();
    sim.mdcore()
        .arg("engines")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "set MDCORE_APIKEY or pass --apikey-file",
        ));
}

#[test]
fn the_apikey_comes_from_the_environment_or_a_file() {
    let sim = auth_sim();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.txt");
    fs::write(&f, "fine").unwrap();
    let out = sim
        .mdcore()
        .env("MDCORE_APIKEY", GOOD_KEY)
        .args(["--json", "scan", "--wait"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!stdout_of(&out).contains(GOOD_KEY) && !stderr_of(&out).contains(GOOD_KEY));

    // The file wins over the environment; its trailing newline is not part of the key.
    let keyfile = dir.path().join("key");
    fs::write(&keyfile, format!("{GOOD_KEY}\n")).unwrap();
    sim.mdcore()
        .env("MDCORE_APIKEY", WRONG_KEY)
        .arg("--apikey-file")
        .arg(&keyfile)
        .args(["scan", "--wait"])
        .arg(&f)
        .assert()
        .code(0);

    let empty = dir.path().join("empty");
    fs::write(&empty, "\n").unwrap();
    sim.mdcore()
        .arg("--apikey-file")
        .arg(&empty)
        .arg("version")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is empty"));
    sim.mdcore()
        .arg("--apikey-file")
        .arg(dir.path().join("absent"))
        .arg("version")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read the apikey file"));
}

#[test]
fn usage_errors_exit_2_and_help_documents_the_exit_codes() {
    mdcore().arg("scan").assert().code(2);
    mdcore()
        .args(["scan", "--concurrency", "0", "x"])
        .assert()
        .code(2);
    mdcore().arg("no-such-command").assert().code(2);
    mdcore()
        .args(["--url", "ftp://example", "version"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid server"));
    mdcore().arg("--help").assert().code(0).stdout(
        predicate::str::contains("Exit codes:")
            .and(predicate::str::contains("0  all clean"))
            .and(predicate::str::contains("1  a threat or block was found"))
            .and(predicate::str::contains("2  usage error")),
    );
    let sim = Sim::start();
    sim.mdcore()
        .args(["hash", "not-a-hash"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not an md5, sha1 or sha256"));
}
