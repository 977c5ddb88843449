//! Loads the pinned MetaDefender Core OpenAPI document, repairs its defects with named
//! rewrite rules, validates what progenitor would get wrong, and generates the client.
//! Shared by the client's `build.rs` and by `cargo xtask`.

mod error;
pub mod lock;

pub use error::Error;
