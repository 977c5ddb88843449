//! A 1 GiB upload to the simulator binary, measuring its peak RSS (VmHWM).
//! Ignored by default (moves a GiB); run with
//! `cargo test --release -p mdcore-sim --test big_upload -- --ignored --nocapture`.
//! The result is recorded in docs/benchmarks.md.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GIB: u64 = 1 << 30;
const CHUNK: usize = 1 << 20;

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

struct Chunks {
    left: u64,
    chunk: bytes::Bytes,
}

impl futures_core::Stream for Chunks {
    type Item = Result<bytes::Bytes, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        let n = self.left.min(CHUNK as u64) as usize;
        self.left -= n as u64;
        std::task::Poll::Ready(Some(Ok(self.chunk.slice(..n))))
    }
}

#[tokio::test]
#[ignore = "moves 1 GiB; run explicitly, see docs/benchmarks.md"]
async fn one_gib_upload_keeps_peak_rss_under_64_mib() {
    let storage = tempfile::tempdir().unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_mdcore-sim"))
            .args(["--listen", "127.0.0.1:0", "--phase-ms", "10", "--storage"])
            .arg(storage.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let before = vm_hwm_kib(pid);

    let pattern: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    let body = reqwest::Body::wrap_stream(Chunks {
        left: GIB,
        chunk: bytes::Bytes::from(pattern),
    });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let t = Instant::now();
    let resp = client
        .post(format!("{url}/file"))
        .header("content-length", GIB)
        .header("filename", "big.bin")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let id = resp.json::<serde_json::Value>().await.unwrap()["data_id"]
        .as_str()
        .unwrap()
        .to_string();
    let upload_time = t.elapsed();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v: serde_json::Value = client
            .get(format!("{url}/file/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["process_info"]["progress_percentage"] == 100 {
            assert_eq!(v["file_info"]["file_size"], GIB);
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored = std::fs::metadata(storage.path().join(&id)).unwrap().len();
    assert_eq!(stored, GIB);
    let peak = vm_hwm_kib(pid);
    println!(
        "1 GiB upload: {:.1} s ({:.0} MiB/s), simulator VmHWM before {} KiB, after {} KiB ({:.1} MiB)",
        upload_time.as_secs_f64(),
        1024.0 / upload_time.as_secs_f64(),
        before,
        peak,
        peak as f64 / 1024.0
    );
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB is not under 64 MiB");
}
