//! Bundling the real 4.18.0 tree and malformed trees built in temporary folders.

mod common;

use std::path::Path;

use common::{shared, write_tree};
use mdcore_spec::{bundle, format, validate, BundleOptions, Error, Limits, Location};
use serde_json::Value;

fn bundle_dir(dir: &Path) -> mdcore_spec::Result<mdcore_spec::Bundle> {
    let loc = Location::from_arg(dir.to_str().unwrap(), Path::new("/"))?;
    bundle(&loc, &BundleOptions::default())
}

fn all_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|c| all_refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| all_refs(c, out)),
        _ => {}
    }
}

#[test]
fn bundles_4_18_0_into_a_self_contained_valid_document() {
    let b = bundle_dir(&shared("openapi/metadefender-core/4.18.0")).unwrap();
    let doc = &b.document;
    let api = validate::validate(doc, "4.18.0").unwrap();
    let ops: usize = api
        .paths
        .paths
        .values()
        .map(|p| p.as_item().unwrap().iter().count())
        .sum();
    assert_eq!(ops, 41);
    let mut refs = Vec::new();
    all_refs(doc, &mut refs);
    assert!(refs.len() > 200, "{} refs", refs.len());
    for r in &refs {
        assert!(r.starts_with("#/components/"), "external ref left: {r}");
        assert!(doc.pointer(&r[1..]).is_some(), "dangling ref {r}");
    }
    // Named from the file names, as the tags' <SchemaDefinition> links expect.
    for name in ["AnalysisResult", "BatchResponse", "FileInformation"] {
        assert!(doc["components"]["schemas"].get(name).is_some(), "{name}");
    }
    assert!(doc["components"]["parameters"].get("apikey").is_some());
    // Code samples referenced from an extension are inlined as text.
    let sample = &doc["paths"]["/file"]["post"]["x-code-samples"][0]["source"];
    assert!(
        sample.as_str().is_some_and(|s| s.contains("curl")),
        "{sample}"
    );
    assert!(doc["components"]["responses"].get("Error500").is_some());
    // Path items are inlined: the twin cancel paths both keep their own operation.
    assert_eq!(
        doc["paths"]["/file/{batchId}/cancel"]["post"]["operationId"],
        "batchCancel"
    );
    assert_eq!(
        doc["paths"]["/file/{data_id}/cancel"]["post"]["operationId"],
        "fileAnalysisCancel"
    );
}

#[test]
fn bundling_is_byte_identical_on_rerun() {
    let dir = shared("openapi/metadefender-core/4.18.0");
    let a = format::to_canonical_json(&bundle_dir(&dir).unwrap().document);
    let b = format::to_canonical_json(&bundle_dir(&dir).unwrap().document);
    assert_eq!(a, b);
}

#[test]
fn single_upstream_json_round_trips_byte_for_byte() {
    let path = shared("openapi/metadefender-core/5.6.1/openapi.json");
    let original = std::fs::read(&path).unwrap();
    let b = bundle(&Location::File(path), &BundleOptions::default()).unwrap();
    assert_eq!(b.sources.len(), 1);
    let written = format::to_canonical_json(&b.document);
    assert!(
        written == original,
        "the canonical form differs from upstream"
    );
    assert_eq!(
        mdcore_spec::write::sha256_hex(&written),
        "c6ebc0b4328eae98b8b4f99f1eaa869bb1f3d5336f2d85b3d75875c9b61d6823"
    );
}

const ROOT: &str =
    "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: paths/a.yaml\n";

fn path_a(schema_ref: &str) -> String {
    format!("get:\n  operationId: getA\n  responses:\n    '200':\n      description: ok\n      content:\n        application/json:\n          schema:\n            $ref: '{schema_ref}'\n")
}

