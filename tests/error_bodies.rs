//! Error responses decode into the error variant with the server's message, success bodies into
//! their types, and binary endpoints stream — checked against a canned local HTTP server.

use std::sync::{Arc, Mutex};

use metadefender_core::{ByteStream, Client, Error, ResponseValue, ServerError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the canned server saw of one request.
#[derive(Debug, Clone, Default)]
struct Seen {
    head: String,
    body: Vec<u8>,
}

/// Serves `status`, `content_type` and `body` to every request; records the requests.
async fn canned(
    status: u16,
    content_type: &'static str,
    body: &'static [u8],
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                log.lock().unwrap().push(Seen {
                    head,
                    body: buf[head_end..].to_vec(),
                });
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.write_all(body).await;
            });
        }
    });
    (url, seen)
}

fn client(url: &str) -> Client {
    Client::builder(url).apikey("k-123").build().unwrap()
}

fn server_error<T: std::fmt::Debug>(
    result: Result<T, Error<ServerError>>,
    status: u16,
) -> ServerError {
    match result {
        Err(Error::ErrorResponse(rv)) => {
            assert_eq!(rv.status().as_u16(), status);
            rv.into_inner()
        }
        other => panic!("expected the error variant with status {status}, got {other:?}"),
    }
}

#[tokio::test]
async fn post_file_503_carries_the_message() {
    let (url, seen) = canned(
        503,
        "application/json",
        br#"{"err":"Server is too busy. Try again later."}"#,
    )
    .await;
    let r = client(&url)
        .file_analysis_post()
        .filename("a.txt")
        .body(b"hello".to_vec())
        .send()
        .await;
    assert_eq!(
        server_error(r, 503).message(),
        "Server is too busy. Try again later."
    );
    let seen = seen.lock().unwrap()[0].clone();
    assert!(seen.head.starts_with("POST /file "), "{}", seen.head);
    assert!(
        seen.head.to_ascii_lowercase().contains("apikey: k-123"),
        "apikey header set once on the client"
    );
    assert!(seen.head.contains("filename: a.txt"));
    assert!(seen
        .head
        .to_ascii_lowercase()
        .contains("content-type: application/octet-stream"));
    assert_eq!(seen.body, b"hello");
}

#[tokio::test]
async fn post_file_success_decodes_data_id() {
    let (url, _) = canned(
        200,
        "application/json",
        br#"{"data_id":"0123456789abcdef0123456789abcdef","in_queue":3}"#,
    )
    .await;
    let r = client(&url)
        .file_analysis_post()
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.data_id, "0123456789abcdef0123456789abcdef");
    assert_eq!(r.extra.get("in_queue"), Some(&serde_json::json!(3)));
}

#[tokio::test]
async fn get_file_500_carries_the_message() {
    let (url, seen) = canned(500, "application/json", br#"{"err":"Internal error"}"#).await;
    let r = client(&url).file_analysis_get().data_id("abc").send().await;
    assert_eq!(server_error(r, 500).message(), "Internal error");
    assert!(seen.lock().unwrap()[0].head.starts_with("GET /file/abc "));
}

#[tokio::test]
async fn hash_404_carries_the_message() {
    let (url, _) = canned(404, "application/json", br#"{"err":"Invalid hash format"}"#).await;
    let r = client(&url).hash_get().hash("zz").send().await;
    assert_eq!(server_error(r, 404).message(), "Invalid hash format");
}

#[tokio::test]
async fn login_403_carries_the_message() {
    let (url, seen) = canned(403, "application/json", br#"{"err":"Failed to login"}"#).await;
    let body = metadefender_core::types::UserLoginBody {
        user: "admin".into(),
        password: "pw".into(),
        extra: Default::default(),
    };
    let r = client(&url).user_login().body(body).send().await;
    let e = server_error(r, 403);
    assert_eq!(e.message(), "Failed to login");
    // The password goes in the body, never in an error's text.
    assert!(!format!("{e} {e:?}").contains("pw\""));
    let seen = seen.lock().unwrap()[0].clone();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&seen.body).unwrap(),
        serde_json::json!({"user":"admin","password":"pw"})
    );
}

#[tokio::test]
async fn sync_408_keeps_the_data_id() {
    let (url, _) = canned(408, "application/json", br#"{"data_id":"d1"}"#).await;
    let r = client(&url)
        .file_analysis_sync_post()
        .body(b"x".to_vec())
        .send()
        .await;
    let e = server_error(r, 408);
    assert_eq!(e.field("data_id"), Some("d1"));
}

#[tokio::test]
async fn binary_endpoints_stream() {
    use futures::TryStreamExt;
    let (url, _) = canned(200, "application/octet-stream", b"\x00\x01binary\xff").await;
    let c = client(&url);
    let streams: Vec<ResponseValue<ByteStream>> = vec![
        c.sanitized_file().data_id("a").send().await.unwrap(),
        c.download_file().data_id("a").send().await.unwrap(),
        c.admin_export().send().await.unwrap(),
        c.admin_export_v2().password("p").send().await.unwrap(),
        c.result_exported_file().data_id("a").send().await.unwrap(),
        c.batch_signed_result().batch_id("b").send().await.unwrap(),
    ];
    for s in streams {
        let bytes: Vec<u8> = s
            .into_inner()
            .into_inner()
            .map_ok(|b| b.to_vec())
            .try_concat()
            .await
            .unwrap();
        assert_eq!(bytes, b"\x00\x01binary\xff");
    }
}

#[tokio::test]
async fn empty_error_body_is_reported_not_panicked() {
    let (url, _) = canned(503, "application/json", b"").await;
    let r = client(&url).health_check().send().await;
    assert!(matches!(r, Err(Error::InvalidResponsePayload(..))), "{r:?}");
}
