//! Each rewrite rule on small documents, the validator on each shape it must refuse, and the
//! pinned 5.6.1 document: refused as it stands, generated once repaired.

use std::path::{Path, PathBuf};

use mdcore_codegen::report::Report;
use mdcore_codegen::rules::{document_rules, EvidenceRules, Rule};
use mdcore_codegen::{validate, Error};
use serde_json::{json, Value};

fn doc(paths: Value, schemas: Value) -> Value {
    json!({
        "openapi": "3.0.0",
        "info": { "title": "t", "version": "1" },
        "paths": paths,
        "components": { "schemas": schemas }
    })
}

/// Runs the rule called `name` alone and returns the report.
fn run(name: &str, d: &mut Value) -> Report {
    let rules = document_rules(EvidenceRules::default());
    let rule: &dyn Rule = rules
        .iter()
        .find(|r| r.name() == name)
        .map(|b| b.as_ref())
        .unwrap();
    let mut report = Report::default();
    rule.apply(d, &mut report).unwrap();
    report
}

fn pinned() -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let lock = mdcore_codegen::lock::Lock::load(&root).unwrap();
    let (path, bytes) = lock.read_verified(&root).unwrap();
    mdcore_codegen::document::parse(&path, &bytes).unwrap()
}

#[test]
fn octet_stream_gets_binary_format() {
    let mut d = doc(
        json!({"/l": {"post": {"operationId": "up", "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}, "responses": {"200": {"description": "ok"}}}}}),
        json!({}),
    );
    let r = run("octet-stream-is-binary", &mut d);
    assert_eq!(r.changes.len(), 1);
    assert_eq!(
        d.pointer("/paths/~1l/post/requestBody/content/application~1octet-stream/schema/format"),
        Some(&json!("binary"))
    );
}

#[test]
fn json_file_strings_become_octet_streams() {
    let mut d = doc(
        json!({"/e": {"get": {"operationId": "ex", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "string", "format": "file"}}}}}}},
               "/i": {"post": {"operationId": "im", "requestBody": {"content": {"application/json": {"schema": {"type": "string", "format": "file"}}}}, "responses": {"200": {"description": "ok"}}}}}),
        json!({}),
    );
    let r = run("json-file-is-binary", &mut d);
    assert_eq!(r.changes.len(), 2);
    assert!(d
        .pointer("/paths/~1e/get/responses/200/content/application~1octet-stream")
        .is_some());
    assert!(d
        .pointer("/paths/~1i/post/requestBody/content/application~1json")
        .is_none());
}

#[test]
fn error_bodies_become_one_shared_type() {
    let mut d = doc(
        json!({"/f": {"get": {"operationId": "f", "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {"a": {"type": "string"}}}}}},
            "400": {"description": "x", "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/E1"}, {"$ref": "#/components/schemas/E2"}]}}}},
            "404": {"description": "no body"},
            "500": {"description": "example only", "content": {"application/json": {"example": {"err": "x"}}}}
        }}}}),
        json!({"E1": {"type": "object", "properties": {"err": {"type": "string"}}}, "E2": {"type": "object", "properties": {"err": {"type": "string"}}}}),
    );
    let r = run("shared-error-body", &mut d);
    assert_eq!(r.changes.len(), 4, "{r:?}"); // the schema added + three responses
    for s in ["400", "404", "500"] {
        assert_eq!(
            d.pointer(&format!(
                "/paths/~1f/get/responses/{s}/content/application~1json/schema/$ref"
            )),
            Some(&json!("#/components/schemas/ServerError"))
        );
    }
    assert!(d
        .pointer("/components/schemas/ServerError/additionalProperties")
        .is_some());
}

#[test]
fn redirects_are_dropped() {
    let mut d = doc(
        json!({"/i": {"post": {"operationId": "i", "responses": {"200": {"description": "ok"}, "304": {"description": "same"}}}}}),
        json!({}),
    );
    assert_eq!(run("drop-redirect-responses", &mut d).changes.len(), 1);
    assert!(d.pointer("/paths/~1i/post/responses/304").is_none());
}

#[test]
fn inline_success_schemas_are_named_per_operation_and_status() {
    let mut d = doc(
        json!({"/a": {"get": {"operationId": "getA", "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {"x": {"type": "string"}}}}}},
            "201": {"description": "made", "content": {"application/json": {"schema": {"type": "object", "properties": {"y": {"type": "string"}}}}}}
        }}}}),
        json!({}),
    );
    let r = run("hoist-inline-responses", &mut d);
    assert_eq!(r.changes.len(), 2);
    assert!(d
        .pointer("/components/schemas/GetAResponse200/properties/x")
        .is_some());
    assert!(d
        .pointer("/components/schemas/GetAResponse201/properties/y")
        .is_some());
}

