//! Expanding the paths given on the command line into the files to scan. Directories are walked
//! recursively (symlinks followed, each directory entered once); anything that is not a regular
//! file or cannot be examined is reported as a problem and the walk goes on.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// One item of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file to scan.
    File(PathBuf),
    /// Something that cannot be scanned, and why.
    Problem { path: PathBuf, reason: String },
}

/// A depth-first walk in name order, yielding entries as it goes (no tree is held in memory).
pub struct Walk {
    /// Paths still to examine; the next one is at the end.
    pending: Vec<PathBuf>,
    /// Directories entered, by device and inode, so that symlink cycles end.
    seen: HashSet<(u64, u64)>,
}

impl Walk {
    pub fn new(paths: &[PathBuf]) -> Self {
        Self {
            pending: paths.iter().rev().cloned().collect(),
            seen: HashSet::new(),
        }
    }

    /// Leaves `dir` out of the walk (the directory sanitized copies are written to, which
    /// would otherwise be scanned as it fills up).
    pub fn skip_dir(mut self, dir: &Path) -> Self {
        if let Some(id) = fs::metadata(dir).ok().as_ref().and_then(dir_id) {
            self.seen.insert(id);
        }
        self
    }

    fn examine(&mut self, path: PathBuf) -> Option<Entry> {
        // `metadata` follows symlinks: a dangling one fails here with "not found".
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                return Some(Entry::Problem {
                    reason: format!("cannot read: {}", io_reason(&e)),
                    path,
                })
            }
        };
        if meta.is_file() {
            return Some(Entry::File(path));
        }
        if !meta.is_dir() {
            return Some(Entry::Problem {
                reason: format!("not a regular file ({})", kind_of(&meta)),
                path,
            });
        }
        if let Some(id) = dir_id(&meta) {
            if !self.seen.insert(id) {
                return None;
            }
        }
        match read_sorted(&path) {
            Ok(children) => {
                self.pending.extend(children.into_iter().rev());
                None
            }
            Err(e) => Some(Entry::Problem {
                reason: format!("cannot list directory: {}", io_reason(&e)),
                path,
            }),
        }
    }
}

impl Iterator for Walk {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        while let Some(path) = self.pending.pop() {
            if let Some(entry) = self.examine(path) {
                return Some(entry);
            }
        }
        None
    }
}

fn read_sorted(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut children = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    children.sort();
    Ok(children)
}

/// The OS message without the "(os error N)" tail.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(unix)]
fn dir_id(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn dir_id(_meta: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(unix)]
fn kind_of(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn kind_of(_meta: &fs::Metadata) -> &'static str {
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_in_name_order_and_reports_what_it_cannot_scan() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        fs::write(root.join("b.txt"), "b").unwrap();
        fs::write(root.join("a.txt"), "a").unwrap();
        fs::write(root.join("sub/deeper/c.txt"), "c").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("gone"), root.join("sub/dangling")).unwrap();
            // A cycle: must be entered once only.
            std::os::unix::fs::symlink(root, root.join("sub/loop")).unwrap();
        }
        let missing = root.join("missing.txt");
        let entries: Vec<Entry> = Walk::new(&[root.to_path_buf(), missing.clone()]).collect();
        let files: Vec<&PathBuf> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::File(p) => Some(p),
                _ => None,
            })
            .collect();
        assert_eq!(
            files,
            [
                &root.join("a.txt"),
                &root.join("b.txt"),
                &root.join("sub/deeper/c.txt")
            ]
        );
        let problems: Vec<&PathBuf> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Problem { path, reason } => {
                    assert!(reason.starts_with("cannot read: "), "{reason}");
                    Some(path)
                }
                _ => None,
            })
            .collect();
        #[cfg(unix)]
        assert_eq!(problems, [&root.join("sub/dangling"), &missing]);
        #[cfg(not(unix))]
        assert_eq!(problems, [&missing]);

        #[cfg(unix)]
        {
            let rest: Vec<Entry> = Walk::new(&[root.to_path_buf()])
                .skip_dir(&root.join("sub"))
                .collect();
            assert_eq!(
                rest,
                [
                    Entry::File(root.join("a.txt")),
                    Entry::File(root.join("b.txt"))
                ]
            );
        }
    }
}
