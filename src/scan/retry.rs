//! When a failed request is tried again, and after how long.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

use super::error::ScanError;

/// How failed requests are retried: exponential backoff with jitter, the server's `Retry-After`
/// honoured (up to `max_retry_after`).
///
/// Which failures are retried depends on the request: reads (`GET`) on 5xx and connection
/// errors; uploads only on 503, 500 "Try again later", insufficient disk space and connection
/// failures before any answer, and only when the body can be opened again (a path or bytes, not a
/// one-shot reader).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub initial_delay: Duration,
    /// Largest delay between two attempts.
    pub max_delay: Duration,
    /// Growth of the delay per attempt.
    pub multiplier: f64,
    /// Largest `Retry-After` obeyed; longer ones are cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Delay before retry number `retry` (1-based): `initial × multiplier^(retry-1)`, capped, with
    /// "equal jitter" (half fixed, half random) so that many clients do not retry in step; never
    /// shorter than the server's `Retry-After`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let base = grow(
            self.initial_delay,
            self.multiplier,
            retry.saturating_sub(1),
            self.max_delay,
        );
        let jittered = equal_jitter(base);
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.max_retry_after)),
            None => jittered,
        }
    }

    /// The delay for a failure of the "insufficient disk space" kind: the server needs minutes,
    /// not milliseconds.
    pub(crate) fn long_delay(&self, retry: u32) -> Duration {
        self.delay(retry, None).max(self.max_delay / 2)
    }
}

/// `start × factor^n`, capped at `cap`.
pub(crate) fn grow(start: Duration, factor: f64, n: u32, cap: Duration) -> Duration {
    let factor = if factor.is_finite() && factor >= 1.0 {
        factor
    } else {
        1.0
    };
    let secs = start.as_secs_f64() * factor.powi(n.min(64) as i32);
    if !secs.is_finite() || secs >= cap.as_secs_f64() {
        cap
    } else {
        Duration::from_secs_f64(secs)
    }
}

/// Half of `d` plus a random part of the other half.
pub(crate) fn equal_jitter(d: Duration) -> Duration {
    let half = d / 2;
    let extra = rand::rng().random_range(0.0..=1.0) * half.as_secs_f64();
    half + Duration::from_secs_f64(extra)
}

/// `d` scaled by a random factor in `1 ± spread`.
pub(crate) fn spread(d: Duration, spread: f64) -> Duration {
    let s = spread.clamp(0.0, 0.9);
    if s == 0.0 {
        return d;
    }
    d.mul_f64(rand::rng().random_range(1.0 - s..=1.0 + s))
}

/// `Retry-After` in seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Whether a read (`GET`, or any request without side effects) may be tried again.
pub(crate) fn read_is_retryable(e: &ScanError) -> bool {
    match e {
        ScanError::Server { status, .. } => status.is_server_error(),
        ScanError::Transport { .. } => true,
        _ => false,
    }
}

/// What to do about a failed upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadRetry {
    No,
    Soon,
    /// The server ran out of disk: wait long.
    Late,
}

/// Uploads are retried only when the server certainly did not take the file: it said so (503,
/// 500 "Try again later", insufficient disk space), or no answer came and the failure happened
/// while connecting or sending (not a timeout waiting for an answer, which may follow a
/// successful upload).
pub(crate) fn upload_retry(e: &ScanError) -> UploadRetry {
    match e {
        ScanError::Server { status, body, .. } => {
            let msg = body.message().to_ascii_lowercase();
            if *status == StatusCode::SERVICE_UNAVAILABLE
                || (*status == StatusCode::INTERNAL_SERVER_ERROR && msg.contains("try again later"))
            {
                UploadRetry::Soon
            } else if *status == StatusCode::BAD_REQUEST && msg.contains("insufficient disk space")
            {
                UploadRetry::Late
            } else {
                UploadRetry::No
            }
        }
        ScanError::Transport { source, .. }
            if source.status().is_none() && !source.is_timeout() =>
        {
            UploadRetry::Soon
        }
        _ => UploadRetry::No,
    }
}

/// The `Retry-After` an error carries.
pub(crate) fn error_retry_after(e: &ScanError) -> Option<Duration> {
    match e {
        ScanError::Server { retry_after, .. } => *retry_after,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::error::Step;
    use crate::ServerError;

    fn server(status: u16, msg: &str) -> ScanError {
        ScanError::Server {
            step: Step::Upload,
            status: StatusCode::from_u16(status).unwrap(),
            body: ServerError {
                err: Some(msg.into()),
                extra: Default::default(),
            },
            retry_after: None,
        }
    }

    #[test]
    fn delays_grow_are_capped_and_jittered() {
        let p = RetryPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let d1 = p.delay(1, None);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = p.delay(3, None);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            let d9 = p.delay(9, None);
            assert!(d9 >= Duration::from_millis(500) && d9 <= Duration::from_millis(1000));
        }
        assert!(p.delay(1, Some(Duration::from_secs(7))) >= Duration::from_secs(7));
        assert_eq!(
            RetryPolicy::default().delay(1, Some(Duration::from_secs(100_000))),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        let later = SystemTime::now() + Duration::from_secs(60);
        h.insert(RETRY_AFTER, httpdate::fmt_http_date(later).parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(55) && d <= Duration::from_secs(60));
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn only_the_documented_upload_failures_are_retried() {
        assert_eq!(
            upload_retry(&server(503, "Server is too busy. Try again later.")),
            UploadRetry::Soon
        );
        assert_eq!(
            upload_retry(&server(500, "Failed to request scan. Try again later.")),
            UploadRetry::Soon
        );
        assert_eq!(
            upload_retry(&server(
                400,
                "File upload rejected due to insufficient disk space"
            )),
            UploadRetry::Late
        );
        assert_eq!(
            upload_retry(&server(500, "License expired")),
            UploadRetry::No
        );
        assert_eq!(
            upload_retry(&server(411, "Missing Content-Length header.")),
            UploadRetry::No
        );
        assert_eq!(
            upload_retry(&server(422, "File is empty.")),
            UploadRetry::No
        );
        assert_eq!(upload_retry(&server(403, "Access denied")), UploadRetry::No);
        assert!(read_is_retryable(&server(502, "")));
        assert!(!read_is_retryable(&server(404, "")));
    }
}
