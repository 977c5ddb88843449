//! `POST /file` and `POST /file/sync`: the streamed body with an exact `Content-Length`, the
//! request headers, and the retry rules of uploads.

use std::sync::Arc;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::StatusCode;

use super::error::{ScanError, Step};
use super::http::{from_response, is_auth_failure};
use super::retry::{upload_retry, UploadRetry};
use super::source::{LengthChecked, ProgressFn, Source};
use super::Scanner;
use crate::types::{AnalysisResult, FileAnalysisPostResponse};
use crate::{Client, ServerError};

/// Header values are sent percent-encoded (the server decodes them): control characters, `%`,
/// `,` (the rule list separator) and everything outside ASCII.
const HEADER_ENCODE: &AsciiSet = &CONTROLS.add(b'%').add(b',');

pub(crate) fn encode_header_text(s: &str) -> String {
    utf8_percent_encode(s, HEADER_ENCODE).to_string()
}

/// JSON for a header: non-ASCII characters escaped as `\uXXXX`, which header values cannot carry.
pub(crate) fn ascii_json(v: &serde_json::Value) -> String {
    let text = v.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// The answer to an upload.
#[derive(Debug)]
pub(crate) enum Uploaded {
    /// Accepted; poll this id.
    Queued(String),
    /// `/file/sync` finished the scan within its timeout.
    Done(Box<AnalysisResult>),
}

/// Everything but the body of an upload request.
#[derive(Clone, Default)]
pub(crate) struct UploadRequest {
    pub headers: HeaderMap,
    pub sync: bool,
    pub progress: Option<ProgressFn>,
    /// Called on each 503 (scan_many shrinks its concurrency).
    pub on_busy: Option<Arc<dyn Fn() + Send + Sync>>,
    /// 503 answers are retried without counting against the retry policy, for up to 30 min
    /// (scan_many, where the concurrency limit does the pacing).
    pub busy_unbounded: bool,
}

impl UploadRequest {
    pub(crate) fn set(
        &mut self,
        step: Step,
        name: &'static str,
        value: &str,
    ) -> Result<(), ScanError> {
        let v = HeaderValue::from_str(value).map_err(|_| {
            ScanError::invalid(
                step,
                format!("the {name} value cannot be sent in an HTTP header"),
            )
        })?;
        self.headers.insert(HeaderName::from_static(name), v);
        Ok(())
    }
}

/// How long uploads paced by `scan_many` keep retrying a busy server.
const BUSY_GIVE_UP: std::time::Duration = std::time::Duration::from_secs(30 * 60);

fn sensitive(name: &str) -> bool {
    name.starts_with("archivepwd")
}

impl Scanner {
    /// Uploads `source`, retrying per the upload rules. Only reopenable sources are retried.
    pub(crate) async fn upload(
        &self,
        source: &Source,
        req: &UploadRequest,
    ) -> Result<Uploaded, ScanError> {
        let started = std::time::Instant::now();
        let mut failures = 0u32;
        let mut busy = 0u32;
        let mut relogged = false;
        loop {
            let key = self.client.state().apikey();
            let err = match self.upload_once(source, req).await {
                Ok(u) => return Ok(u),
                Err(e) => e,
            };
            let again = source.is_reopenable();
            if again && !relogged && is_auth_failure(&err) && self.can_relogin() {
                relogged = true;
                self.relogin(key).await?;
                continue;
            }
            let kind = upload_retry(&err);
            let is_busy = matches!(&err, ScanError::Server { status, .. } if *status == StatusCode::SERVICE_UNAVAILABLE);
            if is_busy {
                if let Some(hook) = &req.on_busy {
                    hook();
                }
            }
            let policy = &self.cfg.retry;
            if !again || kind == UploadRetry::No {
                return Err(err);
            }
            let ra = super::retry::error_retry_after(&err);
            let delay = if is_busy && req.busy_unbounded {
                if started.elapsed() >= BUSY_GIVE_UP {
                    return Err(err);
                }
                busy += 1;
                policy.delay(busy.min(6), ra)
            } else {
                failures += 1;
                if failures >= policy.max_attempts {
                    return Err(err);
                }
                match kind {
                    UploadRetry::Late => policy.long_delay(failures),
                    _ => policy.delay(failures, ra),
                }
            };
            tracing::debug!(error = %err, ?delay, "upload will be retried");
            tokio::time::sleep(delay).await;
        }
    }

    async fn upload_once(
        &self,
        source: &Source,
        req: &UploadRequest,
    ) -> Result<Uploaded, ScanError> {
        let (reader, len) = source.open().await?;
        if len == 0 {
            return Err(ScanError::invalid(
                Step::Upload,
                format!(
                    "{} is empty; the server refuses empty files",
                    source.display_path().display()
                ),
            ));
        }
        let (body, read_failure) = LengthChecked::new(reader, len, req.progress.clone());
        let client: &Client = &self.client;
        let path = if req.sync { "/file/sync" } else { "/file" };
        let mut request = client
            .client
            .post(format!("{}{}", client.baseurl, path))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )
            // Core refuses chunked uploads (411): the exact length goes in the header, and the
            // stream is checked against it.
            .header(CONTENT_LENGTH, HeaderValue::from(len))
            .header(
                "api-version",
                HeaderValue::from_static(Client::api_version()),
            )
            .headers(req.headers.clone())
            .body(reqwest::Body::wrap_stream(body))
            .build()
            .map_err(|source| ScanError::Transport {
                step: Step::Upload,
                source,
            })?;
        for (name, value) in request.headers_mut().iter_mut() {
            if sensitive(name.as_str()) {
                value.set_sensitive(true);
            }
        }
        let info = OperationInfo {
            operation_id: if req.sync {
                "file_analysis_sync_post"
            } else {
                "file_analysis_post"
            },
        };
        client
            .pre::<ServerError>(&mut request, &info)
            .await
            .map_err(|e| ScanError::invalid(Step::Upload, e.to_string()))?;
        let sent = client.exec(request, &info).await;
        if let Some(e) = read_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(ScanError::Read {
                step: Step::Upload,
                path: source.display_path(),
                source: e,
            });
        }
        let resp = sent.map_err(|source| ScanError::Transport {
            step: Step::Upload,
            source,
        })?;
        let status = resp.status();
        if status == StatusCode::OK {
            let bytes = resp.bytes().await.map_err(|source| ScanError::Transport {
                step: Step::Upload,
                source,
            })?;
            let bad = |e: serde_json::Error| ScanError::Protocol {
                step: Step::Upload,
                reason: "the upload answer is not the expected JSON".into(),
                source: Some(Box::new(e)),
            };
            return if req.sync {
                Ok(Uploaded::Done(Box::new(
                    serde_json::from_slice(&bytes).map_err(bad)?,
                )))
            } else {
                let answer: FileAnalysisPostResponse =
                    serde_json::from_slice(&bytes).map_err(bad)?;
                if answer.data_id.is_empty() {
                    return Err(ScanError::protocol(
                        Step::Upload,
                        "the upload answer has an empty data_id",
                    ));
                }
                Ok(Uploaded::Queued(answer.data_id))
            };
        }
        let err = from_response(Step::Upload, resp).await;
        if req.sync && status == StatusCode::REQUEST_TIMEOUT {
            if let ScanError::Server { body, .. } = &err {
                if let Some(id) = body.field("data_id").filter(|id| !id.is_empty()) {
                    tracing::debug!(data_id = id, "/file/sync timed out; polling instead");
                    return Ok(Uploaded::Queued(id.to_string()));
                }
            }
        }
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_is_percent_encoded() {
        assert_eq!(encode_header_text("report.pdf"), "report.pdf");
        assert_eq!(encode_header_text("a,b%c"), "a%2Cb%25c");
        assert_eq!(encode_header_text("naïve\n.txt"), "na%C3%AFve%0A.txt");
    }

    #[test]
    fn json_headers_are_ascii() {
        let v = serde_json::json!({"owner": "Zoë", "n": 1});
        let s = ascii_json(&v);
        assert!(s.is_ascii());
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
