//! Writing the bundled document: canonical bytes, replaced atomically.

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::format::to_canonical_json;

/// Writes `document` to `path` in canonical form and returns the bytes written. The file is
/// replaced by a rename, so a crash never leaves half a document behind.
pub fn write_document(path: &Path, document: &Value) -> Result<Vec<u8>> {
    let bytes = to_canonical_json(document);
    let io = |source| Error::Io {
        location: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, &bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(bytes)
}

/// Lower-case hex SHA-256, the form the lock stores.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
