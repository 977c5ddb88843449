//! Diffing the real upstream versions, and small hand-made pairs for each rule.

mod common;

use std::path::Path;

use common::{shared, write_tree};
use mdcore_spec::diff::{
    diff, Bump, Change, DiffOptions, Level, OperationChangeKind, Report, RustEffect,
};
use mdcore_spec::render::{render, Format, RenderOptions};
use mdcore_spec::{bundle, BundleOptions, Location};
use serde_json::{json, Value};

fn load(rel: &str) -> Value {
    let path = shared(&format!("openapi/metadefender-core/{rel}"));
    let loc = Location::from_arg(path.to_str().unwrap(), Path::new("/")).unwrap();
    bundle(&loc, &BundleOptions::default()).unwrap().document
}

fn find<'r>(report: &'r Report, id: &str, needle: &str) -> Vec<&'r Change> {
    report
        .changes
        .iter()
        .filter(|c| c.id == id && (c.message.contains(needle) || c.location.contains(needle)))
        .collect()
}

fn ops_of(report: &Report, kind: OperationChangeKind) -> Vec<String> {
    report
        .operations
        .iter()
        .filter(|o| o.kind == kind)
        .map(|o| match kind {
            OperationChangeKind::Removed => o.old.as_ref().unwrap().to_string(),
            OperationChangeKind::Moved => {
                format!("{} -> {}", o.old.as_ref().unwrap(), o.new.as_ref().unwrap())
            }
            OperationChangeKind::Added => o.new.as_ref().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn initial_4_18_0_to_latest_4_18_0() {
    let report = diff(
        &load("4.18.0-initial"),
        &load("4.18.0"),
        &DiffOptions::default(),
    );
    let mut added = ops_of(&report, OperationChangeKind::Added);
    added.sort();
    assert_eq!(
        added,
        [
            "GET /admin/config/webhook",
            "GET /file/webhook/{data_id}",
            "PUT /admin/config/webhook"
        ]
    );
    assert!(ops_of(&report, OperationChangeKind::Removed).is_empty());
    assert!(ops_of(&report, OperationChangeKind::Moved).is_empty());
    let renamed = find(&report, "enum-value-renamed", "enginedefinition");
    assert_eq!(renamed.len(), 1, "{:#?}", report.changes);
    let c = renamed[0];
    assert_eq!(c.component.as_deref(), Some("AnalysisResult"));
    assert!(
        c.location.starts_with("process_info.outdated_data"),
        "{}",
        c.location
    );
    // A response enum gaining a value can surprise a client: WARN, and a new Rust variant.
    assert_eq!(c.level, Level::Warn);
    assert_eq!(c.rust.effect, RustEffect::Breaking);
    // The twin cancel paths are the same on both sides: nothing to report about them.
    for c in &report.changes {
        assert!(
            !c.operations.iter().any(|o| o.path.ends_with("/cancel")),
            "{c:#?}"
        );
    }
    assert!(!report.operations.iter().any(|o| {
        o.old
            .iter()
            .chain(o.new.iter())
            .any(|x| x.path.ends_with("/cancel"))
    }));
}

#[test]
fn latest_4_18_0_to_5_6_1() {
    let report = diff(
        &load("4.18.0"),
        &load("5.6.1/openapi.json"),
        &DiffOptions::default(),
    );
    let mut moved = ops_of(&report, OperationChangeKind::Moved);
    moved.sort();
    assert_eq!(
        moved,
        [
            "POST /file/{batchId}/cancel -> POST /file/batch/{batchId}/cancel",
            "PUT /yara/generate -> POST /yara/generate"
        ]
    );
    assert!(ops_of(&report, OperationChangeKind::Removed).is_empty());
    assert_eq!(
        ops_of(&report, OperationChangeKind::Added).len(),
        72 - 41 + 2 - 2
    );
    // The twin `/file/{data_id}/cancel` is not mistaken for the batch cancel.
    assert!(!ops_of(&report, OperationChangeKind::Added)
        .iter()
        .any(|o| o.contains("cancel")));

    let apikey = find(&report, "request-parameter-became-required", "apikey");
    assert_eq!(apikey.len(), 1);
    assert_eq!(apikey[0].level, Level::Err);
    assert!(
        apikey[0].operations.len() > 20,
        "{}",
        apikey[0].operations.len()
    );
    assert_eq!(apikey[0].rust.effect, RustEffect::Breaking);

    let renames: Vec<&Change> = report
        .changes
        .iter()
        .filter(|c| {
            c.id == "enum-value-renamed"
                && c.component.as_deref() == Some("ProcessingResultsStringEnum")
        })
        .collect();
    assert!(
        renames.iter().any(|c| c
            .message
            .contains("`Threat Detected` renamed to `No Threat Detected`")),
        "{renames:#?}"
    );
    assert!(renames
        .iter()
        .any(|c| c.message.contains("`Canceled` renamed to `Cancelled`")));
    assert!(renames.iter().all(|c| c.level == Level::Warn));
    // scan_all_result_a reaches the enum through allOf + $ref, from the file result.
    assert!(renames[0]
        .operations
        .iter()
        .any(|o| o.path == "/file/{data_id}" && o.method == "get"));
    let dropped = find(&report, "enum-value-removed", "Cleaned / Deleted");
    assert_eq!(dropped.len(), 1);

    let removed_props: Vec<&Change> = report
        .changes
        .iter()
        .filter(|c| c.id == "property-removed")
        .collect();
    for name in ["deplayprogression", "dlp_info", "vulnerabilites"] {
        let c = removed_props
            .iter()
            .find(|c| c.message.contains(name))
            .unwrap_or_else(|| panic!("{name} not reported"));
        assert_eq!(c.level, Level::Warn, "optional response property");
    }
    assert_eq!(report.rust.bump, Bump::Minor);
    assert!(report
        .rust
        .methods_changed
        .contains(&"batch_cancel".to_string()));
    assert!(report
        .rust
        .types_removed
        .contains(&"BatchResponse".to_string()));
    assert_eq!(report.max_level(), Some(Level::Err));
}

#[test]
fn same_document_gives_an_empty_diff() {
    let doc = load("5.6.1/openapi.json");
    let report = diff(&doc, &doc, &DiffOptions::default());
    assert!(report.is_empty());
    assert_eq!(report.max_level(), None);
    assert_eq!(report.rust.bump, Bump::None);
}

/// The markdown example in docs/ is what the tool prints today.
#[test]
fn committed_markdown_example_is_current() {
    let report = diff(
        &load("4.18.0"),
        &load("5.6.1/openapi.json"),
        &DiffOptions::default(),
    );
    let rendered = render(
        &report,
        Format::Markdown,
        &RenderOptions { hide_docs: false },
        Some("0.1.0"),
    );
    let path = common::root().join("docs/examples/diff-4.18.0-to-5.6.1.md");
    if std::env::var_os("UPDATE_EXAMPLES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == rendered,
        "docs/examples/diff-4.18.0-to-5.6.1.md is stale; rerun with UPDATE_EXAMPLES=1"
    );
}

fn doc(paths: Value, schemas: Value) -> Value {
    json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": paths, "components": {"schemas": schemas}})
}

fn op(id: &str, params: Value, response_schema: Value) -> Value {
    json!({"operationId": id, "parameters": params, "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": response_schema}}}}})
}

