//! The credential the client sends as the `apikey` header: an API key, or the session id a
//! login returned. It never appears in `Debug` output, logs or errors.

use std::fmt;
use std::sync::{Arc, RwLock};

/// A secret string. `Debug` and `Display` print `***`; the value leaves only through
/// [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

/// State shared by every clone of a [`crate::Client`]: the credential, which a re-login may
/// replace while requests are in flight.
#[derive(Clone, Default)]
pub struct ClientState {
    apikey: Arc<RwLock<Option<Secret>>>,
}

impl ClientState {
    /// State that sends `apikey` (or nothing).
    pub fn new(apikey: Option<Secret>) -> Self {
        Self {
            apikey: Arc::new(RwLock::new(apikey)),
        }
    }

    /// The credential sent now.
    pub fn apikey(&self) -> Option<Secret> {
        // A writer that panicked cannot leave a half-written Option: the value is still sound.
        self.apikey
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the credential for every later request of every clone of the client.
    pub fn set_apikey(&self, apikey: Option<Secret>) {
        *self.apikey.write().unwrap_or_else(|e| e.into_inner()) = apikey;
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.apikey().is_some();
        f.debug_struct("ClientState")
            .field("apikey", &if set { "***" } else { "none" })
            .finish()
    }
}
