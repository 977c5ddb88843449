//! The scanning layer against what people use otherwise, side by side in one run:
//! - a 1 GiB upload to one sink: `client.scan(path)` vs `curl -T` vs Python requests;
//! - polling a 10 s scan: requests and detection delay vs a fixed 250 ms poller;
//! - `scan_many` throughput vs a Python asyncio httpx script on the same simulator.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::StreamExt;
use metadefender_core::scan::Scanner;
use metadefender_core::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Ctx;

/// Pinned so that reruns compare like with like.
const HTTPX: &str = "httpx==0.28.1";
const REQUESTS: &str = "requests==2.32.3";
const GIB: u64 = 1 << 30;

const REQUESTS_SCRIPT: &str = r#"import sys, time, requests
url, path = sys.argv[1], sys.argv[2]
with open(path, 'rb') as f:
    t = time.perf_counter()
    r = requests.post(url + '/file', data=f, headers={'Content-Type': 'application/octet-stream', 'filename': 'one-gib.bin'})
    r.raise_for_status()
    print(time.perf_counter() - t)
"#;

/// What a careful asyncio script does: a semaphore, an upload, a fixed 250 ms poll (the
/// vendor's "every few hundred milliseconds"), a pause on 503.
const HTTPX_SCRIPT: &str = r#"import asyncio, os, sys, time, httpx
url, folder, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.join(folder, n) for n in os.listdir(folder))

async def scan(client, sem, path):
    async with sem:
        with open(path, 'rb') as f:
            body = f.read()
        while True:
            r = await client.post(url + '/file', content=body, headers={'filename': os.path.basename(path), 'Content-Type': 'application/octet-stream'})
            if r.status_code == 503:
                await asyncio.sleep(1.0)
                continue
            r.raise_for_status()
            break
        data_id = r.json()['data_id']
        while True:
            await asyncio.sleep(0.25)
            r = await client.get(url + '/file/' + data_id)
            if r.status_code != 200:
                continue
            j = r.json()
            if j.get('process_info', {}).get('progress_percentage') == 100:
                return j['scan_results']['scan_all_result_i']

async def main():
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        t = time.perf_counter()
        results = await asyncio.gather(*(scan(client, sem, p) for p in files))
        took = time.perf_counter() - t
    assert len(results) == len(files)
    print(took)

asyncio.run(main())
"#;

/// Set in the child that scans 1 GiB alone, so that its peak RSS is the client's only.
const CHILD_ENV: &str = "MDCORE_BENCH_SCAN_CHILD";

pub fn run(ctx: &Ctx) -> anyhow::Result<String> {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let (url, path) = spec.split_once('|').context("child spec")?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let t = Instant::now();
        let report = rt.block_on(Client::builder(url).build()?.scan(path).send())?;
        println!(
            "CHILD verdict={} vmhwm_kib={} secs={:.2}",
            report.verdict.kind(),
            vm_hwm_kib().unwrap_or(0),
            t.elapsed().as_secs_f64()
        );
        std::process::exit(0);
    }
    let dir = ctx.scratch.join("scan");
    std::fs::create_dir_all(&dir)?;
    let python = venv(&dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Loopback uploads of 1 GiB vary from run to run on a shared machine: at least 5 runs.
    let upload = rt.block_on(upload_bench(&dir, &python, ctx.runs.max(5)))?;
    let rss = rt.block_on(rss_bench(&dir))?;
    let polling = rt.block_on(polling_bench())?;
    let many = rt.block_on(many_bench(&dir, &python))?;
    Ok(format!(
        "## Scanning (`cargo xtask bench scan`)\n\n\
         Machine: 2 cores shared by the client, the server and the other tool; xtask built with \
         the `release` profile. Python tools ({HTTPX}, {REQUESTS}) in a venv under \
         `<target>/bench/scan/venv`.\n\n\
         Run with `cargo run --release -p xtask -- bench scan`.\n\n{upload}\n{rss}\n{polling}\n{many}"
    ))
}

