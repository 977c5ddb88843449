//! `cargo xtask bench`: each benchmark runs beside its anchor in the same run, and records its
//! own section of docs/benchmarks.md.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

mod build;
mod scan;
mod spec;

/// Arguments of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Only run benchmarks whose name contains this.
    filter: Option<String>,
    /// Timed runs per tool (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Print the results without touching docs/benchmarks.md.
    #[arg(long)]
    no_write: bool,
}

/// What a benchmark gets to work with.
pub struct Ctx {
    pub root: PathBuf,
    pub runs: usize,
    /// Scratch space (npm installs, outputs), kept between runs.
    pub scratch: PathBuf,
}

/// A benchmark: runs everything it compares and returns the markdown of its section.
type Bench = fn(&Ctx) -> anyhow::Result<String>;

/// The benchmarks, by name.
const BENCHES: &[(&str, Bench)] = &[
    ("build", build::run),
    ("spec", spec::run),
    ("scan", scan::run),
];

pub fn run(args: Args) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let ctx = Ctx {
        scratch: target.join("bench"),
        root: root.clone(),
        runs: args.runs.max(1),
    };
    std::fs::create_dir_all(&ctx.scratch)?;
    let selected: Vec<_> = BENCHES
        .iter()
        .filter(|(name, _)| args.filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();
    if selected.is_empty() {
        anyhow::bail!(
            "no benchmark matches; known: {}",
            BENCHES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (name, bench) in selected {
        eprintln!("bench {name}…");
        let section = bench(&ctx).with_context(|| format!("benchmark {name}"))?;
        println!("{section}");
        if !args.no_write {
            write_section(&root.join("docs/benchmarks.md"), name, &section)?;
        }
    }
    Ok(())
}

/// Replaces the part of `path` between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`
/// (appending it when absent), so each benchmark owns its section and leaves the others alone.
pub fn write_section(path: &Path, name: &str, body: &str) -> anyhow::Result<()> {
    let open = format!("<!-- bench:{name} -->");
    let close = format!("<!-- /bench:{name} -->");
    let current = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "# Benchmarks\n\nWritten by `cargo xtask bench`; each section is replaced by its own benchmark.\n".into()
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let block = format!("{open}\n{}\n{close}", body.trim_end());
    let updated = match (current.find(&open), current.find(&close)) {
        (Some(start), Some(end)) if end > start => {
            format!(
                "{}{block}{}",
                &current[..start],
                &current[end + close.len()..]
            )
        }
        (None, None) => format!("{}\n{block}\n", current.trim_end()),
        _ => anyhow::bail!(
            "{} has an unbalanced {open} … {close} pair; fix it by hand",
            path.display()
        ),
    };
    std::fs::write(path, updated).with_context(|| format!("writing {}", path.display()))
}

/// The median of `runs` timings of `f`; the first failure stops the measurement.
pub fn median<F: FnMut() -> anyhow::Result<()>>(runs: usize, mut f: F) -> anyhow::Result<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// Milliseconds with one decimal, for tables.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::write_section;

    #[test]
    fn sections_replace_only_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("benchmarks.md");
        write_section(&path, "spec", "one").unwrap();
        write_section(&path, "scan", "other").unwrap();
        write_section(&path, "spec", "two").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("<!-- bench:spec -->\ntwo\n<!-- /bench:spec -->"),
            "{text}"
        );
        assert!(
            text.contains("<!-- bench:scan -->\nother\n<!-- /bench:scan -->"),
            "{text}"
        );
        assert!(!text.contains("one"), "{text}");
        std::fs::write(&path, "<!-- bench:spec -->\nbroken").unwrap();
        assert!(write_section(&path, "spec", "x").is_err());
    }
}
