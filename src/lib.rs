//! Rust SDK for the REST API of OPSWAT MetaDefender Core.
