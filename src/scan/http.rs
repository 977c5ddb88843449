//! Turning failed requests into [`ScanError`]s, and running generated calls with retries and the
//! one re-login the session rules allow.

use std::future::Future;

use progenitor_client::ResponseValue;
use reqwest::StatusCode;

use super::error::{ScanError, Step};
use super::retry::{self, read_is_retryable};
use super::Scanner;
use crate::ServerError;

/// Error bodies are small; anything longer is cut rather than buffered.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The error a generated call returned, as a [`ScanError`] of `step`.
pub(crate) async fn from_progenitor(
    step: Step,
    e: progenitor_client::Error<ServerError>,
) -> ScanError {
    use progenitor_client::Error as E;
    match e {
        E::ErrorResponse(rv) => {
            let status = rv.status();
            let retry_after = retry::retry_after(rv.headers());
            ScanError::Server {
                step,
                status,
                body: rv.into_inner(),
                retry_after,
            }
        }
        E::UnexpectedResponse(resp) => from_response(step, resp).await,
        E::CommunicationError(source)
        | E::ResponseBodyError(source)
        | E::InvalidUpgrade(source) => ScanError::Transport { step, source },
        E::InvalidResponsePayload(bytes, source) => ScanError::Protocol {
            step,
            reason: format!(
                "a body of {} bytes that is not the expected JSON",
                bytes.len()
            ),
            source: Some(Box::new(source)),
        },
        E::InvalidRequest(reason) => ScanError::InvalidInput { step, reason },
        E::Custom(reason) => ScanError::protocol(step, reason),
    }
}

/// A non-success response as a [`ScanError`]: status, `Retry-After`, and the `{"err": ...}` body
/// (or the start of a body that is not JSON).
pub(crate) async fn from_response(step: Step, mut resp: reqwest::Response) -> ScanError {
    let status = resp.status();
    let retry_after = retry::retry_after(resp.headers());
    let mut buf = Vec::new();
    while buf.len() < MAX_ERROR_BODY {
        match resp.chunk().await {
            Ok(Some(c)) => buf.extend_from_slice(&c),
            _ => break,
        }
    }
    buf.truncate(MAX_ERROR_BODY);
    let body = match serde_json::from_slice::<ServerError>(&buf) {
        Ok(b) => b,
        Err(_) => {
            let text = String::from_utf8_lossy(&buf);
            let text: String = text.trim().chars().take(300).collect();
            ServerError {
                err: (!text.is_empty()).then_some(text),
                extra: Default::default(),
            }
        }
    };
    if status.is_success() {
        return ScanError::protocol(step, format!("status {status} where another was expected"));
    }
    ScanError::Server {
        step,
        status,
        body,
        retry_after,
    }
}

/// Whether a failure looks like an expired session (Core answers 401 or 403).
pub(crate) fn is_auth_failure(e: &ScanError) -> bool {
    matches!(
        e,
        ScanError::Server { status, .. }
            if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN
    )
}

/// How a generated call may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// A read: retried on 5xx and connection errors per the retry policy.
    Read,
    /// Not retried (the caller has its own schedule, or the call has effects); a re-login
    /// after an expired session is still done once.
    Once,
}

impl Scanner {
    /// Runs a generated call: re-logs in once on 401/403 when the scanner logged in with a
    /// user and password, and retries reads per the retry policy.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        step: Step,
        repeat: Repeat,
        mut op: F,
    ) -> Result<ResponseValue<T>, ScanError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<ServerError>>>,
    {
        let mut failures = 0u32;
        let mut relogged = false;
        loop {
            let key = self.client.state().apikey();
            let err = match op().await {
                Ok(v) => return Ok(v),
                Err(e) => from_progenitor(step, e).await,
            };
            if !relogged && is_auth_failure(&err) && self.can_relogin() {
                relogged = true;
                self.relogin(key).await?;
                continue;
            }
            failures += 1;
            let policy = &self.cfg.retry;
            if repeat == Repeat::Read && read_is_retryable(&err) && failures < policy.max_attempts {
                let delay = policy.delay(failures, retry::error_retry_after(&err));
                tracing::debug!(%step, error = %err, ?delay, "retrying");
                tokio::time::sleep(delay).await;
                continue;
            }
            return Err(err);
        }
    }
}
