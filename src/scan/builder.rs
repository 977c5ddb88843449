//! `client.scan(source)`: the options of one scan, submitting it, and waiting for its result.

use std::time::{Duration, Instant};

use futures::Stream;
use tracing::Instrument;

use super::error::{ScanError, Step};
use super::http::Repeat;
use super::poll::{PollPolicy, Poller, ScanEvent};
use super::report::ScanReport;
use super::source::{ProgressFn, Source};
use super::upload::{ascii_json, encode_header_text, UploadRequest, Uploaded};
use super::verdict::{is_finished, is_not_found_body};
use super::Scanner;
use crate::types::AnalysisResult;
use crate::Secret;

pub(crate) type BusyHook = std::sync::Arc<dyn Fn() + Send + Sync>;

/// Options of a scan, shared by [`ScanBuilder`] and [`super::ScanMany`].
#[derive(Clone, Default)]
pub(crate) struct ScanSettings {
    pub rules: Vec<String>,
    pub workflow: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub archive_passwords: Vec<Secret>,
    pub filename: Option<String>,
    pub filepath: Option<String>,
    pub user_agent: Option<String>,
    pub callback_url: Option<String>,
    pub sanitized_url: Option<String>,
    pub batch: Option<String>,
    pub global_timeout: Option<Duration>,
    pub hash_first: bool,
    pub sync: bool,
    pub progress: Option<ProgressFn>,
    pub poll: Option<PollPolicy>,
    #[cfg(feature = "callbacks")]
    pub receiver: Option<(super::callback::CallbackReceiver, Duration)>,
}

impl ScanSettings {
    /// The request headers for `source`.
    pub(crate) fn upload_request(&self, source: &Source) -> Result<UploadRequest, ScanError> {
        let mut req = UploadRequest {
            sync: self.sync,
            progress: self.progress.clone(),
            ..UploadRequest::default()
        };
        let s = Step::Upload;
        if let Some(name) = self.filename.clone().or_else(|| source.name()) {
            req.set(s, "filename", &encode_header_text(&name))?;
        }
        if let Some(p) = &self.filepath {
            req.set(s, "filepath", &encode_header_text(p))?;
        }
        if !self.rules.is_empty() {
            let rules: Vec<String> = self.rules.iter().map(|r| encode_header_text(r)).collect();
            req.set(s, "rule", &rules.join(","))?;
        }
        if let Some(w) = &self.workflow {
            req.set(s, "workflow", &encode_header_text(w))?;
        }
        if let Some(m) = &self.metadata {
            req.set(s, "metadata", &ascii_json(m))?;
        }
        if let Some(u) = &self.user_agent {
            req.set(s, "user_agent", &encode_header_text(u))?;
        }
        if let Some(u) = &self.callback_url {
            req.set(s, "callbackurl", u)?;
        }
        if let Some(u) = &self.sanitized_url {
            req.set(s, "sanitizedurl", u)?;
        }
        if let Some(b) = &self.batch {
            req.set(s, "batch", b)?;
        }
        if let Some(t) = self.global_timeout {
            req.set(s, "global-timeout", &t.as_secs().max(1).to_string())?;
        }
        const NAMES: [&str; 9] = [
            "archivepwd1",
            "archivepwd2",
            "archivepwd3",
            "archivepwd4",
            "archivepwd5",
            "archivepwd6",
            "archivepwd7",
            "archivepwd8",
            "archivepwd9",
        ];
        match self.archive_passwords.as_slice() {
            [] => {}
            [one] => req.set(s, "archivepwd", &encode_header_text(one.expose()))?,
            many if many.len() <= NAMES.len() => {
                for (name, pw) in NAMES.iter().zip(many) {
                    req.set(s, name, &encode_header_text(pw.expose()))?;
                }
            }
            many => {
                return Err(ScanError::invalid(
                    s,
                    format!(
                        "{} archive passwords given; at most {} are sent",
                        many.len(),
                        NAMES.len()
                    ),
                ))
            }
        }
        if self.sync && self.callback_url.is_some() {
            return Err(ScanError::invalid(
                s,
                "/file/sync does not accept a callback URL; use one or the other",
            ));
        }
        Ok(req)
    }
}

