//! `status`, `hash` and `download`: one scan, named by its data id or a hash.

use metadefender_core::scan::{is_finished, is_not_found_body, ScanError};
use metadefender_core::types::AnalysisResult;
use serde_json::json;

use crate::cli::{DownloadArgs, HashArgs, StatusArgs};
use crate::error::CliError;
use crate::outcome::{Exit, Finished, Outcome};
use crate::output::Output;
use crate::server::Server;

fn scan_err(server: &Server, e: ScanError) -> CliError {
    CliError::from_scan(server.url(), server.ctx.had_key, e)
}

fn display_name(r: &AnalysisResult) -> Option<String> {
    r.file_info.as_ref()?.display_name.clone()
}

/// `mdcore status DATA_ID [--wait]`.
pub async fn status(server: &Server, out: &Output, a: &StatusArgs) -> Result<Exit, CliError> {
    let (name, outcome) = if a.wait {
        let r = server
            .scanner
            .wait_for(&a.data_id)
            .await
            .map_err(|e| scan_err(server, e))?;
        let outcome = Outcome::Done {
            finished: Finished::from_report(&r),
            sanitized: None,
            sanitize_note: None,
        };
        (r.file_name().map(str::to_string), outcome)
    } else {
        let r = server
            .scanner
            .result(&a.data_id)
            .await
            .map_err(|e| scan_err(server, e))?;
        let outcome = if is_finished(&r) {
            Outcome::Done {
                finished: Finished::from_result(&a.data_id, &r),
                sanitized: None,
                sanitize_note: None,
            }
        } else {
            let percent = r
                .process_info
                .as_ref()
                .and_then(|p| p.progress_percentage)
                .or_else(|| r.scan_results.as_ref().and_then(|s| s.progress_percentage));
            Outcome::Running {
                data_id: a.data_id.clone(),
                percent,
            }
        };
        (display_name(&r), outcome)
    };
    out.id_result(name.as_deref().unwrap_or(&a.data_id), &outcome);
    Ok(outcome.exit())
}

/// Whether `s` looks like an md5, sha1 or sha256 in hex.
pub fn is_hash(s: &str) -> bool {
    matches!(s.len(), 32 | 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `mdcore hash HASH`.
pub async fn hash(server: &Server, out: &Output, a: &HashArgs) -> Result<Exit, CliError> {
    let hash = a.hash.trim();
    if !is_hash(hash) {
        return Err(CliError::Usage(format!(
            "`{hash}` is not an md5, sha1 or sha256 (32, 40 or 64 hex digits)"
        )));
    }
    let unknown = || CliError::Server {
        what: format!("hash lookup of {hash}"),
        status: 404,
        message: "the server has no result for this hash".into(),
    };
    let r = match server.client().hash_get().hash(hash).send().await {
        Ok(rv) => rv.into_inner(),
        Err(e) => {
            return Err(
                match server.ctx.error(&format!("hash lookup of {hash}"), e).await {
                    CliError::Server { status: 404, .. } => unknown(),
                    other => other,
                },
            )
        }
    };
    if is_not_found_body(&r) {
        return Err(unknown());
    }
    let outcome = if is_finished(&r) {
        Outcome::Done {
            finished: Finished::from_result("", &r),
            sanitized: None,
            sanitize_note: None,
        }
    } else {
        Outcome::Running {
            data_id: r.data_id.clone().unwrap_or_default(),
            percent: r.scan_results.as_ref().and_then(|s| s.progress_percentage),
        }
    };
    let name = display_name(&r).unwrap_or_else(|| hash.to_string());
    out.id_result(&name, &outcome);
    Ok(outcome.exit())
}

/// `mdcore download DATA_ID -o FILE`.
pub async fn download(server: &Server, out: &Output, a: &DownloadArgs) -> Result<Exit, CliError> {
    let d = server
        .scanner
        .download_sanitized_to_file(&a.data_id, &a.output)
        .await
        .map_err(|e| scan_err(server, e))?;
    if out.json() {
        out.json_line(&json!({
            "status": "downloaded",
            "data_id": a.data_id,
            "file": a.output.display().to_string(),
            "server_name": d.file_name,
            "bytes": d.bytes,
        }));
    } else {
        out.line(&format!(
            "wrote the sanitized file of {} to {} ({} bytes)",
            a.data_id,
            a.output.display(),
            d.bytes
        ));
    }
    Ok(Exit::Clean)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_recognised_by_length_and_digits() {
        assert!(super::is_hash(&"a".repeat(32)));
        assert!(super::is_hash(&"F".repeat(40)));
        assert!(super::is_hash(&"0".repeat(64)));
        assert!(!super::is_hash(&"0".repeat(63)));
        assert!(!super::is_hash(&"g".repeat(32)));
    }
}
