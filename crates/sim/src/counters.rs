//! Request counters per route template, readable by tests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Live counters kept by the server.
#[derive(Debug, Default)]
pub(crate) struct CounterState {
    routes: Mutex<BTreeMap<String, u64>>,
    uploads: AtomicU64,
    callbacks: AtomicU64,
}

impl CounterState {
    pub(crate) fn hit(&self, key: String) {
        let mut m = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(key).or_insert(0) += 1;
    }
    pub(crate) fn upload(&self) {
        self.uploads.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn callback(&self) {
        self.callbacks.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn snapshot(&self) -> Counters {
        Counters {
            routes: self
                .routes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            uploads: self.uploads.load(Ordering::Relaxed),
            callbacks: self.callbacks.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of the counters.
///
/// Route keys are `"METHOD /template"` with the document's path templates,
/// e.g. `"GET /file/{data_id}"`; requests that match no route count under
/// `"UNMATCHED"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests per route template.
    pub routes: BTreeMap<String, u64>,
    /// Files accepted by `POST /file` and `POST /file/sync` (body fully stored).
    pub uploads: u64,
    /// Callback and sanitized-file delivery attempts made by the server.
    pub callbacks: u64,
}

impl Counters {
    /// Requests seen for a route template (0 when none).
    pub fn get(&self, route: &str) -> u64 {
        self.routes.get(route).copied().unwrap_or(0)
    }
    /// All requests counted.
    pub fn total(&self) -> u64 {
        self.routes.values().sum()
    }
}
