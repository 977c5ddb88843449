//! `cargo xtask snapshot [--check]`: the generated client as reviewers see it.

use std::path::Path;

use anyhow::Context;
use mdcore_codegen::{REPORT_PATH, SNAPSHOT_COMMAND, SNAPSHOT_PATH};

/// Arguments of `cargo xtask snapshot`.
#[derive(clap::Args)]
pub struct Args {
    /// Fail instead of writing when generated-client/ is stale.
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let generated = mdcore_codegen::generate_pinned(&root, None)?;
    let snapshot = generated.snapshot();
    let report = generated.report_markdown();
    let files = [
        (SNAPSHOT_PATH, snapshot.as_str()),
        (REPORT_PATH, report.as_str()),
    ];
    let mut stale = Vec::new();
    for (rel, want) in files {
        let path = root.join(rel);
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have == want {
            continue;
        }
        if args.check {
            stale.push(rel);
        } else {
            write(&path, want)?;
            println!("wrote {rel}");
        }
    }
    if !stale.is_empty() {
        anyhow::bail!(
            "{} stale; run `{SNAPSHOT_COMMAND}` and commit the result",
            stale.join(" and ")
        );
    }
    println!(
        "{} operations from {} (sha256 {})",
        generated.operations,
        generated.source.display(),
        generated.sha256
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
