//! The handlers: the subscription key and bearer token on every call, the
//! client-credentials token endpoint, the look-ups with the spec's query
//! filters, and voucher posting.
//!
//! Handlers never sleep, never fail on purpose (that is `faults.rs`), and
//! never put a key or a token into an answer other than the token they issue.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::ledger::{voucher_dto, voucher_type};
use super::reply::{self, bad_request, problem};
use super::{Shared, lock, parse};
use crate::bookkeeping::poweroffice::amount::{format_decimal, raw_number};
use crate::bookkeeping::poweroffice::dto::{
    DepartmentDto, GeneralLedgerAccountDto, TokenResponse, VatCodeDto,
};
use crate::bookkeeping::poweroffice::map::Journal;

type Params = Query<HashMap<String, String>>;

/// The query value for `name`, matched without regard to case as ASP.NET does.
fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    q.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

/// The gateway's check, before anything else: header or `subscription-key`
/// query. `Some` is the refusal to send.
fn subscription(sh: &Shared, headers: &HeaderMap, q: &HashMap<String, String>) -> Option<Response> {
    let given = headers
        .get("ocp-apim-subscription-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| param(q, "subscription-key"));
    match given {
        None => Some(reply::subscription_refused(true)),
        Some(k) if k == sh.cfg.subscription_key => None,
        Some(_) => Some(reply::subscription_refused(false)),
    }
}

/// Subscription key, then a bearer token this simulator issued and that has
/// not expired. `Some` is the refusal to send.
fn refusal(sh: &Shared, headers: &HeaderMap, q: &HashMap<String, String>) -> Option<Response> {
    if let Some(r) = subscription(sh, headers, q) {
        return Some(r);
    }
    let valid = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| lock(&sh.tokens).get(token).copied())
        .is_some_and(|until| until > Instant::now());
    (!valid).then(reply::token_refused)
}

/// `POST /OAuth/Token`: Basic `application_key:client_key`, form
/// `grant_type=client_credentials`, and the subscription key.
pub(crate) async fn token(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
    body: Bytes,
) -> Response {
    if let Some(r) = subscription(&sh, &headers, &q) {
        return r;
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return reply::oauth_error(
            "invalid_request",
            "Content-Type must be 'application/x-www-form-urlencoded'.",
        );
    }
    let grant = String::from_utf8_lossy(&body)
        .split('&')
        .find_map(|pair| pair.strip_prefix("grant_type=").map(str::to_string));
    if grant.as_deref() != Some("client_credentials") {
        return reply::oauth_error(
            "unsupported_grant_type",
            "Only the Client Credentials Grant is supported.",
        );
    }
    let keys = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let expected = format!("{}:{}", sh.cfg.application_key, sh.cfg.client_key);
    if keys.as_deref() != Some(expected.as_str()) {
        return reply::oauth_error(
            "invalid_client",
            "Client integration not found. Please ensure the provided keys are matching the \
             desired environment.",
        );
    }
    let token = format!("po-sim-{:032x}", rand::random::<u128>());
    let lifetime = sh.cfg.token_lifetime;
    {
        let mut tokens = lock(&sh.tokens);
        let now = Instant::now();
        tokens.retain(|_, until| *until > now);
        tokens.insert(token.clone(), now + lifetime);
    }
    reply::json(
        StatusCode::OK,
        &TokenResponse {
            access_token: Some(token),
            token_type: Some("bearer".into()),
            expires_in: lifetime.as_secs() as i64,
        },
    )
}

/// A parsed `accountNos` filter: "1000-1999, 2500, 3000-".
fn number_filter(text: &str) -> Result<Vec<(u32, u32)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let num = |s: &str| {
                s.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("'{p}' is not an account number or range"))
            };
            match p.split_once('-') {
                Some((lo, "")) => Ok((num(lo)?, u32::MAX)),
                Some((lo, hi)) => Ok((num(lo)?, num(hi)?)),
                None => num(p).map(|n| (n, n)),
            }
        })
        .collect()
}

fn accepts(filter: &Option<Vec<(u32, u32)>>, no: u32) -> bool {
    filter
        .as_ref()
        .is_none_or(|ranges| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&no)))
}

fn account_filter(q: &HashMap<String, String>) -> Result<Option<Vec<(u32, u32)>>, String> {
    param(q, "accountNos").map(number_filter).transpose()
}

/// `GET /GeneralLedgerAccounts?accountNos=…`.
pub(crate) async fn accounts(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
) -> Response {
    if let Some(r) = refusal(&sh, &headers, &q) {
        return r;
    }
    let filter = match account_filter(&q) {
        Ok(f) => f,
        Err(e) => return bad_request(&e),
    };
    let found: Vec<GeneralLedgerAccountDto> = lock(&sh.ledger)
        .accounts
        .iter()
        .filter(|a| accepts(&filter, a.no))
        .map(|a| GeneralLedgerAccountDto {
            id: a.id,
            account_no: i64::from(a.no),
            name: Some(a.name.clone()),
            is_active: Some(a.active),
            vat_code: a.vat_code.clone(),
            vat_code_id: None,
            general_ledger_account_type: Some(a.kind.to_string()),
        })
        .collect();
    reply::list(&found)
}

