//! Sanitization (converted files) and batches.

mod common;

use common::*;
use mdcore_sim::{eicar_test_bytes, AuthConfig};

#[tokio::test]
async fn sanitize_rule_produces_a_converted_file() {
    let sim = start(fast()).await;
    let mut data = b"head ".to_vec();
    data.extend(eicar_test_bytes());
    data.extend(b" tail");
    let id = upload(
        &sim,
        &data,
        &[("rule", "sanitize"), ("filename", "doc.txt")],
    )
    .await;
    // Not there while processing.
    let r = client()
        .get(format!("{}/file/converted/{id}", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let v = wait_done(&sim, &id, &[]).await;
    let pp = &v["process_info"]["post_processing"];
    assert_eq!(pp["actions_ran"], "Sanitized");
    assert_eq!(pp["converted_destination"], "sanitized_doc.txt");
    let r = client()
        .get(format!("{}/file/converted/{id}", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("sanitized_doc.txt"));
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), data.len());
    assert!(body.starts_with(b"head ") && body.ends_with(b" tail"));
    assert!(!body.windows(5).any(|w| w == b"EICAR"));
    assert_eq!(
        pp["sanitization_details"]["sanitized_file_info"]["file_size"],
        data.len()
    );

    // Rule names are URL-encoded and comma separated.
    let id2 = upload(&sim, b"plain", &[("rule", "multiscan%2Csanitize")]).await;
    wait_done(&sim, &id2, &[]).await;
    let r = client()
        .get(format!("{}/file/converted/{id2}", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // No sanitizing rule: nothing converted.
    let plain = upload(&sim, b"plain", &[]).await;
    wait_done(&sim, &plain, &[]).await;
    let r = client()
        .get(format!("{}/file/converted/{plain}", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["err"], "File could not be found");
    // The original is downloadable.
    let r = client()
        .get(format!("{}/file/download/{plain}", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"plain");
    // Unknown rule.
    let (s, v) = upload_raw(&sim, b"x", &[("rule", "nope")]).await;
    assert_eq!(s, 500);
    assert!(v["err"].as_str().unwrap().contains("No available rule"));
}

#[tokio::test]
async fn converted_file_of_another_user_is_405() {
    let auth = AuthConfig::with_apikey("key-one").user_with_apikey("bob", "pw", "key-two");
    let sim = start(fast().auth(auth)).await;
    let id = upload(
        &sim,
        b"data",
        &[("rule", "sanitize"), ("apikey", "key-one")],
    )
    .await;
    wait_done(&sim, &id, &[("apikey", "key-one")]).await;
    let r = client()
        .get(format!("{}/file/converted/{id}", sim.url()))
        .header("apikey", "key-two")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["err"], "Access denied");
    let r = client()
        .get(format!("{}/file/converted/{id}", sim.url()))
        .header("apikey", "key-one")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn batches_attach_page_close_certify_and_cancel() {
    let sim = start(fast()).await;
    let c = client();
    let r = c
        .post(format!("{}/file/batch", sim.url()))
        .header("user-data", "ticket-7")
        .send()
        .await
        .unwrap();
    let batch: serde_json::Value = r.json().await.unwrap();
    let bid = batch["batch_id"].as_str().unwrap().to_string();
    let a = upload(&sim, b"one", &[("batch", &bid)]).await;
    let mut inf = b"two ".to_vec();
    inf.extend(eicar_test_bytes());
    let b = upload(&sim, &inf, &[("batch", &bid)]).await;
    wait_done(&sim, &a, &[]).await;
    wait_done(&sim, &b, &[]).await;
    let (s, st) = get_json(&sim, &format!("/file/batch/{bid}?first=1&size=1"), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(st["batch_files"]["batch_count"], 2);
    assert_eq!(
        st["batch_files"]["files_in_batch"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        st["batch_files"]["files_in_batch"][0]["data_id"],
        b.as_str()
    );
    assert_eq!(st["scan_results"]["scan_all_result_i"], 1);
    assert_eq!(st["user_data"], "ticket-7");
    assert_eq!(st["is_closed"], false);
    // Certificate only once closed.
    let r = c
        .get(format!("{}/file/batch/{bid}/certificate", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .post(format!("{}/file/batch/{bid}/close", sim.url()))
        .send()
        .await
        .unwrap();
    let closed: serde_json::Value = r.json().await.unwrap();
    assert_eq!(closed["is_closed"], true);
    let r = c
        .get(format!("{}/file/batch/{bid}/certificate", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.text().await.unwrap();
    assert!(text.contains(&format!("batch_id: {bid}")));
    assert!(text.contains("signature: "));
    assert!(text.contains("-----BEGIN CERTIFICATE-----"));
    // A closed batch takes no more files.
    let (s, _) = upload_raw(&sim, b"late", &[("batch", &bid)]).await;
    assert_eq!(s, 400);
    let (s, _) = upload_raw(&sim, b"x", &[("batch", "0000")]).await;
    assert_eq!(s, 400);

    // Cancel.
    let r = c
        .post(format!("{}/file/batch", sim.url()))
        .send()
        .await
        .unwrap();
    let bid2 = r.json::<serde_json::Value>().await.unwrap()["batch_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post(format!("{}/file/batch/{bid2}/cancel", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()[&bid2],
        "cancelled"
    );
    let r = c
        .get(format!("{}/file/batch/ffff", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
