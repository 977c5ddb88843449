//! The one error type of the scanning layer: which step failed, the HTTP status and the server's
//! message when there was an answer, the cause kept as `source`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;

use crate::ServerError;

/// The step of a scan that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// Opening or reading the file to scan.
    Read,
    /// Computing the file's sha256 for a hash lookup.
    Hash,
    /// `GET /hash/{sha256}`.
    HashLookup,
    /// `POST /file` or `POST /file/sync`.
    Upload,
    /// `GET /file/{data_id}` until the scan is done.
    Poll,
    /// `POST /file/{data_id}/cancel`.
    Cancel,
    /// `GET /file/converted/{data_id}` and writing the file.
    Download,
    /// Listing the children of an archive.
    Archive,
    /// A batch operation.
    Batch,
    /// `POST /login` or `POST /logout`.
    Login,
    /// Waiting for, or receiving, a callback.
    Callback,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Read => "reading the file",
            Step::Hash => "hashing the file",
            Step::HashLookup => "hash lookup",
            Step::Upload => "upload",
            Step::Poll => "polling the result",
            Step::Cancel => "cancelling the scan",
            Step::Download => "downloading the sanitized file",
            Step::Archive => "listing archive children",
            Step::Batch => "batch",
            Step::Login => "login",
            Step::Callback => "callback",
        })
    }
}

/// Why a scan (or one of its steps) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// A local file could not be read.
    #[error("{step}: cannot read {}", path.display())]
    Read {
        /// The failing step.
        step: Step,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A local file could not be written.
    #[error("{step}: cannot write {}", path.display())]
    Write {
        /// The failing step.
        step: Step,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The request was refused before anything was sent.
    #[error("{step}: {reason}")]
    InvalidInput {
        /// The failing step.
        step: Step,
        /// What is wrong.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("{step}: the server answered {status}{}", server_suffix(body))]
    Server {
        /// The failing step.
        step: Step,
        /// The HTTP status.
        status: StatusCode,
        /// The error body (`err` and any other fields).
        body: ServerError,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The server could not be reached, or the connection broke.
    #[error("{step}: {source}")]
    Transport {
        /// The failing step.
        step: Step,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered something this client cannot interpret.
    #[error("{step}: unexpected answer: {reason}")]
    Protocol {
        /// The failing step.
        step: Step,
        /// What was wrong with it.
        reason: String,
        /// The decoding error, when there was one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The server did not know the data id after the grace window (or forgot it).
    #[error("{step}: the server does not know data id {data_id} (waited {waited:?})")]
    NotFound {
        /// The failing step.
        step: Step,
        /// The id asked for.
        data_id: String,
        /// How long after the upload the client kept asking.
        waited: Duration,
    },
    /// The scan did not finish before the deadline.
    #[error("{step}: scan {data_id} not finished within {deadline:?}{}", if *cancelled { " (cancelled on the server)" } else { "" })]
    Deadline {
        /// The failing step.
        step: Step,
        /// The scan.
        data_id: String,
        /// The deadline that passed.
        deadline: Duration,
        /// Whether the scan was cancelled on the server.
        cancelled: bool,
    },
    /// `GET /file/converted/{data_id}` answered 404: no sanitized file exists (or it expired).
    #[error("{step}: no sanitized file for {data_id}{}", message_suffix(message))]
    NoSanitizedFile {
        /// The failing step.
        step: Step,
        /// The scan.
        data_id: String,
        /// The server's message.
        message: String,
    },
    /// 405 on a download: the file belongs to another user.
    #[error(
        "{step}: access to {data_id} denied (another user's file){}",
        message_suffix(message)
    )]
    NotYours {
        /// The failing step.
        step: Step,
        /// The scan.
        data_id: String,
        /// The server's message.
        message: String,
    },
    /// The callback receiver failed.
    #[error("{step}: {reason}")]
    Callback {
        /// The failing step.
        step: Step,
        /// What happened.
        reason: String,
        /// The cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

fn server_suffix(body: &ServerError) -> String {
    match &body.err {
        Some(m) if !m.is_empty() => format!(": {m}"),
        _ => String::new(),
    }
}

fn message_suffix(m: &str) -> String {
    if m.is_empty() {
        String::new()
    } else {
        format!(": {m}")
    }
}

impl ScanError {
    /// The step that failed.
    pub fn step(&self) -> Step {
        match self {
            ScanError::Read { step, .. }
            | ScanError::Write { step, .. }
            | ScanError::InvalidInput { step, .. }
            | ScanError::Server { step, .. }
            | ScanError::Transport { step, .. }
            | ScanError::Protocol { step, .. }
            | ScanError::NotFound { step, .. }
            | ScanError::Deadline { step, .. }
            | ScanError::NoSanitizedFile { step, .. }
            | ScanError::NotYours { step, .. }
            | ScanError::Callback { step, .. } => *step,
        }
    }

    /// The HTTP status of the server's answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ScanError::Server { status, .. } => Some(*status),
            ScanError::NoSanitizedFile { .. } => Some(StatusCode::NOT_FOUND),
            ScanError::NotYours { .. } => Some(StatusCode::METHOD_NOT_ALLOWED),
            ScanError::Transport { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The server's `err` message, when it sent one.
    pub fn server_message(&self) -> Option<&str> {
        match self {
            ScanError::Server { body, .. } => body.err.as_deref(),
            ScanError::NoSanitizedFile { message, .. } | ScanError::NotYours { message, .. } => {
                Some(message)
            }
            _ => None,
        }
    }

    pub(crate) fn protocol(step: Step, reason: impl Into<String>) -> Self {
        ScanError::Protocol {
            step,
            reason: reason.into(),
            source: None,
        }
    }

    pub(crate) fn invalid(step: Step, reason: impl Into<String>) -> Self {
        ScanError::InvalidInput {
            step,
            reason: reason.into(),
        }
    }
}
