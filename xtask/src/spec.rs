//! `cargo xtask spec refresh|diff|check`: maintenance of the pinned OpenAPI document.

use std::path::PathBuf;

mod diff;
mod refresh;

/// Subcommands of `cargo xtask spec`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check that the pinned document matches openapi/lock.toml.
    Check {
        #[command(flatten)]
        root: RootArg,
    },
    /// Fetch or read a document (URL, file, or folder of multi-file YAML), bundle it, pin it
    /// and show what changed against the previous pin.
    Refresh(refresh::Args),
    /// Compare two documents: files, folders, URLs or `git:REV:path`.
    Diff(diff::Args),
    /// Bundle a document (URL, file, folder of multi-file YAML) into one canonical JSON file,
    /// without touching the pin.
    Bundle {
        /// URL, file, folder or git:REV:path.
        source: String,
        /// Where to write (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        load: LoadArgs,
    },
}

/// Which workspace to work on.
#[derive(clap::Args)]
pub struct RootArg {
    /// Workspace root (default: the one this xtask was built from).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

impl RootArg {
    fn get(&self) -> PathBuf {
        self.root.clone().unwrap_or_else(crate::workspace_root)
    }
}

pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Check { root } => {
            let root = root.get();
            let lock = mdcore_codegen::lock::Lock::load(&root)?;
            let (path, _) = lock.read_verified(&root)?;
            println!("{} matches openapi/lock.toml", path.display());
            Ok(())
        }
        Command::Refresh(args) => refresh::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Bundle {
            source,
            output,
            load,
        } => {
            let document = load.load(&source)?;
            mdcore_spec::validate::validate(&document, &source)?;
            match output {
                Some(path) => {
                    mdcore_spec::write::write_document(&path, &document)?;
                }
                None => {
                    use std::io::Write;
                    std::io::stdout()
                        .write_all(&mdcore_spec::format::to_canonical_json(&document))?;
                }
            }
            Ok(())
        }
    }
}

/// Limits and remote-reference policy shared by `refresh` and `diff`.
#[derive(clap::Args, Clone)]
pub struct LoadArgs {
    /// Follow `$ref`s to other hosts (refused by default).
    #[arg(long)]
    allow_remote_refs: bool,
    /// Largest file or HTTP body to read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = mdcore_spec::Limits::default().max_file_bytes)]
    max_bytes: u64,
    /// Timeout for one HTTP request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
}

impl LoadArgs {
    /// Reads and bundles `source` (relative paths are taken from the current directory).
    fn load(&self, source: &str) -> anyhow::Result<serde_json::Value> {
        let cwd = std::env::current_dir()?;
        let location = mdcore_spec::Location::from_arg(source, &cwd)?;
        let options = mdcore_spec::BundleOptions {
            limits: mdcore_spec::Limits {
                max_file_bytes: self.max_bytes,
                request_timeout: std::time::Duration::from_secs(self.timeout),
                ..Default::default()
            },
            allow_remote_refs: self.allow_remote_refs,
        };
        Ok(mdcore_spec::bundle(&location, &options)?.document)
    }
}

/// The client crate's version, from the root Cargo.toml, to name the next one.
fn crate_version(root: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let value: toml::Value = toml::from_str(&text).ok()?;
    value
        .get("package")?
        .get("version")?
        .as_str()
        .map(str::to_string)
}