/// A venv with the pinned Python packages; made once.
fn venv(dir: &Path) -> anyhow::Result<PathBuf> {
    let venv = dir.join("venv");
    let python = venv.join("bin/python");
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import httpx, requests"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("python3 -m venv")?;
        if !ok.success() {
            bail!("python3 -m venv failed");
        }
        let ok = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", HTTPX, REQUESTS])
            .status()
            .context("pip install")?;
        if !ok.success() {
            bail!("pip install {HTTPX} {REQUESTS} failed");
        }
    }
    Ok(python)
}

/// An upload sink: reads `POST /file` bodies (refusing chunked ones with 411, like Core) and
/// answers a data id. Nothing is stored.
async fn sink() -> anyhow::Result<(String, Arc<AtomicU64>)> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let url = format!("http://{}", std_listener.local_addr()?);
    let chunked = Arc::new(AtomicU64::new(0));
    let seen = chunked.clone();
    // Its own thread and runtime: the sink must not share the client's worker threads (curl and
    // Python run in their own processes).
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("sink runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("sink listener");
            while let Ok((sock, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, seen).await;
                });
            }
        });
    });
    Ok((url, chunked))
}

async fn serve(mut sock: tokio::net::TcpStream, chunked: Arc<AtomicU64>) -> std::io::Result<()> {
    let _ = sock.set_nodelay(true);
    let mut buf = vec![0u8; 256 * 1024];
    let mut have = 0usize;
    loop {
        let head_end = loop {
            if let Some(i) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if have == buf.len() {
                return Ok(());
            }
            let n = sock.read(&mut buf[have..]).await?;
            if n == 0 {
                return Ok(());
            }
            have += n;
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let expect_continue = head.contains("expect: 100-continue");
        let len = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<u64>().ok());
        let Some(len) = len.filter(|_| !head.contains("transfer-encoding")) else {
            chunked.fetch_add(1, Ordering::SeqCst);
            let body = b"{\"err\":\"Missing Content-Length header.\"}";
            let answer = format!("HTTP/1.1 411 Length Required\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
            sock.write_all(answer.as_bytes()).await?;
            sock.write_all(body).await?;
            return Ok(());
        };
        if expect_continue {
            sock.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        let mut left = len;
        let extra = (have - head_end) as u64;
        let used = extra.min(left);
        left -= used;
        let rest_start = head_end + used as usize;
        buf.copy_within(rest_start..have, 0);
        have -= rest_start;
        while left > 0 {
            let want = (buf.len() as u64).min(left) as usize;
            let n = sock.read(&mut buf[..want]).await?;
            if n == 0 {
                return Ok(());
            }
            left -= n as u64;
        }
        let body = b"{\"data_id\":\"00000000000000000000000000000001\"}";
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        sock.write_all(answer.as_bytes()).await?;
        sock.write_all(body).await?;
    }
}

/// Peak RSS of this process in KiB (Linux).
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
        .unwrap_or_else(|| "n/a".into())
}

fn mib_s(secs: f64) -> f64 {
    GIB as f64 / (1024.0 * 1024.0) / secs
}

async fn upload_bench(dir: &Path, python: &Path, runs: usize) -> anyhow::Result<String> {
    let file = dir.join("one-gib.bin");
    // Sparse: every tool reads the same zeros without disk I/O.
    std::fs::File::create(&file)?.set_len(GIB)?;
    let (url, chunked) = sink().await?;
    let script = dir.join("upload_requests.py");
    std::fs::write(&script, REQUESTS_SCRIPT)?;
    let client = Client::builder(url.clone()).build()?;
    let (mut ours, mut curl, mut py) = (Vec::new(), Vec::new(), Vec::new());
    let hwm_before = vm_hwm_kib();
    let mut hwm_after = None;
    for _ in 0..runs {
        let t = Instant::now();
        let _accepted = client.scan(file.as_path()).submit().await?;
        ours.push(t.elapsed().as_secs_f64());
        hwm_after = hwm_after.or(vm_hwm_kib());

        let out = tokio::process::Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{time_total}",
                "-X",
                "POST",
            ])
            .args([
                "-H",
                "Content-Type: application/octet-stream",
                "-H",
                "filename: one-gib.bin",
                "-T",
            ])
            .arg(&file)
            .arg(format!("{url}/file"))
            .output()
            .await?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (code, secs) = text.split_once(' ').context("curl output")?;
        if code != "200" {
            bail!("curl answered {text}");
        }
        curl.push(secs.trim().parse()?);

        let out = tokio::process::Command::new(python)
            .arg(&script)
            .arg(&url)
            .arg(&file)
            .output()
            .await?;
        if !out.status.success() {
            bail!("python requests: {}", String::from_utf8_lossy(&out.stderr));
        }
        py.push(String::from_utf8_lossy(&out.stdout).trim().parse()?);
    }
    let _ = std::fs::remove_file(&file);
    let (ours, curl, py) = (median(ours), median(curl), median(py));
    let fastest = curl.min(py);
    let ratio = fastest / ours;
    let refused = chunked.load(Ordering::SeqCst);
    Ok(format!(
        "### 1 GiB upload to one sink (median of {runs})\n\n\
         The sink reads and discards the body and refuses chunked uploads with 411 as Core does \
         ({refused} refused in this run).\n\n\
         | tool | time | throughput |\n|---|---|---|\n\
         | `client.scan(path).submit()` | {ours:.2} s | {:.0} MiB/s |\n\
         | `curl -T` | {curl:.2} s | {:.0} MiB/s |\n\
         | Python requests (`data=open(...)`) | {py:.2} s | {:.0} MiB/s |\n\n\
         Ours vs the fastest other: {ratio:.2}x (target ≥ 0.9x): {}\n\n\
         Peak RSS of the bench process (our client and the sink) before / after our first 1 GiB \
         upload: {} / {} (target < 48 MiB for the client).\n",
        mib_s(ours),
        mib_s(curl),
        mib_s(py),
        if ratio >= 0.9 { "met" } else { "NOT met" },
        mib(hwm_before),
        mib(hwm_after),
    ))
}

