//! [`ReportClient`]: the ledgers this merchant's keys can see, and one ledger
//! date's rows with every page followed, or [`LedgerDay::NotReady`].

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use time::Date;

use super::dto::{Ledger, LedgersPage, ReportPage, Topic, entry_from_wire, ymd};
use crate::domain::settlement::SettlementEntry;
use crate::retry::{RetryClass, RetryPolicy, Verdict, decide};
use crate::vipps::client::SystemInfo;
use crate::vipps::error::VippsError;
use crate::vipps::session::Session;
use crate::vipps::token::Credentials;

/// A paging loop that never ends is a server bug; stop long before it hurts.
const MAX_PAGES: usize = 10_000;

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
    /// How retrying stands with this failure; an incomplete report counts as
    /// an unreadable answer (retried a few times, then a person must look).
    pub fn class(&self) -> RetryClass {
        match self {
            ReportError::Vipps(e) => e.class(),
            ReportError::Incomplete(_) => RetryClass::Unreadable,
        }
    }

    /// Whether a later attempt can succeed, by the till's one retry policy.
    pub fn is_retryable(&self) -> bool {
        let verdict = decide("Vipps", self.class(), 1, &RetryPolicy::default(), 0.0);
        matches!(verdict, Verdict::RetryAfter(_))
    }
}

/// Reads the Report API with its own token cache (see [`ReportClient::new`]).
pub struct ReportClient {
    session: Session,
}

impl ReportClient {
    /// The same keys, headers and timeouts as [`crate::vipps::VippsClient`], but its own token
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
pub(super) struct Pager {
    seen: HashSet<String>,
    pages: usize,
}

impl Pager {
    pub(super) fn next(&mut self, cursor: String) -> Result<String, ReportError> {
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
