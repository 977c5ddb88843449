//! Where results go: plain lines or NDJSON on stdout, a summary and notes on stderr, and
//! progress bars on stderr when it is a terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::outcome::{Outcome, Tally};

/// The printer of one command.
#[derive(Clone)]
pub struct Output {
    json: bool,
    bars: Option<MultiProgress>,
}

impl Output {
    /// Bars only when stderr is a terminal and they were not turned off.
    pub fn new(json: bool, no_progress: bool) -> Self {
        let bars = (!no_progress && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self { json, bars }
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// Writes a line to stdout without tearing the bars.
    pub fn line(&self, text: &str) {
        let write = || {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`mdcore ... | head`) must not panic; the exit code still tells.
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        };
        match &self.bars {
            Some(m) => m.suspend(write),
            None => write(),
        }
    }

    /// A note for people (stderr), never part of the JSON stream.
    pub fn note(&self, text: &str) {
        let write = || eprintln!("{text}");
        match &self.bars {
            Some(m) => m.suspend(write),
            None => write(),
        }
    }

    /// Narrative for people: stdout with plain lines, stderr in JSON mode (stdout holds only
    /// JSON there).
    pub fn say(&self, text: &str) {
        if self.json {
            self.note(text)
        } else {
            self.line(text)
        }
    }

    /// One JSON object as one line.
    pub fn json_line(&self, v: &Value) {
        self.line(&v.to_string());
    }

    /// The result of one file: `PATH: verdict ...` or its JSON object.
    pub fn file_result(&self, path: &Path, o: &Outcome) {
        let name = path.display().to_string();
        if self.json {
            self.json_line(&o.to_json("path", &name));
        } else {
            self.line(&format!("{name}: {}", o.describe()));
        }
    }

    /// The result of a scan named by its data id.
    pub fn id_result(&self, name: &str, o: &Outcome) {
        if self.json {
            self.json_line(&o.to_json("name", name));
        } else {
            self.line(&format!("{name}: {}", o.describe()));
        }
    }

    /// The summary line of a run (stderr; not in JSON mode, whose lines are results only).
    pub fn summary(&self, t: &Tally) {
        if !self.json {
            self.note(&t.summary());
        }
    }

    /// A bar for one file; does nothing without a terminal.
    pub fn file_bar(&self, path: &Path) -> FileBar {
        let Some(m) = &self.bars else {
            return FileBar(None);
        };
        let bar = m.add(ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:30!} [{bar:25}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        bar.set_prefix(name);
        bar.set_message("waiting");
        bar.enable_steady_tick(Duration::from_millis(120));
        FileBar(Some(bar))
    }
}

/// Progress of one file: upload bytes, then the server's percentage. Dropping it clears the bar.
pub struct FileBar(Option<ProgressBar>);

impl FileBar {
    /// The upload progress callback for this bar.
    pub fn uploader(&self) -> impl Fn(u64, u64) + Send + Sync + 'static {
        let bar = self.0.clone();
        move |sent, total| {
            if let Some(b) = &bar {
                b.set_length(total.max(1));
                b.set_position(sent);
                b.set_message(format!(
                    "uploading {}/{}",
                    human_bytes(sent),
                    human_bytes(total)
                ));
            }
        }
    }

    pub fn is_shown(&self) -> bool {
        self.0.is_some()
    }

    pub fn scanning(&self, percent: Option<i64>) {
        if let Some(b) = &self.0 {
            b.set_length(100);
            let p = percent.unwrap_or(0).clamp(0, 100) as u64;
            b.set_position(p);
            b.set_message(format!("scanning {p}%"));
        }
    }

    pub fn message(&self, text: &'static str) {
        if let Some(b) = &self.0 {
            b.set_message(text);
        }
    }
}

impl Drop for FileBar {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_well() {
        assert_eq!(super::human_bytes(68), "68 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
