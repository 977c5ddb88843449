//! Maintainer tasks: `cargo xtask <command>`.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

mod bench;
mod snapshot;
mod spec;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Maintainer tasks for metadefender-core")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the review snapshot in generated-client/ (or check it is fresh).
    Snapshot(snapshot::Args),
    /// Refresh, diff or check the pinned OpenAPI document.
    #[command(subcommand)]
    Spec(spec::Command),
    /// Run the benchmarks side by side with their anchors and record them in docs/benchmarks.md.
    Bench(bench::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Snapshot(args) => snapshot::run(args),
        Command::Spec(cmd) => spec::run(cmd),
        Command::Bench(args) => bench::run(args),
    }
}

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}
