//! HTTP routing, middleware and the error shape shared by all handlers.

mod admin;
mod auth;
mod batch;
mod files;
mod misc;
mod upload;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};

use crate::config::NotFoundStyle;
use crate::state::App;

pub(crate) use auth::KEY_IDENTITY_PREFIX;

pub(crate) type AppState = State<Arc<App>>;

/// An error answered as `{"err": "..."}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub msg: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, msg: impl Into<String>) -> Self {
        Self {
            status,
            msg: msg.into(),
        }
    }
    pub(crate) fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, msg)
    }
    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, msg)
    }
    pub(crate) fn access_denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "Access denied")
    }
    pub(crate) fn busy() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Server is too busy. Try again later.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &json!({ "err": self.msg }))
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn ok(v: Value) -> ApiResult {
    Ok(json_response(StatusCode::OK, &v))
}

/// Answer for an unknown or not yet visible data id, in the configured style.
pub(crate) fn unknown_id(app: &App, id: &str) -> ApiResult {
    match app.cfg.not_found_style {
        NotFoundStyle::Http404 => Err(ApiError::not_found("Requested data_id not found")),
        NotFoundStyle::Http200Body => ok(crate::report::not_found_body(id)),
    }
}

/// Reads a small request body (JSON documents, license files) with a cap.
pub(crate) async fn read_small_body(body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes().to_vec()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body too large",
        )),
        Err(_) => Err(ApiError::bad_request("Failed to read request body")),
    }
}

/// Reads and parses a JSON request body; `None` when there is none (the
/// document marks no request body as required).
pub(crate) async fn read_json_opt(body: Body) -> Result<Option<Value>, ApiError> {
    let bytes = read_small_body(body, 4 * 1024 * 1024).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))?;
    Ok(Some(v))
}

/// Reads and parses a JSON request body that must be present.
pub(crate) async fn read_json(body: Body) -> Result<Value, ApiError> {
    read_json_opt(body)
        .await?
        .ok_or_else(|| ApiError::bad_request("Request body is missing"))
}

/// Reads a JSON body that must be an object; an absent body is an empty object.
pub(crate) async fn read_json_object(
    body: Body,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    match read_json_opt(body).await? {
        None => Ok(serde_json::Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(ApiError::bad_request(
            "Invalid JSON body: expected an object",
        )),
    }
}

/// A header as UTF-8 text; non-UTF-8 values are a 400.
pub(crate) fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match h.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.trim()))
            .map_err(|_| ApiError::bad_request(format!("Invalid value in header {name}"))),
    }
}

/// Who is calling: the identity resolved by the auth layer (`None` when auth is off).
#[derive(Debug, Clone, Default)]
pub(crate) struct Caller(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default())
    }
}

impl Caller {
    /// Whether this caller may touch a file owned by `owner`.
    pub(crate) fn may_access(&self, owner: &Option<String>) -> bool {
        self.0.is_none() || owner.is_none() || &self.0 == owner
    }
}

async fn count_requests(State(app): AppState, req: Request, next: Next) -> Response {
    let key = match req.extensions().get::<MatchedPath>() {
        Some(p) => format!("{} {}", req.method(), p.as_str()),
        None => "UNMATCHED".to_string(),
    };
    app.counters.hit(key);
    next.run(req).await
}

async fn inject_faults(State(app): AppState, req: Request, next: Next) -> Response {
    let latency = app.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if app.faults.take_503() {
        return ApiError::busy().into_response();
    }
    if app.faults.take_500() {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Failed to request scan. Try again later.",
        )
        .into_response();
    }
    next.run(req).await
}

async fn fallback(State(app): AppState) -> Response {
    app.counters.hit("UNMATCHED".into());
    ApiError::not_found("Endpoint not found").into_response()
}

async fn method_not_allowed(State(app): AppState, method: Method) -> Response {
    app.counters.hit("UNMATCHED".into());
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {method} not allowed"),
    )
    .into_response()
}

pub(crate) fn router(app: Arc<App>) -> Router {
    // Operations that need no apikey even when auth is on.
    let open = Router::new()
        .route("/login", post(auth::login))
        .route("/readyz", get(misc::readyz))
        .route("/file/rules", get(misc::rules));

    let protected = Router::new()
        .route("/logout", post(auth::logout))
        .route("/user/changepassword", post(auth::change_password))
        .route("/file", post(upload::post_file))
        .route("/file/sync", post(upload::post_file_sync))
        .route("/file/{data_id}", get(files::get_file))
        .route("/file/{data_id}/blocked-leaves", get(files::blocked_leaves))
        .route("/file/{data_id}/export", get(files::export_pdf))
        .route("/file/{data_id}/cancel", post(files::cancel))
        .route("/archive/{data_id}", get(files::get_archive))
        .route("/hash/{hash}", get(files::get_hash))
        .route("/file/webhook/{data_id}", get(files::webhook_status))
        .route("/file/converted/{data_id}", get(files::converted))
        .route("/file/download/{data_id}", get(files::download))
        .route(
            "/quarantine/{sha256}/download",
            get(files::quarantine_download),
        )
        .route("/file/batch", post(batch::create))
        .route("/file/batch/{batchId}", get(batch::status))
        .route("/file/batch/{batchId}/close", post(batch::close))
        .route("/file/batch/{batchId}/certificate", get(batch::certificate))
        .route("/file/batch/{batchId}/cancel", post(batch::cancel))
        .route("/version", get(misc::version))
        .route("/stat/engines", get(misc::stat_engines))
        .route("/stat/nodes", get(misc::stat_nodes))
        .route("/stat/activeperformance", get(misc::active_performance))
        .merge(admin::routes())
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            auth::require_auth,
        ));

    open.merge(protected)
        .route_layer(middleware::from_fn_with_state(app.clone(), inject_faults))
        .route_layer(middleware::from_fn_with_state(app.clone(), count_requests))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}
