//! `cargo xtask bench`: each benchmark runs beside its anchor in the same run.

/// Arguments of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Only run benchmarks whose name contains this.
    filter: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let _ = args.filter;
    anyhow::bail!("no benchmarks yet")
}
