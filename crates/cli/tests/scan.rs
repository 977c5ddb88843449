//! `mdcore scan` against the simulator: verdicts, archives, sanitized copies, unreadable
//! entries, NDJSON, hash-first, callbacks, submit without waiting.

mod common;

use std::fs;

use common::*;
use predicates::prelude::*;

#[test]
fn a_clean_file_exits_0() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("notes.txt");
    fs::write(&f, "nothing to see\n").unwrap();
    sim.mdcore()
        .args(["scan", "--wait"])
        .arg(&f)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("notes.txt: clean  [data_id "))
        .stderr(predicate::str::contains("1 file: 1 clean"));
    // Not a terminal: plain lines, no progress bars or other control sequences.
    let out = sim
        .mdcore()
        .args(["scan", "--wait"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
}

#[test]
fn an_infected_file_exits_1_and_names_the_threat() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("eicar.com");
    fs::write(&f, eicar()).unwrap();
    let out = sim
        .mdcore()
        .args(["scan", "--wait"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let line = stdout_of(&out);
    // Four engines report it; it is named once.
    assert!(
        line.contains("eicar.com: infected: EICAR-Test-File  [data_id "),
        "{line}"
    );
}

#[test]
fn an_archive_names_the_member_holding_the_threat() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("bundle.zip");
    let e = eicar();
    write_zip(
        &zip,
        &[
            ("a.txt", b"fine"),
            ("docs/b.txt", b"also fine"),
            ("x/eicar.com", &e),
        ],
    );
    sim.mdcore()
        .args(["scan", "--wait"])
        .arg(&zip)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "bundle.zip: infected: EICAR-Test-File in bundle.zip/x/eicar.com",
        ));

    let clean_zip = dir.path().join("clean.zip");
    write_zip(&clean_zip, &[("a.txt", b"fine"), ("b.txt", b"fine too")]);
    sim.mdcore()
        .args(["scan", "--wait"])
        .arg(&clean_zip)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("clean.zip: clean"));
}

#[test]
fn the_sanitizing_rule_writes_a_sanitized_copy() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("report.txt");
    let mut content = b"quarterly report\n".to_vec();
    content.extend_from_slice(&eicar());
    content.extend_from_slice(b"\nend\n");
    fs::write(&doc, &content).unwrap();
    let outdir = dir.path().join("clean-copies");
    let out = sim
        .mdcore()
        .args(["scan", "--rule", "sanitize", "--sanitized-out"])
        .arg(&outdir)
        .arg(&doc)
        .output()
        .unwrap();
    // --sanitized-out implies --wait: the verdict is there.
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(stdout.contains("sanitized copy: "), "{stdout}");
    let copies: Vec<_> = fs::read_dir(&outdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(
        stdout.contains(&copies[0].display().to_string()),
        "{stdout}"
    );
    let copy = fs::read(&copies[0]).unwrap();
    assert_eq!(copy.len(), content.len());
    assert!(!holds_eicar(&copy));
    assert!(copy.starts_with(b"quarterly report\n"));

    // Same again: the first copy is not replaced.
    sim.mdcore()
        .args(["scan", "--rule", "sanitize", "--sanitized-out"])
        .arg(&outdir)
        .arg(&doc)
        .assert()
        .code(1);
    assert_eq!(fs::read_dir(&outdir).unwrap().count(), 2);

    // The output directory inside the scanned tree is not scanned itself.
    let out = sim
        .mdcore()
        .args(["--json", "scan", "--rule", "sanitize", "--sanitized-out"])
        .arg(&outdir)
        .arg(dir.path())
        .output()
        .unwrap();
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 1, "only report.txt: {lines:?}");
    assert_eq!(fs::read_dir(&outdir).unwrap().count(), 3);

    // A rule that does not sanitize: said so, not an error.
    let clean = dir.path().join("clean.txt");
    fs::write(&clean, "fine").unwrap();
    sim.mdcore()
        .args(["scan", "--sanitized-out"])
        .arg(&outdir)
        .arg(&clean)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "no sanitized copy (the rule did not sanitize it)",
        ));
}

