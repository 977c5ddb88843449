//! The JSON documents the server answers for files and batches, built from
//! the stored state at a given instant.

use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::detect::{Finding, EICAR_THREAT, SUSPICIOUS_THREAT};
use crate::store::{result_text, Batch, FileRec, Stage, Store, CODE_IN_PROGRESS};
use crate::util::iso8601;

/// Engine id as shown in `eng_id` and `/stat/engines`.
pub(crate) fn engine_id(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{slug}_1_linux")
}

/// The user name shown for an owner; bare apikeys show none.
fn display_owner(owner: &Option<String>) -> String {
    match owner {
        Some(o) if !o.starts_with(crate::api::KEY_IDENTITY_PREFIX) => o.clone(),
        _ => String::new(),
    }
}

/// Per-engine verdict of a file's own content.
fn engine_verdict(finding: Finding, index: usize, engines: usize) -> (u8, &'static str) {
    match finding {
        Finding::Clean => (0, ""),
        Finding::Infected => (1, EICAR_THREAT),
        Finding::Suspicious if index % 2 == 1 || engines == 1 => (2, SUSPICIOUS_THREAT),
        Finding::Suspicious => (0, ""),
    }
}

fn detected_by(rec: &FileRec) -> usize {
    (0..rec.engines.len())
        .filter(|i| engine_verdict(rec.finding, *i, rec.engines.len()).0 != 0)
        .count()
}

struct Progress {
    scan: u32,
    process: u32,
    engines_done: usize,
}

