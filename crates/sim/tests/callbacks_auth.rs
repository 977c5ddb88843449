//! Callbacks (result JSON, retries, webhook status, sanitized delivery) and authentication.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::*;
use mdcore_sim::AuthConfig;

#[derive(Default, Clone)]
struct Received(Arc<Mutex<Vec<(HeaderMap, Bytes, Instant)>>>);

/// A receiver answering 500 to the first `fail_first` posts, then 200.
async fn receiver(fail_first: usize) -> (String, Received) {
    let got = Received::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/cb",
        post(move |h: HeaderMap, b: Bytes| {
            let g = g.clone();
            async move {
                let mut v = g.0.lock().unwrap();
                v.push((h, b, Instant::now()));
                if v.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, got)
}

async fn wait_for(got: &Received, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.0.lock().unwrap().len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} deliveries",
            got.0.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn callback_posts_the_result_and_retries_per_webhook_config() {
    let sim = start(fast()).await;
    let c = client();
    let r = c
        .put(format!("{}/admin/config/webhook", sim.url()))
        .header("apikey", "x")
        .body(r#"{"maxretrytime": 2, "delayduration": 100, "delayprogression": 100}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (url, got) = receiver(2).await;
    let id = upload(&sim, b"call me back", &[("callbackurl", &url)]).await;
    // No status before the first attempt.
    let (s, v) = get_json(&sim, &format!("/file/webhook/{id}"), &[]).await;
    assert_eq!(
        (s, v["err"].as_str()),
        (404, Some("Webhook status not found."))
    );
    wait_for(&got, 3).await;
    let calls = got.0.lock().unwrap().clone();
    let body: serde_json::Value = serde_json::from_slice(&calls[0].1).unwrap();
    assert_eq!(body["data_id"], id.as_str());
    assert_eq!(body["process_info"]["progress_percentage"], 100);
    // Delays 100 ms then 200 ms (growing by the progression).
    let d1 = calls[1].2 - calls[0].2;
    let d2 = calls[2].2 - calls[1].2;
    assert!(d1 >= Duration::from_millis(90), "{d1:?}");
    assert!(d2 >= Duration::from_millis(190), "{d2:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (s, w) = get_json(&sim, &format!("/file/webhook/{id}"), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(w["status_code"], 200);
    assert_eq!(w["url"], url.as_str());
    assert_eq!(w["data_id"], id.as_str());
    assert_eq!(sim.counters().callbacks, 3);

    let plain = upload(&sim, b"no callback", &[]).await;
    let (s, v) = get_json(&sim, &format!("/file/webhook/{plain}"), &[]).await;
    assert_eq!((s, v["err"].as_str()), (404, Some("No callback url set.")));
    let (s, _) = upload_raw(&sim, b"x", &[("callbackurl", "not a url")]).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn sanitizedurl_receives_the_sanitized_bytes_with_headers() {
    let sim = start(fast()).await;
    let (url, got) = receiver(0).await;
    let id = upload(
        &sim,
        b"some document",
        &[
            ("rule", "sanitize"),
            ("sanitizedurl", &url),
            ("filename", "d.txt"),
        ],
    )
    .await;
    wait_for(&got, 1).await;
    let (h, body, _) = got.0.lock().unwrap()[0].clone();
    assert_eq!(h["dataid"], id.as_str());
    assert_eq!(h["sanitization-result"], "success");
    assert_eq!(h["content-length"], "13");
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .contains("sanitized_d.txt"));
    let v = wait_done(&sim, &id, &[]).await;
    let sha = v["process_info"]["post_processing"]["sanitization_details"]["sanitized_file_info"]
        ["sha256"]
        .clone();
    assert_eq!(
        h["sanitized-file-hash"].to_str().unwrap(),
        sha.as_str().unwrap()
    );
    assert_eq!(body.as_ref(), b"some document");
}

#[tokio::test]
async fn auth_apikeys_sessions_expiry_and_logout() {
    let auth = AuthConfig {
        session_timeout: Duration::from_millis(300),
        ..AuthConfig::with_apikey("k1")
    }
    .user("alice", "wonder");
    let sim = start(fast().auth(auth)).await;
    let c = client();
    // No key / wrong key.
    let (s, v) = get_json(&sim, "/version", &[]).await;
    assert_eq!((s, v["err"].as_str()), (403, Some("Access denied")));
    let (s, _) = get_json(&sim, "/version", &[("apikey", "nope")]).await;
    assert_eq!(s, 403);
    let (s, _) = get_json(&sim, "/version", &[("apikey", "k1")]).await;
    assert_eq!(s, 200);
    // Open operations.
    let (s, _) = get_json(&sim, "/readyz", &[]).await;
    assert_eq!(s, 200);
    // Login.
    let r = c
        .post(format!("{}/login", sim.url()))
        .body(r#"{"user":"alice","password":"bad"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["err"],
        "Failed to login"
    );
    let r = c
        .post(format!("{}/login", sim.url()))
        .body(r#"{"user":"alice","password":"wonder"}"#)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    let session = v["session_id"].as_str().unwrap().to_string();
    assert!(v["oms-csrf-token"].is_string());
    let id = upload(&sim, b"mine", &[("apikey", &session)]).await;
    let done = wait_done(&sim, &id, &[("apikey", &session)]).await;
    assert_eq!(done["process_info"]["username"], "alice");
    // Another identity does not see alice's file.
    let (s, _) = get_json(&sim, &format!("/file/{id}"), &[("apikey", "k1")]).await;
    assert_eq!(s, 404);
    // Logout ends the session.
    let r = c
        .post(format!("{}/logout", sim.url()))
        .header("apikey", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["response"],
        "Logout success"
    );
    let (s, _) = get_json(&sim, "/version", &[("apikey", &session)]).await;
    assert_eq!(s, 403);
    // Expiry after inactivity.
    let r = c
        .post(format!("{}/login", sim.url()))
        .body(r#"{"user":"alice","password":"wonder"}"#)
        .send()
        .await
        .unwrap();
    let s2 = r.json::<serde_json::Value>().await.unwrap()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = get_json(&sim, "/version", &[("apikey", &s2)]).await;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (s, _) = get_json(&sim, "/version", &[("apikey", &s2)]).await;
    assert_eq!(s, 403);
}
