//! Vipps settlement reconciliation: what Vipps says it captured, refunded,
//! kept in fees and paid out on a ledger date, against what the till's
//! journal says it sold by Vipps that day.
//!
//! [`reconcile`] is pure and table-tested; [`run`] fetches the ledger day,
//! reads the journal, stores the result and queues the fee and payout
//! vouchers in one transaction. Unknown or unexpected entry types are kept
//! for a person to review, never a reason to crash or to guess.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::SyncTargets;
use crate::domain::local_time::start_of_local_day;
use crate::domain::settlement::{EntryType, SettlementEntry};
use crate::domain::voucher::{Accounts, Voucher, VoucherKind, transfer};
use crate::outbox::Failure;
use crate::store::{Store, StoreError};

// The journal's side lives in `domain`, so the store can fill it without
// importing the books.
pub use crate::domain::settlement::{Booked, JournalSide};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    pub reference: String,
    /// Positive, minor units; for an amount difference, Vipps' amount.
    pub amount: i64,
    /// For an amount difference: what the journal has.
    pub journal_amount: Option<i64>,
    pub psp_reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub ledger_id: String,
    pub ledger_date: String,
    pub currency: String,
    /// Vipps' figures, positive, minor units.
    pub captured: i64,
    pub refunded: i64,
    pub fees: i64,
    pub payout: i64,
    /// The journal's figures.
    pub journal_captured: i64,
    pub journal_refunded: i64,
    pub matched_captures: usize,
    pub matched_refunds: usize,
    pub captured_not_in_journal: Vec<Mismatch>,
    pub journaled_not_captured: Vec<Mismatch>,
    pub refunds_not_in_journal: Vec<Mismatch>,
    pub journaled_refunds_not_at_vipps: Vec<Mismatch>,
    pub amount_differences: Vec<Mismatch>,
    /// Rows of a type this till does not book by itself.
    pub for_review: Vec<SettlementEntry>,
    /// What stays on the Vipps clearing account for this date once the
    /// journal's sales and Vipps' fees and payout are booked: zero when
    /// everything agrees.
    pub clearing_left: i64,
}

impl Reconciliation {
    pub fn ok(&self) -> bool {
        self.captured_not_in_journal.is_empty()
            && self.journaled_not_captured.is_empty()
            && self.refunds_not_in_journal.is_empty()
            && self.journaled_refunds_not_at_vipps.is_empty()
            && self.amount_differences.is_empty()
            && self.for_review.is_empty()
            && self.clearing_left == 0
    }

    /// The fee and payout vouchers of the date (only those with an amount).
    pub fn vouchers(&self, accounts: &Accounts) -> Vec<Voucher> {
        let date = &self.ledger_date;
        let mut v = Vec::new();
        if self.fees != 0 {
            v.push(transfer(
                VoucherKind::VippsFees,
                date,
                format!("VIPPS-{date}-FEES"),
                format!("luka-vipps-{}-{date}-fees", self.ledger_id),
                format!("Vipps-gebyrer {date}"),
                &self.currency,
                (accounts.fees, accounts.vipps_clearing),
                self.fees,
            ));
        }
        if self.payout != 0 {
            v.push(transfer(
                VoucherKind::VippsPayout,
                date,
                format!("VIPPS-{date}-PAYOUT"),
                format!("luka-vipps-{}-{date}-payout", self.ledger_id),
                format!("Utbetaling fra Vipps {date}"),
                &self.currency,
                (accounts.bank, accounts.vipps_clearing),
                self.payout,
            ));
        }
        v
    }

