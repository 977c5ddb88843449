//! `cargo xtask spec refresh|diff|check`.

/// Subcommands of `cargo xtask spec`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check that the pinned document matches openapi/lock.toml.
    Check,
}

pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Check => {
            let root = crate::workspace_root();
            let lock = mdcore_codegen::lock::Lock::load(&root)?;
            let (path, _) = lock.read_verified(&root)?;
            println!("{} matches openapi/lock.toml", path.display());
            Ok(())
        }
    }
}
