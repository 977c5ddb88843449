//! Malformed requests get a documented status with an `{"err": ...}` body, and
//! the server keeps answering.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends raw bytes and answers the status code and body (if any answer came).
async fn raw(addr: std::net::SocketAddr, bytes: &[u8], close_write: bool) -> Option<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    if close_write {
        s.shutdown().await.unwrap();
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Some((status, body))
}

#[tokio::test]
async fn malformed_requests_get_errors_and_the_server_stays_up() {
    let sim = start(fast()).await;
    let a = sim.addr();
    let c = client();

    // Bad JSON, wrong JSON type, empty body on JSON operations.
    for body in [
        "{not json",
        "[1,2]",
        "\"text\"",
        r#"{"maxretrytime": 1e400}"#,
    ] {
        let r = c
            .put(format!("{}/admin/config/webhook", sim.url()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "body {body:?}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(v["err"].is_string());
    }
    let r = c
        .put(format!("{}/admin/config/proxy", sim.url()))
        .body(r#"{"enabled":"yes"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Garbage headers.
    let (s, v) = upload_raw(&sim, b"x", &[("metadata", "{broken")]).await;
    assert_eq!((s, v["err"].is_string()), (400, true));
    let (s, v) = upload_raw(&sim, b"x", &[("downloadfrom", "::nope::")]).await;
    assert_eq!((s, v["err"].is_string()), (400, true));
    let resp = raw(a, b"POST /file HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\nfilename: \xff\xfe\r\nconnection: close\r\n\r\nx", false).await;
    let (s, body) = resp.unwrap();
    assert_eq!(s, 400);
    assert!(body.contains("\"err\""));
    // Unknown ids and odd paths.
    for path in [
        "/file/unknown",
        "/archive/unknown",
        "/file/batch/unknown",
        "/file/converted/unknown",
        "/file/download/unknown",
    ] {
        let (s, v) = get_json(&sim, path, &[]).await;
        assert_eq!(s, 404, "{path}");
        assert!(v["err"].is_string(), "{path}");
    }
    for path in [
        "/",
        "//file",
        "/file/a/b/c",
        "/%00",
        "/file/..%2f..%2fetc%2fpasswd/export",
        "/hash/",
    ] {
        let (s, v) = get_json(&sim, path, &[]).await;
        assert_eq!(s, 404, "{path}");
        assert!(v["err"].is_string(), "{path}");
    }
    let r = c
        .delete(format!("{}/version", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert!(r.json::<serde_json::Value>().await.unwrap()["err"].is_string());
    // Truncated upload body: the client goes away before sending all bytes.
    let _ = raw(
        a,
        b"POST /file HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nonly a few bytes",
        true,
    )
    .await;
    // A truncated JSON body.
    let _ = raw(a, b"PUT /admin/config/session HTTP/1.1\r\nhost: x\r\ncontent-length: 50\r\n\r\n{\"sessionTimeout\"", true).await;
    // Not HTTP at all.
    let _ = raw(a, b"\x16\x03\x01garbage that is not http\r\n\r\n", true).await;
    let _ = raw(
        a,
        b"GET /version HTTP/1.1\r\nbad header line without colon\r\n\r\n",
        true,
    )
    .await;
    // Invalid Content-Length.
    let resp = raw(
        a,
        b"POST /file HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\nconnection: close\r\n\r\n",
        true,
    )
    .await;
    if let Some((s, _)) = resp {
        assert_eq!(s, 400);
    }
    // Nothing half-stored counts as an upload; the server answers the next request.
    assert_eq!(sim.counters().uploads, 0);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (s, v) = get_json(&sim, "/version", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(v["product_id"], "MSCL");
    let id = upload(&sim, b"still fine", &[]).await;
    wait_done(&sim, &id, &[]).await;
    // The truncated upload left no file behind: only the good upload is stored.
    let stored = std::fs::read_dir(sim.storage_dir()).unwrap().count();
    assert_eq!(stored, 1);
}
