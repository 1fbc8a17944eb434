//! The OAuth 2.0 client-credentials token (auth spec `POST /Token`): one cached
//! token per client, fetched with `Authorization: Basic
//! base64(application_key:client_key)`, the form `grant_type=client_credentials`
//! and the `Ocp-Apim-Subscription-Key` header, refreshed before it expires and
//! once more when an API call answers 401.
//!
//! Must never log, print or put into an error a key or a token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use tokio::sync::Mutex;

use super::dto::TokenResponse;
use super::error::PowerOfficeError;
use crate::secret::Secret;

/// The keys a token is fetched with. `Debug` shows only that they are set.
#[derive(Debug, Clone)]
pub struct Keys {
    pub application_key: Secret,
    pub client_key: Secret,
    pub subscription_key: Secret,
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// The async mutex makes concurrent callers wait for one fetch instead of
/// each asking for a token of its own.
#[derive(Default)]
pub struct TokenCache {
    cached: Mutex<Option<Cached>>,
    fetches: AtomicU64,
}

/// Refresh this long before the stated expiry, or at 90 % of the lifetime
/// when that is shorter, so a call never leaves with a token about to lapse.
fn refresh_after(lifetime: Duration) -> Duration {
    let margin = Duration::from_secs(300).min(lifetime / 10);
    lifetime.saturating_sub(margin)
}

impl TokenCache {
    /// A valid token, and whether getting it took an HTTP request.
    pub async fn get(
        &self,
        http: &reqwest::Client,
        token_url: &str,
        keys: &Keys,
    ) -> Result<(Secret, bool), PowerOfficeError> {
        let mut guard = self.cached.lock().await;
        if let Some(c) = guard.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok((c.token.clone(), false));
        }
        let started = Instant::now();
        let basic = STANDARD.encode(format!(
            "{}:{}",
            keys.application_key.expose(),
            keys.client_key.expose()
        ));
        self.fetches.fetch_add(1, Ordering::Relaxed);
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
        *guard = Some(Cached {
            token: token.clone(),
            refresh_at: started + refresh_after(lifetime),
        });
        tracing::debug!(
            lifetime_s = lifetime.as_secs(),
            "fetched a PowerOffice Go access token"
        );
        Ok((token, true))
    }

    /// Forgets the token after a 401, so the next call fetches a new one.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    /// Token requests sent so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_before_expiry() {
        let s = Duration::from_secs;
        // PowerOffice v2 tokens live 20 minutes: refreshed after 18.
        assert_eq!(refresh_after(s(1200)), s(1080));
        assert_eq!(refresh_after(s(3600)), s(3300));
        assert_eq!(refresh_after(s(10)), s(9));
        assert_eq!(refresh_after(s(0)), s(0));
    }

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
