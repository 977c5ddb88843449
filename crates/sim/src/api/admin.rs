//! Administration operations. Configuration documents are kept as they were
//! put (merged into the defaults) and answered back.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::routing::{get, post, put};
use axum::Router;
use serde_json::{json, Map, Value};

use super::files::typed_response;
use super::{
    header_str, ok, read_json, read_json_object, read_small_body, ApiError, ApiResult, AppState,
};
use crate::config::UserAccount;
use crate::state::App;
use crate::util::{iso8601, new_id};

/// Header line that starts a v2 export file.
const EXPORT_V2_MAGIC: &[u8] = b"MDCORE-SIM-EXPORT-V2\n";

/// Fields whose schema type is integer, per configuration document.
const INTEGER_FIELDS: &[(&str, &str)] = &[
    ("auditlog", "cleanuprange"),
    ("quarantine", "cleanuprange"),
    ("sanitize", "maxage"),
    ("scanhistory", "cleanuprange"),
    ("session", "absoluteSessionTimeout"),
    ("session", "sessionTimeout"),
    ("update", "autoupdateperiod"),
    ("update", "disabledupdate"),
    ("healthcheck", "scan_queue"),
    ("healthcheck", "number_active_av_engines"),
];

/// serde_json turns integers beyond 64 bits into floats; such a value could
/// not be answered back as the integer that was put, so it is refused.
fn integral_beyond_64_bits(v: &Value) -> bool {
    match v {
        Value::Number(n) => n
            .as_f64()
            .is_some_and(|f| n.is_f64() && f.fract() == 0.0 && f.abs() >= 9.2e18),
        Value::Array(a) => a.iter().any(integral_beyond_64_bits),
        Value::Object(m) => m.values().any(integral_beyond_64_bits),
        _ => false,
    }
}

/// Merges the known fields of `update` into a stored configuration document
/// (unknown fields are ignored, as the server does) and answers the result.
fn merge(app: &App, key: &'static str, update: Map<String, Value>) -> Result<Value, ApiError> {
    let mut admin = app.admin();
    let entry = admin.configs.entry(key).or_insert_with(|| json!({}));
    let Value::Object(stored) = entry else {
        return Err(ApiError::bad_request("Configuration is not an object"));
    };
    let known: Vec<(String, Value)> = update
        .into_iter()
        .filter(|(k, _)| stored.contains_key(k))
        .collect();
    for (k, v) in &known {
        if INTEGER_FIELDS.contains(&(key, k.as_str())) && integral_beyond_64_bits(v) {
            return Err(ApiError::bad_request(format!(
                "'{k}' is beyond the 64-bit integer range"
            )));
        }
    }
    stored.extend(known);
    Ok(entry.clone())
}

fn current(app: &App, key: &'static str) -> Value {
    app.admin()
        .configs
        .get(key)
        .cloned()
        .unwrap_or_else(|| json!({}))
}

pub(crate) fn routes() -> Router<Arc<App>> {
    let r = Router::new()
        .route("/admin/license/activation", post(license_activation))
        .route("/admin/license", get(license_get).post(license_upload))
        .route(
            "/admin/license/backup",
            get(backup_get).post(backup_post).delete(backup_delete),
        )
        .route("/admin/license/backup/nomination", post(backup_nomination))
        .route(
            "/admin/config/skip",
            get(|State(app): AppState| async move { ok(current(&app, "skip")) })
                .put(skip_put)
                .post(skip_post)
                .delete(skip_delete),
        )
        .route("/admin/config/proxy", get(proxy_get).put(proxy_put))
        .route("/admin/config/proxy/testconnection", post(proxy_test))
        .route(
            "/admin/config/healthcheck",
            get(health_get).post(health_post),
        )
        .route("/admin/engine/{engineId}/pin", post(engine_pin))
        .route("/admin/engine/{engineId}/unpin", post(engine_unpin))
        .route("/admin/engine/{engineId}/enable", post(engine_enable))
        .route("/admin/engine/{engineId}/disable", post(engine_disable))
        .route(
            "/admin/engine/{engineId}/config",
            get(engine_config_get).put(engine_config_put),
        )
        .route("/admin/export", get(export))
        .route("/admin/export/v2", get(export_v2))
        .route("/admin/import", post(import))
        .route("/admin/import/v2", post(import_v2))
        .route("/admin/user", post(user_create))
        .route("/admin/role", post(role_create))
        .route("/yara/package", get(yara_status))
        .route("/yara/generate", post(yara_generate));
    // Configuration documents merged by PUT; those marked true are also read by GET.
    [
        ("/admin/config/auditlog", "auditlog", false),
        ("/admin/config/quarantine", "quarantine", false),
        ("/admin/config/sanitize", "sanitize", false),
        ("/admin/config/scanhistory", "scanhistory", false),
        ("/admin/config/session", "session", false),
        ("/admin/config/update", "update", false),
        ("/admin/config/webhook", "webhook", true),
        ("/admin/config/file/sync", "file/sync", true),
        ("/admin/config/sessioncookie", "sessioncookie", true),
        (
            "/admin/config/customresponseheader",
            "customresponseheader",
            true,
        ),
        ("/admin/config/yara/sources", "yara/sources", true),
    ]
    .into_iter()
    .fold(r, |r, (path, key, readable)| {
        let methods = put(move |State(app): AppState, body: Body| async move {
            let m = read_json_object(body).await?;
            ok(merge(&app, key, m)?)
        });
        if readable {
            r.route(
                path,
                methods.get(move |State(app): AppState| async move { ok(current(&app, key)) }),
            )
        } else {
            r.route(path, methods)
        }
    })
}

