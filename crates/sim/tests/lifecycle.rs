//! Upload, life cycle over time, verdicts from content, hash lookups, counters.

mod common;

use std::time::Duration;

use common::*;
use mdcore_sim::{eicar_test_bytes, NotFoundStyle, SimConfig};

#[tokio::test]
async fn a_file_goes_through_queued_scanning_postprocessing_and_done() {
    let sim = start(SimConfig::default().phase(Duration::from_millis(200))).await;
    let id = upload(
        &sim,
        b"just some harmless text",
        &[("filename", "notes.txt")],
    )
    .await;
    let mut seen_queued = false;
    let mut seen_partial_engines = false;
    let mut seen_post = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, v) = get_json(&sim, &format!("/file/{id}"), &[]).await;
        assert_eq!(status, 200);
        let scan = v["scan_results"]["progress_percentage"].as_u64().unwrap();
        let proc_ = v["process_info"]["progress_percentage"].as_u64().unwrap();
        let engines = v["scan_results"]["scan_details"].as_object().unwrap().len();
        if scan == 0 {
            seen_queued = true;
            assert_eq!(v["process_info"]["result"], "Processing");
            assert_eq!(v["scan_results"]["scan_all_result_i"], 255);
        }
        if engines > 0 && engines < 4 {
            seen_partial_engines = true;
        }
        if scan == 100 && proc_ < 100 {
            seen_post = true;
            assert_eq!(v["process_info"]["result"], "Processing");
        }
        if proc_ == 100 {
            assert_eq!(v["process_info"]["result"], "Allowed");
            assert_eq!(v["scan_results"]["scan_all_result_i"], 0);
            assert_eq!(v["scan_results"]["scan_all_result_a"], "No Threat Detected");
            assert_eq!(engines, 4);
            assert_eq!(v["file_info"]["display_name"], "notes.txt");
            assert_eq!(v["file_info"]["file_size"], 23);
            assert_eq!(v["file_id"].as_str().unwrap().len(), 32);
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        seen_queued && seen_partial_engines && seen_post,
        "{seen_queued} {seen_partial_engines} {seen_post}"
    );
}

#[tokio::test]
async fn verdicts_come_from_content() {
    let sim = start(fast().suspicious_pattern("EVIL-MACRO")).await;
    let mut infected = b"prefix ".to_vec();
    infected.extend(eicar_test_bytes());
    let clean = upload(&sim, b"clean", &[]).await;
    let inf = upload(&sim, &infected, &[]).await;
    let sus = upload(&sim, b"contains EVIL-MACRO here", &[]).await;
    let sus_default = upload(&sim, b"xx MDSIM-SUSPICIOUS yy", &[]).await;

    let v = wait_done(&sim, &clean, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 0);
    let v = wait_done(&sim, &inf, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 1);
    assert_eq!(v["scan_results"]["scan_all_result_a"], "Infected");
    assert_eq!(v["process_info"]["result"], "Blocked");
    for (_, e) in v["scan_results"]["scan_details"].as_object().unwrap() {
        assert_eq!(e["scan_result_i"], 1);
        assert_eq!(e["threat_found"], "EICAR-Test-File");
    }
    for id in [sus, sus_default] {
        let v = wait_done(&sim, &id, &[]).await;
        assert_eq!(v["scan_results"]["scan_all_result_i"], 2);
        assert_eq!(v["process_info"]["result"], "Blocked");
    }
}

