//! Scanning against the simulator: verdicts, streamed uploads, hash-first, sync, sanitized
//! downloads, archives.

mod scan_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use metadefender_core::scan::{ScanError, Source, Step, Verdict};
use metadefender_core::Client;
use scan_support::*;

#[tokio::test]
async fn a_clean_file_is_clean_and_the_full_result_is_kept() {
    let sim = sim(fast()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "notes.txt", b"nothing to see here\n");
    let report = scanner(&sim).scan(&path).send().await.unwrap();
    assert_eq!(report.verdict, Verdict::Clean { code: 0 });
    assert_eq!(report.file_name(), Some("notes.txt"));
    assert_eq!(
        report.result.data_id.as_deref(),
        Some(report.data_id.as_str())
    );
    assert_eq!(
        report
            .result
            .process_info
            .as_ref()
            .unwrap()
            .progress_percentage,
        Some(100)
    );
    // Unknown fields of the server are kept.
    assert!(report.result.extra.contains_key("file_id"));
    assert_eq!(sim.counters().uploads, 1);
}

#[tokio::test]
async fn eicar_is_infected_with_the_threat_named() {
    let sim = sim(fast()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "eicar.com", &eicar());
    let report = scanner(&sim).scan(&path).send().await.unwrap();
    let Verdict::Infected { code, threats } = &report.verdict else {
        panic!("expected Infected, got {:?}", report.verdict);
    };
    assert_eq!(*code, 1);
    assert!(!threats.is_empty());
    assert!(threats
        .iter()
        .all(|t| t.name == mdcore_sim::EICAR_THREAT && t.file.is_none()));
}

#[tokio::test]
async fn a_zip_holding_eicar_is_infected_with_the_child_named() {
    let sim = sim(fast()).await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = zip(&[("readme.txt", b"hello"), ("inner/eicar.com", &eicar())]);
    let path = write(dir.path(), "bundle.zip", &bytes);
    let report = scanner(&sim).scan(&path).send().await.unwrap();
    let Verdict::Infected { threats, .. } = &report.verdict else {
        panic!("expected Infected, got {:?}", report.verdict);
    };
    let t = threats.first().expect("a threat");
    assert_eq!(t.name, mdcore_sim::EICAR_THREAT);
    let file = t.file.as_deref().expect("the child is named");
    assert!(file.contains("eicar.com"), "child named {file}");
    assert!(report.verdict.to_string().contains("eicar.com"));

    // All children are listed across pages.
    let children: Vec<_> = scanner(&sim)
        .archive_children(report.data_id.clone())
        .collect()
        .await;
    assert_eq!(children.len(), 2);
    assert!(children.iter().all(|c| c.is_ok()));
}

#[tokio::test]
async fn archive_children_are_listed_across_pages() {
    let sim = sim(fast()).await;
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..120).map(|i| format!("f{i:03}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), n.as_bytes())).collect();
    let path = write(dir.path(), "many.zip", &zip(&entries));
    let s = scanner(&sim);
    let report = s.scan(&path).send().await.unwrap();
    assert!(report.verdict.is_clean());
    let before = sim.counters().get("GET /file/{data_id}");
    let children: Vec<_> = s
        .archive_children(report.data_id.clone())
        .map(|c| c.unwrap())
        .collect()
        .await;
    let mut seen: Vec<String> = children
        .iter()
        .filter_map(|c| c.display_name.clone())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 120, "every child once");
    // 120 children in pages of 50: three requests.
    assert_eq!(sim.counters().get("GET /file/{data_id}") - before, 3);
}

#[tokio::test]
async fn hash_first_uploads_the_same_file_once() {
    let sim = sim(fast()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "same.bin", b"identical content, scanned twice");
    let s = scanner(&sim);
    let first = s.scan(&path).hash_first(true).send().await.unwrap();
    assert!(!first.from_cache);
    let second = s.scan(&path).hash_first(true).send().await.unwrap();
    assert!(second.from_cache);
    assert_eq!(second.data_id, first.data_id);
    assert_eq!(second.verdict, first.verdict);
    let c = sim.counters();
    assert_eq!(c.uploads, 1);
    assert_eq!(c.get("POST /file"), 1);
    assert_eq!(c.get("GET /hash/{hash}"), 2);
}

#[tokio::test]
async fn hash_first_works_with_not_found_bodies_too() {
    let sim = sim(fast().not_found_style(mdcore_sim::NotFoundStyle::Http200Body)).await;
    let s = scanner(&sim);
    let a = s
        .scan(Source::bytes(b"abc".to_vec(), Some("a.txt".into())))
        .hash_first(true)
        .send()
        .await
        .unwrap();
    let b = s
        .scan(Source::bytes(b"abc".to_vec(), Some("a.txt".into())))
        .hash_first(true)
        .send()
        .await
        .unwrap();
    assert!(!a.from_cache && b.from_cache);
    assert_eq!(sim.counters().uploads, 1);
}

