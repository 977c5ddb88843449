//! Waiting for a result: `GET /file/{data_id}` on a growing interval, a grace window for ids the
//! server does not know yet, a separate backoff for errors, and an overall deadline.

use std::time::{Duration, Instant};

use futures::Stream;

use super::error::{ScanError, Step};
use super::http::Repeat;
use super::report::ScanReport;
use super::retry::{self, grow, read_is_retryable, spread};
use super::verdict::{is_finished, is_not_found_body, progress_of};
use super::Scanner;
use crate::types::AnalysisResult;

/// How results are polled.
///
/// The interval starts at `initial_interval` and grows by `multiplier` up to `max_interval`,
/// each wait spread by `jitter`; when the server's progress lets the client estimate the end of
/// the scan, the next poll is moved up to that estimate. Failures (5xx, connection errors) use
/// their own backoff and do not change the interval.
#[derive(Debug, Clone)]
pub struct PollPolicy {
    /// First wait after the upload (default 250 ms).
    pub initial_interval: Duration,
    /// Growth per poll (default 1.5).
    pub multiplier: f64,
    /// Longest wait between two polls (default 5 s).
    pub max_interval: Duration,
    /// Random spread of each wait, as a fraction (default 0.1 = ±10 %).
    pub jitter: f64,
    /// How long after the upload an unknown id still counts as "not visible yet" (a cluster
    /// may not know a fresh id for a moment). Default 10 s.
    pub not_found_grace: Duration,
    /// First wait after a failed poll (default 1 s), doubling per failure in a row.
    pub error_initial: Duration,
    /// Longest wait after failed polls (default 30 s).
    pub error_max: Duration,
    /// Failed polls in a row after which waiting stops (default 10).
    pub max_errors: u32,
    /// Longest time from the upload to the result; `None` waits forever. Default 30 min.
    pub deadline: Option<Duration>,
    /// Cancel the scan on the server (`POST /file/{id}/cancel`) when the deadline passes.
    pub cancel_at_deadline: bool,
    /// Learn how long scans take on this server: a [`super::Scanner`] that has finished scans
    /// makes its first poll near their typical duration instead of at `initial_interval`
    /// (default on).
    pub learn: bool,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_millis(250),
            multiplier: 1.5,
            max_interval: Duration::from_secs(5),
            jitter: 0.1,
            not_found_grace: Duration::from_secs(10),
            error_initial: Duration::from_secs(1),
            error_max: Duration::from_secs(30),
            max_errors: 10,
            deadline: Some(Duration::from_secs(30 * 60)),
            cancel_at_deadline: false,
            learn: true,
        }
    }
}

/// Shortest wait between polls when learned durations are short.
const MIN_WAIT: Duration = Duration::from_millis(10);

/// How long scans on this server take, learned from finished ones: a moving average of the
/// middle of the window in which each scan finished (after the last poll that saw it running,
/// no later than the poll that saw it done), or a little less than the first poll's time when
/// that one already saw it done. Misses push the estimate up, early hits pull it down.
#[derive(Debug, Default)]
pub(crate) struct Learned(std::sync::Mutex<Option<f64>>);

impl Learned {
    fn get(&self) -> Option<Duration> {
        let v = *self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.map(Duration::from_secs_f64)
    }

    /// A scan that was running at `lo` (zero when no poll saw it running) was done at `hi`.
    fn record(&self, lo: Option<Duration>, hi: Duration) {
        let target = match lo {
            Some(lo) => (lo.as_secs_f64() + hi.as_secs_f64()) / 2.0,
            // Done at the first poll: it may have been done long before; aim earlier.
            None => hi.as_secs_f64() * 0.8,
        };
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *v = Some(match *v {
            Some(old) => (old + target) / 2.0,
            None => target,
        });
    }
}

/// A progress update while a scan runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The scan.
    pub data_id: String,
    /// `process_info.progress_percentage` (all processing), when sent.
    pub percent: Option<i64>,
    /// `scan_results.progress_percentage` (engines only), when sent.
    pub scan_percent: Option<i64>,
    /// Polls made so far.
    pub polls: u32,
    /// Time since the upload.
    pub elapsed: Duration,
}

/// An item of [`super::Submitted::updates`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ScanEvent {
    /// The scan is still running.
    Progress(Progress),
    /// The scan is done; the stream ends after this.
    Finished(Box<ScanReport>),
}

/// The polling state of one scan. Holds no task: dropping it (or the future or stream driving
/// it) just stops polling.
pub(crate) struct Poller {
    scanner: Scanner,
    data_id: String,
    policy: PollPolicy,
    submitted_at: Instant,
    interval: Duration,
    errors: u32,
    polls: u32,
    seen: bool,
    first_sample: Option<(Instant, i64)>,
    eta: Option<Instant>,
    first: bool,
    done: bool,
    /// When the last poll that saw the scan running was made.
    last_running: Option<Instant>,
}

