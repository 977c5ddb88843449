//! Generates a dispatcher that calls any operation of the generated client by its operationId,
//! with arguments given as JSON. Conformance tests use it to call every operation of a document
//! without a hand-written list: adding an operation to the document adds it to the dispatcher.
//!
//! The dispatcher is derived from two sources that must agree: the repaired document (which
//! operations and parameters exist, and where each parameter goes) and the client code
//! progenitor generated from it (the Rust name and type each builder setter takes). A
//! parameter the document has but the builder lacks is an error at build time, not a silently
//! skipped argument.
//!
//! The generated code expects, in the module it is included in: `Client` and `types` of the
//! client crate, and the helpers `Operation`, `Param`, `Location`, `CallOutcome`,
//! `DispatchError`, `operation`, `check_args`, `arg`, `body_arg`, `decode`, `binary` and
//! `outcome` (see the client crate's `src/dispatch.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::document::{self, OpRef};
use crate::report::Report;
use crate::rules::EvidenceRules;
use crate::Error;

/// The document the client is generated from, after the rewrite rules: the pinned one
/// (checked against its sha256) or `override_path` as is, as [`crate::generate_pinned`] reads it.
pub fn repaired_document(root: &Path, override_path: Option<&Path>) -> Result<Value, Error> {
    let (path, bytes, _) = crate::read_pinned(root, override_path)?;
    let (doc, _) = crate::repair(
        &path,
        &bytes,
        EvidenceRules::load(root)?,
        &mut Report::default(),
    )?;
    Ok(doc)
}

/// Where a parameter goes; mirrors OpenAPI's `in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "path" => Self::Path,
            "query" => Self::Query,
            "header" => Self::Header,
            "cookie" => Self::Cookie,
            _ => return None,
        })
    }
    fn variant(self) -> TokenStream {
        match self {
            Self::Path => quote!(Location::Path),
            Self::Query => quote!(Location::Query),
            Self::Header => quote!(Location::Header),
            Self::Cookie => quote!(Location::Cookie),
        }
    }
}

/// The setters of one builder: Rust name → the type its `TryInto<T>` bound names.
type Setters = BTreeMap<String, syn::Type>;