#[tokio::test]
async fn a_sanitizing_rule_writes_the_converted_file() {
    let sim = sim(fast()).await;
    let dir = tempfile::tempdir().unwrap();
    let content = b"header MDSIM-SUSPICIOUS footer".to_vec();
    let path = write(dir.path(), "doc.txt", &content);
    let s = scanner(&sim);
    let report = s
        .scan(&path)
        .rule(mdcore_sim::RULE_SANITIZE)
        .send()
        .await
        .unwrap();
    assert!(report.sanitized(), "post_processing says Sanitized");
    let out = tempfile::tempdir().unwrap();
    let got = s
        .download_sanitized_to_dir(&report.data_id, out.path())
        .await
        .unwrap();
    let written = got.path.clone().unwrap();
    assert_eq!(got.file_name.as_deref(), Some("sanitized_doc.txt"));
    assert_eq!(written, out.path().join("sanitized_doc.txt"));
    let bytes = std::fs::read(&written).unwrap();
    assert_eq!(bytes.len() as u64, got.bytes);
    assert_eq!(bytes.len(), content.len());
    assert!(!bytes.windows(16).any(|w| w == b"MDSIM-SUSPICIOUS"));
    // Nothing but the file is left in the directory (no partial files).
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);

    let mut buf = Vec::new();
    let to_writer = s
        .download_sanitized_to_writer(&report.data_id, &mut buf)
        .await
        .unwrap();
    assert_eq!(buf, bytes);
    assert!(to_writer.path.is_none());
}

#[tokio::test]
async fn a_missing_sanitized_file_and_another_users_file_are_distinct_errors() {
    let auth =
        mdcore_sim::AuthConfig::with_apikey("key-one").user_with_apikey("bob", "pw", "key-two");
    let sim = sim(fast().auth(auth)).await;
    let one = Client::builder(sim.url())
        .apikey("key-one")
        .build()
        .unwrap()
        .scanner()
        .with_poll_policy(quick_polls());
    let two = Client::builder(sim.url())
        .apikey("key-two")
        .build()
        .unwrap()
        .scanner();
    let plain = one
        .scan(Source::bytes(b"plain".to_vec(), Some("p.txt".into())))
        .send()
        .await
        .unwrap();
    let err = one
        .download_sanitized_to_dir(&plain.data_id, std::env::temp_dir())
        .await
        .unwrap_err();
    assert!(matches!(err, ScanError::NoSanitizedFile { .. }), "{err:?}");
    assert_eq!(err.step(), Step::Download);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));

    let sanitized = one
        .scan(Source::bytes(
            b"x MDSIM-SUSPICIOUS y".to_vec(),
            Some("s.txt".into()),
        ))
        .rule(mdcore_sim::RULE_SANITIZE)
        .send()
        .await
        .unwrap();
    let err = two
        .download_sanitized_to_dir(&sanitized.data_id, std::env::temp_dir())
        .await
        .unwrap_err();
    assert!(matches!(err, ScanError::NotYours { .. }), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(405));
}

#[tokio::test]
async fn sync_scans_answer_directly_and_fall_back_to_polling_on_408() {
    let sim = sim(fast()).await;
    let s = scanner(&sim);
    let r = s
        .scan(Source::bytes(eicar(), Some("e.com".into())))
        .sync(true)
        .send()
        .await
        .unwrap();
    assert!(matches!(r.verdict, Verdict::Infected { .. }));
    assert_eq!(sim.counters().get("POST /file/sync"), 1);
    assert_eq!(sim.counters().get("GET /file/{data_id}"), 0);

    let slow = sim_slow_sync().await;
    let s = scanner(&slow);
    let r = s
        .scan(Source::bytes(b"later".to_vec(), Some("l.txt".into())))
        .sync(true)
        .send()
        .await
        .unwrap();
    assert!(r.verdict.is_clean());
    assert!(
        slow.counters().get("GET /file/{data_id}") >= 1,
        "polled after the 408"
    );

    let err = s
        .scan(Source::bytes(b"x".to_vec(), None))
        .sync(true)
        .callback_url("http://127.0.0.1:9/cb")
        .submit()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ScanError::InvalidInput {
            step: Step::Upload,
            ..
        }
    ));
}

async fn sim_slow_sync() -> mdcore_sim::Simulator {
    sim(SimConfig_slow()).await
}

#[allow(non_snake_case)]
fn SimConfig_slow() -> mdcore_sim::SimConfig {
    mdcore_sim::SimConfig::default()
        .phase(Duration::from_millis(60))
        .sync_timeout(Duration::from_millis(50))
}

