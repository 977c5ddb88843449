//! The scanning layer's main flows (login, upload with headers, polling, hash lookup, batch,
//! sanitized download, logout) against the simulator, through `prism proxy --errors`, which
//! checks the client's requests and the simulator's responses against the pinned document in
//! one go. Run by `conformance/prism/run.sh`, which starts the simulator and Prism and sets
//! `PRISM_PROXY_URL` (plus the credentials); without it the test says why and passes.
//!
//! Request violations must be zero. Every response violation must be listed in
//! `conformance/prism/proxy-response-violations.toml` as a document defect with its reason
//! (simulator bugs are fixed in the simulator instead), and every listed one must still occur.
//! Payloads are ASCII: the proxy corrupts binary bodies.

#[cfg(not(feature = "conformance"))]
#[test]
fn prism_proxy_conformance_needs_the_conformance_feature() {
    eprintln!(
        "skipped: the Prism proxy pass needs `--features conformance` (and PRISM_PROXY_URL); run `bash conformance/prism/run.sh`"
    );
}

#[cfg(feature = "conformance")]
mod prism_support;

#[cfg(feature = "conformance")]
mod proxy {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;

    use metadefender_core::{Scanner, Source};
    use reqwest::header::HeaderMap;
    use serde_json::{json, Value};

    use super::prism_support::oracle::{self, Wire};
    use super::prism_support::relay::{client_for, Relay};
    use super::prism_support::{self as support, cell};

    const HOW: &str = "run `bash conformance/prism/run.sh` to start the simulator behind Prism";
    const EXPECTED: &str = "conformance/prism/proxy-response-violations.toml";

    fn env(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set with PRISM_PROXY_URL"))
    }

    /// The operation of the document a request went to: method and path matched against the
    /// path templates (literal segments first, so `/file/batch` is not `/file/{data_id}`).
    fn operation_of(doc: &Value, method: &str, target: &str) -> String {
        let path = target.split('?').next().unwrap_or("");
        let sent: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(usize, String)> = None;
        for op in mdcore_codegen::document::operations(doc) {
            if !op.method.eq_ignore_ascii_case(method) {
                continue;
            }
            let template: Vec<&str> = op.path.trim_start_matches('/').split('/').collect();
            if template.len() != sent.len() {
                continue;
            }
            let mut literal = 0;
            let fits = template.iter().zip(&sent).all(|(t, s)| {
                if t.starts_with('{') {
                    !s.is_empty()
                } else {
                    literal += 1;
                    t == s
                }
            });
            if fits && best.as_ref().is_none_or(|(n, _)| literal > *n) {
                best = Some((literal, op.operation_id.clone()));
            }
        }
        best.map_or_else(|| format!("? {method} {path}"), |(_, id)| id)
    }

