//! The scanning layer: what users do with MetaDefender Core ("scan this file, or these ten
//! thousand; give me the verdict and the clean copy") on top of the generated calls.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use metadefender_core::Client;
//! let client = Client::builder("http://localhost:8008").apikey("…").build()?;
//! let report = client.scan("invoice.pdf").rule("multiscan").send().await?;
//! println!("{}: {}", report.data_id, report.verdict);
//! # Ok(()) }
//! ```
//!
//! - Uploads stream from disk with an exact `Content-Length` (Core refuses chunked bodies);
//!   memory stays flat whatever the size.
//! - Results are polled on a growing interval (250 ms × 1.5 up to 5 s, with jitter), with a
//!   grace window for fresh ids, a separate error backoff and an overall deadline
//!   ([`PollPolicy`]); or they arrive by callback (feature `callbacks`).
//! - Failed requests are retried per [`RetryPolicy`]; uploads only when the server certainly
//!   did not take the file and the body can be opened again.
//! - Every failure is a [`ScanError`] naming the [`Step`], the HTTP status and the server's
//!   message.
//!
//! See `docs/scanning.md` for the rules in detail.

mod archive;
mod auth;
mod batch;
mod builder;
#[cfg(feature = "callbacks")]
mod callback;
mod download;
mod error;
mod http;
mod many;
mod poll;
mod report;
mod retry;
mod source;
mod upload;
mod verdict;

use std::sync::Arc;

pub use archive::ChildFile;

pub use batch::{Batch, BatchReport};
pub use builder::{ScanBuilder, Submitted};
#[cfg(feature = "callbacks")]
pub use callback::{CallbackOptions, CallbackReceiver};
pub use download::Downloaded;
pub use error::{ScanError, Step};
pub use many::{ManyItem, ScanMany, ScanManyStream};
pub use poll::{PollPolicy, Progress, ScanEvent};
pub use report::ScanReport;
pub use retry::RetryPolicy;
pub use source::{ProgressFn, Source};
pub use verdict::{code_name, is_finished, is_not_found_body, threats_of, Threat, Verdict};

use crate::Client;

/// Scans files with a [`Client`]: holds the polling and retry policies and, after
/// [`Scanner::login`], the credentials for one re-login when the session expires. Cheap to
/// clone; clones share the client's credential.
#[derive(Debug, Clone)]
pub struct Scanner {
    pub(crate) client: Client,
    pub(crate) cfg: Arc<Config>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    pub poll: PollPolicy,
    pub retry: RetryPolicy,
    pub login: Option<Arc<auth::Login>>,
    /// Shared by every clone: what one scan learns about durations, the next uses.
    pub learned: Arc<poll::Learned>,
}

impl Scanner {
    /// A scanner with the default policies.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            cfg: Arc::new(Config::default()),
        }
    }

    /// Polls with `policy` from now on.
    pub fn with_poll_policy(mut self, policy: PollPolicy) -> Self {
        Arc::make_mut(&mut self.cfg).poll = policy;
        self
    }

    /// Retries with `policy` from now on.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        Arc::make_mut(&mut self.cfg).retry = policy;
        self
    }

    /// The generated client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Starts a scan of `source` (a path, bytes, or a [`Source::reader`]).
    pub fn scan(&self, source: impl Into<Source>) -> ScanBuilder {
        ScanBuilder::new(self.clone(), source.into())
    }
}

impl Client {
    /// Starts a scan with the default policies (see [`Scanner`] to change them or to log in).
    pub fn scan(&self, source: impl Into<Source>) -> ScanBuilder {
        Scanner::new(self.clone()).scan(source)
    }

    /// A [`Scanner`] on this client.
    pub fn scanner(&self) -> Scanner {
        Scanner::new(self.clone())
    }
}
