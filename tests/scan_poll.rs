//! Each polling rule, driven by the simulator's fault knobs (and a scripted server where the
//! simulator always sends `process_info`).

mod scan_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post};
use axum::Router;
use futures::StreamExt;
use mdcore_sim::NotFoundStyle;
use metadefender_core::scan::{PollPolicy, ScanError, ScanEvent, Scanner, Source, Step};
use metadefender_core::Client;
use scan_support::*;

fn bytes(name: &str) -> Source {
    Source::bytes(
        format!("content of {name}").into_bytes(),
        Some(name.to_string()),
    )
}

#[tokio::test]
async fn completion_waits_for_process_info_after_the_engines_are_done() {
    // The simulator's post-processing phase reports scan_results 100 and process_info 95.
    let sim = sim(mdcore_sim::SimConfig::default().phase(Duration::from_millis(80))).await;
    let policy = PollPolicy {
        multiplier: 1.0,
        max_interval: Duration::from_millis(20),
        initial_interval: Duration::from_millis(20),
        ..quick_polls()
    };
    let s = Scanner::new(client(&sim)).with_poll_policy(policy);
    let events: Vec<_> = s
        .scan(bytes("pp.txt"))
        .rule(mdcore_sim::RULE_SANITIZE)
        .submit()
        .await
        .unwrap()
        .updates()
        .collect()
        .await;
    let engines_done_early = events.iter().any(|e| {
        matches!(e, Ok(ScanEvent::Progress(p)) if p.scan_percent == Some(100) && p.percent.is_some_and(|x| x < 100))
    });
    assert!(
        engines_done_early,
        "a poll saw the engines done while processing went on"
    );
    let Some(Ok(ScanEvent::Finished(report))) = events.last() else {
        panic!("no result: {events:?}")
    };
    assert_eq!(
        report
            .result
            .process_info
            .as_ref()
            .unwrap()
            .progress_percentage,
        Some(100)
    );
    assert!(
        report.sanitized(),
        "post-processing finished before completion was reported"
    );
}

#[derive(Default)]
struct Scripted {
    gets: AtomicU64,
}

