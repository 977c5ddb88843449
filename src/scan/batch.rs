//! Batches: create, add files (concurrently), close, wait, signed certificate, cancel.

use std::time::{Duration, Instant};

use futures::StreamExt;

use super::builder::ScanBuilder;
use super::error::{ScanError, Step};
use super::http::Repeat;
use super::retry::{grow, spread};
use super::source::Source;
use super::verdict::Verdict;
use super::Scanner;
use crate::types::{
    AnalysisResult, BatchResponseInProgress, BatchResponseInProgressBatchFilesFilesInBatchItem,
};

/// An open batch on the server.
#[derive(Debug, Clone)]
pub struct Batch {
    scanner: Scanner,
    id: String,
}

/// A finished batch.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchReport {
    /// The batch id.
    pub batch_id: String,
    /// The verdict over all files (the worst one).
    pub verdict: Verdict,
    /// The last status, as the server sent it (its `batch_files` holds the last page only).
    pub status: BatchResponseInProgress,
    /// Every file of the batch, all pages.
    pub files: Vec<BatchResponseInProgressBatchFilesFilesInBatchItem>,
}

const PAGE: i64 = 50;

impl Scanner {
    /// Creates a batch (`POST /file/batch`), optionally for a rule and with user data.
    pub async fn create_batch(
        &self,
        rule: Option<&str>,
        user_data: Option<&str>,
    ) -> Result<Batch, ScanError> {
        let client = &self.client;
        let answer = self
            .call(Step::Batch, Repeat::Once, || {
                let mut op = client.batch_create();
                if let Some(r) = rule {
                    op = op.rule(r);
                }
                if let Some(u) = user_data {
                    op = op.user_data(u);
                }
                op.send()
            })
            .await?
            .into_inner();
        if answer.batch_id.is_empty() {
            return Err(ScanError::protocol(
                Step::Batch,
                "the batch answer has an empty batch_id",
            ));
        }
        Ok(Batch {
            scanner: self.clone(),
            id: answer.batch_id,
        })
    }

    /// A batch created earlier.
    pub fn batch(&self, batch_id: impl Into<String>) -> Batch {
        Batch {
            scanner: self.clone(),
            id: batch_id.into(),
        }
    }
}

impl Batch {
    /// The batch id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A scan that joins this batch (set its options, then `submit`).
    pub fn scan(&self, source: impl Into<Source>) -> ScanBuilder {
        self.scanner.scan(source).batch(self.id.clone())
    }

    /// Uploads a file into the batch; gives its data id.
    pub async fn add(&self, source: impl Into<Source>) -> Result<String, ScanError> {
        Ok(self.scan(source).submit().await?.data_id().to_string())
    }

    /// Uploads files into the batch, `concurrency` at a time; the answers are in input order.
    pub async fn add_many<I, S>(
        &self,
        sources: I,
        concurrency: usize,
    ) -> Vec<Result<String, ScanError>>
    where
        I: IntoIterator<Item = S>,
        S: Into<Source>,
    {
        futures::stream::iter(sources.into_iter().map(|s| self.add(s.into())))
            .buffered(concurrency.max(1))
            .collect()
            .await
    }

    /// Closes the batch: no more files; the certificate becomes available when all are done.
    pub async fn close(&self) -> Result<(), ScanError> {
        let client = &self.scanner.client;
        let id = self.id.as_str();
        self.scanner
            .call(Step::Batch, Repeat::Once, || {
                client.batch_close().batch_id(id).send()
            })
            .await
            .map(|_| ())
    }

    /// Cancels the batch.
    pub async fn cancel(&self) -> Result<(), ScanError> {
        let client = &self.scanner.client;
        let id = self.id.as_str();
        self.scanner
            .call(Step::Batch, Repeat::Once, || {
                client.batch_cancel().batch_id(id).send()
            })
            .await
            .map(|_| ())
    }

    async fn status_page(&self, first: i64) -> Result<BatchResponseInProgress, ScanError> {
        let client = &self.scanner.client;
        let id = self.id.as_str();
        Ok(self
            .scanner
            .call(Step::Batch, Repeat::Read, || {
                client
                    .batch_status()
                    .batch_id(id)
                    .first(first)
                    .size(PAGE)
                    .send()
            })
            .await?
            .into_inner())
    }

    /// The current status (first page of files).
    pub async fn status(&self) -> Result<BatchResponseInProgress, ScanError> {
        self.status_page(0).await
    }

    /// Waits until every file of the batch is done (polling with the scanner's policy), then
    /// lists all files.
    pub async fn wait(&self) -> Result<BatchReport, ScanError> {
        let policy = self.scanner.cfg.poll.clone();
        let started = Instant::now();
        let mut interval = policy.initial_interval;
        let status = loop {
            tokio::time::sleep(spread(interval, policy.jitter)).await;
            let status = self.status_page(0).await?;
            let code = status
                .scan_results
                .as_ref()
                .and_then(|s| s.scan_all_result_i.as_ref())
                .map(|c| c.0);
            if code.is_some_and(|c| c != 255) {
                break status;
            }
            if policy.deadline.is_some_and(|d| started.elapsed() >= d) {
                return Err(ScanError::Deadline {
                    step: Step::Batch,
                    data_id: self.id.clone(),
                    deadline: policy.deadline.unwrap_or(Duration::ZERO),
                    cancelled: false,
                });
            }
            interval = grow(interval, policy.multiplier, 1, policy.max_interval);
        };
        let mut files = Vec::new();
        let mut page = status.clone();
        loop {
            let Some(bf) = page.batch_files.take() else {
                break;
            };
            let n = bf.files_in_batch.len() as i64;
            files.extend(bf.files_in_batch);
            let count = bf.batch_count.unwrap_or(0);
            if n == 0 || n < PAGE || files.len() as i64 >= count {
                break;
            }
            page = self.status_page(files.len() as i64).await?;
        }
        let as_result: AnalysisResult = serde_json::from_value(serde_json::json!({
            "scan_results": status.scan_results,
            "process_info": status.process_info,
        }))
        .map_err(|e| ScanError::Protocol {
            step: Step::Batch,
            reason: "the batch status does not convert to a result".into(),
            source: Some(Box::new(e)),
        })?;
        Ok(BatchReport {
            batch_id: self.id.clone(),
            verdict: Verdict::from_result(&as_result, Vec::new()),
            status,
            files,
        })
    }

    /// The signed certificate of a closed batch (text: YAML summary, signature, PEM
    /// certificate).
    pub async fn certificate(&self) -> Result<String, ScanError> {
        let client = &self.scanner.client;
        let id = self.id.as_str();
        let answer = self
            .scanner
            .call(Step::Batch, Repeat::Read, || {
                client.batch_signed_result().batch_id(id).send()
            })
            .await?;
        let mut stream = answer.into_inner().into_inner();
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| ScanError::Transport {
                step: Step::Batch,
                source,
            })?;
            buf.extend_from_slice(&chunk);
        }
        String::from_utf8(buf).map_err(|e| ScanError::Protocol {
            step: Step::Batch,
            reason: "the certificate is not UTF-8 text".into(),
            source: Some(Box::new(e)),
        })
    }
}
