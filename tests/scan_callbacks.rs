//! Callback mode (feature `callbacks`): scans complete from Core's POSTs, without polling.
#![cfg(feature = "callbacks")]

mod scan_support;

use std::time::Duration;

use futures::StreamExt;
use metadefender_core::scan::{CallbackOptions, CallbackReceiver, Source, Verdict};
use scan_support::*;

#[tokio::test]
async fn scans_complete_from_callbacks_with_zero_polls() {
    let sim = sim(fast()).await;
    let receiver = CallbackReceiver::bind(CallbackOptions::default())
        .await
        .unwrap();
    let s = scanner(&sim);
    let mut tasks = Vec::new();
    for i in 0..5 {
        let s = s.clone();
        let receiver = receiver.clone();
        tasks.push(tokio::spawn(async move {
            let body = if i == 2 {
                eicar()
            } else {
                format!("file {i}").into_bytes()
            };
            s.scan(Source::bytes(body, Some(format!("c{i}.txt"))))
                .callback(&receiver, Duration::from_secs(10))
                .send()
                .await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap().unwrap();
        assert_eq!(
            matches!(r.verdict, Verdict::Infected { .. }),
            i == 2,
            "{i}: {:?}",
            r.verdict
        );
    }
    let c = sim.counters();
    assert_eq!(c.get("GET /file/{data_id}"), 0, "no polls");
    assert!(c.callbacks >= 5);
    assert_eq!(receiver.waiting(), 0);
}

#[tokio::test]
async fn scan_many_in_callback_mode_does_not_poll() {
    let sim = sim(fast()).await;
    let receiver = CallbackReceiver::bind(CallbackOptions::default())
        .await
        .unwrap();
    let sources = futures::stream::iter(
        (0..40).map(|i| Source::bytes(format!("many {i}").into_bytes(), Some(format!("m{i}.txt")))),
    );
    let results: Vec<_> = scanner(&sim)
        .scan_many(sources)
        .concurrency(8)
        .callback(&receiver, Duration::from_secs(10))
        .run()
        .collect()
        .await;
    assert_eq!(results.len(), 40);
    assert!(results
        .iter()
        .all(|r| r.result.as_ref().is_ok_and(|r| r.verdict.is_clean())));
    assert_eq!(sim.counters().get("GET /file/{data_id}"), 0);
}

#[tokio::test]
async fn without_a_callback_in_time_the_scan_falls_back_to_polling() {
    let sim = sim(fast()).await;
    // Core is told a URL nobody listens on: its deliveries fail.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let receiver = CallbackReceiver::bind(CallbackOptions {
        public_url: Some(dead_url),
        ..CallbackOptions::default()
    })
    .await
    .unwrap();
    let r = scanner(&sim)
        .scan(Source::bytes(b"fallback".to_vec(), Some("f.txt".into())))
        .callback(&receiver, Duration::from_millis(300))
        .send()
        .await
        .unwrap();
    assert!(r.verdict.is_clean());
    assert!(
        sim.counters().get("GET /file/{data_id}") >= 1,
        "polled after the callback deadline"
    );
}

#[tokio::test]
async fn the_receiver_refuses_unknown_ids_bad_bodies_and_oversized_ones() {
    let receiver = CallbackReceiver::bind(CallbackOptions {
        max_body: 1024,
        ..CallbackOptions::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let done = serde_json::json!({
        "data_id": "00000000000000000000000000000000",
        "process_info": {"progress_percentage": 100},
        "scan_results": {"progress_percentage": 100, "scan_all_result_i": 0}
    });
    let status = |r: reqwest::Response| r.status().as_u16();
    let unknown = http.post(receiver.url()).json(&done).send().await.unwrap();
    assert_eq!(status(unknown), 404);
    let bad = http
        .post(receiver.url())
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(status(bad), 400);
    let big = http
        .post(receiver.url())
        .body(vec![b' '; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(status(big), 413);
    let base = receiver.url().rsplit_once('/').unwrap().0.to_string();
    let guessed = http
        .post(format!("{base}/wrong-token"))
        .json(&done)
        .send()
        .await
        .unwrap();
    assert_eq!(status(guessed), 404);
    assert!(!format!("{receiver:?}").contains(&base));
}
