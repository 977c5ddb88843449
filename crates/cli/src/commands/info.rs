//! `version` and `engines`: what the server runs.

use serde_json::json;

use crate::error::CliError;
use crate::outcome::Exit;
use crate::output::Output;
use crate::server::Server;

/// This tool's version line.
pub const TOOL: &str = concat!("mdcore ", env!("CARGO_PKG_VERSION"));

/// `mdcore version`.
pub async fn version(server: &Server, out: &Output) -> Result<Exit, CliError> {
    let v = server.client().product_version().send().await;
    let v = match v {
        Ok(rv) => rv.into_inner(),
        Err(e) => return Err(server.ctx.error("GET /version", e).await),
    };
    let product = v.product_id.clone().unwrap_or_default();
    let version = v.version.clone().unwrap_or_default();
    if out.json() {
        out.json_line(&json!({
            "client": TOOL,
            "server_url": server.url(),
            "server_product": product,
            "server_version": version,
            "embedded": server.is_embedded(),
        }));
    } else {
        out.line(TOOL);
        let kind = if server.is_embedded() {
            " (embedded simulator)"
        } else {
            ""
        };
        out.line(&format!(
            "server {}{kind}: {product} {version}",
            server.url()
        ));
    }
    Ok(Exit::Clean)
}

/// `mdcore engines`.
pub async fn engines(server: &Server, out: &Output) -> Result<Exit, CliError> {
    let list = match server.client().engines_status().send().await {
        Ok(rv) => rv.into_inner(),
        Err(e) => return Err(server.ctx.error("GET /stat/engines", e).await),
    };
    for e in list.iter() {
        if out.json() {
            out.json_line(&serde_json::to_value(e).unwrap_or_default());
            continue;
        }
        let name = e.eng_name.as_deref().unwrap_or("?");
        let ver = e.eng_ver.as_deref().unwrap_or("?");
        let defs = e.def_time.as_deref().unwrap_or("?");
        let active = match e.active {
            Some(true) => "active",
            Some(false) => "inactive",
            None => "state unknown",
        };
        out.line(&format!(
            "{name:<20} {ver:<16} definitions {defs:<26} {active}"
        ));
    }
    if !out.json() && list.is_empty() {
        out.note("the server lists no engines");
    }
    Ok(Exit::Clean)
}
