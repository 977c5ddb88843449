//! A recording TCP relay between the client and Prism. Prism's verdict travels on the wire
//! (the status, the `sl-violations` header, a problem+json body); the client may not keep it
//! (a documented status whose example body does not decode loses status and headers). The
//! relay keeps the raw exchange of every connection, so the verdict is read from what Prism
//! sent, whatever the client made of it.
//!
//! Each request must use its own connection (see [`client_for`]): then one connection is one
//! exchange, in the order the calls were made.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes kept of each direction (the verdict is in the head and in small problem bodies).
const KEEP: usize = 256 * 1024;

/// One connection's traffic.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub request: Vec<u8>,
    pub response: Vec<u8>,
    pub done: bool,
}

/// A relay listening on an ephemeral loopback port.
pub struct Relay {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Exchange>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let log: Arc<Mutex<Vec<Exchange>>> = Arc::default();
        let shared = log.clone();
        let task = tokio::spawn(async move {
            while let Ok((downstream, _)) = listener.accept().await {
                let index = {
                    let mut l = shared.lock().unwrap();
                    l.push(Exchange::default());
                    l.len() - 1
                };
                let log = shared.clone();
                tokio::spawn(async move {
                    let (request, response) = match TcpStream::connect(upstream).await {
                        Ok(up) => pipe(downstream, up).await,
                        Err(_) => (Vec::new(), Vec::new()),
                    };
                    let mut l = log.lock().unwrap();
                    l[index] = Exchange {
                        request,
                        response,
                        done: true,
                    };
                });
            }
        });
        Ok(Self { addr, log, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections were accepted so far: pass it to [`Relay::since`] after a call.
    pub fn mark(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    /// The exchanges of connections accepted since `mark`, once they are all closed (waits up
    /// to 5 s for the last bytes).
    pub async fn since(&self, mark: usize) -> Vec<Exchange> {
        for _ in 0..500 {
            {
                let l = self.log.lock().unwrap();
                if l[mark..].iter().all(|e| e.done) {
                    return l[mark..].to_vec();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.log.lock().unwrap()[mark..].to_vec()
    }
}

/// Copies both ways until both sides are done, keeping the first [`KEEP`] bytes of each.
async fn pipe(downstream: TcpStream, upstream: TcpStream) -> (Vec<u8>, Vec<u8>) {
    let (mut dr, mut dw) = downstream.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    let up = async move {
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match dr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    keep(&mut kept, &buf[..n]);
                    if uw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = uw.shutdown().await;
        kept
    };
    let down = async move {
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match ur.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    keep(&mut kept, &buf[..n]);
                    if dw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = dw.shutdown().await;
        kept
    };
    tokio::join!(up, down)
}

fn keep(kept: &mut Vec<u8>, bytes: &[u8]) {
    let room = KEEP.saturating_sub(kept.len());
    kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// A reqwest client that opens one connection per request and asks the server to close it,
/// so that the relay sees one exchange per call.
pub fn http_client(extra: reqwest::header::HeaderMap) -> reqwest::Client {
    let mut headers = extra;
    headers.insert(
        reqwest::header::CONNECTION,
        reqwest::header::HeaderValue::from_static("close"),
    );
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .http1_only()
        .default_headers(headers)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a plain HTTP client builds")
}

/// The generated client on [`http_client`], sending `apikey` as the credential (or none).
pub fn client_for(
    url: &str,
    apikey: Option<&str>,
    extra: reqwest::header::HeaderMap,
) -> metadefender_core::Client {
    metadefender_core::Client::new_with_client(
        url,
        http_client(extra),
        metadefender_core::ClientState::new(apikey.map(metadefender_core::Secret::new)),
    )
}
