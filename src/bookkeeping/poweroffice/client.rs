//! The PowerOffice Go v2 client (reqwest + rustls): posts one [`Voucher`] to
//! the cash or bank journal and says how it went in the outbox's terms.
//!
//! A retry can never post twice. Every voucher carries its deterministic
//! `ExternalImportReference`, which PowerOffice keeps unique per client ("only
//! one instance of the reference can exist on the client"). When a post is
//! refused because the reference is in use (a lost answer, a retry after a
//! 5xx, a second `luka sync`), the client finds the voucher that carries it
//! (`GET /AccountTransactions` on the voucher date) and reports success with
//! `already_posted: true`.
//!
//! Must never log or put into a message a key or a token.

use std::fmt;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use super::dto::{
    DepartmentDto, GeneralLedgerAccountDto, TransactionRef, VatCodeDto, VoucherCreated,
};
use super::duplicate::{self, is_duplicate_reference};
use super::error::PowerOfficeError;
use super::lookup::{Lookups, account_filter, query_value};
use super::map::{self, Journal};
use super::token::{self, Keys, TokenCache};
use crate::domain::voucher::Voucher;
use crate::retry::Failure;
use crate::secret::Secret;

/// PowerOffice's demo environment, as its developer portal gives them; the
/// production URLs differ and belong in luka.toml.
pub const DEMO_API_BASE_URL: &str = "https://goapi.poweroffice.net/Demo/v2";
pub const DEMO_TOKEN_URL: &str = "https://goapi.poweroffice.net/Demo/OAuth/Token";

/// Where and as whom to post. `Debug` never shows a key.
#[derive(Debug, Clone)]
pub struct PowerOfficeSettings {
    /// e.g. [`DEMO_API_BASE_URL`]; no trailing slash needed.
    pub api_base_url: String,
    /// e.g. [`DEMO_TOKEN_URL`].
    pub token_url: String,
    pub application_key: Secret,
    pub client_key: Secret,
    pub subscription_key: Secret,
    /// Per request.
    pub timeout: Duration,
}

/// A voucher that is in PowerOffice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// PowerOffice's voucher id (a uuid).
    pub id: String,
    /// True when an earlier attempt had already posted it: nothing was added.
    pub already_posted: bool,
    /// HTTP requests this call made (token, look-ups, post, recognition).
    pub requests: u32,
}

pub struct PowerOfficeClient {
    http: reqwest::Client,
    api_base_url: String,
    token_url: String,
    keys: Keys,
    tokens: TokenCache,
    /// Held across a look-up so concurrent posts wait for one fetch.
    lookups: Mutex<Lookups>,
}