    /// A few lines a treasurer reads (`luka reconcile`, the organizer).
    pub fn summary(&self) -> String {
        let kr = super::csv::decimal;
        let mut s = format!(
            "Vipps {} (ledger {}): captured {} kr, refunded {} kr, fees {} kr, payout {} kr\n\
             journal: captured {} kr, refunded {} kr; {} captures and {} refunds match\n",
            self.ledger_date,
            self.ledger_id,
            kr(self.captured),
            kr(self.refunded),
            kr(self.fees),
            kr(self.payout),
            kr(self.journal_captured),
            kr(self.journal_refunded),
            self.matched_captures,
            self.matched_refunds,
        );
        let mut list = |title: &str, items: &[Mismatch]| {
            for m in items {
                s.push_str(&format!("  {title}: {} {} kr", m.reference, kr(m.amount)));
                if let Some(j) = m.journal_amount {
                    s.push_str(&format!(" (journal {} kr)", kr(j)));
                }
                s.push('\n');
            }
        };
        list(
            "captured at Vipps, not in the journal",
            &self.captured_not_in_journal,
        );
        list(
            "in the journal, not captured at Vipps",
            &self.journaled_not_captured,
        );
        list(
            "refunded at Vipps, not in the journal",
            &self.refunds_not_in_journal,
        );
        list(
            "refund in the journal, not at Vipps",
            &self.journaled_refunds_not_at_vipps,
        );
        list("amounts differ", &self.amount_differences);
        for e in &self.for_review {
            s.push_str(&format!(
                "  for review: {} {} kr ({}){}\n",
                e.entry_type.as_str(),
                kr(e.amount),
                e.psp_reference,
                e.reference
                    .as_deref()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default()
            ));
        }
        if self.clearing_left != 0 {
            s.push_str(&format!(
                "  the Vipps clearing account is left at {} kr for this date\n",
                kr(self.clearing_left)
            ));
        }
        s.push_str(if self.ok() {
            "OK: the journal and Vipps agree\n"
        } else {
            "NOT OK: see above\n"
        });
        s
    }
}

/// Sums per reference, so several captures of one payment compare as one.
fn by_reference(
    items: impl Iterator<Item = (String, i64, Option<String>)>,
) -> BTreeMap<String, (i64, Option<String>)> {
    let mut m: BTreeMap<String, (i64, Option<String>)> = BTreeMap::new();
    for (r, a, psp) in items {
        let e = m.entry(r).or_insert((0, None));
        e.0 += a;
        if e.1.is_none() {
            e.1 = psp;
        }
    }
    m
}

/// Compares one side against the other, both keyed by reference.
#[allow(clippy::type_complexity)]
fn compare(
    vipps: &BTreeMap<String, (i64, Option<String>)>,
    journal: &BTreeMap<String, (i64, Option<String>)>,
) -> (usize, Vec<Mismatch>, Vec<Mismatch>, Vec<Mismatch>) {
    let (mut matched, mut only_vipps, mut only_journal, mut differ) = (0, vec![], vec![], vec![]);
    for (r, (a, psp)) in vipps {
        match journal.get(r) {
            Some((j, _)) if j == a => matched += 1,
            Some((j, _)) => differ.push(Mismatch {
                reference: r.clone(),
                amount: *a,
                journal_amount: Some(*j),
                psp_reference: psp.clone(),
            }),
            None => only_vipps.push(Mismatch {
                reference: r.clone(),
                amount: *a,
                journal_amount: None,
                psp_reference: psp.clone(),
            }),
        }
    }
    for (r, (a, _)) in journal {
        if !vipps.contains_key(r) {
            only_journal.push(Mismatch {
                reference: r.clone(),
                amount: *a,
                journal_amount: None,
                psp_reference: None,
            });
        }
    }
    (matched, only_vipps, only_journal, differ)
}

