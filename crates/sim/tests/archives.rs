//! Zip uploads: children, paging, the archive tree, worst-child verdicts, limits, passwords.

mod common;

use common::*;
use mdcore_sim::{eicar_test_bytes, ArchiveLimits};

#[tokio::test]
async fn zip_entries_become_children_and_the_worst_child_wins() {
    let sim = start(fast()).await;
    let eicar = eicar_test_bytes();
    let z = zip(&[
        ("a.txt", b"alpha", None),
        ("bad/eicar.com", &eicar, None),
        ("c.txt", b"gamma", None),
    ]);
    let id = upload(&sim, &z, &[("filename", "bundle.zip")]).await;
    let v = wait_done(&sim, &id, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 1);
    assert_eq!(v["process_info"]["result"], "Blocked");
    let ex = &v["extracted_files"];
    assert_eq!(ex["files_extracted_count"], 3);
    let files = ex["files_in_archive"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    let bad = files
        .iter()
        .find(|f| f["display_name"] == "bundle.zip/bad/eicar.com")
        .unwrap();
    assert_eq!(bad["scan_all_result_i"], 1);
    assert_eq!(ex["worst_data_id"], bad["data_id"]);
    // Every child has its own result.
    let child_id = bad["data_id"].as_str().unwrap();
    assert_eq!(child_id.len(), 32);
    let (s, c) = get_json(&sim, &format!("/file/{child_id}"), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(c["scan_results"]["scan_all_result_i"], 1);
    assert_eq!(c["file_info"]["file_size"], 68);

    // Paging with first/size.
    let (_, p) = get_json(&sim, &format!("/file/{id}?first=1&size=1"), &[]).await;
    let page = p["extracted_files"]["files_in_archive"].as_array().unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["data_id"], files[1]["data_id"]);
    assert_eq!(p["extracted_files"]["first_index"], 1);
    assert_eq!(p["extracted_files"]["page_size"], 1);

    // The whole tree.
    let (s, t) = get_json(&sim, &format!("/archive/{id}"), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(t["extracted_files"].as_array().unwrap().len(), 3);
    assert!(t["extracted_files"][0]["scan_results"].is_object());

    // Blocked leaves list the infected entry.
    let r = client()
        .get(format!("{}/file/{id}/blocked-leaves", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let b: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(b["total"], 1);
}

#[tokio::test]
async fn clean_zip_is_allowed_and_nested_zips_recurse() {
    let sim = start(fast()).await;
    let inner = zip(&[("deep.txt", b"MDSIM-SUSPICIOUS", None)]);
    let outer = zip(&[("inner.zip", &inner, None), ("ok.txt", b"ok", None)]);
    let id = upload(&sim, &outer, &[("filename", "outer.zip")]).await;
    let v = wait_done(&sim, &id, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 2);
    let clean = upload(&sim, &zip(&[("x.txt", b"x", None)]), &[]).await;
    let v = wait_done(&sim, &clean, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 0);
    assert_eq!(v["process_info"]["result"], "Allowed");
}

#[tokio::test]
async fn archive_limits_give_codes_9_13_14() {
    let limits = ArchiveLimits {
        max_depth: 1,
        max_total_size: 1000,
        max_file_count: 2,
    };
    let sim = start(fast().archive_limits(limits)).await;
    let inner = zip(&[("deep.txt", b"deep", None)]);
    let nested = zip(&[("inner.zip", &inner, None)]);
    let too_big = zip(&[("big.bin", &vec![b'a'; 5000], None)]);
    let too_many = zip(&[("1", b"1", None), ("2", b"2", None), ("3", b"3", None)]);
    for (data, code) in [(nested, 9), (too_big, 13), (too_many, 14)] {
        let id = upload(&sim, &data, &[]).await;
        let v = wait_done(&sim, &id, &[]).await;
        assert_eq!(v["scan_results"]["scan_all_result_i"], code, "{v}");
        assert_eq!(v["process_info"]["result"], "Blocked");
    }
}

#[tokio::test]
async fn encrypted_entries_are_12_unless_archivepwd_opens_them() {
    let sim = start(fast()).await;
    let eicar = eicar_test_bytes();
    let z = zip(&[("secret.com", &eicar, Some("s3cret"))]);
    let id = upload(&sim, &z, &[]).await;
    let v = wait_done(&sim, &id, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 12);
    assert_eq!(v["extraction_info"]["is_encrypted_file"], true);
    assert_eq!(v["extraction_info"]["decrypted_status"], "Failed");

    let id = upload(&sim, &z, &[("archivepwd", "s3cret")]).await;
    let v = wait_done(&sim, &id, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 1, "{v}");
    assert_eq!(v["extraction_info"]["decrypted_status"], "Success");
    assert_eq!(v["extracted_files"]["files_extracted_count"], 1);

    let id = upload(
        &sim,
        &z,
        &[("archivepwd", "wrong"), ("archivepwd1", "s3cret")],
    )
    .await;
    let v = wait_done(&sim, &id, &[]).await;
    assert_eq!(v["scan_results"]["scan_all_result_i"], 1);
}