#[test]
fn hoisting_refuses_a_taken_name() {
    let mut d = doc(
        json!({"/a": {"get": {"operationId": "getA", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}}}),
        json!({"GetAResponse": {"type": "string"}}),
    );
    let rules = document_rules(EvidenceRules::default());
    let rule = rules
        .iter()
        .find(|r| r.name() == "hoist-inline-responses")
        .unwrap();
    let err = rule.apply(&mut d, &mut Report::default()).unwrap_err();
    assert!(err.to_string().contains("GetAResponse"), "{err}");
}

#[test]
fn apikey_moves_to_the_client() {
    let mut d = doc(
        json!({"/v": {"get": {"operationId": "v", "parameters": [
            {"$ref": "#/components/parameters/apikey"},
            {"in": "header", "name": "rule", "schema": {"type": "string"}}
        ], "responses": {"200": {"description": "ok"}}}}}),
        json!({}),
    );
    d["components"]["parameters"] = json!({"apikey": {"in": "header", "name": "apikey", "required": true, "schema": {"type": "string"}}});
    let r = run("apikey-on-client", &mut d);
    assert_eq!(r.changes.len(), 1);
    assert!(r.changes[0].detail.contains("required"));
    let params = d
        .pointer("/paths/~1v/get/parameters")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(params.len(), 1);
    assert_eq!(params[0]["name"], "rule");
}

#[test]
fn integer_enums_open_and_examples_are_left_alone() {
    let mut d = doc(
        json!({}),
        json!({"Code": {"type": "integer", "enum": [0, 1, 7], "example": {"type": "integer", "enum": [1]}}}),
    );
    let r = run("open-integer-enums", &mut d);
    assert_eq!(r.changes.len(), 1);
    assert!(d.pointer("/components/schemas/Code/enum").is_none());
    assert!(
        d.pointer("/components/schemas/Code/example/enum").is_some(),
        "examples are data"
    );
}

#[test]
fn formats_that_need_other_crates_or_reject_minus_one_are_dropped() {
    let mut d = doc(
        json!({}),
        json!({"T": {"type": "object", "properties": {
            "when": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
            "ms": {"type": "integer", "format": "uint64"},
            "url": {"type": "string", "format": "uri"}
        }}}),
    );
    let r = run("lenient-formats", &mut d);
    assert_eq!(r.changes.len(), 3);
    assert!(d
        .pointer("/components/schemas/T/properties/when/format")
        .is_none());
    assert!(d
        .pointer("/components/schemas/T/properties/ms/format")
        .is_none());
    assert_eq!(
        d.pointer("/components/schemas/T/properties/url/format"),
        Some(&json!("uri"))
    );
    assert!(validate::problems(&d).is_empty());
    let unhandled = doc(
        json!({}),
        json!({"U": {"type": "string", "format": "uuid"}}),
    );
    assert!(validate::problems(&unhandled)
        .join("\n")
        .contains("unknown format `uuid`"));
}

#[test]
fn objects_keep_unknown_fields() {
    let mut d = doc(
        json!({}),
        json!({"O": {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}}}}),
    );
    run("keep-unknown-fields", &mut d);
    assert_eq!(
        d.pointer("/components/schemas/O/additionalProperties"),
        Some(&json!({}))
    );
    assert_eq!(
        d.pointer("/components/schemas/O/properties/a/additionalProperties"),
        Some(&json!({}))
    );
}

fn evidence(text: &str, d: &mut Value) -> Result<Report, Error> {
    let rules = EvidenceRules::parse(text).map_err(Error::Generate)?;
    let mut report = Report::default();
    rules.apply(d, &mut report)?;
    Ok(report)
}

#[test]
fn evidence_rules_do_what_they_say() {
    let mut d = doc(
        json!({}),
        json!({
            "R": {"type": "object", "required": ["a", "b"], "properties": {
                "fixed": {"type": "object", "properties": {"ClamAV": {"$ref": "#/components/schemas/E"}}},
                "list": {"type": "array", "items": {"type": "string"}}
            }},
            "E": {"type": "object", "properties": {"x": {"type": "integer"}}}
        }),
    );
    let r = evidence(
        r##"
[[rule]]
name = "m"
at = "/components/schemas/R/properties/fixed"
map_of = "#/components/schemas/E"
evidence = ["keys are engine names"]
[[rule]]
name = "e"
at = "/components/schemas/R/properties/list"
either = { type = "string" }
evidence = ["sometimes a string"]
[[rule]]
name = "o"
at = "/components/schemas/R"
optional = ["a"]
evidence = ["a is missing sometimes"]
[[rule]]
name = "s"
at = "/components/schemas/R/properties/added"
set = { type = "boolean" }
evidence = ["servers send it"]
"##,
        &mut d,
    )
    .unwrap();
    assert_eq!(r.changes.len(), 4);
    assert!(r
        .changes
        .iter()
        .all(|c| c.rule.starts_with("evidence:") && c.detail.contains("evidence:")));
    assert_eq!(
        d.pointer("/components/schemas/R/properties/fixed/additionalProperties/$ref"),
        Some(&json!("#/components/schemas/E"))
    );
    assert_eq!(
        d.pointer("/components/schemas/R/properties/list/oneOf/1/type"),
        Some(&json!("string"))
    );
    assert_eq!(
        d.pointer("/components/schemas/R/required"),
        Some(&json!(["b"]))
    );
    assert_eq!(
        d.pointer("/components/schemas/R/properties/added/type"),
        Some(&json!("boolean"))
    );
}

