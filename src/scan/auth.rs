//! Logging in with a user name and password, and the one re-login when the session expired.

use std::fmt;
use std::sync::Arc;

use super::error::{ScanError, Step};
use super::http::{from_progenitor, Repeat};
use super::Scanner;
use crate::types::UserLoginBody;
use crate::Secret;

/// The credentials kept for re-login. Never printed.
pub(crate) struct Login {
    user: String,
    password: Secret,
    /// One re-login at a time: requests failing together share the new session.
    gate: tokio::sync::Mutex<()>,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}

impl Scanner {
    /// Logs in with `POST /login` and sends the session id from then on (on every clone of the
    /// client). When a request later fails with 401/403 the scanner logs in again once and
    /// repeats it: sessions expire after inactivity.
    pub async fn login(
        mut self,
        user: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<Scanner, ScanError> {
        let login = Arc::new(Login {
            user: user.into(),
            password: password.into(),
            gate: tokio::sync::Mutex::new(()),
        });
        self.do_login(&login).await?;
        Arc::make_mut(&mut self.cfg).login = Some(login);
        Ok(self)
    }

    /// Ends the session with `POST /logout` and forgets the credentials.
    pub async fn logout(mut self) -> Result<Scanner, ScanError> {
        let client = &self.client;
        self.call(Step::Login, Repeat::Once, || client.user_logout().send())
            .await?;
        self.client.state().set_apikey(None);
        Arc::make_mut(&mut self.cfg).login = None;
        Ok(self)
    }

    pub(crate) fn can_relogin(&self) -> bool {
        self.cfg.login.is_some()
    }

    /// Logs in again unless another request already replaced the session `stale` failed with.
    pub(crate) async fn relogin(&self, stale: Option<Secret>) -> Result<(), ScanError> {
        let Some(login) = &self.cfg.login else {
            return Ok(());
        };
        let _turn = login.gate.lock().await;
        if self.client.state().apikey() != stale {
            return Ok(());
        }
        tracing::info!(user = %login.user, "session expired, logging in again");
        self.do_login(login).await
    }

    async fn do_login(&self, login: &Login) -> Result<(), ScanError> {
        let body = UserLoginBody {
            user: login.user.clone(),
            password: login.password.expose().to_string(),
            extra: Default::default(),
        };
        let answer = self.client.user_login().body(body).send().await;
        let answer = match answer {
            Ok(a) => a.into_inner(),
            Err(e) => return Err(from_progenitor(Step::Login, e).await),
        };
        if answer.session_id.is_empty() {
            return Err(ScanError::protocol(
                Step::Login,
                "the login answer has an empty session_id",
            ));
        }
        self.client
            .state()
            .set_apikey(Some(Secret::new(answer.session_id)));
        Ok(())
    }
}
