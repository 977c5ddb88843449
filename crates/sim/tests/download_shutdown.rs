//! `downloadfrom` uploads, request headers echoed in results, and shutdown with requests in flight.

mod common;

use std::time::{Duration, Instant};

use axum::routing::get;
use common::*;
use mdcore_sim::{eicar_test_bytes, SimConfig};

#[tokio::test]
async fn downloadfrom_fetches_the_file_itself() {
    let sim = start(fast()).await;
    let app = axum::Router::new()
        .route("/sample.bin", get(|| async { eicar_test_bytes() }))
        .route(
            "/missing",
            get(|| async { (axum::http::StatusCode::NOT_FOUND, "no") }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let r = client()
        .post(format!("{}/file", sim.url()))
        .header("downloadfrom", format!("{base}/sample.bin"))
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let id = r.json::<serde_json::Value>().await.unwrap()["data_id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = wait_done(&sim, &id, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 1);
    assert_eq!(v["download_info"]["url"], format!("{base}/sample.bin"));
    assert_eq!(v["file_info"]["file_size"], 68);

    // The server could not fetch it.
    let r = client()
        .post(format!("{}/file", sim.url()))
        .header("downloadfrom", format!("{base}/missing"))
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // A body together with downloadfrom.
    let (s, v) = upload_raw(
        &sim,
        b"body",
        &[("downloadfrom", &format!("{base}/sample.bin"))],
    )
    .await;
    assert_eq!((s, v["err"].is_string()), (400, true));
}

#[tokio::test]
async fn results_echo_request_headers() {
    let sim = start(fast()).await;
    let id = upload(
        &sim,
        b"x",
        &[
            ("user_agent", "my-agent"),
            ("filepath", "C:\\dir\\report.docx"),
        ],
    )
    .await;
    let v = wait_done(&sim, &id, &[]).await;
    assert_eq!(v["process_info"]["user_agent"], "my-agent");
    assert_eq!(v["process_info"]["profile"], "multiscan");
    assert_eq!(v["file_info"]["display_name"], "report.docx");
    let (s, _) = upload_raw(&sim, b"x", &[("global-timeout", "soon")]).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn shutdown_returns_promptly_with_a_sync_request_waiting() {
    let sim = start(SimConfig::default().phase(Duration::from_secs(5))).await;
    let url = sim.url();
    let pending = tokio::spawn(async move {
        client()
            .post(format!("{url}/file/sync"))
            .body("slow")
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    sim.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // The waiting client got an answer (408 with the data id) or a closed connection, never a hang.
    let answered = tokio::time::timeout(Duration::from_secs(3), pending)
        .await
        .unwrap()
        .unwrap();
    if let Ok(status) = answered {
        assert_eq!(status, 408);
    }
}
