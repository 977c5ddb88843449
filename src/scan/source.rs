//! What gets uploaded: a file path, bytes in memory, or an async reader of known length; and the
//! streamed request body with an exact length and a progress callback.

use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::ReaderStream;

use super::error::{ScanError, Step};

/// Called with `(bytes sent, total bytes)` while an upload streams.
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

type BoxReader = Box<dyn AsyncRead + Send + Unpin>;

/// Something to scan.
pub struct Source {
    inner: Inner,
}

enum Inner {
    Path(PathBuf),
    Bytes {
        bytes: Bytes,
        name: Option<String>,
    },
    Reader {
        reader: Mutex<Option<BoxReader>>,
        len: u64,
        name: Option<String>,
    },
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Path(p) => f.debug_tuple("Source::Path").field(p).finish(),
            Inner::Bytes { bytes, name } => f
                .debug_struct("Source::Bytes")
                .field("len", &bytes.len())
                .field("name", name)
                .finish(),
            Inner::Reader { len, name, .. } => f
                .debug_struct("Source::Reader")
                .field("len", len)
                .field("name", name)
                .finish(),
        }
    }
}

impl Source {
    /// A file on disk: streamed, never read into memory; opened again for a retried upload.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Self {
            inner: Inner::Path(path.into()),
        }
    }

    /// Bytes in memory, with an optional file name.
    pub fn bytes(bytes: impl Into<Bytes>, name: Option<String>) -> Self {
        Self {
            inner: Inner::Bytes {
                bytes: bytes.into(),
                name,
            },
        }
    }

    /// An async reader that yields exactly `len` bytes. It can be sent once: a failed upload
    /// from a reader is not retried. Yielding fewer or more bytes than `len` fails the upload
    /// (the server needs the exact length up front).
    pub fn reader(reader: impl AsyncRead + Send + Unpin + 'static, len: u64) -> Self {
        Self {
            inner: Inner::Reader {
                reader: Mutex::new(Some(Box::new(reader))),
                len,
                name: None,
            },
        }
    }

    /// Sets the file name of a bytes or reader source (a path uses its own name).
    pub fn with_name(mut self, new: impl Into<String>) -> Self {
        match &mut self.inner {
            Inner::Path(_) => {}
            Inner::Bytes { name, .. } | Inner::Reader { name, .. } => *name = Some(new.into()),
        }
        self
    }

    /// The file name to report to the server, when one is known.
    pub fn name(&self) -> Option<String> {
        match &self.inner {
            Inner::Path(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
            Inner::Bytes { name, .. } | Inner::Reader { name, .. } => name.clone(),
        }
    }

    /// The path, for a path source.
    pub fn as_path(&self) -> Option<&Path> {
        match &self.inner {
            Inner::Path(p) => Some(p),
            _ => None,
        }
    }

    /// Whether the body can be produced again for a retry.
    pub fn is_reopenable(&self) -> bool {
        !matches!(self.inner, Inner::Reader { .. })
    }

    /// Opens the content: the reader and its exact length.
    pub(crate) async fn open(&self) -> Result<(BoxReader, u64), ScanError> {
        match &self.inner {
            Inner::Path(p) => {
                let read_err = |source| ScanError::Read {
                    step: Step::Read,
                    path: p.clone(),
                    source,
                };
                let file = tokio::fs::File::open(p).await.map_err(read_err)?;
                let meta = file.metadata().await.map_err(read_err)?;
                if !meta.is_file() {
                    return Err(ScanError::invalid(
                        Step::Read,
                        format!("{} is not a regular file", p.display()),
                    ));
                }
                Ok((Box::new(file), meta.len()))
            }
            Inner::Bytes { bytes, .. } => Ok((
                Box::new(std::io::Cursor::new(bytes.clone())),
                bytes.len() as u64,
            )),
            Inner::Reader { reader, len, .. } => {
                let r = reader
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .ok_or_else(|| {
                        ScanError::invalid(
                            Step::Read,
                            "the reader was already consumed by an earlier attempt",
                        )
                    })?;
                Ok((r, *len))
            }
        }
    }

    /// The sha256 (lower-case hex) of the content, read in a streaming way; `None` for a
    /// one-shot reader, whose content would be gone afterwards.
    pub(crate) async fn sha256(&self) -> Result<Option<String>, ScanError> {
        use sha2::{Digest, Sha256};
        match &self.inner {
            Inner::Reader { .. } => Ok(None),
            Inner::Bytes { bytes, .. } => Ok(Some(hex::encode(Sha256::digest(bytes)))),
            Inner::Path(p) => {
                let (mut r, _) = self.open().await?;
                let mut sha = Sha256::new();
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let n = r.read(&mut buf).await.map_err(|source| ScanError::Read {
                        step: Step::Hash,
                        path: p.clone(),
                        source,
                    })?;
                    if n == 0 {
                        break;
                    }
                    sha.update(&buf[..n]);
                }
                Ok(Some(hex::encode(sha.finalize())))
            }
        }
    }

    pub(crate) fn display_path(&self) -> PathBuf {
        match &self.inner {
            Inner::Path(p) => p.clone(),
            _ => PathBuf::from(self.name().unwrap_or_else(|| "<stream>".into())),
        }
    }
}

