//! Reading results and files back: `/file/{id}`, `/archive/{id}`, `/hash/{hash}`,
//! converted and original downloads, exports, cancellation.

use std::path::PathBuf;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::{header_str, ok, unknown_id, ApiError, ApiResult, AppState, Caller};
use crate::config::NotFoundStyle;
use crate::report;
use crate::state::App;
use crate::store::{FileRec, Stage, Store};
use crate::util::{iso8601, paging};

/// Answers `view` of a visible file the caller may read; any other id is unknown.
fn answer_file(
    app: &App,
    caller: &Caller,
    id: &str,
    view: impl FnOnce(&Store, &FileRec, Instant) -> Value,
) -> ApiResult {
    let now = Instant::now();
    let store = app.store();
    match store.visible_file(id, now) {
        Some(rec) if caller.may_access(&rec.owner) => ok(view(&store, rec, now)),
        _ => {
            drop(store);
            unknown_id(app, id)
        }
    }
}

pub(crate) async fn get_file(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (first, size) = paging(q.as_deref());
    answer_file(&app, &caller, &id, |store, rec, now| {
        report::file_result(store, rec, now, first, size)
    })
}

pub(crate) async fn get_archive(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    answer_file(&app, &caller, &id, report::archive_tree)
}

fn is_hash(h: &str) -> bool {
    matches!(h.len(), 32 | 40 | 64) && h.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) async fn get_hash(
    State(app): AppState,
    caller: Caller,
    Path(hash): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult {
    if !is_hash(&hash) {
        return Err(ApiError::not_found("Invalid hash format"));
    }
    let include = header_str(&headers, "include-inprogress")?
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    let self_only = header_str(&headers, "selfonly")?
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    let owner = if self_only { caller.0.as_deref() } else { None };
    let (first, size) = paging(q.as_deref());
    let now = Instant::now();
    let store = app.store();
    match store.by_hash(&hash, include, owner, now) {
        Some(rec) => ok(report::file_result(&store, rec, now, first, size)),
        None => match app.cfg.not_found_style {
            NotFoundStyle::Http404 => Err(ApiError::not_found("Not Found")),
            NotFoundStyle::Http200Body => ok(report::not_found_body(&hash.to_ascii_uppercase())),
        },
    }
}

/// Looks a file up for an operation with its own 404/405 answers.
fn owned_file<'a>(
    store: &'a Store,
    id: &str,
    caller: &Caller,
    missing: &str,
    now: Instant,
) -> Result<&'a FileRec, ApiError> {
    let rec = store
        .visible_file(id, now)
        .ok_or_else(|| ApiError::not_found(missing))?;
    if !caller.may_access(&rec.owner) {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Access denied",
        ));
    }
    Ok(rec)
}

