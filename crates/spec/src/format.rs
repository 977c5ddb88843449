//! Reading JSON and YAML into one tree, and writing it back deterministically.
//!
//! This is the only module that touches serde_yaml (deprecated upstream), so swapping the
//! YAML parser later means editing this file alone.

use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

/// The syntax a document was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

impl Syntax {
    /// Guesses from the file name, then from the first non-blank byte.
    pub fn detect(name: &str, bytes: &[u8]) -> Syntax {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            return Syntax::Json;
        }
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            return Syntax::Yaml;
        }
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | Some(b'[') => Syntax::Json,
            _ => Syntax::Yaml,
        }
    }
}

/// Parses `bytes` (named `location` in errors) as JSON or YAML.
pub fn parse(location: &str, bytes: &[u8]) -> Result<Value> {
    match Syntax::detect(location, bytes) {
        Syntax::Json => serde_json::from_slice(bytes).map_err(|e| Error::Parse {
            location: location.to_string(),
            format: "JSON",
            message: e.to_string(),
        }),
        Syntax::Yaml => parse_yaml(location, bytes),
    }
}

fn parse_yaml(location: &str, bytes: &[u8]) -> Result<Value> {
    let err = |message: String| Error::Parse {
        location: location.to_string(),
        format: "YAML",
        message,
    };
    // serde_yaml bounds recursion depth and alias expansion, so hostile input errors out
    // instead of exhausting memory.
    let yaml: serde_yaml::Value = serde_yaml::from_slice(bytes).map_err(|e| err(e.to_string()))?;
    yaml_to_json(yaml, "").map_err(err)
}

/// YAML allows keys and values JSON has no room for; keys become their text and the rest is
/// refused with the path where it occurs.
fn yaml_to_json(value: serde_yaml::Value, at: &str) -> std::result::Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                Value::Number(
                    Number::from_f64(f)
                        .ok_or_else(|| format!("at `{at}`: {f} has no JSON representation"))?,
                )
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| yaml_to_json(v, &format!("{at}/{i}")))
                .collect::<std::result::Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    other => return Err(format!("at `{at}`: unsupported mapping key {other:?}")),
                };
                let child = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                let v = yaml_to_json(v, &child)?;
                out.insert(key, v);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            return Err(format!(
                "at `{at}`: YAML tag {} is not supported",
                tagged.tag
            ))
        }
    })
}

/// The canonical bytes of a document: JSON indented by four spaces, keys in document order,
/// no trailing newline. The same tree always gives the same bytes; upstream publishes in this
/// exact form, so a single-file upstream document round-trips byte for byte.
pub fn to_canonical_json(value: &Value) -> Vec<u8> {
    use serde::Serialize;
    let mut out = Vec::with_capacity(1 << 20);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value
        .serialize(&mut ser)
        .expect("serializing a serde_json::Value into memory cannot fail");
    out
}
