//! Puts the credential on every request the generated client sends.

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::HeaderValue;

use crate::credentials::ClientState;
use crate::generated::Client;

/// The header MetaDefender Core reads the API key or session id from.
pub const APIKEY_HEADER: &str = "apikey";

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        if let Some(secret) = self.inner.apikey() {
            let mut value = HeaderValue::from_str(secret.expose())
                // Never echo the value: only say what is wrong with it.
                .map_err(|_| {
                    progenitor_client::Error::InvalidRequest(
                        "the apikey holds characters not allowed in an HTTP header".into(),
                    )
                })?;
            value.set_sensitive(true);
            request.headers_mut().insert(APIKEY_HEADER, value);
        }
        Ok(())
    }
}
