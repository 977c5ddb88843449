//! Making a [`Client`]: base URL, transfer settings, TLS, credential.

use std::time::Duration;

use crate::credentials::{ClientState, Secret};
use crate::generated::Client;

/// Where MetaDefender Core listens by default.
pub const DEFAULT_URL: &str = "http://localhost:8008";

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL does not parse or is not http(s).
    #[error("invalid server URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The extra CA certificate is not PEM or DER.
    #[error("invalid CA certificate: {0}")]
    InvalidCertificate(#[source] reqwest::Error),
    /// reqwest refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

/// Builds a [`Client`]. Unlike progenitor's `Client::new`, which limits every request to 15 s
/// in total, transfers here have no total timeout (uploads of large files and `/file/sync`
/// take as long as they take); only connecting and reading stalls are bounded.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    url: String,
    apikey: Option<Secret>,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
    user_agent: String,
    ca_pem: Option<Vec<u8>>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            url: DEFAULT_URL.to_string(),
            apikey: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(300)),
            user_agent: concat!("metadefender-core-rust/", env!("CARGO_PKG_VERSION")).to_string(),
            ca_pem: None,
        }
    }
}

impl ClientBuilder {
    /// A builder for the server at `url` (`http://host:8008`; a trailing slash is fine).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// The API key (or a session id from `POST /login`) sent as the `apikey` header.
    pub fn apikey(mut self, apikey: impl Into<Secret>) -> Self {
        self.apikey = Some(apikey.into());
        self
    }

    /// How long connecting may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a response may stall between two reads (default 300 s, `None` for no limit).
    /// `/file/sync` holds the connection for the whole scan: raise this above its timeout.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Trusts this CA certificate (PEM) besides the system's: on-premises servers often use
    /// an internal CA.
    pub fn add_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// The normalised base URL (no trailing slash).
    pub fn base_url(&self) -> Result<String, BuildError> {
        normalize_url(&self.url)
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let base = normalize_url(&self.url)?;
        let http = match self.http_builder(true)?.build() {
            Ok(http) => http,
            // reqwest parses the extra certificate only when building; tell a bad certificate
            // apart from any other failure by building once more without it.
            Err(e) if self.ca_pem.is_some() && self.http_builder(false)?.build().is_ok() => {
                return Err(BuildError::InvalidCertificate(e))
            }
            Err(e) => return Err(BuildError::Http(e)),
        };
        Ok(Client::new_with_client(
            &base,
            http,
            ClientState::new(self.apikey),
        ))
    }

    fn http_builder(&self, with_ca: bool) -> Result<reqwest::ClientBuilder, BuildError> {
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .tcp_nodelay(true);
        if let Some(t) = self.read_timeout {
            http = http.read_timeout(t);
        }
        if let (true, Some(pem)) = (with_ca, &self.ca_pem) {
            let cert =
                reqwest::Certificate::from_pem(pem).map_err(BuildError::InvalidCertificate)?;
            http = http.add_root_certificate(cert);
        }
        Ok(http)
    }
}

impl Client {
    /// A client for the server at `url` with the default settings of [`ClientBuilder`].
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    /// The shared state holding the credential (replace it after a login).
    pub fn state(&self) -> &ClientState {
        &self.inner
    }
}

fn normalize_url(url: &str) -> Result<String, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let parsed = url::Url::parse(url.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("a base URL has no query or fragment"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slash_is_tolerated() {
        assert_eq!(normalize_url("http://h:8008/").unwrap(), "http://h:8008");
        assert_eq!(
            normalize_url("http://h:8008/core/").unwrap(),
            "http://h:8008/core"
        );
        assert!(matches!(
            normalize_url("ftp://h"),
            Err(BuildError::InvalidUrl { .. })
        ));
        assert!(matches!(
            normalize_url("not a url"),
            Err(BuildError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn a_bad_ca_certificate_is_a_typed_error() {
        let r = ClientBuilder::new(DEFAULT_URL)
            .add_ca_pem(
                b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".to_vec(),
            )
            .build();
        assert!(matches!(r, Err(BuildError::InvalidCertificate(_))), "{r:?}");
    }

    #[test]
    fn debug_never_shows_the_apikey() {
        let b = ClientBuilder::new(DEFAULT_URL).apikey("s3cr3t-key");
        assert!(!format!("{b:?}").contains("s3cr3t-key"));
        let c = b.build().unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t-key"));
    }
}
