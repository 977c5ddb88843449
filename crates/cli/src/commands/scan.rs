//! `mdcore scan`: walk the paths, scan up to N files at once, print each result as it comes,
//! download sanitized copies.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use metadefender_core::scan::{CallbackOptions, CallbackReceiver, ScanEvent, ScanReport};

use crate::cli::ScanArgs;
use crate::error::{chain, CliError};
use crate::outcome::{Finished, Outcome, SanitizeNote, Tally};
use crate::output::Output;
use crate::server::Server;
use crate::walk::{Entry, Walk};

/// How long a scan waits for its callback before polling instead.
const CALLBACK_WAIT: Duration = Duration::from_secs(120);

/// How results come back.
#[derive(Debug, Clone, Default)]
pub enum Callback {
    /// Polling.
    #[default]
    None,
    /// A receiver in this process.
    Listen(CallbackReceiver),
    /// A URL of the user's, handed to the server; this tool does not see the callback.
    Url(String),
}

/// The options of a run, resolved from the arguments.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub rules: Vec<String>,
    pub wait: bool,
    pub sanitized_out: Option<PathBuf>,
    pub concurrency: usize,
    pub hash_first: bool,
    pub callback: Callback,
}

impl ScanOptions {
    /// Resolves the arguments; binds the callback receiver and creates the output directory.
    pub async fn from_args(a: &ScanArgs) -> Result<ScanOptions, CliError> {
        let callback = match &a.callback {
            None => Callback::None,
            Some(c) if c.starts_with("http://") || c.starts_with("https://") => {
                Callback::Url(c.clone())
            }
            Some(addr) => {
                let listen = resolve(addr)?;
                let rx = CallbackReceiver::bind(CallbackOptions {
                    listen,
                    public_url: a.callback_public_url.clone(),
                    ..CallbackOptions::default()
                })
                .await
                .map_err(CliError::Scan)?;
                Callback::Listen(rx)
            }
        };
        if let Some(dir) = &a.sanitized_out {
            std::fs::create_dir_all(dir).map_err(|e| {
                CliError::io(format!("cannot create the directory {}", dir.display()), e)
            })?;
        }
        Ok(ScanOptions {
            rules: a.rule.clone(),
            wait: a.wait || a.sanitized_out.is_some() || matches!(callback, Callback::Listen(_)),
            sanitized_out: a.sanitized_out.clone(),
            concurrency: usize::from(a.concurrency),
            hash_first: a.hash_first,
            callback,
        })
    }
}

fn resolve(addr: &str) -> Result<std::net::SocketAddr, CliError> {
    use std::net::ToSocketAddrs;
    let bad = |why: String| {
        CliError::Usage(format!(
            "--callback {addr}: {why}; give HOST:PORT to listen on (e.g. 127.0.0.1:0) or an http(s) URL"
        ))
    };
    addr.to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("no address".into()))
}

/// Scans every file under `paths` and prints each result; returns the counts.
pub async fn run(server: &Server, out: &Output, paths: &[PathBuf], opts: &ScanOptions) -> Tally {
    let names = Names::default();
    let mut tally = Tally::default();
    let mut walk = Walk::new(paths);
    if let Some(dir) = &opts.sanitized_out {
        walk = walk.skip_dir(dir);
    }
    let mut results = futures::stream::iter(walk)
        .map(|entry| {
            let names = &names;
            async move {
                match entry {
                    Entry::File(path) => {
                        let o = scan_file(server, out, &path, opts, names).await;
                        (path, o)
                    }
                    Entry::Problem { path, reason } => (path, Outcome::failed(reason)),
                }
            }
        })
        .buffer_unordered(opts.concurrency.max(1));
    while let Some((path, outcome)) = results.next().await {
        out.file_result(&path, &outcome);
        tally.add(&outcome);
        if let Outcome::Failed { fatal: true, .. } = outcome {
            // Dropping the stream stops the scans in flight; the rest are not started.
            out.note("mdcore: stopped: the server cannot be used (see the error above); the remaining files were not scanned");
            break;
        }
    }
    tally
}

