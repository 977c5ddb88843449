//! `openapi/lock.toml`: which document the client is generated from, and its hash.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

/// Path of the lock relative to the workspace root.
pub const LOCK_PATH: &str = "openapi/lock.toml";
/// The command a maintainer runs to move the pin.
pub const REFRESH_COMMAND: &str = "cargo xtask spec refresh --from <url|file|folder>";

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub document: PinnedDocument,
    pub generator: GeneratorVersions,
}

/// The pinned OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedDocument {
    pub name: String,
    pub version: String,
    /// Where the document was fetched from.
    pub upstream: String,
    /// A read-only copy outside the repository, relative to the workspace root.
    pub local: String,
    /// Where `spec refresh` writes the bundled copy (git-ignored, packaged), relative to the root.
    pub pinned: String,
    pub sha256: String,
    /// Day of the last refresh (YYYY-MM-DD).
    pub refreshed: String,
}

/// Versions of the generator the snapshot was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratorVersions {
    pub progenitor: String,
    pub typify: String,
    pub openapiv3: String,
}

impl Lock {
    /// Reads `openapi/lock.toml` below `root`.
    pub fn load(root: &Path) -> Result<Self, Error> {
        let path = root.join(LOCK_PATH);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| Error::Lock {
            path,
            message: e.to_string(),
        })
    }

    /// Writes the lock back, keeping the explanatory header.
    pub fn save(&self, root: &Path) -> Result<(), Error> {
        let path = root.join(LOCK_PATH);
        let body = toml::to_string_pretty(self).map_err(|e| Error::Lock {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let text = format!("{LOCK_HEADER}\n{body}");
        std::fs::write(&path, text).map_err(|source| Error::Io { path, source })
    }

    /// The document to generate from: the refreshed copy inside the repository when present
    /// (that is what a packaged crate carries), else the read-only copy beside the repository.
    pub fn document_path(&self, root: &Path) -> PathBuf {
        let pinned = root.join(&self.document.pinned);
        if pinned.is_file() {
            pinned
        } else {
            root.join(&self.document.local)
        }
    }

    /// Reads the pinned document and checks it against the lock.
    pub fn read_verified(&self, root: &Path) -> Result<(PathBuf, Vec<u8>), Error> {
        let path = self.document_path(root);
        let bytes = std::fs::read(&path).map_err(|source| Error::MissingDocument {
            path: path.clone(),
            source,
            command: REFRESH_COMMAND,
        })?;
        let actual = sha256_hex(&bytes);
        if actual != self.document.sha256 {
            return Err(Error::HashMismatch {
                path,
                expected: self.document.sha256.clone(),
                actual,
                command: REFRESH_COMMAND,
            });
        }
        Ok((path, bytes))
    }
}

const LOCK_HEADER: &str = "\
# The pinned MetaDefender Core OpenAPI document. build.rs refuses to generate from a
# document whose sha256 differs; refresh the pin with `cargo xtask spec refresh --from <source>`.
# `pinned`: where the refresh writes the bundled document (git-ignored, shipped by cargo package);
# `local`: the read-only third-party copy beside the repository, used when `pinned` is absent.
";

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saving_the_lock_keeps_the_committed_text() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let committed = std::fs::read_to_string(root.join(LOCK_PATH)).unwrap();
        let dir = std::env::temp_dir().join(format!("mdcore-lock-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("openapi")).unwrap();
        Lock::load(&root).unwrap().save(&dir).unwrap();
        let saved = std::fs::read_to_string(dir.join(LOCK_PATH)).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            saved, committed,
            "a refresh of the same document must not change the lock"
        );
    }
}
