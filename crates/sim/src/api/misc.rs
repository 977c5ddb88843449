//! Product information and statistics: version, rules, readiness, engines, nodes.

use std::time::{Instant, SystemTime};

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{json_response, ok, ApiResult, AppState};
use crate::report::engine_id;
use crate::util::iso8601;

pub(crate) async fn version(State(app): AppState) -> ApiResult {
    ok(json!({ "product_id": "MSCL", "version": app.cfg.version }))
}

pub(crate) async fn rules(State(app): AppState) -> ApiResult {
    let list: Vec<Value> = app
        .cfg
        .rules
        .iter()
        .map(|r| json!({ "name": r.name, "max_file_size": r.max_file_size }))
        .collect();
    ok(Value::Array(list))
}

pub(crate) async fn readyz(State(app): AppState, RawQuery(q): RawQuery) -> ApiResult {
    let in_flight = app.store().in_flight(Instant::now());
    let (active, threshold_engines, engines) = {
        let admin = app.admin();
        let active = admin.engines.values().filter(|e| e.enabled).count();
        let threshold = admin.number("healthcheck", "number_active_av_engines", 1.0) as usize;
        let engines: Vec<Value> = admin
            .engines
            .iter()
            .map(|(id, e)| json!({ "engine_id": id, "required": false, "status": e.enabled }))
            .collect();
        (active, threshold, engines)
    };
    let capacity = app.cfg.queue_capacity;
    let queue_ok = in_flight < capacity;
    let engines_ok = active >= threshold_engines;
    let healthy = queue_ok && engines_ok;
    let verbose =
        crate::util::query_value(q.as_deref(), "verbose").is_some_and(|v| v == "true" || v == "1");
    let mut body = json!({
        "database": { "status": true },
        "license": { "status": "ok" },
        "scan_queue": {
            "max_number_in_queue": capacity,
            "number_in_queue": in_flight,
            "threshold": capacity,
            "status": queue_ok,
        },
        "number_active_av_engines": { "threshold": threshold_engines, "status": engines_ok },
    });
    if verbose {
        body["engines"] = Value::Array(engines);
    }
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(json_response(status, &body))
}

pub(crate) async fn stat_engines(State(app): AppState) -> ApiResult {
    let def_time = iso8601(app.started_wall - std::time::Duration::from_secs(6 * 3600));
    let admin = app.admin();
    let list: Vec<Value> = admin
        .engines
        .iter()
        .map(|(id, e)| {
            json!({
                "active": e.enabled,
                "def_time": def_time,
                "download_progress": 100,
                "download_time": def_time,
                "eng_id": id,
                "eng_name": e.name,
                "eng_type": "Bundled engine",
                "eng_ver": "1.0.0",
                "engine_type": "av",
                "state": if e.enabled { "production" } else { "removed" },
            })
        })
        .collect();
    ok(Value::Array(list))
}

pub(crate) async fn stat_nodes(State(app): AppState) -> ApiResult {
    let in_flight = app.store().in_flight(Instant::now());
    let capacity = app.cfg.queue_capacity;
    let engines: Vec<Value> = {
        let admin = app.admin();
        admin
            .engines
            .values()
            .map(|e| {
                json!({
                    "active": e.enabled,
                    "db_ver": "1",
                    "def_time": iso8601(app.started_wall),
                    "eng_name": e.name,
                    "eng_ver": "1.0.0",
                    "engine_type": "av",
                    "id": engine_id(&e.name),
                })
            })
            .collect()
    };
    // Real servers answer this object form; the 5.6.1 document says array.
    ok(json!({
        "external_nodes_allowed": false,
        "max_node_count": 1,
        "statuses": [{
            "address": "127.0.0.1",
            "available_mem": 8_000_000_000u64,
            "cpu_cores": 2,
            "engines": engines,
            "free_disk_space": 100_000_000_000u64,
            "id": "mdcore-sim-node",
            "issues": [],
            "load": in_flight * 100 / capacity.max(1),
            "os": std::env::consts::OS,
            "scan_queue": in_flight,
            "scan_queue_details": { "available_slots": capacity.saturating_sub(in_flight), "total_scan_queue": capacity },
            "total_disk_space": 200_000_000_000u64,
            "total_mem": 16_000_000_000u64,
            "total_scan_queue": capacity,
            "uptime": app.started.elapsed().as_secs(),
            "version": app.cfg.version,
        }],
    }))
}

pub(crate) async fn active_performance(State(app): AppState, RawQuery(q): RawQuery) -> ApiResult {
    let hours = crate::util::query_value(q.as_deref(), "hours_range")
        .and_then(|h| h.parse::<u64>().ok())
        .unwrap_or(1)
        .clamp(1, 24 * 365);
    let now = Instant::now();
    let since = SystemTime::now() - std::time::Duration::from_secs(hours * 3600);
    let store = app.store();
    let files: Vec<_> = store
        .files
        .values()
        .filter(|f| f.parent.is_none() && f.timeline.start_wall >= since)
        .collect();
    let done: Vec<_> = files.iter().filter(|f| f.is_finished(now)).collect();
    let times: Vec<i64> = done
        .iter()
        .map(|f| (f.timeline.done_at() - f.timeline.start).as_millis() as i64)
        .collect();
    let stat = |v: &[i64]| {
        if v.is_empty() {
            json!({ "avg": 0, "max": 0, "min": 0 })
        } else {
            json!({
                "avg": v.iter().sum::<i64>() / v.len() as i64,
                "max": v.iter().max(),
                "min": v.iter().min(),
            })
        }
    };
    let queue: Vec<i64> = done
        .iter()
        .map(|f| f.timeline.phase.as_millis() as i64)
        .collect();
    let from = since
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    ok(json!({
        "active_performance": {
            "failed_results": 0,
            "hash_time": { "avg": 0, "max": 0, "min": 0 },
            "processing_time": stat(&times),
            "queue_time": stat(&queue),
            "success_results": done.len(),
            "total_filesize": files.iter().map(|f| f.size).sum::<u64>(),
            "total_requests": files.len(),
            "wait_time": stat(&queue),
        },
        "from_time": from,
    }))
}
