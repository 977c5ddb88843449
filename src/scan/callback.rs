//! Receiving Core's result callbacks (feature `callbacks`): a small HTTP server on a local
//! address whose URL goes into the `callbackurl` header; each POSTed result completes the scan
//! it belongs to, so nothing is polled.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use tokio::sync::oneshot;

use super::error::{ScanError, Step};
use super::verdict::is_finished;
use crate::types::AnalysisResult;

/// Settings of a [`CallbackReceiver`].
#[derive(Debug, Clone)]
pub struct CallbackOptions {
    /// Address to listen on (default `127.0.0.1:0`, an ephemeral port). Core must be able to
    /// reach it: bind a routable address when Core runs elsewhere.
    pub listen: SocketAddr,
    /// The base URL Core should use when it differs from the bound address (a proxy or NAT in
    /// between), e.g. `http://scanner-host.example:9000`.
    pub public_url: Option<String>,
    /// Largest callback body accepted (default 32 MiB; results of big archives are large).
    pub max_body: usize,
}

impl Default for CallbackOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            max_body: 32 * 1024 * 1024,
        }
    }
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<AnalysisResult>>>>;

struct Inner {
    url: String,
    pending: Pending,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A running callback receiver. Cheap to clone; the server stops when the last clone is
/// dropped. Scans use it through `ScanBuilder::callback` or `ScanMany::callback`.
#[derive(Clone)]
pub struct CallbackReceiver {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CallbackReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL holds the random path token that makes it hard to guess: not printed.
        f.debug_struct("CallbackReceiver")
            .field("waiting", &self.waiting())
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct AppState {
    pending: Pending,
    token: Arc<str>,
}

async fn receive(
    State(app): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> StatusCode {
    if token != *app.token {
        return StatusCode::NOT_FOUND;
    }
    let Ok(result) = serde_json::from_slice::<AnalysisResult>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let Some(id) = result.data_id.clone() else {
        return StatusCode::BAD_REQUEST;
    };
    if !is_finished(&result) {
        // Not a final result: acknowledged, the scan keeps waiting (or falls back to polling).
        return StatusCode::OK;
    }
    let sender = app
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    match sender {
        Some(tx) => {
            let _ = tx.send(result);
            StatusCode::OK
        }
        // Unknown ids are refused. Core retries refused callbacks, which also covers a result
        // that arrives before the upload's answer registered its id.
        None => StatusCode::NOT_FOUND,
    }
}

impl CallbackReceiver {
    /// Binds `options.listen` and serves in the background of the current tokio runtime.
    pub async fn bind(options: CallbackOptions) -> Result<Self, ScanError> {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|e| ScanError::Callback {
                step: Step::Callback,
                reason: format!("cannot listen on {}", options.listen),
                source: Some(Box::new(e)),
            })?;
        let addr = listener.local_addr().map_err(|e| ScanError::Callback {
            step: Step::Callback,
            reason: "cannot read the bound address".into(),
            source: Some(Box::new(e)),
        })?;
        let token: Arc<str> = hex::encode(rand::random::<[u8; 16]>()).into();
        let base = options
            .public_url
            .clone()
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{addr}"));
        let url = format!("{base}/mdcore-callback/{token}");
        let pending = Pending::default();
        let app = AppState {
            pending: pending.clone(),
            token,
        };
        let router = Router::new()
            .route("/mdcore-callback/{token}", post(receive))
            .layer(DefaultBodyLimit::max(options.max_body))
            .with_state(app);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::warn!(error = %e, "callback receiver stopped");
            }
        });
        Ok(Self {
            inner: Arc::new(Inner { url, pending, task }),
        })
    }

    /// The URL to pass as `callbackurl`.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Scans waiting for their callback.
    pub fn waiting(&self) -> usize {
        self.inner
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub(crate) fn register(&self, data_id: &str) -> Registration {
        let (tx, rx) = oneshot::channel();
        self.inner
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(data_id.to_string(), tx);
        Registration {
            rx,
            receiver: self.clone(),
            data_id: data_id.to_string(),
        }
    }
}

/// A scan waiting for its callback; dropping it forgets the id (later callbacks are refused).
pub(crate) struct Registration {
    rx: oneshot::Receiver<AnalysisResult>,
    receiver: CallbackReceiver,
    data_id: String,
}

impl Registration {
    /// The result, if it arrives within `wait`.
    pub(crate) async fn wait(mut self, wait: Duration) -> Option<AnalysisResult> {
        tokio::time::timeout(wait, &mut self.rx).await.ok()?.ok()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.receiver
            .inner
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.data_id);
    }
}
