//! Configuration of a simulator instance.

use std::path::PathBuf;
use std::time::Duration;

/// How an unknown (or not yet visible) data id or hash is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NotFoundStyle {
    /// HTTP 404 with `{"err": "..."}` (newer servers).
    #[default]
    Http404,
    /// HTTP 200 with `{"<id>": "Not Found"}` (v3/v4 servers).
    Http200Body,
}

/// Limits applied while unpacking archives; breaking one gives the archive
/// the matching result code (9, 13 or 14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Deepest nesting that is still unpacked (1 = only the top archive's entries).
    pub max_depth: u32,
    /// Total uncompressed bytes that may be extracted from one upload.
    pub max_total_size: u64,
    /// Number of entries that may be extracted from one upload.
    pub max_file_count: u32,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_depth: 5,
            max_total_size: 512 * 1024 * 1024,
            max_file_count: 1000,
        }
    }
}

/// A user that can log in with `POST /login`.
#[derive(Clone, PartialEq, Eq)]
pub struct UserAccount {
    /// Login name.
    pub name: String,
    /// Password checked by `POST /login`.
    pub password: String,
    /// Optional apikey that authenticates as this user.
    pub apikey: Option<String>,
}

impl std::fmt::Debug for UserAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserAccount")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("apikey", &self.apikey.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Authentication settings. When present, operations need a valid `apikey`
/// header (an apikey or a session id from `POST /login`).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Apikeys accepted as they are; each one is its own identity.
    pub apikeys: Vec<String>,
    /// Users for `POST /login`.
    pub users: Vec<UserAccount>,
    /// Sessions expire after this much inactivity (`PUT /admin/config/session`
    /// `sessionTimeout` changes it at run time).
    pub session_timeout: Duration,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field(
                "apikeys",
                &format_args!("<{} redacted>", self.apikeys.len()),
            )
            .field("users", &self.users)
            .field("session_timeout", &self.session_timeout)
            .finish()
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            apikeys: Vec::new(),
            users: Vec::new(),
            session_timeout: Duration::from_millis(300_000),
        }
    }
}

impl AuthConfig {
    /// Auth with one static apikey.
    pub fn with_apikey(key: impl Into<String>) -> Self {
        Self {
            apikeys: vec![key.into()],
            ..Self::default()
        }
    }

    /// Adds a user for `POST /login`.
    pub fn user(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.push(UserAccount {
            name: name.into(),
            password: password.into(),
            apikey: None,
        });
        self
    }

    /// Adds a user that also owns a static apikey.
    pub fn user_with_apikey(
        mut self,
        name: impl Into<String>,
        password: impl Into<String>,
        apikey: impl Into<String>,
    ) -> Self {
        self.users.push(UserAccount {
            name: name.into(),
            password: password.into(),
            apikey: Some(apikey.into()),
        });
        self
    }
}

/// One workflow rule listed by `GET /file/rules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleConfig {
    /// Name used in the `rule` header.
    pub name: String,
    /// Largest file the rule accepts (bytes); larger uploads get 500.
    pub max_file_size: u64,
    /// Whether files scanned with this rule are sanitized (Deep CDR stand-in).
    pub sanitize: bool,
}

/// Configuration of a [`crate::Simulator`]. Every field has a default suited to fast tests.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimConfig {
    /// Address to bind; default `127.0.0.1:0` (an ephemeral port).
    pub listen: std::net::SocketAddr,
    /// Time of one life-cycle phase. A file spends one phase queued, one per
    /// engine scanning, one post-processing; then it is done.
    pub phase_duration: Duration,
    /// Names of the simulated engines (keys of `scan_results.scan_details`).
    pub engines: Vec<String>,
    /// `None` disables authentication.
    pub auth: Option<AuthConfig>,
    /// Files still processing beyond which uploads get 503.
    pub queue_capacity: usize,
    /// How unknown ids and hashes are answered.
    pub not_found_style: NotFoundStyle,
    /// Byte patterns that make a file Suspicious (result 2).
    pub suspicious_patterns: Vec<Vec<u8>>,
    /// Archive unpacking limits.
    pub archive_limits: ArchiveLimits,
    /// How long `POST /file/sync` waits before 408 (until `PUT /admin/config/file/sync`).
    pub sync_timeout: Duration,
    /// Where uploads are stored; `None` = a temporary directory removed on shutdown.
    pub storage_dir: Option<PathBuf>,
    /// Workflow rules; the first is used when an upload names none.
    pub rules: Vec<RuleConfig>,
    /// Version string of `GET /version`.
    pub version: String,
}

/// The default rule (multiscan only).
pub const RULE_MULTISCAN: &str = "multiscan";
/// The rule that also sanitizes.
pub const RULE_SANITIZE: &str = "sanitize";

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            phase_duration: Duration::from_millis(40),
            engines: ["ClamAV", "Aegis", "Bastion", "Citadel"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            auth: None,
            queue_capacity: 500,
            not_found_style: NotFoundStyle::Http404,
            suspicious_patterns: vec![b"MDSIM-SUSPICIOUS".to_vec()],
            archive_limits: ArchiveLimits::default(),
            sync_timeout: Duration::from_secs(300),
            storage_dir: None,
            rules: vec![
                RuleConfig {
                    name: RULE_MULTISCAN.into(),
                    max_file_size: 4 * 1024 * 1024 * 1024,
                    sanitize: false,
                },
                RuleConfig {
                    name: RULE_SANITIZE.into(),
                    max_file_size: 4 * 1024 * 1024 * 1024,
                    sanitize: true,
                },
            ],
            version: "5.6.1.0".into(),
        }
    }
}

impl SimConfig {
    /// Sets the phase duration (see [`SimConfig::phase_duration`]).
    pub fn phase(mut self, d: Duration) -> Self {
        self.phase_duration = d;
        self
    }
    /// Enables authentication.
    pub fn auth(mut self, auth: AuthConfig) -> Self {
        self.auth = Some(auth);
        self
    }
    /// Sets the queue capacity.
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n;
        self
    }
    /// Sets the not-found style.
    pub fn not_found_style(mut self, style: NotFoundStyle) -> Self {
        self.not_found_style = style;
        self
    }
    /// Adds a byte pattern that makes a file Suspicious.
    pub fn suspicious_pattern(mut self, p: impl Into<Vec<u8>>) -> Self {
        self.suspicious_patterns.push(p.into());
        self
    }
    /// Sets archive limits.
    pub fn archive_limits(mut self, l: ArchiveLimits) -> Self {
        self.archive_limits = l;
        self
    }
    /// Sets the `/file/sync` timeout.
    pub fn sync_timeout(mut self, d: Duration) -> Self {
        self.sync_timeout = d;
        self
    }
    /// Sets the storage directory.
    pub fn storage_dir(mut self, p: impl Into<PathBuf>) -> Self {
        self.storage_dir = Some(p.into());
        self
    }
    /// Sets the listen address.
    pub fn listen(mut self, a: std::net::SocketAddr) -> Self {
        self.listen = a;
        self
    }
    /// Total time from upload to done for a file, given the configured engines.
    pub fn scan_duration(&self) -> Duration {
        self.phase_duration * (self.engines.len() as u32 + 2)
    }
}
