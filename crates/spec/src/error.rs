//! The one error type of mdcore-spec.

/// Why loading, bundling, validating or fetching a document failed. Every variant names the
/// file or URL involved and, for references, the place the reference was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read {location}: {source}")]
    Io {
        location: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{location} does not exist (referenced from {from})")]
    MissingFile { location: String, from: String },
    #[error("{location} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        location: String,
        size: u64,
        limit: u64,
    },
    #[error("bundling read more than {limit} files; stopping (last: {location})")]
    TooManyFiles { location: String, limit: usize },
    #[error("{location} is not valid {format}: {message}")]
    Parse {
        location: String,
        format: &'static str,
        message: String,
    },
    #[error("$ref `{reference}` at {from} points outside the root folder {root}")]
    EscapesRoot {
        reference: String,
        from: String,
        root: String,
    },
    #[error("$ref `{reference}` at {from} is remote; pass --allow-remote-refs to follow it")]
    RemoteRefRefused { reference: String, from: String },
    #[error("$ref `{reference}` at {from} is not a valid reference: {message}")]
    BadRef {
        reference: String,
        from: String,
        message: String,
    },
    #[error("$ref `{reference}` at {from}: {location} has nothing at JSON pointer `{pointer}`")]
    PointerNotFound {
        reference: String,
        from: String,
        location: String,
        pointer: String,
    },
    #[error("$ref cycle that cannot be bundled: {}", .chain.join(" -> "))]
    Cycle { chain: Vec<String> },
    #[error("{location} is not a valid OpenAPI 3 document at {path}: {message}")]
    Invalid {
        location: String,
        path: String,
        message: String,
    },
    #[error(
        "{location} has no root document: expected one of openapi.yaml, openapi.yml, openapi.json"
    )]
    NoRootDocument { location: String },
    #[error("fetching {url} failed: {message}")]
    Fetch {
        url: String,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error("fetching {url} returned HTTP {status}")]
    HttpStatus { url: String, status: u16 },
    #[error("{url}: https needs mdcore-spec built with the `rustls` feature")]
    HttpsDisabled { url: String },
    #[error("cannot read `{spec}` from git: {message}")]
    Git { spec: String, message: String },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
