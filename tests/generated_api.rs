//! The generated client against the document it comes from: the review snapshot is fresh, and
//! every operation and every parameter of the document is reachable as a method and a setter.
//! Operations and parameters are read from the document itself, so a new version is covered
//! without editing this test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use heck::ToSnakeCase;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn snapshot_is_fresh() {
    let g = mdcore_codegen::generate_pinned(&root(), None).expect("generation works");
    for (rel, want) in [
        (mdcore_codegen::SNAPSHOT_PATH, g.snapshot()),
        (mdcore_codegen::REPORT_PATH, g.report_markdown()),
    ] {
        let have = std::fs::read_to_string(root().join(rel)).unwrap_or_default();
        assert!(
            have == want,
            "{rel} is stale: run `{}` and commit the result",
            mdcore_codegen::SNAPSHOT_COMMAND
        );
    }
}

#[test]
fn generation_is_deterministic() {
    let a = mdcore_codegen::generate_pinned(&root(), None).unwrap();
    let b = mdcore_codegen::generate_pinned(&root(), None).unwrap();
    assert_eq!(a.code(), b.code());
    assert_eq!(a.snapshot(), b.snapshot());
    assert_eq!(a.report_markdown(), b.report_markdown());
}

/// Methods of `impl Client` and the setters of each `builder::X`, read from the snapshot.
struct Api {
    methods: BTreeMap<String, String>,
    setters: BTreeMap<String, BTreeSet<String>>,
}

