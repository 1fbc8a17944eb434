//! Report API v2 client (`specs/vipps/report.swagger.yaml`): the ledgers this
//! merchant's keys can see, and one ledger date's funds or fees rows as
//! [`SettlementEntry`]s, every page followed.
//!
//! Owns the Report wire shapes (shared with the simulator, which must answer in them)
//! and the paging rules: `cursor` on the ledgers list until it is empty; `hasMore` +
//! `cursor` on a ledger date, where a 404 or `tryLater` means "not closed yet"
//! ([`LedgerDay::NotReady`]), never an error. Every field of a row is optional in the
//! spec and `entryType` is open-ended, so a row parses unless its amount is missing.
//! It must never log a secret or a token, and never return half a ledger date.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Number;
use time::Date;

use super::client::SystemInfo;
use super::error::VippsError;
use super::session::Session;
use super::token::Credentials;
use crate::domain::settlement::{EntryType, SettlementEntry};
use crate::outbox::{Outcome, RetryPolicy, Verdict, decide_retry};

/// A paging loop that never ends is a server bug; stop long before it hurts.
const MAX_PAGES: usize = 10_000;

/// The two reports of a ledger: `funds` (captures, refunds, retained fees, payouts) and
/// `fees` (what each capture cost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Topic {
    Funds,
    Fees,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Funds => "funds",
            Topic::Fees => "fees",
        }
    }

    pub fn parse(s: &str) -> Option<Topic> {
        match s {
            "funds" => Some(Topic::Funds),
            "fees" => Some(Topic::Fees),
            _ => None,
        }
    }
}

/// Spec `BankAccount`, e.g. `{"scheme": "BBAN:NO", "id": "86011117947"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccount {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub id: String,
}

/// Spec `Organization`, e.g. `{"scheme": "business:NO:ORG", "id": "987654321"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub id: String,
}

/// Spec `Ledger`. `currency` is not in the schema but is in the spec's example and in
/// real answers, so it is read when sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    #[serde(default)]
    pub ledger_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_bank_account: Option<BankAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Organization>,
    /// `api:<MSN>` for ePayment sales units, `NO:<number>` for Vippsnummer.
    #[serde(default)]
    pub settles_for_recipient_handles: Vec<String>,
}

/// 200 body of `GET /settlement/v1/ledgers`. An empty or absent `cursor` ends the list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgersPage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default)]
    pub items: Vec<Ledger>,
}

/// Spec `Transaction`: one row of a funds or fees report. Every field is optional in
/// the spec; amounts are `Money` (a JSON number of minor units), read through
/// [`minor_units`] so `100.0` is accepted as well as `100`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psp_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_date: Option<String>,
    /// Kept as text: [`EntryType`] decides what it means, and keeps what it does not know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_before: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_after: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_handle: Option<String>,
}

/// 200 body of `GET /report/v2/ledgers/{ledgerId}/{topic}/dates/{ledgerDate}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportPage {
    /// Present only when `hasMore` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    /// The date is not closed yet, so the report is incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub try_later: Option<bool>,
    #[serde(default)]
    pub items: Vec<Transaction>,
}

/// A whole minor-unit amount from a JSON number (`100` or `100.0`); `None` for
/// fractions and numbers beyond `i64`.
pub fn minor_units(n: &Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

/// One report row in the till's vocabulary. The amount is `amount`, or failing that
/// `balanceAfter - balanceBefore`; a row with neither cannot be booked and is refused.
/// A missing `ledgerDate` is the date that was asked for.
pub fn entry_from_wire(t: Transaction, asked: Date) -> Result<SettlementEntry, String> {
    let from_balances = || {
        let after = minor_units(t.balance_after.as_ref()?)?;
        after.checked_sub(minor_units(t.balance_before.as_ref()?)?)
    };
    let amount = match t.amount.as_ref() {
        Some(n) => minor_units(n),
        None => from_balances(),
    }
    .ok_or_else(|| {
        format!(
            "row {} ({}) has no whole amount in minor units",
            t.psp_reference.as_deref().unwrap_or("without pspReference"),
            t.entry_type.as_deref().unwrap_or("no entryType"),
        )
    })?;
    Ok(SettlementEntry {
        psp_reference: t.psp_reference.unwrap_or_default(),
        time: t.time.unwrap_or_default(),
        ledger_date: t.ledger_date.unwrap_or_else(|| ymd(asked)),
        entry_type: EntryType::from(t.entry_type.unwrap_or_default()),
        reference: t.reference.filter(|r| !r.is_empty()),
        currency: t.currency.unwrap_or_default(),
        amount,
        recipient_handle: t.recipient_handle,
    })
}

/// `YYYY-MM-DD`, as the path and `ledgerDate` spell a date.
pub fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// A ledger date's report, or the news that it is not complete yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerDay {
    /// 404 or `tryLater`: the date is not closed. Ask again later (Vipps: after at
    /// least half an hour).
    NotReady,
    /// Every row of the date, in the order the pages gave them.
    Ready(Vec<SettlementEntry>),
}