#[tokio::test]
async fn hash_lookup_by_any_algorithm_case_insensitive() {
    let sim = start(SimConfig::default().phase(Duration::from_millis(150))).await;
    let id = upload(&sim, b"hello", &[]).await;
    // In progress: hidden unless include-inprogress.
    let (s, _) = get_json(&sim, "/hash/5d41402abc4b2a76b9719d911017c592", &[]).await;
    assert_eq!(s, 404);
    let (s, v) = get_json(
        &sim,
        "/hash/5d41402abc4b2a76b9719d911017c592",
        &[("include-inprogress", "true")],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["data_id"], id.as_str());
    wait_done(&sim, &id, &[]).await;
    for h in [
        "5d41402abc4b2a76b9719d911017c592",
        "AAF4C61DDCC5E8A2DABEDE0F3B482CD9AEA9434D",
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    ] {
        let (s, v) = get_json(&sim, &format!("/hash/{h}"), &[]).await;
        assert_eq!(s, 200, "{h}");
        assert_eq!(v["data_id"], id.as_str());
    }
    let (s, v) = get_json(&sim, "/hash/00000000000000000000000000000000", &[]).await;
    assert_eq!((s, v["err"].is_string()), (404, true));
    let (s, _) = get_json(&sim, "/hash/not-a-hash", &[]).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn not_found_style_body_answers_200_with_one_key() {
    let sim = start(fast().not_found_style(NotFoundStyle::Http200Body)).await;
    let (s, v) = get_json(&sim, "/file/0123456789abcdef0123456789abcdef", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        serde_json::json!({"0123456789abcdef0123456789abcdef": "Not Found"})
    );
    let (s, v) = get_json(&sim, "/hash/5d41402abc4b2a76b9719d911017c592", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        serde_json::json!({"5D41402ABC4B2A76B9719D911017C592": "Not Found"})
    );
    let sim404 = start(fast()).await;
    let (s, v) = get_json(&sim404, "/file/0123456789abcdef0123456789abcdef", &[]).await;
    assert_eq!(s, 404);
    assert!(v["err"].is_string());
}

#[tokio::test]
async fn counters_count_requests_per_route_template_and_uploads() {
    let sim = start(fast()).await;
    let id = upload(&sim, b"abc", &[]).await;
    wait_done(&sim, &id, &[]).await;
    get_json(&sim, "/version", &[]).await;
    get_json(&sim, "/no/such/path", &[]).await;
    let c = sim.counters();
    assert_eq!(c.get("POST /file"), 1);
    assert!(c.get("GET /file/{data_id}") >= 1);
    assert_eq!(c.get("GET /version"), 1);
    assert_eq!(c.get("UNMATCHED"), 1);
    assert_eq!(c.uploads, 1);
}

#[tokio::test]
async fn upload_requires_content_length_and_a_body() {
    let sim = start(fast()).await;
    let (s, v) = upload_raw(&sim, b"", &[("content-length", "0")]).await;
    assert_eq!((s, v["err"].as_str()), (422, Some("File is empty.")));
    // No length and no body at all: the length is missing.
    let (s, v) = upload_raw(&sim, b"", &[]).await;
    assert_eq!(
        (s, v["err"].as_str()),
        (411, Some("Missing Content-Length header."))
    );
    // A streamed body without a length goes out chunked.
    let stream = futures_stream(b"chunked body".to_vec());
    let resp = client()
        .post(format!("{}/file", sim.url()))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 411);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["err"], "Missing Content-Length header.");
    assert_eq!(sim.counters().uploads, 0);
}

fn futures_stream(
    data: Vec<u8>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    OneShot(Some(data))
}

struct OneShot(Option<Vec<u8>>);
impl futures_core::Stream for OneShot {
    type Item = Result<Vec<u8>, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.take().map(Ok))
    }
}

#[tokio::test]
async fn sync_upload_waits_for_the_result_or_times_out() {
    let sim = start(fast()).await;
    let resp = client()
        .post(format!("{}/file/sync", sim.url()))
        .body("sync me")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["process_info"]["progress_percentage"], 100);

    let slow = start(
        SimConfig::default()
            .phase(Duration::from_millis(500))
            .sync_timeout(Duration::from_millis(100)),
    )
    .await;
    let resp = client()
        .post(format!("{}/file/sync", slow.url()))
        .body("slow")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 408);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["data_id"].as_str().unwrap().len(), 32);
    // callbackurl is refused on sync.
    let resp = client()
        .post(format!("{}/file/sync", sim.url()))
        .header("callbackurl", "http://127.0.0.1:9/cb")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
}

#[tokio::test]
async fn cancel_stops_a_file() {
    let sim = start(SimConfig::default().phase(Duration::from_millis(200))).await;
    let id = upload(&sim, b"to be cancelled", &[]).await;
    let resp = client()
        .post(format!("{}/file/{id}/cancel", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v[&id], "cancelled");
    let v = wait_done(&sim, &id, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 19);
    let resp = client()
        .post(format!("{}/file/{id}/cancel", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let resp = client()
        .post(format!("{}/file/0123/cancel", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}
