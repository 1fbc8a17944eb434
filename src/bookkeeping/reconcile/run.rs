//! Reconciling a date for real: the Report API as a [`SettlementSource`], and
//! [`run`], which fetches, compares, stores the result and queues the vouchers
//! in one transaction.

use time::{Date, OffsetDateTime};

use super::LedgerDay;
use super::compare::{Reconciliation, reconcile};
use crate::bookkeeping::SyncTargets;
use crate::domain::local_time::start_of_local_day;
use crate::domain::settlement::UnitSales;
use crate::domain::voucher::Voucher;
use crate::retry::Failure;
use crate::store::{Store, StoreError};

/// Where settlement rows come from (the Vipps Report API client).
#[async_trait::async_trait]
pub trait SettlementSource: Send + Sync {
    /// The ledger that settles this till's sales, and its currency.
    async fn ledger(&self) -> Result<(String, String), Failure>;
    async fn funds(&self, ledger_id: &str, date: Date) -> Result<LedgerDay, Failure>;
    /// Whose sales the ledger settles: `None`, every Vipps sale of the
    /// till (one sales unit); else one unit's (issue 16, part 4).
    fn unit(&self) -> Option<UnitSales> {
        None
    }
    /// The department the fee and payout vouchers are booked under.
    fn department(&self) -> Option<String> {
        None
    }
    /// The bank account the unit's payouts land in, when it is not
    /// `[bookkeeping]`'s (each MSN is paid out to its own bank account).
    fn bank_account(&self) -> Option<u32> {
        None
    }
}

/// The Vipps Report API as a [`SettlementSource`]: the configured ledger,
/// or the one that settles this merchant serial number.
pub struct VippsSettlements {
    pub client: crate::vipps::report::ReportClient,
    pub ledger_id: Option<String>,
    pub merchant_serial_number: String,
    /// `None`: every Vipps sale (a till with one sales unit); else the
    /// sales paid to this unit's MSN, whose keys `client` holds.
    pub unit: Option<UnitSales>,
    /// The unit's department, for its fee and payout vouchers.
    pub department: Option<String>,
    /// The unit's own bank account for its payouts (`None`: the books').
    pub bank_account: Option<u32>,
}

fn report_failure(e: crate::vipps::report::ReportError) -> Failure {
    Failure::new(e.class(), e.to_string())
}

#[async_trait::async_trait]
impl SettlementSource for VippsSettlements {
    async fn ledger(&self) -> Result<(String, String), Failure> {
        let ledgers = self.client.ledgers().await.map_err(report_failure)?;
        let handle = format!("api:{}", self.merchant_serial_number);
        let found = ledgers.iter().find(|l| match &self.ledger_id {
            Some(id) => &l.ledger_id == id,
            None => l.settles_for_recipient_handles.contains(&handle),
        });
        match found {
            Some(l) => Ok((
                l.ledger_id.clone(),
                l.currency.clone().unwrap_or_else(|| "NOK".into()),
            )),
            None => Err(Failure {
                // The ledger list came back without ours: asking again
                // gives the same list until the config changes.
                class: crate::retry::RetryClass::Permanent(crate::retry::Permanent::Local),
                message: match &self.ledger_id {
                    Some(id) => format!(
                        "Vipps has no ledger {id} for these API keys; check [bookkeeping] vipps_ledger_id"
                    ),
                    None => format!(
                        "no Vipps ledger settles {handle}; set [bookkeeping] vipps_ledger_id \
                         (one of: {})",
                        ledgers
                            .iter()
                            .map(|l| l.ledger_id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
            }),
        }
    }

    async fn funds(&self, ledger_id: &str, date: Date) -> Result<LedgerDay, Failure> {
        self.client
            .ledger_day(ledger_id, crate::vipps::report::Topic::Funds, date)
            .await
            .map_err(report_failure)
    }

    fn unit(&self) -> Option<UnitSales> {
        self.unit.clone()
    }

    fn department(&self) -> Option<String> {
        self.department.clone()
    }

    fn bank_account(&self) -> Option<u32> {
        self.bank_account
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("Vipps has not closed {0} yet; try again later (reports are ready the day after)")]
    NotReady(String),
    #[error("the Vipps Report API: {0}")]
    Vipps(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What `run` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub reconciliation: Reconciliation,
    pub vouchers: Vec<Voucher>,
    /// Outbox items queued now (zero on a re-run: each voucher goes once).
    pub queued: usize,
}

/// Reconciles `date` (the Oslo ledger date): fetch, compare, store the
/// result and queue the fee and payout vouchers, once. A source for one
/// sales unit compares its ledger with that unit's sales only, and books
/// its vouchers under the unit's department.
pub async fn run(
    store: &Store,
    source: &dyn SettlementSource,
    date: Date,
    targets: &SyncTargets,
    now: OffsetDateTime,
) -> Result<Outcome, ReconcileError> {
    let (ledger_id, currency) = source
        .ledger()
        .await
        .map_err(|f| ReconcileError::Vipps(f.message))?;
    let entries = match source
        .funds(&ledger_id, date)
        .await
        .map_err(|f| ReconcileError::Vipps(f.message))?
    {
        LedgerDay::NotReady => return Err(ReconcileError::NotReady(date.to_string())),
        LedgerDay::Ready(e) => e,
    };
    let from = start_of_local_day(date);
    let to = start_of_local_day(date.next_day().unwrap_or(date));
    let unit = source.unit();
    let journal = store.read(|r| r.vipps_activity_of(from, to, unit.as_ref()))?;
    let mut rec = reconcile(&ledger_id, &date.to_string(), &currency, &journal, &entries);
    rec.msn = unit.as_ref().map(|u| u.msn.clone());
    rec.department = source.department();
    rec.bank_account = source.bank_account();
    let vouchers = rec.vouchers(&targets.accounts);
    let result = serde_json::to_value(&rec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let queued = store.write(|w| {
        w.save_unit_reconciliation(
            &ledger_id,
            &rec.ledger_date,
            rec.msn.as_deref(),
            rec.ok(),
            &result,
            now,
        )?;
        targets.queue_vouchers(w, &vouchers, now)
    })?;
    tracing::info!(date = %rec.ledger_date, msn = ?rec.msn, ok = rec.ok(), queued, "Vipps settlement reconciled");
    Ok(Outcome {
        reconciliation: rec,
        vouchers,
        queued,
    })
}

/// Whether `date` has been reconciled for what `source` settles.
pub fn reconciled(
    store: &Store,
    source: &dyn SettlementSource,
    date: Date,
) -> Result<bool, StoreError> {
    let unit = source.unit();
    store.read(|r| r.unit_reconciled(&date.to_string(), unit.as_ref()))
}