#[test]
fn missing_file_is_named_with_its_referrer() {
    let t = write_tree(&[
        ("openapi.yaml", ROOT),
        ("paths/a.yaml", &path_a("../schemas/Gone.yaml")),
    ]);
    let err = bundle_dir(t.path()).unwrap_err();
    assert!(matches!(err, Error::MissingFile { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("schemas/Gone.yaml"), "{msg}");
    assert!(msg.contains("paths/a.yaml#/get/responses/200"), "{msg}");
}

#[test]
fn reference_cycle_without_content_is_refused_with_its_chain() {
    let t = write_tree(&[
        ("openapi.yaml", ROOT),
        ("paths/a.yaml", &path_a("../schemas/A.yaml")),
        ("schemas/A.yaml", "$ref: ./B.yaml\n"),
        ("schemas/B.yaml", "$ref: ./A.yaml\n"),
    ]);
    let err = bundle_dir(t.path()).unwrap_err();
    let Error::Cycle { chain } = &err else {
        panic!("expected a cycle, got {err}")
    };
    let text = chain.join(" ");
    assert!(text.contains("/components/schemas/A"), "{text}");
    assert!(text.contains("/components/schemas/B"), "{text}");
}

#[test]
fn path_item_including_itself_is_a_cycle() {
    let t = write_tree(&[
        ("openapi.yaml", ROOT),
        ("paths/a.yaml", "$ref: ./b.yaml\n"),
        ("paths/b.yaml", "$ref: ./a.yaml\n"),
    ]);
    let err = bundle_dir(t.path()).unwrap_err();
    let Error::Cycle { chain } = &err else {
        panic!("expected a cycle, got {err}")
    };
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert!(chain[0].contains("openapi.yaml#/paths/~1a"), "{chain:?}");
}

#[test]
fn recursive_schema_through_files_is_bundled() {
    let t = write_tree(&[
        ("openapi.yaml", ROOT),
        ("paths/a.yaml", &path_a("../schemas/Node.yaml")),
        (
            "schemas/Node.yaml",
            "type: object\nproperties:\n  children:\n    type: array\n    items:\n      $ref: ./Node.yaml\n",
        ),
    ]);
    let b = bundle_dir(t.path()).unwrap();
    assert_eq!(
        b.document["components"]["schemas"]["Node"]["properties"]["children"]["items"]["$ref"],
        "#/components/schemas/Node"
    );
}

#[test]
fn reference_escaping_the_root_folder_is_refused() {
    let t = write_tree(&[
        ("spec/openapi.yaml", ROOT),
        ("spec/paths/a.yaml", &path_a("../../outside.yaml")),
        ("outside.yaml", "type: string\n"),
    ]);
    let err = bundle_dir(&t.path().join("spec")).unwrap_err();
    assert!(matches!(err, Error::EscapesRoot { .. }), "{err}");
    assert!(err.to_string().contains("../../outside.yaml"), "{err}");
}

#[cfg(unix)]
#[test]
fn symlink_leading_out_of_the_root_is_refused() {
    let t = write_tree(&[
        ("spec/openapi.yaml", ROOT),
        ("spec/paths/a.yaml", &path_a("../schemas/link.yaml")),
        ("outside.yaml", "type: string\n"),
    ]);
    std::fs::create_dir_all(t.path().join("spec/schemas")).unwrap();
    std::os::unix::fs::symlink(
        t.path().join("outside.yaml"),
        t.path().join("spec/schemas/link.yaml"),
    )
    .unwrap();
    let err = bundle_dir(&t.path().join("spec")).unwrap_err();
    assert!(matches!(err, Error::EscapesRoot { .. }), "{err}");
}

#[test]
fn invalid_yaml_names_the_file_and_line() {
    let t = write_tree(&[
        ("openapi.yaml", ROOT),
        (
            "paths/a.yaml",
            "get:\n  operationId: [unclosed\n  responses: {}\n",
        ),
    ]);
    let err = bundle_dir(t.path()).unwrap_err();
    let Error::Parse {
        location, message, ..
    } = &err
    else {
        panic!("expected a parse error, got {err}")
    };
    assert!(location.ends_with("paths/a.yaml"), "{location}");
    assert!(message.contains("line"), "{message}");
}

#[test]
fn huge_file_is_refused_before_reading() {
    let t = write_tree(&[
        ("openapi.yaml", ROOT),
        ("paths/a.yaml", &path_a("../schemas/Huge.yaml")),
    ]);
    std::fs::create_dir_all(t.path().join("schemas")).unwrap();
    // Sparse: a gigabyte on paper, nothing on disk; reading it would take seconds and memory.
    let f = std::fs::File::create(t.path().join("schemas/Huge.yaml")).unwrap();
    f.set_len(1 << 30).unwrap();
    let start = std::time::Instant::now();
    let err = bundle_dir(t.path()).unwrap_err();
    assert!(start.elapsed().as_secs() < 2);
    let Error::TooLarge { size, limit, .. } = err else {
        panic!("expected TooLarge, got {err}")
    };
    assert_eq!(size, 1 << 30);
    assert_eq!(limit, Limits::default().max_file_bytes);
}

#[test]
fn yaml_alias_bomb_is_refused() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    let names: Vec<char> = "bcdefghij".chars().collect();
    let mut prev = 'a';
    for n in names {
        bomb.push_str(&format!(
            "{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
        prev = n;
    }
    let err = format::parse("bomb.yaml", bomb.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err}");
}

#[test]
fn remote_refs_are_refused_unless_allowed() {
    let t = write_tree(&[
        ("openapi.yaml", ROOT),
        ("paths/a.yaml", &path_a("http://127.0.0.1:9/x.yaml")),
    ]);
    let err = bundle_dir(t.path()).unwrap_err();
    assert!(matches!(err, Error::RemoteRefRefused { .. }), "{err}");
}

#[test]
fn pointer_into_a_file_is_hoisted_under_its_last_segment() {
    let t = write_tree(&[
        ("openapi.yaml", ROOT),
        (
            "paths/a.yaml",
            &path_a("../common.yaml#/components/schemas/Thing"),
        ),
        (
            "common.yaml",
            "components:\n  schemas:\n    Thing:\n      type: object\n      properties:\n        other: {$ref: '#/components/schemas/Other'}\n    Other: {type: string}\n",
        ),
    ]);
    let doc = bundle_dir(t.path()).unwrap().document;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Thing"]["properties"]["other"]["$ref"],
        "#/components/schemas/Other"
    );
    assert_eq!(schemas["Other"]["type"], "string");
}

#[test]
fn missing_pointer_is_reported() {
    let t = write_tree(&[
        ("openapi.yaml", ROOT),
        ("paths/a.yaml", &path_a("../common.yaml#/nope")),
        ("common.yaml", "a: 1\n"),
    ]);
    let err = bundle_dir(t.path()).unwrap_err();
    assert!(matches!(err, Error::PointerNotFound { .. }), "{err}");
}

#[test]
fn hoisted_names_are_unique_and_valid_rust_identifiers() {
    let root = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: paths/a.yaml\n  /b:\n    $ref: paths/b.yaml\ncomponents:\n  schemas:\n    Pet: {type: string}\n";
    let t = write_tree(&[
        ("openapi.yaml", root),
        ("paths/a.yaml", &path_a("../v1/pet.yaml")),
        (
            "paths/b.yaml",
            &path_a("../v2/pet.yaml").replace("getA", "getB").replace(
                "'../v2/pet.yaml'",
                "'../v2/pet.yaml'\n        text/plain:\n          schema:\n            $ref: '../2xx result.yaml'",
            ),
        ),
        ("v1/pet.yaml", "type: integer\n"),
        ("v2/pet.yaml", "type: boolean\n"),
        ("2xx result.yaml", "type: number\n"),
    ]);
    let doc = bundle_dir(t.path()).unwrap().document;
    let names: Vec<&String> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(names, ["Pet", "pet-2", "pet-3", "schema_2xx_result"]);
}

#[test]
fn folder_without_root_document_is_refused() {
    let t = write_tree(&[("other.yaml", "a: 1\n")]);
    let err = bundle_dir(t.path()).unwrap_err();
    assert!(matches!(err, Error::NoRootDocument { .. }), "{err}");
}
