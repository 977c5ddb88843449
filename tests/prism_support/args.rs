//! Arguments for one operation, taken from the pinned document (the one Prism validates
//! against): every parameter the client takes gets its example or a value built from its
//! schema, and the body a value of its schema (raw bodies a short ASCII text).

use serde_json::{json, Map, Value};

use metadefender_core::dispatch::{Location, Operation};

use super::examples::Examples;

/// The name of the credential header, which the client sets itself.
pub const CREDENTIAL: &str = metadefender_core::APIKEY_HEADER;

/// A raw body: ASCII, so that it also survives `prism proxy`.
pub const RAW_BODY: &str = "metadefender-core conformance payload\n";

/// Arguments for `op` and notes on what could not be derived.
#[derive(Debug, Default)]
pub struct Built {
    pub args: Value,
    /// Parameters of the document the client does not take (other than the credential).
    pub not_sendable: Vec<String>,
    /// Where a document example was unusable and a schema value was used instead.
    pub notes: Vec<String>,
}

/// The operation object of the document for a dispatcher operation.
pub fn operation_node<'a>(doc: &'a Value, op: &Operation) -> Option<&'a Value> {
    doc.get("paths")?
        .get(op.path)?
        .get(op.method.to_ascii_lowercase())
}

/// The document's parameters of an operation (path-item ones first), resolved.
pub fn document_params<'a>(doc: &'a Value, op: &Operation) -> Vec<&'a Value> {
    let ex = Examples::new(doc);
    let item = doc.get("paths").and_then(|p| p.get(op.path));
    let mut out: Vec<&Value> = Vec::new();
    let lists = [
        item.and_then(|i| i.get("parameters")),
        operation_node(doc, op).and_then(|o| o.get("parameters")),
    ];
    for list in lists.into_iter().flatten().filter_map(Value::as_array) {
        for p in list {
            let p = ex.resolve(p);
            out.retain(|q| !(q.get("name") == p.get("name") && q.get("in") == p.get("in")));
            out.push(p);
        }
    }
    out
}

/// Builds the arguments of `op` from `doc`.
pub fn build(doc: &Value, op: &Operation) -> Built {
    let ex = Examples::new(doc);
    let mut built = Built::default();
    let mut groups: Map<String, Value> = Map::new();
    let params = document_params(doc, op);

    for p in &params {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
        let taken = op
            .params
            .iter()
            .any(|q| q.name == name && q.location.key() == location);
        let credential = location == "header" && name.eq_ignore_ascii_case(CREDENTIAL);
        if !taken && !credential {
            built.not_sendable.push(format!("{location} {name}"));
        }
    }

    for param in op.params {
        let doc_param = params.iter().find(|p| {
            p.get("name").and_then(Value::as_str) == Some(param.name)
                && p.get("in").and_then(Value::as_str) == Some(param.location.key())
        });
        let schema = doc_param
            .and_then(|p| p.get("schema"))
            .cloned()
            .unwrap_or(json!({"type": "string"}));
        let mut value = doc_param
            .and_then(|p| parameter_example(&ex, p, &schema))
            .unwrap_or_else(|| ex.value(&schema));
        if matches!(param.location, Location::Header) && !header_safe(&value) {
            let original = value.clone();
            value = one_line(&value)
                .filter(|v| ex.conforms(v, &schema))
                .unwrap_or_else(|| ex.value(&without_examples(&ex, &schema)));
            built.notes.push(format!(
                "header {}: example {} is not a valid header value; sent {}",
                param.name,
                short(&original),
                short(&value)
            ));
        }
        groups
            .entry(param.location.key())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("groups are objects")
            .insert(param.name.to_string(), value);
    }

    if let Some(ct) = op.body {
        let body = if is_json(ct) {
            let media = operation_node(doc, op)
                .and_then(|o| o.get("requestBody"))
                .map(|b| ex.resolve(b))
                .and_then(|b| b.get("content"))
                .and_then(|c| c.get(ct));
            match media {
                Some(m) => {
                    let schema = m.get("schema").cloned().unwrap_or(json!({}));
                    m.get("example")
                        .filter(|e| ex.conforms(e, &schema))
                        .cloned()
                        .unwrap_or_else(|| ex.value(&schema))
                }
                None => json!({}),
            }
        } else {
            json!(RAW_BODY)
        };
        groups.insert("body".into(), body);
    }
    built.args = Value::Object(groups);
    built
}

/// Like [`build`], with only the parameters the document marks required (and the body): what
/// a plain call sends, without optional headers that change what the server does.
pub fn build_required(doc: &Value, op: &Operation) -> Built {
    let mut built = build(doc, op);
    let params = document_params(doc, op);
    let required = |location: &str, name: &str| {
        params.iter().any(|p| {
            p.get("in").and_then(Value::as_str) == Some(location)
                && p.get("name").and_then(Value::as_str) == Some(name)
                && p.get("required").and_then(Value::as_bool) == Some(true)
        })
    };
    if let Some(groups) = built.args.as_object_mut() {
        for (location, group) in groups.iter_mut() {
            if let Some(map) = group.as_object_mut().filter(|_| location != "body") {
                map.retain(|name, _| required(location, name));
            }
        }
        groups.retain(|k, v| k == "body" || v.as_object().is_some_and(|m| !m.is_empty()));
    }
    built
}

fn parameter_example(ex: &Examples<'_>, p: &Value, schema: &Value) -> Option<Value> {
    let direct = p.get("example").cloned();
    let listed = p
        .get("examples")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(|e| ex.resolve(e).get("value").cloned());
    direct
        .into_iter()
        .chain(listed)
        .find(|e| ex.conforms(e, schema))
}

pub fn is_json(content_type: &str) -> bool {
    let ct = content_type.to_ascii_lowercase();
    ct.starts_with("application/json") || ct.contains("+json")
}

/// True when the value, as the client renders it, is a legal header value.
fn header_safe(v: &Value) -> bool {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    !text.is_empty() && text.chars().all(|c| c == '\t' || (' '..='~').contains(&c))
}

/// A multi-line JSON text example made one line (same content).
fn one_line(v: &Value) -> Option<Value> {
    let text = v.as_str()?;
    let parsed: Value = serde_json::from_str(text).ok()?;
    Some(Value::String(parsed.to_string()))
}

fn without_examples(ex: &Examples<'_>, schema: &Value) -> Value {
    let mut s = ex.resolve(schema).clone();
    if let Some(o) = s.as_object_mut() {
        o.remove("example");
        o.remove("examples");
        o.remove("default");
    }
    s
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}
