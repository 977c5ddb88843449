//! In-memory state: files, batches, sessions, and each file's life cycle.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::detect::{FileKind, Finding};

/// Where a file is in its life cycle at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Queued,
    /// Scanning; this many engines have finished.
    Scanning(usize),
    PostProcessing,
    Done,
    Cancelled,
}

/// Timing of one upload: one phase queued, one per engine, one post-processing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeline {
    pub start: Instant,
    pub start_wall: SystemTime,
    pub phase: Duration,
    pub engines: usize,
}

impl Timeline {
    pub(crate) fn done_at(&self) -> Instant {
        self.start + self.phase * (self.engines as u32 + 2)
    }
    fn stage(&self, now: Instant) -> Stage {
        if self.phase.is_zero() || now >= self.done_at() {
            return Stage::Done;
        }
        let elapsed = now.saturating_duration_since(self.start);
        let idx = (elapsed.as_nanos() / self.phase.as_nanos()) as usize;
        match idx {
            0 => Stage::Queued,
            i if i <= self.engines => Stage::Scanning(i - 1),
            _ => Stage::PostProcessing,
        }
    }
}

/// A sanitized version of a file.
#[derive(Debug, Clone)]
pub(crate) struct Sanitized {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub removed: u64,
    pub file_name: String,
}

/// State of a callback delivery.
#[derive(Debug, Clone)]
pub(crate) struct WebhookStatus {
    pub request_time: SystemTime,
    pub status_code: u16,
    pub url: String,
}

#[derive(Debug, Clone)]
pub(crate) struct FileRec {
    pub data_id: String,
    pub file_id: String,
    pub parent: Option<String>,
    pub children: Vec<String>,
    pub display_name: String,
    pub size: u64,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub kind: FileKind,
    pub path: PathBuf,
    pub finding: Finding,
    pub archive_issue: Option<u8>,
    /// Worst result of this file and its whole subtree.
    pub final_code: u8,
    pub worst_child: Option<String>,
    pub extraction_info: Option<Value>,
    pub owner: Option<String>,
    pub user_agent: String,
    pub rule: String,
    pub batch: Option<String>,
    pub engines: Vec<String>,
    pub timeline: Timeline,
    pub visible_at: Instant,
    pub cancelled_at: Option<Instant>,
    pub sanitized: Option<Sanitized>,
    pub sanitize_requested: bool,
    pub callback_url: Option<String>,
    pub sanitized_url: Option<String>,
    pub webhook: Option<WebhookStatus>,
    pub download_url: Option<String>,
    pub metadata: Option<Value>,
}

impl FileRec {
    pub(crate) fn stage(&self, now: Instant) -> Stage {
        if let Some(c) = self.cancelled_at {
            if c < self.timeline.done_at() && now >= c {
                return Stage::Cancelled;
            }
        }
        self.timeline.stage(now)
    }
    pub(crate) fn visible(&self, now: Instant) -> bool {
        now >= self.visible_at
    }
    pub(crate) fn is_finished(&self, now: Instant) -> bool {
        matches!(self.stage(now), Stage::Done | Stage::Cancelled)
    }
    /// Result code once done (cancellation wins over content).
    pub(crate) fn result_code(&self, now: Instant) -> u8 {
        match self.stage(now) {
            Stage::Cancelled => CODE_CANCELLED,
            Stage::Done => self.final_code,
            _ => CODE_IN_PROGRESS,
        }
    }
}

pub(crate) const CODE_CANCELLED: u8 = 19;
pub(crate) const CODE_IN_PROGRESS: u8 = 255;

/// Higher is worse; used to pick an archive's verdict from its children.
pub(crate) fn severity(code: u8) -> u8 {
    match code {
        1 => 100,
        2 => 90,
        12 => 80,
        13 => 79,
        14 => 78,
        9 => 77,
        3 => 50,
        19 => 40,
        _ => 0,
    }
}

pub(crate) fn result_text(code: u8) -> &'static str {
    match code {
        0 => "No Threat Detected",
        1 => "Infected",
        2 => "Suspicious",
        3 => "Failed",
        9 => "Exceeded Archive Depth",
        12 => "Encrypted Archive",
        13 => "Exceeded Archive Size",
        14 => "Exceeded Archive File Number",
        19 => "Cancelled",
        _ => "In Progress",
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub batch_id: String,
    pub files: Vec<String>,
    pub closed: bool,
    pub cancelled: bool,
    pub user_data: Option<String>,
    pub rule: String,
    pub user_agent: String,
    pub owner: Option<String>,
    pub created: SystemTime,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub user: String,
    pub last_used: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    pub files: HashMap<String, FileRec>,
    pub batches: HashMap<String, Batch>,
    pub sessions: HashMap<String, Session>,
}

impl Store {
    /// A file that exists and is visible now.
    pub(crate) fn visible_file(&self, id: &str, now: Instant) -> Option<&FileRec> {
        self.files.get(id).filter(|f| f.visible(now))
    }

    /// Top-level files whose processing has not finished.
    pub(crate) fn in_flight(&self, now: Instant) -> usize {
        self.files
            .values()
            .filter(|f| f.parent.is_none() && !f.is_finished(now))
            .count()
    }

    /// Files still waiting in the queue that were uploaded before `before`.
    pub(crate) fn queued_before(&self, before: Instant, now: Instant) -> usize {
        self.files
            .values()
            .filter(|f| {
                f.parent.is_none() && f.timeline.start < before && f.stage(now) == Stage::Queued
            })
            .count()
    }

    /// The latest file with this hash (any algorithm), finished unless
    /// `include_in_progress`.
    pub(crate) fn by_hash(
        &self,
        hash: &str,
        include_in_progress: bool,
        owner: Option<&str>,
        now: Instant,
    ) -> Option<&FileRec> {
        self.files
            .values()
            .filter(|f| f.visible(now))
            .filter(|f| {
                f.md5.eq_ignore_ascii_case(hash)
                    || f.sha1.eq_ignore_ascii_case(hash)
                    || f.sha256.eq_ignore_ascii_case(hash)
            })
            .filter(|f| include_in_progress || f.is_finished(now))
            .filter(|f| owner.is_none() || f.owner.as_deref() == owner)
            .max_by_key(|f| f.timeline.start)
    }
}