/// Entries that fail for root too: a dangling symlink and a FIFO (which would block a reader
/// forever). Both are reported, the rest is scanned.
#[cfg(unix)]
#[test]
fn unreadable_entries_are_reported_and_skipped() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("good.txt"), "fine").unwrap();
    std::os::unix::fs::symlink(root.join("does-not-exist"), root.join("broken-link")).unwrap();
    let fifo = root.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let out = sim
        .mdcore()
        .args(["scan", "--wait"])
        .arg(root)
        .output()
        .unwrap();
    let stdout = stdout_of(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no threat, but not all clean: {stdout}"
    );
    assert!(stdout.contains("good.txt: clean"), "{stdout}");
    assert!(
        stdout.contains("broken-link: error: cannot read: No such file or directory"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pipe: error: not a regular file (a FIFO)"),
        "{stdout}"
    );
    assert!(
        stderr_of(&out).contains("3 files: 1 clean, 2 failed"),
        "{}",
        stderr_of(&out)
    );

    // A file without read permission, where that means something (not for root).
    let locked = root.join("locked.txt");
    fs::write(&locked, "secret").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&locked).is_err() {
        sim.mdcore()
            .args(["scan", "--wait"])
            .arg(&locked)
            .assert()
            .code(2)
            .stdout(
                predicate::str::contains("locked.txt: error: ")
                    .and(predicate::str::contains("ermission denied")),
            );
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o600)).unwrap();

    // A threat beside an unreadable entry: exit 1 (the threat matters more).
    fs::write(root.join("eicar.com"), eicar()).unwrap();
    sim.mdcore()
        .args(["scan", "--wait"])
        .arg(root)
        .assert()
        .code(1);

    // A path that does not exist at all.
    sim.mdcore()
        .args(["scan", "--wait"])
        .arg(root.join("nope.txt"))
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "nope.txt: error: cannot read: No such file or directory",
        ));
}

#[test]
fn json_gives_one_object_per_result() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir(root.join("sub")).unwrap();
    fs::write(root.join("a.txt"), "fine").unwrap();
    fs::write(root.join("sub/eicar.com"), eicar()).unwrap();
    let e = eicar();
    write_zip(
        &root.join("sub/pack.zip"),
        &[("ok.txt", b"fine"), ("e.com", &e)],
    );
    fs::write(root.join("sub/b.txt"), "also fine").unwrap();
    let missing = root.join("missing.bin");
    let out = sim
        .mdcore()
        .args(["--json", "scan", "--wait", "--concurrency", "2"])
        .arg(root)
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 5, "{lines:?}");
    let by_name = |suffix: &str| {
        lines
            .iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(suffix))
            .unwrap_or_else(|| panic!("no line for {suffix}"))
            .clone()
    };
    let a = by_name("a.txt");
    assert_eq!(a["status"], "done");
    assert_eq!(a["verdict"], "clean");
    assert_eq!(a["code"], 0);
    assert_eq!(a["exit"], 0);
    assert_eq!(a["data_id"].as_str().unwrap().len(), 32);
    assert_eq!(a["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(a["from_cache"], false);
    let e = by_name("sub/eicar.com");
    assert_eq!(e["verdict"], "infected");
    assert_eq!(e["code"], 1);
    assert_eq!(e["code_name"], "Infected");
    assert_eq!(e["exit"], 1);
    let threats = e["threats"].as_array().unwrap();
    assert_eq!(threats.len(), 4, "one per engine");
    assert!(threats
        .iter()
        .all(|t| t["name"] == "EICAR-Test-File" && t["engine"].is_string()));
    let z = by_name("pack.zip");
    assert_eq!(z["verdict"], "infected");
    assert!(z["threats"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["file"] == "pack.zip/e.com"));
    let m = by_name("missing.bin");
    assert_eq!(m["status"], "error");
    assert_eq!(m["exit"], 2);
    assert!(m["error"].as_str().unwrap().contains("No such file"));
    // No summary or other text on stdout in JSON mode.
    assert!(!stdout_of(&out).contains("files:"));
}

#[test]
fn without_wait_files_are_submitted_and_can_be_followed_up() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("eicar.com");
    fs::write(&f, eicar()).unwrap();
    let out = sim.mdcore().arg("scan").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let line = stdout_of(&out);
    assert!(line.contains("eicar.com: submitted  [data_id "), "{line}");
    let id = data_id_in(&line);
    sim.mdcore()
        .args(["status", "--wait", &id])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "eicar.com: infected: EICAR-Test-File",
        ));
    // Finished now: without --wait too.
    let out = sim
        .mdcore()
        .args(["--json", "status", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["status"], "done");
    assert_eq!(v["data_id"], id.as_str());
}

#[test]
fn hash_first_reuses_a_finished_result() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("same.txt");
    fs::write(&f, "scan me once").unwrap();
    sim.mdcore()
        .args(["scan", "--wait", "--hash-first"])
        .arg(&f)
        .assert()
        .code(0);
    let out = sim
        .mdcore()
        .args(["--json", "scan", "--hash-first"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["from_cache"], true, "{v}");
    assert_eq!(v["verdict"], "clean");
    assert_eq!(sim.counters().uploads, 1);
}

#[test]
fn callback_mode_gets_results_without_polling() {
    let sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "fine").unwrap();
    fs::write(dir.path().join("e.com"), eicar()).unwrap();
    sim.mdcore()
        .args(["scan", "--callback", "127.0.0.1:0"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("a.txt: clean")
                .and(predicate::str::contains("e.com: infected")),
        );
    let c = sim.counters();
    assert_eq!(c.get("GET /file/{data_id}"), 0, "{c:?}");
    assert!(c.callbacks >= 2, "{c:?}");

    sim.mdcore()
        .args(["scan", "--callback", "not an address"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--callback not an address"));
}
