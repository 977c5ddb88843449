//! Spec tooling against the npm tools maintainers reach for: bundling the 4.18.0 tree against
//! Redocly CLI, diffing 4.18.0 -> 5.6.1 against Optic and api-smart-diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use super::{median, ms, Ctx};

/// npm packages, pinned so reruns compare like with like.
const REDOCLY: &str = "@redocly/cli@2.77.0";
const OPTIC: &str = "@useoptic/optic@1.0.9";
const SMART_DIFF: &str = "api-smart-diff@1.0.6";

/// Runs api-smart-diff on two JSON files (it is a library without a command line).
const SMART_DIFF_SCRIPT: &str = r#"const { apiDiff } = require(process.argv[2]);
const fs = require('fs');
const before = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const after = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));
const result = apiDiff(before, after);
console.log((result.diffs || result).length + ' changes');
"#;

/// One tool's result: its median time, or why it could not run.
struct Timing {
    tool: String,
    command: String,
    result: Result<Duration, String>,
}

pub fn run(ctx: &Ctx) -> anyhow::Result<String> {
    let shared = ctx.root.join("../shared/openapi/metadefender-core");
    let tree = shared.join("4.18.0");
    let v561 = shared.join("5.6.1/openapi.json");
    let exe = std::env::current_exe()?;
    let out_dir = ctx.scratch.join("spec");
    std::fs::create_dir_all(&out_dir)?;
    let bundled_418 = out_dir.join("4.18.0.json");

    // The diff tools all get the same two self-contained JSON files.
    let doc = load(&tree)?;
    mdcore_spec::write::write_document(&bundled_418, &doc)?;

    let runs = ctx.runs;
    // Node tools take seconds per run; fewer runs keep the bench short.
    let node_runs = runs.clamp(1, 3);

    let mut bundle = vec![
        Timing {
            tool: "mdcore-spec (in process)".into(),
            command: "mdcore_spec::bundle + canonical JSON".into(),
            result: median(runs, || {
                let doc = load(&tree)?;
                std::hint::black_box(mdcore_spec::format::to_canonical_json(&doc));
                Ok(())
            })
            .map_err(|e| e.to_string()),
        },
        process(
            "cargo xtask spec bundle",
            &exe,
            &[
                "spec",
                "bundle",
                path(&tree),
                "-o",
                path(&out_dir.join("ours.json")),
            ],
            runs,
        ),
    ];
    let redocly = npm_tool(ctx, REDOCLY, "redocly");
    bundle.push(match &redocly {
        Ok(bin) => process(
            "Redocly CLI bundle",
            bin,
            &[
                "bundle",
                path(&tree.join("openapi.yaml")),
                "-o",
                path(&out_dir.join("redocly.json")),
            ],
            node_runs,
        ),
        Err(e) => failed("Redocly CLI bundle", REDOCLY, e),
    });

    let mut diff = vec![
        Timing {
            tool: "mdcore-spec (in process)".into(),
            command: "parse both + mdcore_spec::diff::diff".into(),
            result: median(runs, || {
                let a = load(&bundled_418)?;
                let b = load(&v561)?;
                std::hint::black_box(mdcore_spec::diff::diff(&a, &b, &Default::default()));
                Ok(())
            })
            .map_err(|e| e.to_string()),
        },
        process(
            "cargo xtask spec diff",
            &exe,
            &[
                "spec",
                "diff",
                path(&bundled_418),
                path(&v561),
                "--format",
                "json",
            ],
            runs,
        ),
    ];
    diff.push(match npm_tool(ctx, OPTIC, "optic") {
        Ok(bin) => process(
            "Optic diff",
            &bin,
            &["diff", path(&bundled_418), path(&v561)],
            node_runs,
        ),
        Err(e) => failed("Optic diff", OPTIC, &e),
    });
    diff.push(match npm_tool(ctx, SMART_DIFF, "") {
        Ok(prefix) => {
            let script = out_dir.join("api-smart-diff.cjs");
            std::fs::write(&script, SMART_DIFF_SCRIPT)?;
            let module = prefix.join("node_modules/api-smart-diff");
            process(
                "api-smart-diff",
                Path::new("node"),
                &[
                    path(&script),
                    path(&module),
                    path(&bundled_418),
                    path(&v561),
                ],
                node_runs,
            )
        }
        Err(e) => failed("api-smart-diff", SMART_DIFF, &e),
    });

    let mut md = String::new();
    md.push_str("## Spec tooling (`cargo xtask bench spec`)\n\n");
    md.push_str(&format!(
        "Machine: {} cores; xtask built with the `{}` profile; median of {runs} runs ({node_runs} for Node tools). \
         The ratio is the other tool's time over `cargo xtask` as a process (start-up included on both sides).\n\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        if cfg!(debug_assertions) { "dev" } else { "release" },
    ));
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "not found".into());
    md.push_str(&format!(
        "Run with `cargo run --release -p xtask -- bench spec` (the dev profile is several times slower). \
         Node {node}; npm packages {REDOCLY}, {OPTIC}, {SMART_DIFF}, installed under `<target>/bench/npm`. \
         A tool that did not run is listed with its error.\n\n"
    ));
    md.push_str(&table("Bundle the 4.18.0 multi-file tree", &bundle));
    md.push_str(&table("Diff 4.18.0 -> 5.6.1", &diff));
    md.push_str("Target: at least 10x faster than the fastest other tool that runs.\n");
    for (what, rows) in [("bundle", &bundle), ("diff", &diff)] {
        md.push_str(&format!("- {what}: {}\n", verdict(rows)));
    }
    Ok(md)
}

