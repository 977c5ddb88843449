//! A tampered or missing pinned document fails the build with a message naming the file, the
//! expected and actual sha256, and the command that refreshes the pin. The test runs this
//! crate's compiled build script against a temporary copy of `openapi/`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The newest compiled build script of this package in the target directory.
fn build_script() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/<profile>/deps/<test binary>
    let build_dir = exe.parent()?.parent()?.join("build");
    std::fs::read_dir(build_dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("metadefender-core-")
        })
        .map(|e| e.path().join("build-script-build"))
        .filter(|p| p.is_file())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

/// A temporary package root with the real lock and rules and the given pinned document.
fn temp_root(document: Option<&[u8]>, lock_edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("openapi")).unwrap();
    let lock = std::fs::read_to_string(root().join("openapi/lock.toml")).unwrap();
    // The read-only copy is found relative to the package root; point it at the real one.
    let real_local = root().join("../shared/openapi/metadefender-core/5.6.1/openapi.json");
    let lock = lock.replace(
        "local = \"../shared/openapi/metadefender-core/5.6.1/openapi.json\"",
        &format!("local = \"{}\"", real_local.display()),
    );
    std::fs::write(dir.path().join("openapi/lock.toml"), lock_edit(lock)).unwrap();
    std::fs::copy(
        root().join("openapi/rules.toml"),
        dir.path().join("openapi/rules.toml"),
    )
    .unwrap();
    if let Some(doc) = document {
        std::fs::write(dir.path().join("openapi/metadefender-core.json"), doc).unwrap();
    }
    dir
}

fn run_build_script(package_root: &Path) -> (bool, String) {
    let script =
        build_script().expect("the build script of this package was compiled to run these tests");
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(script)
        .env("CARGO_MANIFEST_DIR", package_root)
        .env("OUT_DIR", out.path())
        .env_remove("METADEFENDER_OPENAPI")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn tampered_document_fails_the_build() {
    let real = std::fs::read(root().join("../shared/openapi/metadefender-core/5.6.1/openapi.json"))
        .unwrap();
    let mut tampered = real.clone();
    let i = tampered.iter().position(|b| *b == b'5').unwrap();
    tampered[i] = b'6';
    let dir = temp_root(Some(&tampered), |l| l);
    let (ok, stderr) = run_build_script(dir.path());
    assert!(!ok, "a tampered document must fail the build");
    let actual = mdcore_codegen::lock::sha256_hex(&tampered);
    assert!(
        stderr.contains("openapi/metadefender-core.json"),
        "names the file: {stderr}"
    );
    assert!(
        stderr.contains("c6ebc0b4328eae98b8b4f99f1eaa869bb1f3d5336f2d85b3d75875c9b61d6823"),
        "expected hash: {stderr}"
    );
    assert!(stderr.contains(&actual), "actual hash: {stderr}");
    assert!(
        stderr.contains("cargo xtask spec refresh"),
        "the refresh command: {stderr}"
    );
}

#[test]
fn missing_document_fails_the_build() {
    let dir = temp_root(None, |l| {
        l.lines()
            .map(|line| {
                if line.starts_with("local = ") {
                    "local = \"no/such/openapi.json\"".to_string()
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let (ok, stderr) = run_build_script(dir.path());
    assert!(!ok);
    assert!(
        stderr.contains("no/such/openapi.json"),
        "names the file: {stderr}"
    );
    assert!(
        stderr.contains("cargo xtask spec refresh"),
        "the refresh command: {stderr}"
    );
}

#[test]
fn pinned_document_builds() {
    let real = std::fs::read(root().join("../shared/openapi/metadefender-core/5.6.1/openapi.json"))
        .unwrap();
    let dir = temp_root(Some(&real), |l| l);
    let (ok, stderr) = run_build_script(dir.path());
    assert!(ok, "{stderr}");
}
