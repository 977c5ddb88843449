//! Reading a document over HTTP(S) with time and size bounds.

use std::io::Read;
use std::time::Duration;

use crate::error::{Error, Result};

/// Bounds on everything the loader reads, local or remote.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest single file or HTTP body, in bytes.
    pub max_file_bytes: u64,
    /// Most files one bundle may read.
    pub max_files: usize,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for a whole request, body included.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // The largest known upstream document is 0.7 MB; 32 MiB leaves room for growth
            // while keeping a runaway server from filling memory.
            max_file_bytes: 32 << 20,
            max_files: 10_000,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Fetches `url` with the bounds in `limits`.
pub fn fetch(url: &url::Url, limits: &Limits) -> Result<Vec<u8>> {
    let shown = redact(url);
    if url.scheme() == "https" && !cfg!(feature = "rustls") {
        return Err(Error::HttpsDisabled { url: shown });
    }
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(Error::Fetch {
            url: shown,
            message: format!("unsupported scheme `{}`", url.scheme()),
            source: None,
        });
    }
    let fail = |message: &str, e: reqwest::Error| Error::Fetch {
        url: shown.clone(),
        message: message.to_string(),
        source: Some(Box::new(e.without_url())),
    };
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.request_timeout)
        .user_agent(concat!("mdcore-spec/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail("cannot build the HTTP client", e))?;
    let response = client
        .get(url.clone())
        .send()
        .map_err(|e| fail("request failed", e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::HttpStatus {
            url: shown,
            status: status.as_u16(),
        });
    }
    if let Some(len) = response.content_length() {
        if len > limits.max_file_bytes {
            return Err(Error::TooLarge {
                location: shown,
                size: len,
                limit: limits.max_file_bytes,
            });
        }
    }
    // The server may lie about or omit the length, so the read itself is capped too.
    let mut body = Vec::new();
    response
        .take(limits.max_file_bytes + 1)
        .read_to_end(&mut body)
        .map_err(|source| Error::Io {
            location: shown.clone(),
            source,
        })?;
    if body.len() as u64 > limits.max_file_bytes {
        return Err(Error::TooLarge {
            location: shown,
            size: body.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    Ok(body)
}

/// The URL as it may appear in messages: user info and query values (where tokens tend to
/// live) are masked.
pub fn redact(url: &url::Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() || shown.password().is_some() {
        let _ = shown.set_username("***");
        let _ = shown.set_password(None);
    }
    if shown.query().is_some() {
        let masked: Vec<String> = url.query_pairs().map(|(k, _)| format!("{k}=***")).collect();
        shown.set_query(Some(&masked.join("&")));
    }
    shown.to_string()
}
