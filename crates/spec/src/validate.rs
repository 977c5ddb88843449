//! Checking a document against the OpenAPI 3 model the generator reads (openapiv3).

use serde_json::Value;

use crate::error::{Error, Result};

/// Reads `document` as an `openapiv3::OpenAPI`; the error names the JSON path that failed.
pub fn validate(document: &Value, location: &str) -> Result<openapiv3::OpenAPI> {
    let version = document
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !version.starts_with("3.") {
        return Err(Error::Invalid {
            location: location.to_string(),
            path: "openapi".into(),
            message: format!("expected an OpenAPI 3.x version, found `{version}`"),
        });
    }
    serde_path_to_error::deserialize(document).map_err(|e| Error::Invalid {
        location: location.to_string(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}
