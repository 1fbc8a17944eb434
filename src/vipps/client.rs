//! The ePayment API client (reqwest + rustls).
//!
//! Every call carries the required and recommended headers. Modifications
//! (create, capture, cancel, refund) take an idempotency key that the caller
//! stored before the first attempt; this client never invents one. A 401 is
//! answered by fetching a fresh token and trying exactly once more.

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::dto::{
    Amount, CreatePaymentRequest, CreatePaymentResponse, GetPaymentResponse, ModificationRequest,
    ModificationResponse, PaymentEvent,
};
use super::error::VippsError;
use super::token::{Credentials, TokenCache};

pub const TEST_BASE_URL: &str = "https://apitest.vipps.no";
pub const PRODUCTION_BASE_URL: &str = "https://api.vipps.no";

/// Who is calling, sent as the `Vipps-System-*` headers.
#[derive(Debug, Clone)]
pub struct SystemInfo {
    pub name: String,
    pub version: String,
    pub plugin_name: String,
    pub plugin_version: String,
}

impl Default for SystemInfo {
    fn default() -> Self {
        SystemInfo {
            name: "luka".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            plugin_name: "luka-till".into(),
            plugin_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

pub struct VippsClient {
    http: reqwest::Client,
    base_url: String,
    creds: Credentials,
    system: Vec<(&'static str, String)>,
    tokens: TokenCache,
}

impl VippsClient {
    pub fn new(
        base_url: &str,
        creds: Credentials,
        system: SystemInfo,
        timeout: Duration,
    ) -> Result<VippsClient, VippsError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("luka/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| VippsError::Config(e.to_string()))?;
        Ok(VippsClient {
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

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn token_fetches(&self) -> u64 {
        self.tokens.fetches()
    }

    /// `POST /epayment/v1/payments` → 201.
    pub async fn create_payment(
        &self,
        body: &CreatePaymentRequest,
        idempotency_key: &str,
    ) -> Result<CreatePaymentResponse, VippsError> {
        self.call(
            Method::POST,
            "/epayment/v1/payments",
            Some(idempotency_key),
            Some(body),
        )
        .await
    }

    /// `GET /epayment/v1/payments/{reference}`.
    pub async fn get_payment(&self, reference: &str) -> Result<GetPaymentResponse, VippsError> {
        let path = format!("/epayment/v1/payments/{}", path_segment(reference)?);
        self.call::<(), _>(Method::GET, &path, None, None).await
    }

    /// `GET /epayment/v1/payments/{reference}/events`.
    pub async fn get_events(&self, reference: &str) -> Result<Vec<PaymentEvent>, VippsError> {
        let path = format!("/epayment/v1/payments/{}/events", path_segment(reference)?);
        self.call::<(), _>(Method::GET, &path, None, None).await
    }

    pub async fn capture(
        &self,
        reference: &str,
        amount: Amount,
        idempotency_key: &str,
    ) -> Result<ModificationResponse, VippsError> {
        let path = format!("/epayment/v1/payments/{}/capture", path_segment(reference)?);
        let body = ModificationRequest {
            modification_amount: amount,
        };
        self.call(Method::POST, &path, Some(idempotency_key), Some(&body))
            .await
    }

    /// Cancels the payment. ePayment 1.4.1 defines no request body here
    /// (`cancelTransactionOnly` arrived later), so none is sent.
    pub async fn cancel(
        &self,
        reference: &str,
        idempotency_key: &str,
    ) -> Result<ModificationResponse, VippsError> {
        let path = format!("/epayment/v1/payments/{}/cancel", path_segment(reference)?);
        self.call::<(), _>(Method::POST, &path, Some(idempotency_key), None)
            .await
    }

    pub async fn refund(
        &self,
        reference: &str,
        amount: Amount,
        idempotency_key: &str,
    ) -> Result<ModificationResponse, VippsError> {
        let path = format!("/epayment/v1/payments/{}/refund", path_segment(reference)?);
        let body = ModificationRequest {
            modification_amount: amount,
        };
        self.call(Method::POST, &path, Some(idempotency_key), Some(&body))
            .await
    }

    /// Test environment only: approve as if the customer did.
    pub async fn force_approve(&self, reference: &str) -> Result<(), VippsError> {
        let path = format!(
            "/epayment/v1/test/payments/{}/approve",
            path_segment(reference)?
        );
        let body = super::dto::ForceApprove::default();
        let _: serde_json::Value = self
            .call(Method::POST, &path, None, Some(&body))
            .await
            .or_else(|e| match e {
                // The endpoint answers 200 with an empty body.
                VippsError::Decode(_) => Ok(serde_json::Value::Null),
                e => Err(e),
            })?;
        Ok(())
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        idempotency_key: Option<&str>,
        body: Option<&B>,
    ) -> Result<T, VippsError> {
        let mut refreshed = false;
        loop {
            let token = self
                .tokens
                .get(&self.http, &self.base_url, &self.creds, &self.system)
                .await?;
            let mut req: RequestBuilder = self
                .http
                .request(method.clone(), format!("{}{}", self.base_url, path))
                .bearer_auth(token.expose())
                .header(
                    "Ocp-Apim-Subscription-Key",
                    self.creds.subscription_key.expose(),
                )
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
            let resp = req.send().await.map_err(VippsError::from_reqwest)?;
            let status = resp.status().as_u16();
            if status == 401 && !refreshed {
                // The token may have been revoked or expired early: one fresh try.
                self.tokens.invalidate().await;
                refreshed = true;
                continue;
            }
            if status == 401 {
                return Err(VippsError::Unauthorized);
            }
            if !(200..300).contains(&status) {
                return Err(VippsError::from_error_response(resp).await);
            }
            // Read the whole body first: a connection that breaks mid-body is
            // a network failure (outcome unknown), not a malformed answer.
            let bytes = resp.bytes().await.map_err(VippsError::from_reqwest)?;
            return serde_json::from_slice(&bytes)
                .map_err(|e| VippsError::Decode(format!("{method} {path}: {e}")));
        }
    }
}

/// References are checked before they go into a URL path.
fn path_segment(reference: &str) -> Result<&str, VippsError> {
    if crate::domain::reference::is_valid_reference(reference) {
        Ok(reference)
    } else {
        Err(VippsError::Config(format!(
            "'{reference}' is not a valid payment reference (8–50 of a–z, A–Z, 0–9, '-')"
        )))
    }
}
