//! Where documents come from (a file, a URL, a file at a git revision) and reading them within
//! the limits.

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::fetch::{self, Limits};
use crate::format;

/// Names tried, in order, when a source is a folder.
pub const ROOT_NAMES: [&str; 3] = ["openapi.yaml", "openapi.yml", "openapi.json"];

/// One readable document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    File(PathBuf),
    Url(url::Url),
    /// `path` (relative to the repository, `/`-separated) as of revision `rev`.
    Git {
        repo: PathBuf,
        rev: String,
        path: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Url(u) => f.write_str(&fetch::redact(u)),
            Location::Git { rev, path, .. } => write!(f, "git:{rev}:{path}"),
        }
    }
}

impl Location {
    /// Reads a command-line source: `http(s)://…`, `git:REV:path` (relative to the git
    /// repository containing `cwd`), a file, or a folder holding `openapi.yaml` and friends.
    pub fn from_arg(arg: &str, cwd: &Path) -> Result<Location> {
        if arg.starts_with("http://") || arg.starts_with("https://") {
            let url = url::Url::parse(arg).map_err(|e| Error::BadRef {
                reference: arg.to_string(),
                from: "the command line".into(),
                message: e.to_string(),
            })?;
            return Ok(Location::Url(url));
        }
        if let Some(rest) = arg.strip_prefix("git:") {
            let (rev, path) = rest.split_once(':').ok_or_else(|| Error::Git {
                spec: arg.to_string(),
                message: "expected git:REV:path".into(),
            })?;
            return git_location(arg, cwd, rev, path);
        }
        let path = cwd.join(arg);
        if path.is_dir() {
            for name in ROOT_NAMES {
                let candidate = path.join(name);
                if candidate.is_file() {
                    return Ok(Location::File(candidate));
                }
            }
            return Err(Error::NoRootDocument {
                location: path.display().to_string(),
            });
        }
        if !path.exists() {
            return Err(Error::MissingFile {
                location: path.display().to_string(),
                from: "the command line".into(),
            });
        }
        Ok(Location::File(path))
    }

    /// The file name part, used to pick JSON or YAML and to name hoisted components.
    pub fn file_name(&self) -> String {
        match self {
            Location::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Location::Url(u) => u
                .path_segments()
                .and_then(|mut s| s.next_back())
                .map(|s| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .unwrap_or_default(),
            Location::Git { path, .. } => path.rsplit('/').next().unwrap_or_default().to_string(),
        }
    }

    /// Whether this is fetched over the network.
    pub fn is_remote(&self) -> bool {
        matches!(self, Location::Url(_))
    }
}

fn git_location(arg: &str, cwd: &Path, rev: &str, path: &str) -> Result<Location> {
    let top = git(cwd, &["rev-parse", "--show-toplevel"]).map_err(|message| Error::Git {
        spec: arg.to_string(),
        message,
    })?;
    let repo = PathBuf::from(String::from_utf8_lossy(&top).trim());
    // Paths on the command line are relative to where the user stands, git wants them
    // relative to the repository.
    let prefix = git(cwd, &["rev-parse", "--show-prefix"]).unwrap_or_default();
    let prefix = String::from_utf8_lossy(&prefix).trim().to_string();
    let joined = normalize_slash_path(&format!("{prefix}{}", path.trim_start_matches("./")))
        .ok_or_else(|| Error::Git {
            spec: arg.to_string(),
            message: "the path leaves the repository".into(),
        })?;
    let kind = git(&repo, &["cat-file", "-t", &format!("{rev}:{joined}")]).map_err(|message| {
        Error::Git {
            spec: arg.to_string(),
            message,
        }
    })?;
    if String::from_utf8_lossy(&kind).trim() == "tree" {
        for name in ROOT_NAMES {
            let candidate = if joined.is_empty() {
                name.to_string()
            } else {
                format!("{joined}/{name}")
            };
            if git(&repo, &["cat-file", "-e", &format!("{rev}:{candidate}")]).is_ok() {
                return Ok(Location::Git {
                    repo,
                    rev: rev.to_string(),
                    path: candidate,
                });
            }
        }
        return Err(Error::NoRootDocument {
            location: arg.to_string(),
        });
    }
    Ok(Location::Git {
        repo,
        rev: rev.to_string(),
        path: joined,
    })
}

fn git(dir: &Path, args: &[&str]) -> std::result::Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Resolves `a/b/../c` lexically; `None` when `..` climbs above the start.
pub(crate) fn normalize_slash_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Resolves `path` lexically (no file system access); `..` above the root stays as is so the
/// root check sees it.
pub(crate) fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Reads and parses documents once each, within the limits.
pub struct Loader {
    limits: Limits,
    cache: HashMap<Location, Rc<Value>>,
    read: Vec<Location>,
}

impl Loader {
    pub fn new(limits: Limits) -> Self {
        Loader {
            limits,
            cache: HashMap::new(),
            read: Vec::new(),
        }
    }