async fn license_activation(State(app): AppState, body: Body) -> ApiResult {
    let m = read_json_object(body).await?;
    if let Some(Value::String(key)) = m.get("activationKey") {
        if key.trim().is_empty() {
            return Err(ApiError::bad_request("Invalid activation key"));
        }
    }
    app.admin().license["online_activated"] = json!(true);
    ok(json!({ "success": true }))
}

async fn license_upload(State(app): AppState, body: Body) -> ApiResult {
    let bytes = read_small_body(body, 1 << 20).await?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("License file is missing"));
    }
    app.admin().license["online_activated"] = json!(false);
    ok(json!({ "success": true }))
}

async fn license_get(State(app): AppState) -> ApiResult {
    ok(app.admin().license.clone())
}

async fn backup_get(State(app): AppState) -> ApiResult {
    ok(json!({ "is_backup": app.admin().license_backup }))
}

async fn backup_post(State(app): AppState, headers: HeaderMap, body: Body) -> ApiResult {
    let _ = read_small_body(body, 1 << 20).await?;
    if header_str(&headers, "active-deployment-id")?.is_none_or(str::is_empty)
        && header_str(&headers, "activation-key")?.is_none_or(str::is_empty)
    {
        return Err(ApiError::bad_request(
            "active-deployment-id or activation-key is required",
        ));
    }
    app.admin().license_backup = true;
    ok(json!({ "success": "Backup instance registered" }))
}

async fn backup_delete(State(app): AppState) -> ApiResult {
    app.admin().license_backup = false;
    ok(json!({ "success": "Backup instance removed" }))
}

async fn backup_nomination(State(app): AppState) -> ApiResult {
    app.admin().license_backup = false;
    ok(json!({ "success": "Backup instance nominated" }))
}

/// The lists of the skip configuration document.
const SKIP_LISTS: [&str; 3] = ["blacklist", "skip", "whitelist"];

/// Reads a skip document whose lists, where given, are objects.
async fn read_skip_lists(body: Body) -> Result<Value, ApiError> {
    let v = Value::Object(read_json_object(body).await?);
    for k in SKIP_LISTS {
        if let Some(x) = v.get(k) {
            if !x.is_object() {
                return Err(ApiError::bad_request(format!("'{k}' must be an object")));
            }
        }
    }
    Ok(v)
}

/// Changes the stored skip document and answers it.
fn update_skip(app: &App, change: impl FnOnce(&mut Value)) -> ApiResult {
    let mut admin = app.admin();
    let stored = admin.configs.entry("skip").or_insert_with(|| json!({}));
    change(stored);
    ok(stored.clone())
}

async fn skip_put(State(app): AppState, body: Body) -> ApiResult {
    let v = read_skip_lists(body).await?;
    update_skip(&app, |stored| {
        for k in SKIP_LISTS {
            if let Some(x) = v.get(k) {
                stored[k] = x.clone();
            }
        }
    })
}

async fn skip_post(State(app): AppState, body: Body) -> ApiResult {
    let v = read_skip_lists(body).await?;
    update_skip(&app, |stored| {
        for k in SKIP_LISTS {
            if let Some(Value::Object(add)) = v.get(k) {
                if !stored[k].is_object() {
                    stored[k] = json!({});
                }
                if let Value::Object(target) = &mut stored[k] {
                    target.extend(add.clone());
                }
            }
        }
    })
}

async fn skip_delete(State(app): AppState, body: Body) -> ApiResult {
    let Value::Array(ids) = read_json(body).await? else {
        return Err(ApiError::bad_request(
            "Invalid JSON body: expected an array of strings",
        ));
    };
    update_skip(&app, |stored| {
        for id in ids.iter().filter_map(Value::as_str) {
            for k in SKIP_LISTS {
                if let Some(Value::Object(m)) = stored.get_mut(k) {
                    m.remove(id);
                }
            }
        }
    })
}