fn load(source: &Path) -> anyhow::Result<serde_json::Value> {
    let location = mdcore_spec::Location::from_arg(path(source), Path::new("/"))?;
    Ok(mdcore_spec::bundle(&location, &Default::default())?.document)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("bench paths are UTF-8")
}

/// Paths as a reader can reproduce them: the shared data relative to the workspace, scratch
/// files under `<target>/bench`.
fn shorten(arg: &str) -> String {
    let root = crate::workspace_root();
    let shared = format!("{}/../shared/", root.display());
    let target =
        std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/target", root.display()));
    arg.replace(&shared, "../shared/")
        .replace(&format!("{target}/bench/"), "<target>/bench/")
}

fn failed(tool: &str, command: &str, error: &str) -> Timing {
    Timing {
        tool: tool.into(),
        command: command.into(),
        result: Err(error.into()),
    }
}

/// Times `program args`; the first run must succeed or the tool is reported as failing.
fn process(tool: &str, program: &Path, args: &[&str], runs: usize) -> Timing {
    let command = format!(
        "{} {}",
        program.file_name().unwrap_or_default().to_string_lossy(),
        args.iter()
            .map(|a| shorten(a))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let run_once = || -> anyhow::Result<()> {
        let out = Command::new(program)
            .args(args)
            .env("REDOCLY_TELEMETRY", "off")
            .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
            .env("OPTIC_TELEMETRY_LEVEL", "none")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot start {}", program.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            // The first line naming an error says more than a stack trace's tail.
            let line = err
                .lines()
                .find(|l| l.contains("Error") && l.len() < 200)
                .or_else(|| err.lines().rev().find(|l| !l.trim().is_empty()))
                .unwrap_or("")
                .trim();
            anyhow::bail!("exit status {:?}: {line}", out.status.code());
        }
        Ok(())
    };
    let result = run_once()
        .and_then(|()| median(runs, run_once))
        .map_err(|e| e.to_string());
    Timing {
        tool: tool.into(),
        command,
        result,
    }
}

/// Installs `package` under the scratch folder (once) and returns its binary, or the prefix
/// when `bin` is empty. The error says why it cannot be installed or started.
fn npm_tool(ctx: &Ctx, package: &str, bin: &str) -> Result<PathBuf, String> {
    let name = package.rsplit_once('@').map(|(n, _)| n).unwrap_or(package);
    let prefix = ctx
        .scratch
        .join("npm")
        .join(package.replace(['/', '@'], "_"));
    let marker = prefix.join("node_modules").join(name).join("package.json");
    if !marker.is_file() {
        std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
        eprintln!("npm install {package} …");
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(package)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run npm: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "npm install failed: {}",
                err.lines().last().unwrap_or("")
            ));
        }
    }
    if bin.is_empty() {
        return Ok(prefix);
    }
    let path = prefix.join("node_modules/.bin").join(bin);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{package} installed no `{bin}` binary"))
    }
}

fn verdict(rows: &[Timing]) -> String {
    let ours = rows
        .iter()
        .find(|t| t.tool.starts_with("cargo xtask"))
        .and_then(|t| t.result.as_ref().ok());
    let fastest = rows
        .iter()
        .filter(|t| !t.tool.starts_with("cargo xtask") && !t.tool.starts_with("mdcore"))
        .filter_map(|t| t.result.as_ref().ok().map(|d| (d, &t.tool)))
        .min();
    match (ours, fastest) {
        (Some(o), Some((d, tool))) => {
            let ratio = d.as_secs_f64() / o.as_secs_f64();
            format!(
                "{ratio:.1}x faster than {tool}, the fastest other tool: {}",
                if ratio >= 10.0 { "met" } else { "NOT met" }
            )
        }
        (None, _) => "our run failed".into(),
        (_, None) => "no other tool ran".into(),
    }
}

fn table(title: &str, rows: &[Timing]) -> String {
    let ours = rows
        .iter()
        .find(|t| t.tool.starts_with("cargo xtask"))
        .and_then(|t| t.result.as_ref().ok())
        .copied();
    let mut s =
        format!("### {title}\n\n| tool | median | ratio vs ours | command |\n|---|---|---|---|\n");
    for t in rows {
        let (time, ratio) = match (&t.result, ours) {
            (Ok(d), Some(o)) if !t.tool.starts_with("mdcore") && !t.tool.starts_with("cargo") => (
                ms(*d),
                format!("{:.1}x slower", d.as_secs_f64() / o.as_secs_f64()),
            ),
            (Ok(d), _) => (ms(*d), "-".into()),
            (Err(e), _) => (format!("did not run: {}", e.replace('|', "/")), "-".into()),
        };
        s.push_str(&format!(
            "| {} | {time} | {ratio} | `{}` |\n",
            t.tool, t.command
        ));
    }
    s.push('\n');
    s
}
