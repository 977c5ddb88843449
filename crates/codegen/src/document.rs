//! The OpenAPI document as a JSON tree: parsing (JSON or YAML), walking operations,
//! following local `$ref`s, and addressing nodes by JSON pointer.

use std::path::Path;

use serde_json::Value;

use crate::Error;

/// HTTP methods an OpenAPI path item may hold, in document order of the spec.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Parses a document: JSON when it looks like JSON, YAML otherwise.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Value, Error> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let result = if first == Some(&b'{') {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    } else {
        serde_yaml::from_slice::<Value>(bytes).map_err(|e| e.to_string())
    };
    let doc = result.map_err(|message| Error::Parse {
        path: path.to_path_buf(),
        message,
    })?;
    if !doc.get("paths").is_some_and(Value::is_object) {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            message: "no `paths` object at the top level".into(),
        });
    }
    Ok(doc)
}

/// Where one operation sits in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRef {
    pub method: String,
    pub path: String,
    pub operation_id: String,
}

impl OpRef {
    /// JSON pointer of the operation object.
    pub fn pointer(&self) -> String {
        format!("/paths/{}/{}", escape(&self.path), self.method)
    }
    /// `GET /file/{data_id}`: how reports and errors name the operation.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }
}

/// Every operation of the document, in document order.
pub fn operations(doc: &Value) -> Vec<OpRef> {
    let mut ops = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    ops.push(OpRef {
                        method: method.to_string(),
                        path: path.clone(),
                        operation_id: op
                            .get("operationId")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    });
                }
            }
        }
    }
    ops
}

/// Escapes one JSON-pointer token.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Follows local `$ref`s (`#/...`) until a non-reference node; `None` for a dangling or
/// external reference, or a cycle of references.
pub fn resolve<'a>(doc: &'a Value, mut node: &'a Value) -> Option<&'a Value> {
    for _ in 0..32 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => node = doc.pointer(r.strip_prefix('#')?)?,
            None => return Some(node),
        }
    }
    None
}

/// Name of the component a `$ref` points at (`#/components/schemas/Foo` → `Foo`).
pub fn ref_name(node: &Value) -> Option<&str> {
    node.get("$ref")?.as_str()?.rsplit('/').next()
}

/// The responses of an operation as (status, pointer of the response object) pairs, with
/// the response objects resolved when they are `$ref`s to `components/responses`.
pub fn responses(doc: &Value, op: &OpRef) -> Vec<(String, String)> {
    let base = format!("{}/responses", op.pointer());
    let Some(map) = doc.pointer(&base).and_then(Value::as_object) else {
        return Vec::new();
    };
    map.keys()
        .map(|status| (status.clone(), format!("{base}/{}", escape(status))))
        .collect()
}

/// True for `4XX`/`5XX` statuses and ranges (and `default`, which progenitor treats as an error
/// when a success is declared).
pub fn is_error_status(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5') || status == "default"
}

/// True for 2xx statuses and ranges.
pub fn is_success_status(status: &str) -> bool {
    status.starts_with('2')
}

/// Calls `f` with the pointer and node of every schema in the document: component schemas,
/// the `schema` of parameters, bodies and responses, and everything nested in them through
/// `properties`, `items`, `additionalProperties`, `allOf`/`oneOf`/`anyOf` and `not`. Examples
/// are data, not schemas, and are not entered.
pub fn for_each_schema(doc: &mut Value, f: &mut dyn FnMut(&str, &mut Value)) {
    fn schema(pointer: &str, node: &mut Value, f: &mut dyn FnMut(&str, &mut Value)) {
        f(pointer, node);
        let Some(obj) = node.as_object_mut() else {
            return;
        };
        for (key, child) in obj.iter_mut() {
            match key.as_str() {
                "properties" => {
                    if let Some(props) = child.as_object_mut() {
                        for (name, prop) in props.iter_mut() {
                            schema(&format!("{pointer}/properties/{}", escape(name)), prop, f);
                        }
                    }
                }
                "items" | "not" => schema(&format!("{pointer}/{key}"), child, f),
                "additionalProperties" if child.is_object() => {
                    schema(&format!("{pointer}/{key}"), child, f)
                }
                "allOf" | "oneOf" | "anyOf" => {
                    if let Some(list) = child.as_array_mut() {
                        for (i, item) in list.iter_mut().enumerate() {
                            schema(&format!("{pointer}/{key}/{i}"), item, f);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    fn container(pointer: &str, node: &mut Value, f: &mut dyn FnMut(&str, &mut Value)) {
        let Some(obj) = node.as_object_mut() else {
            return;
        };
        for (key, child) in obj.iter_mut() {
            let here = format!("{pointer}/{}", escape(key));
            match key.as_str() {
                "schema" => schema(&here, child, f),
                "example" | "examples" => {}
                _ => container(&here, child, f),
            }
        }
    }
    if let Some(obj) = doc.as_object_mut() {
        for (key, child) in obj.iter_mut() {
            match key.as_str() {
                "paths" => container("/paths", child, f),
                "components" => {
                    if let Some(comps) = child.as_object_mut() {
                        for (kind, items) in comps.iter_mut() {
                            let here = format!("/components/{}", escape(kind));
                            if kind == "schemas" {
                                if let Some(items) = items.as_object_mut() {
                                    for (name, s) in items.iter_mut() {
                                        schema(&format!("{here}/{}", escape(name)), s, f);
                                    }
                                }
                            } else {
                                container(&here, items, f);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