fn require_proxy_fields(m: &Map<String, Value>) -> Result<(), ApiError> {
    match (m.get("enabled"), m.get("port"), m.get("server")) {
        (Some(Value::Bool(_)), Some(Value::String(_)), Some(Value::String(_))) => Ok(()),
        _ => Err(ApiError::bad_request(
            "Fields 'enabled' (boolean), 'port' and 'server' (strings) are required",
        )),
    }
}

async fn proxy_get(State(app): AppState) -> ApiResult {
    ok(current(&app, "proxy"))
}

async fn proxy_put(State(app): AppState, body: Body) -> ApiResult {
    let mut m = read_json_object(body).await?;
    if !m.is_empty() {
        require_proxy_fields(&m)?;
    }
    // The password is kept write-only: never answered back.
    m.remove("password");
    ok(merge(&app, "proxy", m)?)
}

async fn proxy_test(body: Body) -> ApiResult {
    let m = read_json_object(body).await?;
    // Without a body the stored settings are tested.
    if !m.is_empty() {
        require_proxy_fields(&m)?;
    }
    ok(json!({ "result": "The simulator has no outbound proxy; nothing was contacted" }))
}

fn health_view(app: &App) -> Value {
    let admin = app.admin();
    let c = admin
        .configs
        .get("healthcheck")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let required: Vec<String> = c
        .get("required_engines")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let engines: Vec<Value> = admin
        .engines
        .iter()
        .filter(|(id, _)| required.contains(id))
        .map(|(id, e)| json!({ "id": id, "display_name": e.name }))
        .collect();
    json!({
        "database": true,
        "license": true,
        "enable_feature": c.get("enable_feature").cloned().unwrap_or(json!(true)),
        "number_active_av_engines": c.get("number_active_av_engines").cloned().unwrap_or(json!(1)),
        "scan_queue": c.get("scan_queue").cloned().unwrap_or(json!(100)),
        "engines": engines,
    })
}

async fn health_get(State(app): AppState) -> ApiResult {
    ok(health_view(&app))
}

async fn health_post(State(app): AppState, body: Body) -> ApiResult {
    let m = read_json_object(body).await?;
    if let Some(r) = m.get("required_engines") {
        let ok_list = r.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !ok_list {
            return Err(ApiError::bad_request(
                "'required_engines' must be an array of engine ids",
            ));
        }
    }
    merge(&app, "healthcheck", m)?;
    ok(health_view(&app))
}

fn with_engine<T>(
    app: &App,
    id: &str,
    f: impl FnOnce(&mut crate::state::EngineState) -> T,
) -> Result<T, ApiError> {
    let mut admin = app.admin();
    admin
        .engines
        .get_mut(id)
        .map(f)
        .ok_or_else(|| ApiError::bad_request(format!("Engine not found: {id}")))
}

/// Which part the `type` header of pin/unpin names.
fn pin_target(headers: &HeaderMap) -> Result<(bool, bool), ApiError> {
    let t = header_str(headers, "type")?
        .unwrap_or("")
        .to_ascii_lowercase();
    Ok(match t.as_str() {
        "engine" => (true, false),
        "database" | "db" => (false, true),
        _ => (true, true),
    })
}

async fn engine_pin(State(app): AppState, Path(id): Path<String>, headers: HeaderMap) -> ApiResult {
    set_pinned(&app, &id, &headers, true)
}

async fn engine_unpin(
    State(app): AppState,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    set_pinned(&app, &id, &headers, false)
}

/// Pins or unpins what the `type` header names, leaving the other part as it was.
fn set_pinned(app: &App, id: &str, headers: &HeaderMap, pinned: bool) -> ApiResult {
    let (e, d) = pin_target(headers)?;
    with_engine(app, id, |s| {
        if e {
            s.pinned_engine = pinned;
        }
        if d {
            s.pinned_database = pinned;
        }
    })?;
    let state = if pinned { "pinned" } else { "unpinned" };
    let msg = match (e, d) {
        (true, false) => format!("Engine is {state}"),
        (false, true) => format!("Database is {state}"),
        _ => format!("Both engine and database are {state}"),
    };
    ok(json!({ "result": msg }))
}

async fn engine_enable(State(app): AppState, Path(id): Path<String>) -> ApiResult {
    with_engine(&app, &id, |s| s.enabled = true)?;
    ok(json!({ "result": "Engine is enabled" }))
}

async fn engine_disable(State(app): AppState, Path(id): Path<String>) -> ApiResult {
    with_engine(&app, &id, |s| s.enabled = false)?;
    ok(json!({ "result": "Engine is disabled" }))
}

async fn engine_config_get(State(app): AppState, Path(id): Path<String>) -> ApiResult {
    ok(with_engine(&app, &id, |s| s.config.clone())?)
}

