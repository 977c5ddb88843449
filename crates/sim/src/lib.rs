//! A stateful MetaDefender Core simulator.
//!
//! It answers the 72 operations of the MetaDefender Core 5.6.1 REST API the
//! way a server does over time: uploads are stored on disk, queued, scanned by
//! several simulated engines, post-processed and finished, with verdicts taken
//! from the content (the EICAR test string is Infected, configured patterns are
//! Suspicious). Zip archives are unpacked into child files, a sanitizing rule
//! produces converted files, callbacks are delivered, and fault knobs let tests
//! inject latency, 503 bursts, connection resets and not-found lag.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mdcore_sim::SimError> {
//! let sim = mdcore_sim::Simulator::start(mdcore_sim::SimConfig::default()).await?;
//! println!("MetaDefender Core simulator at {}", sim.url());
//! sim.faults().fail_next_with_503(2);
//! // ... run a client against sim.url() ...
//! assert_eq!(sim.counters().get("GET /file/{data_id}"), 0);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! See `docs/simulator.md` in the repository for the behaviour in detail.

mod api;
mod archive;
mod callbacks;
mod config;
mod counters;
mod detect;
mod faults;
mod pdf;
mod report;
mod server;
mod state;
mod store;
mod util;

pub use config::{
    ArchiveLimits, AuthConfig, NotFoundStyle, RuleConfig, SimConfig, UserAccount, RULE_MULTISCAN,
    RULE_SANITIZE,
};
pub use counters::Counters;
pub use detect::{eicar_test_bytes, EICAR_THREAT, SUSPICIOUS_THREAT};
pub use faults::Faults;
pub use server::{SimError, Simulator};