fn progress(rec: &FileRec, stage: Stage) -> Progress {
    let n = rec.engines.len().max(1);
    match stage {
        Stage::Queued => Progress {
            scan: 0,
            process: 0,
            engines_done: 0,
        },
        Stage::Scanning(k) => {
            let scan = (k * 100 / n) as u32;
            Progress {
                scan,
                process: scan * 9 / 10,
                engines_done: k,
            }
        }
        Stage::PostProcessing => Progress {
            scan: 100,
            process: 95,
            engines_done: rec.engines.len(),
        },
        Stage::Done | Stage::Cancelled => Progress {
            scan: 100,
            process: 100,
            engines_done: rec.engines.len(),
        },
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn verdict_fields(code: u8, stage: Stage) -> (&'static str, String, Vec<String>) {
    match stage {
        Stage::Done | Stage::Cancelled if code == 0 => {
            ("Allowed", String::new(), vec![result_text(0).to_string()])
        }
        Stage::Done | Stage::Cancelled => {
            let r = result_text(code).to_string();
            ("Blocked", r.clone(), vec![r])
        }
        _ => ("Processing", String::new(), Vec::new()),
    }
}

fn scan_details(rec: &FileRec, done: usize) -> Map<String, Value> {
    let phase = ms(rec.timeline.phase);
    let def_time = iso8601(rec.timeline.start_wall - Duration::from_secs(6 * 3600));
    rec.engines
        .iter()
        .enumerate()
        .take(done)
        .map(|(i, name)| {
            let (code, threat) = engine_verdict(rec.finding, i, rec.engines.len());
            (
                name.clone(),
                json!({
                    "def_time": def_time,
                    "eng_id": engine_id(name),
                    "location": "local",
                    "scan_result_i": code,
                    "scan_time": phase,
                    "threat_found": threat,
                    "wait_time": phase * i as u64,
                }),
            )
        })
        .collect()
}

fn post_processing(rec: &FileRec) -> Value {
    match &rec.sanitized {
        Some(s) => json!({
            "actions_ran": "Sanitized",
            "actions_failed": "",
            "converted_destination": s.file_name,
            "converted_to": rec.kind.extension(),
            "copy_move_destination": "",
            "sanitization_details": {
                "details": [{
                    "action": "removed",
                    "object_name": "threat pattern",
                    "count": s.removed,
                }],
                "sanitized_file_info": { "file_size": s.size, "sha256": s.sha256 },
            },
        }),
        None if rec.sanitize_requested => json!({
            "actions_ran": "",
            "actions_failed": "Sanitized",
            "converted_destination": "",
            "converted_to": "",
            "copy_move_destination": "",
        }),
        None => json!({
            "actions_ran": "",
            "actions_failed": "",
            "converted_destination": "",
            "converted_to": "",
            "copy_move_destination": "",
        }),
    }
}

/// The short per-file entry used in `extracted_files.files_in_archive` and
/// `batch_files.files_in_batch`.
pub(crate) fn summary(rec: &FileRec, now: Instant) -> Value {
    let stage = rec.stage(now);
    let p = progress(rec, stage);
    let code = rec.result_code(now);
    let (result, blocked_reason, verdicts) = verdict_fields(code, stage);
    json!({
        "data_id": rec.data_id,
        "detected_by": detected_by(rec),
        "display_name": rec.display_name,
        "file_size": rec.size,
        "file_type": rec.kind.mime(),
        "file_type_description": rec.kind.description(),
        "process_info": {
            "blocked_reason": blocked_reason,
            "progress_percentage": p.process,
            "result": result,
            "verdicts": verdicts,
        },
        "progress_percentage": p.process,
        "scan_all_result_a": result_text(code),
        "scan_all_result_i": code,
        "scanned_with": p.engines_done,
    })
}

fn base_result(store: &Store, rec: &FileRec, now: Instant) -> Map<String, Value> {
    let stage = rec.stage(now);
    let p = progress(rec, stage);
    let code = rec.result_code(now);
    let (result, blocked_reason, verdicts) = verdict_fields(code, stage);
    let tl = rec.timeline;
    let scan_start = tl.start_wall + tl.phase;
    let elapsed = now.saturating_duration_since(tl.start);
    let scan_time = elapsed
        .saturating_sub(tl.phase)
        .min(tl.phase * rec.engines.len() as u32);
    let in_queue = if stage == Stage::Queued {
        store.queued_before(tl.start, now)
    } else {
        0
    };
    let done = matches!(stage, Stage::Done | Stage::Cancelled);
    let mut process_info = json!({
        "blocked_reason": blocked_reason,
        "blocked_reasons": if blocked_reason.is_empty() { vec![] } else { vec![blocked_reason.clone()] },
        "file_type_skipped_scan": false,
        "outdated_data": [],
        "processing_time": if done { ms(tl.done_at() - tl.start) } else { ms(elapsed) },
        "profile": rec.rule,
        "progress_percentage": p.process,
        "queue_time": ms(tl.phase.min(elapsed)),
        "result": result,
        "user_agent": rec.user_agent,
        "username": display_owner(&rec.owner),
        "verdicts": verdicts,
    });
    if done && stage == Stage::Done {
        process_info["post_processing"] = post_processing(rec);
    }
    let mut scan_results = json!({
        "data_id": rec.data_id,
        "in_queue": in_queue,
        "progress_percentage": p.scan,
        "scan_all_result_a": result_text(if stage == Stage::Cancelled { code } else if p.scan < 100 { CODE_IN_PROGRESS } else { code }),
        "scan_all_result_i": if stage == Stage::Cancelled { code } else if p.scan < 100 { CODE_IN_PROGRESS } else { code },
        "scan_details": scan_details(rec, p.engines_done),
        "total_avs": rec.engines.len(),
        "total_time": ms(scan_time),
    });
    if stage != Stage::Queued {
        scan_results["start_time"] = json!(iso8601(scan_start));
    }
    let mut m = Map::new();
    m.insert("data_id".into(), json!(rec.data_id));
    m.insert("file_id".into(), json!(rec.file_id));
    m.insert("rescan_available".into(), json!(true));
    m.insert("scan_results".into(), scan_results);
    m.insert(
        "file_info".into(),
        json!({
            "display_name": rec.display_name,
            "file_size": rec.size,
            "file_type": rec.kind.mime(),
            "file_type_description": rec.kind.description(),
            "md5": rec.md5,
            "sha1": rec.sha1,
            "sha256": rec.sha256,
            "type_category": [rec.kind.category()],
            "upload_timestamp": iso8601(tl.start_wall),
        }),
    );
    m.insert("process_info".into(), process_info);
    if let Some(x) = &rec.extraction_info {
        m.insert("extraction_info".into(), x.clone());
    }
    if let Some(url) = &rec.download_url {
        m.insert(
            "download_info".into(),
            json!({ "url": url, "status": "Success", "progress": 100 }),
        );
    }
    if let Some(parent) = &rec.parent {
        m.insert("parent_data_id".into(), json!(parent));
    }
    if let Some(b) = &rec.batch {
        m.insert("batch_id".into(), json!(b));
    }
    m
}

/// `GET /file/{data_id}`: the full result with children paged.
pub(crate) fn file_result(
    store: &Store,
    rec: &FileRec,
    now: Instant,
    first: usize,
    size: usize,
) -> Value {
    let mut m = base_result(store, rec, now);
    if !rec.children.is_empty() {
        let page: Vec<Value> = rec
            .children
            .iter()
            .skip(first)
            .take(size)
            .filter_map(|id| store.files.get(id))
            .map(|c| summary(c, now))
            .collect();
        let mut ex = json!({
            "files_extracted_count": rec.children.len(),
            "files_in_archive": page,
            "first_index": first,
            "page_size": size,
        });
        if let Some(w) = &rec.worst_child {
            ex["worst_data_id"] = json!(w);
        }
        m.insert("extracted_files".into(), ex);
    }
    Value::Object(m)
}

/// `GET /archive/{data_id}`: the full result with every descendant's full result.
pub(crate) fn archive_tree(store: &Store, rec: &FileRec, now: Instant) -> Value {
    let mut m = base_result(store, rec, now);
    let children: Vec<Value> = rec
        .children
        .iter()
        .filter_map(|id| store.files.get(id))
        .map(|c| archive_tree(store, c, now))
        .collect();
    m.insert("extracted_files".into(), Value::Array(children));
    Value::Object(m)
}

/// The answer when a hash is unknown or a file id not (yet) visible, in the
/// one-key form of v3/v4 servers.
pub(crate) fn not_found_body(key: &str) -> Value {
    json!({ key: "Not Found" })
}

/// `GET /file/batch/{id}` and the answer of `close`.
pub(crate) fn batch_status(
    store: &Store,
    b: &Batch,
    now: Instant,
    first: usize,
    size: usize,
) -> Value {
    let files: Vec<&FileRec> = b
        .files
        .iter()
        .filter_map(|id| store.files.get(id))
        .collect();
    let all_done = files.iter().all(|f| f.is_finished(now));
    let worst = files
        .iter()
        .map(|f| f.result_code(now))
        .filter(|c| *c != CODE_IN_PROGRESS)
        .max_by_key(|c| crate::store::severity(*c))
        .unwrap_or(0);
    let code = if b.cancelled {
        crate::store::CODE_CANCELLED
    } else if all_done {
        worst
    } else {
        CODE_IN_PROGRESS
    };
    let result = if code == CODE_IN_PROGRESS {
        "Processing"
    } else if code == 0 {
        "Allowed"
    } else {
        "Blocked"
    };
    let start = files.iter().map(|f| f.timeline.start).min();
    let end = files.iter().map(|f| f.timeline.done_at()).max();
    let total_time = match (start, end) {
        (Some(s), Some(e)) if all_done => ms(e - s),
        (Some(s), _) => ms(now.saturating_duration_since(s)),
        _ => 0,
    };
    json!({
        "batch_id": b.batch_id,
        "is_closed": b.closed,
        "user_data": b.user_data.clone().unwrap_or_default(),
        "batch_files": {
            "batch_count": files.len(),
            "files_in_batch": files.iter().skip(first).take(size).map(|f| summary(f, now)).collect::<Vec<_>>(),
            "first_index": first,
            "page_size": size,
        },
        "process_info": {
            "blocked_reason": if code != 0 && code != CODE_IN_PROGRESS { result_text(code) } else { "" },
            "file_type_skipped_scan": false,
            "profile": b.rule,
            "result": result,
            "user_agent": b.user_agent,
            "username": display_owner(&b.owner),
        },
        "scan_results": {
            "batch_id": b.batch_id,
            "scan_all_result_a": result_text(code),
            "scan_all_result_i": code,
            "start_time": iso8601(b.created),
            "total_avs": files.first().map(|f| f.engines.len()).unwrap_or(0),
            "total_time": total_time,
        },
    })
}