impl Poller {
    pub(crate) fn new(
        scanner: Scanner,
        data_id: String,
        policy: PollPolicy,
        submitted_at: Instant,
    ) -> Self {
        let interval = policy.initial_interval;
        Self {
            last_running: None,
            scanner,
            data_id,
            policy,
            submitted_at,
            interval,
            errors: 0,
            polls: 0,
            seen: false,
            first_sample: None,
            eta: None,
            first: true,
            done: false,
        }
    }

    fn deadline_at(&self) -> Option<Instant> {
        self.policy.deadline.map(|d| self.submitted_at + d)
    }

    /// The wait before the next regular poll.
    fn next_wait(&mut self) -> Duration {
        let learned = self
            .policy
            .learn
            .then(|| self.scanner.cfg.learned.get())
            .flatten();
        let base = if self.first {
            self.first = false;
            match learned {
                Some(typical) => {
                    // A miss is usually a near miss: later polls step in tenths of the typical
                    // duration (growing as usual), never slower than the configured start.
                    self.interval = (typical / 10).clamp(MIN_WAIT, self.policy.initial_interval);
                    // Aimed a little after the typical end: a near miss costs a request and a
                    // step, a little lateness costs nothing. The upload's answer came some time
                    // ago already.
                    typical
                        .mul_f64(1.05)
                        .saturating_sub(self.submitted_at.elapsed())
                        // A wrong estimate must not park a scan for long.
                        .clamp(MIN_WAIT, self.policy.max_interval * 4)
                }
                None => self.interval,
            }
        } else {
            self.interval = grow(
                self.interval,
                self.policy.multiplier,
                1,
                self.policy.max_interval,
            );
            self.interval
        };
        // A learned first poll aims at a point in time: it gets a quarter of the spread.
        let jitter = if learned.is_some() && self.polls == 0 {
            self.policy.jitter / 4.0
        } else {
            self.policy.jitter
        };
        let mut wait = spread(base, jitter);
        if let Some(eta) = self.eta {
            let until = eta.saturating_duration_since(Instant::now());
            wait = wait.min(until.max(self.interval.min(self.policy.initial_interval)));
        }
        wait
    }

    /// Estimates when the scan ends from the progress seen so far.
    fn observe(&mut self, percent: Option<i64>) {
        let Some(p) = percent.filter(|p| (0..100).contains(p)) else {
            return;
        };
        let now = Instant::now();
        match self.first_sample {
            None => self.first_sample = Some((now, p)),
            Some((t0, p0)) if p > p0 => {
                let rate = (p - p0) as f64 / now.duration_since(t0).as_secs_f64().max(1e-3);
                let remaining = (100 - p) as f64 / rate;
                self.eta = Some(now + Duration::from_secs_f64(remaining.min(86_400.0)));
            }
            Some(_) => {}
        }
    }

    async fn sleep_until_next(&mut self, wait: Duration) {
        let wait = match self.deadline_at() {
            Some(at) => wait.min(at.saturating_duration_since(Instant::now())),
            None => wait,
        };
        tokio::time::sleep(wait).await;
    }

    async fn fetch(&self) -> Result<AnalysisResult, ScanError> {
        let client = &self.scanner.client;
        let id = self.data_id.as_str();
        self.scanner
            .call(Step::Poll, Repeat::Once, || {
                client.file_analysis_get().data_id(id).send()
            })
            .await
            .map(|rv| rv.into_inner())
    }

    fn not_found(&self) -> Result<(), ScanError> {
        let waited = self.submitted_at.elapsed();
        if self.seen || waited >= self.policy.not_found_grace {
            return Err(ScanError::NotFound {
                step: Step::Poll,
                data_id: self.data_id.clone(),
                waited,
            });
        }
        tracing::debug!(data_id = %self.data_id, ?waited, "id not visible yet");
        Ok(())
    }

    async fn deadline_error(&self) -> ScanError {
        let deadline = self.policy.deadline.unwrap_or_default();
        let cancelled =
            self.policy.cancel_at_deadline && self.scanner.cancel(&self.data_id).await.is_ok();
        ScanError::Deadline {
            step: Step::Poll,
            data_id: self.data_id.clone(),
            deadline,
            cancelled,
        }
    }

    /// Polls until there is something to report: progress, the final result, or an error.
    /// `None` once the final result or an error was reported.
    pub(crate) async fn next_event(&mut self) -> Option<Result<ScanEvent, ScanError>> {
        if self.done {
            return None;
        }
        let out = self.advance().await;
        if !matches!(out, Ok(ScanEvent::Progress(_))) {
            self.done = true;
        }
        Some(out)
    }

