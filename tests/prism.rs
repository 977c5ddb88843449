//! Every operation of the generated client, called with arguments derived from the pinned
//! document, is checked by Prism (`prism mock`), a validator written independently of this
//! project. Run by `conformance/prism/run.sh`, which starts Prism and sets `PRISM_URL`;
//! without it the tests say why and pass.
//!
//! Prism's verdict is read from the wire (through a recording relay), not from what the
//! client made of the answer. An operation the document does not let anyone call validly is
//! listed in `conformance/prism/expected-uncallable.toml` with the reason; the list must match
//! what is observed, in both directions.

#[cfg(not(feature = "conformance"))]
#[test]
fn prism_conformance_needs_the_conformance_feature() {
    eprintln!(
        "skipped: the Prism conformance tests need `--features conformance` (and PRISM_URL); run `bash conformance/prism/run.sh`"
    );
}

#[cfg(feature = "conformance")]
mod prism_support;

#[cfg(feature = "conformance")]
mod conformance {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt::Write as _;

    use metadefender_core::dispatch::{call_operation, Location, Operation, OPERATIONS};
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
    use serde_json::{json, Value};

    use super::prism_support::oracle::{self, Wire};
    use super::prism_support::relay::{client_for, http_client, Relay};
    use super::prism_support::{self as support, args, cell};

    const HOW: &str = "run `bash conformance/prism/run.sh` to start Prism and run these tests";
    const EXPECTED: &str = "conformance/prism/expected-uncallable.toml";
    const APIKEY: &str = "conformance-apikey";

    /// One call and Prism's verdict on it.
    struct Row {
        op: &'static Operation,
        wire: Option<Wire>,
        client: String,
        /// Prism's remarks on its own answer, and what the client made of it.
        response: String,
        /// Why the call does not count as valid (empty when it does).
        problems: Vec<String>,
        notes: Vec<String>,
    }

    async fn call(
        relay: &Relay,
        client: &metadefender_core::Client,
        op: &'static Operation,
        args: &Value,
    ) -> (Option<Wire>, String, Vec<String>) {
        let mark = relay.mark();
        let outcome = call_operation(client, op.operation_id, args).await;
        let exchanges = relay.since(mark).await;
        let mut problems = Vec::new();
        let client_view = match &outcome {
            Ok(o) => format!("{:?}", o.kind),
            Err(e) => {
                problems.push(format!("not called: {e}"));
                format!("not called: {e}")
            }
        };
        if exchanges.len() > 1 {
            problems.push(format!("{} requests for one call", exchanges.len()));
        }
        let wire = exchanges.last().and_then(oracle::read);
        if outcome.is_ok() && wire.is_none() {
            problems.push(format!("no answer from Prism ({client_view})"));
        }
        (wire, client_view, problems)
    }

