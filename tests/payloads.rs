//! Every captured server response in `../shared/payloads/` deserializes into the typed
//! response of its endpoint, and nothing of it is lost: serializing the typed value gives the
//! same JSON back (unknown fields come back from the `extra` maps, unknown enum values from
//! the `Other` variants).

use std::path::PathBuf;

use metadefender_core::types;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn payload(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/payloads")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Absent, `null` and empty containers mean the same to a client; typed values omit them.
fn normalize(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            let m: serde_json::Map<String, Value> = m
                .iter()
                .filter_map(|(k, v)| normalize(v).map(|v| (k.clone(), v)))
                .collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) => Some(Value::Array(
            a.iter()
                .map(|v| normalize(v).unwrap_or(Value::Null))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// Deserializes `json` as `T` and checks the round trip keeps every value.
fn round_trip<T: DeserializeOwned + Serialize>(name: &str, json: Value) -> T {
    let typed: T = serde_json::from_value(json.clone())
        .unwrap_or_else(|e| panic!("{name} does not deserialize: {e}"));
    let back = serde_json::to_value(&typed).expect("typed values serialize");
    assert_eq!(
        normalize(&back),
        normalize(&json),
        "{name}: the typed value lost or changed data"
    );
    typed
}

#[test]
fn p01_finished_clean_scan() {
    let r: types::AnalysisResult = round_trip("01", payload("01_core43_file_clean.json"));
    let scan = r.scan_results.expect("scan_results");
    // "Clean" is not in the document's enum: kept as an unlisted value.
    assert_eq!(
        scan.scan_all_result_a,
        Some(types::ProcessingResultsStringEnum::Other("Clean".into()))
    );
    assert_eq!(scan.scan_all_result_i.map(|c| c.0), Some(0));
    // Engines are keys of a map, not one fixed `ClamAV` field.
    assert!(
        scan.scan_details.contains_key("Bitdefender"),
        "{:?}",
        scan.scan_details.keys()
    );
    assert_eq!(scan.scan_details["Bitdefender"].scan_result_i, Some(0));
}

#[test]
fn p02_archive_in_progress() {
    let r: types::AnalysisResult =
        round_trip("02", payload("02_core43_file_archive_in_progress.json"));
    assert!(r.process_info.is_some() || r.scan_results.is_some());
}

#[test]
fn p03_archive_done_children() {
    let r: types::AnalysisResult = round_trip("03", payload("03_core43_file_archive_done.json"));
    let children = r.extracted_files.expect("extracted_files is modelled");
    assert!(!children.files_in_archive.is_empty());
    assert!(children
        .files_in_archive
        .iter()
        .all(|c| c.data_id.is_some()));
}

#[test]
fn p04_hash_lookup_found() {
    let r: types::AnalysisResult = round_trip("04", payload("04_core43_hash_lookup_found.json"));
    assert!(r.file_info.is_some());
}

#[test]
fn p05_not_found_body_keeps_the_id() {
    let json = payload("05_core4_file_not_found_body.json");
    let r: types::AnalysisResult = round_trip("05", json.clone());
    let (id, v) = json
        .as_object()
        .and_then(|m| m.iter().next())
        .expect("one key");
    assert_eq!(r.extra.get(id), Some(v));
    assert!(r.data_id.is_none());
}

#[test]
fn p06_engines() {
    let r: types::EnginesStatusResponse = round_trip("06", payload("06_core43_stat_engines.json"));
    assert!(!r.0.is_empty());
}

#[test]
fn p07_version() {
    let r: types::ProductVersionResponse = round_trip("07", payload("07_core43_version.json"));
    assert_eq!(r.version.as_deref().map(|v| v.split('.').count()), Some(4));
}

#[test]
fn p08_rules() {
    let r: types::AnalysisRulesResponse = round_trip("08", payload("08_core43_file_rules.json"));
    assert!(!r.0.is_empty());
}

#[test]
fn p09_license() {
    let r: types::LicenseInformation = round_trip("09", payload("09_core43_admin_license.json"));
    assert!(r.extra.contains_key("max_agent_count"));
    assert!(r.licensed_engines.is_some());
}

#[test]
fn p10_error_body() {
    let r: metadefender_core::ServerError =
        round_trip("10", payload("10_core4_error_access_denied.json"));
    assert!(!r.message().is_empty());
}

#[test]
fn p11_logout() {
    let r: types::UserLogoutResponse = round_trip("11", payload("11_core4_logout.json"));
    assert!(!r.response.is_empty());
}

#[test]
fn p12_infected_fragment() {
    let r: types::AnalysisResult = round_trip(
        "12",
        payload("12_core419_file_infected_downloadfrom_FRAGMENT.json"),
    );
    let scan = r.scan_results.expect("scan_results");
    assert!(scan
        .scan_details
        .values()
        .any(|e| e.threat_found.as_deref().is_some_and(|t| !t.is_empty())));
}

#[test]
fn p13_paged_children() {
    let r: types::AnalysisResult = round_trip(
        "13",
        payload("13_core4_archive_paginated_extracted_files_FRAGMENT.json"),
    );
    let children = r.extracted_files.expect("extracted_files");
    assert!(children.files_extracted_count.is_some());
}

#[test]
fn p14_sanitized_archive() {
    let r: types::AnalysisResult = round_trip(
        "14",
        payload("14_core4_file_archive_sanitized_SEMIREAL.json"),
    );
    assert!(r.process_info.is_some());
}

#[test]
fn p15_in_progress_without_percentage() {
    let r: types::AnalysisResult =
        round_trip("15", payload("15_core4_file_in_progress_SEMIREAL.json"));
    assert!(r.scan_results.is_some());
}

#[test]
fn p16_nodes_object_form() {
    let _: types::NodesStatusResponse =
        round_trip("16", payload("16_core5_stat_nodes_shape_FRAGMENT.json"));
}

#[test]
fn p17_deep_cdr_details() {
    let pp = payload("17_core5_post_processing_deepcdr_details_DOC.json");
    let wrapped = serde_json::json!({ "process_info": pp });
    let r: types::AnalysisResult = round_trip("17", wrapped);
    assert!(r.process_info.and_then(|p| p.post_processing).is_some());
}
