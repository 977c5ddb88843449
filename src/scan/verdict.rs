//! What a finished result means: a typed verdict derived from `scan_all_result_i` and
//! `process_info`, and the rules for "finished" and "not found".

use crate::types::{AnalysisResult, MetascanReport};

/// One detection: the engine, the threat name, and for archives the child file it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threat {
    /// Engine that reported it (empty when unknown).
    pub engine: String,
    /// Threat name as reported.
    pub name: String,
    /// Display name of the archive child holding it, when found in a child.
    pub file: Option<String>,
}

/// The verdict of a finished scan. The full result stays available beside it
/// ([`crate::scan::ScanReport::result`]); [`Verdict::code`] keeps the raw `scan_all_result_i`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// No threat (codes 0 and 7 "allowlisted") and the file was allowed.
    Clean {
        /// The raw code.
        code: i64,
    },
    /// Engines found threats (1; also 4 cleaned/deleted, 6 quarantined, 8 blocklisted).
    Infected {
        /// The raw code.
        code: i64,
        /// What was found (may be empty, e.g. for a blocklisted hash).
        threats: Vec<Threat>,
    },
    /// Suspicious, a potentially unwanted program, a matched Yara rule or a vulnerable file
    /// (2, 18, 21, 22).
    Suspicious {
        /// The raw code.
        code: i64,
        /// What was found.
        threats: Vec<Threat>,
    },
    /// The file was blocked without an engine detection: archive limits, encryption, type
    /// mismatch, sensitive data, unsupported type, or a policy decision (`process_info.result`
    /// "Blocked").
    Blocked {
        /// The raw code.
        code: i64,
        /// `process_info.blocked_reason`, or the name of the code.
        reason: String,
    },
    /// The scan did not complete: failed (3), not scanned (10), aborted (11), cancelled (19).
    NotScanned {
        /// The raw code.
        code: i64,
        /// Why, as the server names it.
        reason: String,
    },
    /// A code this client does not know (new server versions add codes), kept as it came.
    Unknown {
        /// The raw code (`-1` when the result had none).
        code: i64,
        /// `scan_all_result_a`, when the server sent it.
        label: Option<String>,
    },
}

impl Verdict {
    /// The raw `scan_all_result_i`.
    pub fn code(&self) -> i64 {
        match self {
            Verdict::Clean { code }
            | Verdict::Infected { code, .. }
            | Verdict::Suspicious { code, .. }
            | Verdict::Blocked { code, .. }
            | Verdict::NotScanned { code, .. }
            | Verdict::Unknown { code, .. } => *code,
        }
    }

    /// Whether the file may be used as it is.
    pub fn is_clean(&self) -> bool {
        matches!(self, Verdict::Clean { .. })
    }

    /// Threats found, if any.
    pub fn threats(&self) -> &[Threat] {
        match self {
            Verdict::Infected { threats, .. } | Verdict::Suspicious { threats, .. } => threats,
            _ => &[],
        }
    }

    /// A short name: `clean`, `infected`, `suspicious`, `blocked`, `not-scanned`, `unknown`.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Clean { .. } => "clean",
            Verdict::Infected { .. } => "infected",
            Verdict::Suspicious { .. } => "suspicious",
            Verdict::Blocked { .. } => "blocked",
            Verdict::NotScanned { .. } => "not-scanned",
            Verdict::Unknown { .. } => "unknown",
        }
    }

    /// Derives the verdict of a finished result. `threats` are the detections found in the
    /// result (see [`threats_of`]) plus any found in archive children.
    pub fn from_result(result: &AnalysisResult, threats: Vec<Threat>) -> Verdict {
        let scan = result.scan_results.as_ref();
        let code = scan
            .and_then(|s| s.scan_all_result_i.as_ref())
            .map(|c| c.0)
            .unwrap_or(-1);
        let label = scan
            .and_then(|s| s.scan_all_result_a.as_ref())
            .map(|a| a.to_string())
            .filter(|a| !a.is_empty());
        let pi = result.process_info.as_ref();
        let blocked = pi
            .and_then(|p| p.result.as_deref())
            .is_some_and(|r| r.eq_ignore_ascii_case("blocked"));
        let reason = || {
            pi.and_then(|p| p.blocked_reason.clone())
                .filter(|r| !r.is_empty())
                .or_else(|| label.clone())
                .or_else(|| code_name(code).map(str::to_string))
                .unwrap_or_else(|| format!("result code {code}"))
        };
        match code {
            0 | 7 if blocked => Verdict::Blocked {
                code,
                reason: reason(),
            },
            0 | 7 => Verdict::Clean { code },
            1 | 4 | 6 | 8 => Verdict::Infected { code, threats },
            2 | 18 | 21 | 22 => Verdict::Suspicious { code, threats },
            9 | 12..=17 | 20 | 23 => Verdict::Blocked {
                code,
                reason: reason(),
            },
            3 | 10 | 11 | 19 => Verdict::NotScanned {
                code,
                reason: label
                    .clone()
                    .or_else(|| code_name(code).map(str::to_string))
                    .unwrap_or_default(),
            },
            _ if blocked => Verdict::Blocked {
                code,
                reason: reason(),
            },
            _ => Verdict::Unknown { code, label },
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Clean { .. } => f.write_str("clean"),
            Verdict::Infected { threats, .. } | Verdict::Suspicious { threats, .. } => {
                f.write_str(self.kind())?;
                // Every engine reports its own detection: each name (with the archive member
                // holding it) is said once.
                let mut seen: Vec<(&str, Option<&str>)> = Vec::new();
                for t in threats {
                    let key = (t.name.as_str(), t.file.as_deref());
                    if seen.contains(&key) {
                        continue;
                    }
                    f.write_str(if seen.is_empty() { ": " } else { ", " })?;
                    f.write_str(key.0)?;
                    if let Some(file) = key.1 {
                        write!(f, " in {file}")?;
                    }
                    seen.push(key);
                }
                Ok(())
            }
            Verdict::Blocked { reason, .. } => write!(f, "blocked: {reason}"),
            Verdict::NotScanned { reason, code } => write!(f, "not scanned ({code}): {reason}"),
            Verdict::Unknown { code, label } => match label {
                Some(l) => write!(f, "unknown result {code} ({l})"),
                None => write!(f, "unknown result {code}"),
            },
        }
    }
}

