//! `POST /file` and `POST /file/sync`: streaming the body to disk, unpacking,
//! sanitizing and registering the file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{header_str, json_response, ok, ApiError, ApiResult, AppState, Caller};
use crate::archive::{Node, Unpacked, Unpacker};
use crate::detect::{sanitize_copy, FileKind, Patterns, Scanned, Scanner};
use crate::state::App;
use crate::store::{severity, FileRec, Sanitized, Timeline};
use crate::util::new_id;

/// What the request headers ask for.
struct UploadRequest {
    display_name: Option<String>,
    rule: String,
    sanitize: bool,
    max_size: u64,
    batch: Option<String>,
    passwords: Vec<String>,
    callback_url: Option<String>,
    sanitized_url: Option<String>,
    download_from: Option<String>,
    user_agent: String,
    metadata: Option<Value>,
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn valid_url(s: &str) -> bool {
    reqwest::Url::parse(s)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .unwrap_or(false)
}

/// A header that counts only when it is not empty.
fn filled<'h>(h: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ApiError> {
    Ok(header_str(h, name)?.filter(|s| !s.is_empty()))
}

/// An optional header that, when given, must be an http(s) URL.
fn url_header(h: &HeaderMap, name: &str, invalid: &str) -> Result<Option<String>, ApiError> {
    match filled(h, name)? {
        Some(u) if !valid_url(u) => Err(ApiError::bad_request(invalid)),
        u => Ok(u.map(str::to_string)),
    }
}

fn parse_request(app: &App, h: &HeaderMap, caller: &Caller) -> Result<UploadRequest, ApiError> {
    let display_name = filled(h, "filename")?.map(decode).or_else(|| {
        filled(h, "filepath").ok().flatten().map(|p| {
            let p = decode(p);
            p.rsplit(['/', '\\']).next().unwrap_or(&p).to_string()
        })
    });
    let requested = filled(h, "rule")?.or(filled(h, "workflow")?);
    let rules: Vec<String> = match requested {
        Some(r) => decode(r)
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None => Vec::new(),
    };
    let mut sanitize = false;
    let mut max_size = u64::MAX;
    let mut names = Vec::new();
    for name in &rules {
        let Some(rule) = app
            .cfg
            .rules
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
        else {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Failed to request scan. No available rule: {name}"),
            ));
        };
        sanitize |= rule.sanitize;
        max_size = max_size.min(rule.max_file_size);
        names.push(rule.name.clone());
    }
    if names.is_empty() {
        if let Some(rule) = app.cfg.rules.first() {
            sanitize = rule.sanitize;
            max_size = rule.max_file_size;
            names.push(rule.name.clone());
        }
    }
    let batch = filled(h, "batch")?.map(str::to_string);
    if let Some(b) = &batch {
        let store = app.store();
        match store.batches.get(b) {
            None => return Err(ApiError::bad_request("Batch not found")),
            Some(batch) if batch.closed || batch.cancelled => {
                return Err(ApiError::bad_request("Batch is already closed"))
            }
            Some(batch) if !caller.may_access(&batch.owner) => {
                return Err(ApiError::access_denied())
            }
            Some(_) => {}
        }
    }
    let mut pw: Vec<(String, String)> = Vec::new();
    for (name, value) in h.iter() {
        let n = name.as_str();
        if let Some(suffix) = n.strip_prefix("archivepwd") {
            if suffix.is_empty() || suffix.bytes().all(|b| b.is_ascii_digit()) {
                let v = value
                    .to_str()
                    .map_err(|_| ApiError::bad_request(format!("Invalid value in header {n}")))?;
                pw.push((suffix.to_string(), decode(v)));
            }
        }
    }
    pw.sort();
    let passwords = pw.into_iter().map(|(_, v)| v).collect();
    let callback_url = url_header(h, "callbackurl", "Invalid callback url")?;
    let sanitized_url = url_header(h, "sanitizedurl", "Invalid sanitizedurl")?;
    let download_from = url_header(h, "downloadfrom", "Invalid download link")?;
    let metadata = match filled(h, "metadata")? {
        None => None,
        Some(m) => Some(
            serde_json::from_str::<Value>(m)
                .map_err(|_| ApiError::bad_request("Invalid metadata header: expected JSON"))?,
        ),
    };
    if let Some(em) = filled(h, "engines-metadata")? {
        serde_json::from_str::<Value>(em)
            .map_err(|_| ApiError::bad_request("Invalid engines-metadata header: expected JSON"))?;
    }
    // Seconds; the value is checked but processing time is set by the phases.
    if let Some(t) = filled(h, "global-timeout")? {
        t.parse::<u64>().map_err(|_| {
            ApiError::bad_request("Invalid global-timeout header: expected seconds")
        })?;
    }
    let user_agent = header_str(h, "user_agent")?
        .or(header_str(h, "user-agent").ok().flatten())
        .unwrap_or("")
        .to_string();
    Ok(UploadRequest {
        display_name,
        rule: names.join(","),
        sanitize,
        max_size,
        batch,
        passwords,
        callback_url,
        sanitized_url,
        download_from,
        user_agent,
        metadata,
    })
}

