//! Rust SDK for the REST API of OPSWAT MetaDefender Core.
//!
//! [`Client`] has one method per operation of the pinned API description (generated at build
//! time, see `generated-client/` for its shape); [`ClientBuilder`] makes one with sensible
//! transfer settings and a credential that never prints.

#![deny(missing_docs)]

mod connect;
mod credentials;
#[cfg(feature = "conformance")]
#[doc(hidden)]
pub mod dispatch;
mod generated;
mod hooks;
mod server_error;

pub use connect::{BuildError, ClientBuilder, DEFAULT_URL};
pub use credentials::{ClientState, Secret};
pub use generated::{types, ByteStream, Client, ClientInfo, Error, ResponseValue};
pub use hooks::APIKEY_HEADER;
pub use server_error::ServerError;

/// Re-exported so that users name the same `reqwest` the client is built on.
pub use reqwest;

pub mod scan;
pub use scan::{ScanError, ScanReport, Scanner, Source, Verdict};
