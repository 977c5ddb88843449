//! Retries, login with re-login, batches, and secrets kept out of logs and errors.

mod scan_support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metadefender_core::scan::{RetryPolicy, ScanError, Scanner, Source, Step, Verdict};
use metadefender_core::Client;
use scan_support::*;

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    }
}

fn bytes(name: &str) -> Source {
    Source::bytes(
        format!("content of {name}").into_bytes(),
        Some(name.to_string()),
    )
}

#[tokio::test]
async fn uploads_are_retried_on_busy_and_try_again_later() {
    let sim = sim(fast()).await;
    let s = scanner(&sim).with_retry_policy(quick_retries());
    sim.faults().fail_next_with_503(2);
    let r = s.scan(bytes("a.txt")).send().await.unwrap();
    assert!(r.verdict.is_clean());
    assert_eq!(sim.counters().get("POST /file"), 3);

    sim.faults().fail_next_with_500(1);
    s.scan(bytes("b.txt")).send().await.unwrap();
    assert_eq!(sim.counters().get("POST /file"), 5);
    assert_eq!(sim.counters().uploads, 2);
}

#[tokio::test]
async fn uploads_are_retried_after_a_connection_reset() {
    let sim = sim(fast()).await;
    let s = scanner(&sim).with_retry_policy(quick_retries());
    sim.faults().reset_next_connections(1);
    let r = s.scan(bytes("reset.txt")).send().await.unwrap();
    assert!(r.verdict.is_clean());
    assert_eq!(sim.counters().uploads, 1);
}

#[tokio::test]
async fn a_one_shot_reader_is_not_retried_and_retries_end() {
    let sim = sim(fast()).await;
    let s = scanner(&sim).with_retry_policy(quick_retries());
    sim.faults().fail_next_with_503(1);
    let data = b"only once".to_vec();
    let err = s
        .scan(Source::reader(
            std::io::Cursor::new(data.clone()),
            data.len() as u64,
        ))
        .submit()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.step(), Step::Upload);
    assert_eq!(sim.counters().get("POST /file"), 1);

    sim.faults().fail_next_with_503(50);
    let err = s.scan(bytes("busy.txt")).submit().await.unwrap_err();
    sim.faults().clear();
    assert!(matches!(err, ScanError::Server { .. }));
    assert_eq!(sim.counters().get("POST /file"), 1 + 5, "max_attempts = 5");
}

#[tokio::test]
async fn refused_uploads_are_not_retried() {
    let sim = sim(fast()).await;
    let s = scanner(&sim).with_retry_policy(quick_retries());
    let err = s
        .scan(bytes("x.txt"))
        .rule("no-such-rule")
        .submit()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(err.server_message().unwrap().contains("No available rule"));
    assert!(err.to_string().contains("upload"), "{err}");
    assert_eq!(sim.counters().get("POST /file"), 1);
}

#[tokio::test]
async fn reads_are_retried_on_server_errors() {
    let sim = sim(fast()).await;
    let s = scanner(&sim).with_retry_policy(quick_retries());
    let r = s.scan(bytes("r.txt")).send().await.unwrap();
    sim.faults().fail_next_with_503(2);
    let again = s.result(&r.data_id).await.unwrap();
    assert_eq!(again.data_id.as_deref(), Some(r.data_id.as_str()));
}

#[tokio::test]
async fn login_relogs_in_once_when_the_session_expires() {
    let auth = mdcore_sim::AuthConfig {
        session_timeout: Duration::from_millis(300),
        ..mdcore_sim::AuthConfig::default()
    }
    .user("alice", "correct horse");
    let sim = sim(fast().auth(auth)).await;
    let s = Scanner::new(client(&sim))
        .with_poll_policy(quick_polls())
        .login("alice", "correct horse")
        .await
        .unwrap();
    let first = s.scan(bytes("one.txt")).send().await.unwrap();
    assert_eq!(
        first
            .result
            .process_info
            .as_ref()
            .unwrap()
            .username
            .as_deref(),
        Some("alice")
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    let second = s.scan(bytes("two.txt")).send().await.unwrap();
    assert!(second.verdict.is_clean());
    assert_eq!(sim.counters().get("POST /login"), 2, "one re-login");

    let wrong = Scanner::new(client(&sim))
        .login("alice", "wrong")
        .await
        .unwrap_err();
    assert_eq!(wrong.step(), Step::Login);
    assert_eq!(wrong.status().map(|s| s.as_u16()), Some(403));
    assert!(!format!("{wrong:?} {wrong}").contains("wrong\""));
}

#[tokio::test]
async fn an_apikey_that_is_refused_is_not_retried() {
    let sim = sim(fast().auth(mdcore_sim::AuthConfig::with_apikey("good"))).await;
    let s = Client::builder(sim.url())
        .apikey("bad")
        .build()
        .unwrap()
        .scanner();
    let err = s.scan(bytes("k.txt")).submit().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(sim.counters().get("POST /file"), 1);
}

#[tokio::test]
async fn batches_collect_files_and_sign_a_certificate() {
    let sim = sim(fast()).await;
    let s = scanner(&sim);
    let batch = s.create_batch(None, Some("ticket-42")).await.unwrap();
    let sources = vec![
        bytes("b1.txt"),
        bytes("b2.txt"),
        Source::bytes(eicar(), Some("b3.com".into())),
    ];
    let ids: Vec<String> = batch
        .add_many(sources, 3)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    batch.close().await.unwrap();
    let report = batch.wait().await.unwrap();
    assert!(
        matches!(report.verdict, Verdict::Infected { .. }),
        "{:?}",
        report.verdict
    );
    let mut listed: Vec<String> = report
        .files
        .iter()
        .filter_map(|f| f.data_id.clone())
        .collect();
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);
    let cert = batch.certificate().await.unwrap();
    assert!(cert.contains(batch.id()), "the certificate names the batch");
    assert!(cert.contains("BEGIN CERTIFICATE"));
}

/// A writer collecting everything `tracing` prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_logs_debug_output_or_errors() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let auth = mdcore_sim::AuthConfig::default().user("carol", "pa55-SECRET-word");
    let sim = sim(fast().auth(auth)).await;
    let s = Scanner::new(client(&sim))
        .with_poll_policy(quick_polls())
        .login("carol", "pa55-SECRET-word")
        .await
        .unwrap();
    let session = s.client().state().apikey().unwrap().expose().to_string();
    let r = s
        .scan(Source::bytes(
            zip(&[("a.txt", b"a")]),
            Some("locked.zip".into()),
        ))
        .archive_password("zip-SECRET-pw")
        .send()
        .await
        .unwrap();
    let err = s
        .download_sanitized_to_dir(&r.data_id, std::env::temp_dir())
        .await
        .unwrap_err();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains(&r.data_id), "the scan span names the data id");
    assert!(logs.contains("locked.zip"));
    let everything = format!("{logs} {s:?} {r:?} {err:?} {err}");
    for secret in ["pa55-SECRET-word", "zip-SECRET-pw", session.as_str()] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}
