//! From the repaired document to Rust: progenitor's settings, the Rust-level rules, and the
//! two renderings (the code compiled into the crate and the review snapshot).

use std::panic::{catch_unwind, AssertUnwindSafe};

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;
use serde_json::Value;

use crate::report::Report;
use crate::rules::SERVER_ERROR_SCHEMA;
use crate::rust_rules;
use crate::Error;

/// Rust paths the generated code refers to in the client crate.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Type of the shared error body (replaces the `ServerError` schema).
    pub server_error: String,
    /// The client's inner state, which holds the credential the hooks put on each request.
    pub inner: String,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            server_error: "crate::ServerError".into(),
            inner: "crate::ClientState".into(),
        }
    }
}

/// Generates the client from a repaired document. Returns the syntax tree before any rendering.
pub fn generate(doc: &Value, paths: &Paths, report: &mut Report) -> Result<syn::File, Error> {
    let spec: openapiv3::OpenAPI = serde_json::from_value(doc.clone()).map_err(|e| {
        Error::Generate(format!(
            "the repaired document is not valid OpenAPI 3.0: {e}"
        ))
    })?;
    let inner: proc_macro2::TokenStream = paths
        .inner
        .parse()
        .map_err(|e| Error::Generate(format!("bad inner type path {}: {e}", paths.inner)))?;

    let mut settings = GenerationSettings::default();
    settings
        // Builders: POST /file alone has 14 optional headers; positional arguments would be
        // long rows of `None`.
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        // Requests get the credential from our `ClientHooks` impl; forgetting it must not compile.
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote!(#inner))
        .with_replacement(
            SERVER_ERROR_SCHEMA,
            &paths.server_error,
            [TypeImpl::Display, TypeImpl::Default].into_iter(),
        )
        // Deterministic iteration and serialization of maps (engine names, ...).
        .with_map_type("::std::collections::BTreeMap")
        .with_derive("PartialEq");

    // progenitor reports several unsupported shapes with `todo!`/`assert!`; the validator should
    // have refused them, and a panic that slips through becomes an error, not a crashed build.
    let tokens = catch_unwind(AssertUnwindSafe(|| {
        let mut generator = Generator::new(&settings);
        generator.generate_tokens(&spec).map_err(|e| e.to_string())
    }))
    .map_err(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        Error::Generate(format!("progenitor panicked: {msg}"))
    })?
    .map_err(Error::Generate)?;

    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| Error::Generate(format!("generated code does not parse: {e}")))?;
    rust_rules::open_string_enums(&mut file, report);
    rust_rules::unknown_fields_default_empty(&mut file, report);
    Ok(file)
}

/// The code compiled into the crate: upstream descriptions kept as docs (never as doctests),
/// schema dumps removed.
pub fn render_code(file: &syn::File) -> String {
    let mut file = file.clone();
    rust_rules::strip_schema_dumps(&mut file);
    rust_rules::docs_without_doctests(&mut file);
    prettyplease::unparse(&file)
}

/// The review snapshot: the same code without any doc text, under a header.
pub fn render_snapshot(file: &syn::File, header: &str) -> String {
    let mut file = file.clone();
    rust_rules::strip_docs(&mut file);
    format!("{header}\n{}", prettyplease::unparse(&file))
}