#[test]
fn path_parameter_rename_is_not_an_add_and_remove() {
    let p = |name: &str| json!([{"name": name, "in": "path", "required": true, "schema": {"type": "string"}}]);
    let old = doc(
        json!({"/item/{id}": {"get": op("getItem", p("id"), json!({"type": "string"}))}}),
        json!({}),
    );
    let new = doc(
        json!({"/item/{itemId}": {"get": op("getItem", p("itemId"), json!({"type": "string"}))}}),
        json!({}),
    );
    let report = diff(&old, &new, &DiffOptions::default());
    assert!(report.operations.is_empty(), "{:#?}", report.operations);
    let c = &find(&report, "path-parameter-renamed", "itemId")[0];
    assert_eq!(c.level, Level::Info);
    assert_eq!(c.rust.effect, RustEffect::Breaking);
    assert!(c.rust.items[0].contains(".item_id()"), "{:?}", c.rust.items);
}

#[test]
fn request_narrowing_and_response_widening_are_levelled() {
    let old = doc(
        json!({"/a": {"post": {
            "operationId": "postA",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}}}
        }}}),
        json!({
            "In": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["a", "b"]}, "n": {"type": "integer"}}},
            "Out": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "state": {"type": "string", "enum": ["x"]}}}
        }),
    );
    let mut new = old.clone();
    let s = &mut new["components"]["schemas"];
    s["In"]["properties"]["mode"]["enum"] = json!(["a", "zzzz"]);
    s["In"]["required"] = json!(["n"]);
    s["In"]["properties"]["n"]["type"] = json!("string");
    s["Out"]["properties"]["state"]["enum"] = json!(["x", "y"]);
    s["Out"]["required"] = json!([]);
    s["Out"]["properties"]["extra"] = json!({"type": "string"});
    let report = diff(&old, &new, &DiffOptions::default());
    let level = |id: &str, needle: &str| {
        let found = find(&report, id, needle);
        assert_eq!(found.len(), 1, "{id} {needle}: {:#?}", report.changes);
        found[0].level
    };
    assert_eq!(level("enum-value-removed", "`b`"), Level::Err);
    assert_eq!(level("enum-value-added", "`zzzz`"), Level::Info);
    assert_eq!(level("property-became-required", "`n`"), Level::Err);
    assert_eq!(level("schema-type-changed", "n"), Level::Err);
    assert_eq!(level("enum-value-added", "`y`"), Level::Warn);
    assert_eq!(level("property-became-optional", "`id`"), Level::Err);
    assert_eq!(level("property-added", "extra"), Level::Info);
    // Component changes name the generated type.
    let c = &find(&report, "property-added", "extra")[0];
    assert_eq!(c.component.as_deref(), Some("Out"));
    assert!(
        c.rust.items[0].starts_with("type Out"),
        "{:?}",
        c.rust.items
    );
}