    async fn advance(&mut self) -> Result<ScanEvent, ScanError> {
        let mut wait = self.next_wait();
        loop {
            if self.deadline_at().is_some_and(|at| Instant::now() >= at) {
                return Err(self.deadline_error().await);
            }
            self.sleep_until_next(wait).await;
            self.polls += 1;
            // Times of polls are taken when they are sent: the answer's round trip says
            // nothing about the scan.
            let sent = Instant::now();
            match self.fetch().await {
                Ok(r) if is_not_found_body(&r) => {
                    self.errors = 0;
                    self.not_found()?;
                }
                Ok(r) if is_finished(&r) => {
                    if self.policy.learn {
                        let lo = self
                            .last_running
                            .map(|t| t.saturating_duration_since(self.submitted_at));
                        self.scanner
                            .cfg
                            .learned
                            .record(lo, sent.saturating_duration_since(self.submitted_at));
                    }
                    let report =
                        ScanReport::build(&self.scanner, self.data_id.clone(), r, false).await;
                    return Ok(ScanEvent::Finished(Box::new(report)));
                }
                Ok(r) => {
                    self.errors = 0;
                    self.seen = true;
                    self.last_running = Some(sent);
                    let percent = progress_of(&r);
                    self.observe(percent);
                    return Ok(ScanEvent::Progress(Progress {
                        data_id: self.data_id.clone(),
                        percent: r.process_info.as_ref().and_then(|p| p.progress_percentage),
                        scan_percent: r.scan_results.as_ref().and_then(|s| s.progress_percentage),
                        polls: self.polls,
                        elapsed: self.submitted_at.elapsed(),
                    }));
                }
                Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
                    self.errors = 0;
                    self.not_found()?;
                }
                Err(e) if read_is_retryable(&e) => {
                    self.errors += 1;
                    if self.errors >= self.policy.max_errors {
                        return Err(e);
                    }
                    let backoff = grow(
                        self.policy.error_initial,
                        2.0,
                        self.errors - 1,
                        self.policy.error_max,
                    );
                    let backoff = spread(backoff, self.policy.jitter);
                    wait = match retry::error_retry_after(&e) {
                        Some(ra) => backoff.max(ra.min(self.policy.error_max)),
                        None => backoff,
                    };
                    tracing::debug!(data_id = %self.data_id, error = %e, ?wait, "poll failed");
                    continue;
                }
                Err(e) => return Err(e),
            }
            if self.deadline_at().is_some_and(|at| Instant::now() >= at) {
                return Err(self.deadline_error().await);
            }
            wait = self.next_wait();
        }
    }

    /// Polls to the end.
    pub(crate) async fn finish(mut self) -> Result<ScanReport, ScanError> {
        loop {
            match self.next_event().await {
                Some(Ok(ScanEvent::Finished(r))) => return Ok(*r),
                Some(Ok(ScanEvent::Progress(_))) => continue,
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(ScanError::protocol(
                        Step::Poll,
                        "polling ended without a result",
                    ))
                }
            }
        }
    }

    pub(crate) fn into_stream(self) -> impl Stream<Item = Result<ScanEvent, ScanError>> + Send {
        futures::stream::unfold(
            self,
            |mut p| async move { p.next_event().await.map(|e| (e, p)) },
        )
    }
}

impl Scanner {
    /// Cancels a running scan (`POST /file/{data_id}/cancel`).
    pub async fn cancel(&self, data_id: &str) -> Result<(), ScanError> {
        let client = &self.client;
        self.call(Step::Cancel, Repeat::Once, || {
            client.file_analysis_cancel().data_id(data_id).send()
        })
        .await
        .map(|_| ())
    }

    /// Waits for the result of a scan submitted earlier (by this or another client).
    pub async fn wait_for(&self, data_id: &str) -> Result<ScanReport, ScanError> {
        // The scan started at an unknown time: nothing to learn from it.
        let policy = PollPolicy {
            learn: false,
            ..self.cfg.poll.clone()
        };
        Poller::new(self.clone(), data_id.to_string(), policy, Instant::now())
            .finish()
            .await
    }

    /// The current result of a scan, finished or not.
    pub async fn result(&self, data_id: &str) -> Result<AnalysisResult, ScanError> {
        let client = &self.client;
        let r = self
            .call(Step::Poll, Repeat::Read, || {
                client.file_analysis_get().data_id(data_id).send()
            })
            .await?
            .into_inner();
        if is_not_found_body(&r) {
            return Err(ScanError::NotFound {
                step: Step::Poll,
                data_id: data_id.to_string(),
                waited: Duration::ZERO,
            });
        }
        Ok(r)
    }
}
