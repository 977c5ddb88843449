//! Refuses documents with shapes progenitor 0.15 / typify 0.8 get wrong, so that a future
//! document fails generation with a message instead of yielding a wrong client.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use serde_json::Value;

use crate::document::{
    for_each_schema, is_error_status, is_success_status, operations, ref_name, resolve, responses,
};

/// String formats typify maps to `String` or a std type. Others (`date-time`, `uuid`, ...) map to
/// types of crates the client does not depend on: the generated code would not compile.
const KNOWN_STRING_FORMATS: [&str; 10] = [
    "binary",
    "byte",
    "password",
    "uri",
    "uri-reference",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "regex",
];
/// Signed formats only: unsigned ones would reject the -1 servers send.
const KNOWN_NUMBER_FORMATS: [&str; 6] = ["int8", "int16", "int32", "int64", "float", "double"];

/// Every problem found, each naming its place. Empty when the document is safe to generate.
pub fn problems(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let component_names: BTreeMap<String, String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|s| {
            s.keys()
                .map(|k| (k.to_upper_camel_case(), k.clone()))
                .collect()
        })
        .unwrap_or_default();
    let components_count = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map_or(0, |s| s.len());
    if component_names.len() != components_count {
        out.push("components/schemas: two schema names become the same Rust type name".to_string());
    }

    for op in operations(doc) {
        let at = op.label();
        if op.operation_id.is_empty() {
            out.push(format!(
                "{at}: no operationId (progenitor names methods after it)"
            ));
        } else if let Some(other) = ids.insert(op.operation_id.clone(), at.clone()) {
            out.push(format!(
                "{at}: operationId `{}` also used by {other}",
                op.operation_id
            ));
        }
        let op_node = doc.pointer(&op.pointer()).unwrap_or(&Value::Null);

        if let Some(body) = op_node.get("requestBody").and_then(|b| resolve(doc, b)) {
            let content = body.get("content").and_then(Value::as_object);
            match content.map(|c| c.len()) {
                None | Some(0) => out.push(format!(
                    "{at}: request body with no media type (progenitor would drop the body)"
                )),
                Some(1) => {}
                Some(n) => out.push(format!(
                    "{at}: request body with {n} media types (progenitor takes exactly one)"
                )),
            }
            for (media, mt) in content.into_iter().flatten() {
                let schema = mt.get("schema").and_then(|s| resolve(doc, s));
                let ty = schema.and_then(|s| s.get("type")).and_then(Value::as_str);
                let format = schema.and_then(|s| s.get("format")).and_then(Value::as_str);
                if media.contains("json") {
                    if ty == Some("string") && matches!(format, Some("file" | "json" | "binary")) {
                        out.push(format!("{at}: JSON request body is a `format: {}` string (a raw file sent as a quoted string)", format.unwrap_or_default()));
                    }
                    if mt.get("schema").is_some_and(|s| s.get("$ref").is_none()) {
                        let name = format!("{}-body", op.operation_id).to_upper_camel_case();
                        if let Some(original) = component_names.get(&name) {
                            out.push(format!("{at}: the request body type name {name} collides with component schema {original}"));
                        }
                    }
                } else if media == "application/octet-stream"
                    && !(ty == Some("string") && format == Some("binary"))
                {
                    out.push(format!(
                        "{at}: octet-stream request body is not `type: string, format: binary`"
                    ));
                } else if schema.is_none() {
                    out.push(format!("{at}: {media} request body without a schema"));
                }
            }
        }

        let mut success = BTreeSet::new();
        let mut errors = BTreeSet::new();
        for (status, pointer) in responses(doc, &op) {
            let Some(resp) = doc.pointer(&pointer).and_then(|r| resolve(doc, r)) else {
                out.push(format!("{at}: {status} response is a dangling $ref"));
                continue;
            };
            let kind = match resp.get("content").and_then(Value::as_object) {
                None => "no body".to_string(),
                Some(c) if c.is_empty() => "no body".to_string(),
                Some(c) => {
                    match c.iter().find(|(m, _)| {
                        m.as_str() == "application/json" || m.starts_with("application/json;")
                    }) {
                        Some((_, mt)) => match mt.get("schema") {
                            None => {
                                out.push(format!("{at}: {status} JSON response without a schema (progenitor panics)"));
                                "json".into()
                            }
                            Some(s) => match ref_name(s) {
                                Some(name) => format!("json {name}"),
                                None => {
                                    out.push(format!("{at}: {status} inline JSON response schema (progenitor names it after the operation only, so it can collide)"));
                                    "json inline".into()
                                }
                            },
                        },
                        None => "raw".into(),
                    }
                }
            };
            if is_success_status(&status) {
                success.insert(kind);
            } else if is_error_status(&status) {
                errors.insert(kind);
            } else {
                out.push(format!(
                    "{at}: {status} response is neither success nor error"
                ));
            }
        }
        if success.len() > 1 {
            out.push(format!(
                "{at}: several success types {success:?} (progenitor supports one)"
            ));
        }
        if errors.len() > 1 {
            out.push(format!(
                "{at}: several error types {errors:?} (progenitor panics)"
            ));
        }
    }

    let mut doc = doc.clone();
    for_each_schema(&mut doc, &mut |pointer, schema| {
        let ty = schema.get("type").and_then(Value::as_str);
        let Some(format) = schema.get("format").and_then(Value::as_str) else {
            return;
        };
        let known = match ty {
            Some("string") => KNOWN_STRING_FORMATS.contains(&format),
            Some("integer" | "number") => KNOWN_NUMBER_FORMATS.contains(&format),
            _ => false,
        };
        if !known {
            out.push(format!(
                "{pointer}: unknown format `{format}` for type {}",
                ty.unwrap_or("(none)")
            ));
        }
    });
    out
}
