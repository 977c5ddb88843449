//! `mdcore quickstart`: the whole job on a machine without a server. It starts the simulator in
//! this process, writes demo files, scans them (the document with the sanitizing rule), prints
//! the verdicts, writes the sanitized copy, and checks that each came out as it should.

use std::path::{Path, PathBuf};

use mdcore_sim::{SimConfig, RULE_SANITIZE};
use metadefender_core::scan::Verdict;

use crate::cli::QuickstartArgs;
use crate::commands::scan::{scan_file, Names, ScanOptions};
use crate::demo::{holds_eicar, DemoFiles};
use crate::error::CliError;
use crate::outcome::{Exit, Outcome};
use crate::output::Output;
use crate::server::Server;

pub async fn run(out: &Output, a: &QuickstartArgs) -> Result<Exit, CliError> {
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => tempfile::Builder::new()
            .prefix("mdcore-quickstart-")
            .tempdir()
            .map_err(|e| CliError::io("cannot create a temporary directory", e))?
            .keep(),
    };
    let files = DemoFiles::create(&dir).map_err(|e| {
        CliError::io(
            format!("cannot write the demo files into {}", dir.display()),
            e,
        )
    })?;

    let server = Server::embedded(SimConfig::default(), None).await?;
    let result = demo(&server, out, &dir, &files).await;
    server.shutdown().await;
    result
}

async fn demo(
    server: &Server,
    out: &Output,
    dir: &Path,
    files: &DemoFiles,
) -> Result<Exit, CliError> {
    out.say(&format!(
        "Started the MetaDefender Core simulator at {} (in this process; no server needed).",
        server.url()
    ));
    out.say(&format!("Demo files in {}:", dir.display()));
    for (path, what) in files.all() {
        out.say(&format!("  {:<12} {what}", name(path)));
    }

    let sanitized_dir = dir.join("sanitized");
    std::fs::create_dir_all(&sanitized_dir)
        .map_err(|e| CliError::io(format!("cannot create {}", sanitized_dir.display()), e))?;
    let plain = ScanOptions {
        wait: true,
        concurrency: 3,
        ..ScanOptions::default()
    };
    let sanitizing = ScanOptions {
        rules: vec![RULE_SANITIZE.to_string()],
        sanitized_out: Some(sanitized_dir.clone()),
        ..plain.clone()
    };
    let names = Names::default();
    out.say("\nScanning (default rule for the first three, rule \"sanitize\" for the last):");
    let (clean, eicar, archive, document) = tokio::join!(
        scan_file(server, out, &files.clean, &plain, &names),
        scan_file(server, out, &files.eicar, &plain, &names),
        scan_file(server, out, &files.archive, &plain, &names),
        scan_file(server, out, &files.document, &sanitizing, &names),
    );
    let results = [
        (&files.clean, &clean),
        (&files.eicar, &eicar),
        (&files.archive, &archive),
        (&files.document, &document),
    ];
    for (path, outcome) in results {
        out.file_result(Path::new(&name(path)), &relative_to(outcome, dir));
    }

    let sanitized = check(&clean, &eicar, &archive, &document)?;
    out.say(&format!(
        "\nThe sanitized copy of invoice.txt: {}\n(the test string is overwritten with '_' there).",
        sanitized.display()
    ));
    out.say(&format!(
        "Everything came out as expected. The files stay in {} (delete it when done).\n\
         Against a real server: MDCORE_URL=http://HOST:8008 MDCORE_APIKEY=... mdcore scan --wait PATH...",
        dir.display()
    ));
    Ok(Exit::Clean)
}

/// The outcome with the sanitized copy's path relative to the demo directory, like the names
/// of the demo files beside it.
fn relative_to(o: &Outcome, dir: &Path) -> Outcome {
    let mut o = o.clone();
    if let Outcome::Done {
        sanitized: Some(p), ..
    } = &mut o
    {
        if let Ok(rel) = p.strip_prefix(dir) {
            *p = rel.to_path_buf();
        }
    }
    o
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

fn verdict(o: &Outcome) -> Result<&Verdict, CliError> {
    match o {
        Outcome::Done { finished, .. } => Ok(&finished.verdict),
        other => Err(CliError::Quickstart(other.describe())),
    }
}

/// Every demo file must give its expected verdict; the sanitized copy must exist without the
/// test string. Returns where the copy is.
fn check(
    clean: &Outcome,
    eicar: &Outcome,
    archive: &Outcome,
    document: &Outcome,
) -> Result<PathBuf, CliError> {
    let bad = |what: &str, got: &Verdict| CliError::Quickstart(format!("{what} came out {got}"));
    let v = verdict(clean)?;
    if !v.is_clean() {
        return Err(bad("clean.txt", v));
    }
    let v = verdict(eicar)?;
    if !matches!(v, Verdict::Infected { .. }) {
        return Err(bad("eicar.com", v));
    }
    let v = verdict(archive)?;
    let names_child = v
        .threats()
        .iter()
        .any(|t| t.file.as_deref().is_some_and(|f| f.ends_with("eicar.com")));
    if !matches!(v, Verdict::Infected { .. }) || !names_child {
        return Err(bad("bundle.zip", v));
    }
    let Outcome::Done {
        sanitized,
        sanitize_note,
        ..
    } = document
    else {
        return Err(CliError::Quickstart(document.describe()));
    };
    let Some(path) = sanitized else {
        return Err(CliError::Quickstart(format!(
            "invoice.txt has no sanitized copy ({sanitize_note:?})"
        )));
    };
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::io(format!("cannot read {}", path.display()), e))?;
    if holds_eicar(&bytes) {
        return Err(CliError::Quickstart(format!(
            "the sanitized copy {} still holds the test string",
            path.display()
        )));
    }
    Ok(path.clone())
}
