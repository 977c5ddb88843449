//! `mdcore`: scan files with OPSWAT MetaDefender Core from the command line.
//!
//! Exit codes: 0 all clean, 1 a threat or block found, 2 usage or any other error (see
//! `mdcore --help` and docs/cli.md).

mod cli;
mod commands;
mod demo;
mod error;
mod outcome;
mod output;
mod server;
mod walk;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{chain, CliError};
use crate::outcome::Exit;
use crate::output::Output;
use crate::server::Server;

fn main() -> ExitCode {
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mdcore: cannot start the async runtime: {e}");
            return Exit::Error.into();
        }
    };
    let out = Output::new(cli.global.json, cli.global.no_progress);
    let code = runtime.block_on(async {
        tokio::select! {
            r = run(&cli, &out) => r,
            _ = tokio::signal::ctrl_c() => Err(CliError::Usage("interrupted".into())),
        }
    });
    // Scans still running on the server are left to finish there.
    runtime.shutdown_background();
    match code {
        Ok(exit) => exit.into(),
        Err(e) => {
            out.note(&format!("mdcore: {}", chain(&e)));
            Exit::Error.into()
        }
    }
}

async fn run(cli: &Cli, out: &Output) -> Result<Exit, CliError> {
    if let Command::Quickstart(a) = &cli.command {
        return commands::quickstart::run(out, a).await;
    }
    // Login sends no apikey, so the credential check would only get in its way.
    let check = !matches!(cli.command, Command::Login(_));
    let server = Server::connect(&cli.global, check).await?;
    let result = dispatch(cli, out, &server).await;
    server.shutdown().await;
    result
}

async fn dispatch(cli: &Cli, out: &Output, server: &Server) -> Result<Exit, CliError> {
    match &cli.command {
        Command::Scan(a) => {
            let opts = commands::scan::ScanOptions::from_args(a).await?;
            let tally = commands::scan::run(server, out, &a.paths, &opts).await;
            out.summary(&tally);
            Ok(tally.exit())
        }
        Command::Status(a) => commands::lookup::status(server, out, a).await,
        Command::Hash(a) => commands::lookup::hash(server, out, a).await,
        Command::Download(a) => commands::lookup::download(server, out, a).await,
        Command::Batch(b) => commands::batch::run(server, out, b).await,
        Command::Version => commands::info::version(server, out).await,
        Command::Engines => commands::info::engines(server, out).await,
        Command::Login(a) => commands::login::run(server, out, a).await,
        Command::Quickstart(a) => commands::quickstart::run(out, a).await,
    }
}
