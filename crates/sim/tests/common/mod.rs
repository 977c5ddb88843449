//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod schema;

use std::time::{Duration, Instant};

use mdcore_sim::{SimConfig, Simulator};
use serde_json::Value;

pub async fn start(cfg: SimConfig) -> Simulator {
    Simulator::start(cfg).await.expect("simulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Uploads `data` and answers the data id.
pub async fn upload(sim: &Simulator, data: &[u8], headers: &[(&str, &str)]) -> String {
    let (status, v) = upload_raw(sim, data, headers).await;
    assert_eq!(status, 200, "upload answered {v}");
    let id = v["data_id"].as_str().expect("data_id").to_string();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    id
}

pub async fn upload_raw(sim: &Simulator, data: &[u8], headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = client()
        .post(format!("{}/file", sim.url()))
        .body(data.to_vec());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub async fn get_json(sim: &Simulator, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = client().get(format!("{}{}", sim.url(), path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Polls until `process_info.progress_percentage` is 100.
pub async fn wait_done(sim: &Simulator, id: &str, headers: &[(&str, &str)]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, v) = get_json(sim, &format!("/file/{id}"), headers).await;
        if status == 200 && v["process_info"]["progress_percentage"] == 100 {
            return v;
        }
        assert!(Instant::now() < deadline, "file {id} did not finish: {v}");
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

/// Builds a zip in memory from (name, bytes, password) entries.
pub fn zip(entries: &[(&str, &[u8], Option<&str>)]) -> Vec<u8> {
    use std::io::Write;
    use zip::unstable::write::FileOptionsExt;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, pw) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let opts = match pw {
            Some(p) => opts.with_deprecated_encryption(p.as_bytes()).unwrap(),
            None => opts,
        };
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub fn fast() -> SimConfig {
    SimConfig::default().phase(Duration::from_millis(20))
}
