//! Every operation of the 5.6.1 document answers (no 501), admin configuration
//! is kept, and the informational endpoints have their shapes.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::{json, Value};

fn spec() -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/openapi/metadefender-core/5.6.1/openapi.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

#[tokio::test]
async fn all_72_operations_answer_a_documented_status() {
    let sim = start(fast()).await;
    let c = client();
    let spec = spec();
    let mut count = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "delete"].contains(&method.as_str()) {
                continue;
            }
            count += 1;
            let concrete = path
                .replace("{engineId}", "clamav_1_linux")
                .replace("{data_id}", "0123456789abcdef0123456789abcdef")
                .replace("{batchId}", "0123456789abcdef0123456789abcdef")
                .replace("{sha256}", &"A".repeat(64))
                .replace("{hash}", &"B".repeat(64));
            let url = format!("{}{}", sim.url(), concrete);
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = if path == "/file" || path == "/file/sync" {
                "content"
            } else {
                "{}"
            };
            let r = c
                .request(m, &url)
                .header("apikey", "any")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let documented: Vec<u16> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter_map(|k| k.parse().ok())
                .collect();
            assert_ne!(status, 501, "{method} {path}");
            // Unknown ids and incomplete bodies may answer 400/404 where the document lists neither.
            assert!(
                documented.contains(&status) || status == 400 || status == 404,
                "{method} {path} answered {status}, documented {documented:?}"
            );
            if status >= 400 {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                assert!(v["err"].is_string(), "{method} {path}: {v}");
            }
        }
    }
    assert_eq!(count, 72);
}

#[tokio::test]
async fn admin_configuration_is_kept_and_returned() {
    let sim = start(fast()).await;
    let c = client();
    let cases = [
        (
            "/admin/config/webhook",
            json!({"maxretrytime": 7, "delayduration": 250}),
        ),
        ("/admin/config/file/sync", json!({"timeout": 2})),
        ("/admin/config/sessioncookie", json!({"samesite": 2})),
        (
            "/admin/config/customresponseheader",
            json!({"include_deployment_id": true}),
        ),
        (
            "/admin/config/yara/sources",
            json!({"local_sources": [{"source": "/r", "state": "enabled"}]}),
        ),
        (
            "/admin/config/proxy",
            json!({"enabled": true, "port": "3128", "server": "proxy.local"}),
        ),
        ("/admin/config/skip", json!({"whitelist": {"ABC": "note"}})),
    ];
    for (path, put) in cases {
        let r = c
            .put(format!("{}{}", sim.url(), path))
            .body(put.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let answered: Value = r.json().await.unwrap();
        let (s, got) = get_json(&sim, path, &[]).await;
        assert_eq!(s, 200);
        assert_eq!(got, answered, "{path}");
        for (k, v) in put.as_object().unwrap() {
            assert_eq!(&got[k], v, "{path} {k}");
        }
    }
    for path in [
        "/admin/config/auditlog",
        "/admin/config/session",
        "/admin/config/update",
    ] {
        let body = match path {
            "/admin/config/session" => json!({"sessionTimeout": 1234}),
            "/admin/config/update" => json!({"source": "folder", "autoupdateperiod": 5}),
            _ => json!({"cleanuprange": 3}),
        };
        let r = c
            .put(format!("{}{}", sim.url(), path))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        for (k, x) in body.as_object().unwrap() {
            assert_eq!(&v[k], x);
        }
    }
    // Engines: disable one and new scans use the others.
    let r = c
        .post(format!("{}/admin/engine/clamav_1_linux/disable", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let id = upload(&sim, b"x", &[]).await;
    let v = wait_done(&sim, &id, &[]).await;
    let engines = v["scan_results"]["scan_details"].as_object().unwrap();
    assert_eq!(engines.len(), 3);
    assert!(!engines.contains_key("ClamAV"));
    let r = c
        .post(format!("{}/admin/engine/nope/enable", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Export / import v2 round trip.
    let r = c
        .get(format!("{}/admin/export/v2", sim.url()))
        .header("password", "p")
        .send()
        .await
        .unwrap();
    let exported = r.bytes().await.unwrap();
    let r = c
        .post(format!("{}/admin/import/v2", sim.url()))
        .header("password", "p")
        .body(exported)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn informational_endpoints() {
    let sim = start(fast()).await;
    let (_, v) = get_json(&sim, "/version", &[]).await;
    assert_eq!(v["product_id"], "MSCL");
    let (_, rules) = get_json(&sim, "/file/rules", &[]).await;
    let names: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["multiscan", "sanitize"]);
    let (_, nodes) = get_json(&sim, "/stat/nodes", &[]).await;
    assert!(nodes["statuses"][0]["scan_queue_details"]["available_slots"].is_u64());
    let (_, engines) = get_json(&sim, "/stat/engines", &[]).await;
    assert_eq!(engines.as_array().unwrap().len(), 4);
    let (s, r) = get_json(&sim, "/readyz?verbose=true", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(r["engines"].as_array().unwrap().len(), 4);
    let id = upload(&sim, b"pdf me", &[]).await;
    wait_done(&sim, &id, &[]).await;
    let r = client()
        .get(format!("{}/file/{id}/export", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
}
