//! Batches: create, status, close, signed certificate, cancel.

use std::time::{Instant, SystemTime};

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::files::{cancel_tree, typed_response};
use super::{header_str, ok, ApiError, ApiResult, AppState, Caller};
use crate::report::batch_status;
use crate::store::{result_text, Batch, Store};
use crate::util::{base64, iso8601, new_id, paging};

pub(crate) async fn create(State(app): AppState, caller: Caller, headers: HeaderMap) -> ApiResult {
    let rule = match header_str(&headers, "rule")?.filter(|s| !s.is_empty()) {
        None => app
            .cfg
            .rules
            .first()
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        Some(r) => {
            let r = percent_encoding::percent_decode_str(r)
                .decode_utf8_lossy()
                .into_owned();
            for name in r.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !app
                    .cfg
                    .rules
                    .iter()
                    .any(|x| x.name.eq_ignore_ascii_case(name))
                {
                    return Err(ApiError::bad_request(format!("No available rule: {name}")));
                }
            }
            r
        }
    };
    let batch_id = new_id();
    let batch = Batch {
        batch_id: batch_id.clone(),
        files: Vec::new(),
        closed: false,
        cancelled: false,
        user_data: header_str(&headers, "user-data")?.map(str::to_string),
        rule,
        user_agent: header_str(&headers, "user_agent")?
            .unwrap_or("")
            .to_string(),
        owner: caller.0.clone(),
        created: SystemTime::now(),
    };
    app.store().batches.insert(batch_id.clone(), batch);
    ok(json!({ "batch_id": batch_id }))
}

fn find<'a>(store: &'a mut Store, id: &str, caller: &Caller) -> Result<&'a mut Batch, ApiError> {
    let b = store
        .batches
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("Batch not found"))?;
    if !caller.may_access(&b.owner) {
        return Err(ApiError::access_denied());
    }
    Ok(b)
}

pub(crate) async fn status(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (first, size) = paging(q.as_deref());
    let mut store = app.store();
    let b = find(&mut store, &id, &caller)?.clone();
    ok(batch_status(&store, &b, Instant::now(), first, size))
}

pub(crate) async fn close(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let mut store = app.store();
    let b = find(&mut store, &id, &caller)?;
    if b.closed {
        return Err(ApiError::bad_request("Batch is already closed"));
    }
    b.closed = true;
    let b = b.clone();
    ok(batch_status(&store, &b, Instant::now(), 0, 50))
}

pub(crate) async fn cancel(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let now = Instant::now();
    let mut store = app.store();
    let b = find(&mut store, &id, &caller)?;
    if b.cancelled {
        return Err(ApiError::bad_request("Batch is already cancelled"));
    }
    b.cancelled = true;
    b.closed = true;
    let files = b.files.clone();
    for f in files {
        cancel_tree(&mut store, &f, now);
    }
    ok(json!({ id: "cancelled" }))
}

pub(crate) async fn certificate(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let now = Instant::now();
    let mut store = app.store();
    let b = find(&mut store, &id, &caller)?.clone();
    if !b.closed {
        return Err(ApiError::bad_request("Batch is not closed"));
    }
    let status = batch_status(&store, &b, now, 0, usize::MAX);
    let mut yaml = format!(
        "batch_id: {}\nclosed: true\nstart_time: {}\nresult: {}\nverdict: {}\nfiles:\n",
        b.batch_id,
        iso8601(b.created),
        status["process_info"]["result"].as_str().unwrap_or(""),
        status["scan_results"]["scan_all_result_a"]
            .as_str()
            .unwrap_or(""),
    );
    for f in b.files.iter().filter_map(|f| store.files.get(f)) {
        yaml.push_str(&format!(
            "  - data_id: {}\n    display_name: \"{}\"\n    sha256: {}\n    result: {}\n",
            f.data_id,
            f.display_name.replace(['"', '\n', '\r'], ""),
            f.sha256,
            result_text(f.result_code(now)),
        ));
    }
    // Not a real signature: a digest standing in for one, with a placeholder
    // certificate, so that clients can exercise the three-part layout.
    let signature = hex::encode(Sha256::digest(yaml.as_bytes()));
    let der: Vec<u8> = Sha256::digest(format!("mdcore-sim certificate {}", b.batch_id).as_bytes())
        .iter()
        .cycle()
        .take(256)
        .copied()
        .collect();
    let pem_body = base64(&der)
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    let text = format!(
        "{yaml}\nsignature: {signature}\n\n-----BEGIN CERTIFICATE-----\n{pem_body}\n-----END CERTIFICATE-----\n"
    );
    Ok(typed_response(text, "text/plain"))
}
