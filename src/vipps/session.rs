//! What every Vipps API call shares: the HTTP client, the base URL, the
//! keys, the `Vipps-System-*` headers and an access-token cache. The
//! ePayment and Report clients each hold one and send through [`Session::send`].
//!
//! Must never log a secret or a full access token.

use std::time::Duration;

use reqwest::{Method, Response};
use serde::Serialize;

use super::client::SystemInfo;
use super::error::VippsError;
use super::token::{self, Credentials, TokenCache};

pub(crate) struct Session {
    http: reqwest::Client,
    base_url: String,
    creds: Credentials,
    system: Vec<(&'static str, String)>,
    tokens: TokenCache,
}

impl Session {
    pub(crate) fn new(
        base_url: &str,
        creds: Credentials,
        system: SystemInfo,
        timeout: Duration,
    ) -> Result<Session, VippsError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("luka/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| VippsError::Config(e.to_string()))?;
        Ok(Session {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            creds,
            system: vec![
                ("Vipps-System-Name", system.name),
                ("Vipps-System-Version", system.version),
                ("Vipps-System-Plugin-Name", system.plugin_name),
                ("Vipps-System-Plugin-Version", system.plugin_version),
            ],
            tokens: TokenCache::default(),
        })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn token_fetches(&self) -> u64 {
        self.tokens.fetches()
    }

    /// Sends one authenticated request to `url` (the base URL plus a path and
    /// query). A 401 is answered by fetching a fresh token and trying exactly
    /// once more (the token may have been revoked or expired early); a second
    /// 401 is [`VippsError::Unauthorized`]. Any other answer is returned as it
    /// is, for the caller to read.
    pub(crate) async fn send<B: Serialize>(
        &self,
        method: Method,
        url: &str,
        idempotency_key: Option<&str>,
        body: Option<&B>,
    ) -> Result<Response, VippsError> {
        let sent = crate::http::bearer::send(
            &self.tokens,
            || token::fetch(&self.http, &self.base_url, &self.creds, &self.system),
            |token| {
                let mut req = self
                    .http
                    .request(method.clone(), url)
                    .bearer_auth(token.expose())
                    .header(
                        "Ocp-Apim-Subscription-Key",
                        self.creds.subscription_key.expose(),
                    )
                    // Required by ePayment; Vipps asks for it everywhere to ease troubleshooting.
                    .header("Merchant-Serial-Number", &self.creds.merchant_serial_number);
                for (name, value) in &self.system {
                    req = req.header(*name, value);
                }
                if let Some(key) = idempotency_key {
                    req = req.header("Idempotency-Key", key);
                }
                if let Some(body) = body {
                    req = req.json(body);
                }
                async move { req.send().await.map_err(VippsError::from_reqwest) }
            },
        )
        .await?;
        if sent.refused() {
            return Err(VippsError::Unauthorized);
        }
        Ok(sent.answer)
    }
}
