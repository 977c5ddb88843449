//! Starting and stopping a simulator, and the listener that injects connection resets.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::config::SimConfig;
use crate::counters::{CounterState, Counters};
use crate::detect::Patterns;
use crate::faults::{FaultState, Faults};
use crate::state::{AdminState, App};
use crate::store::Store;

/// Errors from starting a simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The storage directory could not be created.
    #[error("cannot prepare the storage directory {path}")]
    Storage {
        /// The directory.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client for callbacks could not be built.
    #[error("cannot build the HTTP client used for callbacks")]
    Client(#[source] reqwest::Error),
}

/// A running simulator. Dropping it stops the server (without waiting);
/// [`Simulator::shutdown`] stops it and waits.
pub struct Simulator {
    addr: SocketAddr,
    app: Arc<App>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    _tmp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

struct ResetListener {
    inner: TcpListener,
    faults: Faults,
}

/// Waits for the first request bytes, then aborts the connection with RST.
async fn reset_connection(mut stream: TcpStream) {
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
    let _ = stream.set_zero_linger();
    drop(stream);
}

impl axum::serve::Listener for ResetListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if self.faults.take_reset() {
                        tokio::spawn(reset_connection(stream));
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    return (stream, addr);
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl Simulator {
    /// Binds `config.listen` and serves in the background of the current tokio runtime.
    pub async fn start(config: SimConfig) -> Result<Simulator, SimError> {
        let (tmp, dir) = match &config.storage_dir {
            Some(p) => {
                std::fs::create_dir_all(p).map_err(|source| SimError::Storage {
                    path: p.clone(),
                    source,
                })?;
                (None, p.clone())
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("mdcore-sim-")
                    .tempdir()
                    .map_err(|source| SimError::Storage {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| SimError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .no_proxy()
            .build()
            .map_err(SimError::Client)?;
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let faults = Faults(Arc::new(FaultState::default()));
        let app = Arc::new(App {
            patterns: Patterns::new(&config.suspicious_patterns),
            admin: Mutex::new(AdminState::new(&config)),
            cfg: config,
            dir,
            store: Mutex::new(Store::default()),
            counters: CounterState::default(),
            faults: faults.clone(),
            http,
            started: Instant::now(),
            started_wall: SystemTime::now(),
            shutdown: stop_rx.clone(),
        });
        let router = crate::api::router(app.clone());
        let mut stop_signal = stop_rx;
        let task = tokio::spawn(async move {
            let serve = axum::serve(
                ResetListener {
                    inner: listener,
                    faults,
                },
                router,
            )
            .with_graceful_shutdown(async move {
                let _ = stop_signal.wait_for(|s| *s).await;
            });
            let _ = serve.await;
        });
        Ok(Simulator {
            addr,
            app,
            stop,
            task: Mutex::new(Some(task)),
            _tmp: tmp,
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the request counters.
    pub fn counters(&self) -> Counters {
        self.app.counters.snapshot()
    }

    /// The live fault knobs.
    pub fn faults(&self) -> Faults {
        self.app.faults.clone()
    }

    /// The configuration the simulator runs with.
    pub fn config(&self) -> &SimConfig {
        &self.app.cfg
    }

    /// Where uploads are stored.
    pub fn storage_dir(&self) -> &std::path::Path {
        &self.app.dir
    }

    /// Stops accepting, lets requests in flight finish (at most 5 s), and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut task) = task {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }
}
