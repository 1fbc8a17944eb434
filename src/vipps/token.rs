//! Access Token API: one cached token per set of credentials, refreshed
//! before it expires and once more when an API call answers 401.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::dto::AccessTokenResponse;
use super::error::VippsError;
use crate::secret::Secret;

/// Credentials for one merchant sales unit. Never printed.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub subscription_key: Secret,
    pub merchant_serial_number: String,
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// A token cache. The async mutex makes concurrent callers wait for one
/// fetch instead of each asking for a token of its own.
pub struct TokenCache {
    cached: Mutex<Option<Cached>>,
    /// Tokens fetched so far, for tests and benchmarks.
    fetches: std::sync::atomic::AtomicU64,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            cached: Mutex::new(None),
            fetches: Default::default(),
        }
    }
}

/// Refresh this long before the stated expiry, or at 90 % of the lifetime
/// when that is shorter, so a call never leaves with a token about to lapse.
fn refresh_after(lifetime: Duration) -> Duration {
    let margin = Duration::from_secs(300).min(lifetime / 10);
    lifetime.saturating_sub(margin)
}

impl TokenCache {
    pub async fn get(
        &self,
        http: &reqwest::Client,
        base_url: &str,
        creds: &Credentials,
        system: &[(&'static str, String)],
    ) -> Result<Secret, VippsError> {
        let mut guard = self.cached.lock().await;
        if let Some(c) = guard.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        let started = Instant::now();
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
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = Secret::new(body.access_token);
        *guard = Some(Cached {
            token: token.clone(),
            refresh_at: started + refresh_after(lifetime),
        });
        tracing::debug!(
            lifetime_s = lifetime.as_secs(),
            "fetched a Vipps access token"
        );
        Ok(token)
    }

    /// Forgets the token after a 401, so the next call fetches a new one.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_before_expiry() {
        assert_eq!(
            refresh_after(Duration::from_secs(3600)),
            Duration::from_secs(3300)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(86_400)),
            Duration::from_secs(86_100)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(60)),
            Duration::from_secs(54)
        );
    }
}