async fn engine_config_put(State(app): AppState, Path(id): Path<String>, body: Body) -> ApiResult {
    // The document gives this operation no request body; an absent one keeps the config.
    let bytes = read_small_body(body, 1 << 20).await?;
    let update = if bytes.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(ApiError::bad_request(
                    "Invalid JSON body: expected an object",
                ))
            }
        }
    };
    ok(with_engine(&app, &id, |s| {
        if let Value::Object(c) = &mut s.config {
            c.extend(update);
        }
        s.config.clone()
    })?)
}

fn export_document(app: &App) -> Value {
    let admin = app.admin();
    let configs: Map<String, Value> = admin
        .configs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    json!({ "exported_at": iso8601(SystemTime::now()), "configs": configs })
}

fn import_document(app: &App, doc: &Value) -> Result<(), ApiError> {
    let Some(configs) = doc.get("configs").and_then(Value::as_object) else {
        return Err(ApiError::bad_request(
            "Not an export of this server: 'configs' is missing",
        ));
    };
    let mut admin = app.admin();
    let keys: Vec<&'static str> = admin.configs.keys().copied().collect();
    for k in keys {
        if let Some(v) = configs.get(k) {
            admin.configs.insert(k, v.clone());
        }
    }
    Ok(())
}

async fn export(State(app): AppState) -> ApiResult {
    ok(export_document(&app))
}

async fn export_v2(State(app): AppState, headers: HeaderMap) -> ApiResult {
    if header_str(&headers, "password")?.is_none_or(str::is_empty) {
        return Err(ApiError::bad_request("The password header is required"));
    }
    let mut bytes = EXPORT_V2_MAGIC.to_vec();
    bytes.extend(serde_json::to_vec(&export_document(&app)).unwrap_or_default());
    let mut r = typed_response(bytes, "application/octet-stream");
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"config-export.bin\""),
    );
    Ok(r)
}

async fn import(State(app): AppState, body: Body) -> ApiResult {
    let doc = match read_json(body).await? {
        // The document declares the body as a string holding the export file.
        Value::String(s) => serde_json::from_str::<Value>(&s)
            .map_err(|_| ApiError::bad_request("The import file is not valid JSON"))?,
        v => v,
    };
    import_document(&app, &doc)?;
    ok(json!({ "result": "Configuration imported" }))
}

async fn import_v2(State(app): AppState, body: Body) -> ApiResult {
    let bytes = read_small_body(body, 16 << 20).await?;
    let Some(rest) = bytes.strip_prefix(EXPORT_V2_MAGIC) else {
        return Err(ApiError::bad_request("Not an export file of this server"));
    };
    let doc: Value = serde_json::from_slice(rest)
        .map_err(|_| ApiError::bad_request("The import file is damaged"))?;
    import_document(&app, &doc)?;
    ok(json!({ "result": "Configuration imported" }))
}

async fn user_create(State(app): AppState, body: Body) -> ApiResult {
    let mut m = read_json_object(body).await?;
    let Some(name) = m.get("name").and_then(Value::as_str).map(str::to_string) else {
        return Err(ApiError::bad_request("Field 'name' is required"));
    };
    let password = match m.remove("password") {
        Some(Value::String(p)) => p,
        _ => String::new(),
    };
    let apikey = match m.get("api_key") {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        _ => new_id(),
    };
    m.insert("api_key".into(), json!(apikey));
    let mut admin = app.admin();
    if admin.users.iter().any(|u| u.name == name) {
        return Err(ApiError::bad_request(format!("User {name} already exists")));
    }
    admin.users.push(UserAccount {
        name,
        password,
        apikey: Some(apikey),
    });
    ok(Value::Object(m))
}

async fn role_create(State(app): AppState, body: Body) -> ApiResult {
    let m = read_json_object(body).await?;
    if !m.get("name").is_some_and(Value::is_string) {
        return Err(ApiError::bad_request("Field 'name' is required"));
    }
    let mut admin = app.admin();
    let mut m = m;
    m.insert("editable".into(), json!(true));
    m.insert("id".into(), json!(admin.roles.len() + 1));
    let v = Value::Object(m);
    admin.roles.push(v.clone());
    ok(v)
}

fn yara_view(app: &App) -> Value {
    let generated = app.admin().yara_generated;
    json!({
        "status": "idle",
        "start_time": generated.map(iso8601).unwrap_or_default(),
        "issues": { "general": [], "source": [] },
    })
}

async fn yara_status(State(app): AppState) -> ApiResult {
    ok(yara_view(&app))
}

async fn yara_generate(State(app): AppState) -> ApiResult {
    app.admin().yara_generated = Some(SystemTime::now());
    ok(yara_view(&app))
}
