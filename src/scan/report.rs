//! The outcome of a scan: the typed verdict beside the full result.

use super::archive::{child_code, worst_data_id};
use super::error::Step;
use super::http::Repeat;
use super::verdict::{code_name, is_detection, threats_of, Threat, Verdict};
use super::Scanner;
use crate::types::AnalysisResult;

/// How many infected archive children are looked up for their threat names.
const CHILD_LOOKUPS: usize = 8;

/// A finished scan.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScanReport {
    /// The scan's data id.
    pub data_id: String,
    /// What the result means.
    pub verdict: Verdict,
    /// The full result as the server sent it (unknown fields in the `extra` maps).
    pub result: AnalysisResult,
    /// Whether it came from a hash lookup instead of an upload.
    pub from_cache: bool,
}

impl ScanReport {
    /// The file name the server recorded.
    pub fn file_name(&self) -> Option<&str> {
        self.result.file_info.as_ref()?.display_name.as_deref()
    }

    /// The sha256 the server computed.
    pub fn sha256(&self) -> Option<&str> {
        self.result.file_info.as_ref()?.sha256.as_deref()
    }

    /// Whether the server produced a sanitized file (`post_processing.actions_ran` holds
    /// "Sanitized").
    pub fn sanitized(&self) -> bool {
        self.result
            .process_info
            .as_ref()
            .and_then(|p| p.post_processing.as_ref())
            .and_then(|p| p.actions_ran.as_deref())
            .is_some_and(|a| {
                a.split('|')
                    .any(|x| x.trim().eq_ignore_ascii_case("sanitized"))
            })
    }

    /// Builds the report; for an archive with detections in its children, looks up the worst
    /// children so that the threats name the file they are in.
    pub(crate) async fn build(
        scanner: &Scanner,
        data_id: String,
        result: AnalysisResult,
        from_cache: bool,
    ) -> ScanReport {
        let mut threats = threats_of(result.scan_results.as_ref(), None);
        let code = result
            .scan_results
            .as_ref()
            .and_then(|s| s.scan_all_result_i.as_ref())
            .map(|c| c.0)
            .unwrap_or(-1);
        if is_detection(code) {
            // Engines may name the threat on the archive itself; the child holding it is what
            // users need to know, so children's detections take precedence.
            let in_children = child_threats(scanner, &result).await;
            if !in_children.is_empty() {
                threats = in_children;
            }
        }
        let verdict = Verdict::from_result(&result, threats);
        ScanReport {
            data_id,
            verdict,
            result,
            from_cache,
        }
    }
}

/// Threats of the children listed on the result's first page of `extracted_files` (the worst
/// child first). A lookup that fails leaves the child named with its result code only: the
/// verdict itself is already known.
async fn child_threats(scanner: &Scanner, result: &AnalysisResult) -> Vec<Threat> {
    let Some(page) = result.extracted_files.as_ref() else {
        return Vec::new();
    };
    let mut children: Vec<_> = page
        .files_in_archive
        .iter()
        .filter(|c| child_code(c).is_some_and(is_detection))
        .collect();
    if let Some(worst) = worst_data_id(page) {
        children.sort_by_key(|c| c.data_id.as_deref() != Some(worst));
    }
    let mut out = Vec::new();
    for child in children.into_iter().take(CHILD_LOOKUPS) {
        let name = child.display_name.clone();
        let mut found = Vec::new();
        if let Some(id) = child.data_id.as_deref() {
            let client = &scanner.client;
            if let Ok(r) = scanner
                .call(Step::Archive, Repeat::Read, || {
                    client.file_analysis_get().data_id(id).send()
                })
                .await
            {
                found = threats_of(r.scan_results.as_ref(), name.as_deref());
            }
        }
        if found.is_empty() {
            found.push(Threat {
                engine: String::new(),
                name: child_code(child)
                    .and_then(code_name)
                    .unwrap_or("detection")
                    .to_string(),
                file: name,
            });
        }
        out.extend(found);
    }
    out
}