    /// The request went to this operation's method and path template.
    fn route_problems(op: &Operation, wire: &Wire) -> Vec<String> {
        let mut out = Vec::new();
        if wire.method != op.method {
            out.push(format!("sent {} instead of {}", wire.method, op.method));
        }
        let path = wire.target.split('?').next().unwrap_or("");
        let sent: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let template: Vec<&str> = op.path.trim_start_matches('/').split('/').collect();
        let same = sent.len() == template.len()
            && sent
                .iter()
                .zip(&template)
                .all(|(s, t)| (t.starts_with('{') && !s.is_empty()) || s == t);
        if !same {
            out.push(format!("sent path {path} for template {}", op.path));
        }
        if !wire
            .request_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(args::CREDENTIAL))
        {
            out.push("the credential header was not sent".into());
        }
        out
    }

    #[tokio::test]
    async fn every_operation_is_called_and_prism_reports_no_request_violation() {
        let Some(prism) = support::server_from_env("PRISM_URL", HOW) else {
            return;
        };
        let doc = support::pinned_document();
        let relay = Relay::start(prism).await.expect("relay starts");
        let client = client_for(&relay.url(), Some(APIKEY), HeaderMap::new());

        // The dispatcher and the document Prism reads name the same operations.
        let in_doc: BTreeSet<String> = mdcore_codegen::document::operations(&doc)
            .into_iter()
            .map(|o| o.operation_id)
            .collect();
        let in_client: BTreeSet<String> = OPERATIONS
            .iter()
            .map(|o| o.operation_id.to_string())
            .collect();
        assert_eq!(
            in_doc, in_client,
            "the client's operations differ from the pinned document's"
        );

        let mut rows = Vec::new();
        for op in OPERATIONS.iter() {
            let built = args::build(&doc, op);
            let (wire, client_view, mut problems) = call(&relay, &client, op, &built.args).await;
            for p in &built.not_sendable {
                problems.push(format!("the client cannot send the parameter {p}"));
            }
            if let Some(w) = &wire {
                problems.extend(route_problems(op, w));
                problems.extend(w.request_violations().iter().map(|v| v.to_string()));
            }
            let response = wire
                .as_ref()
                .map(|w| response_check(&doc, op, w, &client_view))
                .unwrap_or_default();
            rows.push(Row {
                op,
                wire,
                response,
                client: client_view,
                problems,
                notes: built.notes,
            });
        }

        let report = render(&rows);
        let path = support::report_dir().join("prism-report.md");
        std::fs::write(&path, &report).expect("the report is written");
        eprintln!("report: {}", path.display());

        let called = rows.iter().filter(|r| r.wire.is_some()).count();
        let observed: BTreeMap<String, String> = rows
            .iter()
            .filter(|r| !r.problems.is_empty())
            .map(|r| (r.op.operation_id.to_string(), r.problems.join("; ")))
            .collect();
        let expected = support::expectations(&support::root().join(EXPECTED), "operation", "id");
        eprintln!(
            "{called}/{} operations called; {} with request violations ({} expected)",
            OPERATIONS.len(),
            observed.len(),
            expected.len()
        );
        assert_eq!(called, OPERATIONS.len(), "some operations got no answer");
        if let Err(msg) = support::compare_with_expectation(
            "operations with request violations",
            EXPECTED,
            &observed,
            &expected,
        ) {
            panic!("{msg}\nreport: {}", path.display());
        }
    }

    /// What Prism said about its own answer, and whether a body the client could not decode is
    /// one the document allows: Prism answers with the document's examples, some of which break
    /// the document's own schemas; a conforming body the client rejects would be a client bug.
    fn response_check(doc: &Value, op: &Operation, wire: &Wire, client_view: &str) -> String {
        let mut out: Vec<String> = wire
            .response_violations()
            .iter()
            .map(|v| format!("Prism: {}", v.message))
            .collect();
        if client_view.starts_with("InvalidPayload") {
            let ex = support::examples::Examples::new(doc);
            let schema = args::operation_node(doc, op)
                .and_then(|o| o.get("responses"))
                .and_then(|r| r.get(wire.status.to_string()).or_else(|| r.get("default")))
                .map(|r| ex.resolve(r))
                .and_then(|r| r.get("content")?.get("application/json")?.get("schema"));
            let body: Option<Value> = serde_json::from_slice(&wire.body).ok();
            out.push(match (schema, body) {
                (Some(s), Some(b)) if !ex.conforms(&b, s) => {
                    "the document's example breaks its own schema; the client rejects it".into()
                }
                (Some(_), Some(_)) => {
                    "CLIENT BUG: a body the document allows does not decode".into()
                }
                _ => "no JSON schema or body to check the answer against".into(),
            });
        }
        out.join("; ")
    }

    fn render(rows: &[Row]) -> String {
        let clean = rows.iter().filter(|r| r.problems.is_empty()).count();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Prism mock: every operation\n\n{} operations called, {} without request violations.\n\n| operation | request | status | request violations | client | answer | notes |\n|---|---|---|---|---|---|---|",
            rows.len(),
            clean
        );
        for r in rows {
            let (req, status) = match &r.wire {
                Some(w) => (format!("{} {}", w.method, w.target), w.status.to_string()),
                None => ("-".into(), "-".into()),
            };
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} | {} | {} |",
                r.op.operation_id,
                cell(&req),
                status,
                if r.problems.is_empty() {
                    "0".to_string()
                } else {
                    cell(&r.problems.join("; "))
                },
                cell(&r.client),
                cell(&r.response),
                cell(&r.notes.join("; "))
            );
        }
        out
    }

    /// An operation whose credential header the document requires.
    fn op_requiring_credential(doc: &Value) -> &'static Operation {
        OPERATIONS
            .iter()
            .find(|op| {
                args::document_params(doc, op).iter().any(|p| {
                    p.get("in") == Some(&json!("header"))
                        && p.get("name") == Some(&json!(args::CREDENTIAL))
                        && p.get("required") == Some(&json!(true))
                })
            })
            .expect("some operation requires the credential header")
    }

    #[tokio::test]
    async fn negative_control_credential_under_a_wrong_header_name_is_reported() {
        let Some(prism) = support::server_from_env("PRISM_URL", HOW) else {
            return;
        };
        let doc = support::pinned_document();
        let relay = Relay::start(prism).await.expect("relay starts");
        let op = op_requiring_credential(&doc);
        // The credential under a misspelt name, and no `apikey` header.
        let mut wrong = HeaderMap::new();
        wrong.insert(
            HeaderName::from_static("api-key"),
            HeaderValue::from_static(APIKEY),
        );
        let client = client_for(&relay.url(), None, wrong);
        let built = args::build(&doc, op);
        let (wire, _, _) = call(&relay, &client, op, &built.args).await;
        let wire = wire.expect("Prism answers");
        let found = wire.request_violations();
        assert!(
            found.iter().any(|v| v.message.contains(args::CREDENTIAL)),
            "{}: Prism did not report the missing `{}` header: {:?}",
            op.operation_id,
            args::CREDENTIAL,
            wire.violations
        );
    }

    #[tokio::test]
    async fn negative_control_a_value_outside_its_enum_is_reported() {
        let Some(prism) = support::server_from_env("PRISM_URL", HOW) else {
            return;
        };
        let doc = support::pinned_document();
        let relay = Relay::start(prism).await.expect("relay starts");
        let client = client_for(&relay.url(), Some(APIKEY), HeaderMap::new());
        // The first string parameter with an enum that the client takes as a plain string.
        let ex = support::examples::Examples::new(&doc);
        let target = OPERATIONS.iter().find_map(|op| {
            args::document_params(&doc, op).into_iter().find_map(|p| {
                let schema = ex.resolve(p.get("schema")?);
                schema.get("enum")?;
                (schema.get("type") == Some(&json!("string"))).then_some(())?;
                let name = p.get("name")?.as_str()?;
                let param = op.params.iter().find(|q| q.name == name)?;
                Some((op, *param))
            })
        });
        let (op, param) = target.expect("some operation has a string enum parameter");
        let mut built = args::build(&doc, op);
        built.args[param.location.key()][param.name] = json!("not-a-member-of-the-enum");
        let (wire, client_view, _) = call(&relay, &client, op, &built.args).await;
        let wire = wire.unwrap_or_else(|| panic!("Prism answers ({client_view})"));
        assert!(
            wire.request_violations()
                .iter()
                .any(|v| v.code == "enum" || v.message.contains("allowed values")),
            "{} {:?} {}: Prism did not report the value outside the enum: {:?}",
            op.operation_id,
            param.location,
            param.name,
            wire.violations
        );
        assert_ne!(param.location, Location::Body);
    }

    #[tokio::test]
    async fn negative_control_a_body_missing_required_properties_is_reported() {
        let Some(prism) = support::server_from_env("PRISM_URL", HOW) else {
            return;
        };
        let doc = support::pinned_document();
        let relay = Relay::start(prism).await.expect("relay starts");
        let ex = support::examples::Examples::new(&doc);
        // The first JSON body whose schema requires properties; sent as `{}`, past the typed
        // builder (which would refuse it), so that only Prism can catch it.
        let op = OPERATIONS
            .iter()
            .find(|op| {
                op.body.is_some_and(args::is_json)
                    && args::operation_node(&doc, op)
                        .and_then(|o| o.get("requestBody"))
                        .map(|b| ex.resolve(b))
                        .and_then(|b| b.get("content")?.get(op.body?)?.get("schema"))
                        .map(|s| ex.resolve(s))
                        .and_then(|s| s.get("required")?.as_array())
                        .is_some_and(|r| !r.is_empty())
            })
            .expect("some JSON body has required properties");
        let built = args::build(&doc, op);
        let mut url = format!("{}{}", relay.url(), op.path);
        for (name, value) in built.args["path"].as_object().into_iter().flatten() {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            url = url.replace(&format!("{{{name}}}"), &text);
        }
        let mark = relay.mark();
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
        let _ = http_client(HeaderMap::new())
            .request(method, &url)
            .header(args::CREDENTIAL, APIKEY)
            .header("content-type", op.body.unwrap())
            .body("{}")
            .send()
            .await
            .expect("Prism answers");
        let wire = relay
            .since(mark)
            .await
            .last()
            .and_then(oracle::read)
            .expect("the exchange was recorded");
        assert!(
            wire.request_violations()
                .iter()
                .any(|v| v.code == "required" && v.at.starts_with("body")),
            "{}: Prism did not report the missing body properties: {:?}",
            op.operation_id,
            wire.violations
        );
    }
}
