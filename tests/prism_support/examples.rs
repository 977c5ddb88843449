//! Valid values for a JSON schema of the document: the schema's own example when it conforms,
//! otherwise a value built from the schema's constraints. Used to call every operation with
//! arguments the document itself defines, with no per-operation list.

use serde_json::{json, Map, Value};

/// Builds and checks values against the schemas of one document (`$ref`s are local).
pub struct Examples<'a> {
    doc: &'a Value,
}

/// Objects nest at most this deep; deeper optional properties are left out.
const MAX_DEPTH: usize = 6;

impl<'a> Examples<'a> {
    pub fn new(doc: &'a Value) -> Self {
        Self { doc }
    }

    /// Follows `$ref`s (a dangling one yields `{}`: anything goes).
    pub fn resolve(&self, mut node: &'a Value) -> &'a Value {
        static ANY: Value = Value::Null;
        for _ in 0..32 {
            let Some(r) = node.get("$ref").and_then(Value::as_str) else {
                return node;
            };
            match r.strip_prefix('#').and_then(|p| self.doc.pointer(p)) {
                Some(n) => node = n,
                None => return &ANY,
            }
        }
        &ANY
    }

    /// A value for `schema`: a conforming `example`, `default` or enum member if there is one,
    /// else one built from the constraints.
    pub fn value(&self, schema: &Value) -> Value {
        self.value_at(schema, 0)
    }

    fn value_at(&self, schema: &Value, depth: usize) -> Value {
        let s = self.resolve(schema);
        for key in ["example", "default"] {
            if let Some(e) = s.get(key) {
                if self.conforms(e, s) {
                    return e.clone();
                }
            }
        }
        if let Some(list) = s.get("examples").and_then(Value::as_array) {
            if let Some(e) = list.iter().find(|e| self.conforms(e, s)) {
                return e.clone();
            }
        }
        if let Some(e) = s
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|l| l.iter().find(|v| !v.is_null()))
        {
            return e.clone();
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in all {
                match self.value_at(part, depth) {
                    Value::Object(o) => merged.extend(o),
                    other => return other,
                }
            }
            self.fill_object(s, depth, &mut merged);
            return Value::Object(merged);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(list) = s.get(key).and_then(Value::as_array) {
                // The first branch whose value satisfies the whole schema (for oneOf: exactly
                // one branch), else the first branch's value.
                let candidates: Vec<Value> = list.iter().map(|b| self.value_at(b, depth)).collect();
                if let Some(v) = candidates.iter().find(|v| self.conforms(v, s)) {
                    return v.clone();
                }
                if let Some(v) = candidates.into_iter().next() {
                    return v;
                }
            }
        }
        match schema_type(s) {
            Some("string") => string_for(s),
            Some("integer") => json!(number_for(s).round() as i64),
            Some("number") => json!(number_for(s)),
            Some("boolean") => json!(true),
            Some("array") => {
                let items = s.get("items").cloned().unwrap_or(json!({}));
                let n = s
                    .get("minItems")
                    .and_then(Value::as_u64)
                    .unwrap_or(1)
                    .max(1);
                let n = match s.get("maxItems").and_then(Value::as_u64) {
                    Some(max) => n.min(max),
                    None => n,
                };
                Value::Array((0..n).map(|_| self.value_at(&items, depth + 1)).collect())
            }
            Some("object") => {
                let mut out = Map::new();
                self.fill_object(s, depth, &mut out);
                Value::Object(out)
            }
            _ if s.get("properties").is_some() => {
                let mut out = Map::new();
                self.fill_object(s, depth, &mut out);
                Value::Object(out)
            }
            // No type: anything is valid.
            _ => json!("conformance"),
        }
    }

