//! `cargo xtask bench build`: what generating the client at build time costs a user of the crate.
//!
//! Three measures, each against its target: the build script's own run (generation with debug
//! build-dependencies), a clean build of `metadefender-core` with its dependencies prebuilt, and
//! a no-op rebuild, which must not rerun the build script.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::{median, ms, Ctx};

pub fn run(ctx: &Ctx) -> anyhow::Result<String> {
    // A target dir of its own, so that the clean build really is one and other builds are untouched.
    let target = ctx.scratch.join("build-target");
    let cargo = |args: &[&str]| -> anyhow::Result<(Duration, String)> {
        let start = Instant::now();
        let out = Command::new(env!("CARGO"))
            .args(args)
            .current_dir(&ctx.root)
            .env("CARGO_TARGET_DIR", &target)
            // The rustc beside this cargo: run outside `cargo xtask` (no RUSTUP_TOOLCHAIN), the
            // rustup proxy would obey dependencies' rust-toolchain.toml (serde_tokenstream pins
            // 1.85) and fail.
            .env("RUSTC", Path::new(env!("CARGO")).with_file_name("rustc"))
            .env_remove("METADEFENDER_OPENAPI")
            .output()
            .with_context(|| format!("running cargo {}", args.join(" ")))?;
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if !out.status.success() {
            bail!("cargo {} failed:\n{stderr}", args.join(" "));
        }
        Ok((start.elapsed(), stderr))
    };

    eprintln!("  prebuilding dependencies");
    cargo(&["build", "-p", "metadefender-core"])?;

    let mut clean = Vec::new();
    for _ in 0..ctx.runs.min(3) {
        cargo(&["clean", "-p", "metadefender-core"])?;
        clean.push(cargo(&["build", "-p", "metadefender-core"])?.0);
    }
    clean.sort();
    let clean = clean[clean.len() / 2];

    let out_dir = newest_out_dir(&target.join("debug/build"))?;
    let generated = out_dir.join("client.rs");
    let before = std::fs::metadata(&generated)?.modified()?;
    let mut reran = false;
    let noop = median(ctx.runs, || {
        let (_, stderr) = cargo(&["build", "-p", "metadefender-core"])?;
        reran |= stderr.contains("Compiling metadefender-core");
        Ok(())
    })?;
    reran |= std::fs::metadata(&generated)?.modified()? != before;

    let script = newest_build_script(&target.join("debug/build"))?;
    let scratch_out = ctx.scratch.join("build-script-out");
    std::fs::create_dir_all(&scratch_out)?;
    let generation = median(ctx.runs, || {
        let status = Command::new(&script)
            .env("CARGO_MANIFEST_DIR", &ctx.root)
            .env("OUT_DIR", &scratch_out)
            .env_remove("METADEFENDER_OPENAPI")
            .stdout(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            bail!("{} failed", script.display());
        }
        Ok(())
    })?;

    let verdict = |ok: bool| if ok { "met" } else { "missed" };
    Ok(format!(
        "## Build-time generation (`cargo xtask bench build`)\n\n\
         Machine: 2 cores; dev profile, where the code generators (progenitor-impl, typify-impl, syn,\n\
         prettyplease, proc-macro2, serde_json) are built with `opt-level = 3` and every other\n\
         build-dependency stays a debug build (see the root Cargo.toml). Median of {runs} runs\n\
         (clean builds: of up to 3). Reproduce: `cargo xtask bench build`.\n\n\
         | measure | time | target | |\n|---|---|---|---|\n\
         | build script run (read + hash + rules + progenitor + render) | {gen} | ≤ 0.5 s | {g_ok} |\n\
         | clean build of metadefender-core, dependencies prebuilt | {clean} | ≤ 20 s | {c_ok} |\n\
         | no-op rebuild | {noop} | < 1 s, build script not rerun | {n_ok} (build script rerun: {reran}) |\n",
        runs = ctx.runs,
        gen = ms(generation),
        g_ok = verdict(generation <= Duration::from_millis(500)),
        clean = ms(clean),
        c_ok = verdict(clean <= Duration::from_secs(20)),
        noop = ms(noop),
        n_ok = verdict(noop < Duration::from_secs(1) && !reran),
    ))
}

fn package_build_dirs(build: &Path) -> anyhow::Result<Vec<PathBuf>> {
    Ok(std::fs::read_dir(build)
        .with_context(|| format!("reading {}", build.display()))?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("metadefender-core-")
        })
        .map(|e| e.path())
        .collect())
}

fn newest(paths: Vec<PathBuf>) -> Option<PathBuf> {
    paths
        .into_iter()
        .filter(|p| p.exists())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

fn newest_out_dir(build: &Path) -> anyhow::Result<PathBuf> {
    newest(
        package_build_dirs(build)?
            .into_iter()
            .map(|d| d.join("out"))
            .filter(|d| d.join("client.rs").is_file())
            .collect(),
    )
    .context("no OUT_DIR with client.rs")
}

fn newest_build_script(build: &Path) -> anyhow::Result<PathBuf> {
    newest(
        package_build_dirs(build)?
            .into_iter()
            .map(|d| d.join("build-script-build"))
            .collect(),
    )
    .context("no compiled build script")
}