impl fmt::Debug for PowerOfficeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PowerOfficeClient")
            .field("api_base_url", &self.api_base_url)
            .field("token_url", &self.token_url)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl PowerOfficeClient {
    pub fn new(settings: PowerOfficeSettings) -> Result<PowerOfficeClient, PowerOfficeError> {
        let missing: Vec<&str> = [
            ("application_key", &settings.application_key),
            ("client_key", &settings.client_key),
            ("subscription_key", &settings.subscription_key),
        ]
        .iter()
        .filter(|(_, s)| s.is_empty())
        .map(|(name, _)| *name)
        .collect();
        if !missing.is_empty() {
            return Err(PowerOfficeError::Config(format!(
                "{} not set in [bookkeeping.poweroffice] in luka.toml",
                missing.join(", ")
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("luka/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PowerOfficeError::Config(e.to_string()))?;
        Ok(PowerOfficeClient {
            http,
            api_base_url: settings.api_base_url.trim_end_matches('/').to_string(),
            token_url: settings.token_url,
            keys: Keys {
                application_key: settings.application_key,
                client_key: settings.client_key,
                subscription_key: settings.subscription_key,
            },
            tokens: TokenCache::default(),
            lookups: Mutex::new(Lookups::default()),
        })
    }

    /// Token requests sent so far.
    pub fn token_fetches(&self) -> u64 {
        self.tokens.fetches()
    }

    /// Posts `v` once. `accounts_hint` lists every account the day's vouchers
    /// may use (`Accounts::all()`), so the first look-up fetches them together.
    pub async fn post_voucher(
        &self,
        v: &Voucher,
        accounts_hint: &[u32],
    ) -> Result<Posted, Failure> {
        let mut requests = 0;
        match self.post(v, accounts_hint, &mut requests).await {
            Ok(posted) => {
                tracing::info!(
                    voucher = %v.number, reference = %v.external_ref, id = %posted.id,
                    already_posted = posted.already_posted, requests,
                    "voucher is in PowerOffice Go"
                );
                Ok(posted)
            }
            Err(e) => {
                // Local refusals already name the voucher; the rest get its number.
                let named = matches!(e, PowerOfficeError::Refused(_));
                let mut failure = e.into_failure();
                if !named {
                    failure.message = format!("voucher {}: {}", v.number, failure.message);
                }
                failure.message = self.redact(failure.message);
                tracing::warn!(
                    voucher = %v.number, reference = %v.external_ref, class = ?failure.class,
                    error = %failure.message, "PowerOffice Go post failed"
                );
                Err(failure)
            }
        }
    }

    async fn post(
        &self,
        v: &Voucher,
        hint: &[u32],
        n: &mut u32,
    ) -> Result<Posted, PowerOfficeError> {
        map::precheck(v).map_err(PowerOfficeError::Refused)?;
        self.look_up(v, hint, n).await?;
        let body =
            map::to_post(v, &*self.lookups.lock().await).map_err(PowerOfficeError::Refused)?;
        let body =
            serde_json::to_vec(&body).map_err(|e| PowerOfficeError::Config(e.to_string()))?;
        let path = Journal::for_kind(v.kind).path();
        match self.call(Method::POST, path, Some(body), n).await {
            Ok((_, bytes)) => {
                let created: VoucherCreated = decode(path, &bytes)?;
                Ok(Posted {
                    id: created.id,
                    already_posted: false,
                    requests: *n,
                })
            }
            Err(e) if is_duplicate_reference(&e) => {
                let id = self.find_existing(v, &e, n).await?;
                Ok(Posted {
                    id,
                    already_posted: true,
                    requests: *n,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Fills the id caches with what this voucher needs, in at most one
    /// request for accounts, one for VAT codes and one for departments.
    async fn look_up(
        &self,
        v: &Voucher,
        hint: &[u32],
        n: &mut u32,
    ) -> Result<(), PowerOfficeError> {
        let mut ids = self.lookups.lock().await;
        let fetch = ids.accounts_to_fetch(&map::accounts_of(v), hint);
        if !fetch.is_empty() {
            let path = format!(
                "/GeneralLedgerAccounts?accountNos={}",
                query_value(&account_filter(&fetch))
            );
            let accounts: Vec<GeneralLedgerAccountDto> = self.get_list(&path, n).await?;
            ids.learn_accounts(&accounts);
        }
        if map::needs_vat_codes(v) && !ids.has_vat_codes() {
            let codes: Vec<VatCodeDto> = self.get_list("/VatCodes?isActive=true", n).await?;
            ids.learn_vat_codes(&codes);
        }
        let departments = ids.departments_to_fetch(&map::departments_of(v));
        if !departments.is_empty() {
            let path = format!("/Departments?codes={}", query_value(&departments.join(",")));
            let found: Vec<DepartmentDto> = self.get_list(&path, n).await?;
            ids.learn_departments(&found);
        }
        Ok(())
    }

    /// The id of the voucher that already carries `v.external_ref`. When the
    /// transactions cannot be read (a 403 without the AccountTransaction
    /// role, a 5xx), the id the refusal names will do; else that error.
    async fn find_existing(
        &self,
        v: &Voucher,
        refusal: &PowerOfficeError,
        n: &mut u32,
    ) -> Result<String, PowerOfficeError> {
        let path = duplicate::transactions_path(v);
        match self.get_list::<TransactionRef>(&path, n).await {
            Ok(rows) => duplicate::voucher_id(v, &rows, refusal),
            Err(e) => duplicate::voucher_id(v, &[], refusal).map_err(|_| e),
        }
    }

    async fn get_list<T: DeserializeOwned>(
        &self,
        path: &str,
        n: &mut u32,
    ) -> Result<Vec<T>, PowerOfficeError> {
        let (status, bytes) = self.call(Method::GET, path, None, n).await?;
        // 204: "no content to return".
        if status == 204 || bytes.is_empty() {
            return Ok(Vec::new());
        }
        decode(path, &bytes)
    }

    /// One API request with a bearer token; a 401 is answered by fetching a
    /// fresh token and trying exactly once more. Success: status and body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        n: &mut u32,
    ) -> Result<(u16, Vec<u8>), PowerOfficeError> {
        let sent = crate::http::bearer::send(
            &self.tokens,
            || token::fetch(&self.http, &self.token_url, &self.keys),
            |token| {
                let mut req = self
                    .http
                    .request(method.clone(), format!("{}{path}", self.api_base_url))
                    .header(AUTHORIZATION, format!("Bearer {}", token.expose()))
                    .header(
                        "Ocp-Apim-Subscription-Key",
                        self.keys.subscription_key.expose(),
                    )
                    .header(ACCEPT, "application/json");
                if let Some(body) = &body {
                    req = req
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.clone());
                }
                async move { req.send().await.map_err(PowerOfficeError::from_reqwest) }
            },
        )
        .await?;
        *n += sent.fetches + sent.attempts;
        let resp = sent.answer;
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            let text = PowerOfficeError::response_text(resp).await;
            return Err(if status == 401 {
                PowerOfficeError::Unauthorized(format!(
                    "a fresh access token was refused too: {text}"
                ))
            } else {
                PowerOfficeError::Forbidden(format!("{method} {path}: {text}"))
            });
        }
        if !(200..300).contains(&status) {
            return Err(PowerOfficeError::from_response(resp).await);
        }
        // Read the whole body here: a connection that breaks mid-body is a
        // network failure (outcome unknown), not a malformed answer.
        let bytes = resp.bytes().await.map_err(PowerOfficeError::from_reqwest)?;
        Ok((status, bytes.to_vec()))
    }

    /// Blanks the keys out of a message, in case a server ever echoes one.
    fn redact(&self, mut text: String) -> String {
        for key in [
            &self.keys.application_key,
            &self.keys.client_key,
            &self.keys.subscription_key,
        ] {
            if key.expose().len() >= 4 {
                text = text.replace(key.expose(), "***");
            }
        }
        text
    }
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, PowerOfficeError> {
    serde_json::from_slice(bytes).map_err(|e| PowerOfficeError::Decode(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_messages_never_show_a_key() {
        let c = PowerOfficeClient::new(PowerOfficeSettings {
            api_base_url: "http://127.0.0.1:9/v2/".into(),
            token_url: "http://127.0.0.1:9/OAuth/Token".into(),
            application_key: Secret::new("app-key-1"),
            client_key: Secret::new("client-key-2"),
            subscription_key: Secret::new("sub-key-3"),
            timeout: Duration::from_secs(1),
        })
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("key-1") && !shown.contains("key-2") && !shown.contains("key-3"));
        assert!(shown.contains("http://127.0.0.1:9/v2\""), "{shown}");
        assert_eq!(c.redact("echo sub-key-3!".into()), "echo ***!");
    }

    #[test]
    fn missing_keys_are_named() {
        let e = PowerOfficeClient::new(PowerOfficeSettings {
            api_base_url: String::new(),
            token_url: String::new(),
            application_key: Secret::new("a"),
            client_key: Secret::default(),
            subscription_key: Secret::default(),
            timeout: Duration::from_secs(1),
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "PowerOffice Go client setup: client_key, subscription_key not set in \
             [bookkeeping.poweroffice] in luka.toml"
        );
    }
}
