//! Reads Prism's verdict from one raw exchange: request line, status, and the violations it
//! reports, in the `sl-violations` header (the operation documents a 4xx, whose example Prism
//! returns) or in a problem+json body (422 when it documents none; 500 in proxy mode when the
//! upstream response breaks the document).

use serde_json::Value;

use super::relay::Exchange;

/// One violation Prism reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `request` or `response`.
    pub side: String,
    /// Where, e.g. `header` or `body.user`.
    pub at: String,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.side, self.at, self.message)
    }
}

/// What went over the wire for one call.
#[derive(Debug, Clone, Default)]
pub struct Wire {
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// Request header names as sent (lower case).
    pub request_headers: Vec<String>,
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub violations: Vec<Violation>,
}

impl Wire {
    pub fn request_violations(&self) -> Vec<&Violation> {
        self.violations
            .iter()
            .filter(|v| v.side == "request")
            .collect()
    }
    pub fn response_violations(&self) -> Vec<&Violation> {
        self.violations
            .iter()
            .filter(|v| v.side == "response")
            .collect()
    }
}

/// Parses an exchange; `None` when no response came back.
pub fn read(ex: &Exchange) -> Option<Wire> {
    let (req_head, _) = split_head(&ex.request)?;
    let (resp_head, resp_body) = split_head(&ex.response)?;
    let mut req_lines = req_head.lines();
    let mut first = req_lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let request_headers = req_lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, _)| k.trim().to_ascii_lowercase())
        .collect();

    let mut lines = resp_head.lines();
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        dechunk(resp_body)
    } else {
        resp_body.to_vec()
    };
    let content_type = header("content-type").unwrap_or_default().to_string();

    let mut violations = Vec::new();
    if let Some(raw) = header("sl-violations") {
        match serde_json::from_str::<Value>(raw) {
            Ok(Value::Array(list)) => violations.extend(list.iter().map(|v| violation(v, None))),
            _ => violations.push(Violation {
                side: "request".into(),
                at: "?".into(),
                code: "unparsed".into(),
                message: format!("unreadable sl-violations header: {raw}"),
            }),
        }
    }
    if content_type.starts_with("application/problem+json") {
        if let Ok(problem) = serde_json::from_slice::<Value>(&body) {
            violations.extend(problem_violations(status, &problem));
        }
    }
    // In proxy mode the same list is in the header and in the body.
    let mut seen = Vec::new();
    violations.retain(|v| {
        let new = !seen.contains(v);
        if new {
            seen.push(v.clone());
        }
        new
    });
    Some(Wire {
        method,
        target,
        request_headers,
        status,
        content_type,
        body,
        violations,
    })
}

/// Violations in a Prism problem body: `validation` entries; for a problem without them (a
/// 5xx of the proxy, a 404 for an unknown route) the problem itself.
fn problem_violations(status: u16, problem: &Value) -> Vec<Violation> {
    let kind = problem.get("type").and_then(Value::as_str).unwrap_or("");
    if !kind.contains("stoplight.io/prism") {
        return Vec::new();
    }
    // In proxy mode a 500 carries what is wrong with the upstream response.
    let default_side = if status >= 500 || kind.contains("VIOLATIONS") {
        "response"
    } else {
        "request"
    };
    match problem.get("validation").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|v| violation(v, Some(default_side)))
            .collect(),
        _ => vec![Violation {
            side: default_side.into(),
            at: "-".into(),
            code: kind.rsplit('#').next().unwrap_or(kind).to_string(),
            message: ["detail", "title"]
                .iter()
                .filter_map(|k| problem.get(*k).and_then(Value::as_str))
                .find(|t| !t.is_empty())
                .unwrap_or("")
                .to_string(),
        }],
    }
}

fn violation(v: &Value, default_side: Option<&str>) -> Violation {
    let path: Vec<String> = v
        .get("location")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let (side, rest) = match path.first().map(String::as_str) {
        Some(s @ ("request" | "response")) => (s.to_string(), &path[1..]),
        _ => (default_side.unwrap_or("request").to_string(), &path[..]),
    };
    Violation {
        side,
        at: rest.join("."),
        code: v
            .get("code")
            .map(|c| match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default(),
        message: v
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    }
}

fn split_head(bytes: &[u8]) -> Option<(String, &[u8])> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((
        String::from_utf8_lossy(&bytes[..end]).into_owned(),
        &bytes[end + 4..],
    ))
}

fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = bytes.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&bytes[..eol]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        bytes = &bytes[eol + 2..];
        if size == 0 || bytes.len() < size {
            out.extend_from_slice(&bytes[..size.min(bytes.len())]);
            break;
        }
        out.extend_from_slice(&bytes[..size]);
        bytes = bytes.get(size + 2..).unwrap_or(&[]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(response: &str) -> Exchange {
        Exchange {
            request: b"POST /login HTTP/1.1\r\napikey: k\r\n\r\n".to_vec(),
            response: response.as_bytes().to_vec(),
            done: true,
        }
    }

    #[test]
    fn header_violations_are_read() {
        let w = read(&exchange(
            "HTTP/1.1 400 Bad Request\r\nsl-violations: [{\"location\":[\"request\",\"header\"],\"severity\":\"Error\",\"code\":\"required\",\"message\":\"must have apikey\"}]\r\nContent-Length: 2\r\n\r\n{}",
        ))
        .unwrap();
        assert_eq!(
            (w.method.as_str(), w.target.as_str(), w.status),
            ("POST", "/login", 400)
        );
        assert_eq!(w.request_headers, ["apikey"]);
        assert_eq!(w.request_violations().len(), 1);
        assert_eq!(w.request_violations()[0].at, "header");
    }

    #[test]
    fn problem_bodies_are_read() {
        let body = r#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","status":422,"validation":[{"location":["body"],"code":"required","message":"needs password"}]}"#;
        let w = read(&exchange(&format!(
            "HTTP/1.1 422 Unprocessable Entity\r\ncontent-type: application/problem+json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )))
        .unwrap();
        assert_eq!(w.request_violations().len(), 1, "{w:?}");
        assert!(w.response_violations().is_empty());
    }

    #[test]
    fn a_clean_answer_has_no_violations() {
        let w = read(&exchange(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{}",
        ))
        .unwrap();
        assert!(w.violations.is_empty());
    }
}
