//! `cargo xtask snapshot [--check]`.

/// Arguments of `cargo xtask snapshot`.
#[derive(clap::Args)]
pub struct Args {
    /// Fail instead of writing when generated-client/ is stale.
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let _ = args.check;
    anyhow::bail!("not implemented yet")
}
