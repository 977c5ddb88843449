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

    use metadefender_core::dispatch::{call_operation, OPERATIONS};
    use metadefender_core::{Scanner, Source};
    use reqwest::header::HeaderMap;
    use serde_json::{json, Value};
    use sha2::Digest as _;

    use super::prism_support::oracle::{self, Wire};
    use super::prism_support::relay::{client_for, http_client, Exchange, Relay};
    use super::prism_support::{self as support, args, cell};

    const HOW: &str = "run `bash conformance/prism/run.sh` to start the simulator behind Prism";
    const EXPECTED: &str = "conformance/prism/proxy-response-violations.toml";
    const UNCALLABLE: &str = "conformance/prism/expected-uncallable.toml";

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
        let apikey = env("PRISM_PROXY_APIKEY");
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
        let flows_end = relay.mark();

        // Then every operation once, with the document's required arguments and the ids the
        // flows created, so that the simulator's other answers are checked too.
        // The simulator keeps files and batches per identity: the sweep's own, made with the
        // apikey it uses (a sanitized scan, so that the converted file exists; an open batch).
        let admin = client_for(&relay.url(), Some(&apikey), HeaderMap::new());
        let own_text = b"sweep file with a MDSIM-SUSPICIOUS marker\n".to_vec();
        let own_scan = Scanner::new(admin.clone())
            .scan(Source::bytes(own_text.clone(), Some("sweep.txt".into())))
            .rule("sanitize")
            .send()
            .await;
        flows.push((
            "sweep setup: sanitized scan with the apikey",
            own_scan
                .as_ref()
                .map(|r| r.data_id.clone())
                .map_err(|e| e.to_string()),
        ));
        let own_batch = Scanner::new(admin.clone()).create_batch(None, None).await;
        flows.push((
            "sweep setup: open batch with the apikey",
            own_batch
                .as_ref()
                .map(|b| b.id().to_string())
                .map_err(|e| e.to_string()),
        ));
        let ids = Ids {
            data_id: own_scan.ok().map(|r| r.data_id),
            batch_id: own_batch.ok().map(|b| b.id().to_string()),
            sha256: Some(hex::encode(sha2::Sha256::digest(&own_text))),
            engine_id: engine_id(&relay, &apikey).await,
        };
        let sweep_start = relay.mark();
        let mut sweep_errors = Vec::new();
        for op in OPERATIONS.iter() {
            let mut built = args::build_required(&doc, op);
            ids.apply(&mut built.args);
            if let Err(e) = call_operation(&admin, op.operation_id, &built.args).await {
                sweep_errors.push(format!("{}: {e}", op.operation_id));
            }
        }

        // Everything that crossed the proxy.
        let all: Vec<Exchange> = relay.since(0).await;
        let wires: Vec<Wire> = all[..flows_end].iter().filter_map(oracle::read).collect();
        let sweep: Vec<Wire> = all[sweep_start..].iter().filter_map(oracle::read).collect();
        let uncallable =
            support::expectations(&support::root().join(UNCALLABLE), "operation", "id");
        let mut request_violations = Vec::new();
        let mut observed: BTreeMap<String, String> = BTreeMap::new();
        for (w, in_sweep) in wires
            .iter()
            .map(|w| (w, false))
            .chain(sweep.iter().map(|w| (w, true)))
        {
            let op = operation_of(&doc, &w.method, &w.target);
            // The sweep sends what pass 1 sends; its listed document defects are no news.
            if !(in_sweep && uncallable.contains_key(&op)) {
                for v in w.request_violations() {
                    request_violations.push(format!("{op} ({} {}): {v}", w.method, w.target));
                }
            }
            for v in w.response_violations() {
                observed
                    .entry(format!("{op} {}", v.at))
                    .or_insert_with(|| v.message.clone());
            }
        }
        request_violations.extend(sweep_errors);

        let report = render(&doc, &flows, &wires, &sweep);
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

    /// Ids created by the flows, put into the path parameters of the same names.
    struct Ids {
        data_id: Option<String>,
        batch_id: Option<String>,
        sha256: Option<String>,
        engine_id: Option<String>,
    }

    impl Ids {
        fn apply(&self, args: &mut Value) {
            let Some(path) = args.get_mut("path").and_then(Value::as_object_mut) else {
                return;
            };
            for (name, value) in path.iter_mut() {
                let known = match name.as_str() {
                    "data_id" => &self.data_id,
                    "batchId" => &self.batch_id,
                    "hash" | "sha256" => &self.sha256,
                    "engineId" => &self.engine_id,
                    _ => &None,
                };
                if let Some(id) = known {
                    *value = json!(id);
                }
            }
        }
    }

    /// The id of an engine the simulator runs, from `GET /stat/engines`.
    async fn engine_id(relay: &Relay, apikey: &str) -> Option<String> {
        let answer: Value = http_client(HeaderMap::new())
            .get(format!("{}/stat/engines", relay.url()))
            .header(args::CREDENTIAL, apikey)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        Some(answer.get(0)?.get("eng_id")?.as_str()?.to_string())
    }

    fn render(
        doc: &Value,
        flows: &[(&str, Result<String, String>)],
        wires: &[Wire],
        sweep: &[Wire],
    ) -> String {
        let mut out = String::from("# Prism proxy --errors in front of the simulator\n\n## Flows\n\n| flow | result |\n|---|---|\n");
        for (name, r) in flows {
            let text = match r {
                Ok(s) => format!("ok: {s}"),
                Err(e) => format!("FAILED: {e}"),
            };
            let _ = writeln!(out, "| {name} | {} |", cell(&text));
        }
        for (title, wires) in [
            ("Requests of the flows", wires),
            (
                "Every operation once (required arguments, ids from the flows)",
                sweep,
            ),
        ] {
            let _ = writeln!(
            out,
            "\n## {title} ({})\n\n| operation | request | status | request violations | response violations |\n|---|---|---|---|---|",
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
        }
        out
    }
}
