//! The pure comparison of a Vipps ledger date with the journal's Vipps
//! captures and refunds, and the fee and payout vouchers it implies. No I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::settlement::{EntryType, JournalSide, SettlementEntry};
use crate::domain::voucher::{Accounts, Voucher, VoucherKind, transfer};

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
    /// The sales unit (MSN) whose sales were compared, when the till has
    /// several; `None`: every Vipps sale of the till.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msn: Option<String>,
    /// The department the fee and payout vouchers are booked under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The bank account the payout is booked to, when the unit has its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_account: Option<u32>,
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

    /// The fee and payout vouchers of the date (only those with an amount),
    /// under the unit's department. The external reference names the
    /// ledger, which is the unit's own, so each unit's vouchers are told
    /// apart (and a till with one unit keeps the references it always had);
    /// a unit's MSN is in the voucher number and text.
    pub fn vouchers(&self, accounts: &Accounts) -> Vec<Voucher> {
        let date = &self.ledger_date;
        let (number, text) = match &self.msn {
            Some(msn) => (format!("VIPPS-{msn}-{date}"), format!(" (MSN {msn})")),
            None => (format!("VIPPS-{date}"), String::new()),
        };
        let department = self.department.as_deref();
        let mut v = Vec::new();
        if self.fees != 0 {
            v.push(
                transfer(
                    VoucherKind::VippsFees,
                    date,
                    format!("{number}-FEES"),
                    format!("luka-vipps-{}-{date}-fees", self.ledger_id),
                    format!("Vipps-gebyrer {date}{text}"),
                    &self.currency,
                    (accounts.fees, accounts.vipps_clearing),
                    self.fees,
                )
                .in_department(department),
            );
        }
        if self.payout != 0 {
            v.push(
                transfer(
                    VoucherKind::VippsPayout,
                    date,
                    format!("{number}-PAYOUT"),
                    format!("luka-vipps-{}-{date}-payout", self.ledger_id),
                    format!("Utbetaling fra Vipps {date}{text}"),
                    &self.currency,
                    (
                        self.bank_account.unwrap_or(accounts.bank),
                        accounts.vipps_clearing,
                    ),
                    self.payout,
                )
                .in_department(department),
            );
        }
        v
    }

    /// A few lines a treasurer reads (`luka reconcile`, the organizer).
    pub fn summary(&self) -> String {
        let kr = crate::bookkeeping::csv::decimal;
        let unit = self
            .msn
            .as_deref()
            .map(|m| format!(", MSN {m}"))
            .unwrap_or_default();
        let mut s = format!(
            "Vipps {} (ledger {}{unit}): captured {} kr, refunded {} kr, fees {} kr, payout {} kr\n\
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
        msn: None,
        department: None,
        bank_account: None,
    }
}
