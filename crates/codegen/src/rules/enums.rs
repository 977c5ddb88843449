//! Integer enums that servers outgrow.

use serde_json::Value;

use super::Rule;
use crate::document::for_each_schema;
use crate::report::Report;
use crate::Error;

/// typify turns an integer enum into a newtype that rejects every other value, so a result
/// code added by a later server (`scan_all_result_i` 12, 19, 23 are missing from the
/// document's list) would fail the whole response. The codes stay plain integers; the
/// scanning layer maps them to a typed verdict that keeps unknown codes.
pub struct OpenIntegerEnums;

impl Rule for OpenIntegerEnums {
    fn name(&self) -> &'static str {
        "open-integer-enums"
    }
    fn why(&self) -> &'static str {
        "integer enums become newtypes that reject unlisted values, but servers add result codes (see server-behavior: codes 0-23, 255); the list is dropped and the integer kept"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        let name = self.name();
        for_each_schema(doc, &mut |pointer, schema| {
            if schema.get("type").and_then(Value::as_str) != Some("integer") {
                return;
            }
            let Some(obj) = schema.as_object_mut() else {
                return;
            };
            if let Some(values) = obj.remove("enum") {
                report.push(
                    name,
                    pointer,
                    format!("integer enum {values} dropped; any integer accepted"),
                );
            }
        });
        Ok(())
    }
}