impl From<PathBuf> for Source {
    fn from(p: PathBuf) -> Self {
        Source::path(p)
    }
}

impl From<&Path> for Source {
    fn from(p: &Path) -> Self {
        Source::path(p)
    }
}

impl From<&PathBuf> for Source {
    fn from(p: &PathBuf) -> Self {
        Source::path(p.clone())
    }
}

impl From<&str> for Source {
    fn from(p: &str) -> Self {
        Source::path(p)
    }
}

impl From<String> for Source {
    fn from(p: String) -> Self {
        Source::path(p)
    }
}

impl From<Bytes> for Source {
    fn from(b: Bytes) -> Self {
        Source::bytes(b, None)
    }
}

impl From<Vec<u8>> for Source {
    fn from(b: Vec<u8>) -> Self {
        Source::bytes(b, None)
    }
}

/// Where the body stream leaves a local read error, so that the upload reports the file, not a
/// transport failure.
pub(crate) type ReadFailure = Arc<Mutex<Option<std::io::Error>>>;

/// The upload body: chunks of the reader, counted against the declared length.
pub(crate) struct LengthChecked {
    inner: ReaderStream<BoxReader>,
    sent: u64,
    total: u64,
    progress: Option<ProgressFn>,
    failure: ReadFailure,
}

/// Chunk size of the upload: large enough that reading (a thread hop per read for
/// `tokio::fs::File`) keeps up with loopback speeds, small enough to keep memory flat.
const CHUNK: usize = 1024 * 1024;

impl LengthChecked {
    pub(crate) fn new(
        reader: BoxReader,
        total: u64,
        progress: Option<ProgressFn>,
    ) -> (Self, ReadFailure) {
        let failure = ReadFailure::default();
        (
            Self {
                inner: ReaderStream::with_capacity(reader, CHUNK),
                sent: 0,
                total,
                progress,
                failure: failure.clone(),
            },
            failure,
        )
    }

    fn fail(&mut self, e: std::io::Error) -> Poll<Option<std::io::Result<Bytes>>> {
        let echo = std::io::Error::new(e.kind(), e.to_string());
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        Poll::Ready(Some(Err(echo)))
    }
}

impl Stream for LengthChecked {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                this.sent += chunk.len() as u64;
                if this.sent > this.total {
                    let total = this.total;
                    return this.fail(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("the source holds more than the {total} bytes declared"),
                    ));
                }
                if let Some(p) = &this.progress {
                    p(this.sent, this.total);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => this.fail(e),
            Poll::Ready(None) if this.sent < this.total => {
                let (sent, total) = (this.sent, this.total);
                this.fail(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the source ended after {sent} of the {total} bytes declared"),
                ))
            }
            Poll::Ready(None) => Poll::Ready(None),
        }
    }
}
