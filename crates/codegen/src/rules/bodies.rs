//! Request and response bodies whose schema says something other than what goes on the wire.

use serde_json::{json, Value};

use super::{inline_at, Rule};
use crate::document::operations;
use crate::report::Report;
use crate::Error;

/// Non-JSON request bodies declared as `type: string` without `format: binary`.
pub struct OctetStreamIsBinary;

impl Rule for OctetStreamIsBinary {
    fn name(&self) -> &'static str {
        "octet-stream-is-binary"
    }
    fn why(&self) -> &'static str {
        "raw request bodies declared `type: string` without `format: binary` make progenitor refuse the operation (POST /admin/license, POST /admin/license/backup)"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        for op in operations(doc) {
            let body = format!("{}/requestBody", op.pointer());
            inline_at(doc, &body);
            let Some(content) = doc
                .pointer_mut(&format!("{body}/content"))
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            for (media, mt) in content.iter_mut() {
                if media.contains("json") {
                    continue;
                }
                let Some(schema) = mt.get_mut("schema") else {
                    continue;
                };
                if schema.get("type").and_then(Value::as_str) == Some("string")
                    && schema.get("format").and_then(Value::as_str) != Some("binary")
                {
                    schema["format"] = json!("binary");
                    report.push(
                        self.name(),
                        op.label(),
                        format!("{media} body: `format: binary` added"),
                    );
                }
            }
        }
        Ok(())
    }
}

/// `type: string, format: file|json` under `application/json`: a raw file described as if it
/// were a JSON string. Generated naively, the client would send and expect a quoted string.
pub struct JsonFileIsBinary;

impl JsonFileIsBinary {
    fn is_file_string(schema: &Value) -> bool {
        schema.get("type").and_then(Value::as_str) == Some("string")
            && matches!(
                schema.get("format").and_then(Value::as_str),
                Some("file" | "json")
            )
    }
}

impl Rule for JsonFileIsBinary {
    fn name(&self) -> &'static str {
        "json-file-is-binary"
    }
    fn why(&self) -> &'static str {
        "`type: string, format: file` inside application/json is a raw file: sent and received as an octet stream, not as a quoted JSON string (GET /admin/export, POST /admin/import)"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        for op in operations(doc) {
            let body = format!("{}/requestBody", op.pointer());
            inline_at(doc, &body);
            let mut places = vec![(body, "request body".to_string())];
            for (status, pointer) in crate::document::responses(doc, &op) {
                // Error bodies are JSON objects whatever they claim; `shared-error-body` owns them.
                if crate::document::is_success_status(&status) {
                    places.push((pointer, format!("{status} response")));
                }
            }
            for (pointer, what) in places {
                inline_at(doc, &pointer);
                let Some(content) = doc
                    .pointer_mut(&format!("{pointer}/content"))
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                let Some(schema) = content
                    .get("application/json")
                    .and_then(|mt| mt.get("schema"))
                else {
                    continue;
                };
                if !Self::is_file_string(schema) {
                    continue;
                }
                let format = schema["format"].as_str().unwrap_or_default().to_string();
                content.remove("application/json");
                content.insert(
                    "application/octet-stream".into(),
                    json!({ "schema": { "type": "string", "format": "binary" } }),
                );
                report.push(
                    self.name(),
                    op.label(),
                    format!("{what}: application/json `format: {format}` string became an application/octet-stream binary"),
                );
            }
        }
        Ok(())
    }
}
