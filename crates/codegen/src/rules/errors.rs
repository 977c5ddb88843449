//! Error responses: one shared body type for every 4xx/5xx, and no 3xx.

use serde_json::{json, Value};

use super::{Rule, SERVER_ERROR_SCHEMA};
use crate::document::{is_error_status, operations, ref_name, resolve, responses};
use crate::report::Report;
use crate::Error;

/// 3xx responses (`304` on the import operations) carry no result a client can use;
/// progenitor would type them as successes of another shape.
pub struct DropNotModified;

impl Rule for DropNotModified {
    fn name(&self) -> &'static str {
        "drop-redirect-responses"
    }
    fn why(&self) -> &'static str {
        "3xx responses (304 on POST /admin/import, /admin/import/v2) are not results; left in they add a second response type. An actual 3xx surfaces as `Error::UnexpectedResponse` with the response kept"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        for op in operations(doc) {
            let pointer = format!("{}/responses", op.pointer());
            let Some(map) = doc.pointer_mut(&pointer).and_then(Value::as_object_mut) else {
                continue;
            };
            let redirects: Vec<String> =
                map.keys().filter(|s| s.starts_with('3')).cloned().collect();
            for status in redirects {
                map.remove(&status);
                report.push(
                    self.name(),
                    op.label(),
                    format!("{status} response removed"),
                );
            }
        }
        Ok(())
    }
}

/// Every error response gets the body `{"err": string, ...}` as one shared type.
///
/// The document gives error bodies as `$ref`s to a dozen identical inline schemas, as `oneOf`s
/// over identical `{err}` schemas, as an example without a schema, as a `format: json` string,
/// or not at all. progenitor panics when one operation has two distinct error types, and —
/// silently — names an inline error schema `{OperationId}Response` like the success type, so
/// typify reuses the success struct for errors. One shared type removes both failure modes and
/// keeps extra fields (the 408 of /file/sync carries `data_id`).
pub struct SharedErrorBody;

impl SharedErrorBody {
    fn describe(doc: &Value, response: &Value) -> Option<String> {
        let shown = match ref_name(response) {
            Some(name) => format!("`$ref` {name}"),
            None => "inline".to_string(),
        };
        let resolved = resolve(doc, response)?;
        let Some(content) = resolved.get("content").and_then(Value::as_object) else {
            return Some(format!("{shown} without a body"));
        };
        let Some(mt) = content.get("application/json") else {
            let medias: Vec<&str> = content.keys().map(String::as_str).collect();
            return Some(format!("{shown} with media types {medias:?}"));
        };
        let Some(schema) = mt.get("schema") else {
            return Some(format!("{shown} with an example but no schema"));
        };
        if ref_name(schema) == Some(SERVER_ERROR_SCHEMA) {
            return None;
        }
        let kind = if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
            format!("oneOf over {} schemas", one_of.len())
        } else if let Some(name) = ref_name(schema) {
            format!("schema {name}")
        } else if schema.get("type").and_then(Value::as_str) == Some("string") {
            format!(
                "string schema (format {})",
                schema
                    .get("format")
                    .and_then(Value::as_str)
                    .unwrap_or("none")
            )
        } else {
            "inline schema".to_string()
        };
        Some(format!("{shown} with {kind}"))
    }
}

impl Rule for SharedErrorBody {
    fn name(&self) -> &'static str {
        "shared-error-body"
    }
    fn why(&self) -> &'static str {
        "error bodies are all `{\"err\": string, ...}` but the document spells them many ways: progenitor panics on several error types per operation and silently decodes errors as the success type; one shared `ServerError` keeps the message and extra fields"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        let schemas = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| Error::Rule {
                rule: "shared-error-body",
                location: "/components/schemas".into(),
                message: "the document has no component schemas to add the error schema to".into(),
            })?;
        if !schemas.contains_key(SERVER_ERROR_SCHEMA) {
            schemas.insert(
                SERVER_ERROR_SCHEMA.into(),
                json!({
                    "type": "object",
                    "properties": { "err": { "type": "string" } },
                    "additionalProperties": {}
                }),
            );
            report.push(
                self.name(),
                format!("components/schemas/{SERVER_ERROR_SCHEMA}"),
                "added: `{err: string}` plus any other field",
            );
        }
        for op in operations(doc) {
            for (status, pointer) in responses(doc, &op) {
                if !is_error_status(&status) {
                    continue;
                }
                let Some(response) = doc.pointer(&pointer) else {
                    continue;
                };
                let Some(was) = Self::describe(doc, response) else {
                    continue;
                };
                let description = resolve(doc, response)
                    .and_then(|r| r.get("description"))
                    .cloned()
                    .unwrap_or_else(|| json!(""));
                let replacement = json!({
                    "description": description,
                    "content": { "application/json": { "schema": {
                        "$ref": format!("#/components/schemas/{SERVER_ERROR_SCHEMA}")
                    } } }
                });
                if let Some(slot) = doc.pointer_mut(&pointer) {
                    *slot = replacement;
                }
                report.push(
                    self.name(),
                    op.label(),
                    format!("{status}: {was} → {SERVER_ERROR_SCHEMA}"),
                );
            }
        }
        Ok(())
    }
}
