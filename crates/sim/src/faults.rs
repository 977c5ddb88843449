//! Fault knobs that tests turn at run time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct FaultState {
    latency: Mutex<Duration>,
    not_found_lag: Mutex<Duration>,
    fail_503: AtomicU64,
    fail_500: AtomicU64,
    resets: AtomicU64,
}

/// Handle on the fault knobs of a running simulator. Cheap to clone; changes
/// apply to requests that arrive afterwards.
#[derive(Debug, Clone)]
pub struct Faults(pub(crate) Arc<FaultState>);

fn take_one(a: &AtomicU64) -> bool {
    a.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Faults {
    /// Delay added before every routed request is handled.
    pub fn set_latency(&self, d: Duration) {
        *self.0.latency.lock().unwrap_or_else(|e| e.into_inner()) = d;
    }
    /// The next `n` routed requests get 503 `{"err":"Server is too busy. Try again later."}`.
    pub fn fail_next_with_503(&self, n: u64) {
        self.0.fail_503.store(n, Ordering::SeqCst);
    }
    /// The next `n` routed requests get 500 `{"err":"Failed to request scan. Try again later."}`.
    pub fn fail_next_with_500(&self, n: u64) {
        self.0.fail_500.store(n, Ordering::SeqCst);
    }
    /// The next `n` accepted connections are reset (TCP RST) after the first
    /// bytes of the request arrive, before any response byte.
    pub fn reset_next_connections(&self, n: u64) {
        self.0.resets.store(n, Ordering::SeqCst);
    }
    /// Files uploaded from now on answer not-found for this long after upload.
    pub fn set_not_found_lag(&self, d: Duration) {
        *self
            .0
            .not_found_lag
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = d;
    }
    /// Turns every knob back off.
    pub fn clear(&self) {
        self.set_latency(Duration::ZERO);
        self.set_not_found_lag(Duration::ZERO);
        self.fail_next_with_503(0);
        self.fail_next_with_500(0);
        self.reset_next_connections(0);
    }

    pub(crate) fn latency(&self) -> Duration {
        *self.0.latency.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn not_found_lag(&self) -> Duration {
        *self
            .0
            .not_found_lag
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn take_503(&self) -> bool {
        take_one(&self.0.fail_503)
    }
    pub(crate) fn take_500(&self) -> bool {
        take_one(&self.0.fail_500)
    }
    pub(crate) fn take_reset(&self) -> bool {
        take_one(&self.0.resets)
    }
}
