//! Shared helpers of the scanning tests: a simulator, a client on it, test files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use mdcore_sim::{SimConfig, Simulator};
use metadefender_core::scan::{PollPolicy, Scanner};
use metadefender_core::Client;

/// The EICAR test string, assembled at run time so that no file of the repository holds it.
pub fn eicar() -> Vec<u8> {
    let parts = [
        "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
        "EICAR",
        "-STANDARD-",
        "ANTIVIRUS",
        "-TEST-FILE!",
        "$H+H*",
    ];
    parts.concat().into_bytes()
}

pub async fn sim(config: SimConfig) -> Simulator {
    Simulator::start(config).await.expect("simulator starts")
}

/// A fast simulator: 10 ms per phase (60 ms per scan).
pub fn fast() -> SimConfig {
    SimConfig::default().phase(Duration::from_millis(10))
}

pub fn client(sim: &Simulator) -> Client {
    Client::builder(sim.url()).build().expect("client builds")
}

/// Polls every few milliseconds: the simulator's scans are short.
pub fn quick_polls() -> PollPolicy {
    PollPolicy {
        initial_interval: Duration::from_millis(15),
        multiplier: 1.2,
        max_interval: Duration::from_millis(100),
        jitter: 0.0,
        not_found_grace: Duration::from_secs(2),
        error_initial: Duration::from_millis(20),
        error_max: Duration::from_millis(200),
        deadline: Some(Duration::from_secs(20)),
        ..PollPolicy::default()
    }
}

pub fn scanner(sim: &Simulator) -> Scanner {
    Scanner::new(client(sim)).with_poll_policy(quick_polls())
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("test file written");
    p
}

/// A zip (deflated) holding the given entries.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            z.start_file(*name, opts).expect("zip entry");
            z.write_all(bytes).expect("zip write");
        }
        z.finish().expect("zip finish");
    }
    out.into_inner()
}
