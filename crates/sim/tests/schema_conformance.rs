//! Real results validate against the 5.6.1 response schemas in every state of
//! the life cycle, for plain files, archives (and their children), sanitized
//! files, hash lookups, batches and synchronous scans.

mod common;

use std::time::{Duration, Instant};

use common::schema::Doc;
use common::*;
use mdcore_sim::{eicar_test_bytes, SimConfig};
use serde_json::{json, Value};

/// (label, content, upload headers)
type Case = (&'static str, Vec<u8>, Vec<(&'static str, &'static str)>);

fn assert_valid(doc: &Doc, path: &str, method: &str, body: &Value, what: &str) {
    let errors = doc.errors(doc.response_schema(path, method, "200"), body);
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{body}");
}

#[test]
fn the_validator_rejects_what_breaks_the_schema() {
    let doc = Doc::load();
    let s = doc.response_schema("/file/{data_id}", "get", "200");
    assert!(!doc
        .errors(s, &json!({"scan_results": {"scan_all_result_i": 999}}))
        .is_empty());
    assert!(!doc
        .errors(s, &json!({"file_info": {"file_size": "12"}}))
        .is_empty());
    assert!(!doc.errors(s, &json!([])).is_empty());
    assert!(doc.errors(s, &json!({"data_id": "x"})).is_empty());
    let login = doc.response_schema("/login", "post", "200");
    assert!(!doc.errors(login, &json!({"session_id": "x"})).is_empty());
}

#[tokio::test]
async fn results_validate_in_every_state() {
    let doc = Doc::load();
    let sim = start(SimConfig::default().phase(Duration::from_millis(60))).await;
    let mut infected = b"x ".to_vec();
    infected.extend(eicar_test_bytes());
    let inner = zip(&[("deep.txt", b"MDSIM-SUSPICIOUS", None)]);
    let archive = zip(&[
        ("a.txt", b"a", None),
        ("e.com", &infected, None),
        ("inner.zip", &inner, None),
    ]);
    let encrypted = zip(&[("s.txt", b"secret", Some("pw"))]);
    let cases: Vec<Case> = vec![
        ("clean", b"plain".to_vec(), vec![]),
        ("infected", infected.clone(), vec![]),
        ("archive", archive, vec![("filename", "a.zip")]),
        ("encrypted", encrypted, vec![]),
        ("sanitized", infected, vec![("rule", "sanitize")]),
    ];
    let mut states = std::collections::BTreeSet::new();
    for (label, data, headers) in cases {
        let id = upload(&sim, &data, &headers).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let done = loop {
            let (s, v) = get_json(&sim, &format!("/file/{id}"), &[]).await;
            assert_eq!(s, 200);
            assert_valid(&doc, "/file/{data_id}", "get", &v, label);
            let scan = v["scan_results"]["progress_percentage"].as_u64().unwrap();
            let proc_ = v["process_info"]["progress_percentage"].as_u64().unwrap();
            states.insert(match (scan, proc_) {
                (0, _) => "queued",
                (s, _) if s < 100 => "scanning",
                (_, p) if p < 100 => "post-processing",
                _ => "done",
            });
            if proc_ == 100 {
                break v;
            }
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let (_, tree) = get_json(&sim, &format!("/archive/{id}"), &[]).await;
        assert_valid(&doc, "/archive/{data_id}", "get", &tree, label);
        let (_, h) = get_json(
            &sim,
            &format!("/hash/{}", done["file_info"]["sha1"].as_str().unwrap()),
            &[],
        )
        .await;
        assert_valid(&doc, "/hash/{hash}", "get", &h, label);
        for child in done["extracted_files"]["files_in_archive"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (_, c) = get_json(
                &sim,
                &format!("/file/{}", child["data_id"].as_str().unwrap()),
                &[],
            )
            .await;
            assert_valid(&doc, "/file/{data_id}", "get", &c, "child");
        }
    }
    assert_eq!(states.len(), 4, "{states:?}");

    // Batches and sync scans.
    let c = client();
    let b: Value = c
        .post(format!("{}/file/batch", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bid = b["batch_id"].as_str().unwrap();
    let id = upload(&sim, b"in batch", &[("batch", bid)]).await;
    let (_, st) = get_json(&sim, &format!("/file/batch/{bid}"), &[]).await;
    assert_valid(
        &doc,
        "/file/batch/{batchId}",
        "get",
        &st,
        "batch in progress",
    );
    wait_done(&sim, &id, &[]).await;
    let closed: Value = c
        .post(format!("{}/file/batch/{bid}/close", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_valid(
        &doc,
        "/file/batch/{batchId}/close",
        "post",
        &closed,
        "batch closed",
    );
    let sync: Value = c
        .post(format!("{}/file/sync", sim.url()))
        .body("sync")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_valid(&doc, "/file/sync", "post", &sync, "sync");
    for (path, tpl) in [
        ("/version", "/version"),
        ("/stat/engines", "/stat/engines"),
        ("/file/rules", "/file/rules"),
        ("/readyz", "/readyz"),
        ("/admin/license", "/admin/license"),
        ("/admin/config/webhook", "/admin/config/webhook"),
    ] {
        let (_, v) = get_json(&sim, path, &[]).await;
        assert_valid(&doc, tpl, "get", &v, path);
    }
}