#[test]
fn evidence_rules_fail_clearly() {
    let mut d = doc(
        json!({}),
        json!({"R": {"type": "object", "properties": {}}}),
    );
    let e = evidence("[[rule]]\nname = \"x\"\nat = \"/components/schemas/Gone/properties/a\"\neither = {}\nevidence = [\"e\"]\n", &mut d).unwrap_err();
    assert!(
        e.to_string()
            .contains("/components/schemas/Gone/properties/a")
            && e.to_string().contains("(x)"),
        "{e}"
    );
    assert!(
        EvidenceRules::parse("[[rule]]\nname = \"x\"\nat = \"/a\"\nset = {}\nevidence = []\n")
            .unwrap_err()
            .contains("names no evidence")
    );
    assert!(EvidenceRules::parse(
        "[[rule]]\nname = \"x\"\nat = \"/a\"\nexplode = 1\nevidence = [\"e\"]\n"
    )
    .is_err());
    let e = evidence("[[rule]]\nname = \"o\"\nat = \"/components/schemas/R\"\noptional = [\"zz\"]\nevidence = [\"e\"]\n", &mut d).unwrap_err();
    assert!(e.to_string().contains("required"), "{e}");
}

#[test]
fn validator_names_each_unhandled_shape() {
    let d = doc(
        json!({
            "/a": {"post": {"operationId": "a",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}, "application/xml": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": {"description": "x", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/E1"}}}},
                    "500": {"description": "y", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/E2"}}}}
                }}},
            "/b": {"post": {"operationId": "a", "requestBody": {"content": {}}, "responses": {"200": {"description": "ok", "content": {"application/json": {"example": 1}}}}}},
            "/c": {"get": {"operationId": "c", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "string", "format": "wat"}}}}}}},
            "/d": {"put": {"operationId": "dThing", "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}, "responses": {"200": {"description": "ok"}}}}
        }),
        json!({"E1": {"type": "object"}, "E2": {"type": "object"}, "DThingBody": {"type": "string"}}),
    );
    let problems = validate::problems(&d).join("\n");
    for needle in [
        "POST /a: request body with 2 media types",
        "POST /a: 200 inline JSON response schema",
        "POST /a: several error types",
        "POST /b: operationId `a` also used by POST /a",
        "POST /b: request body with no media type",
        "POST /b: 200 JSON response without a schema",
        "unknown format `wat`",
        "PUT /d: the request body type name DThingBody collides",
    ] {
        assert!(
            problems.contains(needle),
            "missing `{needle}` in:\n{problems}"
        );
    }
}

#[test]
fn the_raw_document_is_refused_and_the_repaired_one_generates() {
    let raw = pinned();
    let problems = validate::problems(&raw).join("\n");
    for needle in [
        "POST /admin/license: octet-stream request body is not `type: string, format: binary`",
        "POST /admin/license: 400 JSON response without a schema",
        "several error types",
        "inline JSON response schema",
        "GET /admin/export: 200 inline JSON response schema",
        "unknown format `file`",
    ] {
        assert!(
            problems.contains(needle),
            "missing `{needle}` in:\n{problems}"
        );
    }
    // Without the validator, progenitor itself fails on the raw document: an error, not a panic.
    let Err(err) =
        mdcore_codegen::generate::generate(&raw, &Default::default(), &mut Report::default())
    else {
        panic!("progenitor accepted the raw document");
    };
    assert!(err.to_string().contains("progenitor"), "{err}");

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let g = mdcore_codegen::generate_pinned(&root, None).unwrap();
    assert_eq!(g.operations, 72);
    assert!(g.code().contains("pub fn file_analysis_post"));
    assert!(
        !g.snapshot().contains("#[doc"),
        "the snapshot carries no upstream prose"
    );
}