    /// Adds every declared property (required ones at any depth, optional ones up to
    /// [`MAX_DEPTH`]) that is not there yet.
    fn fill_object(&self, s: &Value, depth: usize, out: &mut Map<String, Value>) {
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                if out.contains_key(name) {
                    continue;
                }
                let p = self.resolve(prop);
                if p.get("readOnly").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                if required.contains(&name.as_str()) || depth < MAX_DEPTH {
                    out.insert(name.clone(), self.value_at(prop, depth + 1));
                }
            }
        }
    }

    /// Whether `v` satisfies `schema` for the keywords this checker knows (type, enum,
    /// required, properties, additionalProperties: false, items, length and range bounds,
    /// allOf/oneOf/anyOf). `pattern` and `format` are not checked.
    pub fn conforms(&self, v: &Value, schema: &Value) -> bool {
        let s = self.resolve(schema);
        if v.is_null() && s.get("nullable").and_then(Value::as_bool) == Some(true) {
            return true;
        }
        if let Some(list) = s.get("enum").and_then(Value::as_array) {
            if !list.contains(v) {
                return false;
            }
        }
        if let Some(t) = schema_type(s) {
            let ok = match t {
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                "array" => v.is_array(),
                "object" => v.is_object(),
                _ => true,
            };
            if !ok {
                return false;
            }
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            if !all.iter().all(|b| self.conforms(v, b)) {
                return false;
            }
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
            if one.iter().filter(|b| self.conforms(v, b)).count() != 1 {
                return false;
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            if !any.iter().any(|b| self.conforms(v, b)) {
                return false;
            }
        }
        match v {
            Value::String(text) => {
                let n = text.chars().count() as u64;
                if s.get("minLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| n < m)
                    || s.get("maxLength")
                        .and_then(Value::as_u64)
                        .is_some_and(|m| n > m)
                {
                    return false;
                }
            }
            Value::Number(num) => {
                let x = num.as_f64().unwrap_or(0.0);
                let excl_min = s.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
                let excl_max = s.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
                if let Some(m) = s.get("minimum").and_then(Value::as_f64) {
                    if x < m || (excl_min && x == m) {
                        return false;
                    }
                }
                if let Some(m) = s.get("maximum").and_then(Value::as_f64) {
                    if x > m || (excl_max && x == m) {
                        return false;
                    }
                }
            }
            Value::Array(items) => {
                let n = items.len() as u64;
                if s.get("minItems")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| n < m)
                    || s.get("maxItems")
                        .and_then(Value::as_u64)
                        .is_some_and(|m| n > m)
                {
                    return false;
                }
                if let Some(item) = s.get("items") {
                    if !items.iter().all(|i| self.conforms(i, item)) {
                        return false;
                    }
                }
            }
            Value::Object(obj) => {
                let props = s.get("properties").and_then(Value::as_object);
                if let Some(req) = s.get("required").and_then(Value::as_array) {
                    if !req
                        .iter()
                        .filter_map(Value::as_str)
                        .all(|r| obj.contains_key(r))
                    {
                        return false;
                    }
                }
                for (k, val) in obj {
                    let ok = match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                        (Some(p), _) => self.conforms(val, p),
                        (None, Some(Value::Bool(false))) => false,
                        (None, Some(extra @ Value::Object(_))) => self.conforms(val, extra),
                        (None, _) => true,
                    };
                    if !ok {
                        return false;
                    }
                }
            }
            _ => {}
        }
        true
    }
}

fn schema_type(s: &Value) -> Option<&str> {
    match s.get("type") {
        Some(Value::String(t)) => Some(t),
        // OpenAPI 3.1 type lists: the first non-null one.
        Some(Value::Array(l)) => l.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

fn string_for(s: &Value) -> Value {
    let base = match s.get("format").and_then(Value::as_str) {
        Some("date-time") => "2024-01-02T03:04:05Z",
        Some("date") => "2024-01-02",
        Some("time") => "03:04:05",
        Some("uri" | "url" | "uri-reference") => "http://127.0.0.1:9/conformance",
        Some("hostname") => "localhost",
        Some("ipv4") => "127.0.0.1",
        Some("ipv6") => "::1",
        Some("email") => "conformance@example.com",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        Some("json") => "{}",
        _ => "conformance",
    };
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = s
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    let mut out = base.to_string();
    while out.chars().count() < min {
        out.push('x');
    }
    if let Some(max) = max {
        out = out.chars().take(max).collect();
    }
    Value::String(out)
}

fn number_for(s: &Value) -> f64 {
    let min = s.get("minimum").and_then(Value::as_f64);
    let max = s.get("maximum").and_then(Value::as_f64);
    let excl_min = s.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
    let mut x = match min {
        Some(m) if excl_min => m + 1.0,
        Some(m) => m.max(1.0_f64.min(max.unwrap_or(f64::MAX))),
        None => 1.0,
    };
    if let Some(m) = max {
        if x > m {
            x = m;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_that_break_their_schema_are_not_used() {
        let doc = json!({});
        let ex = Examples::new(&doc);
        let s = json!({"type": "integer", "minimum": 1, "maximum": 65535, "example": "8080"});
        assert_eq!(ex.value(&s), json!(1));
        let s = json!({"type": "string", "enum": ["Lax", "Strict"], "example": "lax"});
        assert_eq!(ex.value(&s), json!("Lax"));
    }

    #[test]
    fn objects_get_required_properties_and_refs_resolve() {
        let doc = json!({"components": {"schemas": {"U": {
            "type": "object", "required": ["user"],
            "properties": {"user": {"type": "string", "minLength": 12}, "n": {"type": "integer"}}
        }}}});
        let ex = Examples::new(&doc);
        let v = ex.value(&json!({"$ref": "#/components/schemas/U"}));
        assert_eq!(v["user"].as_str().unwrap().len(), 12);
        assert!(ex.conforms(&v, &json!({"$ref": "#/components/schemas/U"})));
        assert!(!ex.conforms(&json!({}), &json!({"$ref": "#/components/schemas/U"})));
    }
}
