//! The ePayment API client (reqwest + rustls).
//!
//! Every call carries the required and recommended headers. Modifications
//! (create, capture, cancel, refund) take an idempotency key that the caller
//! stored before the first attempt; this client never invents one. A 401 is
//! answered by fetching a fresh token and trying exactly once more.

use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::dto::{
    Amount, CreatePaymentRequest, CreatePaymentResponse, GetPaymentResponse, ModificationRequest,
    ModificationResponse, PaymentEvent,
};
use super::error::VippsError;
use super::session::Session;
use super::token::Credentials;

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
    session: Session,
}

impl VippsClient {
    pub fn new(
        base_url: &str,
        creds: Credentials,
        system: SystemInfo,
        timeout: Duration,
    ) -> Result<VippsClient, VippsError> {
        Ok(VippsClient {
            session: Session::new(base_url, creds, system, timeout)?,
        })
    }

    pub fn base_url(&self) -> &str {
        self.session.base_url()
    }

    pub fn token_fetches(&self) -> u64 {
        self.session.token_fetches()
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
        let url = format!("{}{}", self.session.base_url(), path);
        let resp = self
            .session
            .send(method.clone(), &url, idempotency_key, body)
            .await?;
        if !resp.status().is_success() {
            return Err(VippsError::from_error_response(resp).await);
        }
        // Read the whole body first: a connection that breaks mid-body is
        // a network failure (outcome unknown), not a malformed answer.
        let bytes = resp.bytes().await.map_err(VippsError::from_reqwest)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| VippsError::Decode(format!("{method} {path}: {e}")))
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
