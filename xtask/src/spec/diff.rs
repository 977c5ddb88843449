//! `cargo xtask spec diff <old> <new>`.

use mdcore_spec::diff::{DiffOptions, Level};
use mdcore_spec::render::{render, Format, RenderOptions};

/// Arguments of `cargo xtask spec diff`.
#[derive(clap::Args)]
pub struct Args {
    /// The old document: file, folder, URL or git:REV:path.
    old: String,
    /// The new document: file, folder, URL or git:REV:path.
    new: String,
    /// Output: text, markdown (a PR comment) or json.
    #[arg(long, default_value = "text", value_parser = ["text", "markdown", "md", "json"])]
    format: String,
    /// Exit with status 1 when a change at this level or above is found.
    #[arg(long, value_name = "ERR|WARN|INFO", value_parser = parse_level)]
    fail_on: Option<Level>,
    /// Leave documentation-only changes out.
    #[arg(long)]
    hide_docs: bool,
    /// Only operations whose path starts with this (`*` matches anything); repeatable.
    #[arg(long = "path", value_name = "PREFIX")]
    paths: Vec<String>,
    /// Only this operation (operationId or generated method name); repeatable.
    #[arg(long = "operation", value_name = "ID")]
    operations: Vec<String>,
    #[command(flatten)]
    load: super::LoadArgs,
    #[command(flatten)]
    root: super::RootArg,
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(s).ok_or_else(|| format!("`{s}` is not one of ERR, WARN, INFO"))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let old = args.load.load(&args.old)?;
    let new = args.load.load(&args.new)?;
    let report = mdcore_spec::diff::diff(
        &old,
        &new,
        &DiffOptions {
            paths: args.paths,
            operations: args.operations,
        },
    );
    let format = Format::parse(&args.format).expect("clap checked the format");
    let version = super::crate_version(&args.root.get());
    print!(
        "{}",
        render(
            &report,
            format,
            &RenderOptions {
                hide_docs: args.hide_docs
            },
            version.as_deref()
        )
    );
    if let (Some(threshold), Some(found)) = (args.fail_on, report.max_level()) {
        if found >= threshold {
            eprintln!(
                "spec diff: found {} changes (--fail-on {})",
                found.as_str(),
                threshold.as_str()
            );
            std::process::exit(1);
        }
    }
    Ok(())
}
