//! Many files: bounded concurrency that shrinks when the server answers 503 (its queue is full)
//! and grows back as scans finish; results as a stream in completion order.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, Notify};

use super::builder::{settings_methods, ScanBuilder, ScanSettings};
use super::error::ScanError;
use super::poll::PollPolicy;
use super::report::ScanReport;
use super::source::Source;
use super::Scanner;
use crate::Secret;

/// The outcome for one file of [`Scanner::scan_many`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ManyItem {
    /// Position of the file in the input.
    pub index: usize,
    /// The file (its path, or the name given to a non-file source).
    pub path: std::path::PathBuf,
    /// Its report, or why it failed.
    pub result: Result<ScanReport, ScanError>,
}

/// A concurrency limit that drops to what the server holds when it answers 503 (the scans in
/// flight, less the refused one) and grows by one per `limit` finished scans.
#[derive(Debug)]
struct Limiter {
    state: Mutex<LimitState>,
    freed: Notify,
}

#[derive(Debug)]
struct LimitState {
    limit: usize,
    max: usize,
    in_use: usize,
    credit: usize,
}

struct Permit(Arc<Limiter>);

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        s.in_use -= 1;
        drop(s);
        self.0.freed.notify_waiters();
    }
}

impl Limiter {
    fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(LimitState {
                limit: max,
                max,
                in_use: 0,
                credit: 0,
            }),
            freed: Notify::new(),
        })
    }

    async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let notified = self.freed.notified();
            {
                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if s.in_use < s.limit {
                    s.in_use += 1;
                    return Permit(self.clone());
                }
            }
            notified.await;
        }
    }

    /// The server's queue is full: what it holds is at most what is in flight.
    fn busy(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let target = s.in_use.saturating_sub(1).max(1);
        if target < s.limit {
            tracing::debug!(
                from = s.limit,
                to = target,
                "server busy: lowering concurrency"
            );
            s.limit = target;
            s.credit = 0;
        }
    }

    fn finished(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.limit < s.max {
            s.credit += 1;
            if s.credit >= s.limit {
                s.credit = 0;
                s.limit += 1;
                drop(s);
                self.freed.notify_waiters();
            }
        }
    }
}

/// Builds a run of [`Scanner::scan_many`].
#[must_use = "nothing is scanned until `run` is called and the stream consumed"]
pub struct ScanMany<S> {
    scanner: Scanner,
    sources: S,
    concurrency: usize,
    settings: ScanSettings,
}

impl<S> std::fmt::Debug for ScanMany<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanMany")
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl Scanner {
    /// Scans every source of a stream (use `futures::stream::iter(paths)` for a list).
    pub fn scan_many<S, I>(&self, sources: S) -> ScanMany<S>
    where
        S: Stream<Item = I> + Send + 'static,
        I: Into<Source>,
    {
        ScanMany {
            scanner: self.clone(),
            sources,
            concurrency: 16,
            settings: ScanSettings::default(),
        }
    }
}

impl<S, I> ScanMany<S>
where
    S: Stream<Item = I> + Send + Unpin + 'static,
    I: Into<Source> + Send + 'static,
{
    settings_methods!();

    /// Scans in flight at most (uploaded and not finished; default 16). The limit drops when
    /// the server answers 503 and climbs back as scans finish.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Starts scanning; results arrive in completion order. Dropping the stream stops every
    /// scan still running (on the client; the server finishes what it has).
    pub fn run(self) -> ScanManyStream {
        let ScanMany {
            scanner,
            sources,
            concurrency,
            settings,
        } = self;
        let (tx, rx) = mpsc::channel(concurrency * 2);
        let driver = tokio::spawn(drive(scanner, sources, concurrency, settings, tx));
        ScanManyStream { rx, driver }
    }
}

async fn drive<S, I>(
    scanner: Scanner,
    mut sources: S,
    concurrency: usize,
    settings: ScanSettings,
    tx: mpsc::Sender<ManyItem>,
) where
    S: Stream<Item = I> + Send + Unpin + 'static,
    I: Into<Source> + Send + 'static,
{
    let limiter = Limiter::new(concurrency);
    let mut tasks = tokio::task::JoinSet::new();
    let mut index = 0usize;
    while let Some(item) = sources.next().await {
        let permit = limiter.acquire().await;
        while tasks.try_join_next().is_some() {}
        let source: Source = item.into();
        let (scanner, settings, tx, limiter) = (
            scanner.clone(),
            settings.clone(),
            tx.clone(),
            limiter.clone(),
        );
        let i = index;
        index += 1;
        tasks.spawn(async move {
            let path = source.display_path();
            let result = scan_one(scanner, source, settings, limiter.clone()).await;
            drop(permit);
            if result.is_ok() {
                limiter.finished();
            }
            let _ = tx
                .send(ManyItem {
                    index: i,
                    path,
                    result,
                })
                .await;
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn scan_one(
    scanner: Scanner,
    source: Source,
    settings: ScanSettings,
    limiter: Arc<Limiter>,
) -> Result<ScanReport, ScanError> {
    let busy = limiter.clone();
    let builder = ScanBuilder::with_settings(scanner, source, settings);
    builder
        .submit_with(Some(Arc::new(move || busy.busy())))
        .await?
        .wait()
        .await
}

/// The results of [`ScanMany::run`], in completion order.
pub struct ScanManyStream {
    rx: mpsc::Receiver<ManyItem>,
    driver: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for ScanManyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanManyStream").finish_non_exhaustive()
    }
}

impl Stream for ScanManyStream {
    type Item = ManyItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ManyItem>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for ScanManyStream {
    fn drop(&mut self) {
        // The driver owns the JoinSet: aborting it aborts every scan task.
        self.driver.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_limit_drops_on_busy_and_climbs_back() {
        let l = Limiter::new(8);
        let mut permits = Vec::new();
        for _ in 0..8 {
            permits.push(l.acquire().await);
        }
        l.busy();
        assert_eq!(l.state.lock().unwrap().limit, 7);
        permits.truncate(2);
        l.busy();
        assert_eq!(l.state.lock().unwrap().limit, 1);
        for _ in 0..3 {
            l.finished();
        }
        assert_eq!(l.state.lock().unwrap().limit, 3);
        let third = tokio::time::timeout(Duration::from_millis(50), l.acquire())
            .await
            .unwrap();
        let blocked = tokio::time::timeout(Duration::from_millis(50), l.acquire()).await;
        assert!(
            blocked.is_err(),
            "3 in use of 3: the next waits for a release"
        );
        drop(third);
        let _p = tokio::time::timeout(Duration::from_millis(50), l.acquire())
            .await
            .unwrap();
    }
}
