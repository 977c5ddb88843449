//! The other subcommands: hash, download, batch, version, engines, login, quickstart, and
//! --embedded.

mod common;

use std::fs;

use common::*;
use mdcore_sim::{AuthConfig, SimConfig};
use predicates::prelude::*;

#[test]
fn hash_looks_a_verdict_up() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("eicar.com");
    fs::write(&f, eicar()).unwrap();
    let out = sim
        .mdcore()
        .args(["--json", "scan", "--wait"])
        .arg(&f)
        .output()
        .unwrap();
    let sha = json_lines(&out.stdout)[0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    sim.mdcore()
        .args(["hash", &sha])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "eicar.com: infected: EICAR-Test-File",
        ));
    sim.mdcore()
        .args(["hash", &"0".repeat(64)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no result for this hash"));
}

#[test]
fn download_writes_the_sanitized_file() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("doc.txt");
    let mut content = b"text ".to_vec();
    content.extend_from_slice(&eicar());
    fs::write(&f, &content).unwrap();
    let out = sim
        .mdcore()
        .args(["scan", "--wait", "--rule", "sanitize"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let id = data_id_in(&stdout_of(&out));
    let target = dir.path().join("clean-doc.txt");
    sim.mdcore()
        .args(["download", &id, "-o"])
        .arg(&target)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("wrote the sanitized file"));
    let copy = fs::read(&target).unwrap();
    assert_eq!(copy.len(), content.len());
    assert!(!holds_eicar(&copy));

    // A scan without a sanitized file.
    let plain = dir.path().join("plain.txt");
    fs::write(&plain, "fine").unwrap();
    let out = sim
        .mdcore()
        .args(["scan", "--wait"])
        .arg(&plain)
        .output()
        .unwrap();
    let id = data_id_in(&stdout_of(&out));
    sim.mdcore()
        .args(["download", &id, "-o"])
        .arg(dir.path().join("none"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no sanitized file"));
    assert!(!dir.path().join("none").exists());
}

#[test]
fn batch_scan_gives_each_file_and_the_batch_verdict() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("in");
    fs::create_dir(&files).unwrap();
    fs::write(files.join("a.txt"), "fine").unwrap();
    fs::write(files.join("b.txt"), "fine too").unwrap();
    fs::write(files.join("e.com"), eicar()).unwrap();
    let cert = dir.path().join("batch.cert");
    let out = sim
        .mdcore()
        .args(["batch", "scan", "--certificate"])
        .arg(&cert)
        .arg(&files)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(stdout.contains("a.txt: clean"), "{stdout}");
    assert!(stdout.contains("e.com: infected"), "{stdout}");
    let batch_line = stdout
        .lines()
        .find(|l| l.starts_with("batch "))
        .expect("batch line");
    assert!(batch_line.contains("infected"), "{batch_line}");
    assert!(fs::read_to_string(&cert).unwrap().contains("signature"));

    let id = batch_line["batch ".len()..].split(':').next().unwrap();
    sim.mdcore()
        .args(["batch", "status", id])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("closed, 3 files"));
    sim.mdcore()
        .args(["batch", "certificate", id])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("signature"));

    // JSON: one line per file, then the batch.
    fs::remove_file(files.join("e.com")).unwrap();
    let out = sim
        .mdcore()
        .args(["--json", "batch", "scan"])
        .arg(&files)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["verdict"], "clean");
    assert!(lines[2]["batch_id"].is_string());
}

#[test]
fn version_and_engines_describe_the_server() {
    let sim = Sim::start();
    sim.mdcore().arg("version").assert().code(0).stdout(
        predicate::str::contains(concat!("mdcore ", env!("CARGO_PKG_VERSION")))
            .and(predicate::str::contains("5.6.1")),
    );
    let out = sim.mdcore().args(["--json", "engines"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let engines = json_lines(&out.stdout);
    assert!(
        engines
            .iter()
            .any(|e| e["eng_name"].as_str().is_some_and(|n| n.contains("ClamAV"))),
        "{engines:?}"
    );
    sim.mdcore()
        .arg("engines")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("ClamAV"));
}

#[test]
fn login_saves_a_session_for_apikey_file() {
    const PASSWORD: &str = "pw-SECRET-31337";
    let sim = Sim::with(SimConfig::default().auth(AuthConfig::default().user("alice", PASSWORD)));
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("session");
    let out = sim
        .mdcore()
        .env("MDCORE_PASSWORD", PASSWORD)
        .args(["login", "--user", "alice", "-o"])
        .arg(&session)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let id = fs::read_to_string(&session).unwrap().trim().to_string();
    assert!(!id.is_empty());
    let shown = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(!shown.contains(&id) && !shown.contains(PASSWORD), "{shown}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&session).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let f = dir.path().join("a.txt");
    fs::write(&f, "fine").unwrap();
    sim.mdcore()
        .arg("--apikey-file")
        .arg(&session)
        .args(["scan", "--wait"])
        .arg(&f)
        .assert()
        .code(0);

    // To stdout, asked for explicitly: the id alone, or one JSON object.
    let out = sim
        .mdcore()
        .args([
            "--json",
            "login",
            "--user",
            "alice",
            "--password-stdin",
            "-o",
            "-",
        ])
        .write_stdin(format!("{PASSWORD}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["user"], "alice");
    assert!(v["session_id"].as_str().is_some_and(|s| !s.is_empty()));

    // A wrong password is refused.
    sim.mdcore()
        .args(["login", "--user", "alice", "--password-stdin", "-o", "-"])
        .write_stdin("not-the-password\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("login as alice").and(predicate::str::contains("403")));
    sim.mdcore()
        .args(["login", "--user", "alice", "-o", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("MDCORE_PASSWORD"));
}

#[test]
fn embedded_needs_no_server() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("e.com");
    fs::write(&f, eicar()).unwrap();
    mdcore()
        .args([
            "--url",
            "http://127.0.0.1:9",
            "--embedded",
            "scan",
            "--wait",
        ])
        .arg(&f)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("e.com: infected"));
    mdcore()
        .args(["--embedded", "version"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("embedded simulator"));
}

#[test]
fn quickstart_shows_verdicts_and_a_sanitized_copy() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = mdcore()
        .args(["quickstart", "--dir"])
        .arg(&demo)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    let stdout = stdout_of(&out);
    for expected in [
        "clean.txt: clean",
        "eicar.com: infected: EICAR-Test-File",
        "bundle.zip: infected: EICAR-Test-File in bundle.zip/eicar.com",
        "invoice.txt: infected: EICAR-Test-File; sanitized copy: ",
        "Everything came out as expected",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }
    let copies: Vec<_> = fs::read_dir(demo.join("sanitized")).unwrap().collect();
    assert_eq!(copies.len(), 1);
    let copy = fs::read(copies[0].as_ref().unwrap().path()).unwrap();
    assert!(!holds_eicar(&copy));
    assert!(holds_eicar(&fs::read(demo.join("invoice.txt")).unwrap()));

    // JSON: the four results only on stdout.
    let out = mdcore()
        .args(["--json", "quickstart", "--dir"])
        .arg(dir.path().join("demo2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_lines(&out.stdout).len(), 4);
}