/// Scans one file (uploads it, waits when asked, downloads the sanitized copy when asked).
pub async fn scan_file(
    server: &Server,
    out: &Output,
    path: &Path,
    opts: &ScanOptions,
    names: &Names,
) -> Outcome {
    let bar = out.file_bar(path);
    let mut b = server.scanner.scan(path).hash_first(opts.hash_first);
    for r in &opts.rules {
        b = b.rule(r.clone());
    }
    match &opts.callback {
        Callback::Listen(rx) => b = b.callback(rx, CALLBACK_WAIT),
        Callback::Url(u) => b = b.callback_url(u.clone()),
        Callback::None => {}
    }
    if bar.is_shown() {
        b = b.progress(bar.uploader());
    }
    let failed = |e| {
        let e = CliError::from_scan(server.url(), server.ctx.had_key, e);
        Outcome::Failed {
            message: chain(&e),
            fatal: matches!(e, CliError::Unreachable { .. } | CliError::Auth { .. }),
        }
    };
    let submitted = match b.submit().await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    if !opts.wait && !submitted.from_cache() {
        return Outcome::Submitted {
            data_id: submitted.data_id().to_string(),
        };
    }
    // One path for terminals and pipes (the bar does nothing off a terminal); a callback
    // receiver completes the scan through `wait`, which knows about it.
    let report = if !matches!(opts.callback, Callback::Listen(_)) {
        bar.scanning(Some(0));
        let mut updates = std::pin::pin!(submitted.updates());
        let mut last = None;
        while let Some(event) = updates.next().await {
            match event {
                Ok(ScanEvent::Progress(p)) => bar.scanning(p.percent.or(p.scan_percent)),
                Ok(ScanEvent::Finished(r)) => last = Some(Ok(*r)),
                Ok(_) => {}
                Err(e) => last = Some(Err(e)),
            }
        }
        match last {
            Some(r) => r,
            None => return Outcome::failed("the scan ended without a result"),
        }
    } else {
        bar.message("waiting for the callback");
        submitted.wait().await
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let (sanitized, sanitize_note) = match &opts.sanitized_out {
        Some(dir) => {
            bar.message("downloading the sanitized copy");
            sanitize(server, &report, path, dir, names).await
        }
        None => (None, None),
    };
    Outcome::Done {
        finished: Finished::from_report(&report),
        sanitized,
        sanitize_note,
    }
}

/// Downloads the sanitized copy of `report` into `dir`, named after the server's file name
/// (else `sanitized_<name>`), never over another file.
async fn sanitize(
    server: &Server,
    report: &ScanReport,
    path: &Path,
    dir: &Path,
    names: &Names,
) -> (Option<PathBuf>, Option<SanitizeNote>) {
    if !report.sanitized() {
        return (None, Some(SanitizeNote::NotProduced));
    }
    let staging = dir.join(format!(".mdcore-{}.download", report.data_id));
    let got = server
        .scanner
        .download_sanitized_to_file(&report.data_id, &staging)
        .await;
    let downloaded = match got {
        Ok(d) => d,
        Err(e) => {
            let e = CliError::from_scan(server.url(), server.ctx.had_key, e);
            return (None, Some(SanitizeNote::Failed(chain(&e))));
        }
    };
    let local = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| report.data_id.clone());
    let wanted = downloaded
        .file_name
        .unwrap_or_else(|| format!("sanitized_{local}"));
    let target = names.reserve(dir, &wanted);
    match std::fs::rename(&staging, &target) {
        Ok(()) => (Some(target), None),
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            let why = format!("cannot move it to {}: {e}", target.display());
            (None, Some(SanitizeNote::Failed(why)))
        }
    }
}

/// Names taken in the output directory during this run: two inputs called `a.txt` in
/// different directories give `a.txt` and `a-1.txt`; existing files are never replaced.
#[derive(Debug, Default)]
pub struct Names {
    used: Mutex<HashSet<PathBuf>>,
}

impl Names {
    pub fn reserve(&self, dir: &Path, wanted: &str) -> PathBuf {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let p = Path::new(wanted);
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| wanted.to_string());
        let ext = p.extension().map(|e| e.to_string_lossy().into_owned());
        let mut n = 0u64;
        loop {
            let name = match (n, &ext) {
                (0, _) => wanted.to_string(),
                (n, Some(ext)) => format!("{stem}-{n}.{ext}"),
                (n, None) => format!("{stem}-{n}"),
            };
            let candidate = dir.join(name);
            if !used.contains(&candidate) && !candidate.exists() {
                used.insert(candidate.clone());
                return candidate;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_collide() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "x").unwrap();
        let n = Names::default();
        assert_eq!(n.reserve(dir.path(), "a.txt"), dir.path().join("a-1.txt"));
        assert_eq!(n.reserve(dir.path(), "a.txt"), dir.path().join("a-2.txt"));
        assert_eq!(n.reserve(dir.path(), "b"), dir.path().join("b"));
        assert_eq!(n.reserve(dir.path(), "b"), dir.path().join("b-1"));
    }
}
