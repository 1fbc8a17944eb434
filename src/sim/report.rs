//! Report API v2 handlers (`report.swagger.yaml`) on the same simulator, tokens and
//! fault knobs as the ePayment API: the one ledger of this merchant, and its funds and
//! fees reports per ledger date, paged with an opaque base64 cursor.
//!
//! A date that has not begun answers 404 ("not available yet"); a date that has begun
//! but is not closed answers 200 with the rows so far and `tryLater: true`, which is
//! what the spec says `tryLater` means on this endpoint; a closed date answers its
//! final rows. The rows come from [`super::ledger`]; this file owns only HTTP, the
//! cursor and the wire shape. It must never log a secret or a token.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Number, json};
use time::{Date, OffsetDateTime};

use super::ledger::{self, Closings, DayStatus, Movement, Row};
use super::problem::Fail;
use super::state::Now;
use super::{Shared, report_admin};
use crate::domain::settlement::EntryType;
use crate::vipps::report::{
    BankAccount, Ledger, LedgersPage, Organization, ReportPage, Topic, Transaction, ymd,
};

type Sh = State<Arc<Shared>>;

/// The test-controlled part of the ledger: early closings, injected rows and dropped
/// captures. Payments themselves stay in [`super::state::SimState`].
#[derive(Debug, Default)]
pub(crate) struct ReportBook {
    pub closings: Closings,
    pub injected: Vec<Movement>,
    pub dropped: HashSet<String>,
}

/// The Report routes and their `/sim/report/...` remote control.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/settlement/v1/ledgers", get(ledgers))
        .route(
            "/report/v2/ledgers/{ledger_id}/{topic}/dates/{ledger_date}",
            get(ledger_date),
        )
        .route(
            "/sim/report/dates/{ledger_date}/close",
            post(report_admin::close),
        )
        .route("/sim/report/entries", post(report_admin::inject))
        .route(
            "/sim/report/captures/{reference}/drop",
            post(report_admin::drop_capture),
        )
}

impl Shared {
    pub(crate) fn report_book(&self) -> std::sync::MutexGuard<'_, ReportBook> {
        // Poisoned only if a test panicked mid-update; every update is a single insert.
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every capture, refund and injected row the ledger knows, in no particular order.
    pub(crate) fn movements(&self) -> Vec<Movement> {
        let mut all = ledger::movements(&self.payments(), self.cfg.report.currency);
        all.extend(self.report_book().injected.iter().cloned());
        all
    }

    /// The rows of `date` on `topic` at `now`, or `None` before the date began.
    pub(crate) fn ledger_rows(
        &self,
        date: Date,
        topic: Topic,
        now: OffsetDateTime,
    ) -> Option<(Vec<Row>, DayStatus)> {
        let all = self.movements();
        let book = self.report_book();
        let cfg = &self.cfg.report;
        ledger::day_rows(cfg, &all, &book.dropped, &book.closings, now, date, topic)
    }

    fn recipient_handle(&self) -> String {
        format!("api:{}", self.cfg.merchant_serial_number)
    }
}

/// The gateway checks for the Report API (subscription key, bearer token) and the
/// refusal if one fails. The 401 body is the spec's: `{code, message}` where the
/// operation lists a 401 (by date), a `Problem` (its `default`) where it does not
/// (ledgers). No merchant serial number is needed; one that is sent must be this
/// merchant's, as on the Access Token API.
fn refusal(sh: &Shared, headers: &HeaderMap, code_message_401: bool) -> Option<Response> {
    let h = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let key_ok = h("Ocp-Apim-Subscription-Key") == Some(sh.cfg.subscription_key.as_str());
    let token = h("Authorization").and_then(|v| v.strip_prefix("Bearer "));
    let now = Now::system().mono;
    let token_ok = token.is_some_and(|t| sh.lock().tokens.is_valid(t.trim(), now));
    if !(key_ok && token_ok) {
        let message = "missing or invalid Ocp-Apim-Subscription-Key or access token";
        if code_message_401 {
            let body = json!({"code": "Unauthorized", "message": message});
            return Some((StatusCode::UNAUTHORIZED, Json(body)).into_response());
        }
        return Some(Fail::unauthorized(message).into_response());
    }
    match h("Merchant-Serial-Number") {
        Some(m) if m != sh.cfg.merchant_serial_number => Some(
            Fail::new(
                StatusCode::FORBIDDEN,
                format!("merchant serial number {m} is not available with these credentials"),
            )
            .into_response(),
        ),
        _ => None,
    }
}

/// Where the next page starts. Opaque to clients: base64 of this JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cursor {
    ledger_id: String,
    topic: String,
    ledger_date: String,
    offset: usize,
}

fn encode_cursor(c: &Cursor) -> String {
    let json = serde_json::to_vec(c).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(json)
}

fn decode_cursor(text: &str) -> Option<Cursor> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).ok()
}

