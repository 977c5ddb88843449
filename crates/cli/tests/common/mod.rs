//! Shared by the CLI tests: a simulator running in the test process on an ephemeral port, and
//! the `mdcore` binary started as a user would, with a clean environment.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use mdcore_sim::{Counters, SimConfig, Simulator};
use serde_json::Value;

/// A simulator served by its own runtime; stopped when dropped.
pub struct Sim {
    rt: tokio::runtime::Runtime,
    sim: Option<Simulator>,
    url: String,
}

impl Sim {
    pub fn start() -> Sim {
        Sim::with(SimConfig::default())
    }

    pub fn with(config: SimConfig) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt.block_on(Simulator::start(config)).expect("simulator");
        let url = sim.url();
        Sim {
            rt,
            sim: Some(sim),
            url,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn counters(&self) -> Counters {
        self.sim.as_ref().expect("running").counters()
    }

    /// `mdcore --url <this simulator>`.
    pub fn mdcore(&self) -> Command {
        let mut c = mdcore();
        c.arg("--url").arg(&self.url);
        c
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

/// The binary with none of the settings of the machine running the tests.
pub fn mdcore() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mdcore"));
    c.env_remove("MDCORE_URL")
        .env_remove("MDCORE_APIKEY")
        .env_remove("MDCORE_PASSWORD")
        .timeout(Duration::from_secs(60));
    c
}

pub fn eicar() -> Vec<u8> {
    mdcore_sim::eicar_test_bytes()
}

pub fn holds_eicar(bytes: &[u8]) -> bool {
    let e = eicar();
    bytes.windows(e.len()).any(|w| w == e.as_slice())
}

/// A zip with the given entries (deflated).
pub fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in entries {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
}

/// Every stdout line parsed as JSON: a line that is not JSON fails the test.
pub fn json_lines(stdout: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(stdout).expect("utf-8 stdout");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The data id printed as `[data_id X]`.
pub fn data_id_in(line: &str) -> String {
    let start = line.find("[data_id ").expect("a data id") + "[data_id ".len();
    line[start..].split(']').next().unwrap().to_string()
}
