//! No tracked file holds the upstream OpenAPI documents or their description texts: the
//! repository reads them from `../shared/openapi/` and pins them by hash.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn collect_prose(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if matches!(k.as_str(), "description" | "summary") {
                    if let Some(s) = v.as_str() {
                        // Short strings ("OK", "Bad request") are not authored prose.
                        let s = s.trim();
                        if s.len() >= 60 {
                            out.insert(s.chars().take(60).collect());
                        }
                    }
                }
                collect_prose(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_prose(v, out)),
        _ => {}
    }
}

fn upstream_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            upstream_files(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("json" | "yaml" | "yml")
        ) {
            out.push(p);
        }
    }
}

#[test]
fn tracked_files_hold_no_upstream_document_or_prose() {
    let Ok(ls) = Command::new("git")
        .arg("ls-files")
        .current_dir(root())
        .output()
    else {
        eprintln!("skipped: git is not available");
        return;
    };
    if !ls.status.success() {
        eprintln!("skipped: not a git checkout");
        return;
    }
    let mut docs = Vec::new();
    upstream_files(&root().join("../shared/openapi"), &mut docs);
    assert!(docs.len() > 10, "the upstream documents are readable");
    let mut prose = BTreeSet::new();
    let mut hashes = BTreeSet::new();
    for d in &docs {
        let bytes = std::fs::read(d).unwrap();
        hashes.insert(mdcore_codegen::lock::sha256_hex(&bytes));
        if let Ok(v) = mdcore_codegen::document::parse(d, &bytes) {
            collect_prose(&v, &mut prose);
        } else if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
            collect_prose(&v, &mut prose);
        }
    }
    assert!(
        prose.len() > 50,
        "found the upstream prose to look for ({})",
        prose.len()
    );
    let mut offenders = Vec::new();
    for rel in String::from_utf8_lossy(&ls.stdout).lines() {
        let path = root().join(rel);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if hashes.contains(&mdcore_codegen::lock::sha256_hex(&bytes)) {
            offenders.push(format!("{rel}: a copy of an upstream document"));
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Some(p) = prose.iter().find(|p| text.contains(p.as_str())) {
            offenders.push(format!("{rel}: upstream description text \"{p}...\""));
        }
    }
    assert!(
        offenders.is_empty(),
        "upstream material in tracked files:\n{}",
        offenders.join("\n")
    );
}
