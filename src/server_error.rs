//! The body of every MetaDefender Core error response.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `{"err": "...", ...}`: what Core answers with every 4xx and 5xx. Fields beside `err` are
/// kept (`data_id` in the 408 of `POST /file/sync`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerError {
    /// The server's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub err: Option<String>,
    /// Every other field of the body.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ServerError {
    /// The message, or `""` when the body had none.
    pub fn message(&self) -> &str {
        self.err.as_deref().unwrap_or_default()
    }

    /// A string field beside `err`, such as `data_id`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.extra.get(name).and_then(serde_json::Value::as_str)
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.err {
            Some(err) => f.write_str(err),
            None => write!(f, "{}", serde_json::Value::Object(self.extra.clone())),
        }
    }
}
