//! `mdcore batch ...`: files scanned as one batch with one verdict and a signed result.

use std::path::PathBuf;

use metadefender_core::scan::{code_name, ScanError, Verdict};
use metadefender_core::types::{AnalysisResult, BatchResponseInProgressBatchFilesFilesInBatchItem};
use serde_json::json;

use crate::cli::{BatchCommand, BatchScanArgs};
use crate::error::{chain, CliError};
use crate::outcome::{Exit, Finished, Outcome, Tally};
use crate::output::Output;
use crate::server::Server;
use crate::walk::{Entry, Walk};

fn scan_err(server: &Server, e: ScanError) -> CliError {
    CliError::from_scan(server.url(), server.ctx.had_key, e)
}

pub async fn run(server: &Server, out: &Output, cmd: &BatchCommand) -> Result<Exit, CliError> {
    match cmd {
        BatchCommand::Scan(a) => scan(server, out, a).await,
        BatchCommand::Status { batch_id } => {
            let s = server
                .scanner
                .batch(batch_id.clone())
                .status()
                .await
                .map_err(|e| scan_err(server, e))?;
            if out.json() {
                out.json_line(&serde_json::to_value(&s).unwrap_or_default());
            } else {
                let closed = if s.is_closed == Some(true) {
                    "closed"
                } else {
                    "open"
                };
                let files = s
                    .batch_files
                    .as_ref()
                    .and_then(|f| f.batch_count)
                    .unwrap_or(0);
                let code = s
                    .scan_results
                    .as_ref()
                    .and_then(|r| r.scan_all_result_i.as_ref())
                    .map(|c| c.0);
                let state = match code {
                    Some(255) | None => "in progress".to_string(),
                    Some(c) => code_name(c)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("result {c}")),
                };
                out.line(&format!(
                    "batch {batch_id}: {closed}, {files} files, {state}"
                ));
            }
            Ok(Exit::Clean)
        }
        BatchCommand::Certificate { batch_id, output } => {
            let text = server
                .scanner
                .batch(batch_id.clone())
                .certificate()
                .await
                .map_err(|e| scan_err(server, e))?;
            match output {
                Some(path) => {
                    write_file(path, &text)?;
                    out.note(&format!(
                        "wrote the signed result of batch {batch_id} to {}",
                        path.display()
                    ));
                }
                None => out.line(text.trim_end()),
            }
            Ok(Exit::Clean)
        }
        BatchCommand::Cancel { batch_id } => {
            server
                .scanner
                .batch(batch_id.clone())
                .cancel()
                .await
                .map_err(|e| scan_err(server, e))?;
            if out.json() {
                out.json_line(&json!({"batch_id": batch_id, "status": "cancelled"}));
            } else {
                out.line(&format!("batch {batch_id}: cancelled"));
            }
            Ok(Exit::Clean)
        }
    }
}

fn write_file(path: &PathBuf, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::io(format!("cannot write {}", path.display()), e))
}

/// Creates the batch, uploads every file, closes it, waits, prints each file and the batch.
async fn scan(server: &Server, out: &Output, a: &BatchScanArgs) -> Result<Exit, CliError> {
    let mut tally = Tally::default();
    let mut files = Vec::new();
    for entry in Walk::new(&a.paths) {
        match entry {
            Entry::File(p) => files.push(p),
            Entry::Problem { path, reason } => {
                let o = Outcome::failed(reason);
                out.file_result(&path, &o);
                tally.add(&o);
            }
        }
    }
    if files.is_empty() {
        out.summary(&tally);
        return Err(CliError::Usage("no file to scan".into()));
    }
    let batch = server
        .scanner
        .create_batch(a.rule.as_deref(), a.user_data.as_deref())
        .await
        .map_err(|e| scan_err(server, e))?;
    out.note(&format!(
        "batch {} created; uploading {} files",
        batch.id(),
        files.len()
    ));
    let added = batch
        .add_many(files.clone(), usize::from(a.concurrency))
        .await;
    let mut uploaded = 0;
    for (path, r) in files.iter().zip(added) {
        match r {
            Ok(_) => uploaded += 1,
            Err(e) => {
                let o = Outcome::failed(chain(&scan_err(server, e)));
                out.file_result(path, &o);
                tally.add(&o);
            }
        }
    }
    if uploaded == 0 {
        let _ = batch.cancel().await;
        out.summary(&tally);
        return Ok(Exit::Error);
    }
    batch.close().await.map_err(|e| scan_err(server, e))?;
    let report = batch.wait().await.map_err(|e| scan_err(server, e))?;
    for f in &report.files {
        let o = Outcome::Done {
            finished: file_verdict(f),
            sanitized: None,
            sanitize_note: None,
        };
        let name = f.display_name.clone().unwrap_or_else(|| "(unnamed)".into());
        out.id_result(&name, &o);
        tally.add(&o);
    }
    let batch_exit = Exit::of_verdict(&report.verdict);
    if out.json() {
        out.json_line(&json!({
            "batch_id": report.batch_id,
            "status": "done",
            "verdict": report.verdict.kind(),
            "code": report.verdict.code(),
            "summary": report.verdict.to_string(),
            "files": report.files.len(),
            "exit": tally.exit().max(batch_exit) as u8,
        }));
    } else {
        out.line(&format!("batch {}: {}", report.batch_id, report.verdict));
    }
    if let Some(path) = &a.certificate {
        let text = batch.certificate().await.map_err(|e| scan_err(server, e))?;
        write_file(path, &text)?;
        out.note(&format!("signed result written to {}", path.display()));
    }
    out.summary(&tally);
    Ok(tally.exit().max(batch_exit))
}

/// The verdict of one file of a batch listing (its code and `process_info`).
fn file_verdict(f: &BatchResponseInProgressBatchFilesFilesInBatchItem) -> Finished {
    let v = serde_json::to_value(f).unwrap_or_default();
    let as_result = serde_json::from_value::<AnalysisResult>(json!({
        "data_id": v.get("data_id"),
        "scan_results": {
            "scan_all_result_i": v.get("scan_all_result_i"),
            "progress_percentage": 100,
        },
        "process_info": v.get("process_info"),
    }));
    let data_id = f.data_id.clone().unwrap_or_default();
    match as_result {
        Ok(r) => Finished::from_result(&data_id, &r),
        Err(_) => Finished {
            data_id,
            verdict: Verdict::Unknown {
                code: f.scan_all_result_i.as_ref().map(|c| c.0).unwrap_or(-1),
                label: None,
            },
            sha256: None,
            from_cache: false,
        },
    }
}
