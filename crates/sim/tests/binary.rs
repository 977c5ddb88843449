//! The `mdcore-sim` binary: options, start-up line, a request, and bad arguments.

use std::io::BufRead;
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mdcore-sim"))
}

#[test]
fn help_and_bad_arguments() {
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--listen ADDR"));
    for args in [
        &["--listen", "nowhere"][..],
        &["--phase-ms"],
        &["--user", "nocolon"],
        &["--bogus"],
    ] {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("mdcore-sim:"),
            "{args:?}"
        );
    }
}

/// Kills the child even when an assertion fails.
struct Guard(std::process::Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serves_with_auth_options() {
    let mut child = bin()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--apikey",
            "k",
            "--user",
            "u:p",
            "--not-found-style",
            "body",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = Guard(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = c.get(format!("{url}/version")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = c
        .get(format!("{url}/file/abc"))
        .header("apikey", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["abc"], "Not Found");
    let r = c
        .post(format!("{url}/login"))
        .body(r#"{"user":"u","password":"p"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
