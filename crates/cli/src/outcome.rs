//! What happened to each file, how it reads as a line or as JSON, and the exit code of a run.

use std::path::PathBuf;
use std::process::ExitCode;

use metadefender_core::scan::{code_name, threats_of, ScanReport, Threat, Verdict};
use metadefender_core::types::AnalysisResult;
use serde_json::{json, Value};

/// The exit codes (documented in `mdcore --help` and docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Clean = 0,
    /// Any other error: ranks below a threat, so a run that found a threat exits 1 even when
    /// another file failed.
    Error = 2,
    Threat = 1,
}

impl Exit {
    fn rank(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Error => 1,
            Exit::Threat => 2,
        }
    }

    /// The more important of two.
    pub fn max(self, other: Exit) -> Exit {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// The exit code a verdict gives.
    pub fn of_verdict(v: &Verdict) -> Exit {
        match v {
            Verdict::Clean { .. } => Exit::Clean,
            Verdict::Infected { .. } | Verdict::Suspicious { .. } | Verdict::Blocked { .. } => {
                Exit::Threat
            }
            // Not scanned, or a code this tool does not know: not known to be clean.
            _ => Exit::Error,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// The verdict part of a result, from a report or from a bare result.
#[derive(Debug, Clone)]
pub struct Finished {
    pub data_id: String,
    pub verdict: Verdict,
    pub sha256: Option<String>,
    pub from_cache: bool,
}

impl Finished {
    pub fn from_report(r: &ScanReport) -> Self {
        Self {
            data_id: r.data_id.clone(),
            verdict: r.verdict.clone(),
            sha256: r.sha256().map(str::to_string),
            from_cache: r.from_cache,
        }
    }

    /// A finished result fetched on its own (`status`, `hash`): threats come from its own
    /// engines only, archive children are not looked up.
    pub fn from_result(data_id: &str, r: &AnalysisResult) -> Self {
        let threats = threats_of(r.scan_results.as_ref(), None);
        Self {
            data_id: r.data_id.clone().unwrap_or_else(|| data_id.to_string()),
            verdict: Verdict::from_result(r, threats),
            sha256: r.file_info.as_ref().and_then(|f| f.sha256.clone()),
            from_cache: false,
        }
    }
}

/// What became of one file (or one data id).
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Scanned to the end.
    Done {
        finished: Finished,
        /// Where the sanitized copy was written.
        sanitized: Option<PathBuf>,
        /// Why the sanitized copy could not be written (asked for, not produced).
        sanitize_note: Option<SanitizeNote>,
    },
    /// Uploaded; not waited for.
    Submitted { data_id: String },
    /// Still running (`status` without `--wait`).
    Running {
        data_id: String,
        percent: Option<i64>,
    },
    /// Could not be scanned. `fatal`: the server cannot be used at all (unreachable, or the
    /// credential refused), so the other files would fail the same way.
    Failed { message: String, fatal: bool },
}

/// Sanitization asked for but no copy written.
#[derive(Debug, Clone)]
pub enum SanitizeNote {
    /// The rule did not sanitize this file: not an error.
    NotProduced,
    /// The download failed.
    Failed(String),
}

impl Outcome {
    /// A file that could not be scanned, for a reason that concerns it alone.
    pub fn failed(message: impl Into<String>) -> Outcome {
        Outcome::Failed {
            message: message.into(),
            fatal: false,
        }
    }

    pub fn exit(&self) -> Exit {
        match self {
            Outcome::Done {
                finished,
                sanitize_note,
                ..
            } => {
                let e = Exit::of_verdict(&finished.verdict);
                match sanitize_note {
                    Some(SanitizeNote::Failed(_)) => e.max(Exit::Error),
                    _ => e,
                }
            }
            Outcome::Submitted { .. } | Outcome::Running { .. } => Exit::Clean,
            Outcome::Failed { .. } => Exit::Error,
        }
    }

    /// One human-readable line (without the path).
    pub fn describe(&self) -> String {
        match self {
            Outcome::Done {
                finished,
                sanitized,
                sanitize_note,
            } => {
                let mut s = finished.verdict.to_string();
                if finished.from_cache {
                    s.push_str(" (known by hash)");
                }
                if let Some(p) = sanitized {
                    s.push_str(&format!("; sanitized copy: {}", p.display()));
                }
                match sanitize_note {
                    Some(SanitizeNote::NotProduced) => {
                        s.push_str("; no sanitized copy (the rule did not sanitize it)")
                    }
                    Some(SanitizeNote::Failed(m)) => {
                        s.push_str(&format!("; sanitized copy failed: {m}"))
                    }
                    None => {}
                }
                format!("{s}  [data_id {}]", finished.data_id)
            }
            Outcome::Submitted { data_id } => format!("submitted  [data_id {data_id}]"),
            Outcome::Running { data_id, percent } => match percent {
                Some(p) => format!("in progress, {p}%  [data_id {data_id}]"),
                None => format!("in progress  [data_id {data_id}]"),
            },
            Outcome::Failed { message, .. } => format!("error: {message}"),
        }
    }

    /// The JSON object of one result line. `name` is the path or the name the line is about.
    pub fn to_json(&self, key: &str, name: &str) -> Value {
        let mut v = match self {
            Outcome::Done {
                finished,
                sanitized,
                sanitize_note,
            } => {
                let verdict = &finished.verdict;
                json!({
                    "status": "done",
                    "verdict": verdict.kind(),
                    "code": verdict.code(),
                    "code_name": code_name(verdict.code()),
                    "summary": verdict.to_string(),
                    "threats": verdict.threats().iter().map(threat_json).collect::<Vec<_>>(),
                    "data_id": finished.data_id,
                    "sha256": finished.sha256,
                    "from_cache": finished.from_cache,
                    "sanitized_file": sanitized.as_ref().map(|p| p.display().to_string()),
                    "sanitize_error": match sanitize_note {
                        Some(SanitizeNote::Failed(m)) => Some(m.clone()),
                        _ => None,
                    },
                })
            }
            Outcome::Submitted { data_id } => json!({"status": "submitted", "data_id": data_id}),
            Outcome::Running { data_id, percent } => {
                json!({"status": "in_progress", "data_id": data_id, "progress": percent})
            }
            Outcome::Failed { message, .. } => json!({"status": "error", "error": message}),
        };
        if let Value::Object(map) = &mut v {
            map.insert(key.to_string(), Value::String(name.to_string()));
            map.insert("exit".into(), json!(self.exit() as u8));
        }
        v
    }
}

fn threat_json(t: &Threat) -> Value {
    json!({"engine": t.engine, "name": t.name, "file": t.file})
}

/// Counts of a run, for the summary line and the exit code.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub clean: usize,
    pub threats: usize,
    pub failed: usize,
    pub pending: usize,
}

impl Tally {
    pub fn add(&mut self, o: &Outcome) {
        match (o, o.exit()) {
            (Outcome::Submitted { .. } | Outcome::Running { .. }, _) => self.pending += 1,
            (_, Exit::Clean) => self.clean += 1,
            (_, Exit::Threat) => self.threats += 1,
            (_, Exit::Error) => self.failed += 1,
        }
    }

    pub fn exit(&self) -> Exit {
        if self.threats > 0 {
            Exit::Threat
        } else if self.failed > 0 {
            Exit::Error
        } else {
            Exit::Clean
        }
    }

    pub fn summary(&self) -> String {
        let total = self.clean + self.threats + self.failed + self.pending;
        let mut parts = Vec::new();
        if self.clean > 0 {
            parts.push(format!("{} clean", self.clean));
        }
        if self.threats > 0 {
            parts.push(format!("{} with threats or blocked", self.threats));
        }
        if self.failed > 0 {
            parts.push(format!("{} failed", self.failed));
        }
        if self.pending > 0 {
            parts.push(format!("{} submitted", self.pending));
        }
        let files = if total == 1 { "file" } else { "files" };
        format!("{total} {files}: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threat_outranks_an_error_which_outranks_clean() {
        let mut t = Tally::default();
        t.add(&Outcome::failed("x"));
        assert_eq!(t.exit(), Exit::Error);
        t.add(&Outcome::Done {
            finished: Finished {
                data_id: "d".into(),
                verdict: Verdict::Infected {
                    code: 1,
                    threats: vec![],
                },
                sha256: None,
                from_cache: false,
            },
            sanitized: None,
            sanitize_note: None,
        });
        assert_eq!(t.exit(), Exit::Threat);
        assert_eq!(Exit::Clean.max(Exit::Error).max(Exit::Clean), Exit::Error);
        assert_eq!(Exit::Threat.max(Exit::Error), Exit::Threat);
        assert_eq!(Tally::default().exit(), Exit::Clean);
        assert_eq!(t.summary(), "2 files: 1 with threats or blocked, 1 failed");
    }
}
