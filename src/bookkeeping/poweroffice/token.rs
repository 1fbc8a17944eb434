//! The OAuth 2.0 client-credentials token (auth spec `POST /Token`): fetched
//! with `Authorization: Basic base64(application_key:client_key)`, the form
//! `grant_type=client_credentials` and the `Ocp-Apim-Subscription-Key` header.
//! The caching (refresh before expiry, one fetch for concurrent callers,
//! forgetting a token a call was refused with) is [`crate::http::token`]'s,
//! shared with Vipps.
//!
//! Must never log, print or put into an error a key or a token.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use super::dto::TokenResponse;
use super::error::PowerOfficeError;
use crate::http::token::Fetched;
use crate::secret::Secret;

pub use crate::http::token::{Token, TokenCache};

/// The keys a token is fetched with. `Debug` shows only that they are set.
#[derive(Debug, Clone)]
pub struct Keys {
    pub application_key: Secret,
    pub client_key: Secret,
    pub subscription_key: Secret,
}

/// One `POST /Token`: the token and its lifetime, for the cache.
pub(crate) async fn fetch(
    http: &reqwest::Client,
    token_url: &str,
    keys: &Keys,
) -> Result<Fetched, PowerOfficeError> {
    let basic = STANDARD.encode(format!(
        "{}:{}",
        keys.application_key.expose(),
        keys.client_key.expose()
    ));
    let resp = http
        .post(token_url)
        .header(AUTHORIZATION, format!("Basic {basic}"))
        .header("Ocp-Apim-Subscription-Key", keys.subscription_key.expose())
        .header(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(PowerOfficeError::from_reqwest)?;
    let status = resp.status().as_u16();
    // 400 invalid_client: application or client key unknown (auth spec);
    // 401 from the gateway: the subscription key is missing or wrong.
    if status == 400 || status == 401 || status == 403 {
        let text = PowerOfficeError::response_text(resp).await;
        return Err(PowerOfficeError::Unauthorized(format!(
            "token endpoint answered {status}: {text}"
        )));
    }
    if !(200..300).contains(&status) {
        return Err(PowerOfficeError::from_response(resp).await);
    }
    let bytes = resp.bytes().await.map_err(PowerOfficeError::from_reqwest)?;
    let body: TokenResponse = serde_json::from_slice(&bytes)
        .map_err(|e| PowerOfficeError::Decode(format!("access token: {e}")))?;
    let token = body
        .access_token
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| PowerOfficeError::Decode("access token: no access_token".into()))?;
    let lifetime = Duration::from_secs(body.expires_in.max(0) as u64);
    tracing::debug!(
        lifetime_s = lifetime.as_secs(),
        "fetched a PowerOffice Go access token"
    );
    Ok(Fetched { token, lifetime })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print() {
        let k = Keys {
            application_key: Secret::new("app-123"),
            client_key: Secret::new("client-456"),
            subscription_key: Secret::new("sub-789"),
        };
        let shown = format!("{k:?}");
        assert!(!shown.contains("123") && !shown.contains("456") && !shown.contains("789"));
    }
}
