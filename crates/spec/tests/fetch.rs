//! Fetching and bundling over HTTP from a local server.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mdcore_spec::{bundle, fetch, BundleOptions, Error, Limits, Location};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `files` by path; `/chunked` streams 64 KiB chunks forever-ish without a length.
struct Server {
    base: String,
    _runtime: tokio::runtime::Runtime,
}

fn serve(files: &[(&str, &str)]) -> Server {
    let files: Arc<HashMap<String, Vec<u8>>> = Arc::new(
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let files = files.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                if path == "/chunked" {
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                        .await;
                    let chunk = vec![b'a'; 64 * 1024];
                    // 64 MiB at most: the client must stop long before.
                    for _ in 0..1024 {
                        let head = format!("{:x}\r\n", chunk.len());
                        if socket.write_all(head.as_bytes()).await.is_err()
                            || socket.write_all(&chunk).await.is_err()
                            || socket.write_all(b"\r\n").await.is_err()
                        {
                            return;
                        }
                    }
                    let _ = socket.write_all(b"0\r\n\r\n").await;
                    return;
                }
                let (status, body) = match files.get(&path) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", Vec::new()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    Server {
        base,
        _runtime: runtime,
    }
}

#[test]
fn body_without_length_is_cut_at_the_limit() {
    let server = serve(&[]);
    let url = url::Url::parse(&format!("{}/chunked", server.base)).unwrap();
    let limits = Limits {
        max_file_bytes: 1 << 20,
        request_timeout: Duration::from_secs(10),
        ..Limits::default()
    };
    let err = fetch::fetch(&url, &limits).unwrap_err();
    let Error::TooLarge { size, limit, .. } = err else {
        panic!("expected TooLarge, got {err}")
    };
    assert_eq!(limit, 1 << 20);
    assert_eq!(size, limit + 1, "reading stops one byte past the limit");
}

#[test]
fn multi_file_tree_is_bundled_from_a_url() {
    let server = serve(&[
        (
            "/spec/openapi.yaml",
            "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: paths/a.yaml\n",
        ),
        (
            "/spec/paths/a.yaml",
            "get:\n  operationId: getA\n  responses:\n    '200':\n      description: ok\n      content:\n        application/json:\n          schema: {$ref: '../schemas/Thing.yaml'}\n",
        ),
        ("/spec/schemas/Thing.yaml", "type: string\n"),
        ("/secret.yaml", "type: string\n"),
    ]);
    let root = Location::from_arg(
        &format!("{}/spec/openapi.yaml", server.base),
        std::path::Path::new("/"),
    )
    .unwrap();
    let b = bundle(&root, &BundleOptions::default()).unwrap();
    assert_eq!(b.sources.len(), 3);
    assert_eq!(
        b.document["components"]["schemas"]["Thing"]["type"],
        "string"
    );
}

#[test]
fn url_tree_cannot_reach_outside_its_folder() {
    let server = serve(&[
        (
            "/spec/openapi.yaml",
            "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: ../secret.yaml\n",
        ),
        ("/secret.yaml", "get: {responses: {}}\n"),
    ]);
    let root = Location::from_arg(
        &format!("{}/spec/openapi.yaml", server.base),
        std::path::Path::new("/"),
    )
    .unwrap();
    let err = bundle(&root, &BundleOptions::default()).unwrap_err();
    assert!(matches!(err, Error::EscapesRoot { .. }), "{err}");
}

#[cfg(not(feature = "rustls"))]
#[test]
fn https_without_the_feature_says_so() {
    let url = url::Url::parse("https://127.0.0.1:9/x.json").unwrap();
    let err = fetch::fetch(&url, &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::HttpsDisabled { .. }), "{err}");
}
