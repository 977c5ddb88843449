//! Inline success-response schemas become named components.

use heck::ToUpperCamelCase;
use serde_json::{json, Value};

use super::Rule;
use crate::document::{is_success_status, operations, responses};
use crate::report::Report;
use crate::Error;

/// progenitor names every inline JSON response schema `{OperationId}Response` whatever its
/// status, and typify keeps the first type registered under a name: two inline schemas of one
/// operation would silently share one type. Naming them here, uniquely, takes the choice away
/// from progenitor; the validator then refuses any inline response schema left.
pub struct HoistInlineResponses;

impl Rule for HoistInlineResponses {
    fn name(&self) -> &'static str {
        "hoist-inline-responses"
    }
    fn why(&self) -> &'static str {
        "progenitor names every inline response schema `{OperationId}Response` whatever the status and typify reuses the first type under a name; hoisting gives each its own component"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        for op in operations(doc) {
            let inline: Vec<(String, String)> = responses(doc, &op)
                .into_iter()
                .filter(|(status, pointer)| {
                    let schema =
                        doc.pointer(&format!("{pointer}/content/application~1json/schema"));
                    is_success_status(status) && schema.is_some_and(|s| s.get("$ref").is_none())
                })
                .collect();
            let several = inline.len() > 1;
            for (status, pointer) in inline {
                let base = format!("{}-response", op.operation_id).to_upper_camel_case();
                let name = if several {
                    format!("{base}{status}")
                } else {
                    base
                };
                let exists = doc
                    .pointer(&format!("/components/schemas/{name}"))
                    .is_some();
                if exists {
                    return Err(Error::Rule {
                        rule: "hoist-inline-responses",
                        location: op.label(),
                        message: format!("the name {name} for the {status} response is taken by a component schema"),
                    });
                }
                let schema_ptr = format!("{pointer}/content/application~1json/schema");
                let Some(slot) = doc.pointer_mut(&schema_ptr) else {
                    continue;
                };
                let schema = std::mem::replace(
                    slot,
                    json!({ "$ref": format!("#/components/schemas/{name}") }),
                );
                if let Some(schemas) = doc
                    .pointer_mut("/components/schemas")
                    .and_then(Value::as_object_mut)
                {
                    schemas.insert(name.clone(), schema);
                }
                report.push(
                    self.name(),
                    op.label(),
                    format!("{status} response schema → components/schemas/{name}"),
                );
            }
        }
        Ok(())
    }
}
