//! A validator for the subset of OpenAPI 3.0 schema keywords the 5.6.1
//! document uses in its responses: `$ref`, `type`, `properties`, `required`,
//! `items`, `enum`, `allOf`, `oneOf`, `anyOf`. It lets `cargo test` check real
//! results against the document (the conformance script does the same with a
//! third-party validator).

use serde_json::Value;

pub struct Doc(pub Value);

impl Doc {
    pub fn load() -> Doc {
        let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/openapi/metadefender-core/5.6.1/openapi.json");
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        Doc(serde_json::from_slice(&bytes).unwrap())
    }

    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        let mut v = v;
        while let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let mut cur = &self.0;
            for part in r.trim_start_matches("#/").split('/') {
                cur = &cur[part];
            }
            v = cur;
        }
        v
    }

    /// The JSON schema of `status` for `method path`.
    pub fn response_schema(&self, path: &str, method: &str, status: &str) -> &Value {
        let resp = self.resolve(&self.0["paths"][path][method]["responses"][status]);
        &resp["content"]["application/json"]["schema"]
    }

    /// Every violation of `schema` by `v`, with its location.
    pub fn errors(&self, schema: &Value, v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.check(schema, v, "$", &mut out);
        out
    }

    fn check(&self, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
        let s = self.resolve(schema);
        if let Some(t) = s.get("type").and_then(Value::as_str) {
            let ok = match t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                _ => true,
            };
            if !ok {
                out.push(format!("{at}: {v} is not of type {t}"));
                return;
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                out.push(format!("{at}: {v} is not one of {e:?}"));
            }
        }
        if let (Some(props), Some(obj)) = (
            s.get("properties").and_then(Value::as_object),
            v.as_object(),
        ) {
            for (k, ps) in props {
                if let Some(x) = obj.get(k) {
                    self.check(ps, x, &format!("{at}.{k}"), out);
                }
            }
        }
        if let (Some(req), Some(obj)) = (s.get("required").and_then(Value::as_array), v.as_object())
        {
            for k in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(k) {
                    out.push(format!("{at}: required property {k} is missing"));
                }
            }
        }
        if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
            for (i, x) in arr.iter().enumerate() {
                self.check(items, x, &format!("{at}[{i}]"), out);
            }
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, v, at, out);
            }
        }
        for (kw, exactly_one) in [("oneOf", true), ("anyOf", false)] {
            if let Some(alts) = s.get(kw).and_then(Value::as_array) {
                let matching = alts.iter().filter(|a| self.errors(a, v).is_empty()).count();
                if matching == 0 || (exactly_one && matching > 1) {
                    out.push(format!("{at}: {matching} alternatives of {kw} match"));
                }
            }
        }
    }
}
