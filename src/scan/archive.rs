//! Archive children: the paged `extracted_files` of `GET /file/{data_id}?first=&size=`.

use futures::Stream;

use super::error::{ScanError, Step};
use super::http::Repeat;
use super::Scanner;
use crate::types::ArchiveChildren;

/// One child of an archive as listed in `extracted_files.files_in_archive`.
pub type ChildFile = crate::types::ArchiveChild;

/// The worst child's id, which servers send beside the page (not in the document).
pub(crate) fn worst_data_id(page: &ArchiveChildren) -> Option<&str> {
    page.extra.get("worst_data_id").and_then(|v| v.as_str())
}

/// A child's result code (older servers call it `scan_result_i`).
pub(crate) fn child_code(c: &ChildFile) -> Option<i64> {
    c.scan_all_result_i.or(c.scan_result_i)
}

/// Page size used when listing children.
const PAGE: u64 = 50;

struct Lister {
    scanner: Scanner,
    data_id: String,
    next_first: u64,
    buffered: std::collections::VecDeque<ChildFile>,
    finished: bool,
    last_first_id: Option<String>,
}

impl Lister {
    async fn fetch_page(&mut self) -> Result<(), ScanError> {
        let client = &self.scanner.client;
        let (id, first) = (self.data_id.as_str(), self.next_first as i64);
        let result = self
            .scanner
            .call(Step::Archive, Repeat::Read, || {
                client
                    .file_analysis_get()
                    .data_id(id)
                    .first(first)
                    .size(PAGE as i64)
                    .send()
            })
            .await?
            .into_inner();
        if super::verdict::is_not_found_body(&result) {
            return Err(ScanError::NotFound {
                step: Step::Archive,
                data_id: self.data_id.clone(),
                waited: std::time::Duration::ZERO,
            });
        }
        let Some(page) = result.extracted_files else {
            self.finished = true;
            return Ok(());
        };
        let n = page.files_in_archive.len() as u64;
        let first_id = page
            .files_in_archive
            .first()
            .and_then(|c| c.data_id.clone());
        // A server that ignores paging answers the same page again: stop instead of looping.
        let ignores_paging = page
            .first_index
            .is_some_and(|f| f != self.next_first as i64)
            || (self.next_first > 0 && first_id.is_some() && first_id == self.last_first_id);
        if ignores_paging {
            self.finished = true;
            return Ok(());
        }
        self.last_first_id = first_id;
        self.next_first += n;
        let total_reached = page
            .files_extracted_count
            .is_some_and(|count| self.next_first as i64 >= count);
        if n == 0 || n < PAGE || total_reached {
            self.finished = true;
        }
        self.buffered.extend(page.files_in_archive);
        Ok(())
    }

    async fn next(&mut self) -> Option<Result<ChildFile, ScanError>> {
        loop {
            if let Some(c) = self.buffered.pop_front() {
                return Some(Ok(c));
            }
            if self.finished {
                return None;
            }
            if let Err(e) = self.fetch_page().await {
                self.finished = true;
                return Some(Err(e));
            }
        }
    }
}

impl Scanner {
    /// Every child of an archive, page after page (direct children; a child that is an archive
    /// itself lists its own with another call).
    pub fn archive_children(
        &self,
        data_id: impl Into<String>,
    ) -> impl Stream<Item = Result<ChildFile, ScanError>> + Send + 'static {
        let lister = Lister {
            scanner: self.clone(),
            data_id: data_id.into(),
            next_first: 0,
            buffered: Default::default(),
            finished: false,
            last_first_id: None,
        };
        futures::stream::unfold(
            lister,
            |mut l| async move { l.next().await.map(|x| (x, l)) },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::AnalysisResult;

    #[test]
    fn captured_pages_parse() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in [
            "03_core43_file_archive_done.json",
            "13_core4_archive_paginated_extracted_files_FRAGMENT.json",
            "02_core43_file_archive_in_progress.json",
        ] {
            let text = std::fs::read_to_string(root.join("../shared/payloads").join(name)).unwrap();
            let r: AnalysisResult = serde_json::from_str(&text).unwrap();
            let page = r
                .extracted_files
                .unwrap_or_else(|| panic!("{name}: no page"));
            assert!(!page.files_in_archive.is_empty(), "{name}");
            assert!(
                page.files_in_archive
                    .iter()
                    .all(|c| child_code(c).is_some()),
                "{name}"
            );
        }
    }
}