/// What went wrong fetching a report, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Transport, status, unreadable body or refused credentials, exactly as for the
    /// ePayment API; see [`VippsError`].
    #[error(transparent)]
    Vipps(#[from] VippsError),
    /// The pages cannot be followed (`hasMore` without a `cursor`, a cursor seen
    /// before) or a row has no amount: the report cannot be trusted as complete.
    #[error("the Vipps report could not be read completely: {0}")]
    Incomplete(String),
}

impl ReportError {
    /// The outbox's view of this failure; an incomplete report counts as an unreadable
    /// answer (retried a few times, then a person must look).
    pub fn outcome(&self) -> Outcome {
        match self {
            ReportError::Vipps(e) => e.outcome(),
            ReportError::Incomplete(_) => Outcome::InvalidResponse,
        }
    }

    /// Whether a later attempt can succeed, by the till's one retry policy.
    pub fn is_retryable(&self) -> bool {
        let verdict = decide_retry(self.outcome(), 1, &RetryPolicy::default(), 0.0);
        matches!(verdict, Verdict::RetryAfter(_))
    }
}

/// Reads the Report API with its own token cache (see [`ReportClient::new`]).
pub struct ReportClient {
    session: Session,
}

impl ReportClient {
    /// The same keys, headers and timeouts as [`super::VippsClient`], but its own token
    /// cache: reconciliation runs as a background job, and one extra token fetch a day
    /// is cheaper than coupling it to the sales path's client. Note that Vipps offers
    /// the Report API in production only.
    pub fn new(
        base_url: &str,
        creds: Credentials,
        system: SystemInfo,
        timeout: Duration,
    ) -> Result<ReportClient, ReportError> {
        Ok(ReportClient {
            session: Session::new(base_url, creds, system, timeout)?,
        })
    }

    pub fn base_url(&self) -> &str {
        self.session.base_url()
    }

    pub fn token_fetches(&self) -> u64 {
        self.session.token_fetches()
    }

    /// `GET /settlement/v1/ledgers`, every page.
    pub async fn ledgers(&self) -> Result<Vec<Ledger>, ReportError> {
        let mut all = Vec::new();
        let mut pager = Pager::default();
        let mut cursor: Option<String> = None;
        loop {
            let page: LedgersPage = self
                .get("/settlement/v1/ledgers", cursor.as_deref())
                .await?
                .ok_or_else(|| VippsError::Http {
                    status: 404,
                    problem: None,
                    body: "GET /settlement/v1/ledgers answered 404".into(),
                    retry_after: None,
                })?;
            all.extend(page.items);
            match page.cursor.filter(|c| !c.is_empty()) {
                Some(next) => cursor = Some(pager.next(next)?),
                None => return Ok(all),
            }
        }
    }

    /// Every row of one ledger date and topic, or [`LedgerDay::NotReady`] while the
    /// date is open. Pages are followed while `hasMore` is true; any page saying
    /// `tryLater` makes the whole date not ready, so a half report is never returned.
    pub async fn ledger_day(
        &self,
        ledger_id: &str,
        topic: Topic,
        date: Date,
    ) -> Result<LedgerDay, ReportError> {
        if ledger_id.is_empty()
            || !ledger_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            let msg = format!("'{ledger_id}' is not a ledger id; take it from ledgers()");
            return Err(VippsError::Config(msg).into());
        }
        let (topic_s, day) = (topic.as_str(), ymd(date));
        let path = format!("/report/v2/ledgers/{ledger_id}/{topic_s}/dates/{day}");
        let mut rows = Vec::new();
        let mut pager = Pager::default();
        let mut cursor: Option<String> = None;
        loop {
            let Some(page) = self.get::<ReportPage>(&path, cursor.as_deref()).await? else {
                tracing::debug!(
                    ledger_id, topic = topic_s, date = %day,
                    "report not there yet (404)"
                );
                return Ok(LedgerDay::NotReady);
            };
            if page.try_later == Some(true) {
                tracing::debug!(
                    ledger_id, topic = topic_s, date = %day,
                    "report not closed (tryLater)"
                );
                return Ok(LedgerDay::NotReady);
            }
            for t in page.items {
                rows.push(entry_from_wire(t, date).map_err(ReportError::Incomplete)?);
            }
            if page.has_more != Some(true) {
                let (n, pages) = (rows.len(), pager.pages + 1);
                tracing::debug!(
                    ledger_id, topic = topic_s, date = %day, rows = n, pages,
                    "report read"
                );
                return Ok(LedgerDay::Ready(rows));
            }
            let next = page.cursor.filter(|c| !c.is_empty()).ok_or_else(|| {
                ReportError::Incomplete(format!("{path}: hasMore without a cursor"))
            })?;
            cursor = Some(pager.next(next)?);
        }
    }

    /// One authenticated GET; `Ok(None)` for 404. A 401 is answered by fetching a fresh
    /// token and trying exactly once more, as the ePayment client does.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        cursor: Option<&str>,
    ) -> Result<Option<T>, ReportError> {
        let mut url = reqwest::Url::parse(&format!("{}{}", self.session.base_url(), path))
            .map_err(|e| VippsError::Config(format!("Report API URL: {e}")))?;
        if let Some(c) = cursor {
            // Cursors are base64: '+', '/' and '=' must be percent-encoded.
            url.query_pairs_mut().append_pair("cursor", c);
        }
        let resp = self
            .session
            .send::<()>(reqwest::Method::GET, url.as_str(), None, None)
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND => return Ok(None),
            s if !s.is_success() => {
                return Err(VippsError::from_error_response(resp).await.into());
            }
            _ => {}
        }
        // The whole body first: a break mid-body is a network failure, not bad JSON.
        let bytes = resp.bytes().await.map_err(VippsError::from_reqwest)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| VippsError::Decode(format!("GET {path}: {e}")).into())
    }
}