/// Builds one scan: `client.scan("file.pdf").rule("sanitize").send().await?`.
#[must_use = "a scan does nothing until submitted"]
pub struct ScanBuilder {
    scanner: Scanner,
    source: Source,
    settings: ScanSettings,
}

impl std::fmt::Debug for ScanBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanBuilder")
            .field("source", &self.source)
            .field("rules", &self.settings.rules)
            .field("hash_first", &self.settings.hash_first)
            .field("sync", &self.settings.sync)
            .finish_non_exhaustive()
    }
}

macro_rules! settings_methods {
    () => {
        /// Adds a workflow rule (several are sent comma separated).
        pub fn rule(mut self, rule: impl Into<String>) -> Self {
            self.settings.rules.push(rule.into());
            self
        }
        /// The deprecated `workflow` header of older servers.
        pub fn workflow(mut self, workflow: impl Into<String>) -> Self {
            self.settings.workflow = Some(workflow.into());
            self
        }
        /// Metadata (JSON) stored with the scan.
        pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
            self.settings.metadata = Some(metadata);
            self
        }
        /// A password to try on encrypted archives (may be given several times).
        pub fn archive_password(mut self, password: impl Into<Secret>) -> Self {
            self.settings.archive_passwords.push(password.into());
            self
        }
        /// The `user_agent` header Core records with the scan.
        pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
            self.settings.user_agent = Some(user_agent.into());
            self
        }
        /// A URL Core POSTs the result to when the scan is done.
        pub fn callback_url(mut self, url: impl Into<String>) -> Self {
            self.settings.callback_url = Some(url.into());
            self
        }
        /// A URL Core POSTs the sanitized file to.
        pub fn sanitized_url(mut self, url: impl Into<String>) -> Self {
            self.settings.sanitized_url = Some(url.into());
            self
        }
        /// The `global-timeout` header: the server gives up on the scan after this.
        pub fn global_timeout(mut self, timeout: Duration) -> Self {
            self.settings.global_timeout = Some(timeout);
            self
        }
        /// Looks the file's sha256 up first (`GET /hash/{sha256}`) and skips the upload when a
        /// finished result exists.
        pub fn hash_first(mut self, yes: bool) -> Self {
            self.settings.hash_first = yes;
            self
        }
        /// Uploads to `/file/sync`, which answers when the scan is done; when it times out
        /// (408) the scan is polled instead.
        pub fn sync(mut self, yes: bool) -> Self {
            self.settings.sync = yes;
            self
        }
        /// Called with `(bytes sent, total)` while the upload streams.
        pub fn progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
            self.settings.progress = Some(std::sync::Arc::new(f));
            self
        }
        /// Polling for this scan (default: the scanner's).
        pub fn poll_policy(mut self, policy: PollPolicy) -> Self {
            self.settings.poll = Some(policy);
            self
        }
        /// Overall deadline from the upload to the result (see [`PollPolicy::deadline`]).
        pub fn deadline(mut self, deadline: Duration) -> Self {
            let mut p = self
                .settings
                .poll
                .take()
                .unwrap_or_else(|| self.scanner.cfg.poll.clone());
            p.deadline = Some(deadline);
            self.settings.poll = Some(p);
            self
        }
        /// Cancels the scan on the server when the deadline passes.
        pub fn cancel_at_deadline(mut self, yes: bool) -> Self {
            let mut p = self
                .settings
                .poll
                .take()
                .unwrap_or_else(|| self.scanner.cfg.poll.clone());
            p.cancel_at_deadline = yes;
            self.settings.poll = Some(p);
            self
        }
        /// Completes the scan from a callback to `receiver` instead of polling; when no
        /// callback arrives within `wait`, falls back to polling.
        #[cfg(feature = "callbacks")]
        pub fn callback(
            mut self,
            receiver: &super::callback::CallbackReceiver,
            wait: Duration,
        ) -> Self {
            self.settings.callback_url = Some(receiver.url().to_string());
            self.settings.receiver = Some((receiver.clone(), wait));
            self
        }
    };
}
pub(crate) use settings_methods;