/// Reconciles a ledger day (funds rows) with the journal's side.
pub fn reconcile(
    ledger_id: &str,
    ledger_date: &str,
    currency: &str,
    journal: &JournalSide,
    entries: &[SettlementEntry],
) -> Reconciliation {
    let mut captures = Vec::new();
    let mut refunds = Vec::new();
    let (mut fees, mut payout) = (0i64, 0i64);
    let mut for_review = Vec::new();
    for e in entries {
        match (&e.entry_type, &e.reference) {
            (EntryType::Capture, Some(r)) => {
                captures.push((r.clone(), e.amount, Some(e.psp_reference.clone())))
            }
            (EntryType::Refund, Some(r)) => {
                refunds.push((r.clone(), -e.amount, Some(e.psp_reference.clone())))
            }
            (EntryType::FeesRetained, _) => fees += -e.amount,
            (EntryType::ScheduledForPayout, _) => payout += -e.amount,
            (EntryType::PayoutAborted, _) => payout -= e.amount,
            _ => for_review.push(e.clone()),
        }
    }
    let vipps_caps = by_reference(captures.into_iter());
    let vipps_refs = by_reference(refunds.into_iter());
    let j_caps = by_reference(
        journal
            .captures
            .iter()
            .map(|b| (b.reference.clone(), b.amount, None)),
    );
    let j_refs = by_reference(
        journal
            .refunds
            .iter()
            .map(|b| (b.reference.clone(), b.amount, None)),
    );
    let (matched_captures, captured_not_in_journal, journaled_not_captured, mut amount_differences) =
        compare(&vipps_caps, &j_caps);
    let (matched_refunds, refunds_not_in_journal, journaled_refunds_not_at_vipps, refund_diffs) =
        compare(&vipps_refs, &j_refs);
    amount_differences.extend(refund_diffs);
    let captured: i64 = vipps_caps.values().map(|v| v.0).sum();
    let refunded: i64 = vipps_refs.values().map(|v| v.0).sum();
    let journal_captured: i64 = j_caps.values().map(|v| v.0).sum();
    let journal_refunded: i64 = j_refs.values().map(|v| v.0).sum();
    Reconciliation {
        ledger_id: ledger_id.to_string(),
        ledger_date: ledger_date.to_string(),
        currency: currency.to_string(),
        captured,
        refunded,
        fees,
        payout,
        journal_captured,
        journal_refunded,
        matched_captures,
        matched_refunds,
        captured_not_in_journal,
        journaled_not_captured,
        refunds_not_in_journal,
        journaled_refunds_not_at_vipps,
        amount_differences,
        for_review,
        clearing_left: journal_captured - journal_refunded - fees - payout,
    }
}

pub use crate::vipps::report::LedgerDay;

/// Where settlement rows come from (the Vipps Report API client).
#[async_trait::async_trait]
pub trait SettlementSource: Send + Sync {
    /// The ledger that settles this till's sales, and its currency.
    async fn ledger(&self) -> Result<(String, String), Failure>;
    async fn funds(&self, ledger_id: &str, date: Date) -> Result<LedgerDay, Failure>;
}

/// The Vipps Report API as a [`SettlementSource`]: the configured ledger,
/// or the one that settles this merchant serial number.
pub struct VippsSettlements {
    pub client: crate::vipps::report::ReportClient,
    pub ledger_id: Option<String>,
    pub merchant_serial_number: String,
}