/// A 1 GiB scan through the simulator by a child process running only the client.
async fn rss_bench(dir: &Path) -> anyhow::Result<String> {
    let file = dir.join("one-gib-scan.bin");
    std::fs::File::create(&file)?.set_len(GIB)?;
    let sim = mdcore_sim::Simulator::start(
        mdcore_sim::SimConfig::default().phase(Duration::from_millis(50)),
    )
    .await?;
    let out = tokio::process::Command::new(std::env::current_exe()?)
        .args(["bench", "scan", "--no-write"])
        .env(CHILD_ENV, format!("{}|{}", sim.url(), file.display()))
        .output()
        .await?;
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CHILD "))
        .with_context(|| format!("child: {stdout} {}", String::from_utf8_lossy(&out.stderr)))?;
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .unwrap_or("")
            .to_string()
    };
    let hwm: u64 = field("vmhwm_kib").parse()?;
    let uploads = sim.counters().get("POST /file");
    sim.shutdown().await;
    Ok(format!(
        "### 1 GiB scanned end to end (client alone in a child process)\n\n\
         | measure | value |\n|---|---|\n\
         | verdict | {} |\n| upload + scan + polls | {} s |\n\
         | `POST /file` requests (the simulator refuses chunked bodies with 411) | {uploads} |\n\
         | client peak RSS (VmHWM) | {:.1} MiB (target < 48 MiB): {} |\n\n\
         The same check as a test: `cargo test --release -p metadefender-core --test scan_large \
         -- --ignored --nocapture`.\n",
        field("verdict"),
        field("secs"),
        hwm as f64 / 1024.0,
        if hwm < 48 * 1024 && uploads == 1 {
            "met"
        } else {
            "NOT met"
        }
    ))
}

