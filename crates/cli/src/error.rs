//! Errors that end a command, and turning failed API calls into messages a user can act on.
//! No message here ever holds the apikey, a password or a session id: they are never
//! formatted, and server answers are reduced to their status and `err` text.

use std::path::PathBuf;

use metadefender_core::scan::ScanError;
use metadefender_core::{reqwest, ServerError};

/// Hint printed with every "cannot reach the server" error.
const UNREACHABLE_HINT: &str = "is MetaDefender Core running there? Set --url or MDCORE_URL, \
     or add --embedded to use the built-in simulator";

/// Why a command stopped. Every variant exits with code 2.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Nothing answers at the server URL.
    #[error("cannot reach MetaDefender Core at {url}: {reason}\nhint: {UNREACHABLE_HINT}")]
    Unreachable {
        /// The base URL tried.
        url: String,
        /// The innermost cause (e.g. "Connection refused").
        reason: String,
    },
    /// The server refused the credential (401/403).
    #[error(
        "MetaDefender Core at {url} refused the request: HTTP {status}{}\nhint: {}",
        suffix(message),
        if *had_key {
            "the apikey (from MDCORE_APIKEY or --apikey-file) is wrong or expired"
        } else {
            "this server needs an apikey: set MDCORE_APIKEY or pass --apikey-file FILE"
        }
    )]
    Auth {
        /// The base URL.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The server's `err` text.
        message: String,
        /// Whether an apikey was sent.
        had_key: bool,
    },
    /// The apikey file cannot be read.
    #[error("cannot read the apikey file {}", path.display())]
    ApikeyFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The apikey file holds nothing.
    #[error("the apikey file {} is empty", path.display())]
    EmptyApikeyFile {
        /// The file.
        path: PathBuf,
    },
    /// The server URL is not usable.
    #[error("invalid server settings")]
    Client(#[source] metadefender_core::BuildError),
    /// The embedded simulator did not start.
    #[error("cannot start the embedded simulator")]
    Embedded(#[source] mdcore_sim::SimError),
    /// Bad arguments that clap cannot check.
    #[error("{0}")]
    Usage(String),
    /// A local file or directory operation failed.
    #[error("{context}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server answered with an error status.
    #[error("{what}: the server answered HTTP {status}{}", suffix(message))]
    Server {
        /// The operation.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The server's `err` text.
        message: String,
    },
    /// The server answered something unexpected, or the connection broke.
    #[error("{what}: {reason}")]
    Protocol {
        /// The operation.
        what: String,
        /// What went wrong.
        reason: String,
    },
    /// A step of the scanning layer failed.
    #[error("{0}")]
    Scan(#[source] ScanError),
    /// The demo of `quickstart` did not come out as expected.
    #[error("the quickstart did not come out as expected: {0}")]
    Quickstart(String),
}

fn suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

impl CliError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            context: context.into(),
            source,
        }
    }

    /// A scanning-layer error, with unreachable servers and refused credentials turned into
    /// their own messages.
    pub fn from_scan(url: &str, had_key: bool, e: ScanError) -> Self {
        if let ScanError::Transport { source, .. } = &e {
            if source.is_connect() {
                return CliError::Unreachable {
                    url: url.to_string(),
                    reason: innermost(source),
                };
            }
        }
        match e.status().map(|s| s.as_u16()) {
            Some(status @ (401 | 403)) => CliError::Auth {
                url: url.to_string(),
                status,
                message: e.server_message().unwrap_or_default().to_string(),
                had_key,
            },
            _ => CliError::Scan(e),
        }
    }
}

/// Error bodies the generated calls decode: `{"err": ...}` or nothing.
pub trait ErrorBody {
    fn message(&self) -> String;
}

impl ErrorBody for ServerError {
    fn message(&self) -> String {
        ServerError::message(self).to_string()
    }
}

impl ErrorBody for () {
    fn message(&self) -> String {
        String::new()
    }
}

/// Where a call went and with what credential, to word its failure.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub url: String,
    pub had_key: bool,
}

impl CallContext {
    /// A failed generated call as a [`CliError`]: connection failures and 401/403 get their
    /// own variants; other statuses keep the server's `err` text.
    pub async fn error<E: ErrorBody>(
        &self,
        what: &str,
        e: metadefender_core::Error<E>,
    ) -> CliError {
        use metadefender_core::Error as E;
        let (status, message) = match e {
            E::ErrorResponse(rv) => (rv.status().as_u16(), rv.into_inner().message()),
            E::UnexpectedResponse(resp) => {
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                let message = serde_json::from_str::<ServerError>(&text)
                    .map(|b| b.message().to_string())
                    .unwrap_or_else(|_| text.trim().chars().take(200).collect());
                (status, message)
            }
            E::CommunicationError(source) if source.is_connect() => {
                return CliError::Unreachable {
                    url: self.url.clone(),
                    reason: innermost(&source),
                }
            }
            E::CommunicationError(source)
            | E::ResponseBodyError(source)
            | E::InvalidUpgrade(source) => {
                return CliError::Protocol {
                    what: what.to_string(),
                    reason: chain(&source),
                }
            }
            E::InvalidResponsePayload(bytes, source) => {
                return CliError::Protocol {
                    what: what.to_string(),
                    reason: format!(
                        "the answer ({} bytes) is not the JSON expected: {source}",
                        bytes.len()
                    ),
                }
            }
            E::InvalidRequest(reason) | E::Custom(reason) => {
                return CliError::Protocol {
                    what: what.to_string(),
                    reason,
                }
            }
        };
        if status == 401 || status == 403 {
            return CliError::Auth {
                url: self.url.clone(),
                status,
                message,
                had_key: self.had_key,
            };
        }
        CliError::Server {
            what: what.to_string(),
            status,
            message,
        }
    }
}

/// The deepest cause of a transport error ("Connection refused (os error 111)").
pub fn innermost(e: &reqwest::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// An error and its causes on one line, a cause left out when the text already holds it.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = c.source();
    }
    out
}
