//! `mdcore-sim`: runs the MetaDefender Core simulator until interrupted.

use std::process::ExitCode;
use std::time::Duration;

use mdcore_sim::{AuthConfig, NotFoundStyle, SimConfig, Simulator};

const USAGE: &str = "\
Usage: mdcore-sim [--listen ADDR] [options]

Options:
  --listen ADDR             address to bind (default 127.0.0.1:8008)
  --phase-ms N              duration of one life-cycle phase in ms (default 40)
  --apikey KEY              require this apikey (repeatable; enables auth)
  --user NAME:PASSWORD      a user for POST /login (repeatable; enables auth)
  --queue-capacity N        files in flight before 503 (default 500)
  --not-found-style STYLE   404 | body (HTTP 200 {\"<id>\":\"Not Found\"}) (default 404)
  --suspicious PATTERN      bytes that make a file Suspicious (repeatable)
  --sync-timeout-ms N       POST /file/sync timeout in ms (default 300000)
  --storage DIR             where uploads are kept (default: a temporary directory)
  -h, --help                this text
";

fn parse(args: Vec<String>) -> Result<SimConfig, String> {
    let mut cfg = SimConfig::default().listen(([127, 0, 0, 1], 8008).into());
    let mut auth: Option<AuthConfig> = None;
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--listen" => {
                let v = value("--listen")?;
                cfg.listen = v
                    .parse()
                    .map_err(|_| format!("--listen: not an address: {v}"))?;
            }
            "--phase-ms" => {
                let v = value("--phase-ms")?;
                let ms: u64 = v
                    .parse()
                    .map_err(|_| format!("--phase-ms: not a number: {v}"))?;
                cfg.phase_duration = Duration::from_millis(ms);
            }
            "--apikey" => {
                let v = value("--apikey")?;
                auth.get_or_insert_with(AuthConfig::default).apikeys.push(v);
            }
            "--user" => {
                let v = value("--user")?;
                let (name, pw) = v.split_once(':').ok_or("--user: expected NAME:PASSWORD")?;
                let a = auth.take().unwrap_or_default();
                auth = Some(a.user(name, pw));
            }
            "--queue-capacity" => {
                let v = value("--queue-capacity")?;
                cfg.queue_capacity = v
                    .parse()
                    .map_err(|_| format!("--queue-capacity: not a number: {v}"))?;
            }
            "--not-found-style" => {
                cfg.not_found_style = match value("--not-found-style")?.as_str() {
                    "404" => NotFoundStyle::Http404,
                    "body" | "200" => NotFoundStyle::Http200Body,
                    other => {
                        return Err(format!(
                            "--not-found-style: expected 404 or body, got {other}"
                        ))
                    }
                };
            }
            "--suspicious" => {
                let v = value("--suspicious")?;
                cfg.suspicious_patterns.push(v.into_bytes());
            }
            "--sync-timeout-ms" => {
                let v = value("--sync-timeout-ms")?;
                let ms: u64 = v
                    .parse()
                    .map_err(|_| format!("--sync-timeout-ms: not a number: {v}"))?;
                cfg.sync_timeout = Duration::from_millis(ms);
            }
            "--storage" => cfg.storage_dir = Some(value("--storage")?.into()),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    cfg.auth = auth;
    Ok(cfg)
}

fn main() -> ExitCode {
    let cfg = match parse(std::env::args().skip(1).collect()) {
        Ok(c) => c,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mdcore-sim: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mdcore-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async {
        let sim = match Simulator::start(cfg).await {
            Ok(s) => s,
            Err(e) => {
                let mut msg = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    msg.push_str(&format!(": {s}"));
                    src = s.source();
                }
                eprintln!("mdcore-sim: {msg}");
                return ExitCode::FAILURE;
            }
        };
        println!("mdcore-sim listening on {}", sim.url());
        wait_for_signal().await;
        sim.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