#[tokio::test]
async fn upload_progress_reports_every_byte() {
    let sim = sim(fast()).await;
    let dir = tempfile::tempdir().unwrap();
    let data = vec![7u8; 3 * 1024 * 1024 + 17];
    let path = write(dir.path(), "big.bin", &data);
    let last = Arc::new(AtomicU64::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let (l, c) = (last.clone(), calls.clone());
    let report = scanner(&sim)
        .scan(&path)
        .progress(move |sent, total| {
            assert_eq!(total, 3 * 1024 * 1024 + 17);
            assert!(sent <= total);
            l.store(sent, Ordering::SeqCst);
            c.fetch_add(1, Ordering::SeqCst);
        })
        .send()
        .await
        .unwrap();
    assert!(report.verdict.is_clean());
    assert_eq!(last.load(Ordering::SeqCst), data.len() as u64);
    assert!(calls.load(Ordering::SeqCst) > 1);
}

/// Reads one HTTP request from a raw socket and answers like `POST /file`.
fn capture_one_upload(listener: TcpListener) -> (String, usize) {
    let (mut sock, _) = listener.accept().unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        let n = sock.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed before the head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0);
    let mut body = buf.len() - head_end;
    while body < len {
        let n = sock.read(&mut chunk).unwrap();
        assert!(n > 0);
        body += n;
    }
    let answer = b"{\"data_id\":\"0123456789abcdef0123456789abcdef\"}";
    write!(
        sock,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        answer.len()
    )
    .unwrap();
    sock.write_all(answer).unwrap();
    (head, body)
}

#[tokio::test]
async fn the_upload_carries_an_exact_content_length_and_is_not_chunked() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || capture_one_upload(listener));
    let dir = tempfile::tempdir().unwrap();
    let data = vec![1u8; 1_000_003];
    let path = write(dir.path(), "naïve name,1.bin", &data);
    let client = Client::builder(url).apikey("wire-key").build().unwrap();
    let submitted = client
        .scan(&path)
        .rule("multiscan")
        .archive_password("hunter2")
        .metadata(serde_json::json!({"ticket": 7}))
        .submit()
        .await
        .unwrap();
    assert_eq!(submitted.data_id(), "0123456789abcdef0123456789abcdef");
    let (head, body) = server.join().unwrap();
    assert!(head.contains("content-length: 1000003\r\n"), "{head}");
    assert!(!head.contains("transfer-encoding"), "{head}");
    assert_eq!(body, 1_000_003);
    assert!(
        head.contains("filename: na%c3%afve name%2c1.bin\r\n"),
        "{head}"
    );
    assert!(head.contains("rule: multiscan\r\n"));
    assert!(head.contains("apikey: wire-key\r\n"));
    assert!(head.contains("archivepwd: hunter2\r\n"));
    assert!(head.contains("metadata: {\"ticket\":7}\r\n"));
}

#[tokio::test]
async fn a_reader_of_known_length_streams_and_a_wrong_length_is_an_error() {
    let sim = sim(fast()).await;
    let s = scanner(&sim);
    let data = b"streamed from a reader".to_vec();
    let ok = s
        .scan(
            Source::reader(std::io::Cursor::new(data.clone()), data.len() as u64)
                .with_name("r.txt"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.file_name(), Some("r.txt"));

    let short = s
        .scan(Source::reader(
            std::io::Cursor::new(data.clone()),
            data.len() as u64 + 10,
        ))
        .submit()
        .await
        .unwrap_err();
    assert!(
        matches!(
            short,
            ScanError::Read {
                step: Step::Upload,
                ..
            }
        ),
        "{short:?}"
    );
    let long = s
        .scan(Source::reader(std::io::Cursor::new(data.clone()), 5))
        .submit()
        .await
        .unwrap_err();
    assert!(matches!(long, ScanError::Read { .. }), "{long:?}");
    assert_eq!(sim.counters().uploads, 1, "neither wrong length was stored");

    let missing = s
        .scan("/definitely/not/here.bin")
        .submit()
        .await
        .unwrap_err();
    assert!(matches!(
        missing,
        ScanError::Read {
            step: Step::Read,
            ..
        }
    ));
    let empty_dir = tempfile::tempdir().unwrap();
    let empty = write(empty_dir.path(), "empty", b"");
    let e = s.scan(&empty).submit().await.unwrap_err();
    assert!(matches!(e, ScanError::InvalidInput { .. }), "{e:?}");
}

#[tokio::test]
async fn the_progress_stream_ends_with_the_result() {
    let sim = sim(mdcore_sim::SimConfig::default().phase(Duration::from_millis(40))).await;
    let submitted = scanner(&sim)
        .scan(Source::bytes(b"watch me".to_vec(), Some("w.txt".into())))
        .submit()
        .await
        .unwrap();
    let events: Vec<_> = submitted.updates().collect().await;
    let (last, before) = events.split_last().unwrap();
    assert!(matches!(
        last,
        Ok(metadefender_core::scan::ScanEvent::Finished(_))
    ));
    assert!(!before.is_empty(), "progress was reported");
    let mut prev = -1;
    for e in before {
        let Ok(metadefender_core::scan::ScanEvent::Progress(p)) = e else {
            panic!("{e:?}")
        };
        let pct = p.percent.unwrap();
        assert!(pct >= prev && pct < 100);
        prev = pct;
    }
}