/// Guards a cursor chain: a cursor seen before, or too many pages, ends it.
#[derive(Default)]
struct Pager {
    seen: HashSet<String>,
    pages: usize,
}

impl Pager {
    fn next(&mut self, cursor: String) -> Result<String, ReportError> {
        self.pages += 1;
        if self.pages >= MAX_PAGES {
            return Err(ReportError::Incomplete(format!(
                "more than {MAX_PAGES} pages"
            )));
        }
        if !self.seen.insert(cursor.clone()) {
            return Err(ReportError::Incomplete(
                "the server sent the same cursor twice".into(),
            ));
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::date;

    use super::*;

    fn parse(v: serde_json::Value) -> Result<SettlementEntry, String> {
        entry_from_wire(serde_json::from_value(v).unwrap(), date!(2024 - 05 - 02))
    }

    #[test]
    fn the_spec_example_row_parses() {
        let e = parse(json!({
            "pspReference": "3343121302", "time": "2020-10-05T00:00:00.000000Z",
            "ledgerDate": "2020-10-05", "entryType": "capture",
            "reference": "acme-shop-123-order123abc", "currency": "NOK",
            "amount": 49900, "balanceBefore": 0, "balanceAfter": 49900,
            "recipientHandle": "NO:123455"
        }))
        .unwrap();
        assert_eq!(e.entry_type, EntryType::Capture);
        assert_eq!(
            (e.amount, e.reference.as_deref()),
            (49900, Some("acme-shop-123-order123abc"))
        );
    }

    #[test]
    fn unknown_types_and_missing_fields_are_kept_not_refused() {
        let e = parse(json!({"entryType": "interchange-adjustment", "amount": -12})).unwrap();
        assert_eq!(
            e.entry_type,
            EntryType::Other("interchange-adjustment".into())
        );
        assert_eq!((e.ledger_date.as_str(), e.amount), ("2024-05-02", -12));
        assert_eq!((e.reference, e.recipient_handle), (None, None));
        let bare = parse(json!({"amount": 5.0})).unwrap();
        assert_eq!(bare.entry_type, EntryType::Other(String::new()));
        assert_eq!(bare.amount, 5);
        let balances = parse(json!({"balanceBefore": 100, "balanceAfter": 40})).unwrap();
        assert_eq!(balances.amount, -60);
    }

    #[test]
    fn a_row_without_an_amount_is_refused() {
        let err = parse(json!({"pspReference": "77", "entryType": "capture"})).unwrap_err();
        assert!(err.contains("77") && err.contains("capture"), "{err}");
        assert!(parse(json!({"amount": 1.5})).is_err(), "øre are whole");
    }

    #[test]
    fn pages_without_the_optional_fields_parse() {
        let p: ReportPage = serde_json::from_value(json!({})).unwrap();
        assert_eq!((p.has_more, p.try_later, p.items.len()), (None, None, 0));
        let l: LedgersPage = serde_json::from_value(json!({"items": [{}]})).unwrap();
        assert_eq!(l.items[0].settles_for_recipient_handles.len(), 0);
    }

    #[test]
    fn cursor_loops_are_refused() {
        let mut p = Pager::default();
        assert!(p.next("a".into()).is_ok());
        assert!(matches!(
            p.next("a".into()),
            Err(ReportError::Incomplete(_))
        ));
    }

    #[test]
    fn retryable_follows_the_outbox_policy() {
        assert!(ReportError::Vipps(VippsError::Timeout).is_retryable());
        assert!(!ReportError::Vipps(VippsError::Unauthorized).is_retryable());
        let e503 = VippsError::Http {
            status: 503,
            problem: None,
            body: String::new(),
            retry_after: None,
        };
        assert!(ReportError::Vipps(e503).is_retryable());
        assert!(ReportError::Incomplete("x".into()).is_retryable());
    }
}