impl ScanBuilder {
    pub(crate) fn new(scanner: Scanner, source: Source) -> Self {
        Self {
            scanner,
            source,
            settings: ScanSettings::default(),
        }
    }

    pub(crate) fn with_settings(scanner: Scanner, source: Source, settings: ScanSettings) -> Self {
        Self {
            scanner,
            source,
            settings,
        }
    }

    settings_methods!();

    /// The file name sent to the server (default: the path's file name).
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.settings.filename = Some(name.into());
        self
    }

    /// The `filepath` header (the file's path on the client, for the record).
    pub fn filepath(mut self, path: impl Into<String>) -> Self {
        self.settings.filepath = Some(path.into());
        self
    }

    pub(crate) fn batch(mut self, batch_id: impl Into<String>) -> Self {
        self.settings.batch = Some(batch_id.into());
        self
    }

    /// Uploads the file (or finds it by hash) and returns without waiting for the result.
    pub async fn submit(self) -> Result<Submitted, ScanError> {
        self.submit_with(None).await
    }

    /// [`ScanBuilder::submit`] with a hook called on each 503; with a hook, 503s are retried
    /// without counting against the retry policy (the caller paces the uploads).
    pub(crate) async fn submit_with(
        self,
        on_busy: Option<BusyHook>,
    ) -> Result<Submitted, ScanError> {
        let name = self
            .settings
            .filename
            .clone()
            .or_else(|| self.source.name())
            .unwrap_or_default();
        let span = tracing::info_span!(
            "scan",
            file = %name,
            size = tracing::field::Empty,
            data_id = tracing::field::Empty
        );
        let inner = span.clone();
        self.submit_inner(inner, on_busy).instrument(span).await
    }

    async fn submit_inner(
        self,
        span: tracing::Span,
        on_busy: Option<BusyHook>,
    ) -> Result<Submitted, ScanError> {
        let ScanBuilder {
            scanner,
            source,
            settings,
        } = self;
        let mut req = settings.upload_request(&source)?;
        req.busy_unbounded = on_busy.is_some();
        req.on_busy = on_busy;
        let poll = settings
            .poll
            .clone()
            .unwrap_or_else(|| scanner.cfg.poll.clone());
        if settings.hash_first {
            if let Some(sha) = source.sha256().await? {
                if let Some(found) = lookup_finished(&scanner, &sha, &settings.rules).await {
                    let data_id = found.data_id.clone().unwrap_or_default();
                    span.record("data_id", data_id.as_str());
                    tracing::info!(sha256 = %sha, "finished result found by hash; not uploading");
                    return Ok(Submitted {
                        scanner,
                        data_id,
                        submitted_at: Instant::now(),
                        ready: Some(Box::new(found)),
                        from_cache: true,
                        poll,
                        span,
                        #[cfg(feature = "callbacks")]
                        waiter: None,
                    });
                }
            }
        }
        let uploaded = scanner.upload(&source, &req).await?;
        // Durations and the not-found grace count from the server's answer, not from the
        // start of a long upload.
        let submitted_at = Instant::now();
        let (data_id, ready) = match uploaded {
            Uploaded::Queued(id) => (id, None),
            Uploaded::Done(r) => (r.data_id.clone().unwrap_or_default(), Some(r)),
        };
        span.record("data_id", data_id.as_str());
        tracing::info!("uploaded");
        #[cfg(feature = "callbacks")]
        let waiter = match (&settings.receiver, &ready) {
            (Some((rx, wait)), None) => Some((rx.register(&data_id), *wait)),
            _ => None,
        };
        Ok(Submitted {
            scanner,
            data_id,
            submitted_at,
            ready,
            from_cache: false,
            poll,
            span,
            #[cfg(feature = "callbacks")]
            waiter,
        })
    }

    /// Submits the scan and waits for its result.
    pub async fn send(self) -> Result<ScanReport, ScanError> {
        self.submit().await?.wait().await
    }

    /// Same as [`ScanBuilder::send`].
    pub async fn wait(self) -> Result<ScanReport, ScanError> {
        self.send().await
    }
}