/// `GET /VatCodes?isActive=…` (absent: both active and inactive codes).
pub(crate) async fn vat_codes(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
) -> Response {
    if let Some(r) = refusal(&sh, &headers, &q) {
        return r;
    }
    let active = match param(&q, "isActive")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => return bad_request(&format!("isActive: '{other}' is not a boolean")),
    };
    let found: Vec<VatCodeDto> = lock(&sh.ledger)
        .vat_codes
        .iter()
        .filter(|v| active.is_none_or(|a| a == v.active))
        .map(|v| VatCodeDto {
            id: v.id,
            code: Some(v.code.clone()),
            name: Some(v.name.clone()),
            description: Some(v.name.clone()),
            is_active: Some(v.active),
            is_custom: Some(false),
            rate: Some(raw_number(format_decimal(v.rate_bp, 4))),
            valid_from: Some("2000-01-01".into()),
            valid_to: None,
        })
        .collect();
    reply::list(&found)
}

/// `GET /Departments?codes=…&isActive=…&name=…`: `codes` is the spec's
/// comma list ("1, ABC, 10B"), matched exactly after trimming; other
/// filters are ignored.
pub(crate) async fn departments(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
) -> Response {
    if let Some(r) = refusal(&sh, &headers, &q) {
        return r;
    }
    let codes: Option<Vec<&str>> = param(&q, "codes").map(|c| {
        c.split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    });
    let active = match param(&q, "isActive")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => return bad_request(&format!("isActive: '{other}' is not a boolean")),
    };
    let name = param(&q, "name");
    let found: Vec<DepartmentDto> = lock(&sh.ledger)
        .departments
        .iter()
        .filter(|d| codes.as_ref().is_none_or(|c| c.contains(&d.code.as_str())))
        .filter(|d| active.is_none_or(|a| a == d.active))
        .filter(|d| name.is_none_or(|n| n == d.name))
        .map(|d| DepartmentDto {
            id: d.id,
            code: Some(d.code.clone()),
            name: Some(d.name.clone()),
            is_active: Some(d.active),
            created_date_time_offset: Some("2026-01-01T00:00:00Z".into()),
            last_changed_date_time_offset: Some("2026-01-01T00:00:00Z".into()),
        })
        .collect();
    reply::list(&found)
}

pub(crate) async fn post_cash(
    state: State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
    body: Bytes,
) -> Response {
    post_voucher(state, headers, q, body, Journal::Cash)
}

pub(crate) async fn post_bank(
    state: State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
    body: Bytes,
) -> Response {
    post_voucher(state, headers, q, body, Journal::Bank)
}

/// `POST /Vouchers/{Cash|Bank}Journals` → 201 with the voucher, or 400.
fn post_voucher(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
    body: Bytes,
    journal: Journal,
) -> Response {
    if let Some(r) = refusal(&sh, &headers, &q) {
        return r;
    }
    let v = match parse::voucher(&body, journal) {
        Ok(v) => v,
        Err(detail) => return bad_request(&detail),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let mut ledger = lock(&sh.ledger);
    match ledger.post(journal, v, id, OffsetDateTime::now_utc()) {
        Ok(record) => {
            tracing::info!(
                journal = voucher_type(journal), id = %record.id, reference = ?record.external_ref,
                "PowerOffice sim booked a voucher"
            );
            let mut resp = reply::json(StatusCode::CREATED, &voucher_dto(record));
            let location = format!("/v2{}/{}", journal.path(), record.id);
            if let Ok(v) = location.parse() {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Err(refusal) => problem(StatusCode::BAD_REQUEST, refusal.title, &refusal.detail),
    }
}

pub(crate) async fn get_cash(
    state: State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
    id: Path<String>,
) -> Response {
    get_voucher(state, headers, q, id, Journal::Cash)
}

pub(crate) async fn get_bank(
    state: State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
    id: Path<String>,
) -> Response {
    get_voucher(state, headers, q, id, Journal::Bank)
}

/// `GET /Vouchers/{Cash|Bank}Journals/{id}`.
fn get_voucher(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
    Path(id): Path<String>,
    journal: Journal,
) -> Response {
    if let Some(r) = refusal(&sh, &headers, &q) {
        return r;
    }
    match lock(&sh.ledger).voucher(journal, &id) {
        Some(v) => reply::json(StatusCode::OK, &voucher_dto(v)),
        None => problem(
            StatusCode::NOT_FOUND,
            "Object(s) not found",
            &format!("{} with id = {id} not found.", voucher_type(journal)),
        ),
    }
}

/// `GET /AccountTransactions?fromDate&toDate&accountNos` (other filters ignored).
pub(crate) async fn transactions(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    q: Params,
) -> Response {
    if let Some(r) = refusal(&sh, &headers, &q) {
        return r;
    }
    let filter = match account_filter(&q) {
        Ok(f) => f,
        Err(e) => return bad_request(&e),
    };
    // "offsets (if provided) are not taken into account, only date is used".
    let day = |name| param(&q, name).map(|d| d.get(..10).unwrap_or(d));
    let found =
        lock(&sh.ledger).transactions(day("fromDate"), day("toDate"), |no| accepts(&filter, no));
    reply::list(&found)
}

pub(crate) async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not Found",
        "no such endpoint in the simulator",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_filters_as_the_spec_describes() {
        let f = Some(number_filter("1000-1999, 2500, 3000-").unwrap());
        for (no, yes) in [
            (999, false),
            (1000, true),
            (1903, true),
            (2000, false),
            (2500, true),
            (7770, true),
        ] {
            assert_eq!(accepts(&f, no), yes, "{no}");
        }
        assert!(accepts(&None, 1));
        assert!(number_filter("19x0").is_err());
    }
}
