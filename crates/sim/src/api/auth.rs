//! Apikeys, sessions, login and logout.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{header_str, ok, read_json_object, ApiError, ApiResult, AppState, Caller};
use crate::state::App;
use crate::util::new_id;

/// Identities of bare apikeys start with this, so they are never shown as user names.
pub(crate) const KEY_IDENTITY_PREFIX: &str = "apikey#";

/// Resolves an apikey header value to an identity, refreshing sessions.
fn identify(app: &App, key: &str) -> Option<String> {
    let auth = app.cfg.auth.as_ref()?;
    if let Some(i) = auth.apikeys.iter().position(|k| k == key) {
        return Some(format!("{KEY_IDENTITY_PREFIX}{i}"));
    }
    if let Some(u) = app
        .admin()
        .users
        .iter()
        .find(|u| u.apikey.as_deref() == Some(key))
    {
        return Some(u.name.clone());
    }
    let timeout = app.session_timeout();
    let mut store = app.store();
    let now = Instant::now();
    let session = store.sessions.get_mut(key)?;
    if now.saturating_duration_since(session.last_used) > timeout {
        store.sessions.remove(key);
        return None;
    }
    session.last_used = now;
    Some(session.user.clone())
}

pub(crate) async fn require_auth(State(app): AppState, mut req: Request, next: Next) -> Response {
    if app.cfg.auth.is_none() {
        return next.run(req).await;
    }
    let key = match header_str(req.headers(), "apikey") {
        Ok(Some(k)) if !k.is_empty() => k.to_string(),
        Ok(_) => return ApiError::access_denied().into_response(),
        Err(e) => return e.into_response(),
    };
    match identify(&app, &key) {
        Some(id) => {
            req.extensions_mut().insert(Caller(Some(id)));
            next.run(req).await
        }
        None => ApiError::access_denied().into_response(),
    }
}

pub(crate) async fn login(State(app): AppState, body: Body) -> ApiResult {
    let m = read_json_object(body).await?;
    let (Some(Value::String(user)), Some(Value::String(password))) =
        (m.get("user"), m.get("password"))
    else {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Failed to login",
        ));
    };
    let known = match &app.cfg.auth {
        // Without auth there are no accounts to check against; any login
        // succeeds so that clients which always log in keep working.
        None => true,
        Some(_) => app
            .admin()
            .users
            .iter()
            .any(|u| &u.name == user && &u.password == password),
    };
    if !known {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Failed to login",
        ));
    }
    let session_id = new_id();
    app.store().sessions.insert(
        session_id.clone(),
        crate::store::Session {
            user: user.clone(),
            last_used: Instant::now(),
        },
    );
    ok(json!({ "session_id": session_id, "oms-csrf-token": new_id() }))
}

pub(crate) async fn logout(State(app): AppState, headers: HeaderMap) -> ApiResult {
    if let Some(key) = header_str(&headers, "apikey")? {
        app.store().sessions.remove(key);
    }
    ok(json!({ "response": "Logout success" }))
}

pub(crate) async fn change_password(State(app): AppState, caller: Caller, body: Body) -> ApiResult {
    let m = read_json_object(body).await?;
    let old = m.get("old_password").and_then(Value::as_str);
    let new = m.get("new_password").and_then(Value::as_str);
    let (Some(old), Some(new)) = (old, new) else {
        return Err(ApiError::bad_request(
            "Fields 'old_password' and 'new_password' are required",
        ));
    };
    if new.is_empty() {
        return Err(ApiError::bad_request("The new password must not be empty"));
    }
    let Some(name) = caller.0 else {
        // Auth off: nobody to change a password for, accepted as a no-op.
        return ok(json!({ "success": true }));
    };
    let mut admin = app.admin();
    match admin.users.iter_mut().find(|u| u.name == name) {
        Some(u) if u.password == old => {
            u.password = new.to_string();
            ok(json!({ "success": true }))
        }
        Some(_) => Err(ApiError::bad_request("The old password is incorrect")),
        None => Err(ApiError::bad_request(
            "This identity has no password to change",
        )),
    }
}