/// A finished result for `sha256`, if the server has one. A failed lookup only means the file
/// gets uploaded.
async fn lookup_finished(
    scanner: &Scanner,
    sha256: &str,
    rules: &[String],
) -> Option<AnalysisResult> {
    let client = &scanner.client;
    let rule = (!rules.is_empty()).then(|| rules.join(","));
    let answer = scanner
        .call(Step::HashLookup, Repeat::Read, || {
            let mut op = client.hash_get().hash(sha256);
            if let Some(r) = &rule {
                op = op.rule(r.clone());
            }
            op.send()
        })
        .await;
    match answer {
        Ok(rv) => {
            let r = rv.into_inner();
            (!is_not_found_body(&r) && is_finished(&r) && r.data_id.is_some()).then_some(r)
        }
        Err(e) => {
            if e.status() != Some(reqwest::StatusCode::NOT_FOUND) {
                tracing::warn!(error = %e, "hash lookup failed; uploading");
            }
            None
        }
    }
}

/// A scan the server accepted.
#[must_use = "dropping a submitted scan stops waiting for it (the scan continues on the server)"]
pub struct Submitted {
    scanner: Scanner,
    data_id: String,
    submitted_at: Instant,
    ready: Option<Box<AnalysisResult>>,
    from_cache: bool,
    poll: PollPolicy,
    span: tracing::Span,
    #[cfg(feature = "callbacks")]
    waiter: Option<(super::callback::Registration, Duration)>,
}

impl std::fmt::Debug for Submitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submitted")
            .field("data_id", &self.data_id)
            .field("from_cache", &self.from_cache)
            .field("finished", &self.ready.is_some())
            .finish_non_exhaustive()
    }
}

impl Submitted {
    /// The scan's data id.
    pub fn data_id(&self) -> &str {
        &self.data_id
    }

    /// Whether a finished result was found by hash (nothing uploaded).
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    fn poller(&self) -> Poller {
        Poller::new(
            self.scanner.clone(),
            self.data_id.clone(),
            self.poll.clone(),
            self.submitted_at,
        )
    }

    /// Waits for the result: from the answer of `/file/sync` or the hash lookup when there was
    /// one, from a callback when one was asked for, by polling otherwise.
    pub async fn wait(self) -> Result<ScanReport, ScanError> {
        let span = self.span.clone();
        self.wait_inner().instrument(span).await
    }

    async fn wait_inner(self) -> Result<ScanReport, ScanError> {
        if let Some(r) = self.ready {
            let report = ScanReport::build(&self.scanner, self.data_id, *r, self.from_cache).await;
            tracing::info!(verdict = %report.verdict, "finished");
            return Ok(report);
        }
        #[cfg(feature = "callbacks")]
        let mut this = self;
        #[cfg(not(feature = "callbacks"))]
        let this = self;
        #[cfg(feature = "callbacks")]
        if let Some((registration, wait)) = this.waiter.take() {
            if let Some(r) = registration.wait(wait).await {
                let report = ScanReport::build(&this.scanner, this.data_id.clone(), r, false).await;
                tracing::info!(verdict = %report.verdict, "finished (callback)");
                return Ok(report);
            }
            tracing::info!("no callback in time; polling");
        }
        let report = this.poller().finish().await?;
        tracing::info!(verdict = %report.verdict, "finished");
        Ok(report)
    }

    /// Progress updates, ending with the final result (or an error). Polls while it is
    /// consumed; dropping it stops polling.
    pub fn updates(self) -> impl Stream<Item = Result<ScanEvent, ScanError>> + Send {
        use futures::StreamExt;
        match self.ready {
            Some(r) => {
                let (scanner, id, cached) = (self.scanner, self.data_id, self.from_cache);
                futures::stream::once(async move {
                    Ok(ScanEvent::Finished(Box::new(
                        ScanReport::build(&scanner, id, *r, cached).await,
                    )))
                })
                .boxed()
            }
            None => self.poller().into_stream().boxed(),
        }
    }
}
