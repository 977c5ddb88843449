//! The rewrite rules: each repairs one kind of defect of the document so that progenitor
//! generates correct code, and reports every change it makes.
//!
//! Rules run in the order of [`document_rules`]; rules that act on the generated Rust instead
//! of the document live in [`crate::generate`] and report under the names in [`RUST_RULES`].
//! To add a rule: write it in a module here, list it in [`document_rules`], give it a test in
//! `crates/codegen/tests/rules.rs`, and regenerate the snapshot (`cargo xtask snapshot`).

use serde_json::Value;

use crate::report::Report;
use crate::Error;

mod apikey;
mod bodies;
mod enums;
mod errors;
pub mod evidence;
mod formats;
mod responses;
mod unknown_fields;

pub use evidence::EvidenceRules;

/// One rewrite of the document.
pub trait Rule {
    /// Kebab-case name used in reports and errors.
    fn name(&self) -> &'static str;
    /// One line: which defect it repairs and why it matters.
    fn why(&self) -> &'static str;
    /// Rewrites `doc` in place, recording each change in `report`.
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error>;
}

/// Name of the shared error schema the `shared-error-body` rule adds to the components.
pub const SERVER_ERROR_SCHEMA: &str = "ServerError";

/// Rules that act on the generated Rust code, with why they exist.
pub const RUST_RULES: [(&str, &str); 2] = [
    (
        "open-string-enums",
        "every string enum gets an `Other(String)` variant: servers send values the document lacks (\"Clean\", \"\", \"disabled\"); evidence payloads 01, 06, 15",
    ),
    (
        "unknown-fields-default-empty",
        "builders of types that keep unknown fields start with an empty `extra` map instead of demanding one",
    ),
];

/// The document rules in the order they run. `evidence` holds the project's own rules from
/// `openapi/rules.toml`, which name the server responses that motivate them.
pub fn document_rules(evidence: EvidenceRules) -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(evidence),
        Box::new(bodies::OctetStreamIsBinary),
        Box::new(bodies::JsonFileIsBinary),
        Box::new(errors::DropNotModified),
        Box::new(errors::SharedErrorBody),
        Box::new(responses::HoistInlineResponses),
        Box::new(apikey::ApikeyOnClient),
        Box::new(enums::OpenIntegerEnums),
        Box::new(formats::LenientFormats),
        Box::new(unknown_fields::KeepUnknownFields),
    ]
}

/// Runs every document rule over `doc`.
pub fn apply_all(
    rules: &[Box<dyn Rule>],
    doc: &mut Value,
    report: &mut Report,
) -> Result<(), Error> {
    for rule in rules {
        rule.apply(doc, report)?;
    }
    Ok(())
}

/// `(name, why)` of every rule, document rules first, for the report's summary table.
pub fn catalogue(rules: &[Box<dyn Rule>]) -> Vec<(&'static str, &'static str)> {
    rules
        .iter()
        .map(|r| (r.name(), r.why()))
        .chain(RUST_RULES)
        .collect()
}

/// Replaces a `$ref`ed node at `pointer` by a copy of what it references, so that a rule can
/// change it for one operation without changing every other user of the component.
pub(crate) fn inline_at(doc: &mut Value, pointer: &str) {
    let Some(node) = doc.pointer(pointer) else {
        return;
    };
    if node.get("$ref").is_none() {
        return;
    }
    if let Some(resolved) = crate::document::resolve(doc, node).cloned() {
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = resolved;
        }
    }
}