/// The declared body length, or 411 when there is none (chunked uploads are refused).
fn content_length(h: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            "Missing Content-Length header.",
        )
    };
    if h.contains_key(header::TRANSFER_ENCODING) {
        return Err(missing());
    }
    match h.get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| ApiError::bad_request("Invalid Content-Length header")),
    }
}

/// Streams `body` into `path`, scanning as it goes.
async fn store_body(body: Body, path: &Path, patterns: &Patterns) -> Result<Scanned, ApiError> {
    let file = tokio::fs::File::create(path)
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Failed to store file"))?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut scanner = Scanner::new(patterns);
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|_| ApiError::bad_request("Upload interrupted: incomplete request body"))?;
        if let Ok(data) = frame.into_data() {
            scanner.update(&data);
            out.write_all(&data).await.map_err(|_| {
                ApiError::bad_request("File upload rejected due to insufficient disk space")
            })?;
        }
    }
    out.flush().await.map_err(|_| {
        ApiError::bad_request("File upload rejected due to insufficient disk space")
    })?;
    Ok(scanner.finish())
}

async fn download(app: &App, url: &str, path: &Path) -> Result<Scanned, ApiError> {
    let fail = || ApiError::bad_request("Failed to download file from the given link");
    let resp = app.http.get(url).send().await.map_err(|_| fail())?;
    if !resp.status().is_success() {
        return Err(fail());
    }
    let file = tokio::fs::File::create(path).await.map_err(|_| fail())?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut scanner = Scanner::new(&app.patterns);
    let mut resp = resp;
    while let Some(chunk) = resp.chunk().await.map_err(|_| fail())? {
        scanner.update(&chunk);
        out.write_all(&chunk).await.map_err(|_| fail())?;
    }
    out.flush().await.map_err(|_| fail())?;
    Ok(scanner.finish())
}

struct HashingWriter<W> {
    inner: W,
    sha: Sha256,
    n: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn sanitize_file(patterns: &Patterns, src: &Path, dst: &Path, name: &str) -> Option<Sanitized> {
    let input = std::io::BufReader::new(std::fs::File::open(src).ok()?);
    let out = std::io::BufWriter::new(std::fs::File::create(dst).ok()?);
    let mut w = HashingWriter {
        inner: out,
        sha: Sha256::new(),
        n: 0,
    };
    let removed = sanitize_copy(patterns, input, &mut w).ok()?;
    Some(Sanitized {
        path: dst.to_path_buf(),
        size: w.n,
        sha256: hex::encode_upper(w.sha.finalize()),
        removed,
        file_name: format!("sanitized_{name}"),
    })
}

/// Everything decided about an upload before it is registered.
struct Analysis {
    unpacked: Unpacked,
    sanitized: Option<Sanitized>,
}

fn analyse(
    app: &App,
    path: &Path,
    scanned: &Scanned,
    display: &str,
    req: &UploadRequest,
    id: &str,
) -> Analysis {
    let unpacked = if scanned.kind == FileKind::Zip {
        Unpacker {
            limits: &app.cfg.archive_limits,
            passwords: &req.passwords,
            patterns: &app.patterns,
            dir: &app.dir,
        }
        .unpack(path, display)
    } else {
        Unpacked::default()
    };
    let sanitized = if req.sanitize {
        sanitize_file(
            &app.patterns,
            path,
            &app.dir.join(format!("{id}.sanitized")),
            display,
        )
    } else {
        None
    };
    Analysis {
        unpacked,
        sanitized,
    }
}

struct Common<'a> {
    owner: Option<String>,
    user_agent: &'a str,
    rule: &'a str,
    engines: Vec<String>,
    timeline: Timeline,
    visible_at: Instant,
}

