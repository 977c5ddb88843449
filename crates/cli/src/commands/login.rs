//! `mdcore login`: a session id for a user, saved where `--apikey-file` reads it.

use std::io::{BufRead, Write};
use std::path::Path;

use metadefender_core::Secret;

use crate::cli::LoginArgs;
use crate::error::CliError;
use crate::outcome::Exit;
use crate::output::Output;
use crate::server::Server;

/// The environment variable holding the password.
pub const PASSWORD_ENV: &str = "MDCORE_PASSWORD";

pub async fn run(server: &Server, out: &Output, a: &LoginArgs) -> Result<Exit, CliError> {
    let password = read_password(a.password_stdin)?;
    let scanner = server
        .scanner
        .clone()
        .login(a.user.clone(), password)
        .await
        .map_err(|e| match CliError::from_scan(server.url(), false, e) {
            // The generic wording is about apikeys; here the user name and password are wrong.
            CliError::Auth {
                status, message, ..
            } => CliError::Server {
                what: format!("login as {}", a.user),
                status,
                message: if message.is_empty() {
                    "refused".into()
                } else {
                    message
                },
            },
            other => other,
        })?;
    let session = scanner
        .client()
        .state()
        .apikey()
        .ok_or_else(|| CliError::Protocol {
            what: "login".into(),
            reason: "the server answered without a session id".into(),
        })?;
    let to_stdout = a.output == Path::new("-");
    if to_stdout && out.json() {
        out.json_line(&serde_json::json!({
            "status": "logged_in",
            "user": a.user,
            "session_id": session.expose(),
        }));
    } else if to_stdout {
        out.line(session.expose());
    } else {
        save(&a.output, &session)?;
        if out.json() {
            out.json_line(&serde_json::json!({
                "status": "logged_in",
                "user": a.user,
                "session_file": a.output.display().to_string(),
            }));
        }
        out.note(&format!(
            "logged in as {}; session id saved to {} (use it with --apikey-file {})",
            a.user,
            a.output.display(),
            a.output.display()
        ));
    }
    Ok(Exit::Clean)
}

fn read_password(from_stdin: bool) -> Result<Secret, CliError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::io("cannot read the password from stdin", e))?;
        let pw = line.trim_end_matches(['\r', '\n']);
        if pw.is_empty() {
            return Err(CliError::Usage("no password on stdin".into()));
        }
        return Ok(Secret::new(pw));
    }
    match std::env::var(PASSWORD_ENV) {
        Ok(pw) if !pw.is_empty() => Ok(Secret::new(pw)),
        _ => Err(CliError::Usage(format!(
            "no password: set {PASSWORD_ENV} or pass --password-stdin"
        ))),
    }
}

/// Writes the session id readable by the owner only (on Unix).
fn save(path: &Path, session: &Secret) -> Result<(), CliError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let err = |e| CliError::io(format!("cannot write {}", path.display()), e);
    let mut f = opts.open(path).map_err(err)?;
    // `mode` applies only to a new file: an existing one is narrowed too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    writeln!(f, "{}", session.expose()).map_err(err)?;
    Ok(())
}
