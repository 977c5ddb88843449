//! The sanitized file: `GET /file/converted/{data_id}` streamed to a file or a writer, named
//! after `Content-Disposition`.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use progenitor_client::{ByteStream, ResponseValue};
use reqwest::header::{HeaderMap, CONTENT_DISPOSITION};
use reqwest::StatusCode;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::error::{ScanError, Step};
use super::http::Repeat;
use super::Scanner;

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// Where it was written (`None` for a writer).
    pub path: Option<PathBuf>,
    /// The name from `Content-Disposition`, made safe as a file name.
    pub file_name: Option<String>,
    /// Bytes written.
    pub bytes: u64,
}

/// The file name of a `Content-Disposition` value (`filename*=UTF-8''…` preferred), reduced to a
/// plain name: no directories, no control characters, never `.` or `..`.
pub(crate) fn disposition_name(value: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for part in split_params(value) {
        let Some((key, val)) = part.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let val = val.trim();
        if key == "filename*" {
            // RFC 8187: charset'language'percent-encoded
            let encoded = val.splitn(3, '\'').nth(2).unwrap_or(val);
            extended = Some(
                percent_encoding::percent_decode_str(encoded)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        } else if key == "filename" {
            let v = val
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(val);
            plain = Some(v.replace("\\\"", "\""));
        }
    }
    safe_name(&extended.or(plain)?)
}

fn split_params(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn safe_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

fn name_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(disposition_name)
}

impl Scanner {
    async fn converted(&self, data_id: &str) -> Result<ResponseValue<ByteStream>, ScanError> {
        let client = &self.client;
        let answer = self
            .call(Step::Download, Repeat::Read, || {
                client.sanitized_file().data_id(data_id).send()
            })
            .await;
        answer.map_err(|e| match e {
            ScanError::Server { status, body, .. } if status == StatusCode::NOT_FOUND => {
                ScanError::NoSanitizedFile {
                    step: Step::Download,
                    data_id: data_id.to_string(),
                    message: body.message().to_string(),
                }
            }
            ScanError::Server { status, body, .. } if status == StatusCode::METHOD_NOT_ALLOWED => {
                ScanError::NotYours {
                    step: Step::Download,
                    data_id: data_id.to_string(),
                    message: body.message().to_string(),
                }
            }
            other => other,
        })
    }

    /// Streams the sanitized file into `dir`, named after `Content-Disposition` (or
    /// `sanitized_<data_id>`). The file appears only when complete.
    pub async fn download_sanitized_to_dir(
        &self,
        data_id: &str,
        dir: impl AsRef<Path>,
    ) -> Result<Downloaded, ScanError> {
        let answer = self.converted(data_id).await?;
        let name = name_of(answer.headers());
        let file = name
            .clone()
            .unwrap_or_else(|| format!("sanitized_{data_id}"));
        let target = dir.as_ref().join(file);
        let bytes = write_atomically(answer, &target).await?;
        Ok(Downloaded {
            path: Some(target),
            file_name: name,
            bytes,
        })
    }

    /// Streams the sanitized file to `path`. The file appears only when complete.
    pub async fn download_sanitized_to_file(
        &self,
        data_id: &str,
        path: impl AsRef<Path>,
    ) -> Result<Downloaded, ScanError> {
        let answer = self.converted(data_id).await?;
        let name = name_of(answer.headers());
        let target = path.as_ref().to_path_buf();
        let bytes = write_atomically(answer, &target).await?;
        Ok(Downloaded {
            path: Some(target),
            file_name: name,
            bytes,
        })
    }

    /// Streams the sanitized file into `writer`.
    pub async fn download_sanitized_to_writer<W: AsyncWrite + Unpin>(
        &self,
        data_id: &str,
        writer: &mut W,
    ) -> Result<Downloaded, ScanError> {
        let answer = self.converted(data_id).await?;
        let name = name_of(answer.headers());
        let bytes = copy(answer, writer, Path::new("<writer>")).await?;
        Ok(Downloaded {
            path: None,
            file_name: name,
            bytes,
        })
    }
}

async fn copy<W: AsyncWrite + Unpin>(
    answer: ResponseValue<ByteStream>,
    writer: &mut W,
    path: &Path,
) -> Result<u64, ScanError> {
    let expected = answer.content_length();
    let mut stream = answer.into_inner().into_inner();
    let mut n = 0u64;
    let write_err = |source| ScanError::Write {
        step: Step::Download,
        path: path.to_path_buf(),
        source,
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|source| ScanError::Transport {
            step: Step::Download,
            source,
        })?;
        writer.write_all(&chunk).await.map_err(write_err)?;
        n += chunk.len() as u64;
    }
    writer.flush().await.map_err(write_err)?;
    if let Some(len) = expected.filter(|len| *len != n) {
        return Err(ScanError::protocol(
            Step::Download,
            format!("the server announced {len} bytes and sent {n}"),
        ));
    }
    Ok(n)
}

async fn write_atomically(
    answer: ResponseValue<ByteStream>,
    target: &Path,
) -> Result<u64, ScanError> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.part-{:08x}",
        target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        rand::random::<u32>()
    ));
    let write_err = |source| ScanError::Write {
        step: Step::Download,
        path: target.to_path_buf(),
        source,
    };
    let file = tokio::fs::File::create(&tmp).await.map_err(write_err)?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let copied = copy(answer, &mut out, target).await;
    let result = match copied {
        Ok(n) => match out.into_inner().sync_all().await {
            Ok(()) => tokio::fs::rename(&tmp, target)
                .await
                .map(|_| n)
                .map_err(write_err),
            Err(e) => Err(write_err(e)),
        },
        Err(e) => Err(e),
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_content_disposition_and_are_made_safe() {
        assert_eq!(
            disposition_name("attachment; filename=\"report.pdf\"").as_deref(),
            Some("report.pdf")
        );
        assert_eq!(
            disposition_name("attachment; filename=plain.txt").as_deref(),
            Some("plain.txt")
        );
        assert_eq!(
            disposition_name(
                "attachment; filename=\"x.pdf\"; filename*=UTF-8''na%C3%AFve%20doc.pdf"
            )
            .as_deref(),
            Some("naïve doc.pdf")
        );
        assert_eq!(
            disposition_name("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            disposition_name("attachment; filename=\"C:\\\\x\\\\evil.exe\"").as_deref(),
            Some("evil.exe")
        );
        assert_eq!(disposition_name("attachment; filename=\"..\""), None);
        assert_eq!(
            disposition_name("attachment; filename=\"a;b.txt\"").as_deref(),
            Some("a;b.txt")
        );
        assert_eq!(disposition_name("attachment"), None);
    }
}
