//! Unpacking zip uploads into child files, within the configured limits.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::config::ArchiveLimits;
use crate::detect::{FileKind, Patterns, Scanned, Scanner};
use crate::util::new_id;

pub(crate) const CODE_DEPTH: u8 = 9;
pub(crate) const CODE_ENCRYPTED: u8 = 12;
pub(crate) const CODE_SIZE: u8 = 13;
pub(crate) const CODE_COUNT: u8 = 14;

/// One extracted entry (possibly an archive itself, with its own children).
#[derive(Debug)]
pub(crate) struct Node {
    pub data_id: String,
    pub display_name: String,
    pub path: PathBuf,
    pub scanned: Scanned,
    pub archive_issue: Option<u8>,
    pub extraction_info: Option<Value>,
    pub children: Vec<Node>,
}

/// What unpacking one archive produced.
#[derive(Debug, Default)]
pub(crate) struct Unpacked {
    pub children: Vec<Node>,
    pub issue: Option<u8>,
    pub extraction_info: Option<Value>,
}

struct Budget {
    bytes: u64,
    count: u32,
}

pub(crate) struct Unpacker<'a> {
    pub limits: &'a ArchiveLimits,
    pub passwords: &'a [String],
    pub patterns: &'a Patterns,
    pub dir: &'a Path,
}

impl Unpacker<'_> {
    /// Unpacks the archive at `path` (entries at depth 1).
    pub(crate) fn unpack(&self, path: &Path, display_name: &str) -> Unpacked {
        let mut budget = Budget { bytes: 0, count: 0 };
        self.unpack_at(path, display_name, 1, &mut budget)
    }

    fn unpack_at(&self, path: &Path, display: &str, depth: u32, budget: &mut Budget) -> Unpacked {
        let mut out = Unpacked::default();
        if depth > self.limits.max_depth {
            out.issue = Some(CODE_DEPTH);
            return out;
        }
        let Ok(file) = File::open(path) else {
            return out;
        };
        // A file that only looks like a zip is scanned as a plain file.
        let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
            return out;
        };
        let mut encrypted_seen = false;
        let mut decrypt_failed = false;
        for i in 0..zip.len() {
            let (name, is_dir, encrypted, declared) = match zip.by_index_raw(i) {
                Ok(f) => (f.name().to_string(), f.is_dir(), f.encrypted(), f.size()),
                Err(_) => continue,
            };
            if is_dir {
                continue;
            }
            if budget.count >= self.limits.max_file_count {
                out.issue = Some(CODE_COUNT);
                break;
            }
            if budget.bytes.saturating_add(declared) > self.limits.max_total_size {
                out.issue = Some(CODE_SIZE);
                break;
            }
            let child_display = format!("{display}/{name}");
            let data_id = new_id();
            let child_path = self.dir.join(&data_id);
            let mut extracted = None;
            if encrypted {
                encrypted_seen = true;
                for pw in self.passwords {
                    if let Ok(entry) = zip.by_index_decrypt(i, pw.as_bytes()) {
                        if let Ok(s) = self.write_entry(entry, &child_path, budget) {
                            extracted = Some(s);
                            break;
                        }
                    }
                }
                if extracted.is_none() {
                    decrypt_failed = true;
                    let _ = std::fs::remove_file(&child_path);
                    continue;
                }
            } else {
                match zip.by_index(i) {
                    Ok(entry) => match self.write_entry(entry, &child_path, budget) {
                        Ok(s) => extracted = Some(s),
                        Err(EntryError::TooBig) => {
                            let _ = std::fs::remove_file(&child_path);
                            out.issue = Some(CODE_SIZE);
                            break;
                        }
                        Err(EntryError::Io) => {
                            let _ = std::fs::remove_file(&child_path);
                            continue;
                        }
                    },
                    Err(_) => continue,
                }
            }
            let Some(scanned) = extracted else { continue };
            budget.count += 1;
            budget.bytes += scanned.size;
            let mut node = Node {
                data_id,
                display_name: child_display,
                path: child_path,
                scanned,
                archive_issue: None,
                extraction_info: None,
                children: Vec::new(),
            };
            if node.scanned.kind == FileKind::Zip {
                let inner = self.unpack_at(&node.path, &node.display_name, depth + 1, budget);
                node.children = inner.children;
                node.archive_issue = inner.issue;
                node.extraction_info = inner.extraction_info;
            }
            out.children.push(node);
        }
        if decrypt_failed {
            out.issue = Some(out.issue.unwrap_or(CODE_ENCRYPTED));
        }
        if encrypted_seen {
            out.extraction_info = Some(json!({
                "is_encrypted_file": true,
                "decrypted_status": if decrypt_failed { "Failed" } else { "Success" },
            }));
        }
        out
    }

    fn write_entry(
        &self,
        mut entry: impl Read,
        path: &Path,
        budget: &Budget,
    ) -> Result<Scanned, EntryError> {
        let allowed = self.limits.max_total_size.saturating_sub(budget.bytes);
        let mut out = std::io::BufWriter::new(File::create(path).map_err(|_| EntryError::Io)?);
        let mut scanner = Scanner::new(self.patterns);
        let mut buf = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(|_| EntryError::Io)?;
            if n == 0 {
                break;
            }
            written += n as u64;
            if written > allowed {
                return Err(EntryError::TooBig);
            }
            scanner.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|_| EntryError::Io)?;
        }
        out.flush().map_err(|_| EntryError::Io)?;
        Ok(scanner.finish())
    }
}

enum EntryError {
    TooBig,
    Io,
}