#[test]
fn security_callbacks_headers_and_status_codes_are_compared() {
    let old = json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"post": {
        "operationId": "postA",
        "responses": {
            "200": {"description": "ok", "headers": {"X-Old": {"schema": {"type": "string"}}}},
            "404": {"description": "no"}
        },
        "callbacks": {"done": {"{$request.body#/url}": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"a": {"type": "string"}}}}}}, "responses": {"200": {"description": "ok"}}}}}}
    }}}});
    let mut new = old.clone();
    let a = &mut new["paths"]["/a"]["post"];
    a["security"] = json!([{"apikey": []}]);
    a["responses"]["200"]["headers"] = json!({"X-New": {"schema": {"type": "string"}}});
    a["responses"].as_object_mut().unwrap().remove("404");
    a["responses"]["201"] = json!({"description": "created"});
    a["callbacks"]["done"]["{$request.body#/url}"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("a");
    a["description"] = json!("now documented");
    let report = diff(&old, &new, &DiffOptions::default());
    let ids: Vec<&str> = report.changes.iter().map(|c| c.id).collect();
    for id in [
        "security-added",
        "response-header-removed",
        "response-header-added",
        "response-non-success-status-removed",
        "response-success-status-added",
        "property-removed",
        "documentation-changed",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert_eq!(find(&report, "security-added", "")[0].level, Level::Err);
    assert!(find(&report, "documentation-changed", "")[0].docs);
}

#[test]
fn filters_and_fail_levels() {
    let old = load("4.18.0");
    let new = load("5.6.1/openapi.json");
    let options = DiffOptions {
        paths: vec!["/yara/*".into()],
        operations: vec![],
    };
    let report = diff(&old, &new, &options);
    assert!(report.operations.iter().all(|o| o
        .new
        .iter()
        .chain(o.old.iter())
        .all(|x| x.path.starts_with("/yara/"))));
    assert_eq!(ops_of(&report, OperationChangeKind::Moved).len(), 1);
    for c in &report.changes {
        assert!(
            c.operations.iter().all(|o| o.path.starts_with("/yara/")),
            "{c:#?}"
        );
    }
    let by_method = diff(
        &old,
        &new,
        &DiffOptions {
            paths: vec![],
            operations: vec!["batch_cancel".into()],
        },
    );
    assert_eq!(by_method.operations.len(), 1);
    assert_eq!(by_method.operations[0].kind, OperationChangeKind::Moved);
}

#[test]
fn every_format_renders() {
    let report = diff(
        &load("4.18.0-initial"),
        &load("4.18.0"),
        &DiffOptions::default(),
    );
    let opts = RenderOptions { hide_docs: true };
    let json: Value = serde_json::from_str(&render(&report, Format::Json, &opts, None)).unwrap();
    assert!(json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["docs"] == false));
    assert_eq!(json["rust"]["bump"], "minor");
    let text = render(&report, Format::Text, &opts, Some("0.1.0"));
    assert!(text.contains("0.1.0 -> 0.2.0"), "{text}");
    let md = render(
        &report,
        Format::Markdown,
        &RenderOptions { hide_docs: false },
        None,
    );
    assert!(md.contains("<details>"), "{md}");
    let _ = write_tree;
}