fn wire_time(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

fn wire_row(sh: &Shared, date: Date, r: Row) -> Transaction {
    // Rows of a payment (or injected) belong to the sales unit; closing rows to the
    // ledger as a whole.
    let closing = matches!(
        r.entry_type,
        EntryType::FeesRetained | EntryType::ScheduledForPayout
    );
    let handle = (!closing).then(|| sh.recipient_handle());
    Transaction {
        psp_reference: Some(r.psp_reference),
        time: Some(wire_time(r.time)),
        ledger_date: Some(ymd(date)),
        entry_type: Some(r.entry_type.as_str().to_string()),
        reference: r.reference.filter(|s| !s.is_empty()),
        currency: Some(sh.cfg.report.currency.code().to_string()),
        amount: Some(Number::from(r.amount)),
        balance_before: Some(Number::from(r.balance_before)),
        balance_after: Some(Number::from(r.balance_after)),
        recipient_handle: handle,
    }
}

fn the_ledger(sh: &Shared) -> Ledger {
    let cfg = &sh.cfg.report;
    Ledger {
        ledger_id: cfg.ledger_id.clone(),
        currency: Some(cfg.currency.code().to_string()),
        payout_bank_account: Some(BankAccount {
            scheme: "BBAN:NO".into(),
            id: cfg.payout_bank_account.clone(),
        }),
        owner: Some(Organization {
            scheme: "business:NO:ORG".into(),
            id: cfg.owner_org_number.clone(),
        }),
        settles_for_recipient_handles: vec![sh.recipient_handle()],
    }
}

/// `GET /settlement/v1/ledgers`: the one ledger, unless filtered away. The cursor is
/// always empty: one ledger never needs a second page.
pub(crate) async fn ledgers(
    State(sh): Sh,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = refusal(&sh, &headers, false) {
        return r;
    }
    let ledger = the_ledger(&sh);
    let wanted = q.get("settlesForRecipientHandles");
    let items = match wanted {
        Some(h) if !ledger.settles_for_recipient_handles.contains(h) => Vec::new(),
        _ => vec![ledger],
    };
    let page = LedgersPage {
        cursor: Some(String::new()),
        items,
    };
    Json(page).into_response()
}

/// `GET /report/v2/ledgers/{ledgerId}/{topic}/dates/{ledgerDate}`.
pub(crate) async fn ledger_date(
    State(sh): Sh,
    headers: HeaderMap,
    Path((ledger_id, topic, date)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = refusal(&sh, &headers, true) {
        return r;
    }
    match page(&sh, &ledger_id, &topic, &date, q.get("cursor")) {
        Ok(page) => Json(page).into_response(),
        Err(f) => f.into_response(),
    }
}

fn page(
    sh: &Shared,
    ledger_id: &str,
    topic_text: &str,
    date_text: &str,
    cursor: Option<&String>,
) -> Result<ReportPage, Fail> {
    if ledger_id != sh.cfg.report.ledger_id {
        return Err(Fail::new(
            StatusCode::FORBIDDEN,
            format!("ledger '{ledger_id}' is not available with these credentials"),
        ));
    }
    let topic = Topic::parse(topic_text).ok_or_else(|| {
        Fail::bad_request(format!("topic must be funds or fees, not '{topic_text}'"))
    })?;
    let date = parse_date(date_text)
        .ok_or_else(|| Fail::bad_request(format!("ledgerDate '{date_text}' is not YYYY-MM-DD")))?;
    let offset = match cursor {
        None => 0,
        Some(text) => {
            let c = decode_cursor(text)
                .filter(|c| c.ledger_id == ledger_id && c.topic == topic_text)
                .filter(|c| c.ledger_date == ymd(date))
                .ok_or_else(|| {
                    Fail::bad_request(
                        "cursor is not one this endpoint gave for this ledger, topic and date",
                    )
                })?;
            c.offset
        }
    };
    let (rows, status) = sh
        .ledger_rows(date, topic, Now::system().wall)
        .ok_or_else(|| {
            Fail::new(
                StatusCode::NOT_FOUND,
                format!(
                    "the report for {} is not available yet; try again later",
                    ymd(date)
                ),
            )
        })?;
    let size = sh.cfg.report.page_size.max(1);
    let end = offset.saturating_add(size).min(rows.len());
    let has_more = end < rows.len();
    let items = rows
        .into_iter()
        .skip(offset)
        .take(end.saturating_sub(offset))
        .map(|r| wire_row(sh, date, r))
        .collect();
    let cursor = has_more.then(|| {
        encode_cursor(&Cursor {
            ledger_id: ledger_id.to_string(),
            topic: topic_text.to_string(),
            ledger_date: ymd(date),
            offset: end,
        })
    });
    Ok(ReportPage {
        cursor,
        has_more: Some(has_more),
        try_later: Some(status == DayStatus::Open),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            ledger_id: "302321".into(),
            topic: "funds".into(),
            ledger_date: "2024-05-02".into(),
            offset: 100,
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)), Some(c));
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(decode_cursor("e30="), None, "{{}} is not a cursor");
    }

    #[test]
    fn wire_times_have_microseconds_in_utc() {
        let t = time::macros::datetime!(2024-05-02 10:11:12.345678901 +02:00);
        assert_eq!(wire_time(t), "2024-05-02T08:11:12.345678Z");
        assert_eq!(
            parse_date("2024-05-02"),
            Some(time::macros::date!(2024 - 05 - 02))
        );
        assert_eq!(parse_date("2024-5-2"), None);
    }
}
