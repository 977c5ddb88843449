//! The shared state behind every handler.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use crate::config::{SimConfig, UserAccount};
use crate::counters::CounterState;
use crate::detect::Patterns;
use crate::faults::Faults;
use crate::store::Store;

/// Run-time state of one engine (admin operations change it).
#[derive(Debug, Clone)]
pub(crate) struct EngineState {
    pub name: String,
    pub enabled: bool,
    pub pinned_engine: bool,
    pub pinned_database: bool,
    pub config: Value,
}

/// Everything the admin operations keep.
#[derive(Debug)]
pub(crate) struct AdminState {
    /// Config documents keyed by their path below `/admin/config/`.
    pub configs: BTreeMap<&'static str, Value>,
    pub engines: BTreeMap<String, EngineState>,
    pub users: Vec<UserAccount>,
    pub roles: Vec<Value>,
    pub license: Value,
    pub license_backup: bool,
    pub yara_generated: Option<SystemTime>,
}

impl AdminState {
    pub(crate) fn new(cfg: &SimConfig) -> Self {
        let session_ms = cfg
            .auth
            .as_ref()
            .map(|a| a.session_timeout.as_millis() as u64)
            .unwrap_or(300_000);
        let mut configs = BTreeMap::new();
        configs.insert("auditlog", json!({ "cleanuprange": 168 }));
        configs.insert("quarantine", json!({ "cleanuprange": 336 }));
        configs.insert("sanitize", json!({ "maxage": 24 }));
        configs.insert("scanhistory", json!({ "cleanuprange": 168 }));
        configs.insert(
            "session",
            json!({
                "absoluteSessionTimeout": 0,
                "allowCrossIpSessions": true,
                "allowDuplicateSession": true,
                "sessionTimeout": session_ms,
            }),
        );
        configs.insert(
            "update",
            json!({
                "autoupdateperiod": 60,
                "deleteafterimport": false,
                "disabledupdate": [],
                "pickupfolder": "",
                "source": "manual",
            }),
        );
        configs.insert(
            "skip",
            json!({ "blacklist": {}, "skip": {}, "whitelist": {} }),
        );
        configs.insert(
            "webhook",
            json!({
                "maxretrytime": 3,
                "delayduration": 1000,
                "delayprogression": 1000,
                "requestqueue": 100,
                "transfertimeout": 30,
                "workercount": 4,
            }),
        );
        configs.insert(
            "proxy",
            json!({ "enabled": false, "exclusion": "", "port": "", "server": "", "username": "", "feature_proxy": [] }),
        );
        configs.insert(
            "file/sync",
            json!({ "timeout": cfg.sync_timeout.as_secs_f64() / 60.0 }),
        );
        configs.insert("sessioncookie", json!({ "samesite": 1 }));
        configs.insert(
            "customresponseheader",
            json!({
                "include_address": { "enabled": false, "address_str": "" },
                "include_deployment_id": false,
                "specify_users_agent": { "enabled": false, "allowed_users_agent": [] },
                "authorized_only": false,
            }),
        );
        configs.insert(
            "healthcheck",
            json!({
                "database": true,
                "enable_feature": true,
                "license": true,
                "number_active_av_engines": 1,
                "scan_queue": 100,
                "engines": [],
                "required_engines": [],
            }),
        );
        configs.insert(
            "yara/sources",
            json!({ "local_sources": [], "http_sources": [] }),
        );
        let engines = cfg
            .engines
            .iter()
            .map(|name| {
                (
                    crate::report::engine_id(name),
                    EngineState {
                        name: name.clone(),
                        enabled: true,
                        pinned_engine: false,
                        pinned_database: false,
                        config: json!({ "timeout": 30, "heuristic": true }),
                    },
                )
            })
            .collect();
        Self {
            configs,
            engines,
            users: cfg
                .auth
                .as_ref()
                .map(|a| a.users.clone())
                .unwrap_or_default(),
            roles: Vec::new(),
            license: json!({
                "days_left": 365,
                "deployment": "MSCL-SIMULATOR",
                "expiration": "2099-12-31",
                "licensed_engines": cfg.engines.clone(),
                "max_node_count": "1",
                "online_activated": true,
                "product_id": "MSCL",
                "product_name": "MetaDefender Core Simulator",
            }),
            license_backup: false,
            yara_generated: None,
        }
    }

    pub(crate) fn number(&self, config: &str, key: &str, default: f64) -> f64 {
        self.configs
            .get(config)
            .and_then(|c| c.get(key))
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite() && *v >= 0.0)
            .unwrap_or(default)
    }

    /// Names of the engines a new upload is scanned with.
    pub(crate) fn active_engines(&self) -> Vec<String> {
        self.engines
            .values()
            .filter(|e| e.enabled)
            .map(|e| e.name.clone())
            .collect()
    }
}

pub(crate) struct App {
    pub cfg: SimConfig,
    pub patterns: Patterns,
    pub dir: PathBuf,
    pub store: Mutex<Store>,
    pub admin: Mutex<AdminState>,
    pub counters: CounterState,
    pub faults: Faults,
    pub http: reqwest::Client,
    pub started: Instant,
    pub started_wall: SystemTime,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

impl App {
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn admin(&self) -> MutexGuard<'_, AdminState> {
        self.admin.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn sync_timeout(&self) -> Duration {
        let minutes = self.admin().number("file/sync", "timeout", 5.0);
        Duration::from_secs_f64((minutes * 60.0).min(86_400.0))
    }
    pub(crate) fn session_timeout(&self) -> Duration {
        Duration::from_millis(self.admin().number("session", "sessionTimeout", 300_000.0) as u64)
    }
}
