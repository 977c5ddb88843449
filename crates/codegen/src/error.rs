//! The one error type of the code generator.

use std::path::PathBuf;

/// Why loading, repairing or generating the client failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid lock file {path}: {message}")]
    Lock { path: PathBuf, message: String },
    #[error("the pinned OpenAPI document {path} cannot be read ({source}); restore it or refresh the pin with `{command}`")]
    MissingDocument {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        command: &'static str,
    },
    #[error("the OpenAPI document {path} does not match openapi/lock.toml: expected sha256 {expected}, found {actual}; if the change is intended, refresh the pin with `{command}`")]
    HashMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
        command: &'static str,
    },
    #[error("{path} is not a valid OpenAPI document: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("rewrite rule `{rule}` failed at {location}: {message}")]
    Rule {
        rule: &'static str,
        location: String,
        message: String,
    },
    #[error("the document has shapes no rewrite rule handles, so the generated client would be wrong:\n{}", .0.join("\n"))]
    Unhandled(Vec<String>),
    #[error("progenitor failed: {0}")]
    Generate(String),
}