/// The name of a `scan_all_result_i` code, for the codes documented up to Core 5.
pub fn code_name(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "No Threat Detected",
        1 => "Infected",
        2 => "Suspicious",
        3 => "Failed",
        4 => "Cleaned / Deleted",
        5 => "Unknown",
        6 => "Quarantined",
        7 => "Skipped Clean",
        8 => "Skipped Dirty",
        9 => "Exceeded Archive Depth",
        10 => "Not Scanned",
        11 => "Aborted",
        12 => "Encrypted Archive",
        13 => "Exceeded Archive Size",
        14 => "Exceeded Archive File Number",
        15 => "Password Protected Document",
        16 => "Exceeded Archive Timeout",
        17 => "File Type Mismatch",
        18 => "Potentially Vulnerable File",
        19 => "Cancelled",
        20 => "Sensitive Data Found",
        21 => "Yara Rule Matched",
        22 => "Potentially Unwanted Program",
        23 => "Unsupported File Type",
        255 => "In Progress",
        _ => return None,
    })
}

/// Whether a code means an engine or rule found something in the file or a child.
pub(crate) fn is_detection(code: i64) -> bool {
    matches!(code, 1 | 2 | 4 | 6 | 8 | 18 | 21 | 22)
}

/// Detections listed in `scan_results.scan_details` (a map keyed by engine name).
pub fn threats_of(scan: Option<&MetascanReport>, file: Option<&str>) -> Vec<Threat> {
    let Some(scan) = scan else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (engine, r) in &scan.scan_details {
        let name = r.threat_found.as_deref().unwrap_or("").trim();
        let code = r.scan_result_i;
        if !name.is_empty() || code.is_some_and(|c| c != 0 && is_detection(c)) {
            out.push(Threat {
                engine: engine.clone(),
                name: if name.is_empty() {
                    code.and_then(code_name).unwrap_or("").to_string()
                } else {
                    name.to_string()
                },
                file: file.map(str::to_string),
            });
        }
    }
    out
}

/// Completion per the server's rules: `process_info.progress_percentage == 100` (all processing,
/// sanitization included); without it, `scan_results.progress_percentage == 100`; without
/// either, a final `scan_all_result_i` (anything but 255).
pub fn is_finished(result: &AnalysisResult) -> bool {
    if let Some(p) = result
        .process_info
        .as_ref()
        .and_then(|p| p.progress_percentage)
    {
        return p >= 100;
    }
    let scan = result.scan_results.as_ref();
    if let Some(p) = scan.and_then(|s| s.progress_percentage) {
        return p >= 100;
    }
    // Old servers omit the percentages while a scan runs, so only a present, final code counts.
    scan.and_then(|s| s.scan_all_result_i.as_ref())
        .is_some_and(|c| c.0 != 255)
        && result.process_info.is_none()
}

/// The one-key `{"<id>": "Not Found"}` body some servers answer with HTTP 200 for an unknown id
/// or hash. It decodes into an otherwise empty result with the id in `extra`.
pub fn is_not_found_body(result: &AnalysisResult) -> bool {
    let typed_empty = result.data_id.is_none()
        && result.process_info.is_none()
        && result.scan_results.is_none()
        && result.file_info.is_none()
        && result.dlp_info.is_none()
        && result.download_info.is_none()
        && result.extraction_info.is_none()
        && result.filetype_info.is_none()
        && result.opswatfilescan_info.is_none()
        && result.vulnerability_info.is_none()
        && result.yara.is_none();
    typed_empty
        && result.extra.len() == 1
        && result.extra.values().all(|v| {
            v.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("not found"))
        })
}