    /// Every location read so far, in the order first read.
    pub fn locations(&self) -> &[Location] {
        &self.read
    }

    /// The raw bytes at `loc`, bounded by the size limit. `from` names the referrer.
    pub fn read_bytes(&self, loc: &Location, from: &str) -> Result<Vec<u8>> {
        let limit = self.limits.max_file_bytes;
        match loc {
            Location::File(path) => {
                let meta = std::fs::metadata(path).map_err(|source| {
                    if source.kind() == std::io::ErrorKind::NotFound {
                        Error::MissingFile {
                            location: loc.to_string(),
                            from: from.to_string(),
                        }
                    } else {
                        Error::Io {
                            location: loc.to_string(),
                            source,
                        }
                    }
                })?;
                if meta.len() > limit {
                    return Err(Error::TooLarge {
                        location: loc.to_string(),
                        size: meta.len(),
                        limit,
                    });
                }
                std::fs::read(path).map_err(|source| Error::Io {
                    location: loc.to_string(),
                    source,
                })
            }
            Location::Url(url) => fetch::fetch(url, &self.limits),
            Location::Git { repo, rev, path } => {
                let spec = format!("{rev}:{path}");
                let size =
                    git(repo, &["cat-file", "-s", &spec]).map_err(|_| Error::MissingFile {
                        location: loc.to_string(),
                        from: from.to_string(),
                    })?;
                let size: u64 = String::from_utf8_lossy(&size).trim().parse().unwrap_or(0);
                if size > limit {
                    return Err(Error::TooLarge {
                        location: loc.to_string(),
                        size,
                        limit,
                    });
                }
                git(repo, &["cat-file", "blob", &spec]).map_err(|message| Error::Git {
                    spec: loc.to_string(),
                    message,
                })
            }
        }
    }

    /// The content of a non-document file (a code sample), as text.
    pub fn load_text(&mut self, loc: &Location, from: &str) -> Result<String> {
        if self.read.len() >= self.limits.max_files {
            return Err(Error::TooManyFiles {
                location: loc.to_string(),
                limit: self.limits.max_files,
            });
        }
        let bytes = self.read_bytes(loc, from)?;
        self.read.push(loc.clone());
        String::from_utf8(bytes).map_err(|e| Error::Parse {
            location: loc.to_string(),
            format: "UTF-8 text",
            message: e.to_string(),
        })
    }

    /// The parsed document at `loc`.
    pub fn load(&mut self, loc: &Location, from: &str) -> Result<Rc<Value>> {
        if let Some(v) = self.cache.get(loc) {
            return Ok(v.clone());
        }
        if self.read.len() >= self.limits.max_files {
            return Err(Error::TooManyFiles {
                location: loc.to_string(),
                limit: self.limits.max_files,
            });
        }
        let bytes = self.read_bytes(loc, from)?;
        let name = match loc {
            Location::Url(_) => loc.file_name(),
            _ => loc.to_string(),
        };
        let value = format::parse(&name, &bytes).map_err(|e| match e {
            // Name the location in full even when the syntax was guessed from the file name.
            Error::Parse {
                format, message, ..
            } => Error::Parse {
                location: loc.to_string(),
                format,
                message,
            },
            other => other,
        })?;
        let value = Rc::new(value);
        self.cache.insert(loc.clone(), value.clone());
        self.read.push(loc.clone());
        Ok(value)
    }
}