fn read_api(snapshot: &Path) -> Api {
    let text = std::fs::read_to_string(snapshot).unwrap();
    let file = syn::parse_file(&text).unwrap();
    let mut api = Api {
        methods: BTreeMap::new(),
        setters: BTreeMap::new(),
    };
    fn self_name(ty: &syn::Type) -> Option<String> {
        match ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        }
    }
    fn walk(items: &[syn::Item], in_builder: bool, api: &mut Api) {
        for item in items {
            match item {
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        walk(inner, m.ident == "builder", api);
                    }
                }
                syn::Item::Impl(imp) if imp.trait_.is_none() => {
                    let Some(name) = self_name(&imp.self_ty) else {
                        continue;
                    };
                    for it in &imp.items {
                        let syn::ImplItem::Fn(f) = it else { continue };
                        if !matches!(f.vis, syn::Visibility::Public(_)) {
                            continue;
                        }
                        if name == "Client" && !in_builder {
                            // Operations return `builder::X`; constructors return `Self`.
                            if let syn::ReturnType::Type(_, ty) = &f.sig.output {
                                let is_builder = matches!(&**ty, syn::Type::Path(p)
                                    if p.path.segments.first().is_some_and(|s| s.ident == "builder"));
                                if let Some(b) = self_name(ty).filter(|_| is_builder) {
                                    api.methods.insert(f.sig.ident.to_string(), b);
                                }
                            }
                        } else if in_builder {
                            api.setters
                                .entry(name.clone())
                                .or_default()
                                .insert(f.sig.ident.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // `types::builder` holds the struct builders; the operation builders are the top-level `builder`.
    for item in &file.items {
        if let syn::Item::Mod(m) = item {
            if m.ident == "types" {
                continue;
            }
        }
        walk(std::slice::from_ref(item), false, &mut api);
    }
    api
}

fn document() -> Value {
    let lock = mdcore_codegen::lock::Lock::load(&root()).unwrap();
    let (path, bytes) = lock.read_verified(&root()).unwrap();
    mdcore_codegen::document::parse(&path, &bytes).unwrap()
}

#[test]
fn every_operation_and_parameter_is_reachable() {
    let doc = document();
    let api = read_api(&root().join(mdcore_codegen::SNAPSHOT_PATH));
    let ops = mdcore_codegen::document::operations(&doc);
    assert_eq!(ops.len(), 72, "the pinned 5.6.1 document has 72 operations");
    let mut checked_params = 0;
    for op in &ops {
        let method = op.operation_id.to_snake_case();
        let builder = api
            .methods
            .get(&method)
            .unwrap_or_else(|| panic!("{}: no client method `{method}`", op.label()));
        let setters = api.setters.get(builder).cloned().unwrap_or_default();
        let node = doc.pointer(&op.pointer()).unwrap();
        let path_params = doc
            .pointer(&format!(
                "/paths/{}/parameters",
                mdcore_codegen::document::escape(&op.path)
            ))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let params = node
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for p in params.iter().chain(&path_params) {
            let p = mdcore_codegen::document::resolve(&doc, p).unwrap();
            let name = p["name"].as_str().unwrap();
            if p["in"] == "header" && name.eq_ignore_ascii_case(metadefender_core::APIKEY_HEADER) {
                // Set once on the client (rule `apikey-on-client`).
                continue;
            }
            let setter = name.to_snake_case();
            // Rust keywords get a trailing underscore (`type` → `type_`).
            assert!(
                setters.contains(&setter) || setters.contains(&format!("{setter}_")),
                "{}: parameter `{name}` has no setter `{setter}` on builder::{builder} ({setters:?})",
                op.label()
            );
            checked_params += 1;
        }
        if node.get("requestBody").is_some() {
            assert!(
                setters.contains("body"),
                "{}: request body has no `body` setter",
                op.label()
            );
        }
        assert!(
            setters.contains("send"),
            "{}: builder::{builder} cannot send",
            op.label()
        );
    }
    assert_eq!(
        api.methods.len(),
        ops.len(),
        "one client method per operation, no more"
    );
    // Rule `evidence:engine-config-put-body`: the document gives this PUT no body.
    let put = &api.setters[&api.methods["engine_config_put"]];
    assert!(
        put.contains("body"),
        "PUT /admin/engine/{{engineId}}/config sends the configuration"
    );
    assert!(
        checked_params > 60,
        "only {checked_params} parameters checked"
    );
}

/// The `send` return type of each operation builder, spaces removed.
fn send_types(snapshot: &Path) -> BTreeMap<String, String> {
    let file = syn::parse_file(&std::fs::read_to_string(snapshot).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for item in &file.items {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "builder" {
            continue;
        }
        for item in m.content.iter().flat_map(|(_, items)| items) {
            let syn::Item::Impl(imp) = item else { continue };
            let syn::Type::Path(p) = &*imp.self_ty else {
                continue;
            };
            let name = p.path.segments.last().unwrap().ident.to_string();
            for it in &imp.items {
                if let syn::ImplItem::Fn(f) = it {
                    if f.sig.ident == "send" {
                        let syn::ReturnType::Type(_, ty) = &f.sig.output else {
                            continue;
                        };
                        let text = quote_type(ty);
                        out.insert(name.clone(), text);
                    }
                }
            }
        }
    }
    out
}

fn quote_type(ty: &syn::Type) -> String {
    use syn::__private::ToTokens;
    ty.to_token_stream()
        .to_string()
        .replace(' ', "")
        .replace(",>", ">")
}

#[test]
fn success_and_error_types_follow_the_repaired_document() {
    let g = mdcore_codegen::generate_pinned(&root(), None).unwrap();
    let doc = g.document();
    let snapshot = root().join(mdcore_codegen::SNAPSHOT_PATH);
    let api = read_api(&snapshot);
    let sends = send_types(&snapshot);
    for op in mdcore_codegen::document::operations(doc) {
        let builder = &api.methods[&op.operation_id.to_snake_case()];
        let got = &sends[builder];
        let mut success = None;
        let mut has_error = false;
        for (status, pointer) in mdcore_codegen::document::responses(doc, &op) {
            let resp =
                mdcore_codegen::document::resolve(doc, doc.pointer(&pointer).unwrap()).unwrap();
            if mdcore_codegen::document::is_error_status(&status) {
                has_error = true;
                continue;
            }
            let content = resp.get("content").and_then(Value::as_object);
            let ty = match content.and_then(|c| c.get("application/json")) {
                Some(mt) => {
                    let name = mdcore_codegen::document::ref_name(&mt["schema"])
                        .expect("success schemas are named");
                    format!(
                        "types::{}",
                        heck::ToUpperCamelCase::to_upper_camel_case(name)
                    )
                }
                None if content.is_some_and(|c| !c.is_empty()) => "ByteStream".to_string(),
                None => "()".to_string(),
            };
            success = Some(ty);
        }
        let success = success.unwrap_or_else(|| panic!("{}: no success response", op.label()));
        let error = if has_error {
            "Error<crate::ServerError>"
        } else {
            "Error<()>"
        };
        let want = format!("Result<ResponseValue<{success}>,{error}>");
        assert_eq!(got, &want, "{}: builder::{builder}::send", op.label());
    }
}