/// `process_info.progress_percentage`, else `scan_results.progress_percentage`.
pub(crate) fn progress_of(result: &AnalysisResult) -> Option<i64> {
    result
        .process_info
        .as_ref()
        .and_then(|p| p.progress_percentage)
        .or_else(|| {
            result
                .scan_results
                .as_ref()
                .and_then(|s| s.progress_percentage)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(name: &str) -> AnalysisResult {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("../shared/payloads").join(name)).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn result(v: serde_json::Value) -> AnalysisResult {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn captured_results_give_the_expected_verdicts() {
        let clean = payload("01_core43_file_clean.json");
        assert!(is_finished(&clean));
        let threats = threats_of(clean.scan_results.as_ref(), None);
        assert!(threats.is_empty());
        assert_eq!(
            Verdict::from_result(&clean, threats),
            Verdict::Clean { code: 0 }
        );

        let in_progress = payload("15_core4_file_in_progress_SEMIREAL.json");
        assert!(!is_finished(&in_progress));
        let archive_running = payload("02_core43_file_archive_in_progress.json");
        assert!(!is_finished(&archive_running));

        let sanitized = payload("14_core4_file_archive_sanitized_SEMIREAL.json");
        assert!(is_finished(&sanitized));
        let v = Verdict::from_result(&sanitized, Vec::new());
        assert_eq!(v.code(), 1);
        assert!(matches!(v, Verdict::Infected { .. }));

        let not_found = payload("05_core4_file_not_found_body.json");
        assert!(is_not_found_body(&not_found));
        assert!(!is_not_found_body(&clean));
        assert!(!is_finished(&not_found));
    }

    #[test]
    fn completion_waits_for_process_info_then_falls_back() {
        // Engines done, post-processing still running: not finished.
        let r = result(serde_json::json!({
            "process_info": {"progress_percentage": 95, "result": "Processing"},
            "scan_results": {"progress_percentage": 100, "scan_all_result_i": 0}
        }));
        assert!(!is_finished(&r));
        let r = result(serde_json::json!({
            "scan_results": {"progress_percentage": 100, "scan_all_result_i": 0}
        }));
        assert!(is_finished(&r));
        let r = result(serde_json::json!({
            "scan_results": {"progress_percentage": 40, "scan_all_result_i": 255}
        }));
        assert!(!is_finished(&r));
    }

    #[test]
    fn unknown_codes_are_kept_and_blocked_results_say_why() {
        let r = result(serde_json::json!({
            "process_info": {"progress_percentage": 100, "result": "Allowed"},
            "scan_results": {"progress_percentage": 100, "scan_all_result_i": 42, "scan_all_result_a": "Brand New"}
        }));
        assert_eq!(
            Verdict::from_result(&r, Vec::new()),
            Verdict::Unknown {
                code: 42,
                label: Some("Brand New".into())
            }
        );
        let r = result(serde_json::json!({
            "process_info": {"progress_percentage": 100, "result": "Blocked", "blocked_reason": "Encrypted Archive"},
            "scan_results": {"progress_percentage": 100, "scan_all_result_i": 12}
        }));
        assert_eq!(
            Verdict::from_result(&r, Vec::new()),
            Verdict::Blocked {
                code: 12,
                reason: "Encrypted Archive".into()
            }
        );
        let r = result(serde_json::json!({
            "process_info": {"progress_percentage": 100, "result": "Blocked", "blocked_reason": "Sanitization failed"},
            "scan_results": {"progress_percentage": 100, "scan_all_result_i": 0}
        }));
        assert!(matches!(
            Verdict::from_result(&r, Vec::new()),
            Verdict::Blocked { code: 0, .. }
        ));
    }

    #[test]
    fn threats_come_from_every_engine() {
        let r = result(serde_json::json!({
            "scan_results": {"scan_details": {
                "ClamAV": {"scan_result_i": 1, "threat_found": "Eicar-Signature"},
                "Other": {"scan_result_i": 1, "threat_found": "EICAR-Test-File"},
                "Quiet": {"scan_result_i": 0, "threat_found": ""}
            }}
        }));
        let t = threats_of(r.scan_results.as_ref(), Some("a.zip/eicar.com"));
        assert_eq!(t.len(), 2);
        assert!(t
            .iter()
            .all(|t| t.file.as_deref() == Some("a.zip/eicar.com")));
        assert!(t
            .iter()
            .any(|t| t.engine == "Other" && t.name == "EICAR-Test-File"));
    }

    #[test]
    fn each_threat_is_named_once() {
        let t = |engine: &str, file: Option<&str>| Threat {
            engine: engine.into(),
            name: "EICAR-Test-File".into(),
            file: file.map(str::to_string),
        };
        let v = Verdict::Infected {
            code: 1,
            threats: vec![
                t("A", None),
                t("B", None),
                t("A", Some("x.zip/e.com")),
                t("B", Some("x.zip/e.com")),
            ],
        };
        assert_eq!(
            v.to_string(),
            "infected: EICAR-Test-File, EICAR-Test-File in x.zip/e.com"
        );
        assert_eq!(Verdict::Clean { code: 0 }.to_string(), "clean");
    }
}
