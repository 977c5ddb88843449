//! Which server a command talks to (a URL, or the simulator started in this process) and with
//! which credential; a first request that turns "nothing listens" and "wrong apikey" into clear
//! errors before any file is touched.

use std::path::Path;

use mdcore_sim::{SimConfig, Simulator};
use metadefender_core::scan::Scanner;
use metadefender_core::{Client, Secret};

use crate::cli::Global;
use crate::error::{CallContext, CliError};

/// The environment variable holding the apikey.
pub const APIKEY_ENV: &str = "MDCORE_APIKEY";

/// A connected server.
pub struct Server {
    pub scanner: Scanner,
    pub ctx: CallContext,
    sim: Option<Simulator>,
}

impl Server {
    /// Connects per the global options; `check` makes one request first (`GET /version`) so
    /// that an unreachable server or a refused apikey fails right away.
    pub async fn connect(global: &Global, check: bool) -> Result<Server, CliError> {
        let apikey = load_apikey(global.apikey_file.as_deref())?;
        if global.embedded {
            return Self::embedded(SimConfig::default(), apikey).await;
        }
        let server = Self::at(&global.url, apikey, None)?;
        if check {
            server.check().await?;
        }
        Ok(server)
    }

    /// Starts the simulator in this process on a free port.
    pub async fn embedded(config: SimConfig, apikey: Option<Secret>) -> Result<Server, CliError> {
        let sim = Simulator::start(config).await.map_err(CliError::Embedded)?;
        let url = sim.url();
        Self::at(&url, apikey, Some(sim))
    }

    fn at(url: &str, apikey: Option<Secret>, sim: Option<Simulator>) -> Result<Server, CliError> {
        let had_key = apikey.is_some();
        let mut builder =
            Client::builder(url).user_agent(concat!("mdcore-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(key) = apikey {
            builder = builder.apikey(key);
        }
        let base = builder.base_url().map_err(CliError::Client)?;
        let client = builder.build().map_err(CliError::Client)?;
        Ok(Server {
            scanner: Scanner::new(client),
            ctx: CallContext { url: base, had_key },
            sim,
        })
    }

    /// The base URL in use.
    pub fn url(&self) -> &str {
        &self.ctx.url
    }

    /// Whether this is the embedded simulator.
    pub fn is_embedded(&self) -> bool {
        self.sim.is_some()
    }

    pub fn client(&self) -> &Client {
        self.scanner.client()
    }

    /// `GET /version` once, without retries: a refused connection or credential ends the
    /// command; any other answer (some servers restrict `/version`) lets it go on.
    async fn check(&self) -> Result<(), CliError> {
        // A generated call on its own is tried once: no retry policy applies.
        match self.client().product_version().send().await {
            Ok(_) => Ok(()),
            Err(e) => match self.ctx.error("checking the server", e).await {
                err @ (CliError::Unreachable { .. } | CliError::Auth { .. }) => Err(err),
                _ => Ok(()),
            },
        }
    }

    /// Stops the embedded simulator, if any.
    pub async fn shutdown(self) {
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
    }
}

/// The apikey: `--apikey-file` (first line, trimmed) wins over `MDCORE_APIKEY`.
pub fn load_apikey(file: Option<&Path>) -> Result<Option<Secret>, CliError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| CliError::ApikeyFile {
            path: path.to_path_buf(),
            source,
        })?;
        let key = text.lines().next().unwrap_or("").trim();
        if key.is_empty() {
            return Err(CliError::EmptyApikeyFile {
                path: path.to_path_buf(),
            });
        }
        return Ok(Some(Secret::new(key)));
    }
    Ok(std::env::var(APIKEY_ENV)
        .ok()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .map(Secret::new))
}