    #[tokio::test]
    async fn main_flows_through_prism_proxy_have_no_request_violations_and_only_listed_response_ones(
    ) {
        let Some(proxy) = support::server_from_env("PRISM_PROXY_URL", HOW) else {
            return;
        };
        let user = env("PRISM_PROXY_USER");
        let password = env("PRISM_PROXY_PASSWORD");
        let doc = support::pinned_document();
        let relay = Relay::start(proxy).await.expect("relay starts");
        let client = client_for(&relay.url(), None, HeaderMap::new());

        let mut flows: Vec<(&str, Result<String, String>)> = Vec::new();
        let scanner = match Scanner::new(client).login(user, password).await {
            Ok(s) => {
                flows.push(("login", Ok("session id received".into())));
                s
            }
            Err(e) => {
                flows.push(("login", Err(e.to_string())));
                panic!("cannot log in through the proxy: {e}");
            }
        };

        let text = b"metadefender-core proxy conformance: plain ASCII file\n".to_vec();
        let upload = scanner
            .scan(Source::bytes(text.clone(), Some("conformance.txt".into())))
            .rule("multiscan")
            .user_agent("metadefender-core-conformance")
            .metadata(json!({"origin": "conformance"}))
            .send()
            .await;
        flows.push((
            "upload with headers, poll to the end",
            upload
                .as_ref()
                .map(|r| format!("{} {}", r.data_id, r.verdict))
                .map_err(|e| e.to_string()),
        ));

        let by_hash = scanner
            .scan(Source::bytes(text.clone(), Some("conformance.txt".into())))
            .hash_first(true)
            .send()
            .await;
        flows.push((
            "hash lookup before upload",
            by_hash
                .as_ref()
                .map(|r| format!("{} {}", r.data_id, r.verdict))
                .map_err(|e| e.to_string()),
        ));

        let batch = async {
            let b = scanner
                .create_batch(Some("multiscan"), Some("conformance"))
                .await?;
            for i in 0..2 {
                b.add(Source::bytes(
                    format!("batch member {i}\n").into_bytes(),
                    Some(format!("member{i}.txt")),
                ))
                .await?;
            }
            b.close().await?;
            let report = b.wait().await?;
            let certificate = b.certificate().await?;
            Ok::<_, metadefender_core::ScanError>(format!(
                "{} ({} bytes of certificate, {report:?})",
                b.id(),
                certificate.len()
            ))
        }
        .await;
        flows.push((
            "batch: create, add 2, close, wait, certificate",
            batch
                .map(|s| s.chars().take(120).collect())
                .map_err(|e| e.to_string()),
        ));

        let sanitized = async {
            let report = scanner
                .scan(Source::bytes(
                    b"text to sanitize: MDSIM-SUSPICIOUS marker\n".to_vec(),
                    Some("clean-me.txt".into()),
                ))
                .rule("sanitize")
                .send()
                .await?;
            let mut copy = Vec::new();
            let got = scanner
                .download_sanitized_to_writer(&report.data_id, &mut copy)
                .await?;
            Ok::<_, metadefender_core::ScanError>(format!(
                "{} bytes, ASCII: {}",
                got.bytes,
                copy.is_ascii()
            ))
        }
        .await;
        flows.push((
            "sanitize and download the copy",
            sanitized.map_err(|e| e.to_string()),
        ));

        let logout = scanner.logout().await;
        flows.push((
            "logout",
            logout.map(|_| "ok".into()).map_err(|e| e.to_string()),
        ));

        // Everything that crossed the proxy.
        let wires: Vec<Wire> = relay
            .since(0)
            .await
            .iter()
            .filter_map(oracle::read)
            .collect();
        let mut request_violations = Vec::new();
        let mut observed: BTreeMap<String, String> = BTreeMap::new();
        for w in &wires {
            let op = operation_of(&doc, &w.method, &w.target);
            for v in w.request_violations() {
                request_violations.push(format!("{op} ({} {}): {v}", w.method, w.target));
            }
            for v in w.response_violations() {
                observed
                    .entry(format!("{op} {}", v.at))
                    .or_insert_with(|| v.message.clone());
            }
        }

        let report = render(&doc, &flows, &wires);
        let path = support::report_dir().join("prism-proxy-report.md");
        std::fs::write(&path, report).expect("the report is written");
        eprintln!("report: {}", path.display());

        assert!(
            request_violations.is_empty(),
            "Prism reports request violations:\n{}\nreport: {}",
            request_violations.join("\n"),
            path.display()
        );
        let expected = support::expectations(&support::root().join(EXPECTED), "violation", "key");
        if let Err(msg) = support::compare_with_expectation(
            "response violations of the simulator",
            EXPECTED,
            &observed,
            &expected,
        ) {
            panic!("{msg}\nreport: {}", path.display());
        }
        let failed: Vec<String> = flows
            .iter()
            .filter_map(|(name, r)| r.as_ref().err().map(|e| format!("{name}: {e}")))
            .collect();
        assert!(
            failed.is_empty(),
            "flows failed through the proxy:\n{}\nreport: {}",
            failed.join("\n"),
            path.display()
        );
    }

    fn render(doc: &Value, flows: &[(&str, Result<String, String>)], wires: &[Wire]) -> String {
        let mut out = String::from("# Prism proxy --errors in front of the simulator\n\n## Flows\n\n| flow | result |\n|---|---|\n");
        for (name, r) in flows {
            let text = match r {
                Ok(s) => format!("ok: {s}"),
                Err(e) => format!("FAILED: {e}"),
            };
            let _ = writeln!(out, "| {name} | {} |", cell(&text));
        }
        let _ = writeln!(
            out,
            "\n## Requests ({})\n\n| operation | request | status | request violations | response violations |\n|---|---|---|---|---|",
            wires.len()
        );
        for w in wires {
            let list = |v: Vec<&oracle::Violation>| {
                if v.is_empty() {
                    "0".to_string()
                } else {
                    cell(
                        &v.iter()
                            .map(|x| format!("{}: {}", x.at, x.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    )
                }
            };
            let _ = writeln!(
                out,
                "| `{}` | `{} {}` | {} | {} | {} |",
                operation_of(doc, &w.method, &w.target),
                w.method,
                cell(&w.target),
                w.status,
                list(w.request_violations()),
                list(w.response_violations())
            );
        }
        out
    }
}
