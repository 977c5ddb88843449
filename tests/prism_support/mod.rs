//! Support for the Prism conformance tests (`tests/prism.rs`, `tests/prism_proxy.rs`):
//! arguments from the document, a recording relay, Prism's verdict, the committed
//! expectations and the report.
#![allow(dead_code)]

pub mod args;
pub mod examples;
pub mod oracle;
pub mod relay;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The workspace root (this package's manifest directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The document the client was generated from, as Prism reads it: the pinned one, or the one
/// `METADEFENDER_OPENAPI` names (as for `build.rs`), so that a new document is checked without
/// editing the tests.
pub fn pinned_document() -> Value {
    if let Some(path) = std::env::var_os("METADEFENDER_OPENAPI").map(PathBuf::from) {
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("METADEFENDER_OPENAPI={}: {e}", path.display()));
        return mdcore_codegen::document::parse(&path, &bytes)
            .unwrap_or_else(|e| panic!("METADEFENDER_OPENAPI: {e}"));
    }
    let root = root();
    let lock = mdcore_codegen::lock::Lock::load(&root).expect("openapi/lock.toml loads");
    let (path, bytes) = lock
        .read_verified(&root)
        .expect("the pinned document matches its sha256");
    mdcore_codegen::document::parse(&path, &bytes).expect("the pinned document parses")
}

/// The address in the environment variable `var`, or `None` after saying why the test is
/// skipped.
pub fn server_from_env(var: &str, how: &str) -> Option<SocketAddr> {
    let Ok(url) = std::env::var(var) else {
        eprintln!("skipped: {var} is not set ({how})");
        return None;
    };
    let parsed = url::Url::parse(&url).unwrap_or_else(|e| panic!("{var}={url}: {e}"));
    let addr = parsed
        .socket_addrs(|| None)
        .ok()
        .and_then(|a| a.into_iter().next())
        .unwrap_or_else(|| panic!("{var}={url}: no host and port"));
    Some(addr)
}

/// Where reports go: `target/conformance/` of the workspace.
pub fn report_dir() -> PathBuf {
    let dir = root().join("target").join("conformance");
    std::fs::create_dir_all(&dir).expect("target/conformance can be created");
    dir
}

/// `[[entry]]` tables of a committed TOML file, keyed by `key`, with their `reason`.
pub fn expectations(path: &Path, table: &str, key: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let parsed: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()));
    let mut out = BTreeMap::new();
    for entry in parsed
        .get(table)
        .and_then(|t| t.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let id = entry
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("{}: an entry without `{key}`", path.display()));
        let reason = entry
            .get("reason")
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("{}: `{id}` has no reason", path.display()));
        assert!(
            out.insert(id.to_string(), reason.to_string()).is_none(),
            "{}: `{id}` is listed twice",
            path.display()
        );
    }
    out
}

/// Compares what was observed with what is committed; the message lists both directions.
pub fn compare_with_expectation(
    what: &str,
    file: &str,
    observed: &BTreeMap<String, String>,
    expected: &BTreeMap<String, String>,
) -> Result<(), String> {
    let new: Vec<String> = observed
        .iter()
        .filter(|(k, _)| !expected.contains_key(*k))
        .map(|(k, why)| format!("  + {k}: {why}"))
        .collect();
    let fixed: Vec<&String> = expected
        .keys()
        .filter(|k| !observed.contains_key(*k))
        .collect();
    if new.is_empty() && fixed.is_empty() {
        return Ok(());
    }
    let mut msg = format!("{what} differ from {file}:\n");
    if !new.is_empty() {
        msg.push_str("not listed (fix the cause, or list it with the reason):\n");
        msg.push_str(&new.join("\n"));
        msg.push('\n');
    }
    if !fixed.is_empty() {
        msg.push_str("listed but not observed any more (remove them):\n");
        for k in fixed {
            msg.push_str(&format!("  - {k}\n"));
        }
    }
    Err(msg)
}

/// Escapes text for a Markdown table cell.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
