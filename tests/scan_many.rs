//! Many files at once: bounded concurrency that backs off on 503, results in completion order.

mod scan_support;

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use metadefender_core::scan::{PollPolicy, RetryPolicy, Scanner, Verdict};
use scan_support::*;

#[tokio::test]
async fn a_thousand_files_through_a_tiny_queue_give_a_thousand_correct_verdicts() {
    let sim = sim(mdcore_sim::SimConfig::default()
        .phase(Duration::from_millis(3))
        .queue_capacity(6))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let eicar = eicar();
    let mut paths = Vec::new();
    for i in 0..1000 {
        let body = if i % 10 == 0 {
            eicar.clone()
        } else {
            format!("file number {i}").into_bytes()
        };
        paths.push(write(dir.path(), &format!("f{i:04}.txt"), &body));
    }
    let policy = PollPolicy {
        initial_interval: Duration::from_millis(10),
        max_interval: Duration::from_millis(50),
        ..quick_polls()
    };
    // The simulator's scans take 18 ms: retry refused uploads on that scale too.
    let retry = RetryPolicy {
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        ..RetryPolicy::default()
    };
    let s = Scanner::new(client(&sim))
        .with_poll_policy(policy)
        .with_retry_policy(retry);
    let mut results = s
        .scan_many(futures::stream::iter(paths.clone()))
        .concurrency(32)
        .run();
    let mut seen = HashSet::new();
    let mut infected = 0;
    while let Some(item) = results.next().await {
        let report = item
            .result
            .unwrap_or_else(|e| panic!("{}: {e}", item.path.display()));
        assert_eq!(item.path, paths[item.index]);
        assert!(seen.insert(item.index), "index {} twice", item.index);
        let expect_infected = item.index % 10 == 0;
        match &report.verdict {
            Verdict::Infected { .. } => {
                assert!(expect_infected, "{} infected", item.index);
                infected += 1;
            }
            Verdict::Clean { .. } => assert!(!expect_infected, "{} clean", item.index),
            v => panic!("{}: {v:?}", item.index),
        }
        assert_eq!(
            report.file_name(),
            item.path.file_name().and_then(|n| n.to_str())
        );
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(infected, 100);
    let c = sim.counters();
    assert_eq!(c.uploads, 1000, "every file stored exactly once");
    let refused = c.get("POST /file") - 1000;
    eprintln!("refused {refused}, polls {}", c.get("GET /file/{data_id}"));
    assert!(refused >= 20, "the queue answered many 503s ({refused})");
}

#[tokio::test]
async fn dropping_the_results_stops_the_run() {
    let sim = sim(mdcore_sim::SimConfig::default().phase(Duration::from_millis(200))).await;
    let s = scanner(&sim);
    let sources = futures::stream::iter((0..50).map(|i| {
        metadefender_core::Source::bytes(format!("n{i}").into_bytes(), Some(format!("n{i}.txt")))
    }));
    let results = s.scan_many(sources).concurrency(4).run();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(results);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let uploads = sim.counters().get("POST /file");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sim.counters().get("POST /file"),
        uploads,
        "no uploads after the drop"
    );
    assert!(uploads <= 8);
}
