//! Formats that would make the generated types stricter than servers, or need crates the
//! client does not depend on.

use serde_json::Value;

use super::Rule;
use crate::document::for_each_schema;
use crate::report::Report;
use crate::Error;

/// String formats typify maps to types of other crates (`chrono`, `uuid`). Core writes dates
/// in several styles (`"09/30/2026"` in payload 09, ISO 8601 elsewhere), so a strict parse
/// would reject real responses; and the crates would become dependencies of every user.
const STRING_FORMATS_KEPT_AS_TEXT: [&str; 4] = ["date", "date-time", "time", "uuid"];

/// Integer formats typify maps to unsigned types; servers send -1 for unknown times.
const UNSIGNED_FORMATS: [&str; 4] = ["uint8", "uint16", "uint32", "uint64"];

/// Keeps such values as plain strings and signed integers.
pub struct LenientFormats;

impl Rule for LenientFormats {
    fn name(&self) -> &'static str {
        "lenient-formats"
    }
    fn why(&self) -> &'static str {
        "`date`/`date-time`/`time`/`uuid` strings would need chrono or uuid and reject the date styles servers use (payload 09: \"09/30/2026\"); unsigned integers would reject the -1 servers send for unknown times"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        let name = self.name();
        for_each_schema(doc, &mut |pointer, schema| {
            let ty = schema
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_string);
            let Some(obj) = schema.as_object_mut() else {
                return;
            };
            let Some(format) = obj
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                return;
            };
            let lenient = match ty.as_deref() {
                Some("string") => STRING_FORMATS_KEPT_AS_TEXT.contains(&format.as_str()),
                Some("integer") => UNSIGNED_FORMATS.contains(&format.as_str()),
                _ => false,
            };
            if lenient {
                obj.remove("format");
                report.push(
                    name,
                    pointer,
                    format!(
                        "`format: {format}` dropped; kept as a plain {}",
                        ty.unwrap_or_default()
                    ),
                );
            }
        });
        Ok(())
    }
}