/// Generates the dispatcher from a repaired document and the client code generated from it.
pub fn generate(doc: &Value, client_code: &str) -> Result<String, Error> {
    let file = syn::parse_file(client_code)
        .map_err(|e| Error::Generate(format!("dispatch: the client code does not parse: {e}")))?;
    let methods = client_methods(&file);
    let builders = builder_setters(&file);

    let mut table = Vec::new();
    let mut arms = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for op in document::operations(doc) {
        let fail =
            |message: String| Error::Generate(format!("dispatch: {}: {message}", op.label()));
        if op.operation_id.is_empty() {
            return Err(fail("no operationId, so no client method to call".into()));
        }
        if !seen.insert(op.operation_id.clone()) {
            return Err(fail(format!(
                "operationId `{}` is not unique",
                op.operation_id
            )));
        }
        let method = snake_ident(&op.operation_id);
        let builder = methods.get(&method).ok_or_else(|| {
            fail(format!(
                "the client has no method `{method}` for operationId `{}`",
                op.operation_id
            ))
        })?;
        let setters = builders
            .get(builder)
            .ok_or_else(|| fail(format!("the client has no builder `{builder}`")))?;
        let params = parameters(doc, &op).map_err(&fail)?;
        let body = body_content_type(doc, &op);

        let mut entries = Vec::new();
        let mut sets = Vec::new();
        for (location, name) in &params {
            let setter = snake_ident(name);
            let ty = setters.get(&setter).ok_or_else(|| {
                fail(format!(
                    "the builder `{builder}` has no setter `{setter}` for the {location:?} parameter `{name}`"
                ))
            })?;
            let loc = location.variant();
            let setter = format_ident!("{}", setter);
            entries.push(quote!(Param { location: #loc, name: #name }));
            sets.push(quote! {
                if let Some(v) = arg(args, #loc, #name) {
                    b = b.#setter(decode::<#ty>(op, #loc, #name, v)?);
                }
            });
        }
        let body_entry = match &body {
            Some(ct) => {
                let ty = setters
                    .get("body")
                    .ok_or_else(|| fail(format!("the builder `{builder}` has no `body` setter")))?;
                let convert = if is_reqwest_body(ty) {
                    quote!(binary(op, v)?)
                } else {
                    quote!(decode::<#ty>(op, Location::Body, "body", v)?)
                };
                sets.push(quote! {
                    if let Some(v) = body_arg(args) {
                        b = b.body(#convert);
                    }
                });
                quote!(Some(#ct))
            }
            None => quote!(None),
        };
        let id = &op.operation_id;
        let http = op.method.to_uppercase();
        let path = &op.path;
        table.push(quote! {
            Operation {
                operation_id: #id,
                method: #http,
                path: #path,
                params: &[#(#entries),*],
                body: #body_entry,
            }
        });
        let method = format_ident!("{}", method);
        arms.push(quote! {
            #id => {
                #[allow(unused_mut)]
                let mut b = client.#method();
                #(#sets)*
                Ok(outcome(b.send().await))
            }
        });
    }

    let count = table.len();
    let tokens = quote! {
        /// Every operation of the repaired document, in document order: what
        /// [`call_operation`] accepts.
        pub const OPERATIONS: [Operation; #count] = [#(#table),*];

        /// Calls the operation `operation_id` with the arguments in `args`
        /// (`{"path": {..}, "query": {..}, "header": {..}, "cookie": {..}, "body": ..}`, keyed by
        /// the document's parameter names). Each argument is converted into the type the
        /// builder takes; an argument the operation does not have is an error.
        pub async fn call_operation(
            client: &Client,
            operation_id: &str,
            args: &::serde_json::Value,
        ) -> Result<CallOutcome, DispatchError> {
            let op = operation(operation_id)?;
            check_args(op, args)?;
            match operation_id {
                #(#arms)*
                _ => Err(DispatchError::UnknownOperation(operation_id.to_string())),
            }
        }
    };
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| Error::Generate(format!("dispatch: generated code does not parse: {e}")))?;
    Ok(format!(
        "// @generated by mdcore-codegen (dispatch) from the repaired document; do not edit.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// The parameters of an operation (path-item ones included, the operation's overriding
/// them), as (location, name), in document order.
fn parameters(doc: &Value, op: &OpRef) -> Result<Vec<(Location, String)>, String> {
    let item = format!("/paths/{}", document::escape(&op.path));
    let mut out: Vec<(Location, String)> = Vec::new();
    for base in [
        format!("{item}/parameters"),
        format!("{}/parameters", op.pointer()),
    ] {
        let Some(list) = doc.pointer(&base).and_then(Value::as_array) else {
            continue;
        };
        for p in list {
            let p = document::resolve(doc, p)
                .ok_or_else(|| format!("a parameter in {base} has a dangling $ref"))?;
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("a parameter in {base} has no name"))?;
            let loc = p.get("in").and_then(Value::as_str).unwrap_or_default();
            let location = Location::parse(loc)
                .ok_or_else(|| format!("parameter `{name}` has an unknown location `{loc}`"))?;
            out.retain(|(l, n)| !(*l == location && n == name));
            out.push((location, name.to_string()));
        }
    }
    Ok(out)
}

/// The content type of the request body progenitor uses (the first one), if there is a body.
fn body_content_type(doc: &Value, op: &OpRef) -> Option<String> {
    let node = doc.pointer(&format!("{}/requestBody", op.pointer()))?;
    let body = document::resolve(doc, node)?;
    let content = body.get("content")?.as_object()?;
    content.keys().next().cloned()
}

fn is_reqwest_body(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else {
        return false;
    };
    let names: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    names == ["reqwest", "Body"]
}

/// `impl Client { pub fn op(&self) -> builder::Op<'_> }`: method name → builder struct name.
fn client_methods(file: &syn::File) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() || !type_is(&imp.self_ty, "Client") {
            continue;
        }
        for it in &imp.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            let syn::ReturnType::Type(_, ty) = &f.sig.output else {
                continue;
            };
            let syn::Type::Path(p) = ty.as_ref() else {
                continue;
            };
            let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
            if segs.len() == 2 && segs[0].ident == "builder" {
                out.insert(f.sig.ident.to_string(), segs[1].ident.to_string());
            }
        }
    }
    out
}

/// The setters of every operation builder in `pub mod builder`.
fn builder_setters(file: &syn::File) -> BTreeMap<String, Setters> {
    let mut out: BTreeMap<String, Setters> = BTreeMap::new();
    let Some(items) = file.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref().map(|(_, i)| i),
        _ => None,
    }) else {
        return out;
    };
    for item in items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        let syn::Type::Path(p) = imp.self_ty.as_ref() else {
            continue;
        };
        let Some(name) = p.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        let setters = out.entry(name).or_default();
        for it in &imp.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            if let Some(ty) = try_into_bound(&f.sig) {
                setters.insert(f.sig.ident.to_string(), ty);
            }
        }
    }
    out
}

/// `T` of a `where V: std::convert::TryInto<T>` (or inline) bound on the method's one generic.
fn try_into_bound(sig: &syn::Signature) -> Option<syn::Type> {
    let bounds = sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(t.bounds.iter().collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .chain(
            sig.generics
                .where_clause
                .iter()
                .flat_map(|w| w.predicates.iter())
                .filter_map(|p| match p {
                    syn::WherePredicate::Type(t) => Some(t.bounds.iter()),
                    _ => None,
                })
                .flatten(),
        );
    for bound in bounds {
        let syn::TypeParamBound::Trait(t) = bound else {
            continue;
        };
        let Some(last) = t.path.segments.last() else {
            continue;
        };
        if last.ident != "TryInto" {
            continue;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            continue;
        };
        if let Some(syn::GenericArgument::Type(ty)) = args.args.first() {
            return Some(ty.clone());
        }
    }
    None
}

fn type_is(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}

/// The identifier progenitor derives from a name: snake case, characters that cannot be in an
/// identifier turned into word breaks, a leading `_` when it would start with a digit, a
/// trailing `_` for keywords.
pub fn snake_ident(name: &str) -> String {
    use heck::ToSnakeCase;
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut out = cleaned.to_snake_case();
    match out.chars().next() {
        None => out = "x".into(),
        Some(c) if c.is_alphabetic() || c == '_' => {}
        Some(_) => out = format!("_{out}"),
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Words that cannot be identifiers (the Rust reference's keyword list, plus `gen`).
const KEYWORDS: [&str; 53] = [
    "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "Self", "self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_progenitor() {
        assert_eq!(snake_ident("fileAnalysisPost"), "file_analysis_post");
        assert_eq!(snake_ident("engines-metadata"), "engines_metadata");
        assert_eq!(snake_ident("engineId"), "engine_id");
        assert_eq!(snake_ident("type"), "type_");
        assert_eq!(snake_ident("user_agent"), "user_agent");
        assert_eq!(snake_ident("1st"), "_1st");
    }

    const CLIENT: &str = r#"
        pub struct Client;
        impl Client {
            pub fn engine_pin(&self) -> builder::EnginePin<'_> { builder::EnginePin::new(self) }
        }
        pub mod builder {
            pub struct EnginePin<'a> { client: &'a super::Client }
            impl<'a> EnginePin<'a> {
                pub fn engine_id<V>(mut self, value: V) -> Self
                where V: std::convert::TryInto<::std::string::String> { self }
                pub fn type_<V>(mut self, value: V) -> Self
                where V: std::convert::TryInto<::std::string::String> { self }
                pub async fn send(self) {}
            }
        }
    "#;

    fn doc(params: Value) -> Value {
        serde_json::json!({
            "openapi": "3.0.0",
            "paths": {"/admin/engine/{engineId}/pin": {"post": {
                "operationId": "enginePin",
                "parameters": params,
                "responses": {}
            }}}
        })
    }

    #[test]
    fn one_arm_per_operation_with_every_parameter() {
        let d = doc(serde_json::json!([
            {"name": "engineId", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "type", "in": "header", "schema": {"type": "string"}}
        ]));
        let code = generate(&d, CLIENT).unwrap();
        let flat: String = code.split_whitespace().collect();
        assert!(flat.contains("\"enginePin\"=>"), "{code}");
        assert!(
            flat.contains("b.engine_id(decode::<::std::string::String"),
            "{code}"
        );
        assert!(flat.contains("(op,Location::Header,\"type\",v)"), "{code}");
        assert!(
            flat.contains("b.type_(decode::<::std::string::String"),
            "{code}"
        );
        assert!(flat.contains("OPERATIONS:[Operation;1usize]"), "{code}");
    }

    #[test]
    fn a_parameter_the_builder_lacks_is_an_error() {
        let d = doc(serde_json::json!([
            {"name": "engineId", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "rule", "in": "header", "schema": {"type": "string"}}
        ]));
        let err = generate(&d, CLIENT).unwrap_err().to_string();
        assert!(
            err.contains("POST /admin/engine/{engineId}/pin") && err.contains("`rule`"),
            "{err}"
        );
    }

    #[test]
    fn an_operation_the_client_lacks_is_an_error() {
        let mut d = doc(serde_json::json!([]));
        d["paths"]["/x"] = serde_json::json!({"get": {"operationId": "getX", "responses": {}}});
        let err = generate(&d, CLIENT).unwrap_err().to_string();
        assert!(err.contains("get_x"), "{err}");
    }
}