fn report_failure(e: crate::vipps::report::ReportError) -> Failure {
    Failure {
        outcome: e.outcome(),
        message: e.to_string(),
    }
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
                outcome: crate::outbox::Outcome::Permanent,
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
/// result and queue the fee and payout vouchers, once.
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
    let journal = store.read(|r| r.vipps_activity(from, to))?;
    let rec = reconcile(&ledger_id, &date.to_string(), &currency, &journal, &entries);
    let vouchers = rec.vouchers(&targets.accounts);
    let result = serde_json::to_value(&rec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let queued = store.write(|w| {
        w.save_reconciliation(&ledger_id, &rec.ledger_date, rec.ok(), &result, now)?;
        targets.queue_vouchers(w, &vouchers, now)
    })?;
    tracing::info!(date = %rec.ledger_date, ok = rec.ok(), queued, "Vipps settlement reconciled");
    Ok(Outcome {
        reconciliation: rec,
        vouchers,
        queued,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: &str, r: Option<&str>, amount: i64, n: u32) -> SettlementEntry {
        SettlementEntry {
            psp_reference: format!("psp{n}"),
            time: "2026-11-30T12:00:00Z".into(),
            ledger_date: "2026-11-30".into(),
            entry_type: EntryType::from(t.to_string()),
            reference: r.map(str::to_string),
            currency: "NOK".into(),
            amount,
            recipient_handle: Some("api:123456".into()),
        }
    }

    fn booked(r: &str, a: i64) -> Booked {
        Booked {
            reference: r.into(),
            amount: a,
        }
    }

    #[test]
    fn a_clean_day_matches_and_leaves_clearing_at_zero() {
        let entries = vec![
            row("capture", Some("a"), 15000, 1),
            row("capture", Some("b"), 5000, 2),
            row("refund", Some("a"), -15000, 3),
            row("fees-retained", None, -350, 4),
            row("scheduled-for-payout", None, -(20000 - 15000 - 350), 5),
        ];
        let j = JournalSide {
            captures: vec![booked("a", 15000), booked("b", 5000)],
            refunds: vec![booked("a", 15000)],
        };
        let r = reconcile("302321", "2026-11-30", "NOK", &j, &entries);
        assert!(r.ok(), "{}", r.summary());
        assert_eq!(
            (r.captured, r.refunded, r.fees, r.payout),
            (20000, 15000, 350, 4650)
        );
        assert_eq!((r.matched_captures, r.matched_refunds), (2, 1));
        assert_eq!(r.clearing_left, 0);
        let v = r.vouchers(&Accounts::default());
        assert_eq!(v.len(), 2);
        assert!(v.iter().all(|v| v.check().is_ok()));
        assert_eq!(v[0].lines[0].account, 7770);
        assert_eq!(v[1].lines[0].account, 1920);
        assert_eq!(
            v[1].lines[1],
            crate::domain::voucher::VoucherLine {
                account: 1903,
                vat_code: None,
                amount: -4650,
                text: "Utbetaling fra Vipps 2026-11-30".into(),
            }
        );
    }

    #[test]
    fn mismatches_are_named_both_ways_and_unknown_rows_kept() {
        let entries = vec![
            row("capture", Some("a"), 15000, 1),
            row("capture", Some("ghost"), 9900, 2),
            row("capture", Some("c"), 5000, 3),
            row("refund", Some("x"), -2000, 4),
            row("interchange-adjustment", None, -12, 5),
            row("fees-retained", None, -100, 6),
        ];
        let j = JournalSide {
            captures: vec![booked("a", 15000), booked("lost", 5000), booked("c", 4000)],
            refunds: vec![booked("a", 1000)],
        };
        let r = reconcile("1", "2026-11-30", "NOK", &j, &entries);
        assert!(!r.ok());
        assert_eq!(r.captured_not_in_journal.len(), 1);
        assert_eq!(r.captured_not_in_journal[0].reference, "ghost");
        assert_eq!(
            r.captured_not_in_journal[0].psp_reference.as_deref(),
            Some("psp2")
        );
        assert_eq!(r.journaled_not_captured[0].reference, "lost");
        assert_eq!(r.amount_differences[0].reference, "c");
        assert_eq!(r.amount_differences[0].journal_amount, Some(4000));
        assert_eq!(r.refunds_not_in_journal[0].reference, "x");
        assert_eq!(r.journaled_refunds_not_at_vipps[0].reference, "a");
        assert_eq!(r.for_review.len(), 1);
        assert_eq!(
            r.for_review[0].entry_type.as_str(),
            "interchange-adjustment"
        );
        let s = r.summary();
        for needle in ["ghost", "lost", "interchange-adjustment", "NOT OK"] {
            assert!(s.contains(needle), "{s}");
        }
    }

    #[test]
    fn several_captures_of_one_reference_compare_as_their_sum() {
        let entries = vec![
            row("capture", Some("a"), 100, 1),
            row("capture", Some("a"), 200, 2),
        ];
        let j = JournalSide {
            captures: vec![booked("a", 300)],
            refunds: vec![],
        };
        let r = reconcile("1", "d", "NOK", &j, &entries);
        assert_eq!(r.matched_captures, 1);
        assert!(r.amount_differences.is_empty());
    }
}