fn base_rec(
    c: &Common<'_>,
    data_id: String,
    display: String,
    path: PathBuf,
    s: &Scanned,
) -> FileRec {
    FileRec {
        file_id: new_id(),
        data_id,
        parent: None,
        children: Vec::new(),
        display_name: display,
        size: s.size,
        md5: s.md5.clone(),
        sha1: s.sha1.clone(),
        sha256: s.sha256.clone(),
        kind: s.kind,
        path,
        finding: s.finding,
        archive_issue: None,
        final_code: s.finding.code(),
        worst_child: None,
        extraction_info: None,
        owner: c.owner.clone(),
        user_agent: c.user_agent.to_string(),
        rule: c.rule.to_string(),
        batch: None,
        engines: c.engines.clone(),
        timeline: c.timeline,
        visible_at: c.visible_at,
        cancelled_at: None,
        sanitized: None,
        sanitize_requested: false,
        callback_url: None,
        sanitized_url: None,
        webhook: None,
        download_url: None,
        metadata: None,
    }
}

/// Registers `children` under `parent`; returns (worst code, worst child id).
fn register_children(
    out: &mut Vec<FileRec>,
    c: &Common<'_>,
    parent: &mut FileRec,
    children: Vec<Node>,
) {
    let mut worst: Option<(u8, String)> = None;
    for node in children {
        let mut rec = base_rec(c, node.data_id, node.display_name, node.path, &node.scanned);
        rec.parent = Some(parent.data_id.clone());
        rec.archive_issue = node.archive_issue;
        rec.extraction_info = node.extraction_info;
        if let Some(issue) = node.archive_issue {
            if severity(issue) > severity(rec.final_code) {
                rec.final_code = issue;
            }
        }
        register_children(out, c, &mut rec, node.children);
        parent.children.push(rec.data_id.clone());
        if worst
            .as_ref()
            .is_none_or(|(w, _)| severity(rec.final_code) > severity(*w))
        {
            worst = Some((rec.final_code, rec.data_id.clone()));
        }
        out.push(rec);
    }
    if let Some((code, id)) = worst {
        if severity(code) > 0 {
            parent.worst_child = Some(id);
        }
        if severity(code) > severity(parent.final_code) {
            parent.final_code = code;
        }
    }
}

