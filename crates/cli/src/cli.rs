//! The command line: global options, subcommands and their arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Printed under `mdcore --help`.
const AFTER_HELP: &str = "\
Exit codes:
  0  all clean: every file scanned was clean (without --wait: every file was submitted)
  1  a threat or block was found (infected, suspicious, or blocked by the server's policy)
  2  usage error, or any other error: unreadable file, server unreachable, credentials
     refused, scan failed or not finished. When a threat was found too, the exit code is 1.

Environment:
  MDCORE_URL     server base URL (default http://localhost:8008); --url takes precedence
  MDCORE_APIKEY  apikey sent as the `apikey` header; --apikey-file takes precedence
  MDCORE_PASSWORD  password for `mdcore login` (instead of --password-stdin)

Try it without a server: `mdcore quickstart`, or add --embedded to any command.";

/// Command-line client for OPSWAT MetaDefender Core.
#[derive(Debug, Parser)]
#[command(name = "mdcore", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Base URL of MetaDefender Core.
    #[arg(
        long,
        env = "MDCORE_URL",
        default_value = metadefender_core::DEFAULT_URL,
        global = true,
        value_name = "URL"
    )]
    pub url: String,

    /// Read the apikey from FILE (first line) instead of MDCORE_APIKEY.
    #[arg(long, global = true, value_name = "FILE")]
    pub apikey_file: Option<PathBuf>,

    /// Start the MetaDefender Core simulator in this process on a free port and use it
    /// (no server needed; --url is ignored).
    #[arg(long, global = true)]
    pub embedded: bool,

    /// Print one JSON object per result (NDJSON) on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// No progress bars, even on a terminal.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (directories are walked recursively).
    Scan(ScanArgs),
    /// Show the state or verdict of a scan by its data id.
    Status(StatusArgs),
    /// Look a file's verdict up by its md5, sha1 or sha256.
    Hash(HashArgs),
    /// Download the sanitized copy of a scanned file.
    Download(DownloadArgs),
    /// Scan files as one batch, and manage batches.
    #[command(subcommand)]
    Batch(BatchCommand),
    /// Show the versions of this tool and of the server.
    Version,
    /// List the server's engines and their definitions.
    Engines,
    /// Log in with a user name and password; saves the session id for --apikey-file.
    Login(LoginArgs),
    /// Demo without a server: start the simulator, make demo files (one holding the EICAR
    /// test string, one zip with it inside), scan them and write a sanitized copy.
    Quickstart(QuickstartArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Workflow rule (repeat for several, e.g. --rule multiscan --rule sanitize).
    #[arg(long, value_name = "RULE")]
    pub rule: Vec<String>,

    /// Wait for the verdicts (without it, files are submitted and their data ids printed).
    #[arg(long)]
    pub wait: bool,

    /// Download sanitized copies into DIR (implies --wait).
    #[arg(long, value_name = "DIR")]
    pub sanitized_out: Option<PathBuf>,

    /// Files in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Look each file's sha256 up first and reuse a finished result instead of uploading.
    #[arg(long)]
    pub hash_first: bool,

    /// Get results by callback: HOST:PORT listens there for the server's callbacks
    /// (implies --wait); an http(s) URL is passed to the server as its callback URL.
    #[arg(long, value_name = "ADDR")]
    pub callback: Option<String>,

    /// The URL the server should call back when it differs from http://ADDR (NAT, proxy).
    #[arg(long, value_name = "URL", requires = "callback")]
    pub callback_public_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The data id returned by a scan.
    pub data_id: String,
    /// Wait until the scan is done.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct HashArgs {
    /// md5, sha1 or sha256 (hex).
    pub hash: String,
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The data id of a scan that produced a sanitized file.
    pub data_id: String,
    /// Where to write it.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Create a batch, upload the files into it, close it and wait for its verdict.
    Scan(BatchScanArgs),
    /// Show a batch's state and files.
    Status {
        /// The batch id.
        batch_id: String,
    },
    /// Write the signed result of a closed batch (to stdout, or -o FILE).
    Certificate {
        /// The batch id.
        batch_id: String,
        /// Where to write it.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Cancel a batch and its files.
    Cancel {
        /// The batch id.
        batch_id: String,
    },
}

#[derive(Debug, Args)]
pub struct BatchScanArgs {
    /// Files or directories to scan.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Workflow rule of the batch.
    #[arg(long, value_name = "RULE")]
    pub rule: Option<String>,
    /// Free text stored with the batch.
    #[arg(long, value_name = "TEXT")]
    pub user_data: Option<String>,
    /// Uploads at once.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Also write the batch's signed result to FILE.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// User name.
    #[arg(long)]
    pub user: String,
    /// Read the password from the first line of stdin (else MDCORE_PASSWORD).
    #[arg(long)]
    pub password_stdin: bool,
    /// Write the session id to FILE (created with mode 600), or to stdout with `-`.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Where to put the demo files (default: a new directory under the system's temp dir,
    /// kept afterwards so that you can look at them).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
