//! The client progenitor generates from the pinned document (see `build.rs`). Its shape is
//! reviewed in `generated-client/client.rs`; the hand-written layers build on it.

#![allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    unused_imports,
    unused_mut,
    dead_code,
    rustdoc::all,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags
)]

include!(concat!(env!("OUT_DIR"), "/client.rs"));