/// Runs the whole upload; answers the new data id.
async fn accept_upload(
    app: &Arc<App>,
    caller: &Caller,
    headers: &HeaderMap,
    body: Body,
) -> Result<String, ApiError> {
    let req = parse_request(app, headers, caller)?;
    let length = if req.download_from.is_some() {
        if headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("0")
            .trim()
            != "0"
            || headers.contains_key(header::TRANSFER_ENCODING)
        {
            return Err(ApiError::bad_request(
                "The body must be empty when downloadfrom is given",
            ));
        }
        0
    } else {
        match content_length(headers)? {
            None => {
                return Err(ApiError::new(
                    StatusCode::LENGTH_REQUIRED,
                    "Missing Content-Length header.",
                ))
            }
            Some(0) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "File is empty.",
                ))
            }
            Some(n) => n,
        }
    };
    if length > req.max_size {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Failed to request scan. File size exceeded the limit of the rule.",
        ));
    }
    if app.store().in_flight(Instant::now()) >= app.cfg.queue_capacity {
        return Err(ApiError::busy());
    }
    let data_id = new_id();
    let path = app.dir.join(&data_id);
    let upload_started = SystemTime::now();
    let stored = match &req.download_from {
        Some(url) => download(app, url, &path).await,
        None => store_body(body, &path, &app.patterns).await,
    };
    let scanned = match stored {
        Ok(s) => s,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
    };
    if scanned.size == 0 {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "File is empty.",
        ));
    }
    let display = req.display_name.clone().unwrap_or_else(|| data_id.clone());
    // Unpacking and sanitizing read and write whole files: keep them off the
    // async workers. The request goes along (for the passwords) and comes back.
    let (analysis, req) = {
        let app = app.clone();
        let path = path.clone();
        let scanned = scanned.clone();
        let display = display.clone();
        let id = data_id.clone();
        tokio::task::spawn_blocking(move || {
            let a = analyse(&app, &path, &scanned, &display, &req, &id);
            (a, req)
        })
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Failed to request scan. Try again later.",
            )
        })?
    };
    let engines = app.admin().active_engines();
    let engine_count = engines.len();
    let now = Instant::now();
    let common = Common {
        owner: caller.0.clone(),
        user_agent: &req.user_agent,
        rule: &req.rule,
        engines,
        timeline: Timeline {
            start: now,
            start_wall: upload_started,
            phase: app.cfg.phase_duration,
            engines: engine_count,
        },
        visible_at: now + app.faults.not_found_lag(),
    };
    let mut top = base_rec(&common, data_id.clone(), display, path, &scanned);
    top.archive_issue = analysis.unpacked.issue;
    top.extraction_info = analysis.unpacked.extraction_info;
    if let Some(issue) = top.archive_issue {
        if severity(issue) > severity(top.final_code) {
            top.final_code = issue;
        }
    }
    top.batch = req.batch.clone();
    top.sanitize_requested = req.sanitize;
    top.sanitized = analysis.sanitized;
    top.callback_url = req.callback_url.clone();
    top.sanitized_url = req.sanitized_url.clone();
    top.download_url = req.download_from.clone();
    top.metadata = req.metadata.clone();
    let mut all = Vec::new();
    register_children(&mut all, &common, &mut top, analysis.unpacked.children);
    let needs_delivery = top.callback_url.is_some() || top.sanitized_url.is_some();
    {
        let mut store = app.store();
        if let Some(b) = &req.batch {
            match store.batches.get_mut(b) {
                Some(batch) if !batch.closed && !batch.cancelled => {
                    batch.files.push(data_id.clone())
                }
                _ => return Err(ApiError::bad_request("Batch is already closed")),
            }
        }
        for rec in all {
            store.files.insert(rec.data_id.clone(), rec);
        }
        store.files.insert(data_id.clone(), top);
    }
    app.counters.upload();
    if needs_delivery {
        tokio::spawn(crate::callbacks::deliver_when_done(
            app.clone(),
            data_id.clone(),
        ));
    }
    Ok(data_id)
}

pub(crate) async fn post_file(
    State(app): AppState,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let id = accept_upload(&app, &caller, &headers, body).await?;
    ok(json!({ "data_id": id }))
}

pub(crate) async fn post_file_sync(
    State(app): AppState,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    if header_str(&headers, "callbackurl")?.is_some_and(|s| !s.is_empty()) {
        return Err(ApiError::access_denied());
    }
    let id = accept_upload(&app, &caller, &headers, body).await?;
    let deadline = Instant::now() + app.sync_timeout();
    let mut shutdown = app.shutdown.clone();
    loop {
        let now = Instant::now();
        {
            let store = app.store();
            if let Some(rec) = store.files.get(&id) {
                if rec.is_finished(now) {
                    let v = crate::report::file_result(&store, rec, now, 0, 50);
                    return ok(v);
                }
            }
        }
        if now >= deadline || *shutdown.borrow() {
            return Ok(json_response(
                StatusCode::REQUEST_TIMEOUT,
                &json!({ "data_id": id }),
            ));
        }
        let wait = Duration::from_millis(10).min(deadline - now);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
}