/// A 200 answer with a body that is not JSON.
pub(super) fn typed_response(body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut r = Response::new(body.into());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Streams a stored file as an attachment.
async fn send_file(path: &std::path::Path, size: u64, name: &str) -> ApiResult {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|_| ApiError::not_found("File could not be found"))?;
    let mut r = typed_response(Body::new(FileFrames::new(file)), "application/octet-stream");
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\r', '\n'], "")
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// Streams the file `pick` chooses from a record the caller may read.
async fn download_owned(
    app: &App,
    caller: &Caller,
    id: &str,
    pick: impl FnOnce(&FileRec, Instant) -> Option<(PathBuf, u64, String)>,
) -> ApiResult {
    let found = {
        let store = app.store();
        let now = Instant::now();
        let rec = owned_file(&store, id, caller, "File could not be found", now)?;
        pick(rec, now)
    };
    let (path, size, name) = found.ok_or_else(|| ApiError::not_found("File could not be found"))?;
    send_file(&path, size, &name).await
}

pub(crate) async fn converted(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    download_owned(&app, &caller, &id, |rec, now| match &rec.sanitized {
        Some(s) if rec.stage(now) == Stage::Done => {
            Some((s.path.clone(), s.size, s.file_name.clone()))
        }
        _ => None,
    })
    .await
}

pub(crate) async fn download(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    download_owned(&app, &caller, &id, |rec, _| {
        Some((rec.path.clone(), rec.size, rec.display_name.clone()))
    })
    .await
}

pub(crate) async fn quarantine_download(
    State(app): AppState,
    caller: Caller,
    Path(sha256): Path<String>,
) -> ApiResult {
    let now = Instant::now();
    let found = {
        let store = app.store();
        store
            .files
            .values()
            .filter(|f| f.visible(now) && f.sha256.eq_ignore_ascii_case(&sha256))
            .filter(|f| f.stage(now) == Stage::Done && f.final_code != 0)
            .filter(|f| caller.may_access(&f.owner))
            .max_by_key(|f| f.timeline.start)
            .map(|f| (f.path.clone(), f.size, f.display_name.clone()))
    };
    let (path, size, name) =
        found.ok_or_else(|| ApiError::not_found("File is not in quarantine"))?;
    send_file(&path, size, &name).await
}

pub(crate) async fn blocked_leaves(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let now = Instant::now();
    let store = app.store();
    let rec = owned_file(&store, &id, &caller, "Requested data_id not found", now)?;
    let mut details = Vec::new();
    let mut stack: Vec<&FileRec> = vec![rec];
    while let Some(f) = stack.pop() {
        if f.children.is_empty() {
            if f.stage(now) == Stage::Done && f.final_code != 0 {
                let reason = crate::store::result_text(f.final_code);
                details.push(json!({
                    "blocked_reasons": [reason],
                    "data_id": f.data_id,
                    "display_name": f.display_name,
                    "file_type": f.kind.mime(),
                    "parent_id": f.parent.clone().unwrap_or_default(),
                    "path": f.display_name,
                    "process_info": { "post_processing": { "actions_failed": "", "actions_ran": "" } },
                    "verdicts": [reason],
                }));
            }
        } else {
            stack.extend(f.children.iter().rev().filter_map(|c| store.files.get(c)));
        }
    }
    let body = json!({ "details": details, "limit_reached": false, "total": details.len() });
    // The document declares this JSON object under application/octet-stream.
    let body = serde_json::to_vec(&body).unwrap_or_default();
    Ok(typed_response(body, "application/octet-stream"))
}

pub(crate) async fn export_pdf(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let now = Instant::now();
    let lines = {
        let store = app.store();
        let rec = owned_file(&store, &id, &caller, "Requested data_id not found", now)?;
        if !rec.is_finished(now) {
            return Err(ApiError::not_found("The scan is not finished yet"));
        }
        let code = rec.result_code(now);
        vec![
            "MetaDefender Core simulator scan report".to_string(),
            format!("data_id: {}", rec.data_id),
            format!("file: {}", rec.display_name),
            format!("sha256: {}", rec.sha256),
            format!("result: {} ({code})", crate::store::result_text(code)),
            format!("uploaded: {}", iso8601(rec.timeline.start_wall)),
        ]
    };
    Ok(typed_response(
        crate::pdf::report(&lines),
        "application/pdf",
    ))
}

pub(crate) async fn cancel(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let now = Instant::now();
    let mut store = app.store();
    let rec = owned_file(&store, &id, &caller, "Requested data_id not found", now)?;
    if rec.is_finished(now) {
        return Err(ApiError::bad_request("The file has already been processed"));
    }
    cancel_tree(&mut store, &id, now);
    ok(json!({ id: "cancelled" }))
}

/// Marks a file and its descendants cancelled.
pub(crate) fn cancel_tree(store: &mut Store, id: &str, now: Instant) {
    let mut todo = vec![id.to_string()];
    while let Some(i) = todo.pop() {
        if let Some(r) = store.files.get_mut(&i) {
            if !r.is_finished(now) {
                r.cancelled_at = Some(now);
            }
            todo.extend(r.children.iter().cloned());
        }
    }
}

pub(crate) async fn webhook_status(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let store = app.store();
    let rec = store
        .visible_file(&id, Instant::now())
        .filter(|r| caller.may_access(&r.owner))
        .ok_or_else(|| ApiError::not_found("Webhook status not found."))?;
    if rec.callback_url.is_none() {
        return Err(ApiError::not_found("No callback url set."));
    }
    match &rec.webhook {
        Some(w) => ok(json!({
            "data_id": rec.data_id,
            "request_time": iso8601(w.request_time),
            "status_code": w.status_code,
            "url": w.url,
        })),
        None => Err(ApiError::not_found("Webhook status not found.")),
    }
}

/// Streams a file in 64 KiB frames so that large downloads stay out of memory.
struct FileFrames {
    file: tokio::fs::File,
    buf: Vec<u8>,
}

impl FileFrames {
    fn new(file: tokio::fs::File) -> Self {
        Self {
            file,
            buf: vec![0; 64 * 1024],
        }
    }
}

impl http_body::Body for FileFrames {
    type Data = bytes::Bytes;
    type Error = std::io::Error;
    #[allow(clippy::type_complexity)]
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>> {
        use tokio::io::AsyncRead;
        let this = &mut *self;
        let mut rb = tokio::io::ReadBuf::new(&mut this.buf);
        match std::pin::Pin::new(&mut this.file).poll_read(cx, &mut rb) {
            std::task::Poll::Pending => std::task::Poll::Pending,
            std::task::Poll::Ready(Err(e)) => std::task::Poll::Ready(Some(Err(e))),
            std::task::Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                std::task::Poll::Ready(None)
            }
            std::task::Poll::Ready(Ok(())) => std::task::Poll::Ready(Some(Ok(
                http_body::Frame::data(bytes::Bytes::copy_from_slice(rb.filled())),
            ))),
        }
    }
}
