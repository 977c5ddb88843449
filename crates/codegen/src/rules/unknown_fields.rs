//! Objects keep the fields the document does not declare.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{Rule, SERVER_ERROR_SCHEMA};
use crate::document::for_each_schema;
use crate::report::Report;
use crate::Error;

/// Real servers send fields the document lacks (`extracted_files`, `file_id`, `in_queue`,
/// `rescan_available`, `file_info.is_skip_hash`, ...). typify drops unknown fields unless the
/// object allows additional properties by a schema, in which case it keeps them in a flattened
/// `extra` map. Every object with declared properties gets `additionalProperties: {}`.
pub struct KeepUnknownFields;

impl Rule for KeepUnknownFields {
    fn name(&self) -> &'static str {
        "keep-unknown-fields"
    }
    fn why(&self) -> &'static str {
        "servers send undeclared fields (payloads 01, 03, 09, 14: `file_id`, `in_queue`, `rescan_available`, ...); objects keep them in an `extra` map instead of dropping them"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        let mut per_root: BTreeMap<String, usize> = BTreeMap::new();
        let skip = format!("/components/schemas/{SERVER_ERROR_SCHEMA}");
        for_each_schema(doc, &mut |pointer, schema| {
            if pointer == skip {
                return;
            }
            let Some(obj) = schema.as_object_mut() else {
                return;
            };
            let has_props = obj
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| !p.is_empty());
            let open = matches!(obj.get("additionalProperties"), Some(Value::Object(_)));
            let declares_extra = obj.get("properties").and_then(|p| p.get("extra")).is_some();
            if has_props && !open && !declares_extra {
                obj.insert("additionalProperties".into(), json!({}));
                *per_root.entry(root_of(pointer)).or_default() += 1;
            }
        });
        for (root, n) in per_root {
            report.push(
                self.name(),
                root,
                format!("{n} object schema(s) keep unknown fields"),
            );
        }
        Ok(())
    }
}

/// The component or operation a pointer belongs to, for a compact report.
fn root_of(pointer: &str) -> String {
    let parts: Vec<&str> = pointer.split('/').collect();
    match parts.as_slice() {
        ["", "components", kind, name, ..] => format!("components/{kind}/{name}"),
        ["", "paths", path, method, ..] => format!(
            "{} {}",
            method.to_uppercase(),
            path.replace("~1", "/").replace("~0", "~")
        ),
        _ => pointer.to_string(),
    }
}