type JsonAnswer = ([(axum::http::HeaderName, &'static str); 1], String);

fn json(v: serde_json::Value) -> JsonAnswer {
    ([(CONTENT_TYPE, "application/json")], v.to_string())
}

async fn scripted_upload() -> JsonAnswer {
    json(serde_json::json!({"data_id": "feedfacefeedfacefeedfacefeedface"}))
}

/// An old server: no `process_info`, `scan_results.progress_percentage` climbing to 100.
async fn scripted_result(State(s): State<Arc<Scripted>>) -> JsonAnswer {
    let n = s.gets.fetch_add(1, Ordering::SeqCst) + 1;
    let pct = (n * 25).min(100);
    json(serde_json::json!({
        "data_id": "feedfacefeedfacefeedfacefeedface",
        "scan_results": {
            "progress_percentage": pct,
            "scan_all_result_i": if pct < 100 { 255 } else { 0 },
            "scan_details": {}
        }
    }))
}

#[tokio::test]
async fn without_process_info_completion_falls_back_to_scan_results() {
    let state = Arc::new(Scripted::default());
    let app = Router::new()
        .route("/file", post(scripted_upload))
        .route("/file/{id}", get(scripted_result))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let s = Scanner::new(Client::builder(url).build().unwrap()).with_poll_policy(quick_polls());
    let report = s.scan(bytes("old.txt")).send().await.unwrap();
    assert!(report.verdict.is_clean());
    assert!(report.result.process_info.is_none());
    // 25, 50, 75, 100: done on the fourth poll, not before and not later.
    assert_eq!(state.gets.load(Ordering::SeqCst), 4);
}

async fn grace_is_honoured(style: NotFoundStyle) {
    let sim = sim(fast().not_found_style(style)).await;
    sim.faults().set_not_found_lag(Duration::from_millis(300));
    let report = scanner(&sim).scan(bytes("late.txt")).send().await.unwrap();
    assert!(report.verdict.is_clean(), "{style:?}");
    assert!(
        sim.counters().get("GET /file/{data_id}") >= 3,
        "polled through the lag"
    );
}

#[tokio::test]
async fn a_fresh_id_gets_a_grace_window_for_404() {
    grace_is_honoured(NotFoundStyle::Http404).await;
}

#[tokio::test]
async fn a_fresh_id_gets_a_grace_window_for_200_not_found_bodies() {
    grace_is_honoured(NotFoundStyle::Http200Body).await;
}

async fn grace_then_error(style: NotFoundStyle) {
    let sim = sim(fast().not_found_style(style)).await;
    sim.faults().set_not_found_lag(Duration::from_secs(30));
    let policy = PollPolicy {
        not_found_grace: Duration::from_millis(400),
        ..quick_polls()
    };
    let started = Instant::now();
    let err = Scanner::new(client(&sim))
        .with_poll_policy(policy)
        .scan(bytes("lost.txt"))
        .send()
        .await
        .unwrap_err();
    let ScanError::NotFound { step, waited, .. } = &err else {
        panic!("{style:?}: {err:?}")
    };
    assert_eq!(*step, Step::Poll);
    assert!(*waited >= Duration::from_millis(400));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "gave up soon after the grace"
    );
}

#[tokio::test]
async fn an_id_unknown_after_the_grace_window_is_an_error_for_404() {
    grace_then_error(NotFoundStyle::Http404).await;
}

#[tokio::test]
async fn an_id_unknown_after_the_grace_window_is_an_error_for_200_bodies() {
    grace_then_error(NotFoundStyle::Http200Body).await;
}

#[tokio::test]
async fn the_deadline_stops_waiting_and_can_cancel_the_scan() {
    let sim = sim(mdcore_sim::SimConfig::default().phase(Duration::from_secs(2))).await;
    let s = scanner(&sim);
    let started = Instant::now();
    let err = s
        .scan(bytes("slow.txt"))
        .deadline(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ScanError::Deadline {
                cancelled: false,
                ..
            }
        ),
        "{err:?}"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(sim.counters().get("POST /file/{data_id}/cancel"), 0);

    let err = s
        .scan(bytes("slow2.txt"))
        .deadline(Duration::from_millis(300))
        .cancel_at_deadline(true)
        .send()
        .await
        .unwrap_err();
    let ScanError::Deadline {
        cancelled, data_id, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(*cancelled);
    assert_eq!(sim.counters().get("POST /file/{data_id}/cancel"), 1);
    let r = s.result(data_id).await.unwrap();
    assert_eq!(
        r.scan_results.unwrap().scan_all_result_i.map(|c| c.0),
        Some(19),
        "cancelled"
    );
}

#[tokio::test]
async fn failed_polls_back_off_separately_and_then_recover() {
    let sim = sim(fast()).await;
    let policy = PollPolicy {
        error_initial: Duration::from_millis(100),
        error_max: Duration::from_secs(2),
        ..quick_polls()
    };
    let s = Scanner::new(client(&sim)).with_poll_policy(policy.clone());
    let submitted = s.scan(bytes("flaky.txt")).submit().await.unwrap();
    sim.faults().fail_next_with_503(3);
    let started = Instant::now();
    let report = submitted.wait().await.unwrap();
    assert!(report.verdict.is_clean());
    // 100 + 200 + 400 ms of error backoff (no jitter in this policy).
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sim.counters().get("GET /file/{data_id}"), 4);

    // Too many failures in a row: the server's error is reported.
    let submitted = Scanner::new(client(&sim))
        .with_poll_policy(PollPolicy {
            max_errors: 3,
            error_initial: Duration::from_millis(10),
            ..policy
        })
        .scan(bytes("down.txt"))
        .submit()
        .await
        .unwrap();
    sim.faults().fail_next_with_503(100);
    let err = submitted.wait().await.unwrap_err();
    sim.faults().clear();
    assert_eq!(err.step(), Step::Poll);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        err.server_message(),
        Some("Server is too busy. Try again later.")
    );
}

#[tokio::test]
async fn polls_grow_from_250_ms_and_stay_few() {
    // A 3 s scan with the default policy: 250 ms × 1.5 up to 5 s.
    let sim = sim(mdcore_sim::SimConfig::default().phase(Duration::from_millis(500))).await;
    let s = client(&sim).scanner();
    let started = Instant::now();
    let report = s.scan(bytes("three-seconds.txt")).send().await.unwrap();
    let took = started.elapsed();
    assert!(report.verdict.is_clean());
    let polls = sim.counters().get("GET /file/{data_id}");
    // A fixed 250 ms poller makes 12 requests for this scan.
    assert!(polls <= 8, "{polls} polls");
    assert!(
        took < Duration::from_millis(3000 + 2000),
        "detected {took:?} after upload"
    );
}

#[tokio::test]
async fn dropping_the_wait_stops_polling() {
    let sim = sim(mdcore_sim::SimConfig::default().phase(Duration::from_secs(1))).await;
    let s = scanner(&sim);
    let submitted = s.scan(bytes("dropped.txt")).submit().await.unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(200), submitted.wait()).await;
    assert!(waiting.is_err());
    let after = sim.counters().get("GET /file/{data_id}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sim.counters().get("GET /file/{data_id}"),
        after,
        "no polls after the drop"
    );
}

#[tokio::test]
async fn a_scanner_learns_how_long_scans_take() {
    // 6 phases of 150 ms: every scan takes 900 ms.
    let sim = sim(mdcore_sim::SimConfig::default().phase(Duration::from_millis(150))).await;
    let s = client(&sim).scanner();
    let mut polls = Vec::new();
    let mut delays = Vec::new();
    for i in 0..6 {
        let before = sim.counters().get("GET /file/{data_id}");
        let submitted = s.scan(bytes(&format!("l{i}.txt"))).submit().await.unwrap();
        let answered = Instant::now();
        submitted.wait().await.unwrap();
        delays.push(
            answered
                .elapsed()
                .saturating_sub(Duration::from_millis(900)),
        );
        polls.push(sim.counters().get("GET /file/{data_id}") - before);
    }
    // Cold: from 250 ms, growing by 1.5 (moved up by progress estimates). Warm: the first
    // poll lands near 900 ms, a miss is followed by short steps.
    assert!(polls[0] >= 2, "{polls:?}");
    let warm_polls: u64 = polls[3..].iter().sum();
    assert!(warm_polls <= 6, "{polls:?}");
    let warm = (delays[3] + delays[4] + delays[5]) / 3;
    assert!(warm < Duration::from_millis(150), "{delays:?}");
}
