//! The middleware every request goes through: it names the endpoint, counts
//! and records the exchange (keys and tokens redacted), and fires the fault
//! knobs.
//!
//! Knobs are counters, not dice, so a test says exactly which request fails:
//! "the next voucher post is applied and its answer lost". A 5xx or a 429
//! never reaches the handler, so nothing is applied; a dropped response is
//! applied first and then lost. It must never apply a request twice.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::super::Exchange;
use super::super::server::{AbortKind, ConnControl};
use super::reply;
use super::{Shared, lock};

/// Bodies above this are refused; a day's voucher is a few kB.
const MAX_BODY: usize = 1024 * 1024;

/// The simulated endpoints, as counted and recorded (`Exchange::operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Token,
    GeneralLedgerAccounts,
    VatCodes,
    PostCashJournal,
    PostBankJournal,
    GetCashJournal,
    GetBankJournal,
    AccountTransactions,
    Unknown,
}

impl Endpoint {
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "Token",
            Endpoint::GeneralLedgerAccounts => "GeneralLedgerAccounts",
            Endpoint::VatCodes => "VatCodes",
            Endpoint::PostCashJournal => "PostCashJournal",
            Endpoint::PostBankJournal => "PostBankJournal",
            Endpoint::GetCashJournal => "GetCashJournal",
            Endpoint::GetBankJournal => "GetBankJournal",
            Endpoint::AccountTransactions => "AccountTransactions",
            Endpoint::Unknown => "unknown",
        }
    }

    pub(crate) fn of(method: &Method, path: &str) -> Endpoint {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let get = method == Method::GET;
        let post = method == Method::POST;
        match segs.as_slice() {
            ["OAuth", "Token"] if post => Endpoint::Token,
            ["v2", "GeneralLedgerAccounts"] if get => Endpoint::GeneralLedgerAccounts,
            ["v2", "VatCodes"] if get => Endpoint::VatCodes,
            ["v2", "Vouchers", "CashJournals"] if post => Endpoint::PostCashJournal,
            ["v2", "Vouchers", "BankJournals"] if post => Endpoint::PostBankJournal,
            ["v2", "Vouchers", "CashJournals", _] if get => Endpoint::GetCashJournal,
            ["v2", "Vouchers", "BankJournals", _] if get => Endpoint::GetBankJournal,
            ["v2", "AccountTransactions"] if get => Endpoint::AccountTransactions,
            _ => Endpoint::Unknown,
        }
    }
}

/// Fault knobs. Each counter is the number of upcoming matching requests it
/// hits, and goes down as it fires; checked in this order: 5xx, 429, drop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PowerOfficeFaults {
    /// The endpoints the knobs apply to; empty means every endpoint.
    pub endpoints: Vec<Endpoint>,
    /// Added before each matching request is handled.
    pub latency: Duration,
    /// 503 ProblemDetails; the request is NOT applied.
    pub error_5xx_next: u32,
    /// 429 with `Retry-After`; the request is NOT applied.
    pub throttle_next: u32,
    /// The `Retry-After` of a fault 429, rounded up to whole seconds.
    pub retry_after: Duration,
    /// The request IS applied, then the connection closes without an answer.
    pub drop_response_next: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Pass,
    ServerError,
    Throttle(u64),
    Drop,
}

impl PowerOfficeFaults {
    fn applies_to(&self, e: Endpoint) -> bool {
        e != Endpoint::Unknown && (self.endpoints.is_empty() || self.endpoints.contains(&e))
    }

    /// Fires (and uses up) the first knob that is set for `e`.
    fn take(&mut self, e: Endpoint) -> (Duration, Action) {
        if !self.applies_to(e) {
            return (Duration::ZERO, Action::Pass);
        }
        let action = if self.error_5xx_next > 0 {
            self.error_5xx_next -= 1;
            Action::ServerError
        } else if self.throttle_next > 0 {
            self.throttle_next -= 1;
            let r = self.retry_after;
            Action::Throttle(r.as_secs() + u64::from(r.subsec_nanos() > 0))
        } else if self.drop_response_next > 0 {
            self.drop_response_next -= 1;
            Action::Drop
        } else {
            Action::Pass
        };
        (self.latency, action)
    }
}

pub(crate) async fn layer(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return reply::bad_request("request body too large");
    };
    let endpoint = Endpoint::of(&parts.method, parts.uri.path());
    let mut ex = Exchange::of_request(&parts, &bytes, endpoint.name());
    ex.reference = ex
        .request_body
        .as_ref()
        .and_then(|b| b.get("ExternalImportReference"))
        .and_then(|r| r.as_str())
        .map(str::to_string);
    let (latency, action) = lock(&sh.faults).take(endpoint);
    let conn = parts.extensions.get::<ConnControl>().cloned();
    if !latency.is_zero() {
        ex.fault = Some("latency".into());
        tokio::time::sleep(latency).await;
    }
    let resp = match action {
        Action::ServerError => {
            ex.fault = Some("error_5xx".into());
            reply::problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "simulated server error; the request was not applied",
            )
        }
        Action::Throttle(secs) => {
            ex.fault = Some("rate_429".into());
            reply::too_many(secs)
        }
        Action::Pass | Action::Drop => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    };
    let resp = ex.note_response(resp).await;
    if action == Action::Drop {
        ex.mark_dropped();
        sh.recorder.push(ex);
        return abort(conn).await;
    }
    sh.recorder.push(ex);
    resp
}

async fn abort(conn: Option<ConnControl>) -> Response {
    super::super::server::abort(conn, AbortKind::Drop, || {
        (StatusCode::BAD_GATEWAY, "simulated connection loss").into_response()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_from_paths() {
        let (g, p) = (Method::GET, Method::POST);
        assert_eq!(Endpoint::of(&p, "/OAuth/Token"), Endpoint::Token);
        assert_eq!(
            Endpoint::of(&p, "/v2/Vouchers/BankJournals"),
            Endpoint::PostBankJournal
        );
        assert_eq!(
            Endpoint::of(&g, "/v2/Vouchers/CashJournals/abc"),
            Endpoint::GetCashJournal
        );
        assert_eq!(
            Endpoint::of(&g, "/v2/Vouchers/CashJournals"),
            Endpoint::Unknown
        );
    }

    #[test]
    fn knobs_fire_in_order_and_run_out() {
        let mut f = PowerOfficeFaults {
            endpoints: vec![Endpoint::PostCashJournal],
            error_5xx_next: 1,
            throttle_next: 1,
            retry_after: Duration::from_millis(1500),
            drop_response_next: 1,
            ..Default::default()
        };
        assert_eq!(
            f.take(Endpoint::Token).1,
            Action::Pass,
            "other endpoints untouched"
        );
        let c = Endpoint::PostCashJournal;
        assert_eq!(f.take(c).1, Action::ServerError);
        assert_eq!(f.take(c).1, Action::Throttle(2));
        assert_eq!(f.take(c).1, Action::Drop);
        assert_eq!(f.take(c).1, Action::Pass);
    }
}
