//! Access Token API: how a Vipps token is fetched. The caching (refresh
//! before expiry, one fetch for concurrent callers, forgetting a token a call
//! was refused with) is [`crate::http::token`]'s, shared with PowerOffice Go.

use std::time::Duration;

use super::dto::AccessTokenResponse;
use super::error::VippsError;
use crate::http::token::Fetched;
use crate::secret::Secret;

pub use crate::http::token::{Token, TokenCache};

/// Credentials for one merchant sales unit. Never printed.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub subscription_key: Secret,
    pub merchant_serial_number: String,
}

/// One `POST /accesstoken/get`: the token and its lifetime, for the cache.
pub(crate) async fn fetch(
    http: &reqwest::Client,
    base_url: &str,
    creds: &Credentials,
    system: &[(&'static str, String)],
) -> Result<Fetched, VippsError> {
    let mut req = http
        .post(format!("{base_url}/accesstoken/get"))
        .header("client_id", &creds.client_id)
        .header("client_secret", creds.client_secret.expose())
        .header("Ocp-Apim-Subscription-Key", creds.subscription_key.expose())
        .header("Merchant-Serial-Number", &creds.merchant_serial_number);
    for (name, value) in system {
        req = req.header(*name, value);
    }
    let resp = req.send().await.map_err(VippsError::from_reqwest)?;
    let status = resp.status().as_u16();
    if status == 401 || status == 403 {
        return Err(VippsError::Unauthorized);
    }
    if !(200..300).contains(&status) {
        return Err(VippsError::from_error_response(resp).await);
    }
    let body: AccessTokenResponse = resp
        .json()
        .await
        .map_err(|e| VippsError::Decode(format!("access token: {}", e.without_url())))?;
    let lifetime = body
        .expires_in_secs()
        .map(Duration::from_secs)
        .ok_or_else(|| VippsError::Decode("access token: expires_in is not a number".into()))?;
    tracing::debug!(
        lifetime_s = lifetime.as_secs(),
        "fetched a Vipps access token"
    );
    Ok(Fetched {
        token: Secret::new(body.access_token),
        lifetime,
    })
}