/// One scan polled by a fixed 250 ms loop: (requests, detection delay).
async fn fixed_poller(
    client: &Client,
    http: &reqwest::Client,
    base: &str,
    scan: Duration,
    i: usize,
) -> anyhow::Result<(u64, Duration)> {
    let submitted = client
        .scan(metadefender_core::Source::bytes(
            format!("fixed {i}").into_bytes(),
            Some(format!("fixed{i}.txt")),
        ))
        .submit()
        .await?;
    let answered = Instant::now();
    let mut polls = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        polls += 1;
        let v: serde_json::Value = http
            .get(format!("{base}/file/{}", submitted.data_id()))
            .send()
            .await?
            .json()
            .await?;
        if v["process_info"]["progress_percentage"] == 100 {
            return Ok((polls, answered.elapsed().saturating_sub(scan)));
        }
    }
}

/// One scan with our poller: its detection delay (requests are counted by the simulator).
async fn our_poller(s: &Scanner, scan: Duration, i: usize) -> anyhow::Result<(u64, Duration)> {
    let submitted = s
        .scan(metadefender_core::Source::bytes(
            format!("ours {i}").into_bytes(),
            Some(format!("ours{i}.txt")),
        ))
        .submit()
        .await?;
    let answered = Instant::now();
    submitted.wait().await?;
    Ok((0, answered.elapsed().saturating_sub(scan)))
}

async fn polling_bench() -> anyhow::Result<String> {
    let scan = Duration::from_secs(10);
    let cfg = mdcore_sim::SimConfig::default().phase(scan / 6);
    let ours_sim = mdcore_sim::Simulator::start(cfg.clone()).await?;
    let fixed_sim = mdcore_sim::Simulator::start(cfg).await?;
    const N: usize = 3;
    let scanners: Vec<Scanner> = (0..N)
        .map(|_| Client::builder(ours_sim.url()).build().map(|c| c.scanner()))
        .collect::<Result<_, _>>()?;
    let fixed_client = Client::builder(fixed_sim.url()).build()?;
    let http = reqwest::Client::new();
    let base = fixed_sim.url();

    // Round 1: cold scanners beside the fixed poller; round 2: the same scanners, warm.
    let fixed = futures::future::try_join_all(
        (0..N).map(|i| fixed_poller(&fixed_client, &http, &base, scan, i)),
    );
    let cold = futures::future::try_join_all(
        scanners
            .iter()
            .enumerate()
            .map(|(i, s)| our_poller(s, scan, i)),
    );
    let (fixed, cold) = futures::future::try_join(fixed, cold).await?;
    let cold_polls = ours_sim.counters().get("GET /file/{data_id}");
    let warm = futures::future::try_join_all(
        scanners
            .iter()
            .enumerate()
            .map(|(i, s)| our_poller(s, scan, N + i)),
    )
    .await?;
    let warm_polls = ours_sim.counters().get("GET /file/{data_id}") - cold_polls;
    let fixed_polls: u64 = fixed.iter().map(|(p, _)| p).sum();
    let mean = |v: &[(u64, Duration)]| {
        v.iter().map(|(_, d)| d.as_secs_f64()).sum::<f64>() / v.len() as f64
    };
    let per = |n: u64| n as f64 / N as f64;
    let ratio = per(cold_polls) / per(fixed_polls);
    ours_sim.shutdown().await;
    fixed_sim.shutdown().await;
    Ok(format!(
        "### Polling a 10 s scan ({N} scans each, concurrently)\n\n\
         | poller | requests per scan | detection delay (mean) |\n|---|---|---|\n\
         | fixed 250 ms | {:.1} | {:.0} ms |\n\
         | ours, first scan of a scanner (250 ms × 1.5, cap 5 s, progress estimate) | {:.1} | {:.0} ms |\n\
         | ours, next scan (first poll at the learned duration) | {:.1} | {:.0} ms |\n\n\
         Requests, ours (first scan) / fixed: {ratio:.2} (target ≤ 0.33): {}\n",
        per(fixed_polls),
        mean(&fixed) * 1000.0,
        per(cold_polls),
        mean(&cold) * 1000.0,
        per(warm_polls),
        mean(&warm) * 1000.0,
        if ratio <= 1.0 / 3.0 { "met" } else { "NOT met" }
    ))
}

