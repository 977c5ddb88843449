//! The `apikey` header moves from every operation to the client.

use serde_json::Value;

use super::Rule;
use crate::document::{escape, operations, resolve};
use crate::report::Report;
use crate::Error;

/// The document repeats `apikey` as a header parameter on 66 operations (required on most).
/// Generated as is, every call would take the secret as an argument. The client sets it once,
/// from a credential that never prints (`ClientHooks::pre` in the client crate).
pub struct ApikeyOnClient;

/// The header the client sets on every request.
pub const APIKEY_HEADER: &str = "apikey";

impl Rule for ApikeyOnClient {
    fn name(&self) -> &'static str {
        "apikey-on-client"
    }
    fn why(&self) -> &'static str {
        "`apikey` is a header parameter of nearly every operation; the client sets it once from a secret credential instead of taking it on every call"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        for op in operations(doc) {
            for pointer in [
                format!("{}/parameters", op.pointer()),
                format!("/paths/{}/parameters", escape(&op.path)),
            ] {
                let Some(params) = doc.pointer(&pointer).and_then(Value::as_array) else {
                    continue;
                };
                let keep: Vec<bool> = params
                    .iter()
                    .map(|p| {
                        let p = resolve(doc, p).unwrap_or(p);
                        !(p.get("in").and_then(Value::as_str) == Some("header")
                            && p.get("name")
                                .and_then(Value::as_str)
                                .is_some_and(|n| n.eq_ignore_ascii_case(APIKEY_HEADER)))
                    })
                    .collect();
                if keep.iter().all(|k| *k) {
                    continue;
                }
                let removed: Vec<bool> = params
                    .iter()
                    .zip(&keep)
                    .filter(|(_, k)| !**k)
                    .map(|(p, _)| {
                        resolve(doc, p)
                            .unwrap_or(p)
                            .get("required")
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    })
                    .collect();
                if let Some(params) = doc.pointer_mut(&pointer).and_then(Value::as_array_mut) {
                    let mut it = keep.iter();
                    params.retain(|_| *it.next().unwrap_or(&true));
                }
                for required in removed {
                    let how = if required { "required" } else { "optional" };
                    report.push(
                        self.name(),
                        op.label(),
                        format!("{how} header `apikey` → set once on the client"),
                    );
                }
            }
        }
        Ok(())
    }
}
