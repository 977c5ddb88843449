//! Fault knobs: latency, 503 bursts, connection resets, not-found lag, queue capacity.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::test]
async fn latency_and_503_bursts() {
    let sim = start(fast()).await;
    sim.faults().set_latency(Duration::from_millis(150));
    let t = Instant::now();
    let (s, _) = get_json(&sim, "/version", &[]).await;
    assert_eq!(s, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    sim.faults().set_latency(Duration::ZERO);

    sim.faults().fail_next_with_503(2);
    for _ in 0..2 {
        let (s, v) = get_json(&sim, "/version", &[]).await;
        assert_eq!(
            (s, v["err"].as_str()),
            (503, Some("Server is too busy. Try again later."))
        );
    }
    let (s, _) = get_json(&sim, "/version", &[]).await;
    assert_eq!(s, 200);
    sim.faults().fail_next_with_500(1);
    let (s, v) = get_json(&sim, "/version", &[]).await;
    assert_eq!(
        (s, v["err"].as_str()),
        (500, Some("Failed to request scan. Try again later."))
    );
    // clear() turns every knob off.
    sim.faults().fail_next_with_503(5);
    sim.faults().clear();
    let (s, _) = get_json(&sim, "/version", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(sim.counters().get("GET /version"), 6);
}

#[tokio::test]
async fn connection_resets_before_any_response() {
    let sim = start(fast()).await;
    sim.faults().reset_next_connections(1);
    // A fresh client per request so that each one opens a new connection.
    let err = client().get(format!("{}/version", sim.url())).send().await;
    assert!(err.is_err(), "expected a reset, got {err:?}");
    let (s, _) = get_json(&sim, "/version", &[]).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn not_found_lag_hides_fresh_uploads() {
    let sim = start(fast()).await;
    sim.faults().set_not_found_lag(Duration::from_millis(300));
    let id = upload(&sim, b"lagging", &[]).await;
    let (s, _) = get_json(&sim, &format!("/file/{id}"), &[]).await;
    assert_eq!(s, 404);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (s, _) = get_json(&sim, &format!("/file/{id}"), &[]).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn queue_capacity_answers_503() {
    let sim = start(
        mdcore_sim::SimConfig::default()
            .phase(Duration::from_millis(200))
            .queue_capacity(2),
    )
    .await;
    upload(&sim, b"1", &[]).await;
    upload(&sim, b"2", &[]).await;
    let (s, v) = upload_raw(&sim, b"3", &[]).await;
    assert_eq!(
        (s, v["err"].as_str()),
        (503, Some("Server is too busy. Try again later."))
    );
    let (s, r) = get_json(&sim, "/readyz", &[]).await;
    assert_eq!(s, 503);
    assert_eq!(r["scan_queue"]["status"], false);
    // Once the queue drains, uploads are accepted again.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (s, _) = upload_raw(&sim, b"4", &[]).await;
    assert_eq!(s, 200);
}
