//! Maintenance of the MetaDefender Core OpenAPI document: loading JSON or YAML, fetching
//! over HTTP within bounds, bundling multi-file trees into one document, validating it with
//! openapiv3, writing it deterministically, and diffing two versions with compatibility
//! levels and the impact on the generated Rust client.

pub mod bundle;
pub mod diff;
pub mod error;
pub mod fetch;
pub mod format;
pub mod render;
pub mod source;
pub mod validate;
pub mod write;

pub use bundle::{bundle, Bundle, BundleOptions};
pub use error::{Error, Result};
pub use fetch::Limits;
pub use source::Location;