async fn many_bench(dir: &Path, python: &Path) -> anyhow::Result<String> {
    const FILES: usize = 400;
    const CONCURRENCY: usize = 8;
    let folder = dir.join("many");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder)?;
    let mut paths = Vec::new();
    for i in 0..FILES {
        let p = folder.join(format!("f{i:04}.bin"));
        std::fs::write(&p, format!("{i:>4096}"))?;
        paths.push(p);
    }
    let script = dir.join("many_httpx.py");
    std::fs::write(&script, HTTPX_SCRIPT)?;
    let mut rows = String::new();
    let mut verdicts = Vec::new();
    // Short scans (small files on a fast server), then the simulator's default.
    for phase in [Duration::from_millis(10), Duration::from_millis(40)] {
        let cfg = mdcore_sim::SimConfig::default().phase(phase);
        let scan_ms = cfg.scan_duration().as_millis();

        let sim = mdcore_sim::Simulator::start(cfg.clone()).await?;
        let s = Client::builder(sim.url()).build()?.scanner();
        let t = Instant::now();
        let mut results = s
            .scan_many(futures::stream::iter(paths.clone()))
            .concurrency(CONCURRENCY)
            .run();
        let mut ok = 0;
        while let Some(item) = results.next().await {
            item.result?;
            ok += 1;
        }
        let ours = t.elapsed().as_secs_f64();
        let ours_requests = sim.counters().total();
        sim.shutdown().await;
        if ok != FILES {
            bail!("scan_many gave {ok} results for {FILES} files");
        }

        let sim = mdcore_sim::Simulator::start(cfg).await?;
        let out = tokio::process::Command::new(python)
            .arg(&script)
            .arg(sim.url())
            .arg(&folder)
            .arg(CONCURRENCY.to_string())
            .output()
            .await?;
        if !out.status.success() {
            bail!("httpx script: {}", String::from_utf8_lossy(&out.stderr));
        }
        let py: f64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;
        let py_requests = sim.counters().total();
        sim.shutdown().await;
        let ratio = py / ours;
        // No client keeping CONCURRENCY scans in flight can finish sooner than this.
        let floor = (FILES / CONCURRENCY) as f64 * scan_ms as f64 / 1000.0;
        rows.push_str(&format!(
            "| {scan_ms} ms | {floor:.1} s | {ours:.2} s, {:.0} files/s, {ours_requests} requests | \
             {py:.2} s, {:.0} files/s, {py_requests} requests | {ratio:.2}x |\n",
            FILES as f64 / ours,
            FILES as f64 / py,
        ));
        verdicts.push((scan_ms, ratio));
    }
    let (short_ms, short) = verdicts[0];
    let (long_ms, long) = verdicts[verdicts.len() - 1];
    Ok(format!(
        "### `scan_many` vs Python asyncio + httpx ({FILES} files of 4 KiB, concurrency {CONCURRENCY} each)\n\n\
         The script polls every 250 ms (the vendor's \"every few hundred milliseconds\"); ours \
         learns the scan duration and polls near it. The gain is the polling delay saved per \
         file, so it grows as scans get shorter than the script's interval.\n\n\
         | scan duration | floor (files / concurrency × scan) | `scanner.scan_many(paths).concurrency({CONCURRENCY})` | Python asyncio + httpx | ours / Python |\n\
         |---|---|---|---|---|\n{rows}\n\
         Throughput with {short_ms} ms scans, ours / Python: {short:.2}x (target ≥ 2x): {}. \
         With {long_ms} ms scans: {long:.2}x; there the script's first poll at 250 ms already \
         finds the scan done and both sides sit near the floor, which no client can beat at \
         the same concurrency: the 2x target holds only where polling delay, not the scan, \
         bounds throughput.\n",
        if short >= 2.0 { "met" } else { "NOT met" }
    ))
}
